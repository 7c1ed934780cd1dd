// scripts/install-docker.sh run for real (`bash -s`, script on stdin) in a throwaway container,
// with apt-get, dpkg-query, systemctl, docker, debconf and iptables replaced by recording stubs: no
// apt mirror for Ubuntu and no systemd are reachable here, and what matters is what the script
// decides to do (install once, retry a held apt lock, keep apt away from stdin and needrestart,
// rewrite daemon.json and restart dockerd only on change, answer docker.io's restart question,
// block the metadata service, the prune timer) and the files it writes. The unit files are then
// checked by the host's `systemd-analyze verify`, and the metadata helper it installs is run with
// the real iptables in throwaway network namespaces (last describe).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readScript } from "../../components/host";
import { KEPT_IMAGES_FILE } from "../../src/plan/releases";
import { BASE_IMAGE_TIMEOUT_MS, type Container, type RunResult, run, startContainer } from "./support/docker";
import { NETNS_PREAMBLE } from "./support/netns";

// The shipped text (scripts/lib inlined), as the program sends it.
const SCRIPT = readScript("install-docker.sh");
const DAEMON_JSON = "/etc/docker/daemon.json"; // the script's defaults, inside the container
const UNIT_DIR = "/etc/systemd/system";
const PATH = "/stubs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// One stub for seven commands (by the name it is called as). It logs each call with the
// DEBIAN_FRONTEND it saw, keeps state under /stubs/state, and behaves like the real thing as far
// as the script can tell: docker.io's postinst enables and starts docker.service; iptables keeps
// its chains and rules as files; debconf keeps the one answer.
const STUB = `#!/bin/bash
set -u
S=/stubs/state
name=$(basename "$0")
printf '%s %s | DEBIAN_FRONTEND=%s\\n' "$name" "$*" "\${DEBIAN_FRONTEND:-}" >>/stubs/calls.log
case $name in
  apt-get)
    # What a child of the script would see: its stdin, and needrestart's switches.
    printf 'stdin=%s NEEDRESTART_SUSPEND=%s NEEDRESTART_MODE=%s\\n' "$(readlink /proc/$$/fd/0)" \
      "\${NEEDRESTART_SUSPEND:-}" "\${NEEDRESTART_MODE:-}" >>/stubs/apt-env.log
    # Like dpkg's conffile prompt, which reads stdin whatever DEBIAN_FRONTEND says.
    if [[ -e $S/apt-reads-stdin ]]; then cat >/dev/null; fi
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
      reload) [[ -e $S/active.$unit ]] ;;
      daemon-reload) ;;
      *) echo "systemctl stub: unexpected call: $*" >&2; exit 1 ;;
    esac
    ;;
  docker)
    case "$*" in
      "info --format {{.Swarm.LocalNodeState}}") cat "$S/swarm-state" 2>/dev/null || echo inactive ;;
      # What a reload leaves dockerd with: the file's live-restore.
      "info --format {{.LiveRestoreEnabled}}")
        if grep -q '"live-restore": true' /etc/docker/daemon.json; then echo true; else echo false; fi ;;
      *) echo "Docker version 24.0.7, build 24.0.7-0ubuntu4.1" ;;
    esac
    ;;
  debconf-show) cat "$S/debconf.$1" 2>/dev/null || true ;;
  debconf-set-selections)
    read -r pkg question _type value
    echo "* $question: $value" >"$S/debconf.$pkg"
    ;;
  iptables)
    [[ $1 == -w ]] || { echo "iptables stub: expected -w first: $*" >&2; exit 2; }
    shift
    case $1 in
      -n) [[ -e $S/chain.$3 ]] || { echo "iptables: No chain/target/match by that name." >&2; exit 1; } ;;
      -N) touch "$S/chain.$2" ;;
      -C) [[ -e $S/chain.$2 ]] && chain=$2 && shift 2 && grep -qxF -- "$*" "$S/rules.$chain" 2>/dev/null ;;
      -I)
        [[ ! -e $S/iptables-fails ]] || { echo "iptables: RULE_INSERT failed (Operation not supported)" >&2; exit 4; }
        chain=$2; shift 3; echo "$*" >>"$S/rules.$chain" ;;
      *) echo "iptables stub: unexpected call: $*" >&2; exit 2 ;;
    esac
    ;;
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
  args: readonly string[] = [KEPT_IMAGES_FILE],
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
  calls.filter((l) =>
    /^apt-get |^systemctl (enable|start|restart|reload|daemon-reload)|^debconf-set-selections|^iptables -w -[NI] /.test(
      l,
    ),
  );

const APT =
  "apt-get -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
const HELPER = "/usr/local/sbin/app-infra-block-metadata";
const PRUNE_HELPER = "/usr/local/sbin/app-infra-prune-images";
const DROP_IN = `${UNIT_DIR}/docker.service.d/50-app-infra-metadata.conf`;
const METADATA_RULE =
  "-d 169.254.169.254/32 -m comment --comment app-infra: no cloud metadata for containers -j REJECT";

beforeAll(async () => {
  c = await startContainer();
  await container().exec(["bash", "-c", "mkdir -p /stubs/bin /stubs/state && cat > /stubs/bin/stub"], {
    input: STUB,
  });
  await sh(
    "chmod +x /stubs/bin/stub && for n in apt-get dpkg-query systemctl docker debconf-show debconf-set-selections iptables; do ln -s stub /stubs/bin/$n; done",
  );
}, BASE_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  await c?.remove();
});

describe("install-docker.sh", () => {
  beforeEach(async () => {
    await sh(
      "rm -f /stubs/state/apt-lock-failures /stubs/state/apt-reads-stdin /stubs/state/iptables-fails /stubs/apt-env.log",
    );
  });

  it("takes the kept-images file as an absolute path, then optionally `swarm`, and nothing else", async () => {
    for (const [args, shown] of [
      [["--force"], "--force"],
      [[], "nothing"],
      [[KEPT_IMAGES_FILE, "--force"], `${KEPT_IMAGES_FILE} --force`],
      [[KEPT_IMAGES_FILE, "swarm", "swarm"], `${KEPT_IMAGES_FILE} swarm swarm`],
      [["swarm"], "swarm"],
    ] as const) {
      const res = await installDocker(args);
      expect(res.code).not.toBe(0);
      expect(res.stderr.trim()).toBe(
        `install-docker: takes the kept-images file as an absolute path, then optionally 'swarm' (got: ${shown})`,
      );
      expect(res.calls).toEqual([]);
    }
  });

  it("on a fresh host: writes daemon.json and the metadata block first, answers the restart question, installs docker.io noninteractively, blocks the metadata service, sets up the prune timer", async () => {
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "systemctl daemon-reload | DEBIAN_FRONTEND=noninteractive",
      "debconf-set-selections  | DEBIAN_FRONTEND=noninteractive",
      `${APT} update | DEBIAN_FRONTEND=noninteractive`,
      `${APT} install -y --no-install-recommends docker.io apparmor | DEBIAN_FRONTEND=noninteractive`,
      "iptables -w -N DOCKER-USER | DEBIAN_FRONTEND=noninteractive",
      `iptables -w -I DOCKER-USER 1 ${METADATA_RULE} | DEBIAN_FRONTEND=noninteractive`,
      "systemctl daemon-reload | DEBIAN_FRONTEND=noninteractive",
      "systemctl enable docker-prune.timer | DEBIAN_FRONTEND=noninteractive",
      "systemctl restart docker-prune.timer | DEBIAN_FRONTEND=noninteractive",
    ]);
    // The package's own start already read the new daemon.json: no restart of dockerd.
    expect(res.stdout).toContain(`install-docker: wrote ${DAEMON_JSON}`);
    expect(res.stdout).toContain("install-docker: installed docker.io (24.0.7-0ubuntu4.1)");
    expect(res.stdout).toContain(
      "install-docker: docker.io upgrades now restart dockerd (debconf docker.io/restart=true)",
    );
    expect(res.stdout).toContain("app-infra-block-metadata: containers can no longer reach 169.254.169.254");
    expect(await sh("cat /stubs/state/debconf.docker.io")).toBe("* docker.io/restart: true");
    expect(res.stdout.trim().split("\n").at(-1)).toBe(
      "install-docker: done (Docker version 24.0.7, build 24.0.7-0ubuntu4.1)",
    );
    expect(JSON.parse(await sh(`cat ${DAEMON_JSON}`))).toEqual(EXPECTED_DAEMON_JSON);
    expect(JSON.parse(await sh("cat /stubs/state/daemon.json-at-install"))).toEqual(EXPECTED_DAEMON_JSON);
    expect(await sh(`stat -c %a ${DAEMON_JSON}`)).toBe("644");
    // The prune spares the last releases' images, which the program lists in KEPT_IMAGES_FILE.
    const service = await sh(`cat ${UNIT_DIR}/docker-prune.service`);
    expect(service).toMatch(
      new RegExp(`^ExecStart=${PRUNE_HELPER} ${KEPT_IMAGES_FILE.replaceAll("/", "\\/")} 604800$`, "m"),
    );
    // The helper is prune_images from scripts/lib/prune-images.sh, written out whole.
    expect(await sh(`stat -c %a ${PRUNE_HELPER}`)).toBe("755");
    const helper = await sh(`cat ${PRUNE_HELPER}`);
    expect(helper.split("\n")[0]).toBe("#!/usr/bin/env bash");
    expect(helper).toMatch(/^set -euo pipefail$/m);
    expect(helper).toMatch(/^prune_images \(\) $/m);
    expect(helper.trim().split("\n").at(-1)).toBe('prune_images "$@"');
    expect((await container().exec(["bash", "-n", PRUNE_HELPER])).code).toBe(0);
    expect(service).toMatch(/^Type=oneshot$/m);
    const timer = await sh(`cat ${UNIT_DIR}/docker-prune.timer`);
    expect(timer).toMatch(/^OnCalendar=weekly$/m);
    expect(timer).toMatch(/^WantedBy=timers\.target$/m);
  });

  it("a second run changes nothing: no apt-get, no restart, no new rule, files untouched", async () => {
    const files = `${DAEMON_JSON} ${UNIT_DIR}/docker-prune.service ${UNIT_DIR}/docker-prune.timer ${HELPER} ${PRUNE_HELPER} ${DROP_IN}`;
    const before = await sh(`stat -c '%i %Y' ${files}`);
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([]);
    expect(res.stdout).toContain("install-docker: docker.io already installed (24.0.7-0ubuntu4.1)");
    expect(res.stdout).not.toContain("wrote");
    expect(await sh(`stat -c '%i %Y' ${files}`)).toBe(before);
    expect(await sh("cat /stubs/state/rules.DOCKER-USER")).toBe(METADATA_RULE);
  });

  it("restores a hand-edited daemon.json and restarts dockerd once", async () => {
    await sh(`echo '{"log-driver": "journald"}' > ${DAEMON_JSON}`);
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "systemctl restart docker.service | DEBIAN_FRONTEND=noninteractive",
    ]);
    expect(res.stdout).toContain(`install-docker: restarted docker.service (${DAEMON_JSON} changed)`);
    expect(JSON.parse(await sh(`cat ${DAEMON_JSON}`))).toEqual(EXPECTED_DAEMON_JSON);
  });

  it("stage 4 (`swarm`): live-restore off, which Swarm mode needs, by a reload that waits for it, not a restart", async () => {
    const res = await installDocker([KEPT_IMAGES_FILE, "swarm"]);
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "systemctl reload docker.service | DEBIAN_FRONTEND=noninteractive",
    ]);
    expect(res.calls).toContain(
      "docker info --format {{.LiveRestoreEnabled}} | DEBIAN_FRONTEND=noninteractive",
    );
    expect(res.stdout).toContain("install-docker: reloaded docker.service (live-restore: false)");
    expect(JSON.parse(await sh(`cat ${DAEMON_JSON}`))).toEqual({
      ...EXPECTED_DAEMON_JSON,
      "live-restore": false,
    });
    // Again: nothing to do.
    expect(changingCalls((await installDocker([KEPT_IMAGES_FILE, "swarm"])).calls)).toEqual([]);
  });

  it("back on stage 3 while the engine is still in a swarm: live-restore stays off, and says why", async () => {
    await sh("echo active > /stubs/state/swarm-state");
    try {
      const res = await installDocker();
      expectOk(res);
      expect(changingCalls(res.calls)).toEqual([]);
      expect(res.stdout).toContain(
        "install-docker: this engine is still in a swarm: live-restore stays off (docker swarm leave --force, then run this again)",
      );
      expect(JSON.parse(await sh(`cat ${DAEMON_JSON}`))["live-restore"]).toBe(false);
    } finally {
      await sh("rm -f /stubs/state/swarm-state");
    }
    // Once it has left the swarm: live-restore on again, by a reload.
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "systemctl reload docker.service | DEBIAN_FRONTEND=noninteractive",
    ]);
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
    const res = await installDocker([KEPT_IMAGES_FILE], { APT_ATTEMPTS: "3" });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("E: Could not get lock /var/lib/dpkg/lock-frontend");
    expect(res.stderr.trim().split("\n").at(-1)).toBe(
      "install-docker: apt-get update failed 3 times, giving up",
    );
    expect(res.calls.filter((l) => l.startsWith("apt-get"))).toHaveLength(3);
  });

  it("gives apt-get /dev/null for stdin, dpkg's conffile choices and a suspended needrestart", async () => {
    await sh("rm -f /stubs/state/installed");
    const res = await installDocker();
    expectOk(res);
    const aptEnv = (await sh("cat /stubs/apt-env.log")).split("\n");
    expect(aptEnv).toEqual([
      "stdin=/dev/null NEEDRESTART_SUSPEND=1 NEEDRESTART_MODE=l",
      "stdin=/dev/null NEEDRESTART_SUSPEND=1 NEEDRESTART_MODE=l",
    ]);
    expect(res.calls.filter((l) => l.startsWith("apt-get"))).toEqual([
      `${APT} update | DEBIAN_FRONTEND=noninteractive`,
      `${APT} install -y --no-install-recommends docker.io apparmor | DEBIAN_FRONTEND=noninteractive`,
    ]);
  });

  // review-noble F6: from a pipe, bash reads the script as it goes, so a child reading stdin used to
  // eat the rest of it and bash exited 0 with the work half done.
  it("runs to the end even when something apt starts reads stdin (the script arrives on stdin)", async () => {
    await sh("rm -f /stubs/state/installed && touch /stubs/state/apt-reads-stdin");
    const res = await installDocker();
    expectOk(res);
    expect(res.stdout.trim().split("\n").at(-1)).toMatch(/^install-docker: done /);
  });

  it("puts the metadata block back when the rule is gone (a reboot) without touching anything else", async () => {
    await sh("rm -f /stubs/state/rules.DOCKER-USER /stubs/state/chain.DOCKER-USER");
    const res = await installDocker();
    expectOk(res);
    expect(changingCalls(res.calls)).toEqual([
      "iptables -w -N DOCKER-USER | DEBIAN_FRONTEND=noninteractive",
      `iptables -w -I DOCKER-USER 1 ${METADATA_RULE} | DEBIAN_FRONTEND=noninteractive`,
    ]);
  });

  it("fails the deploy when the metadata service cannot be blocked", async () => {
    await sh("rm -f /stubs/state/rules.DOCKER-USER && touch /stubs/state/iptables-fails");
    const res = await installDocker();
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split("\n").at(-1)).toBe(
      "install-docker: could not block containers from 169.254.169.254 (iptables, chain DOCKER-USER)",
    );
  });

  /** The file the script installed at `path` in the container, checked by the host's shellcheck. */
  async function expectShellcheckClean(path: string) {
    const dir = mkdtempSync(join(tmpdir(), "app-infra-helper-"));
    try {
      const file = join(dir, basename(path));
      writeFileSync(file, `${await sh(`cat ${path}`)}\n`);
      const res = await run("shellcheck", ["--format=gcc", file]);
      expect(res.stdout + res.stderr, `shellcheck findings in ${path}`).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("installs the prune helper as a shellcheck-clean script", async () => {
    await expectShellcheckClean(PRUNE_HELPER);
  });

  it("installs the helper as a shellcheck-clean executable and runs it before dockerd starts", async () => {
    expect(await sh(`stat -c %a ${HELPER}`)).toBe("755");
    await expectShellcheckClean(HELPER);
    // "-": a failure is logged, dockerd still starts (install-docker.sh checks the rule each run).
    expect(await sh(`grep -v '^#' ${DROP_IN}`)).toBe(`[Service]\nExecStartPre=-${HELPER}`);
  });

  it("writes systemd units that systemd-analyze verify accepts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "app-infra-units-"));
    try {
      for (const unit of ["docker-prune.service", "docker-prune.timer"]) {
        writeFileSync(join(dir, unit), `${await sh(`cat ${UNIT_DIR}/${unit}`)}\n`);
      }
      const res = await run("systemd-analyze", [
        "verify",
        join(dir, "docker-prune.timer"),
        join(dir, "docker-prune.service"),
      ]).catch((err: NodeJS.ErrnoException) => {
        throw err.code === "ENOENT"
          ? new Error("systemd-analyze not found: apt-get install -y systemd")
          : err;
      });
      // The one finding allowed: the prune helper is in the container, not on this machine (the
      // tests above check it there). Anything else fails.
      const findings = (res.stdout + res.stderr)
        .split("\n")
        .filter((l) => l.trim() !== "")
        .filter(
          (l) =>
            l !==
            `docker-prune.service: Command ${PRUNE_HELPER} is not executable: No such file or directory`,
        );
      expect(findings, "systemd-analyze verify findings").toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The helper install-docker.sh installs, run with the real iptables in throwaway network
// namespaces (this machine's own firewall is not touched): a "container" namespace routed through
// a "host" namespace to a "metadata" namespace that serves HTTP on 169.254.169.254, the way a
// Docker bridge is routed through the host. Needs root, unshare, iproute2, iptables and python3.
const NETNS_SCRIPT =
  NETNS_PREAMBLE +
  String.raw`
ip netns add ctr
ip netns add md
ip link add hc type veth peer name eth0 netns ctr
ip link add hm type veth peer name eth0 netns md
ip addr add 10.201.0.1/24 dev hc && ip link set hc up
ip addr add 10.202.0.1/24 dev hm && ip link set hm up
ip -n ctr addr add 10.201.0.2/24 dev eth0 && ip -n ctr link set eth0 up && ip -n ctr link set lo up
ip -n ctr route add default via 10.201.0.1
ip -n md addr add 10.202.0.2/24 dev eth0 && ip -n md addr add 169.254.169.254/32 dev eth0
ip -n md link set eth0 up && ip -n md link set lo up
ip -n md route add default via 10.202.0.1
ip route add 169.254.169.254/32 via 10.202.0.2
sysctl -qw net.ipv4.ip_forward=1
ip netns exec md python3 -m http.server 80 --bind 169.254.169.254 >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
probe() { if timeout 5 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' 2>/dev/null; then echo open; else echo closed; fi; }
from_container() { ip netns exec ctr bash -c "$(declare -f probe); probe"; }
for _ in $(seq 100); do [[ $(probe) == open ]] && break; sleep 0.1; done
echo "before: host $(probe), container $(from_container)"
# At boot: docker.service's ExecStartPre, before dockerd exists.
"$HELPER"
# Then dockerd: it keeps the chain, appends its RETURN (v24) and jumps to it first from FORWARD.
iptables -A DOCKER-USER -j RETURN
iptables -I FORWARD -j DOCKER-USER
# Then install-docker.sh runs it again.
"$HELPER"
echo "after: host $(probe), container $(from_container)"
iptables -S DOCKER-USER
`;

describe("the metadata block with the real iptables", () => {
  it("stops a routed container from reaching 169.254.169.254, not the host; the rule is inserted once, before dockerd's RETURN", async () => {
    if ((await sh(`test -x ${HELPER} && echo yes || echo no`)) === "no") expectOk(await installDocker());
    const dir = mkdtempSync(join(tmpdir(), "app-infra-metadata-"));
    try {
      const helper = join(dir, "app-infra-block-metadata");
      writeFileSync(helper, `${await sh(`cat ${HELPER}`)}\n`, { mode: 0o755 });
      const res = await run("unshare", ["--net", "--mount", "bash", "-c", NETNS_SCRIPT], {
        env: { ...process.env, HELPER: helper },
        timeoutMs: 60_000,
      }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === "ENOENT" ? new Error("unshare not found: apt-get install -y util-linux") : err;
      });
      expect(res.code, `--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`).toBe(0);
      expect(res.stdout.trim().split("\n")).toEqual([
        "before: host open, container open",
        "app-infra-block-metadata: containers can no longer reach 169.254.169.254",
        "after: host open, container closed",
        "-N DOCKER-USER",
        '-A DOCKER-USER -d 169.254.169.254/32 -m comment --comment "app-infra: no cloud metadata for containers" -j REJECT --reject-with icmp-port-unreachable',
        "-A DOCKER-USER -j RETURN",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
