// What a stack costs each month and what to change when it runs short: the next size up and the
// setting that gets it, what each stage would plan on today's catalog, and why swap shrinks after
// stage 1. Pure: the catalog is passed in; the server choice goes through selectServer, so advice and
// plan can never pick different types.
import type { StackConfig } from "../config/types";
import type { Catalog } from "./catalog";
import { snapshotServerTypes } from "./catalog";
import type { Plan } from "./plan";
import { selectServer, type DeployedServer, type ServerChoice } from "./server";
import { ONE_BOX_STAGES, STAGES, type Stage } from "./stages";

/**
 * Hetzner's primary IPv4, net EUR a month. The catalog's prices exclude it: the snapshot's
 * `priceBasis` says "primary IPv4 not included (add about EUR 0.50/month for a primary IPv4)", and its
 * `sourceDetail` derives the website figures as "minus EUR 0.50 for the primary IPv4", a rule the
 * five types present in both of its sources agree on exactly (src/plan/catalog/hetzner-server-types.json).
 */
export const PRIMARY_IPV4_MONTHLY_EUR = 0.5;

/**
 * Hetzner's backups cost 20 % of the server's price (docs.hetzner.com, Cloud → Servers → "Backups
 * and snapshots"; also the `server/backups` key's own description).
 */
export const BACKUP_SHARE = 0.2;

export interface MonthlyCost {
  serverEur: number | null;
  ipv4Eur: number;
  /** 20 % of the server price when backups are on, else 0. */
  backupsEur: number | null;
  /** Server + IPv4 + backups, net of VAT; null when the server's price is unknown. */
  totalEur: number | null;
  /** True when the catalog carries an estimate for this type and location, not a published price. */
  estimated: boolean;
}

const cents = (v: number) => Math.round(v * 100) / 100;

/**
 * Whether the bundled snapshot marks this type's price in this location as an estimate. Only a
 * catalog whose prices come from the snapshot can say so (the live pricing API is exact).
 */
export function priceIsEstimated(catalogSource: string, type: string, location: string): boolean {
  if (!catalogSource.includes("bundled snapshot")) return false;
  const t = snapshotServerTypes().find((x) => x.name === type);
  return t?.locations.find((l) => l.name === location)?.estimated === true;
}

export function monthlyCost(
  server: Pick<ServerChoice, "type" | "location" | "priceMonthlyEur" | "catalogSource">,
  backups: boolean,
): MonthlyCost {
  const price = server.priceMonthlyEur;
  const backupsEur = !backups ? 0 : price === null ? null : cents(price * BACKUP_SHARE);
  return {
    serverEur: price,
    ipv4Eur: PRIMARY_IPV4_MONTHLY_EUR,
    backupsEur,
    totalEur:
      price === null || backupsEur === null ? null : cents(price + PRIMARY_IPV4_MONTHLY_EUR + backupsEur),
    estimated: priceIsEstimated(server.catalogSource, server.type, server.location),
  };
}

/** A type that a single setting would get, and that setting. */
export interface SizeStep {
  /** The config key to set, e.g. `server/memoryGb`. */
  key: string;
  value: number | string;
  type: string;
  cores: number;
  memoryGb: number;
  diskGb: number;
  monthly: MonthlyCost;
}

export interface StageOutlook {
  stage: Stage;
  type: string | null;
  cores: number | null;
  memoryGb: number | null;
  swapGb: number;
  workers: number;
  monthlyTotalEur: number | null;
}

export interface Scaling {
  /** What each stage would plan with this stack's other settings, on this catalog. */
  stages: StageOutlook[];
  /** The smallest step up in RAM, and the key that gets it; null when nothing bigger is orderable. */
  nextSizeUp: SizeStep | null;
  /** The same for vCPUs (may be the same type). */
  moreCores: SizeStep | null;
  /** Why the swapfile is the size it is at this stage. */
  swapNote: string;
}

/** The swapfile per stage, in words: the stage table's 4 → 2 → 2 GB is deliberate. */
export function swapNote(stage: Stage, swapGb: number, presetSwapGb: number): string {
  if (swapGb !== presetSwapGb)
    return `swapGb is set to ${swapGb} GB (stage ${stage}'s preset is ${presetSwapGb} GB)`;
  if (stage === 1) {
    return (
      `${swapGb} GB: stage 1 is the note's 3 GB box, which it runs at 92–102 % of RAM, so it takes the top of the ` +
      'note\'s "swap 2–4 GB"; from stage 2 on there is more RAM and swap is only a reserve (2 GB)'
    );
  }
  return (
    `${swapGb} GB: from stage 2 on the note asks for more RAM and keeps swap "as reserve", so the swapfile ` +
    "shrinks from stage 1's 4 GB (which served a box at 92–102 % of its RAM); raise swapGb to keep more"
  );
}

/** What a size step depends on: the plan's server and stage preset. */
type SizingInput = Pick<Plan, "server" | "preset">;

function stepFor(
  cfg: StackConfig,
  plan: SizingInput,
  catalog: Catalog,
  key: "server/memoryGb" | "server/cores" | "server/type",
  value: number | string,
  deployed?: DeployedServer,
): SizeStep | null {
  const server =
    key === "server/type"
      ? { ...cfg.server, type: String(value) }
      : { ...cfg.server, type: undefined, [key === "server/memoryGb" ? "memoryGb" : "cores"]: Number(value) };
  const picked = selectServer({ ...cfg, server }, plan.preset, catalog, deployed);
  if (!picked.choice) return null;
  const c = picked.choice;
  return {
    key,
    value,
    type: c.type,
    cores: c.cores,
    memoryGb: c.memoryGb,
    diskGb: c.diskGb,
    monthly: monthlyCost(c, cfg.server.backups),
  };
}

/**
 * The next size up from the plan's server along one dimension: the smallest orderable value above
 * the current one, in the same location and architecture, set through the key that the user would
 * change (`server/type` when a type is pinned).
 */
function nextStep(
  cfg: StackConfig,
  plan: SizingInput,
  catalog: Catalog,
  dim: "memoryGb" | "cores",
  deployed?: DeployedServer,
): SizeStep | null {
  const s = plan.server;
  if (!s) return null;
  const bigger = catalog.types
    .filter(
      (t) =>
        !t.deprecated &&
        t.architecture === s.architecture &&
        t.locations.some((l) => l.name === s.location && l.available) &&
        t[dim] > s[dim] &&
        t.cores >= s.cores &&
        t.memoryGb >= s.memoryGb &&
        t.diskGb >= s.requirements.diskGb,
    )
    .map((t) => t[dim]);
  if (bigger.length === 0) return null;
  const value = Math.min(...bigger);
  if (cfg.server.type !== undefined) {
    // Pinned: the advice is the type itself, the cheapest one with that much.
    const candidates = catalog.types
      .filter(
        (t) =>
          !t.deprecated &&
          t.architecture === s.architecture &&
          t[dim] === value &&
          t.locations.some((l) => l.name === s.location && l.available),
      )
      .sort(
        (a, b) =>
          (a.locations.find((l) => l.name === s.location)?.priceMonthlyEur ?? Infinity) -
            (b.locations.find((l) => l.name === s.location)?.priceMonthlyEur ?? Infinity) ||
          a.name.localeCompare(b.name),
      );
    return candidates[0] ? stepFor(cfg, plan, catalog, "server/type", candidates[0].name, deployed) : null;
  }
  return stepFor(
    cfg,
    plan,
    catalog,
    dim === "memoryGb" ? "server/memoryGb" : "server/cores",
    value,
    deployed,
  );
}

export function stageOutlook(cfg: StackConfig, catalog: Catalog, deployed?: DeployedServer): StageOutlook[] {
  return ONE_BOX_STAGES.map((stage) => {
    const preset = STAGES[stage];
    const local = cfg.target === "local";
    const picked = local ? undefined : selectServer({ ...cfg, stage }, preset, catalog, deployed).choice;
    return {
      stage,
      type: picked?.type ?? null,
      cores: picked?.cores ?? null,
      memoryGb: picked?.memoryGb ?? null,
      swapGb: local ? 0 : (cfg.swapGb ?? preset.swapGb),
      workers: cfg.workers ?? preset.workers,
      monthlyTotalEur: picked ? monthlyCost(picked, cfg.server.backups).totalEur : null,
    };
  });
}

export function scaling(cfg: StackConfig, plan: Plan, catalog: Catalog, deployed?: DeployedServer): Scaling {
  return {
    stages: stageOutlook(cfg, catalog, deployed),
    nextSizeUp: nextStep(cfg, plan, catalog, "memoryGb", deployed),
    moreCores: nextStep(cfg, plan, catalog, "cores", deployed),
    swapNote: swapNote(plan.stage, plan.swapGb, plan.preset.swapGb),
  };
}

export const euro = (v: number | null) => (v === null ? "price unknown" : `€${v.toFixed(2)}/month`);

/** `set server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4` */
export function describeStep(step: SizeStep): string {
  const extras = step.monthly.backupsEur ? "IPv4 and backups" : "IPv4";
  return (
    `set ${step.key} ${step.value} → ${step.type} (${step.cores} vCPU, ${step.memoryGb} GB RAM), ` +
    `${euro(step.monthly.totalEur)} incl. ${extras}${step.monthly.estimated ? " (estimate)" : ""}`
  );
}

/**
 * The watchdog's advice when the box runs short of memory or CPU: one concrete setting that changes
 * the server on this catalog, with the command. Replaces "move to the next stage", which on today's
 * EU catalog plans the same type at every stage. Safe inside the watchdog env file's single quotes
 * (no `'`). `dim` is what ran short.
 */
export function scaleUpAdvice(
  cfg: StackConfig,
  plan: SizingInput,
  catalog: Catalog,
  dim: "memoryGb" | "cores" = "memoryGb",
  deployed?: DeployedServer,
): string {
  if (!plan.server) return "raise the memory limits of the busy containers (services/<service>/memoryMb)";
  const step = nextStep(cfg, plan, catalog, dim, deployed);
  const stackFlag = ` -s ${cfg.stack}`;
  if (!step) {
    return (
      `${plan.server.type} is the largest orderable ${plan.server.architecture} type in ${plan.server.location} on this catalog: ` +
      "consider a second server for the workers (horizontal scaling)"
    );
  }
  // Every step's key is nested (server/…), hence --path.
  const path = step.key.replace(/\//g, ".");
  return `${describeStep(step)} (\`pulumi config set --path ${path} ${step.value}${stackFlag} && pulumi up${stackFlag}\`)`;
}
