import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  controlOpts,
  defaultSshBase,
  dockerSshOpts,
  sshFilePaths,
  SSH_DIR_ENV,
  writeSshFiles,
} from "../../src/live/ssh-files";

const base = mkdtempSync(join(tmpdir(), "sshfiles-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----";

describe("the Docker provider's ssh files", () => {
  it("live at a path that is the same on every machine (it is part of the provider's config)", () => {
    expect(defaultSshBase({})).toBe("/tmp");
    expect(sshFilePaths("prod", defaultSshBase({})).identityFile).toBe("/tmp/app-infra-ssh-prod/deploy_key");
  });
  it(`move with ${SSH_DIR_ENV} (the tests' own temp directories)`, () => {
    expect(defaultSshBase({ [SSH_DIR_ENV]: base })).toBe(base);
    // The test setup points every test file at its own directory: npm test never writes /tmp/app-infra-ssh-*.
    expect(process.env[SSH_DIR_ENV]).toBeTruthy();
    expect(process.env[SSH_DIR_ENV]!.startsWith("/tmp/app-infra-ssh")).toBe(false);
  });
  it("are private: directory 0700, key 0600, and only the key (the host key is inline)", () => {
    const p = writeSshFiles(sshFilePaths("dev", base), KEY);
    expect(statSync(p.dir).mode & 0o777).toBe(0o700);
    expect(statSync(p.identityFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(p.identityFile, "utf8")).toBe(KEY + "\n");
    expect(existsSync(join(p.dir, "known_hosts"))).toBe(false);
    // Rewritten by every run.
    writeSshFiles(p, KEY.replace("x", "y"));
    expect(readFileSync(p.identityFile, "utf8")).toContain("\ny\n");
  });
  it.runIf(process.getuid?.() === 0)(
    "refuse a directory another user owns, naming it and the way out",
    () => {
      const p = sshFilePaths("other", base);
      mkdirSync(p.dir, { mode: 0o700 });
      chownSync(p.dir, 65534, 65534);
      expect(() => writeSshFiles(p, KEY)).toThrow(
        new RegExp(`${p.dir} belongs to uid 65534.*${SSH_DIR_ENV}`),
      );
    },
  );
  it("ssh options: no ssh config, no known_hosts files, only the pinned host key and the deploy key", () => {
    const p = sshFilePaths("dev", base);
    const opts = dockerSshOpts(p, "ssh-ed25519 AAAAhostkey app-infra-dev\n");
    expect(opts.slice(0, 2)).toEqual(["-F", "/dev/null"]);
    const o = opts.filter((_, i) => opts[i - 1] === "-o");
    expect(o).toEqual(
      expect.arrayContaining([
        "StrictHostKeyChecking=yes",
        "UserKnownHostsFile=/dev/null",
        "GlobalKnownHostsFile=/dev/null",
        "KnownHostsCommand=/bin/echo %H ssh-ed25519 AAAAhostkey",
        "IdentitiesOnly=yes",
        "BatchMode=yes",
        "ServerAliveInterval=15",
      ]),
    );
    expect(opts[opts.indexOf("-i") + 1]).toBe(p.identityFile);
    expect(opts.join(" ")).not.toContain("~/.ssh");
  });
  it("share one connection only where the control socket's path fits a Unix socket (107 bytes)", () => {
    const short = sshFilePaths("prod", "/tmp").dir;
    expect(controlOpts(short)).toEqual([
      "-o",
      "ControlMaster=auto",
      "-o",
      `ControlPath=${short}/cm-%C`,
      "-o",
      "ControlPersist=60",
    ]);
    // 107 − "/cm-" − 40 − 17 = 46 characters of directory at most.
    expect(controlOpts("/" + "d".repeat(45))).toHaveLength(6);
    expect(controlOpts("/" + "d".repeat(46))).toEqual([]);
    // The path the lab first used: ssh refused it ("too long for Unix domain socket").
    expect(controlOpts("/var/tmp/app-infra-lab-run-0AflSO/ssh/app-infra-ssh-lab-e88aff")).toEqual([]);
  });
});
