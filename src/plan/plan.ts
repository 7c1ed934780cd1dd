// Decides what a stack should look like: stage preset → server type, swap, services, limits and
// the capacity budget. Pure: no @pulumi import, no I/O; the catalog is passed in.
import { KEY_BY_PATH, SERVICE_NAMES, type Target } from "../config/keys";
import { redisImageAdvice } from "../config/image-ref";
import type { StackConfig } from "../config/types";
import { scaleUpAdvice } from "./advice";
import { planApp, type AppPlan } from "./app";
import { BACKUP_SECRET_PATHS, EXAMPLE_BACKUP_REPOSITORY, RESTIC_BUDGET_MB } from "./backup";
import { checkBudget, computeBudget, deployHeadroomMb, type Budget } from "./budget";
import type { Catalog } from "./catalog";
import { planHetzner, type HetznerPlan } from "./hetzner";
import { planHost, type HostPlan } from "./host";
import { planCluster, type ClusterPlan } from "./nodes";
import { planEdge, type EdgePlan } from "./proxy";
import { selectServer, type DeployedServer, type ServerChoice } from "./server";
import { defaultMaxmemoryMb, planServices, type ServicePlan } from "./services";
import { STAGES, type Stage, type StagePreset } from "./stages";
import { coreWatchdogNode, planClusterDeploy, type ClusterDeploy } from "./swarm";

export const EXAMPLE_IMAGE = KEY_BY_PATH.get("images/api")!.default as string;

export interface Plan {
  stack: string;
  stage: Stage;
  target: Target;
  preset: StagePreset;
  /** undefined for the local target, or when no type fits (see errors). */
  server?: ServerChoice;
  swapGb: number;
  swappiness: number;
  workers: number;
  services: ServicePlan[];
  /** How the edge proxy routes to the API: host name and TLS (src/plan/proxy.ts). */
  edge: EdgePlan;
  budget?: Budget;
  /**
   * What to set when the box runs short, on this catalog (src/plan/advice.ts scaleUpAdvice): the
   * watchdog's advice for memory and CPU alerts. Undefined without a server (local target, or no
   * type fits).
   */
  scaleUp?: { memory: string; cpu: string };
  /**
   * The resources, as data the components map onto providers (components/*.ts decide nothing):
   * the Hetzner server with its firewall and deploy key, the host steps over SSH (both undefined
   * for the local target and when no server type fits), and the app on Docker.
   */
  hetzner?: HetznerPlan;
  host?: HostPlan;
  app: AppPlan;
  /**
   * Stage 4 only: every node (the core node is the server above), the private network and Swarm's
   * settings, and the monthly total (src/plan/nodes.ts). Absent on stages 1-3.
   */
  cluster?: ClusterPlan;
  /**
   * Stage 4 only, when every node has a server type: the network, the worker nodes' servers and
   * host steps, and the Swarm's steps, as components/cluster.ts declares them (src/plan/swarm.ts).
   */
  clusterDeploy?: ClusterDeploy;
  warnings: string[];
  errors: string[];
  /** True when the plan can be deployed (no errors; warnings allowed). */
  deployable: boolean;
}

function redisChecks(cfg: StackConfig, services: ServicePlan[]): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const redis = services.find((s) => s.role === "redis")!;
  const configured = cfg.services.redis.maxmemoryMb;
  if (configured !== undefined) {
    if (configured >= redis.memoryMb) {
      errors.push(
        `services/redis/maxmemoryMb: should be below the container limit services/redis/memoryMb (${redis.memoryMb}) ` +
          `(got ${configured}); about half of it (${defaultMaxmemoryMb(redis.memoryMb)}) leaves room for the AOF rewrite's fork`,
      );
    } else if (configured > defaultMaxmemoryMb(redis.memoryMb)) {
      warnings.push(
        `services/redis/maxmemoryMb: ${configured} MB is more than half of the ${redis.memoryMb} MB container limit: ` +
          "an AOF rewrite forks and copy-on-write can push Redis over its limit into an OOM kill",
      );
    }
  }
  const policy = cfg.services.redis.maxmemoryPolicy;
  if (policy.startsWith("allkeys-")) {
    warnings.push(
      `services/redis/maxmemoryPolicy: ${policy} evicts any key under memory pressure, including queued RQ jobs, silently. ` +
        "RQ's Redis should use noeviction so a full Redis fails writes loudly instead",
    );
  }
  return { errors, warnings };
}

export interface PlanOptions {
  /**
   * The plan `pulumi up` runs (index.ts): what the program would refuse beyond the plan's own
   * checks is an error too. Today that is a missing botToken. The offline plan sees secrets only as
   * the stack file's `secure:` entries, and the shipped example stacks carry none, so there it
   * would be a warning on every fresh clone; it is checked only when asked for.
   */
  forDeploy?: boolean;
}

/** What `pulumi up` refuses that the offline plan cannot fix by itself: required secrets. */
export function deployProblems(cfg: StackConfig): string[] {
  const problems = cfg.secrets.botToken
    ? []
    : [
        "botToken: is required, and pulumi up refuses to run without it " +
          "(pulumi config set --secret botToken <token from @BotFather>)",
      ];
  // The local target has no host steps, and the parser refuses backup/* there.
  if (cfg.backup.enabled && cfg.target === "hetzner")
    for (const path of BACKUP_SECRET_PATHS)
      if (!cfg.secrets[path])
        problems.push(
          `${path}: is required when backup/enabled is true, and pulumi up refuses to run without it ` +
            `(pulumi config set --secret --path ${path.replace("/", ".")} <value>)`,
        );
  return problems;
}

/**
 * `deployed` is the stack's server as the Hetzner API reports it (undefined for a new stack and for
 * the offline plan): its type is kept while the requirements are unchanged, and its location and
 * architecture cannot change.
 */
/** The share of the server's disk the swapfile may take. */
export const MAX_SWAP_DISK_SHARE = 0.5;

export function makePlan(
  cfg: StackConfig,
  catalog: Catalog,
  deployed?: DeployedServer,
  opts: PlanOptions = {},
): Plan {
  const preset = STAGES[cfg.stage];
  const workers = cfg.workers ?? preset.workers;
  const local = cfg.target === "local";
  // A local Docker daemon gets no VM and no swapfile.
  const swapGb = local ? 0 : (cfg.swapGb ?? preset.swapGb);
  const services = planServices(cfg, workers, local || swapGb > 0);
  const errors: string[] = opts.forDeploy ? deployProblems(cfg) : [];
  const warnings: string[] = [];
  // Docker refuses a reservation above the limit. The parser refuses one above an explicit limit,
  // so what reaches here is above the default one.
  for (const role of SERVICE_NAMES) {
    const s = services.find((x) => x.role === role);
    if (s && s.memoryReservationMb > s.memoryMb) {
      errors.push(
        `services/${role}/reservationMb: should be at most services/${role}/memoryMb (${s.memoryMb}, the default) ` +
          `(got ${s.memoryReservationMb}); raise services/${role}/memoryMb or lower the reservation`,
      );
    }
  }
  const edge = planEdge(cfg);
  warnings.push(...edge.warnings);
  const redis = redisChecks(cfg, services);
  errors.push(...redis.errors);
  warnings.push(...redis.warnings);

  // Redis has an image of its own by default; the app's three share the example.
  for (const role of SERVICE_NAMES.filter((r) => r !== "redis")) {
    if (cfg.images[role] === EXAMPLE_IMAGE) {
      warnings.push(
        `images/${role}: still the example image ${EXAMPLE_IMAGE}: set your own (pulumi config set --path images.${role} <image>)`,
      );
    }
  }
  if (cfg.backup.enabled && cfg.backup.repository === EXAMPLE_BACKUP_REPOSITORY) {
    warnings.push(
      `backup/repository: still the example repository ${EXAMPLE_BACKUP_REPOSITORY}: set your own ` +
        "(pulumi config set --path backup.repository s3:https://<endpoint>/<bucket>/redis)",
    );
  }
  // The key promises an official 7.x tag; `redis:latest` would move under a running queue.
  const redisAdvice = redisImageAdvice(cfg.images.redis);
  if (redisAdvice) warnings.push(redisAdvice);
  let server: ServerChoice | undefined;
  let budget: Budget | undefined;
  if (!local) {
    const picked = selectServer(cfg, preset, catalog, deployed);
    errors.push(...picked.errors);
    warnings.push(...picked.warnings);
    server = picked.choice;
    if (server) {
      const input = {
        ramMb: server.memoryGb * 1024,
        swapMb: swapGb * 1024,
        systemReserveMb: cfg.systemReserveMb,
        backupMb: cfg.backup.enabled ? RESTIC_BUDGET_MB : 0,
        deployHeadroomMb: deployHeadroomMb(services),
        users: cfg.users,
        perUserMb: cfg.perUserMb,
        services,
        serverLabel: `${server.type} (${server.cores} vCPU, ${server.memoryGb} GB)`,
      };
      // The swapfile lives on the server's own disk, beside the OS, Docker's images and logs and
      // Redis' AOF: half the disk is the most it may take (review-newcomer row 18: 64 GB of swap on
      // an 80 GB disk was accepted).
      const maxSwapGb = Math.floor(server.diskGb * MAX_SWAP_DISK_SHARE);
      if (swapGb > maxSwapGb) {
        errors.push(
          `swapGb: should be at most ${maxSwapGb} (half of ${server.type}'s ${server.diskGb} GB disk, which also holds ` +
            `the OS, Docker's images and Redis' data) (got ${swapGb}); lower swapGb or raise server/diskGb`,
        );
      }
      const computed = computeBudget(input);
      const checked = checkBudget(computed, input);
      budget = { ...computed, notes: checked.notes };
      errors.push(...checked.errors);
      warnings.push(...checked.warnings);
      if (server.priceMonthlyEur === null) {
        warnings.push(
          `server: no price is known for ${server.type} in ${server.location} (${catalog.source})`,
        );
      }
    }
  }
  const cluster =
    cfg.stage === 4 && !local ? planCluster(cfg, catalog, { server, swapGb, services, budget }) : undefined;
  if (cluster) {
    errors.push(...cluster.errors);
    warnings.push(...cluster.warnings);
  }
  // Computed here, from the catalog the deploy itself uses, so the watchdog on the box names a
  // setting that changes the server today (issue 13: "move to the next stage" changed nothing).
  const sizing = { server, preset };
  const scaleUp = server && {
    memory: scaleUpAdvice(cfg, sizing, catalog, "memoryGb", deployed),
    cpu: scaleUpAdvice(cfg, sizing, catalog, "cores", deployed),
  };
  const decided = {
    server,
    swapGb,
    swappiness: cfg.swappiness,
    stage: cfg.stage,
    workers,
    services,
    scaleUp,
    edge,
  };
  return {
    stack: cfg.stack,
    target: cfg.target,
    preset,
    ...decided,
    budget,
    hetzner: server && planHetzner(cfg, server),
    // Stage 4: the core node's watchdog also watches its Swarm tasks and the swarm's nodes.
    host:
      server &&
      planHost(cluster ? { ...decided, node: coreWatchdogNode(cfg, cluster.cluster) } : decided, cfg),
    app: planApp(cfg, services, edge),
    ...(cluster ? { cluster: cluster.cluster } : {}),
    ...(cluster && cluster.cluster.nodes.every((n) => n.server)
      ? { clusterDeploy: planClusterDeploy(cfg, cluster.cluster) }
      : {}),
    warnings,
    errors,
    deployable: errors.length === 0,
  };
}
