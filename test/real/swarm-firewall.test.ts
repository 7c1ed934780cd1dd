// scripts/swarm-firewall.sh with the real nft, in throwaway network namespaces (this machine's own
// firewall is not touched): the "node" is the namespace unshare makes, a "peer" node reaches it from
// the private subnet and an "outsider" from a public address. Swarm's management port must answer
// the peer only; other ports stay open to both. Needs root, unshare, iproute2, nft and python3.
import { mkdtempSync, rmSync } from "node:fs";
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
});
