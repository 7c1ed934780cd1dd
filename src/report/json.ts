// The plan as one JSON document: what `npm run plan -- --json` prints and the stack exports.
// With the parsed config it also carries every resolved setting, the firewall, the monthly cost and
// the scaling outlook, so a comparison with another plan (src/plan/impact.ts) misses no change.
import type { StackConfig } from "../config/types";
import { monthlyCost, scaling } from "../plan/advice";
import type { Budget } from "../plan/budget";
import type { Catalog } from "../plan/catalog";
import { resolveFirewall, resolveSettings, type Change, type PlanView } from "../plan/impact";
import type { ClusterPlan, NodeRole } from "../plan/nodes";
import type { Plan } from "../plan/plan";
import type { DeployedServer } from "../plan/server";

/**
 * The document itself: the fields a comparison reads (PlanView, src/plan/impact.ts), declared there
 * once, and what only the report carries.
 */
export interface PlanJson extends PlanView {
  deployable: boolean;
  server:
    (NonNullable<PlanView["server"]> & { pinned: boolean; catalog: string; catalogTakenAt: string }) | null;
  requirements: NonNullable<PlanView["requirements"]> | null;
  /** The budget without swapPercent, which is Infinity (not JSON) when there is no swap. */
  budget: Omit<Budget, "swapPercent"> | null;
  warnings: string[];
  errors: string[];
  /** Stage 4 only: the nodes, each with its server, services and budget; the network; the total. */
  cluster?: ClusterJson;
  /** With --before: what it was compared with, and what the change does. */
  comparedWith?: ComparedWith;
  changes?: Change[];
}

export interface NodeJson {
  name: string;
  role: NodeRole;
  privateIp: string;
  server: {
    type: string;
    cores: number;
    memoryGb: number;
    diskGb: number;
    priceMonthlyEur: number | null;
  } | null;
  /** Server, IPv4 and (core only) backups; null when a price is unknown. */
  monthlyEur: number | null;
  swapGb: number;
  /** The containers (on stage 4: Swarm tasks) this node runs. */
  services: string[];
  budget: { ramMb: number; totalMb: number; ramPercent: number; limitsMb: number } | null;
}

export interface ClusterJson {
  network: ClusterPlan["network"];
  swarm: ClusterPlan["swarm"];
  nodes: NodeJson[];
  totalMonthlyEur: number | null;
}

function clusterToJson(c: ClusterPlan): ClusterJson {
  return {
    network: c.network,
    swarm: c.swarm,
    nodes: c.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      privateIp: n.privateIp,
      server: n.server
        ? {
            type: n.server.type,
            cores: n.server.cores,
            memoryGb: n.server.memoryGb,
            diskGb: n.server.diskGb,
            priceMonthlyEur: n.server.priceMonthlyEur,
          }
        : null,
      monthlyEur: n.monthlyEur,
      swapGb: n.swapGb,
      services: n.services.map((s) => s.name),
      budget: n.budget
        ? {
            ramMb: n.budget.ramMb,
            totalMb: n.budget.totalMb,
            ramPercent: n.budget.ramPercent,
            limitsMb: n.budget.limitsMb,
          }
        : null,
    })),
    totalMonthlyEur: c.totalMonthlyEur,
  };
}

export interface ComparedWith {
  /** The file or `git <ref>` given to --before. */
  source: string;
  /** False when the base has no plan to compare with (its config was refused, or its stack file is absent). */
  planned: boolean;
  /** Why the base has no plan. */
  problems: string[];
}

/** The config and catalog the plan was made from: they add settings, firewall, cost and scaling. */
export interface PlanContext {
  cfg: StackConfig;
  catalog: Catalog;
  deployed?: DeployedServer;
}

export function planToJson(plan: Plan, ctx?: PlanContext): PlanJson {
  const s = plan.server;
  const b = plan.budget;
  return {
    stack: plan.stack,
    stage: plan.stage,
    target: plan.target,
    deployable: plan.deployable,
    server: s
      ? {
          type: s.type,
          cores: s.cores,
          memoryGb: s.memoryGb,
          diskGb: s.diskGb,
          architecture: s.architecture,
          location: s.location,
          priceMonthlyEur: s.priceMonthlyEur,
          pinned: s.pinned,
          catalog: s.catalogSource,
          catalogTakenAt: s.catalogTakenAt,
        }
      : null,
    requirements: s
      ? { cores: s.requirements.cores, memoryGb: s.requirements.memoryGb, diskGb: s.requirements.diskGb }
      : null,
    swapGb: plan.swapGb,
    workers: plan.workers,
    services: plan.services.map((x) => ({
      name: x.name,
      image: x.image,
      command: x.command ?? null,
      memoryMb: x.memoryMb,
      memoryReservationMb: x.memoryReservationMb,
      memorySwapMb: x.memorySwapMb,
      swapMb: x.swapMb,
      restart: x.restart,
    })),
    budget: b ? (({ swapPercent: _, ...rest }) => rest)(b) : null,
    ...(plan.cluster ? { cluster: clusterToJson(plan.cluster) } : {}),
    warnings: plan.warnings,
    errors: plan.errors,
    ...(ctx ? contextFields(plan, ctx) : {}),
  };
}

function contextFields(plan: Plan, { cfg, catalog, deployed }: PlanContext) {
  const hetzner = plan.target !== "local";
  return {
    settings: resolveSettings(cfg, plan),
    firewall: hetzner ? resolveFirewall(cfg) : null,
    cost: plan.server ? monthlyCost(plan.server, cfg.server.backups) : null,
    scaling: plan.server ? scaling(cfg, plan, catalog, deployed) : null,
  };
}
