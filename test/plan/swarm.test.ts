// Stage 4's deploy as data (src/plan/swarm.ts) and each node's watchdog settings, through makePlan
// on the bundled catalog: what a worker node's server is (no data kept, nothing protected, both
// addresses), its firewall's name, its host steps, and what each node's watchdog watches.
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { coreNode } from "../../src/plan/nodes";
import { makePlan } from "../../src/plan/plan";
import {
  CONVERGE_TIMEOUT_S,
  planSwarmServices,
  nodeTasks,
  UPDATE_MONITOR_S,
} from "../../src/plan/swarm-services";
import { SERVICE_NAMES } from "../../src/config/vocabulary";
import { DEPLOY_TIMEOUT_S, DRAIN_TIMEOUT_S, FAILED_LOG_LINES } from "../../src/plan/gate";
import {
  DRAIN_MARGIN_S,
  GATE_WAIT_S,
  planClusterDeploy,
  planGateStep,
  RETIRE_ORDER,
  SERVICES_TARGET,
  watchdogNode,
} from "../../src/plan/swarm";
import { cfg } from "./fixtures";

const stage4 = (raw: Record<string, unknown> = {}) => {
  const c = cfg({ stage: 4, workerNodes: 2, ...raw }, "prod");
  const p = makePlan(c, snapshotCatalog());
  expect(p.errors).toEqual([]);
  return { c, p, deploy: p.clusterDeploy!, cluster: p.cluster! };
};

describe("stage 4's worker nodes as the plan deploys them", () => {
  it("a worker server keeps no disk, has no backups or protection, and has both public addresses", () => {
    const { deploy } = stage4();
    expect(deploy.workers.map((w) => w.server)).toEqual([
      expect.objectContaining({
        name: "app-infra-prod-worker-1",
        serverType: "cx23",
        keepDisk: false,
        backups: false,
        protect: false,
        ipv4: true,
        ipv6: true,
        labels: expect.objectContaining({ role: "worker", stack: "prod" }),
      }),
      expect.objectContaining({ name: "app-infra-prod-worker-2" }),
    ]);
    expect(deploy.workerFirewall.name).toBe("app-infra-prod-workers");
  });

  it("a worker node's first step re-checks the box after a rescale: its server type is the argument", () => {
    const { deploy } = stage4({ workerNode: { type: "cx33" } });
    const ready = deploy.workers[0]!.host.steps.find((s) => s.name === "ready")!;
    expect(ready.args).toEqual(["cx33"]);
    expect(deploy.workers[0]!.host.steps.map((s) => s.name)).toEqual([
      "ready",
      "admin-keys",
      "swap",
      "docker",
      "watchdog",
      "swarm-firewall",
    ]);
  });

  it("refuses a worker node without a server type (the plan's errors stop that before the deploy)", () => {
    const { c, cluster } = stage4();
    const broken = {
      ...cluster,
      nodes: cluster.nodes.map((n) => (n.role === "worker" ? { ...n, server: undefined } : n)),
    };
    expect(() => planClusterDeploy(c, broken)).toThrow(
      "internal: worker node app-infra-prod-worker-1 has no server type (a plan error)",
    );
  });
});

describe("the stop step before a service off the core node is deleted", () => {
  it("one for the workers only, waiting their grace period plus the drain's margin, by service name", () => {
    const { deploy } = stage4();
    const w = deploy.services.services.find((s) => s.name === "worker-image")!;
    expect(deploy.swarm.stop).toEqual({
      "worker-image": {
        script: "swarm-node.sh",
        args: ["stop", String(w.stopGracePeriodS + DRAIN_MARGIN_S), "worker-image"],
      },
    });
    // The core node's services are stopped by the provider's own delete (it waits on the manager).
    for (const s of deploy.services.services.filter((x) => x.name !== "worker-image"))
      expect(deploy.swarm.stop[s.name], s.name).toBeUndefined();
  });

  it("the services' convergence and update watch, from the plan", () => {
    const { deploy } = stage4();
    expect(deploy.services.convergeTimeoutS).toBe(CONVERGE_TIMEOUT_S);
    expect(deploy.services.updateMonitorS).toBe(UPDATE_MONITOR_S);
    expect([CONVERGE_TIMEOUT_S, UPDATE_MONITOR_S]).toEqual([600, 30]);
  });
});

describe("each node's watchdog", () => {
  it("the core node expects every node in the swarm and runs the core's tasks; a worker node its own", () => {
    const { c, cluster } = stage4({ workersPerNode: 3 });
    const services = planSwarmServices(c.stack, cluster);
    const worker = cluster.nodes.find((n) => n.role === "worker")!;
    expect(watchdogNode(cluster, services, coreNode(cluster))).toEqual({
      name: "core",
      role: "core",
      tasks: "redis=redis:1 proxy=proxy:1 api=api:1 bot=bot:1",
      swarmNodes: 3,
      workerNodes: 2,
    });
    expect(watchdogNode(cluster, services, worker)).toEqual({
      name: "worker-1",
      role: "worker",
      tasks: "worker-image=worker:3",
      swarmNodes: 0,
      workerNodes: 2,
    });
    // Per node: the worker service's cap on one node, not its total (3 × 2 = 6 replicas).
    expect(services.services.find((s) => s.name === "worker-image")!.replicas).toBe(6);
    expect(nodeTasks(services, "worker")).toBe("worker-image=worker:3");
  });

  it("every Swarm task carries the stack's and its role's labels, which the watchdog selects by", () => {
    const { deploy } = stage4();
    expect(deploy.services.services.map((s) => [s.name, s.containerLabels])).toEqual([
      ["redis", { "app-infra.stack": "prod", "app-infra.role": "redis" }],
      ["proxy", { "app-infra.stack": "prod", "app-infra.role": "proxy" }],
      ["api", { "app-infra.stack": "prod", "app-infra.role": "api" }],
      ["bot", { "app-infra.stack": "prod", "app-infra.role": "bot" }],
      ["worker-image", { "app-infra.stack": "prod", "app-infra.role": "worker" }],
    ]);
  });

  it("a cluster without worker nodes plans no worker service", () => {
    const { c, cluster } = stage4();
    const coreOnly = { ...cluster, nodes: cluster.nodes.filter((n) => n.role === "core") };
    expect(planSwarmServices(c.stack, coreOnly).services.map((s) => s.name)).toEqual([
      "redis",
      "proxy",
      "api",
      "bot",
    ]);
  });
});

describe("stage 4's move from one box and the proxy's switch", () => {
  it("retires every role of the one box once, the workers first and Redis last, for this stack", () => {
    expect([...RETIRE_ORDER].sort()).toEqual([...SERVICE_NAMES].sort());
    expect(RETIRE_ORDER[0]).toBe("worker");
    expect(RETIRE_ORDER.at(-1)).toBe("redis");
    expect(stage4().deploy.swarm.retire).toEqual({
      script: "swarm-node.sh",
      args: ["retire", "prod", "worker", "bot", "proxy", "api", "redis"],
    });
  });

  it("the gate deploys the API service as the one box's gate deploys its container: host, TLS, health path, timeouts", () => {
    const { deploy } = stage4({
      domain: "api.example.com",
      services: { api: { port: 8080, healthPath: "/ready" } },
    });
    expect(GATE_WAIT_S).toBe(60);
    expect(deploy.swarm.gate).toEqual({
      script: "swarm-node.sh",
      args: [
        "gate",
        "60",
        "proxy",
        "api",
        String(FAILED_LOG_LINES),
        "kamal-proxy",
        "deploy",
        "api",
        "--target",
        "api:8080",
        "--host",
        "api.example.com",
        "--tls",
        "--health-check-path",
        "/ready",
        "--deploy-timeout",
        `${DEPLOY_TIMEOUT_S}s`,
        "--drain-timeout",
        `${DRAIN_TIMEOUT_S}s`,
      ],
    });
    // No domain: plain HTTP for any host.
    const plain = stage4().deploy.swarm.gate.args;
    expect(plain).not.toContain("--host");
    expect(plain).not.toContain("--tls");
  });

  it("the gate needs the proxy and the API services: without either it is an internal error", () => {
    const { c, deploy } = stage4();
    for (const role of ["proxy", "api"]) {
      const services = {
        ...deploy.services,
        services: deploy.services.services.filter((x) => x.role !== role),
      };
      expect(() => planGateStep(c, services)).toThrow(`internal: stage 4 has no ${role} service`);
    }
  });

  it("the way back's target is every docker.Service of the stack, by the engine's glob", () => {
    const glob = new RegExp(
      "^" +
        SERVICES_TARGET.split("**")
          .map((p) =>
            p
              .split("*")
              .map((x) => x.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
              .join("[^:]*"),
          )
          .join(".*") +
        "$",
    );
    expect(
      glob.test(
        "urn:pulumi:prod::app-infra::app-infra:index:SwarmApp$docker:index/service:Service::swarm-redis",
      ),
    ).toBe(true);
    expect(
      glob.test(
        "urn:pulumi:prod::app-infra::app-infra:index:SwarmApp$docker:index/network:Network::swarm-network",
      ),
    ).toBe(false);
    expect(
      glob.test(
        "urn:pulumi:prod::app-infra::app-infra:index:App$docker:index/container:Container::app-redis",
      ),
    ).toBe(false);
  });
});
