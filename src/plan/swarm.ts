// Stage 4's deploy as data (issue 16): the Hetzner private network and its subnet, the core node's
// attachment, the worker nodes' servers and firewall, each worker node's host steps, and the Swarm
// steps (init on the core, join on each worker, admit and drain on the core). components/cluster.ts
// maps these onto resources and decides nothing itself. Pure.
//
// Provider contract (terraform-provider-hcloud v1.59.0, the version the lab builds):
// - The core node attaches with a separate hcloud_server_network, so the core server's own inputs
//   are exactly stage 3's: a 3 → 4 move changes nothing that replaces it (server_id, network_id,
//   subnet_id and ip of the attachment are RequiresReplace, internal/server/resource_network.go
//   73-107; that only ever replaces the attachment).
// - Worker servers attach at creation through the server's inline `network` block, which the
//   provider attaches after the server exists (internal/server/resource.go 469-485) and updates in
//   place (637-642), so a worker's address change never replaces its server.
// - A subnet's network, type, zone and range are ForceNew (internal/network/resource_subnet.go
//   35-67): they are constants here, never derived from a setting.
import type { StackConfig } from "../config/types";
import type { ServiceName } from "../config/vocabulary";
import { adminRules } from "./firewall";
import { SERVER_IMAGE, type FirewallSpec, type ServerSpec } from "./hetzner";
import { HOST_CONNECTION, nodeSteps, SWARM_FIREWALL_STEP, watchdogStep, type HostPlan } from "./host";
import { serverLabels, stackResourceName } from "./names";
import { coreNode, type ClusterPlan, type NodePlan } from "./nodes";
import { FAILED_LOG_LINES, kamalDeploy, planGate } from "./gate";
import { planEdge } from "./proxy";
import { REQUIREMENTS_LABEL } from "./server";
import { CORE_CONSTRAINT, nodeTasks, planSwarmServices, type SwarmServicesPlan } from "./swarm-services";
import { watchdogEnv, type WatchdogNode } from "./watchdog";

/** How long the manager waits for joined nodes to report ready (swarm-node.sh admit). */
export const ADMIT_TIMEOUT_S = 300;
/** How long the gate waits for the proxy's task to run on the core node (it has converged before). */
export const GATE_WAIT_S = 60;
/**
 * The order in which a stage 3 → 4 move stops the one box's containers (swarm-node.sh retire): the
 * workers first, so each finishes its job while the API still takes requests (what it enqueues
 * waits in Redis for the Swarm's workers); Redis last, so its final save on SIGTERM holds every job.
 */
export const RETIRE_ORDER: readonly ServiceName[] = ["worker", "bot", "proxy", "api", "redis"];
/**
 * The way back to stage 3 starts with this `pulumi destroy --target … --target-dependents`: every
 * Swarm service of the stack and what depends on them (the stop steps, which run first, the gate,
 * the core's watchdog step), so the one box's containers can take the names, ports and volumes
 * again. The engine's globs: `**` is any text, `*` any text without a colon (pkg/v3
 * resource/deploy/deployment.go:202-221 at v3.274.1).
 */
export const SERVICES_TARGET = "**docker:index/service:Service::*";
/** Added to the stop grace period of the tasks a drain or a stop waits for: how long it may take before it fails. */
export const DRAIN_MARGIN_S = 60;

export interface SwarmStep {
  script: "swarm-init.sh" | "swarm-join.sh" | "swarm-node.sh";
  args: string[];
}

export interface WorkerNodeDeploy {
  /** `worker-<n>`: the suffix of its resource names, stable per index. */
  key: string;
  privateIp: string;
  server: ServerSpec;
  host: HostPlan;
  /** On this node; the token follows the script on stdin. */
  join: SwarmStep;
  /** On the core node, when this node's membership is deleted (before its server). */
  drain: SwarmStep;
}

export interface ClusterDeploy {
  network: { name: string; ipRange: string; labels: Record<string, string> };
  subnet: { type: "cloud"; networkZone: string; ipRange: string };
  core: { privateIp: string };
  workerFirewall: FirewallSpec;
  workers: WorkerNodeDeploy[];
  /** The Swarm services and their overlay (src/plan/swarm-services.ts). */
  services: SwarmServicesPlan;
  swarm: {
    /**
     * On the core node; prints the current worker join token (kept as a secret). The worker nodes'
     * addresses follow its own arguments, so a change of them runs it again (an update).
     */
    init: SwarmStep;
    /** On the core node after every join: wait until ready, label, rotate the token. */
    admit: SwarmStep;
    /**
     * On the core node before a service off the core node is deleted, by service name: scale it
     * to 0 and wait until its tasks stopped on every node (swarm-node.sh stop). The provider's own
     * delete waits only for the manager's containers (components/swarm.ts).
     */
    stop: Record<string, SwarmStep>;
    /**
     * On the core node, after the Swarm is formed and before the services start: stops and removes
     * this stack's one-box containers (a stage 3 → 4 move; nothing on a new stack), in RETIRE_ORDER,
     * each with its own stop grace period. Redis' volume and the proxy's stay, and the Swarm's
     * services mount them by the same names.
     */
    retire: SwarmStep;
    /**
     * On the core node, after the proxy and the API services run: points kamal-proxy (in the proxy
     * service's task) at the API service, health-gated as on one box (src/plan/gate.ts). The API's
     * own releases are Swarm's start-first updates behind the same service name.
     */
    gate: SwarmStep;
  };
}

/** A worker node's labels: the stack's, with role worker (the live lookup picks the core by name). */
export function workerLabels(stack: string): Record<string, string> {
  return { ...serverLabels(stack), role: "worker" };
}

/**
 * What a node's watchdog watches (issue 16: a watchdog on every node, checking its own tasks; alerts
 * name the node; the core node reports a node that leaves the swarm).
 */
export function watchdogNode(
  cluster: ClusterPlan,
  services: SwarmServicesPlan,
  node: NodePlan,
): WatchdogNode {
  const workerNodes = cluster.nodes.filter((n) => n.role === "worker").length;
  return {
    name: node.role === "core" ? "core" : `worker-${node.index}`,
    role: node.role,
    tasks: nodeTasks(services, node.role),
    swarmNodes: node.role === "core" ? cluster.nodes.length : 0,
    workerNodes,
  };
}

/** The core node's watchdog settings: makePlan passes them to the core's host plan. */
export function coreWatchdogNode(cfg: StackConfig, cluster: ClusterPlan): WatchdogNode {
  return watchdogNode(cluster, planSwarmServices(cfg.stack, cluster), coreNode(cluster));
}

function workerHost(cfg: StackConfig, node: NodePlan, watch: WatchdogNode): HostPlan {
  // A worker node has no Redis, API or backup: its watchdog reads the host and its own tasks.
  const env = watchdogEnv(cfg, {
    stage: cfg.stage,
    workers: node.services.length,
    services: node.services,
    scaleUp: undefined,
    edge: planEdge(cfg),
    node: watch,
  });
  return {
    connection: HOST_CONNECTION,
    steps: [
      ...nodeSteps({
        ...(node.server ? { serverType: node.server.type } : {}),
        swapGb: node.swapGb,
        swappiness: cfg.swappiness,
        adminSshKeys: cfg.adminSshKeys,
        swarm: true,
      }),
      watchdogStep(cfg, env),
      SWARM_FIREWALL_STEP,
    ],
    dockerReady: "docker",
    watchdog: { env, sendBotToken: Boolean(cfg.alerts.telegramChatId), heartbeat: false },
  };
}

export function planClusterDeploy(cfg: StackConfig, cluster: ClusterPlan): ClusterDeploy {
  const { network, swarm } = cluster;
  const services = planSwarmServices(cfg.stack, cluster);
  const workers = cluster.nodes
    .filter((n) => n.role === "worker")
    .map((n): WorkerNodeDeploy => {
      if (!n.server) throw new Error(`internal: worker node ${n.name} has no server type (a plan error)`);
      return {
        key: `worker-${n.index}`,
        privateIp: n.privateIp,
        server: {
          name: n.name,
          image: SERVER_IMAGE,
          location: cfg.location,
          serverType: n.server.type,
          // A worker node holds no data: nothing to keep, back up or protect.
          keepDisk: false,
          backups: false,
          protect: false,
          labels: { ...workerLabels(cfg.stack), [REQUIREMENTS_LABEL]: n.server.requirementsLabel },
          ipv4: true,
          ipv6: true,
        },
        host: workerHost(cfg, n, watchdogNode(cluster, services, n)),
        join: { script: "swarm-join.sh", args: [swarm.advertiseAddr, n.privateIp] },
        drain: {
          script: "swarm-node.sh",
          // The node's own tasks' longest grace period: a drain waits for those only.
          args: [
            "drain",
            String(Math.max(0, ...n.services.map((x) => x.stopTimeoutS)) + DRAIN_MARGIN_S),
            n.privateIp,
          ],
        },
      };
    });
  return {
    network: { name: network.name, ipRange: network.ipRange, labels: serverLabels(cfg.stack) },
    subnet: { type: "cloud", networkZone: network.networkZone, ipRange: network.subnet },
    core: { privateIp: coreNode(cluster).privateIp },
    workerFirewall: {
      name: stackResourceName(cfg.stack, "workers"),
      labels: workerLabels(cfg.stack),
      // The worker nodes serve nothing publicly.
      rules: adminRules(cfg),
    },
    workers,
    services,
    swarm: {
      init: {
        script: "swarm-init.sh",
        args: [
          swarm.advertiseAddr,
          swarm.addressPool,
          String(swarm.addressPoolSubnetSize),
          ...workers.map((w) => w.privateIp),
        ],
      },
      admit: {
        script: "swarm-node.sh",
        args: ["admit", String(ADMIT_TIMEOUT_S), ...workers.map((w) => w.privateIp)],
      },
      stop: Object.fromEntries(
        services.services
          .filter((x) => !x.constraints.includes(CORE_CONSTRAINT))
          .map((x) => [
            x.name,
            {
              script: "swarm-node.sh" as const,
              args: ["stop", String(x.stopGracePeriodS + DRAIN_MARGIN_S), x.name],
            },
          ]),
      ),
      retire: { script: "swarm-node.sh", args: ["retire", cfg.stack, ...RETIRE_ORDER] },
      gate: planGateStep(cfg, services),
    },
  };
}

/** The gate's step: the API service as kamal-proxy's target, from within the proxy service's task. */
export function planGateStep(cfg: StackConfig, services: SwarmServicesPlan): SwarmStep {
  const named = (role: ServiceName) => {
    const found = services.services.find((x) => x.role === role);
    if (!found) throw new Error(`internal: stage 4 has no ${role} service`);
    return found.name;
  };
  const [proxy, api] = [named("proxy"), named("api")];
  const g = planGate(cfg, planEdge(cfg), proxy, api);
  return {
    script: "swarm-node.sh",
    args: ["gate", String(GATE_WAIT_S), proxy, api, String(FAILED_LOG_LINES), ...kamalDeploy(g, api)],
  };
}
