// scripts/wait-host-ready.sh run for real (`bash -s -- ARG`, script on stdin, as components/host.ts
// runs it) against a stub `cloud-init` first on PATH: the exit codes it maps (cloud-init >= 23.4:
// 0 done, 1 error, 2 recoverable), the timeout, the progress lines that keep a quiet SSH session
// alive behind a NAT, and no flood of `--wait` dots in the deploy log.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readScript } from "../../components/host";

// The shipped text, as the program sends it.
const SCRIPT = readScript("wait-host-ready.sh");

// `status --wait` sleeps STUB_WAIT_S, prints dots like the real one, exits STUB_RC;
// `status --long` prints STUB_STATUS.
const STUB = `#!/bin/bash
set -u
if [[ " $* " == *" --wait "* ]]; then
  for ((i = 0; i < \${STUB_WAIT_S:-0} * 4; i++)); do printf .; sleep 0.25; done
  exit "\${STUB_RC:-0}"
fi
printf '%s\\n' "\${STUB_STATUS:-status: done}"
exit "\${STUB_RC:-0}"
`;

const dir = mkdtempSync(join(tmpdir(), "app-infra-wait-host-"));
const withCloudInit = join(dir, "with");
const without = join(dir, "without");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const d of [withCloudInit, without]) mkdirSync(d);
writeFileSync(join(withCloudInit, "cloud-init"), STUB);
chmodSync(join(withCloudInit, "cloud-init"), 0o755);
// PATH without cloud-init (this machine may have the real one): only what the script needs then.
for (const tool of ["uname", "free", "ps", "sed"]) {
  const found = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
  if (found) symlinkSync(found, join(without, tool));
}

function waitHostReady(env: Record<string, string>, path = `${withCloudInit}:/usr/bin:/bin:/usr/sbin:/sbin`) {
  const r = spawnSync("/bin/bash", ["-s", "--", "cx23"], {
    input: SCRIPT,
    encoding: "utf8",
    env: { PATH: path, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("wait-host-ready.sh", () => {
  it("cloud-init done: says so, then the kernel, memory and the largest processes; no dots", () => {
    const r = waitHostReady({ STUB_WAIT_S: "1" });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "host: waiting for cloud-init (up to 900 s)",
      "host: cloud-init done",
    ]);
    expect(lines[2]).toMatch(/^host: Linux /);
    expect(r.stdout).toMatch(/^Mem:/m);
    expect(r.stdout).toContain("host: largest processes (RSS in KiB):");
    expect(r.stdout).not.toContain(".....");
  });

  it("recoverable errors (exit 2, normal on Hetzner) pass, with cloud-init's status in the log", () => {
    const r = waitHostReady({
      STUB_RC: "2",
      STUB_STATUS: "status: done\nrecoverable_errors:\n  DEPRECATED: x",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "host: cloud-init done with recoverable errors:\nstatus: done\nrecoverable_errors:\n  DEPRECATED: x\n",
    );
  });

  it("an error (exit 1) fails the step with the status", () => {
    const r = waitHostReady({ STUB_RC: "1", STUB_STATUS: "status: error" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("host: cloud-init failed (exit 1):\nstatus: error\n");
  });

  it("gives up after CLOUD_INIT_TIMEOUT_S, printing progress meanwhile", () => {
    const r = waitHostReady({
      STUB_WAIT_S: "10",
      CLOUD_INIT_TIMEOUT_S: "3",
      PROGRESS_EVERY_S: "1",
      STUB_STATUS: "status: running",
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("host: cloud-init still running (1 s)\n");
    expect(r.stdout).toContain("host: cloud-init still running (2 s)\n");
    expect(r.stderr).toBe("host: cloud-init still running after 3 s:\nstatus: running\n");
  });

  it("without cloud-init it does not wait", () => {
    const r = waitHostReady({}, without);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("host: no cloud-init, not waiting");
  });

  it("rejects a timeout that is not a positive number", () => {
    const r = waitHostReady({ CLOUD_INIT_TIMEOUT_S: "soon" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "host: CLOUD_INIT_TIMEOUT_S: should be a positive number of seconds (got 'soon')\n",
    );
  });
});
