// Stage 4's Swarm services as data (issue 16): what each of the one-box plan's containers becomes on
// the cluster. Pure; components/swarm.ts maps it to docker.Network and docker.Service on the core
// node, the Swarm manager.
//
// - Redis, the edge proxy, the API and the bot are pinned to the core node by its label
//   (swarm-init.sh sets app-infra.node=core); Redis' volume and the proxy's certificates live there.
// - The RQ workers are one service, constrained to the worker nodes (swarm-node.sh admit labels them
//   app-infra.node=worker), with `workersPerNode` tasks on each node at most and workersPerNode ×
//   workerNodes in all.
// - Each keeps its memory limit and reservation, its stop grace period and its update order
//   (ServicePlan.replace is already in Swarm's words): the bot stop-first with one replica, since
//   Telegram answers a second long-poller with 409.
// - The apps reach Redis by its service name over the encrypted overlay. Redis' endpoint mode is
//   dnsrr: the name resolves to the task's own address, so no IPVS virtual IP sits in between to drop
//   a pooled connection idle for 900 s (the kernel's IPVS TCP timeout); Redis' own TCP keepalive
//   (300 s, redis.conf `tcp-keepalive`, the default since 3.2.1) stays below it either way.
// - Swap: Swarm services could not set memory-swap before Engine 29 (docker service create has no
//   --memory-swap). On an older engine a task's swap follows Docker's default for a container with a
//   memory limit and no memory-swap, which is as much swap again as its limit; the hosts' swappiness
//   (setup-swap.sh) keeps swap a last resort. SWAP_NOTE says so in the plan.
import { ROLE_LABEL, STACK_LABEL } from "./names";
import type { ClusterPlan, NodeRole } from "./nodes";
import { coreNode, PRIVATE_NETWORK, SWAP_NOTE } from "./nodes";
import { NETWORK_NAME, type Role, type ServicePlan } from "./services";

export const NODE_LABEL = "app-infra.node";
export const CORE_CONSTRAINT = `node.labels.${NODE_LABEL}==core`;
export const WORKER_CONSTRAINT = `node.labels.${NODE_LABEL}==worker`;

/** IPVS' idle timeout for TCP (ipvsadm --set default), and Redis' default keepalive below it. */
export const IPVS_TCP_TIMEOUT_S = 900;
export const REDIS_TCP_KEEPALIVE_S = 300;

/**
 * How long a service's create or update may take until its tasks run (docker.Service
 * convergeConfig): a first pull of the app image on a new worker node included. A create that does
 * not converge fails the `pulumi up` and deletes the new service (the provider's
 * resource_docker_service_funcs.go:53-80, docs/provider-contract.md); an update that does not is
 * rolled back by Swarm (updateConfig.failureAction) and fails the `pulumi up` too.
 */
export const CONVERGE_TIMEOUT_S = 600;
/** How long Swarm watches each updated task for a failure before it goes on (updateConfig.monitor). */
export const UPDATE_MONITOR_S = 30;

export interface SwarmServiceSpec {
  /** The service's name, which is also the name the others reach it by (its ServicePlan alias). */
  name: string;
  role: Role;
  image: string;
  command: string[] | undefined;
  env: Record<string, string>;
  secretEnv: ServicePlan["secretEnv"];
  replicas: number;
  /** Swarm's max-replicas-per-node; undefined = no limit. */
  maxReplicasPerNode?: number;
  constraints: string[];
  memoryLimitMb: number;
  memoryReservationMb: number;
  /** The swap the one-box plan gives this container: applied from Engine 29, else SWAP_NOTE. */
  swapMb: number;
  stopGracePeriodS: number;
  updateOrder: ServicePlan["replace"];
  /** vip: a virtual IP (IPVS) in front of the tasks; dnsrr: the name resolves to the tasks. */
  endpointMode: "vip" | "dnsrr";
  /** Host ports published on the core node itself (mode host: no routing mesh, the client's address kept). */
  hostPorts: { published: number; target: number }[];
  volumes: ServicePlan["volumes"];
  healthcheck: ServicePlan["healthcheck"];
  /**
   * Its tasks' container labels: the stack and the role, as one box's containers have
   * (src/plan/app.ts), so each node's watchdog finds this stack's tasks (besides Swarm's own
   * com.docker.swarm.service.name).
   */
  containerLabels: Record<string, string>;
}

export interface SwarmServicesPlan {
  /** linkMtu: the driver option com.docker.network.driver.mtu (see overlayTaskMtu in nodes.ts). */
  network: { name: string; driver: "overlay"; encrypted: true; linkMtu: number; attachable: false };
  services: SwarmServiceSpec[];
  /** Each create and update waits this long at most for the tasks to run (CONVERGE_TIMEOUT_S). */
  convergeTimeoutS: number;
  /** An update's failure watch, per task (UPDATE_MONITOR_S); on a failure Swarm rolls back. */
  updateMonitorS: number;
  /** What happens to swap, in the plan's words (see the module comment). */
  swapNote: string;
}

function spec(
  stack: string,
  s: ServicePlan,
  more: Partial<SwarmServiceSpec> & Pick<SwarmServiceSpec, "constraints">,
): SwarmServiceSpec {
  return {
    name: s.alias,
    role: s.role,
    image: s.image,
    command: s.command,
    env: s.env,
    secretEnv: s.secretEnv,
    replicas: 1,
    memoryLimitMb: s.memoryMb,
    memoryReservationMb: s.memoryReservationMb,
    swapMb: s.swapMb,
    stopGracePeriodS: s.stopTimeoutS,
    updateOrder: s.replace,
    endpointMode: "vip",
    hostPorts: [],
    volumes: s.volumes,
    healthcheck: s.healthcheck,
    containerLabels: { [STACK_LABEL]: stack, [ROLE_LABEL]: s.role },
    ...more,
  };
}

export function planSwarmServices(stack: string, cluster: ClusterPlan): SwarmServicesPlan {
  const core = coreNode(cluster);
  const workers = cluster.nodes.filter((n) => n.role === "worker");
  const services: SwarmServiceSpec[] = core.services.map((s) =>
    spec(stack, s, {
      constraints: [CORE_CONSTRAINT],
      ...(s.role === "redis" ? { endpointMode: "dnsrr" as const } : {}),
      hostPorts: s.ports.map((p) => ({ published: p.external, target: p.internal })),
    }),
  );
  // The worker nodes' containers are copies of one service (worker-image-1..N on each node).
  const perNode = workers[0]?.services ?? [];
  const first = perNode[0];
  if (first)
    services.push(
      spec(stack, first, {
        name: "worker-image",
        constraints: [WORKER_CONSTRAINT],
        replicas: perNode.length * workers.length,
        maxReplicasPerNode: perNode.length,
      }),
    );
  return {
    network: {
      name: NETWORK_NAME,
      driver: "overlay",
      encrypted: true,
      linkMtu: PRIVATE_NETWORK.mtu,
      attachable: false,
    },
    services,
    convergeTimeoutS: CONVERGE_TIMEOUT_S,
    updateMonitorS: UPDATE_MONITOR_S,
    swapNote: SWAP_NOTE,
  };
}

/**
 * The tasks a node of `role` runs, as its watchdog's TASKS (`name=service:count`, src/plan/
 * watchdog.ts): each service constrained to that role, with the tasks it places on one node: at
 * most maxReplicasPerNode (the workers), else all of them (the core's, on the one core node).
 */
export function nodeTasks(plan: SwarmServicesPlan, role: NodeRole): string {
  const constraint = role === "core" ? CORE_CONSTRAINT : WORKER_CONSTRAINT;
  return plan.services
    .filter((s) => s.constraints.includes(constraint))
    .map((s) => `${s.name}=${s.role}:${s.maxReplicasPerNode ?? s.replicas}`)
    .join(" ");
}
