// Stage 4's nodes (src/plan/nodes.ts) through makePlan, on the bundled catalog: the core node is the
// stack's server with stage 3's requirements, the worker nodes are the cheapest type that meets
// WORKER_NODE, and the network, addresses and Swarm pool are the plan's data.
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { NETWORK_ZONES, overlayTaskMtu, workerPrivateIp } from "../../src/plan/nodes";
import { makePlan } from "../../src/plan/plan";
import { planToJson } from "../../src/report/json";
import { renderText } from "../../src/report/text";
import { cfg } from "./fixtures";

const catalog = snapshotCatalog();
const plan4 = (raw: Record<string, unknown> = {}, stack = "prod") =>
  makePlan(cfg({ stage: 4, ...raw }, stack), catalog);

describe("stage 4: one core node plus worker nodes", () => {
  it("workerNodes 2: three servers, the core under the stack's own name, each with its address and services", () => {
    const p = plan4({ workerNodes: 2 });
    expect(p.deployable).toBe(true);
    const nodes = p.cluster!.nodes;
    expect(nodes.map((n) => [n.name, n.role, n.privateIp, n.server?.type])).toEqual([
      ["app-infra-prod", "core", "10.0.1.2", "cx33"],
      ["app-infra-prod-worker-1", "worker", "10.0.1.11", "cx23"],
      ["app-infra-prod-worker-2", "worker", "10.0.1.12", "cx23"],
    ]);
    expect(nodes[0]!.services.map((s) => s.name)).toEqual([
      "redis",
      "proxy",
      expect.stringMatching(/^api/),
      "bot",
    ]);
    expect(nodes[1]!.services.map((s) => s.name)).toEqual(["worker-image-1", "worker-image-2"]);
    // The core's server is the plan's server: the one-box plan's host and Hetzner resources are its.
    expect(nodes[0]!.server).toBe(p.server);
    expect(p.workers).toBe(0);
    expect(p.services.some((s) => s.role === "worker")).toBe(false);
  });

  it("the core node keeps stage 3's server: same type and the same requirements label (a 3 → 4 move replaces nothing)", () => {
    const s3 = makePlan(cfg({ stage: 3 }, "prod"), catalog).server!;
    const core = plan4().server!;
    expect(core.type).toBe(s3.type);
    expect(core.requirementsLabel).toBe(s3.requirementsLabel);
    expect(makePlan(cfg({ stage: 3 }, "prod"), catalog).hetzner).toEqual(plan4().hetzner);
  });

  it("workerNodes 2 → 3 only adds a node: the first three are the same", () => {
    const two = plan4({ workerNodes: 2 }).cluster!.nodes;
    const three = plan4({ workerNodes: 3 }).cluster!.nodes;
    expect(three.slice(0, 3)).toEqual(two);
    expect(three[3]!.name).toBe("app-infra-prod-worker-3");
    expect(three[3]!.privateIp).toBe(workerPrivateIp(3));
  });

  it("the monthly total is every node's cost: the core with backups and IPv4, each worker with IPv4", () => {
    const p = plan4({ workerNodes: 2, server: { backups: true } });
    const [core, w1, w2] = p.cluster!.nodes;
    expect(core!.monthlyEur).toBe(10.69); // cx33 €8.49 + IPv4 €0.50 + backups €1.70
    expect(w1!.monthlyEur).toBe(5.99); // cx23 €5.49 + IPv4 €0.50
    expect(p.cluster!.totalMonthlyEur).toBe(Math.round((10.69 + 5.99 + w2!.monthlyEur!) * 100) / 100);
    expect(p.cluster!.totalMonthlyEur).toBe(22.67);
  });

  it("workerNode/* set the worker nodes' requirements; workersPerNode their workers", () => {
    const p = plan4({ workerNode: { cores: 4, memoryGb: 8 }, workersPerNode: 4 });
    const w = p.cluster!.nodes[1]!;
    expect(w.server!.cores).toBeGreaterThanOrEqual(4);
    expect(w.server!.memoryGb).toBeGreaterThanOrEqual(8);
    expect(w.services).toHaveLength(4);
    expect(plan4({ workerNode: { type: "cx43" } }).cluster!.nodes[1]!.server!.type).toBe("cx43");
  });

  it("a pinned worker type that is too small is refused, naming workerNode/type and the key to raise", () => {
    const p = plan4({ workerNode: { type: "cx23", memoryGb: 8 } });
    expect(p.deployable).toBe(false);
    expect(p.errors).toContain(
      'workerNode/type: "cx23" has 4 GB RAM but a stage-4 worker node needs at least 8 (workerNode/memoryGb)',
    );
  });

  it("too many workers for a worker node is a budget error naming workersPerNode and workerNode/memoryGb", () => {
    const p = plan4({ workersPerNode: 16, services: { worker: { memoryMb: 400 } } });
    expect(p.errors).toContain(
      "budget: container limits (6400 MB) + system reserve (500 MB) = 6900 MB exceed RAM + swap (4096 + 2048 MB) on " +
        "each worker node, cx23 (2 vCPU, 4 GB): lower services/*/memoryMb or workersPerNode, or pin a bigger workerNode/type",
    );
    const w = plan4({ workersPerNode: 16 }).warnings.filter((x) => x.includes("swap"));
    expect(w.length).toBeGreaterThan(0);
    for (const x of w) expect(x).not.toMatch(/swapGb|higher stage/);
  });

  it("the network lies in the location's zone; Swarm's pool is disjoint from it; overlays fit Hetzner's MTU", () => {
    for (const [location, zone] of Object.entries(NETWORK_ZONES)) {
      const c = plan4({ location }).cluster;
      if (c) expect(c.network.networkZone, location).toBe(zone);
    }
    const c = plan4().cluster!;
    expect(c.network.mtu).toBe(1450);
    // The driver option is the link's MTU; inside a task: less VXLAN's 50 bytes and ESP's 26, to a multiple of 4.
    expect(c.swarm.overlayLinkMtu).toBe(1450);
    expect(c.swarm.overlayMtu).toBe(1372);
    expect(overlayTaskMtu(1450, false)).toBe(1400);
    expect(overlayTaskMtu(1500, true)).toBe(1424);
    const net = ipaddr.parseCIDR(c.network.ipRange);
    const pool = ipaddr.parseCIDR(c.swarm.addressPool);
    expect(net[0].match(pool) || pool[0].match(net)).toBe(false);
    const subnet = ipaddr.parseCIDR(c.network.subnet);
    expect(subnet[0].match(net)).toBe(true);
    for (const n of plan4({ workerNodes: 20 }).cluster!.nodes)
      expect(ipaddr.parse(n.privateIp).match(subnet), n.privateIp).toBe(true);
    expect(c.swarm.advertiseAddr).toBe(c.nodes[0]!.privateIp);
    expect(c.swarm.encrypted).toBe(true);
  });

  it("pulumi up deploys stage 4: the deploy plan has no error the offline plan lacks, and a cluster deploy", () => {
    const p = makePlan(
      cfg({ stage: 4, botToken: "x" } as Record<string, unknown>, "prod"),
      catalog,
      undefined,
      {
        forDeploy: true,
      },
    );
    expect(p.errors).toEqual([]);
    expect(p.errors).toEqual(plan4().errors);
    expect(p.clusterDeploy?.workers).toHaveLength(plan4().clusterDeploy!.workers.length);
  });

  it("the report: JSON lists each node's services and the total; the text shows the nodes and the network", () => {
    const p = plan4({ workerNodes: 2 });
    const j = planToJson(p);
    expect(j.cluster!.nodes.map((n) => [n.name, n.services])).toEqual([
      ["app-infra-prod", ["redis", "proxy", expect.stringMatching(/^api/), "bot"]],
      ["app-infra-prod-worker-1", ["worker-image-1", "worker-image-2"]],
      ["app-infra-prod-worker-2", ["worker-image-1", "worker-image-2"]],
    ]);
    expect(j.cluster!.totalMonthlyEur).toBe(p.cluster!.totalMonthlyEur);
    const text = renderText(j);
    expect(text).toContain("Nodes (stage 4)");
    expect(text).toMatch(/app-infra-prod-worker-2 +worker +cx23/);
    expect(text).toContain("1 core node + 2 worker nodes; total €");
    expect(text).toContain("private network app-infra-prod: 10.0.1.0/24 in eu-central, MTU 1450");
    expect(planToJson(makePlan(cfg({ stage: 3 }, "prod"), catalog)).cluster).toBeUndefined();
  });
});
