// src/plan/catalog.ts's two readers of Hetzner's answers: liveCatalog (getServerTypes joined with
// /v1/pricing) and parsePricing, case by case. Expected values are written out.
import { describe, expect, it } from "vitest";
import {
  liveCatalog,
  parsePricing,
  snapshotCatalog,
  type Catalog,
  type LiveServerType,
} from "../../src/plan/catalog";

const fallback: Catalog = {
  source: "bundled snapshot (test)",
  takenAt: "2026-01-01",
  live: false,
  types: [
    {
      name: "cx9",
      cores: 1,
      memoryGb: 1,
      diskGb: 10,
      architecture: "x86",
      cpuType: "shared",
      deprecated: false,
      locations: [{ name: "fsn1", available: true, priceMonthlyEur: 3.21 }],
    },
  ],
};
const live = (name: string, over: Partial<LiveServerType> = {}): LiveServerType => ({
  name,
  cores: 2,
  memory: 4,
  disk: 40,
  architecture: "x86",
  cpuType: "shared",
  isDeprecated: false,
  locations: [{ name: "fsn1" }],
  ...over,
});

describe("liveCatalog", () => {
  it("deprecated: by the type's flag, or when every one of its locations is deprecated", () => {
    const cat = liveCatalog(
      [
        live("flagged", { isDeprecated: true }),
        live("all", {
          locations: [
            { name: "fsn1", isDeprecated: true },
            { name: "hel1", isDeprecated: true },
          ],
        }),
        live("some", {
          locations: [
            { name: "fsn1", isDeprecated: true },
            { name: "hel1", isDeprecated: false },
          ],
        }),
        live("none", { locations: [] }),
        live("plain"),
      ],
      undefined,
      fallback,
      "2026-11-26",
    );
    expect(cat.types.map((t) => [t.name, t.deprecated])).toEqual([
      ["flagged", true],
      ["all", true],
      ["some", false],
      ["none", false],
      ["plain", false],
    ]);
  });

  it("locations: available unless said otherwise or deprecated; live price, else the snapshot's, else none", () => {
    const cat = liveCatalog(
      [
        live("cx9", {
          cores: 3,
          memory: 6,
          disk: 70,
          architecture: "arm",
          cpuType: "dedicated",
          locations: [
            { name: "fsn1" },
            { name: "hel1", available: false },
            { name: "nbg1", available: true, isDeprecated: true },
          ],
        }),
      ],
      { cx9: { hel1: 4.56 } },
      fallback,
      "2026-11-26",
    );
    expect(cat).toEqual({
      source: "Hetzner Cloud API (server types and /v1/pricing)",
      takenAt: "2026-11-26",
      live: true,
      types: [
        {
          name: "cx9",
          cores: 3,
          memoryGb: 6,
          diskGb: 70,
          architecture: "arm",
          cpuType: "dedicated",
          deprecated: false,
          locations: [
            { name: "fsn1", available: true, priceMonthlyEur: 3.21 },
            { name: "hel1", available: false, priceMonthlyEur: 4.56 },
            { name: "nbg1", available: false, priceMonthlyEur: undefined },
          ],
        },
      ],
    });
    // Without live prices the source names the snapshot the prices come from.
    expect(liveCatalog([], undefined, fallback, "2026-11-26").source).toBe(
      "Hetzner Cloud API (server types); prices from the bundled snapshot (test), 2026-01-01",
    );
    // Any architecture other than arm is x86.
    expect(
      liveCatalog([live("x", { architecture: "x86" })], undefined, fallback, "d").types[0]!.architecture,
    ).toBe("x86");
  });
});

describe("parsePricing", () => {
  it("keeps named types' priced locations, rounded to cents; skips what is incomplete", () => {
    expect(
      parsePricing({
        pricing: {
          server_types: [
            {
              name: "cx33",
              prices: [
                { location: "fsn1", price_monthly: { net: "6.4949999", gross: "7.7" } },
                { location: "hel1", price_monthly: { net: "abc" } },
                { location: "nbg1" },
                { price_monthly: { net: "1.00" } },
                { location: "ash", price_monthly: { net: "7" } },
              ],
            },
            { name: "cx43" },
            { prices: [{ location: "fsn1", price_monthly: { net: "1" } }] },
            { name: "cx53", prices: [] },
          ],
        },
      }),
    ).toEqual({ cx33: { fsn1: 6.49, ash: 7 } });
    expect(() => parsePricing(null)).toThrow("pricing: response has no pricing.server_types list");
    expect(() => parsePricing({ pricing: { server_types: {} } })).toThrow("pricing.server_types list");
  });
});

describe("snapshotCatalog", () => {
  it("names the bundled file and its date, and is not live", () => {
    const c = snapshotCatalog();
    expect(c.source).toBe(
      "bundled snapshot (Hetzner's 2026-06-15 price-adjustment table and hetzner.com listings (EU net prices, IPv4 excluded); see sourceDetail)",
    );
    expect(c.takenAt).toBe("2026-09-03");
    expect(c.live).toBe(false);
  });
});
