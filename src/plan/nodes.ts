// Stage 4 (issue 16): the sizing note's "consider horizontal scaling" as one core node plus worker
// nodes on a Hetzner private network, run by Docker Swarm. This module plans the nodes: each one's
// server, services, swap, budget and private address, the network and Swarm's address pool, and
// the monthly total. Pure, like the rest of src/plan.
//
// - The core node is the stack's server as on stages 1-3 (the same name, and stage 3's
//   requirements, so a stack moving 3 → 4 keeps it, its IP and Redis' data). It runs Redis, the
//   edge proxy, the API and the bot, and no worker.
// - Each worker node runs `workersPerNode` RQ workers: the stateless, CPU- and memory-heavy part,
//   fed by the one queue, which is what scales out. Its server is the cheapest type that meets
//   WORKER_NODE (or workerNode/*), with a public IPv4 of its own (it pulls images and reaches the
//   registry; Hetzner servers without one need a NAT gateway).
// - The private network: Hetzner's documented pitfalls (MTU 1450 on private networks; the Hetzner
//   firewall does not filter private traffic; Swarm's default address pool 10.0.0.0/8 overlaps a
//   10.0.0.0/16 network) are decided here as data, so the components only map them.
import type { StackConfig } from "../config/types";
import type { Location } from "../config/vocabulary";
import { monthlyCost } from "./advice";
import { checkBudget, computeBudget, type Budget, type BudgetKeys } from "./budget";
import type { Catalog } from "./catalog";
import { stackResourceName } from "./names";
import { selectServer, type ServerChoice, type ServerRole } from "./server";
import { planServices, type ServicePlan } from "./services";
import { STAGES, WORKER_NODE } from "./stages";

/** Hetzner's network zone of each location (docs.hetzner.com, "Networks": a subnet lives in one zone). */
export const NETWORK_ZONES: Readonly<Record<Location, string>> = {
  fsn1: "eu-central",
  nbg1: "eu-central",
  hel1: "eu-central",
  ash: "us-east",
  hil: "us-west",
  sin: "ap-southeast",
};

/**
 * The private network. Hetzner reserves each subnet's first address for its gateway, so the core
 * node is .2 and worker node n is .(10 + n). Hetzner's private networks run at MTU 1450, and the
 * overlay inside them must fit: see overlayTaskMtu.
 */
export const PRIVATE_NETWORK = {
  ipRange: "10.0.0.0/16",
  subnet: "10.0.1.0/24",
  mtu: 1450,
} as const;

/**
 * The MTU of a task's interface on a Swarm overlay whose driver option
 * `com.docker.network.driver.mtu` is `linkMtu`: that option is the MTU of the link VXLAN runs over,
 * and the driver takes VXLAN's 50 bytes off it, and for an encrypted overlay ESP's 26 more, rounded
 * down to a multiple of 4 (moby daemon/libnetwork/drivers/overlay/encryption.go maxMTU, overlay.go
 * vxlanEncap, encryption.go:58 pktExpansion). So the option is the private network's 1450: a
 * two-node test (test/real/swarm.test.ts) that set 1400 measured 1350 inside an unencrypted task.
 */
export function overlayTaskMtu(linkMtu: number, encrypted: boolean): number {
  const mtu = linkMtu - 50;
  if (!encrypted) return mtu;
  const esp = mtu - 26;
  return esp - (esp % 4);
}

/**
 * Swarm's address pool for its overlay networks, disjoint from the private network: Swarm's
 * default (10.0.0.0/8 in /24s) would hand out 10.0.1.0/24, the nodes' own subnet.
 */
export const SWARM_ADDRESS_POOL = { base: "10.128.0.0/16", subnetSize: 24 } as const;

export const CORE_PRIVATE_IP = "10.0.1.2";

/** The first Docker Engine whose Swarm services take a memory-swap setting (issue 16). */
export const SERVICE_SWAP_ENGINE = 29;

/** What happens to a Swarm task's swap (src/plan/swarm-services.ts), in the plan's words. */
export const SWAP_NOTE =
  `Swarm services take a memory-swap setting only from Docker Engine ${SERVICE_SWAP_ENGINE}; on an older ` +
  "engine each task may use as much swap again as its memory limit (Docker's default for a limit without " +
  "memory-swap), Redis, the API and the bot included, where stages 1-3 give them none; the nodes' low " +
  "swappiness keeps swap a last resort.";

/** Worker node n's (1-based) private address. */
export function workerPrivateIp(n: number): string {
  return `10.0.1.${10 + n}`;
}

export type NodeRole = "core" | "worker";

export interface NodePlan {
  /** The Hetzner server's name: the core keeps the stack's (app-infra-<stack>). */
  name: string;
  role: NodeRole;
  /** 0 for the core node, 1..workerNodes for worker nodes. */
  index: number;
  privateIp: string;
  /** undefined when no type fits (see the plan's errors). */
  server?: ServerChoice;
  swapGb: number;
  services: ServicePlan[];
  budget?: Budget;
  /** Server, IPv4 and (core only) backups, per month; null when a price is unknown. */
  monthlyEur: number | null;
}

export interface ClusterPlan {
  network: {
    name: string;
    ipRange: string;
    subnet: string;
    networkZone: string;
    mtu: number;
  };
  swarm: {
    /** The core node's private address: the manager advertises and listens there only. */
    advertiseAddr: string;
    addressPool: string;
    addressPoolSubnetSize: number;
    /** The overlays' driver option com.docker.network.driver.mtu: the private network's MTU. */
    overlayLinkMtu: number;
    /** The MTU inside a task on the (encrypted) overlay: overlayTaskMtu. */
    overlayMtu: number;
    /** Overlay traffic between nodes is IPsec-encrypted (ESP): `--opt encrypted`. */
    encrypted: true;
    /** SWAP_NOTE. */
    serviceSwap: string;
  };
  nodes: NodePlan[];
  /** Every node's monthly cost; null when one is unknown. The network itself is free. */
  totalMonthlyEur: number | null;
}

/** The cluster's core node (planCluster always puts it first). */
export function coreNode(cluster: ClusterPlan): NodePlan {
  const core = cluster.nodes.find((n) => n.role === "core");
  if (!core) throw new Error("internal: a cluster has a core node");
  return core;
}

/** The keys a worker node's messages name. */
const WORKER_BUDGET_KEYS: BudgetKeys = {
  workers: "workersPerNode",
  memory: "workerNode/memoryGb",
  bigger: "pin a bigger workerNode/type",
};

export function workerNodeRole(cfg: StackConfig): ServerRole {
  return {
    who: "a stage-4 worker node",
    subject: "workerNode",
    keys: {
      type: "workerNode/type",
      cores: "workerNode/cores",
      memoryGb: "workerNode/memoryGb",
      diskGb: "the worker node's disk",
    },
    pinned: cfg.workerNode.type,
    requirements: {
      cores: cfg.workerNode.cores ?? WORKER_NODE.minCores,
      memoryGb: cfg.workerNode.memoryGb ?? WORKER_NODE.minMemoryGb,
      diskGb: WORKER_NODE.minDiskGb,
      architecture: cfg.server.architecture,
      location: cfg.location,
    },
  };
}

/** The core node as the one-box plan decided it: its server, swap, services and budget. */
export interface CoreNode {
  server?: ServerChoice;
  swapGb: number;
  services: ServicePlan[];
  budget?: Budget;
}

/**
 * The nodes of a stage-4 stack. Worker nodes are identical, so one is chosen and budgeted and the
 * others are copies under their own names and addresses; the messages name "each worker node".
 */
export function planCluster(
  cfg: StackConfig,
  catalog: Catalog,
  core: CoreNode,
): { cluster: ClusterPlan; errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const picked = selectServer(cfg, STAGES[4], catalog, undefined, workerNodeRole(cfg));
  errors.push(...picked.errors);
  warnings.push(...picked.warnings);
  const server = picked.choice;
  const swapGb = WORKER_NODE.swapGb;
  const perNode = cfg.workersPerNode ?? WORKER_NODE.workersPerNode;
  const services = planServices(cfg, perNode, swapGb > 0).filter((s) => s.role === "worker");
  let budget: Budget | undefined;
  if (server) {
    const input = {
      ramMb: server.memoryGb * 1024,
      swapMb: swapGb * 1024,
      systemReserveMb: cfg.systemReserveMb,
      // The users are served on the core node (the API and the bot); a worker node holds jobs.
      users: 0,
      perUserMb: cfg.perUserMb,
      services,
      serverLabel: `each worker node, ${server.type} (${server.cores} vCPU, ${server.memoryGb} GB)`,
      keys: WORKER_BUDGET_KEYS,
    };
    const computed = computeBudget(input);
    const checked = checkBudget(computed, input);
    budget = { ...computed, notes: checked.notes };
    errors.push(...checked.errors);
    warnings.push(...checked.warnings);
  }
  const coreMonthly = core.server ? monthlyCost(core.server, cfg.server.backups).totalEur : null;
  const workerMonthly = server ? monthlyCost(server, false).totalEur : null;
  const nodes: NodePlan[] = [
    {
      name: stackResourceName(cfg.stack),
      role: "core",
      index: 0,
      privateIp: CORE_PRIVATE_IP,
      ...(core.server ? { server: core.server } : {}),
      swapGb: core.swapGb,
      services: core.services,
      ...(core.budget ? { budget: core.budget } : {}),
      monthlyEur: coreMonthly,
    },
    ...Array.from({ length: cfg.workerNodes ?? WORKER_NODE.nodes }, (_, i): NodePlan => ({
      name: stackResourceName(cfg.stack, `worker-${i + 1}`),
      role: "worker",
      index: i + 1,
      privateIp: workerPrivateIp(i + 1),
      ...(server ? { server } : {}),
      swapGb,
      services,
      ...(budget ? { budget } : {}),
      monthlyEur: workerMonthly,
    })),
  ];
  const costs = nodes.map((n) => n.monthlyEur);
  const totalMonthlyEur = costs.some((c) => c === null)
    ? null
    : Math.round(costs.reduce<number>((a, c) => a + c!, 0) * 100) / 100;
  return {
    cluster: {
      network: {
        name: stackResourceName(cfg.stack),
        ipRange: PRIVATE_NETWORK.ipRange,
        subnet: PRIVATE_NETWORK.subnet,
        networkZone: NETWORK_ZONES[cfg.location],
        mtu: PRIVATE_NETWORK.mtu,
      },
      swarm: {
        advertiseAddr: CORE_PRIVATE_IP,
        addressPool: SWARM_ADDRESS_POOL.base,
        addressPoolSubnetSize: SWARM_ADDRESS_POOL.subnetSize,
        overlayLinkMtu: PRIVATE_NETWORK.mtu,
        overlayMtu: overlayTaskMtu(PRIVATE_NETWORK.mtu, true),
        encrypted: true,
        serviceSwap: SWAP_NOTE,
      },
      nodes,
      totalMonthlyEur,
    },
    errors,
    warnings,
  };
}
