// scripts/lib/swarm.sh own_address, run by real bash against a fake `ip` on PATH: the Swarm steps
// wait for the node's private address, which a hot-plugged private interface gets by DHCP a few
// seconds after Hetzner's attach action ends (the VM lab's emulator does the same), and give up,
// naming the key and the address, after OWN_ADDRESS_WAIT_S.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const tmp = mkdtempSync(join(tmpdir(), "app-infra-own-address-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const LIB = join(__dirname, "..", "..", "scripts", "lib", "swarm.sh");

/** own_address in bash, whose `ip -4 -o addr show` lists 10.0.1.2 from its `from`-th call on. */
function ownAddress(from: number, waitS: number) {
  const dir = mkdtempSync(join(tmp, "case-"));
  writeFileSync(
    join(dir, "ip"),
    `#!/bin/bash
n=$(( $(cat "${dir}/calls" 2>/dev/null || echo 0) + 1 )); echo "$n" >"${dir}/calls"
echo "1: lo    inet 127.0.0.1/8 scope host lo"
echo "2: ens3    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic ens3"
echo "4: br0    inet 10.0.1.23/24 scope global br0"
(( n >= ${from} )) && echo "3: ens5    inet 10.0.1.2/16 brd 10.0.255.255 scope global dynamic ens5"
exit 0
`,
  );
  chmodSync(join(dir, "ip"), 0o755);
  const script = `set -euo pipefail
say() { echo "test: $*" >&2; }
die() { say "$*"; exit 1; }
source "${LIB}"
own_address ADVERTISE_ADDR 10.0.1.2
echo ok`;
  const r = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, OWN_ADDRESS_WAIT_S: String(waitS) },
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe("own_address", () => {
  it("goes on at once when the address is there", () => {
    expect(ownAddress(1, 5)).toEqual({ code: 0, out: "ok", err: "" });
  });

  it("waits for an address that comes a little later (the private interface's DHCP)", () => {
    const r = ownAddress(3, 5);
    expect(r).toMatchObject({ code: 0, out: "ok" });
    expect(r.err).toBe("test: 10.0.1.2 appeared after 2 s");
  });

  it("gives up after the wait, naming the key and the address; a prefix of another address is not it", () => {
    const r = ownAddress(99, 1);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "test: ADVERTISE_ADDR: 10.0.1.2 is not an address of this host after 1 s (is the private network attached?)",
    );
  });
});
