// The Hetzner server-type catalog as the planner sees it, from either the bundled snapshot
// (offline `npm run plan`, tests) or the live API during `pulumi up/preview`.
import type { Architecture } from "../config/keys";
import snapshot from "./catalog/hetzner-server-types.json";

export interface CatalogLocation {
  name: string;
  available: boolean;
  /** Monthly net price in EUR; undefined when no source gives one. */
  priceMonthlyEur?: number;
}

export interface ServerType {
  name: string;
  cores: number;
  memoryGb: number;
  diskGb: number;
  architecture: Architecture;
  cpuType: string;
  deprecated: boolean;
  locations: CatalogLocation[];
}

export interface Catalog {
  /** Where the types and prices come from, shown in every report. */
  source: string;
  takenAt: string;
  live: boolean;
  types: ServerType[];
}

/** A server type as the bundled snapshot (catalog/hetzner-server-types.json) records it. */
/** The local target picks no server, so it needs no catalog (and no Hetzner token). */
export const NO_CATALOG: Catalog = { source: "none (local target)", takenAt: "", live: false, types: [] };

export interface SnapshotServerType extends Omit<ServerType, "locations"> {
  category: string;
  locations: SnapshotLocation[];
}

/** A server type's location in the snapshot: only the name is always recorded. */
export interface SnapshotLocation extends Partial<CatalogLocation> {
  name: string;
  deprecated?: boolean;
  estimated?: boolean;
}

interface SnapshotFile {
  source: string;
  takenAt: string;
  serverTypes: SnapshotServerType[];
}

/** The bundled snapshot's server types as the file has them (the emulator under test/ serves them). */
export function snapshotServerTypes(): SnapshotServerType[] {
  return (snapshot as unknown as SnapshotFile).serverTypes;
}

/** Whether a type can be ordered in a snapshot location: as recorded, else unless the type is deprecated. */
export function snapshotAvailable(
  t: Pick<SnapshotServerType, "deprecated">,
  l: Pick<SnapshotLocation, "available">,
): boolean {
  return l.available ?? !t.deprecated;
}

export function snapshotCatalog(): Catalog {
  const file = snapshot as unknown as SnapshotFile;
  return {
    source: `bundled snapshot (${file.source})`,
    takenAt: file.takenAt,
    live: false,
    types: file.serverTypes.map((t) => ({
      name: t.name,
      cores: t.cores,
      memoryGb: t.memoryGb,
      diskGb: t.diskGb,
      architecture: t.architecture,
      cpuType: t.cpuType,
      deprecated: t.deprecated,
      locations: t.locations.map((l) => ({
        name: l.name,
        available: snapshotAvailable(t, l),
        priceMonthlyEur: l.priceMonthlyEur,
      })),
    })),
  };
}

/** The shape `hcloud.getServerTypes()` returns (only the fields we use). */
export interface LiveServerType {
  name: string;
  cores: number;
  memory: number;
  disk: number;
  architecture: string;
  cpuType: string;
  isDeprecated: boolean;
  locations: { name: string; available?: boolean; isDeprecated?: boolean }[];
}

/** Live prices from `GET /v1/pricing`: server type → location → monthly net EUR. */
export type LivePrices = Record<string, Record<string, number>>;

/**
 * Merges the live type list with live prices. Where the pricing API was not reachable, the
 * snapshot's price is used and the source says so: getServerTypes carries no prices.
 */
export function liveCatalog(
  types: LiveServerType[],
  prices: LivePrices | undefined,
  fallback: Catalog,
  now: string,
): Catalog {
  const fallbackPrice = (type: string, location: string) =>
    fallback.types.find((t) => t.name === type)?.locations.find((l) => l.name === location)?.priceMonthlyEur;
  return {
    source: prices
      ? "Hetzner Cloud API (server types and /v1/pricing)"
      : `Hetzner Cloud API (server types); prices from the ${fallback.source}, ${fallback.takenAt}`,
    takenAt: now,
    live: true,
    types: types.map((t) => ({
      name: t.name,
      cores: t.cores,
      memoryGb: t.memory,
      diskGb: t.disk,
      architecture: t.architecture === "arm" ? "arm" : "x86",
      cpuType: t.cpuType,
      deprecated: t.isDeprecated || (t.locations.length > 0 && t.locations.every((l) => l.isDeprecated)),
      locations: t.locations.map((l) => ({
        name: l.name,
        available: (l.available ?? true) && !l.isDeprecated,
        priceMonthlyEur: prices?.[t.name]?.[l.name] ?? fallbackPrice(t.name, l.name),
      })),
    })),
  };
}

/** Parses the body of Hetzner's `GET /v1/pricing` into LivePrices (net monthly, per location). */
export function parsePricing(body: unknown): LivePrices {
  const out: LivePrices = {};
  const serverTypes = (body as { pricing?: { server_types?: unknown } })?.pricing?.server_types;
  if (!Array.isArray(serverTypes)) throw new Error("pricing: response has no pricing.server_types list");
  for (const st of serverTypes as {
    name?: string;
    prices?: { location?: string; price_monthly?: { net?: string } }[];
  }[]) {
    if (!st.name || !Array.isArray(st.prices)) continue;
    for (const p of st.prices) {
      const net = Number(p.price_monthly?.net);
      if (p.location && Number.isFinite(net)) (out[st.name] ??= {})[p.location] = Math.round(net * 100) / 100;
    }
  }
  return out;
}
