// scripts/swarm-firewall.sh with the real nft, in throwaway network namespaces (this machine's own
// firewall is not touched): the "node" is the namespace unshare makes, a "peer" node reaches it from
// the private subnet and an "outsider" from a public address. Swarm's management port must answer
// the peer only; other ports stay open to both. Needs root, unshare, iproute2, nft and python3.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readScript } from "../../components/host";
import { run } from "./support/docker";
import { NETNS_PREAMBLE } from "./support/netns";

const NETNS_SCRIPT =
  NETNS_PREAMBLE +
  String.raw`
ip netns add peer
ip netns add out
ip link add hp type veth peer name eth0 netns peer
ip link add ho type veth peer name eth0 netns out
ip addr add 10.0.1.2/24 dev hp && ip link set hp up
ip addr add 203.0.113.1/24 dev ho && ip link set ho up
ip -n peer addr add 10.0.1.11/24 dev eth0 && ip -n peer link set eth0 up
ip -n out addr add 203.0.113.5/24 dev eth0 && ip -n out link set eth0 up
python3 -m http.server 2377 --bind 0.0.0.0 >/dev/null 2>&1 &
a=$!
python3 -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1 &
b=$!
trap 'kill "$a" "$b" 2>/dev/null || true' EXIT
probe() { if ip netns exec "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then echo open; else echo closed; fi; }
for _ in $(seq 100); do [[ $(probe peer 10.0.1.2 2377) == open && $(probe peer 10.0.1.2 8080) == open ]] && break; sleep 0.1; done
state() { echo "$1: peer 2377 $(probe peer 10.0.1.2 2377), outsider 2377 $(probe out 203.0.113.1 2377), outsider 8080 $(probe out 203.0.113.1 8080)"; }
state before
bash -s -- 10.0.1.0/24 <"$SCRIPT"
state after
bash -s -- 10.0.1.0/24 <"$SCRIPT" >/dev/null
echo "drop rules after a second run: $(nft list table inet app_infra_swarm | grep -c ' drop$')"
`;

describe("swarm-firewall.sh with the real nft", () => {
  it("Swarm's port answers the private subnet only; other ports stay open; a second run adds nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "app-infra-swarm-fw-"));
    try {
      const script = join(dir, "swarm-firewall.sh");
      await run("bash", ["-c", `cat > ${script}`], { input: readScript("swarm-firewall.sh") });
      const res = await run("unshare", ["--net", "--mount", "bash", "-c", NETNS_SCRIPT], {
        env: { ...process.env, SCRIPT: script, NFT_FILE: join(dir, "swarm.nft"), SYSTEMD_UNIT_DIR: "-" },
        timeoutMs: 90_000,
      });
      expect(res.code, `--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`).toBe(0);
      expect(res.stdout.trim().split("\n")).toEqual([
        "before: peer 2377 open, outsider 2377 open, outsider 8080 open",
        "swarm-firewall: Swarm's ports (2377/tcp, 7946/tcp+udp, 4789/udp, ESP) accept only 10.0.1.0/24",
        "after: peer 2377 open, outsider 2377 closed, outsider 8080 open",
        "drop rules after a second run: 6",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("refuses a subnet that is not an IPv4 CIDR of /8 to /30, before touching anything", async () => {
    for (const [arg, why] of [
      ["10.0.1.0", "should be an IPv4 CIDR such as 10.0.1.0/24 (got '10.0.1.0')"],
      ["10.0.1.0/24; rm -rf /", "should be an IPv4 CIDR such as 10.0.1.0/24 (got '10.0.1.0/24; rm -rf /')"],
      ["10.0.300.0/24", "300 is not an octet (got '10.0.300.0/24')"],
      ["10.0.1.0/31", "the prefix should be between 8 and 30 (got '10.0.1.0/31')"],
    ] as const) {
      const res = await run("bash", ["-s", "--", arg], {
        input: readScript("swarm-firewall.sh"),
        env: { ...process.env, NFT_FILE: "/nonexistent/never-written", SYSTEMD_UNIT_DIR: "-" },
      });
      expect(res.code, arg).toBe(1);
      expect(res.stderr.trim(), arg).toBe(`swarm-firewall: PRIVATE_SUBNET: ${why}`);
    }
  });

  // A host without nft (a minimal Debian, as the VM lab's image): a fake apt-get whose install puts
  // a fake nft on PATH, and a PATH without /usr/sbin, where the real one lives.
  const noNft = (aptFails: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), "app-infra-swarm-fw-apt-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "apt-get"),
      `#!/bin/bash
echo "apt-get $*" >>"${dir}/calls"
${aptFails ? "exit 100" : ""}
if [[ " $* " == *" install "*nftables* ]]; then
  printf '#!/bin/bash\necho "nft $*" >>"${dir}/calls"\n' >"${bin}/nft"; chmod +x "${bin}/nft"
fi
`,
      { mode: 0o755 },
    );
    const firewall = (env: Record<string, string> = {}) =>
      run("bash", ["-s", "--", "10.0.1.0/24"], {
        input: readScript("swarm-firewall.sh"),
        env: {
          ...process.env,
          PATH: `${bin}:/usr/bin:/bin`,
          NFT_FILE: join(dir, "swarm.nft"),
          SYSTEMD_UNIT_DIR: "-",
          ...env,
        },
      });
    return { dir, firewall, calls: () => readFileSync(join(dir, "calls"), "utf8").trim().split("\n") };
  };

  it("installs nftables with apt-get when nft is missing, then loads the rules with it", async () => {
    const box = noNft(false);
    try {
      const res = await box.firewall();
      expect(res.code, res.stderr).toBe(0);
      const calls = box.calls();
      expect(calls.map((c) => c.replace(/ -o \S+/g, ""))).toEqual([
        "apt-get -q update",
        "apt-get -q install -y --no-install-recommends nftables",
        `nft -c -f ${join(box.dir, "swarm.nft.new")}`,
        `nft -f ${join(box.dir, "swarm.nft")}`,
      ]);
      expect(res.stdout).toContain("swarm-firewall: nft not found: installing nftables");
    } finally {
      rmSync(box.dir, { recursive: true, force: true });
    }
  });

  it("fails, naming apt-get, when nftables cannot be installed; no rules file is written", async () => {
    const box = noNft(true);
    try {
      const res = await box.firewall({ APT_ATTEMPTS: "2", APT_RETRY_SLEEP_S: "0" });
      expect(res.code).toBe(1);
      expect(res.stderr.trim()).toBe("swarm-firewall: apt-get update failed 2 times, giving up");
      expect(box.calls()).toEqual([
        "apt-get -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold update",
        "apt-get -q -o DPkg::Lock::Timeout=60 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold update",
      ]);
      expect(existsSync(join(box.dir, "swarm.nft"))).toBe(false);
    } finally {
      rmSync(box.dir, { recursive: true, force: true });
    }
  });
});
