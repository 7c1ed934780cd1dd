// The whole program (index.ts) on stage 4 under mocks: what `pulumi up` declares for a stage-4
// stack (the core node as on stage 3, the cluster, the Swarm's services on the manager's engine and
// no one-box container), in the order a stage 3 → 4 move needs (the Swarm formed, then the one box
// retired, then the services, then the proxy's switch and the core's watchdog), and what a move
// changes: from stage 3 (the core server's resources unchanged, the one box's resources gone) and
// from workerNodes 2 to 3 (nothing removed or replaced, the third node added).
import { describe, expect, it } from "vitest";
import { diffRecordings, record, type Recording } from "../support/record";
import { MOCK_JOIN_TOKEN } from "../support/mocks";
import { KEPT_IMAGES_FILE } from "../../src/plan/releases";

const secrets = { botToken: "123:bot-token-secret", falKey: "fal-secret" };
const SECRET_KEYS = ["botToken", "falKey"];
const at = (config: Record<string, unknown>) => record("prod", { ...secrets, ...config }, SECRET_KEYS);

const named = (run: Recording, type: string) =>
  run.resources.filter((r) => r.type === type).map((r) => r.name);
const inputsOf = (run: Recording, name: string) => {
  const found = run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`the program declared no ${name}`);
  return found.inputs;
};

describe("stage 4: the program deploys the cluster and its services", () => {
  let four: Recording;
  let three: Recording;
  let five: Recording;
  it("records stage 3, and stage 4 with 2 and 3 worker nodes", async () => {
    [three, four, five] = await Promise.all([
      at({ stage: 3 }),
      at({ stage: 4, workerNodes: 2 }),
      at({ stage: 4, workerNodes: 3 }),
    ]);
  }, 120_000);

  it("registers the network, its subnet, the core's attachment and every server", () => {
    expect(named(four, "hcloud:index/network:Network")).toEqual(["cluster-network"]);
    expect(named(four, "hcloud:index/networkSubnet:NetworkSubnet")).toEqual(["cluster-subnet"]);
    expect(named(four, "hcloud:index/serverNetwork:ServerNetwork")).toEqual(["cluster-core-network"]);
    expect(named(four, "hcloud:index/server:Server").sort()).toEqual([
      "cluster-worker-1",
      "cluster-worker-2",
      "server-vm",
    ]);
    expect(four.outputs.workerIps).toEqual({
      "worker-1": expect.any(String),
      "worker-2": expect.any(String),
    });
  });

  it("runs the services on the manager's engine, and no one-box container, image or gate", () => {
    expect(named(four, "docker:index/service:Service").sort()).toEqual([
      "swarm-api",
      "swarm-bot",
      "swarm-proxy",
      "swarm-redis",
      "swarm-worker-image",
    ]);
    for (const type of [
      "docker:index/container:Container",
      "docker:index/remoteImage:RemoteImage",
      "docker:index/volume:Volume",
    ])
      expect(named(four, type), type).toEqual([]);
    expect(named(four, "pulumi:providers:docker")).toEqual(["swarm-docker"]);
    expect(inputsOf(four, "swarm-docker").host).toMatch(/^ssh:\/\/root@/);
    for (const s of ["swarm-redis", "swarm-api", "swarm-worker-image"])
      expect(four.options[s]?.provider, s).toBe("swarm-docker");
    // The one box's stop and release bookkeeping are not stage 4's.
    expect(named(four, "command:remote:Command")).not.toContain("kept-images");
    expect(four.outputs.releases).toBeUndefined();
    expect(Object.keys(four.outputs.services as object).sort()).toEqual([
      "api",
      "bot",
      "proxy",
      "redis",
      "worker-image",
    ]);
  });

  it("orders a move: the Swarm formed, the one box retired, the services, then the gate and the core's watchdog", () => {
    const deps = (n: string) => four.options[n]?.dependsOn ?? [];
    expect(deps("swarm-network")).toEqual(["cluster-swarm-admit"]);
    expect(deps("swarm-retire")).toEqual(["swarm-network", "cluster-swarm-admit"]);
    for (const s of named(four, "docker:index/service:Service")) expect(deps(s)[0], s).toBe("swarm-retire");
    expect(deps("swarm-gate")).toEqual(["swarm-proxy", "swarm-api"]);
    expect(deps("swarm-docker")).toEqual(["host-docker"]);
    // The Swarm's init waits for the core's Swarm firewall (the manager listens only behind it)
    // and its Docker step (live-restore off, which the init needs).
    expect(deps("cluster-swarm-init")).toEqual(
      expect.arrayContaining(["host-swarm-firewall", "host-docker"]),
    );
    expect(deps("host-watchdog")).toEqual(
      expect.arrayContaining([
        "host-docker",
        "swarm-redis",
        "swarm-api",
        "swarm-bot",
        "swarm-proxy",
        "swarm-worker-image",
        "swarm-gate",
      ]),
    );
    expect(inputsOf(four, "swarm-retire").create).toBe("bash -s -- retire prod worker bot proxy api redis");
  });

  it("no firewall rule opens a Swarm port to the internet", () => {
    for (const f of four.resources.filter((r) => r.type === "hcloud:index/firewall:Firewall")) {
      for (const rule of f.inputs.rules as { port?: string; protocol: string }[]) {
        expect(["2377", "7946", "4789"], `${f.name}: ${JSON.stringify(rule)}`).not.toContain(rule.port);
        expect(rule.protocol, f.name).not.toBe("esp");
      }
    }
  });

  it("the join token is in no command line: only on the joins' stdin", () => {
    for (const r of four.resources.filter((x) => x.type === "command:remote:Command")) {
      for (const k of ["create", "update", "delete"])
        expect(JSON.stringify(r.inputs[k] ?? null), `${r.name}.${k}`).not.toContain(MOCK_JOIN_TOKEN);
      if (!r.name.endsWith("-swarm-join"))
        expect(JSON.stringify(r.inputs.stdin ?? null), r.name).not.toContain(MOCK_JOIN_TOKEN);
    }
    expect(JSON.stringify(inputsOf(four, "cluster-worker-1-swarm-join").stdin)).toContain(MOCK_JOIN_TOKEN);
  });

  it("stage 3 → 4 keeps the core server, its key and firewall as they are, and declares the one box no more", () => {
    const d = diffRecordings(three.resources, four.resources);
    for (const kept of ["server-vm", "server-firewall", "server-deploy-key", "keys-deploy", "keys-host"]) {
      expect(d.changed, kept).not.toContain(kept);
      expect(d.removed, kept).not.toContain(kept);
    }
    // The core's first host steps are stage 3's; its watchdog watches tasks now, and its Docker
    // step runs again with `swarm` (live-restore off, by a reload: Swarm mode refuses it).
    for (const step of ["host-ready", "host-admin-keys", "host-swap"])
      expect(d.changed, step).not.toContain(step);
    expect(d.changed).toEqual(expect.arrayContaining(["host-watchdog", "host-docker"]));
    expect(inputsOf(four, "host-docker").create).toBe(`bash -s -- ${KEPT_IMAGES_FILE} swarm`);
    expect(inputsOf(three, "host-docker").create).toBe(`bash -s -- ${KEPT_IMAGES_FILE}`);
    expect(d.added).toEqual(
      expect.arrayContaining(["host-swarm-firewall", "swarm-retire", "cluster-network"]),
    );
    // What the engine deletes at the end of the move: the one box's containers (already retired),
    // its images, network, gate, provider and kept-images list; its volumes are kept on the server.
    expect(d.removed).toEqual(
      expect.arrayContaining(["app-redis", "app-api-deploy", "app-docker", "kept-images"]),
    );
    for (const v of three.resources.filter((r) => r.type === "docker:index/volume:Volume"))
      expect(three.options[v.name]?.retainOnDelete, v.name).toBe(true);
    // ... and the services mount them by the names stage 3 gave them.
    const volumes = three.resources
      .filter((r) => r.type === "docker:index/volume:Volume")
      .map((r) => r.inputs.name)
      .sort();
    const mounted = four.resources
      .filter((r) => r.type === "docker:index/service:Service")
      .flatMap((r) => ((r.inputs.taskSpec as any).containerSpec.mounts ?? []).map((m: any) => m.source))
      .sort();
    expect(mounted).toEqual(volumes);
  });

  it("workerNodes 2 → 3 removes nothing, and changes only the steps that count the nodes and the worker service", () => {
    const d = diffRecordings(four.resources, five.resources);
    expect(d.removed).toEqual([]);
    expect(d.added).toEqual(
      expect.arrayContaining([
        "cluster-worker-3",
        "cluster-worker-3-host-key",
        "cluster-worker-3-swarm-join",
        "cluster-worker-3-swarm-drain",
      ]),
    );
    expect(d.added.every((n) => n.startsWith("cluster-worker-3"))).toBe(true);
    // The Swarm's init and admit run again (an update: new arguments), the core's watchdog is
    // installed again with three nodes to expect, and the worker service gets two more tasks.
    expect(d.changed).toEqual([
      "cluster-swarm-admit",
      "cluster-swarm-init",
      "host-watchdog",
      "swarm-worker-image",
    ]);
    const replicas = (run: Recording) =>
      (inputsOf(run, "swarm-worker-image").mode as { replicated: { replicas: number } }).replicated.replicas;
    expect([replicas(four), replicas(five)]).toEqual([4, 6]);
  });
});
