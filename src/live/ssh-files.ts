// The Docker provider talks to the server over `ssh://`, through the system ssh client, which only
// takes keys and known hosts from files. So the program writes the deploy key and the pinned host
// key to a private directory (0700, files 0600) for the lifetime of the run; nothing is read from
// the user's own ~/.ssh. `pulumi destroy --run-program` recreates them for a destroy.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SshFiles {
  dir: string;
  identityFile: string;
  knownHostsFile: string;
}

/**
 * The paths end up in the Docker provider's configuration, so they must be the same on every machine
 * that runs the stack (a laptop, CI): /tmp where it exists rather than the per-user $TMPDIR.
 */
export function defaultSshBase(): string {
  return existsSync("/tmp") ? "/tmp" : tmpdir();
}

export function sshFilePaths(stack: string, base = defaultSshBase()): SshFiles {
  const dir = join(base, `app-infra-ssh-${stack}`);
  return { dir, identityFile: join(dir, "deploy_key"), knownHostsFile: join(dir, "known_hosts") };
}

export function writeSshFiles(paths: SshFiles, privateKey: string, host: string, hostPublicKey: string): SshFiles {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  writeFileSync(paths.identityFile, privateKey.trimEnd() + "\n", { mode: 0o600 });
  chmodSync(paths.identityFile, 0o600);
  writeFileSync(paths.knownHostsFile, `${host} ${hostPublicKey.trim()}\n`, { mode: 0o600 });
  return paths;
}

/** ssh options for the Docker provider: only the pinned host key, only the deploy key. */
export function dockerSshOpts(paths: SshFiles): string[] {
  return [
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${paths.knownHostsFile}`,
    "-o", "IdentitiesOnly=yes",
    "-i", paths.identityFile,
    // One TCP connection for the many calls the provider makes.
    "-o", "ControlMaster=auto",
    "-o", `ControlPath=${join(paths.dir, "cm-%C")}`,
    "-o", "ControlPersist=60",
  ];
}
