// Stage 4's Hetzner layer through the real engine and the real hcloud plugin (the tls plugin is our
// replay, tools/engine/provider-tls, as in the whole lab), against the emulator
// with in-memory machines (no VM: the Swarm's steps need SSH and are not part of it). The program
// is test/lab/programs/cluster-network.ts: the stack's server as stages 1-3 declare it and, on stage
// 4, components/cluster.ts declareClusterNetwork. It checks what issue 16 asks of that layer:
//   stage 3 → 4 leaves the core server as it is (the engine plans it `same`) and adds the network,
//   the subnet, the core's attachment and the worker servers at their planned private addresses;
//   a refresh finds no drift (the provider reads back what it was given); workerNodes 2 → 3 only
//   creates; 3 → 2 deletes only the third node; stage 4 → 3 removes the network layer and keeps the
//   core server; destroy leaves the emulator empty.
// Run alone: `tsx test/lab/network.ts` (LAB_ENGINE_BIN = a built bin dir, else tools/engine builds);
// the VM lab runs it as a phase.
import { join } from "node:path";
import { FakeBackend } from "../emulator/backend";
import { startEmulator, type Emulator } from "../emulator/emulator";
import { CheckFailed, runAlone } from "./alone";
import { Pulumi } from "./engine";
import { Results } from "./results";
import { log } from "./vm";

const STACK = "net";
const PROGRAM = join(__dirname, "programs", "cluster-network.ts");
/** Each operation's limit: the fake machines answer at once, so this is the engine's own time. */
const OP_TIMEOUT_S = 300;

interface EmuServer {
  id: number;
  name: string;
  private_net: { network: number; ip: string }[];
  public_net: { firewalls: { id: number }[] };
}

/**
 * Runs the checks above into `r`. Never throws: a failed check ends the run (the later ones depend
 * on it), and any other failure (the engine, the emulator) is recorded as a failed check too.
 */
export async function clusterNetwork(r: Results, bin: string, tmp: string): Promise<void> {
  let emu: Emulator | undefined;
  try {
    emu = await startEmulator({ backend: new FakeBackend({ delayMs: 10 }) });
    const state = () =>
      emu!.control.state() as {
        servers: EmuServer[];
        networks: any[];
        firewalls: { id: number; name: string }[];
      };
    const pulumi = Pulumi.labProgram({ bin, passphrase: "lab-network", stack: STACK }, tmp, PROGRAM);
    await pulumi.initStack(
      { "app-infra:stage": 3, "hcloud:endpoint": emu.url, "hcloud:pollInterval": "100ms" },
      { "hcloud:token": emu.token },
    );
    const op = (step: string, args: string[]) => pulumi.op(r, `network: ${step}`, args, OP_TIMEOUT_S);
    const stage = (n: number, workerNodes?: number) =>
      pulumi.setConfig({
        "app-infra:stage": n,
        ...(workerNodes === undefined ? {} : { "app-infra:workerNodes": workerNodes }),
      });
    const ok = (name: string, cond: boolean, detail: string) => {
      if (!r.check(`network: ${name}`, cond, detail)) throw new CheckFailed(name);
    };
    const byName = (name: string) => state().servers.find((s) => s.name === name);
    const ipsOf = (name: string) => byName(name)?.private_net.map((p) => p.ip) ?? [];

    const three = await op("up, stage 3", ["up", "--yes", "--skip-preview"]);
    ok(
      "stage 3 deploys the server alone",
      three.ok && state().servers.length === 1,
      JSON.stringify(three.changes),
    );
    const core = state().servers[0]!;

    // Stage 3 → 4: what the engine plans for the core server, then the deploy.
    stage(4, 2);
    const plan = await op("preview, stage 3 → 4", ["preview"]);
    const touched = Object.entries(plan.steps).flatMap(([o, names]) => (o === "same" ? [] : names));
    ok(
      "stage 3 → 4 plans no change to the core server",
      plan.ok && !touched.includes("server-vm") && !touched.some((n) => n.startsWith("server-")),
      `steps ${JSON.stringify(plan.steps)}`,
    );
    const four = await op("up, stage 4 with 2 worker nodes", ["up", "--yes", "--skip-preview"]);
    const nets = state().networks;
    ok(
      "the network and its subnet, in the location's zone",
      four.ok &&
        nets.length === 1 &&
        nets[0].ip_range === "10.0.0.0/16" &&
        JSON.stringify(nets[0].subnets.map((s: any) => [s.type, s.ip_range, s.network_zone])) ===
          JSON.stringify([["cloud", "10.0.1.0/24", "eu-central"]]),
      JSON.stringify(nets.map((n) => [n.name, n.ip_range, n.subnets])),
    );
    ok(
      "the core server kept, attached at 10.0.1.2; the worker nodes at their planned addresses",
      byName(core.name)?.id === core.id &&
        JSON.stringify([core.name, `${core.name}-worker-1`, `${core.name}-worker-2`].map(ipsOf)) ===
          JSON.stringify([["10.0.1.2"], ["10.0.1.11"], ["10.0.1.12"]]),
      JSON.stringify(state().servers.map((s) => [s.id, s.name, s.private_net.map((p) => p.ip)])),
    );
    const fw = state().firewalls.find((f) => f.name === `${core.name}-workers`);
    ok(
      "the worker nodes behind their own firewall",
      !!fw &&
        [1, 2].every((n) =>
          byName(`${core.name}-worker-${n}`)?.public_net.firewalls.some((f) => f.id === fw.id),
        ),
      JSON.stringify(state().firewalls.map((f) => f.name)),
    );
    const drift = await op("preview --refresh --expect-no-changes", [
      "preview",
      "--refresh",
      "--expect-no-changes",
    ]);
    ok("a refresh finds no drift", drift.ok, JSON.stringify(drift.changes));

    stage(4, 3);
    const add = await op("preview, workerNodes 2 → 3", ["preview"]);
    const nonSame = Object.entries(add.steps).filter(([o]) => o !== "same");
    ok(
      "workerNodes 2 → 3 only creates the third node",
      add.ok &&
        nonSame.every(([o]) => o === "create") &&
        nonSame.flatMap(([, n]) => n).every((n) => n.startsWith("cluster-worker-3")),
      JSON.stringify(Object.fromEntries(nonSame)),
    );
    const up3 = await op("up, workerNodes 3", ["up", "--yes", "--skip-preview"]);
    ok(
      "the third node at 10.0.1.13",
      up3.ok && ipsOf(`${core.name}-worker-3`)[0] === "10.0.1.13",
      JSON.stringify(up3.changes),
    );

    stage(4, 2);
    const down = await op("up, workerNodes 3 → 2", ["up", "--yes", "--skip-preview"]);
    const downTouched = Object.entries(down.steps).filter(([o]) => o !== "same");
    ok(
      "workerNodes 3 → 2 deletes only the third node",
      down.ok &&
        downTouched.every(([o]) => o === "delete") &&
        downTouched.flatMap(([, n]) => n).every((n) => n.startsWith("cluster-worker-3")) &&
        !byName(`${core.name}-worker-3`),
      JSON.stringify(Object.fromEntries(downTouched)),
    );

    // The way back: stage 3 removes the network layer and keeps the core server.
    pulumi.setConfig({ "app-infra:stage": 3 });
    await pulumi.must(["config", "rm", "app-infra:workerNodes"]);
    const back = await op("up, stage 4 → 3", ["up", "--yes", "--skip-preview"]);
    ok(
      "stage 4 → 3 removes the network layer and keeps the core server, detached",
      back.ok &&
        state().networks.length === 0 &&
        state().servers.length === 1 &&
        state().servers[0]!.id === core.id &&
        ipsOf(core.name).length === 0,
      JSON.stringify(back.changes),
    );
    const gone = await op("destroy", ["destroy", "--yes", "--skip-preview"]);
    ok(
      "destroy leaves the emulator empty",
      gone.ok && state().servers.length === 0 && state().networks.length === 0,
      JSON.stringify(gone.changes),
    );
  } catch (e) {
    // What the emulator refused or failed, for the reader of a failure.
    for (const q of emu?.control.requests().filter((x) => x.status >= 400) ?? [])
      log(`network: emulator answered ${q.status} to ${q.method} ${q.path}: ${q.error ?? ""}`);
    if (!(e instanceof CheckFailed)) r.check("network: run", false, String((e as Error).message ?? e));
  } finally {
    await emu?.stop();
  }
}

if (require.main === module) void runAlone("network", clusterNetwork);
