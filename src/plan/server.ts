// Which Hetzner server type a stage gets: the cheapest available, non-deprecated type in the
// location that meets the stage's requirements, or the pinned `server/type` if it meets them.
import type { StackConfig } from "../config/types";
import type { Catalog, ServerType } from "./catalog";
import type { StagePreset } from "./stages";

export interface Requirements {
  cores: number;
  memoryGb: number;
  diskGb: number;
  architecture: "x86" | "arm";
  location: string;
}

export interface ServerChoice {
  type: string;
  cores: number;
  memoryGb: number;
  diskGb: number;
  architecture: "x86" | "arm";
  cpuType: string;
  location: string;
  priceMonthlyEur: number | null;
  pinned: boolean;
  requirements: Requirements;
  catalogSource: string;
  catalogTakenAt: string;
}

export function requirementsFor(cfg: StackConfig, preset: StagePreset): Requirements {
  return {
    cores: cfg.server.cores ?? preset.minCores,
    memoryGb: cfg.server.memoryGb ?? preset.minMemoryGb,
    diskGb: cfg.server.diskGb ?? preset.minDiskGb,
    architecture: cfg.server.architecture,
    location: cfg.location,
  };
}

/** Each failed requirement in words, naming the key that sets it. */
function shortfalls(t: ServerType, req: Requirements, stage: number): string[] {
  const out: string[] = [];
  if (t.cores < req.cores) out.push(`has ${t.cores} vCPU but stage ${stage} needs at least ${req.cores} (server/cores)`);
  if (t.memoryGb < req.memoryGb) out.push(`has ${t.memoryGb} GB RAM but stage ${stage} needs at least ${req.memoryGb} (server/memoryGb)`);
  if (t.diskGb < req.diskGb) out.push(`has ${t.diskGb} GB disk but stage ${stage} needs at least ${req.diskGb} (server/diskGb)`);
  if (t.architecture !== req.architecture) out.push(`is ${t.architecture} but server/architecture is ${req.architecture}`);
  return out;
}

function priceIn(t: ServerType, location: string): number | undefined {
  return t.locations.find((l) => l.name === location)?.priceMonthlyEur;
}

function orderable(t: ServerType, location: string): boolean {
  return !t.deprecated && t.locations.some((l) => l.name === location && l.available);
}

function choice(t: ServerType, req: Requirements, pinned: boolean, catalog: Catalog): ServerChoice {
  return {
    type: t.name,
    cores: t.cores,
    memoryGb: t.memoryGb,
    diskGb: t.diskGb,
    architecture: t.architecture,
    cpuType: t.cpuType,
    location: req.location,
    priceMonthlyEur: priceIn(t, req.location) ?? null,
    pinned,
    requirements: req,
    catalogSource: catalog.source,
    catalogTakenAt: catalog.takenAt,
  };
}

/** Orders candidates: price first (unknown last), then the smaller box, then the name for stability. */
function cheapestFirst(location: string) {
  return (a: ServerType, b: ServerType) =>
    (priceIn(a, location) ?? Infinity) - (priceIn(b, location) ?? Infinity) ||
    a.cores - b.cores ||
    a.memoryGb - b.memoryGb ||
    a.name.localeCompare(b.name);
}

export function selectServer(
  cfg: StackConfig,
  preset: StagePreset,
  catalog: Catalog,
): { choice: ServerChoice; errors: [] } | { choice?: undefined; errors: string[] } {
  const req = requirementsFor(cfg, preset);
  const here = catalog.types.filter((t) => orderable(t, req.location)).sort(cheapestFirst(req.location));
  const pinnedName = cfg.server.type;
  if (pinnedName !== undefined) {
    const t = catalog.types.find((x) => x.name === pinnedName);
    if (!t) {
      return { errors: [`server/type: "${pinnedName}" is not a Hetzner server type (orderable in ${req.location}: ${here.map((x) => x.name).join(", ")})`] };
    }
    if (t.deprecated) {
      return {
        errors: [
          `server/type: "${pinnedName}" is deprecated by Hetzner and can no longer be ordered or rescaled to ` +
            `(orderable in ${req.location}: ${here.map((x) => x.name).join(", ")})`,
        ],
      };
    }
    if (!orderable(t, req.location)) {
      const where = t.locations.filter((l) => l.available).map((l) => l.name);
      return { errors: [`server/type: "${pinnedName}" is not available in location ${req.location} (it is in: ${where.join(", ") || "none"})`] };
    }
    const missing = shortfalls(t, req, preset.stage);
    if (missing.length > 0) return { errors: missing.map((m) => `server/type: "${pinnedName}" ${m}`) };
    return { choice: choice(t, req, true, catalog), errors: [] };
  }
  const fits = here.filter((t) => shortfalls(t, req, preset.stage).length === 0);
  if (fits.length === 0) {
    return {
      errors: [
        `server: no orderable ${req.architecture} server type in ${req.location} has at least ${req.cores} vCPU, ` +
          `${req.memoryGb} GB RAM and ${req.diskGb} GB disk (catalog: ${catalog.source}, ${catalog.takenAt}); ` +
          "lower server/cores, server/memoryGb or server/diskGb, or change location or server/architecture",
      ],
    };
  }
  return { choice: choice(fits[0]!, req, false, catalog), errors: [] };
}
