// The server's first-boot user-data. Deliberately minimal and constant: user-data forces a server
// replacement when it changes, so it holds only what must exist at first boot and never changes —
// the pinned SSH host key (no trust-on-first-use) and SSH hardening. Swap, Docker, keys, the app and
// the watchdog are all applied later over SSH, where they can change without replacing the box.
import { stringify } from "yaml";

/**
 * The algorithm of the deploy key and the host key (components/keys.ts): the host key is installed
 * below as cloud-init's `ed25519` pair, so the two must agree.
 */
export const SSH_KEY_ALGORITHM = "ED25519";

export interface HostKeyPair {
  /** OpenSSH private key (PEM "OPENSSH PRIVATE KEY"). */
  privateKeyOpenssh: string;
  /** "ssh-ed25519 AAAA..." */
  publicKeyOpenssh: string;
}

export function renderUserData(hostKey: HostKeyPair): string {
  const doc = {
    // Only our ed25519 host key: the image's keys are deleted, and when `ssh_keys` is given
    // cloud-init's cc_ssh writes those instead of generating random ones, so the program can pin
    // the key before the first connection. (`ssh_genkeytypes: []` would say the same, but the
    // schema requires at least one item.)
    ssh_deletekeys: true,
    ssh_keys: {
      ed25519_private: hostKey.privateKeyOpenssh.trimEnd() + "\n",
      ed25519_public: hostKey.publicKeyOpenssh.trim(),
    },
    // Keys only; root logs in with the deploy key Hetzner installs from sshKeys.
    ssh_pwauth: false,
    disable_root: false,
    // Package work happens over SSH (install-docker.sh), where it can be retried and changed.
    package_update: false,
    package_upgrade: false,
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
