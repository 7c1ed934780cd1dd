// The emulator's static world: locations, datacenters, images, and the server types and prices of
// the project's own snapshot (src/plan/catalog/hetzner-server-types.json), so planner and emulator
// share one source. Stock-outs and price changes are set at run time through the control API.
//
// JSON shapes follow hcloud-go v2.35.0 (the version terraform-provider-hcloud v1.59.0 pins in its
// go.mod) hcloud/schema/{location,datacenter,server_type,image,pricing,deprecation}.go, plus the
// two fields v2.53.0 added to a server type's location (`available`, `recommended`;
// hcloud/schema/server_type.go), which older clients ignore.
import {
  snapshotAvailable,
  snapshotServerTypes,
  type CatalogLocation,
  type SnapshotServerType,
} from "../../src/plan/catalog";

// Locations and datacenters: names, cities, coordinates and network zones as Hetzner lists them
// publicly; the IDs are the emulator's own (nothing depends on Hetzner's numbers).
export const LOCATIONS = [
  {
    id: 1,
    name: "fsn1",
    description: "Falkenstein DC Park 1",
    country: "DE",
    city: "Falkenstein",
    latitude: 50.47612,
    longitude: 12.370071,
    network_zone: "eu-central",
  },
  {
    id: 2,
    name: "nbg1",
    description: "Nuremberg DC Park 1",
    country: "DE",
    city: "Nuremberg",
    latitude: 49.452102,
    longitude: 11.076665,
    network_zone: "eu-central",
  },
  {
    id: 3,
    name: "hel1",
    description: "Helsinki DC Park 1",
    country: "FI",
    city: "Helsinki",
    latitude: 60.169855,
    longitude: 24.938379,
    network_zone: "eu-central",
  },
  {
    id: 4,
    name: "ash",
    description: "Ashburn, VA",
    country: "US",
    city: "Ashburn, VA",
    latitude: 39.045821,
    longitude: -77.487073,
    network_zone: "us-east",
  },
  {
    id: 5,
    name: "hil",
    description: "Hillsboro, OR",
    country: "US",
    city: "Hillsboro, OR",
    latitude: 45.54222,
    longitude: -122.951924,
    network_zone: "us-west",
  },
  {
    id: 6,
    name: "sin",
    description: "Singapore",
    country: "SG",
    city: "Singapore",
    latitude: 1.283333,
    longitude: 103.833333,
    network_zone: "ap-southeast",
  },
] as const;
export type Location = (typeof LOCATIONS)[number];

const DATACENTER_NAMES: Record<string, string> = {
  fsn1: "fsn1-dc14",
  nbg1: "nbg1-dc3",
  hel1: "hel1-dc2",
  ash: "ash-dc1",
  hil: "hil-dc1",
  sin: "sin-dc1",
};

// Images the provider may ask for by name and architecture (Image.GetForArchitecture lists
// `images?name=…&architecture=…&include_deprecated=true`). The qemu backend boots the lab's
// Debian image whatever is asked for; the name is what the API reports.
export const IMAGES = [
  {
    id: 101,
    name: "ubuntu-24.04",
    description: "Ubuntu 24.04",
    os_flavor: "ubuntu",
    os_version: "24.04",
    architecture: "x86",
  },
  {
    id: 102,
    name: "ubuntu-24.04",
    description: "Ubuntu 24.04",
    os_flavor: "ubuntu",
    os_version: "24.04",
    architecture: "arm",
  },
  {
    id: 103,
    name: "ubuntu-22.04",
    description: "Ubuntu 22.04",
    os_flavor: "ubuntu",
    os_version: "22.04",
    architecture: "x86",
  },
  {
    id: 104,
    name: "ubuntu-22.04",
    description: "Ubuntu 22.04",
    os_flavor: "ubuntu",
    os_version: "22.04",
    architecture: "arm",
  },
  {
    id: 105,
    name: "debian-12",
    description: "Debian 12",
    os_flavor: "debian",
    os_version: "12",
    architecture: "x86",
  },
  {
    id: 106,
    name: "debian-12",
    description: "Debian 12",
    os_flavor: "debian",
    os_version: "12",
    architecture: "arm",
  },
] as const;
export type Image = (typeof IMAGES)[number];

export function imageJson(i: Image) {
  return {
    id: i.id,
    type: "system",
    status: "available",
    name: i.name,
    description: i.description,
    image_size: null,
    disk_size: 5,
    created: "2024-04-25T00:00:00+00:00",
    created_from: null,
    bound_to: null,
    os_flavor: i.os_flavor,
    os_version: i.os_version,
    architecture: i.architecture,
    rapid_deploy: true,
    protection: { delete: false },
    deprecated: null,
    deleted: null,
    labels: {},
  };
}

// Deprecation of the 2025-10-16 changelog entry "server types deprecated" (cited in the snapshot's
// sourceDetail): not orderable after 2025-12-31.
const DEPRECATION = {
  announced: "2025-10-16T00:00:00+00:00",
  unavailable_after: "2026-01-01T00:00:00+00:00",
};

// Hetzner publishes no formula for the hourly price; monthly ÷ 730 h (a 365-day year's average
// month) is the emulator's stand-in. VAT: the German 19 % (Hetzner's `vat_rate` for a German
// customer); only the net figures come from the snapshot.
const VAT = 0.19;
const HOURS_PER_MONTH = 730;
// Included traffic per month: 20 TB in the EU locations, 1 TB in the US and Singapore (hetzner.com
// plan pages); price per extra TB 1 EUR net (EU figure; used for every location).
const TB = 1024 ** 4;
const includedTraffic = (location: string) =>
  ["fsn1", "nbg1", "hel1"].includes(location) ? 20 * TB : 1 * TB;
// A primary IPv4 costs about EUR 0.50 net a month (the snapshot's priceBasis).
const IPV4_MONTHLY_NET = 0.5;

const money = (n: number, decimals: number) => n.toFixed(decimals);
// Decimal strings as in the reference's pricing example ("net": "1.0000000000",
// "gross": "1.1900000000000000"); the hourly figure is rounded to 4 places first, as Hetzner shows it.
const price = (net: number, places: number) => {
  const rounded = Number(net.toFixed(places));
  // Gross to 10 places, padded: toFixed(16) would print binary noise (6.5330999999999992).
  return { net: money(rounded, 10), gross: `${money(rounded * (1 + VAT), 10)}000000` };
};

/** A type's offer in one location; `available` and the price change at run time (control API). */
export interface TypeLocationState extends CatalogLocation {
  deprecated: boolean;
}
/** A snapshot server type with the emulator's ID. */
export interface ServerTypeState extends Omit<SnapshotServerType, "locations"> {
  id: number;
  locations: TypeLocationState[];
}

export class Catalog {
  readonly types: ServerTypeState[];

  constructor() {
    // IDs: the snapshot's order, from 1 (the emulator's own numbering).
    this.types = snapshotServerTypes().map(({ locations, ...type }, i) => ({
      ...type,
      id: i + 1,
      locations: locations.map((l) => ({
        name: l.name,
        // The file records an unknown price as null.
        priceMonthlyEur: typeof l.priceMonthlyEur === "number" ? l.priceMonthlyEur : undefined,
        deprecated: l.deprecated ?? type.deprecated,
        available: snapshotAvailable(type, l),
      })),
    }));
  }

  type(idOrName: number | string): ServerTypeState | undefined {
    return this.types.find((t) => (typeof idOrName === "number" ? t.id === idOrName : t.name === idOrName));
  }

  location(idOrName: number | string): Location | undefined {
    return LOCATIONS.find((l) => (typeof idOrName === "number" ? l.id === idOrName : l.name === idOrName));
  }

  typeLocation(type: string, location: string): TypeLocationState | undefined {
    return this.type(type)?.locations.find((l) => l.name === location);
  }

  /** Control: a stock-out (available=false) or its end. */
  setAvailable(type: string, location: string, available: boolean): void {
    const tl = this.typeLocation(type, location);
    if (!tl) throw new Error(`server type ${type} is not offered in ${location}`);
    tl.available = available;
  }

  /** Control: a new monthly net price (EUR) for a type in a location. */
  setPrice(type: string, location: string, monthlyNet: number): void {
    const tl = this.typeLocation(type, location);
    if (!tl) throw new Error(`server type ${type} is not offered in ${location}`);
    if (!(monthlyNet >= 0)) throw new Error(`price should be a non-negative number (got ${monthlyNet})`);
    tl.priceMonthlyEur = monthlyNet;
  }

  private typePrices(t: ServerTypeState) {
    return t.locations
      .filter((l) => l.priceMonthlyEur !== undefined)
      .map((l) => ({
        location: l.name,
        price_hourly: price(l.priceMonthlyEur! / HOURS_PER_MONTH, 4),
        price_monthly: price(l.priceMonthlyEur!, 4),
        included_traffic: includedTraffic(l.name),
        price_per_tb_traffic: price(1, 4),
      }));
  }

  serverTypeJson(t: ServerTypeState) {
    return {
      id: t.id,
      name: t.name,
      description: t.name.toUpperCase(),
      category: t.category,
      cores: t.cores,
      memory: t.memoryGb,
      disk: t.diskGb,
      storage_type: "local",
      cpu_type: t.cpuType,
      architecture: t.architecture,
      included_traffic: 20 * TB,
      prices: this.typePrices(t),
      deprecated: t.deprecated,
      deprecation: t.deprecated ? DEPRECATION : null,
      locations: t.locations.map((l) => ({
        id: this.location(l.name)?.id ?? 0,
        name: l.name,
        recommended: false,
        available: l.available,
        deprecation: l.deprecated ? DEPRECATION : null,
      })),
    };
  }

  datacenterJson(l: Location) {
    const offered = this.types.filter((t) => t.locations.some((tl) => tl.name === l.name));
    const available = offered.filter((t) => this.typeLocation(t.name, l.name)!.available).map((t) => t.id);
    return {
      id: l.id,
      name: DATACENTER_NAMES[l.name]!,
      description: `${l.description} DC`,
      location: l,
      server_types: { supported: offered.map((t) => t.id), available, available_for_migration: available },
    };
  }

  datacenters() {
    return LOCATIONS.map((l) => this.datacenterJson(l));
  }

  datacenterByName(name: string) {
    return this.datacenters().find((d) => d.name === name);
  }

  pricingJson() {
    return {
      pricing: {
        currency: "EUR",
        vat_rate: money(VAT * 100, 2),
        image: { price_per_gb_month: price(0.011, 4) },
        floating_ip: { price_monthly: price(3, 4) },
        // One entry per IP version, as the real API has: hcloud-go v2.35.0's converter sizes the
        // primary_ips result by len(floating_ips) (hcloud/schema_gen.go primaryIPPricingFromSchema)
        // and panics on an empty floating_ips list.
        floating_ips: ["ipv4", "ipv6"].map((type) => ({
          type,
          prices: LOCATIONS.map((l) => ({
            location: l.name,
            price_monthly: price(type === "ipv4" ? 3 : 0, 4),
          })),
        })),
        primary_ips: [
          {
            type: "ipv4",
            prices: LOCATIONS.map((l) => ({
              location: l.name,
              price_hourly: price(IPV4_MONTHLY_NET / HOURS_PER_MONTH, 4),
              price_monthly: price(IPV4_MONTHLY_NET, 4),
            })),
          },
          {
            type: "ipv6",
            prices: LOCATIONS.map((l) => ({
              location: l.name,
              price_hourly: price(0, 4),
              price_monthly: price(0, 4),
            })),
          },
        ],
        traffic: { price_per_tb: price(1, 4) },
        server_backup: { percentage: "20.00" },
        server_types: this.types.map((t) => ({ id: t.id, name: t.name, prices: this.typePrices(t) })),
        load_balancer_types: [],
        volume: { price_per_gb_month: price(0.044, 4) },
      },
    };
  }
}
