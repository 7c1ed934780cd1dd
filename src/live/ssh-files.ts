// The Docker provider talks to the server over `ssh://`, through the system ssh client. ssh takes a
// private key only from a file, so the program writes the deploy key on every run (preview, up, and
// refresh/destroy with --run-program) to a private directory (0700, file 0600). The host key needs
// no file: it is pinned inline with KnownHostsCommand. `-F /dev/null` and the /dev/null known-hosts
// files keep the user's ~/.ssh/config and every known_hosts file out of it; nothing is read from or
// written to ~/.ssh.
//
// The provider's configuration (with these options) is stored in the stack's state, and a plain
// `pulumi refresh` or `destroy` uses that stored copy without running the program (pulumi/pulumi
// #19449; "Running your program on refresh and destroy" in Pulumi's docs). So every operation runs
// the program: `--run-program` / PULUMI_RUN_PROGRAM=true (README, "Refresh, drift and destroy").
import { chmodSync, existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sshDirName } from "../plan/names";

export interface SshFiles {
  dir: string;
  identityFile: string;
}

/** Environment variable that moves the key directory (tests use their own temp directory). */
export const SSH_DIR_ENV = "APP_INFRA_SSH_DIR";

/**
 * The key path ends up in the Docker provider's configuration, so it must be the same on every machine
 * that runs the stack (a laptop, CI), or every run would show the provider as changed: /tmp where
 * it exists rather than the per-user $TMPDIR, unless APP_INFRA_SSH_DIR says otherwise.
 */
export function defaultSshBase(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[SSH_DIR_ENV];
  if (chosen) return chosen;
  return existsSync("/tmp") ? "/tmp" : tmpdir();
}

export function sshFilePaths(stack: string, base = defaultSshBase()): SshFiles {
  const dir = join(base, sshDirName(stack));
  return { dir, identityFile: join(dir, "deploy_key") };
}

/** Creates the private directory, refusing one that another user owns (a bare EPERM says nothing). */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new Error(
      `ssh key directory ${dir} ${st.isDirectory() ? `belongs to uid ${st.uid}, not to this user (uid ${uid})` : "is not a directory"}: ` +
        `remove it (sudo rm -rf ${dir}) or point ${SSH_DIR_ENV} at a directory of your own`,
    );
  }
  chmodSync(dir, 0o700);
}

export function writeSshFiles(paths: SshFiles, privateKey: string): SshFiles {
  privateDir(paths.dir);
  writeFileSync(paths.identityFile, privateKey.trimEnd() + "\n", { mode: 0o600 });
  chmodSync(paths.identityFile, 0o600);
  return paths;
}

/** ssh options for the Docker provider: only the pinned host key, only the deploy key, no ssh config. */
export function dockerSshOpts(paths: SshFiles, hostPublicKey: string): string[] {
  const [type, key] = hostPublicKey.trim().split(/\s+/);
  if (!type || !key) throw new Error(`internal: host public key is not "type base64": ${hostPublicKey}`);
  return [
    // No ~/.ssh/config, no /etc/ssh/ssh_config: nothing on the runner changes how we connect.
    "-F",
    "/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    // The pinned host key, inline (OpenSSH >= 8.5): %H is the host as ssh looks it up.
    "-o",
    `KnownHostsCommand=/bin/echo %H ${type} ${key}`,
    "-o",
    "IdentitiesOnly=yes",
    "-i",
    paths.identityFile,
    // Keepalives: a long image pull must not be cut by a NAT's idle timeout (CI runners).
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=4",
    // One TCP connection for the many calls the provider makes, where the socket path fits.
    ...controlOpts(paths.dir),
  ];
}

/**
 * A Unix socket path holds at most 107 bytes (sun_path), and ssh binds the master's socket under
 * a temporary name first: the path plus "." and 16 random characters. With %C (40 hex digits) a
 * long key directory does not fit — ssh then fails with "unix_listener: … too long for Unix domain
 * socket" (the lab hit it). Then no connection sharing: slower, but it works.
 */
export function controlOpts(dir: string): string[] {
  const path = join(dir, "cm-%C");
  const longest = Buffer.byteLength(path) - "%C".length + 40 + ".".length + 16;
  if (longest > 107) return [];
  return ["-o", "ControlMaster=auto", "-o", `ControlPath=${path}`, "-o", "ControlPersist=60"];
}
