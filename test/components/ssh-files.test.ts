import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultSshBase, dockerSshOpts, sshFilePaths, writeSshFiles } from "../../src/live/ssh-files";

const base = mkdtempSync(join(tmpdir(), "sshfiles-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("the Docker provider's ssh files", () => {
  it("live at a path that is the same on every machine (it is part of the provider's config)", () => {
    expect(defaultSshBase()).toBe("/tmp");
    expect(sshFilePaths("prod").identityFile).toBe("/tmp/app-infra-ssh-prod/deploy_key");
  });
  it("are private: directory 0700, files 0600, the host key pinned for the server's IP", () => {
    const p = writeSshFiles(sshFilePaths("dev", base), "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----", "203.0.113.10", "ssh-ed25519 AAAA host\n");
    expect(statSync(p.dir).mode & 0o777).toBe(0o700);
    expect(statSync(p.identityFile).mode & 0o777).toBe(0o600);
    expect(statSync(p.knownHostsFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(p.knownHostsFile, "utf8")).toBe("203.0.113.10 ssh-ed25519 AAAA host\n");
    expect(readFileSync(p.identityFile, "utf8").endsWith("-----END OPENSSH PRIVATE KEY-----\n")).toBe(true);
  });
  it("ssh options allow only the pinned host key and the deploy key", () => {
    const p = sshFilePaths("dev", base);
    expect(dockerSshOpts(p)).toEqual([
      "-o", "StrictHostKeyChecking=yes",
      "-o", `UserKnownHostsFile=${p.knownHostsFile}`,
      "-o", "IdentitiesOnly=yes",
      "-i", p.identityFile,
      "-o", "ControlMaster=auto",
      "-o", `ControlPath=${join(p.dir, "cm-%C")}`,
      "-o", "ControlPersist=60",
    ]);
  });
});
