// scripts/install-docker.sh run for real (`bash -s`, script on stdin) in a throwaway container,
// with apt-get, dpkg-query, systemctl and docker replaced by recording stubs: no apt mirror for
// Ubuntu and no systemd are reachable here, and what matters is what the script decides to do
// (install once, retry a held apt lock, rewrite daemon.json and restart dockerd only on change,
// the prune timer) and the files it writes. The unit files are then checked by the host's
// `systemd-analyze verify`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BASE_IMAGE_TIMEOUT_MS, type Container, type RunResult, run, startContainer } from "./support/docker";

const SCRIPT = readFileSync(resolve(__dirname, "../../scripts/install-docker.sh"), "utf8");
const DAEMON_JSON = "/etc/docker/daemon.json"; // the script's defaults, inside the container
const UNIT_DIR = "/etc/systemd/system";
const PATH = "/stubs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// One stub for four commands (by the name it is called as). It logs each call with the
// DEBIAN_FRONTEND it saw, keeps state under /stubs/state, and behaves like the real thing as far
// as the script can tell: docker.io's postinst enables and starts docker.service.
const STUB = `#!/bin/bash
set -u
S=/stubs/state
name=$(basename "$0")
printf '%s %s | DEBIAN_FRONTEND=%s\\n' "$name" "$*" "\${DEBIAN_FRONTEND:-}" >>/stubs/calls.log
case $name in
  apt-get)
    n=$(cat "$S/apt-lock-failures" 2>/dev/null || echo 0)
    if ((n > 0)); then
      echo $((n - 1)) >"$S/apt-lock-failures"
      echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)" >&2
      exit 100
    fi
    if [[ " $* " == *" install "* ]]; then
      # What dockerd would read when the package starts it.
      cp /etc/docker/daemon.json "$S/daemon.json-at-install" 2>/dev/null || true
      touch "$S/installed" "$S/enabled.docker.service" "$S/active.docker.service"
    fi
    ;;
  dpkg-query)
    [[ -e $S/installed ]] || { echo "dpkg-query: no packages found matching docker.io" >&2; exit 1; }
    case "$*" in
      *Status*) printf 'install ok installed' ;;
      *Version*) printf '24.0.7-0ubuntu4.1' ;;
    esac
    ;;
  systemctl)
    unit=\${!#}
    case $1 in
      is-enabled) [[ -e $S/enabled.$unit ]] ;;
      is-active) [[ -e $S/active.$unit ]] ;;
      enable)
        touch "$S/enabled.$unit"
        if [[ " $* " == *" --now "* ]]; then touch "$S/active.$unit"; fi
        ;;
      start | restart) touch "$S/active.$unit" ;;
      daemon-reload) ;;
      *) echo "systemctl stub: unexpected call: $*" >&2; exit 1 ;;
    esac
    ;;
  docker) echo "Docker version 24.0.7, build 24.0.7-0ubuntu4.1" ;;
esac
`;

const EXPECTED_DAEMON_JSON = {
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "3" },
  "live-restore": true,
};

let c: Container | undefined;

function container(): Container {
  if (!c) throw new Error("container did not start (see beforeAll)");
  return c;
}

async function sh(cmd: string): Promise<string> {
  const res = await container().exec(["bash", "-euo", "pipefail", "-c", cmd]);
  if (res.code !== 0) throw new Error(`${cmd} exited ${res.code}: ${res.stderr}`);
  return res.stdout.trim();
}

/** Runs install-docker.sh against the stubs; returns its result and the stub calls it made. */
async function installDocker(
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<RunResult & { calls: string[] }> {
  await sh(": > /stubs/calls.log");
  const res = await container().runScript(SCRIPT, args, {
    env: { PATH, APT_RETRY_SLEEP_S: "0", ...env },
    timeoutMs: 60_000,
  });
  const calls = (await sh("cat /stubs/calls.log")).split("\n").filter((l) => l !== "");
  return { ...res, calls };
}

function expectOk(res: RunResult): void {
  expect(res.code, `install-docker.sh failed\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`).toBe(0);
}

const changingCalls = (calls: string[]) =>
  calls.filter((l) => /^apt-get |^systemctl (enable|start|restart|daemon-reload)/.test(l));

beforeAll(async () => {
  c = await startContainer();
  await container().exec(["bash", "-c", "mkdir -p /stubs/bin /stubs/state && cat > /stubs/bin/stub"], { input: STUB });
  await sh(
    "chmod +x /stubs/bin/stub && for n in apt-get dpkg-query systemctl docker; do ln -s stub /stubs/bin/$n; done",
  );
}, BASE_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  await c?.remove();
});

describe("install-docker.sh", () => {
  beforeEach(async () => {
    await sh("rm -f /stubs/state/apt-lock-failures");
  });

  it("rejects arguments", async () => {
    const res = await installDocker(["--force"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toBe("install-docker: takes no arguments (got: --force)");
    expect(res.calls).toEqual([]);
  });

  it("on a fresh host: writes daemon.json first, installs docker.io noninteractively, sets up the prune timer", async () => {
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "apt-get -q -o DPkg::Lock::Timeout=60 update | DEBIAN_FRONTEND=noninteractive",
      "apt-get -q -o DPkg::Lock::Timeout=60 install -y --no-install-recommends docker.io | DEBIAN_FRONTEND=noninteractive",
      "systemctl daemon-reload | DEBIAN_FRONTEND=noninteractive",
      "systemctl enable docker-prune.timer | DEBIAN_FRONTEND=noninteractive",
      "systemctl restart docker-prune.timer | DEBIAN_FRONTEND=noninteractive",
    ]);
    // The package's own start already read the new daemon.json: no restart of dockerd.
    expect(res.stdout).toContain(`install-docker: wrote ${DAEMON_JSON}`);
    expect(res.stdout).toContain("install-docker: installed docker.io (24.0.7-0ubuntu4.1)");
    expect(JSON.parse(await sh(`cat ${DAEMON_JSON}`))).toEqual(EXPECTED_DAEMON_JSON);
    expect(JSON.parse(await sh("cat /stubs/state/daemon.json-at-install"))).toEqual(EXPECTED_DAEMON_JSON);
    expect(await sh(`stat -c %a ${DAEMON_JSON}`)).toBe("644");
    const service = await sh(`cat ${UNIT_DIR}/docker-prune.service`);
    expect(service).toMatch(/^ExecStart=\/usr\/bin\/docker image prune -af --filter until=168h$/m);
    expect(service).toMatch(/^Type=oneshot$/m);
    const timer = await sh(`cat ${UNIT_DIR}/docker-prune.timer`);
    expect(timer).toMatch(/^OnCalendar=weekly$/m);
    expect(timer).toMatch(/^WantedBy=timers\.target$/m);
  });

  it("a second run changes nothing: no apt-get, no restart, files untouched", async () => {
    const before = await sh(`stat -c '%i %Y' ${DAEMON_JSON} ${UNIT_DIR}/docker-prune.service ${UNIT_DIR}/docker-prune.timer`);
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([]);
    expect(res.stdout).toContain("install-docker: docker.io already installed (24.0.7-0ubuntu4.1)");
    expect(res.stdout).not.toContain("wrote");
    expect(
      await sh(`stat -c '%i %Y' ${DAEMON_JSON} ${UNIT_DIR}/docker-prune.service ${UNIT_DIR}/docker-prune.timer`),
    ).toBe(before);
  });

  it("restores a hand-edited daemon.json and restarts dockerd once", async () => {
    await sh(`echo '{"log-driver": "journald"}' > ${DAEMON_JSON}`);
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual(["systemctl restart docker.service | DEBIAN_FRONTEND=noninteractive"]);
    expect(res.stdout).toContain(`install-docker: restarted docker.service (${DAEMON_JSON} changed)`);
    expect(JSON.parse(await sh(`cat ${DAEMON_JSON}`))).toEqual(EXPECTED_DAEMON_JSON);
  });

  it("enables and starts a disabled, stopped docker.service without a restart", async () => {
    await sh("rm -f /stubs/state/enabled.docker.service /stubs/state/active.docker.service");
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "systemctl enable docker.service | DEBIAN_FRONTEND=noninteractive",
      "systemctl start docker.service | DEBIAN_FRONTEND=noninteractive",
    ]);
  });

  it("retries apt-get while another process holds the apt lock", async () => {
    await sh("rm -f /stubs/state/installed && echo 2 > /stubs/state/apt-lock-failures");
    const res = await installDocker();
    expectOk(res);
    expect(res.stdout).toContain("install-docker: apt-get update failed (attempt 1/30), retrying in 0 s");
    expect(res.stdout).toContain("install-docker: apt-get update failed (attempt 2/30), retrying in 0 s");
    expect(res.calls.filter((l) => l.startsWith("apt-get") && l.includes(" update "))).toHaveLength(3);
    expect(res.stdout).toContain("install-docker: installed docker.io");
  });

  it("gives up with a clear message when the lock is never released", async () => {
    await sh("rm -f /stubs/state/installed && echo 99 > /stubs/state/apt-lock-failures");
    const res = await installDocker([], { APT_ATTEMPTS: "3" });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("E: Could not get lock /var/lib/dpkg/lock-frontend");
    expect(res.stderr.trim().split("\n").at(-1)).toBe("install-docker: apt-get update failed 3 times, giving up");
    expect(res.calls.filter((l) => l.startsWith("apt-get"))).toHaveLength(3);
  });

  it("writes systemd units that systemd-analyze verify accepts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "app-infra-units-"));
    try {
      for (const unit of ["docker-prune.service", "docker-prune.timer"]) {
        writeFileSync(join(dir, unit), `${await sh(`cat ${UNIT_DIR}/${unit}`)}\n`);
      }
      const res = await run("systemd-analyze", ["verify", join(dir, "docker-prune.timer"), join(dir, "docker-prune.service")]).catch(
        (err: NodeJS.ErrnoException) => {
          throw err.code === "ENOENT" ? new Error("systemd-analyze not found: apt-get install -y systemd") : err;
        },
      );
      expect(res.stdout + res.stderr, "systemd-analyze verify findings").toBe("");
      expect(res.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
