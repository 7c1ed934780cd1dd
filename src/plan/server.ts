// Which Hetzner server type a stage gets: the cheapest available, non-deprecated type in the
// location that meets the stage's requirements, or the pinned `server/type` if it meets them.
//
// Sticky: once a server is deployed, its type is kept for as long as the requirements it was chosen
// for are unchanged (the server carries them as a label), whether or not Hetzner can sell that type
// today. A stock-out or a price change must not rescale a running box during an unrelated deploy:
// a rescale powers it off (terraform-provider-hcloud internal/server/resource.go, Poweroff then
// ChangeType). Only a change of requirements (stage, server/cores, …) picks again, and only then
// must the new type be orderable. A deployed server's location and architecture cannot change in
// place at all (location is ForceNew: a new, empty server; Hetzner refuses change_type across
// architectures), so the plan refuses both before anything is touched.
import type { Architecture } from "../config/keys";
import type { StackConfig } from "../config/types";
import type { Catalog, ServerType } from "./catalog";
import type { StagePreset } from "./stages";

export interface Requirements {
  cores: number;
  memoryGb: number;
  diskGb: number;
  architecture: Architecture;
  location: string;
}

export interface ServerChoice {
  type: string;
  cores: number;
  memoryGb: number;
  diskGb: number;
  architecture: Architecture;
  cpuType: string;
  location: string;
  priceMonthlyEur: number | null;
  pinned: boolean;
  requirements: Requirements;
  /** The requirements as a Hetzner label value: the server carries it, so the next run can tell. */
  requirementsLabel: string;
  /** True when this is the deployed server's type, kept because the requirements did not change. */
  kept: boolean;
  catalogSource: string;
  catalogTakenAt: string;
}

/** What the Hetzner API says about the stack's server, if it exists (see src/live/deployed.ts). */
export interface DeployedServer {
  name: string;
  type: string;
  location: string;
  /** The `requirements` label written by an earlier run; absent on servers made before it existed. */
  requirements?: string;
}

/** The label key on the server that records `requirementsLabel`. */
export const REQUIREMENTS_LABEL = "requirements";

/**
 * Requirements as a label value: Hetzner label values are at most 63 characters of [A-Za-z0-9._-],
 * starting and ending alphanumeric (docs.hetzner.cloud, "Labels").
 */
export function requirementsLabel(req: Requirements): string {
  return `${req.cores}c-${req.memoryGb}g-${req.diskGb}d-${req.architecture}`;
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

/**
 * Which server is being chosen, in the words and keys the messages use: the stack's one server
 * (or stage 4's core node), or a stage-4 worker node (src/plan/nodes.ts).
 */
export interface ServerRole {
  /** Who needs the requirements, e.g. "stage 2" or "a stage-4 worker node". */
  who: string;
  /** What a message about the choice as a whole starts with: `server`, or `workerNode`. */
  subject: string;
  /** The keys that set each requirement and the pinned type. */
  keys: { type: string; cores: string; memoryGb: string; diskGb: string };
  /** The pinned type, if any. */
  pinned?: string;
  requirements: Requirements;
}

/** The stack's own server: requirements from the stage preset and server/*. */
export function oneBoxRole(cfg: StackConfig, preset: StagePreset): ServerRole {
  return {
    who: `stage ${preset.stage}`,
    subject: "server",
    keys: {
      type: "server/type",
      cores: "server/cores",
      memoryGb: "server/memoryGb",
      diskGb: "server/diskGb",
    },
    pinned: cfg.server.type,
    requirements: requirementsFor(cfg, preset),
  };
}

/** Each failed requirement in words, naming the key that sets it. */
function shortfalls(t: ServerType, req: Requirements, role: ServerRole): string[] {
  const out: string[] = [];
  const { who, keys } = role;
  if (t.cores < req.cores)
    out.push(`has ${t.cores} vCPU but ${who} needs at least ${req.cores} (${keys.cores})`);
  if (t.memoryGb < req.memoryGb)
    out.push(`has ${t.memoryGb} GB RAM but ${who} needs at least ${req.memoryGb} (${keys.memoryGb})`);
  if (t.diskGb < req.diskGb)
    out.push(`has ${t.diskGb} GB disk but ${who} needs at least ${req.diskGb} (${keys.diskGb})`);
  if (t.architecture !== req.architecture)
    out.push(`is ${t.architecture} but server/architecture is ${req.architecture}`);
  return out;
}

function priceIn(t: ServerType, location: string): number | undefined {
  return t.locations.find((l) => l.name === location)?.priceMonthlyEur;
}

function orderable(t: ServerType, location: string): boolean {
  return !t.deprecated && t.locations.some((l) => l.name === location && l.available);
}

function choice(
  t: ServerType,
  req: Requirements,
  pinned: boolean,
  catalog: Catalog,
  kept = false,
): ServerChoice {
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
    requirementsLabel: requirementsLabel(req),
    kept,
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

export type Selection =
  | { choice: ServerChoice; errors: []; warnings: string[] }
  | { choice?: undefined; errors: string[]; warnings: string[] };

/** Refusals for changes Hetzner cannot make to a deployed server in place. */
function immovable(req: Requirements, deployed: DeployedServer, catalog: Catalog): string[] {
  const errors: string[] = [];
  if (deployed.location !== req.location) {
    errors.push(
      `location: "${req.location}" differs from the location of the deployed server ${deployed.name} (${deployed.location}). ` +
        "Hetzner cannot move a server, and a new one would start empty, without Redis' queue. " +
        `Set location back to "${deployed.location}" (pulumi config set location ${deployed.location}), ` +
        `or deploy ${req.location} as a new stack and move the data over`,
    );
  }
  const t = catalog.types.find((x) => x.name === deployed.type);
  if (t && t.architecture !== req.architecture) {
    errors.push(
      `server/architecture: "${req.architecture}" differs from the deployed server ${deployed.name} (${deployed.type}, ${t.architecture}). ` +
        "Hetzner cannot rescale a server across architectures, and the images would have to be rebuilt. " +
        `Set server/architecture back to "${t.architecture}" (pulumi config set --path server.architecture ${t.architecture}), ` +
        "or deploy the other architecture as a new stack",
    );
  }
  return errors;
}

export function selectServer(
  cfg: StackConfig,
  preset: StagePreset,
  catalog: Catalog,
  deployed?: DeployedServer,
  role: ServerRole = oneBoxRole(cfg, preset),
): Selection {
  const req = role.requirements;
  const typeKey = role.keys.type;
  const warnings: string[] = [];
  if (deployed) {
    const refused = immovable(req, deployed, catalog);
    if (refused.length > 0) return { errors: refused, warnings };
  }
  const here = catalog.types.filter((t) => orderable(t, req.location)).sort(cheapestFirst(req.location));
  const deployedType = deployed && catalog.types.find((x) => x.name === deployed.type);
  const pinnedName = role.pinned;
  if (pinnedName !== undefined) {
    const t = catalog.types.find((x) => x.name === pinnedName);
    if (!t) {
      return {
        errors: [
          `${typeKey}: "${pinnedName}" is not a Hetzner server type (orderable in ${req.location}: ${here.map((x) => x.name).join(", ")})`,
        ],
        warnings,
      };
    }
    const missing = shortfalls(t, req, role);
    if (missing.length > 0)
      return { errors: missing.map((m) => `${typeKey}: "${pinnedName}" ${m}`), warnings };
    if (deployed?.type === pinnedName) {
      // Already running: nothing is ordered, so today's stock does not matter.
      if (!orderable(t, req.location)) {
        warnings.push(
          `${typeKey}: "${pinnedName}" cannot be ordered in ${req.location} today (${t.deprecated ? "deprecated" : "out of stock"}); ` +
            `the deployed server ${deployed.name} keeps it, but a rescale to it or a new server would fail`,
        );
      }
      return { choice: choice(t, req, true, catalog, true), errors: [], warnings };
    }
    if (t.deprecated) {
      return {
        errors: [
          `${typeKey}: "${pinnedName}" is deprecated by Hetzner and can no longer be ordered or rescaled to ` +
            `(orderable in ${req.location}: ${here.map((x) => x.name).join(", ")})`,
        ],
        warnings,
      };
    }
    if (!orderable(t, req.location)) {
      const where = t.locations.filter((l) => l.available).map((l) => l.name);
      return {
        errors: [
          `${typeKey}: "${pinnedName}" is not available in location ${req.location} (it is in: ${where.join(", ") || "none"})`,
        ],
        warnings,
      };
    }
    return { choice: choice(t, req, true, catalog), errors: [], warnings };
  }
  // Sticky: the requirements are the ones the deployed type was chosen for (or the server predates
  // the label), and it still meets them.
  const sameRequirements =
    deployed !== undefined &&
    (deployed.requirements === undefined || deployed.requirements === requirementsLabel(req));
  if (deployedType && sameRequirements && shortfalls(deployedType, req, role).length === 0) {
    if (!orderable(deployedType, req.location)) {
      warnings.push(
        `server: the deployed ${deployedType.name} cannot be ordered in ${req.location} today (${deployedType.deprecated ? "deprecated" : "out of stock"}); ` +
          `kept, since ${role.who}'s requirements did not change`,
      );
    }
    return { choice: choice(deployedType, req, false, catalog, true), errors: [], warnings };
  }
  const fits = here.filter((t) => shortfalls(t, req, role).length === 0);
  if (fits.length === 0) {
    return {
      errors: [
        `${role.subject}: no orderable ${req.architecture} server type in ${req.location} has at least ${req.cores} vCPU, ` +
          `${req.memoryGb} GB RAM and ${req.diskGb} GB disk (catalog: ${catalog.source}, ${catalog.takenAt}); ` +
          `lower ${role.keys.cores}, ${role.keys.memoryGb} or ${role.keys.diskGb}, or change location or server/architecture`,
      ],
      warnings,
    };
  }
  return { choice: choice(fits[0]!, req, false, catalog), errors: [], warnings };
}
