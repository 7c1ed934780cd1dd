// Stage 4's Swarm services (src/plan/swarm-services.ts) through makePlan on the bundled catalog:
// the core's services pinned by the core label, one worker service spread over the worker nodes,
// each container's limits, grace period and update order kept, Redis behind no IPVS address, the
// overlay encrypted inside the private network's MTU, and what happens to swap said.
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { PRIVATE_NETWORK, SERVICE_SWAP_ENGINE } from "../../src/plan/nodes";
import { makePlan } from "../../src/plan/plan";
import {
  CORE_CONSTRAINT,
  IPVS_TCP_TIMEOUT_S,
  REDIS_TCP_KEEPALIVE_S,
  WORKER_CONSTRAINT,
} from "../../src/plan/swarm-services";
import { cfg } from "./fixtures";

const services = (raw: Record<string, unknown> = {}) => {
  const p = makePlan(cfg({ stage: 4, ...raw }, "prod"), snapshotCatalog());
  expect(p.errors).toEqual([]);
  return { plan: p, swarm: p.clusterDeploy!.services };
};

describe("stage 4's Swarm services", () => {
  it("Redis, the proxy, the API and the bot: one task each, pinned to the core node by its label", () => {
    const { swarm } = services({ workerNodes: 2 });
    const core = swarm.services.filter((s) => s.role !== "worker");
    expect(core.map((s) => [s.name, s.replicas, s.constraints])).toEqual([
      ["redis", 1, [CORE_CONSTRAINT]],
      ["proxy", 1, [CORE_CONSTRAINT]],
      ["api", 1, [CORE_CONSTRAINT]],
      ["bot", 1, [CORE_CONSTRAINT]],
    ]);
    expect(CORE_CONSTRAINT).toBe("node.labels.app-infra.node==core");
  });

  it("the bot is replaced stop-first (one long-poller at a time), the API start-first", () => {
    const { swarm } = services();
    const by = Object.fromEntries(swarm.services.map((s) => [s.name, s]));
    expect(by.bot!.updateOrder).toBe("stop-first");
    expect(by.api!.updateOrder).toBe("start-first");
    expect(by.redis!.updateOrder).toBe("stop-first");
  });

  it("one worker service: workersPerNode × workerNodes tasks, at most workersPerNode per node, on worker nodes only", () => {
    const { swarm, plan } = services({ workerNodes: 3, workersPerNode: 4 });
    const w = swarm.services.filter((s) => s.role === "worker");
    expect(w.map((s) => [s.name, s.replicas, s.maxReplicasPerNode, s.constraints])).toEqual([
      ["worker-image", 12, 4, [WORKER_CONSTRAINT]],
    ]);
    // The worker node's planned container: its limits, reservation, grace period and command.
    const planned = plan.cluster!.nodes[1]!.services[0]!;
    expect(w[0]).toMatchObject({
      memoryLimitMb: planned.memoryMb,
      memoryReservationMb: planned.memoryReservationMb,
      swapMb: planned.swapMb,
      stopGracePeriodS: planned.stopTimeoutS,
      command: planned.command,
      image: planned.image,
    });
    // It reaches Redis by the service's name over the overlay.
    expect(planned.command!.join(" ")).toContain("redis://redis:6379/0");
  });

  it("Redis is reached by name without an IPVS address (dnsrr), its keepalive below IPVS' idle timeout", () => {
    const { swarm } = services();
    const by = Object.fromEntries(swarm.services.map((s) => [s.name, s]));
    expect(by.redis!.endpointMode).toBe("dnsrr");
    expect(by.api!.endpointMode).toBe("vip");
    expect(REDIS_TCP_KEEPALIVE_S).toBeLessThan(IPVS_TCP_TIMEOUT_S);
  });

  it("the proxy publishes its ports on the core node itself; nothing else publishes any", () => {
    const { swarm } = services({ services: { api: { public: true } } });
    expect(swarm.services.filter((s) => s.hostPorts.length > 0).map((s) => [s.name, s.hostPorts])).toEqual([
      [
        "proxy",
        [
          { published: 80, target: 80 },
          { published: 443, target: 443 },
        ],
      ],
    ]);
  });

  it("the overlay is encrypted, not attachable, over the private network's MTU; the plan says what happens to swap", () => {
    const { swarm } = services();
    expect(swarm.network).toEqual({
      name: "app-infra",
      driver: "overlay",
      encrypted: true,
      linkMtu: 1450,
      attachable: false,
    });
    expect(swarm.network.linkMtu).toBe(PRIVATE_NETWORK.mtu);
    expect(swarm.swapNote).toContain(`Docker Engine ${SERVICE_SWAP_ENGINE}`);
    expect(swarm.swapNote).toContain("as much swap again as its memory limit");
    // In the plan a user reads: JSON and text.
    const { plan } = services();
    expect(plan.cluster!.swarm.serviceSwap).toBe(swarm.swapNote);
  });
});
