import { describe, expect, it, vi } from "vitest";
import { liveCatalog, parsePricing, snapshotCatalog, type Catalog } from "../../src/plan/catalog";
import { requirementsFor, requirementsLabel, selectServer, type DeployedServer } from "../../src/plan/server";
import { STAGES } from "../../src/plan/stages";
import { cfg } from "./fixtures";

const catalog = snapshotCatalog();

function pick(raw: Record<string, unknown>, cat: Catalog = catalog) {
  const c = cfg(raw);
  return selectServer(c, STAGES[c.stage], cat);
}

describe("stage presets", () => {
  it("follow the note's scaling plan, as requirements", () => {
    expect(STAGES[1]).toMatchObject({ minCores: 3, minMemoryGb: 3, minDiskGb: 60, swapGb: 4, workers: 1 });
    expect(STAGES[2]).toMatchObject({ minMemoryGb: 4, swapGb: 2, workers: 2 });
    expect(STAGES[3]).toMatchObject({ minCores: 4, minMemoryGb: 6, swapGb: 2, workers: 2 });
  });
  it("never shrink from one stage to the next", () => {
    for (const k of ["minCores", "minMemoryGb", "minDiskGb"] as const) {
      expect(STAGES[2][k]).toBeGreaterThanOrEqual(STAGES[1][k]);
      expect(STAGES[3][k]).toBeGreaterThanOrEqual(STAGES[2][k]);
    }
  });
});

describe("bundled catalog snapshot", () => {
  it("carries its source and date", () => {
    expect(catalog.source).toMatch(/Hetzner/);
    expect(catalog.takenAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
  it("has no current type with 3 vCPU or 3 GB (the note's box does not exist)", () => {
    const current = catalog.types.filter((t) => !t.deprecated);
    expect(current.some((t) => t.cores === 3 || t.memoryGb === 3)).toBe(false);
  });
  it("marks the 2025-10-16 deprecations", () => {
    for (const name of ["cx22", "cx32", "cx42", "cx52", "cpx11", "cpx21", "cpx31", "cpx41", "cpx51"]) {
      expect(catalog.types.find((t) => t.name === name)?.deprecated, name).toBe(true);
    }
    for (const name of ["cx23", "cx33", "cpx22", "cax21", "ccx13"]) {
      expect(catalog.types.find((t) => t.name === name)?.deprecated, name).toBe(false);
    }
  });
});

describe("server type selection against the snapshot", () => {
  const table: [string, Record<string, unknown>, string][] = [
    ["stage 1 (≥3 vCPU, ≥3 GB, ≥60 GB) in fsn1", { stage: 1 }, "cx33"],
    ["stage 2 (≥4 GB)", { stage: 2 }, "cx33"],
    ["stage 3 (≥4 vCPU, ≥6 GB)", { stage: 3 }, "cx33"],
    ["stage 1 on arm", { stage: 1, server: { architecture: "arm" } }, "cax21"],
    ["stage 1 with 2 vCPU and 40 GB disk allowed", { stage: 1, server: { cores: 2, diskGb: 40 } }, "cx23"],
    ["stage 1 with only 2 vCPU allowed still needs 60 GB disk", { stage: 1, server: { cores: 2 } }, "cx33"],
    ["stage 3 needing 16 GB", { stage: 3, server: { memoryGb: 16 } }, "cx43"],
    ["stage 1 in Ashburn (only dedicated types are orderable there)", { stage: 1, location: "ash" }, "ccx23"],
    ["stage 1 in Singapore", { stage: 1, location: "sin" }, "cpx32"],
  ];
  for (const [name, raw, expected] of table) {
    it(`${name} → ${expected}`, () => {
      const r = pick(raw);
      expect(r.errors).toEqual([]);
      expect(r.choice?.type).toBe(expected);
    });
  }

  it("shows the chosen type's real figures and price, not the requirement", () => {
    const r = pick({ stage: 1 });
    expect(r.choice).toMatchObject({
      type: "cx33",
      cores: 4,
      memoryGb: 8,
      diskGb: 80,
      priceMonthlyEur: 8.49,
      pinned: false,
    });
    expect(r.choice?.requirements).toMatchObject({ cores: 3, memoryGb: 3, diskGb: 60 });
  });

  it("honours a pinned type that meets the stage", () => {
    const r = pick({ stage: 1, server: { type: "cpx32" } });
    expect(r.choice).toMatchObject({ type: "cpx32", pinned: true, priceMonthlyEur: 35.49 });
  });

  it("refuses an unknown pinned type", () => {
    expect(pick({ server: { type: "cx99" } }).errors).toEqual([
      'server/type: "cx99" is not a Hetzner server type (orderable in fsn1: cx23, cax11, cx33, cax21, cpx12, cx43, cpx22, cax31, cx53, cpx32, cax41, ccx13, cpx42, ccx23, cpx52, cpx62, ccx33, ccx43, ccx53, ccx63)',
    ]);
  });

  it("refuses a deprecated pinned type", () => {
    expect(pick({ server: { type: "cx32" } }).errors[0]).toMatch(
      /^server\/type: "cx32" is deprecated by Hetzner and can no longer be ordered or rescaled to \(orderable in fsn1: cx23, /,
    );
  });

  it("refuses a pinned type that is too small, naming each failed requirement", () => {
    expect(pick({ stage: 3, server: { type: "cx23" } }).errors).toEqual([
      'server/type: "cx23" has 2 vCPU but stage 3 needs at least 4 (server/cores)',
      'server/type: "cx23" has 4 GB RAM but stage 3 needs at least 6 (server/memoryGb)',
      'server/type: "cx23" has 40 GB disk but stage 3 needs at least 60 (server/diskGb)',
    ]);
    expect(pick({ stage: 1, server: { type: "cx23" } }).errors).toEqual([
      'server/type: "cx23" has 2 vCPU but stage 1 needs at least 3 (server/cores)',
      'server/type: "cx23" has 40 GB disk but stage 1 needs at least 60 (server/diskGb)',
    ]);
  });

  it("refuses a pinned type of the wrong architecture or location", () => {
    expect(pick({ server: { type: "cax21" } }).errors).toEqual([
      'server/type: "cax21" is arm but server/architecture is x86',
    ]);
    expect(pick({ location: "ash", server: { type: "cx33" } }).errors).toEqual([
      'server/type: "cx33" is not available in location ash (it is in: fsn1, nbg1, hel1)',
    ]);
  });

  it("says so when nothing fits", () => {
    expect(pick({ server: { memoryGb: 512 } }).errors).toEqual([
      `server: no orderable x86 server type in fsn1 has at least 3 vCPU, 512 GB RAM and 60 GB disk (catalog: ${catalog.source}, ${catalog.takenAt}); lower server/cores, server/memoryGb or server/diskGb, or change location or server/architecture`,
    ]);
  });
});

describe("live catalog", () => {
  const live = [
    {
      name: "cx33",
      cores: 4,
      memory: 8,
      disk: 80,
      architecture: "x86",
      cpuType: "shared",
      isDeprecated: false,
      locations: [{ name: "fsn1", available: true, isDeprecated: false }],
    },
    {
      name: "cpx32",
      cores: 4,
      memory: 8,
      disk: 160,
      architecture: "x86",
      cpuType: "shared",
      isDeprecated: false,
      locations: [{ name: "fsn1", available: true, isDeprecated: false }],
    },
    {
      name: "cx43",
      cores: 8,
      memory: 16,
      disk: 160,
      architecture: "x86",
      cpuType: "shared",
      isDeprecated: false,
      locations: [{ name: "fsn1", available: false, isDeprecated: false }],
    },
  ];
  it("uses live prices when the pricing API answered", () => {
    const cat = liveCatalog(live, { cx33: { fsn1: 50 }, cpx32: { fsn1: 9 } }, catalog, "2026-11-25");
    expect(pick({ stage: 1 }, cat).choice).toMatchObject({ type: "cpx32", priceMonthlyEur: 9 });
    expect(cat.source).toBe("Hetzner Cloud API (server types and /v1/pricing)");
  });
  it("falls back to the snapshot's prices and says so", () => {
    const cat = liveCatalog(live, undefined, catalog, "2026-11-25");
    expect(pick({ stage: 1 }, cat).choice).toMatchObject({ type: "cx33", priceMonthlyEur: 8.49 });
    expect(cat.source).toContain("prices from the bundled snapshot");
  });
  it("skips types that are not available in the location right now", () => {
    const cat = liveCatalog(live, undefined, catalog, "2026-11-25");
    expect(pick({ stage: 3, server: { memoryGb: 16 } }, cat).errors[0]).toMatch(
      /^server: no orderable x86 server type in fsn1/,
    );
  });
  it("parses Hetzner's /v1/pricing body", () => {
    const body = {
      pricing: {
        currency: "EUR",
        server_types: [
          {
            name: "cx33",
            prices: [{ location: "fsn1", price_monthly: { net: "8.4900000000", gross: "10.1031000000" } }],
          },
        ],
      },
    };
    expect(parsePricing(body)).toEqual({ cx33: { fsn1: 8.49 } });
    expect(() => parsePricing({})).toThrow("pricing: response has no pricing.server_types list");
  });
});

describe("a deployed server: the type is sticky, location and architecture are fixed", () => {
  /** The snapshot with one type out of stock (or repriced) in one location. */
  const edited = (
    type: string,
    location: string,
    change: { available?: boolean; priceMonthlyEur?: number },
  ): Catalog => ({
    ...catalog,
    types: catalog.types.map((t) =>
      t.name !== type
        ? t
        : { ...t, locations: t.locations.map((l) => (l.name === location ? { ...l, ...change } : l)) },
    ),
  });
  const stage = (raw: Record<string, unknown>) => {
    const c = cfg(raw);
    return { c, preset: STAGES[c.stage], label: requirementsLabel(requirementsFor(c, STAGES[c.stage])) };
  };
  const deployedAs = (type: string, raw: Record<string, unknown>, location = "fsn1"): DeployedServer => ({
    name: "app-infra-dev",
    type,
    location,
    requirements: stage(raw).label,
  });

  it("a deployed cx33 that the catalog marks temporarily unavailable stays cx33, with a warning", () => {
    const { c, preset } = stage({ stage: 1 });
    const out = selectServer(
      c,
      preset,
      edited("cx33", "fsn1", { available: false }),
      deployedAs("cx33", { stage: 1 }),
    );
    expect(out.errors).toEqual([]);
    expect(out.choice).toMatchObject({ type: "cx33", kept: true });
    expect(out.warnings.join("\n")).toMatch(/deployed cx33 cannot be ordered in fsn1 today \(out of stock\)/);
    // Without the deployed server the same catalog picks another type: that is what stickiness prevents.
    expect(selectServer(c, preset, edited("cx33", "fsn1", { available: false })).choice?.type).not.toBe(
      "cx33",
    );
  });

  it("a price change does not rescale a deployed server", () => {
    const { c, preset } = stage({ stage: 1 });
    const pricier = edited("cx33", "fsn1", { priceMonthlyEur: 99 });
    expect(selectServer(c, preset, pricier).choice?.type).not.toBe("cx33");
    expect(selectServer(c, preset, pricier, deployedAs("cx33", { stage: 1 })).choice?.type).toBe("cx33");
  });

  it("a pinned type that is out of stock but already deployed gets a warning, not an error", () => {
    const raw = { stage: 1, server: { type: "cx33" } };
    const { c, preset } = stage(raw);
    const sold = edited("cx33", "fsn1", { available: false });
    expect(selectServer(c, preset, sold).errors.join()).toMatch(
      /server\/type: "cx33" is not available in location fsn1/,
    );
    const out = selectServer(c, preset, sold, deployedAs("cx33", raw));
    expect(out.errors).toEqual([]);
    expect(out.choice?.type).toBe("cx33");
    expect(out.warnings.join()).toMatch(/server\/type: "cx33" cannot be ordered in fsn1 today/);
  });

  it("changed requirements pick again, and then the new type must be orderable", () => {
    const { c, preset } = stage({ stage: 3, server: { memoryGb: 16 } });
    const out = selectServer(
      c,
      preset,
      edited("cx43", "fsn1", { available: false }),
      deployedAs("cx33", { stage: 1 }),
    );
    expect(out.choice?.kept).toBe(false);
    expect(out.choice?.type).not.toBe("cx43");
    expect(out.choice?.memoryGb).toBeGreaterThanOrEqual(16);
  });

  it("a server that predates the requirements label keeps its type while it meets the stage", () => {
    const { c, preset } = stage({ stage: 1 });
    const legacy = { name: "app-infra-dev", type: "cpx32", location: "fsn1" };
    expect(selectServer(c, preset, catalog, legacy).choice).toMatchObject({ type: "cpx32", kept: true });
  });

  it("a deployed server in fsn1 with location nbg1 configured is refused, naming location", () => {
    const { c, preset } = stage({ stage: 1, location: "nbg1" });
    const out = selectServer(c, preset, catalog, deployedAs("cx33", { stage: 1 }, "fsn1"));
    expect(out.choice).toBeUndefined();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatch(
      /^location: "nbg1" differs from the location of the deployed server app-infra-dev \(fsn1\)\..*pulumi config set location fsn1/,
    );
  });

  it("an architecture change of a deployed server is refused, naming server/architecture", () => {
    const { c, preset } = stage({ stage: 1, server: { architecture: "arm" } });
    const out = selectServer(c, preset, catalog, deployedAs("cx33", { stage: 1 }));
    expect(out.errors.join()).toMatch(
      /^server\/architecture: "arm" differs from the deployed server app-infra-dev \(cx33, x86\)/,
    );
  });

  it("the requirements label is a valid Hetzner label value", () => {
    for (const raw of [{ stage: 1 }, { stage: 3, server: { memoryGb: 16, architecture: "arm" } }]) {
      expect(stage(raw).label).toMatch(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/);
    }
  });
});

describe("selectServer on a hand-made catalog: each refusal and warning written out", () => {
  const t = (
    name: string,
    cores: number,
    memoryGb: number,
    over: Partial<Catalog["types"][number]> = {},
  ) => ({
    name,
    cores,
    memoryGb,
    diskGb: 80,
    architecture: "x86" as const,
    cpuType: "shared",
    deprecated: false,
    locations: [{ name: "fsn1", available: true, priceMonthlyEur: cores * 2 }],
    ...over,
  });
  const hand: Catalog = {
    source: "hand-made",
    takenAt: "2026-11-26",
    live: false,
    types: [
      t("cx4", 4, 8),
      t("cx5", 4, 8, { locations: [{ name: "fsn1", available: true, priceMonthlyEur: 7 }] }),
      t("cxo9", 4, 8, { deprecated: true }),
      t("cxg9", 4, 8, { locations: [{ name: "fsn1", available: false, priceMonthlyEur: 1 }] }),
      t("cxh9", 4, 8, { locations: [{ name: "hel1", available: true, priceMonthlyEur: 1 }] }),
      t("cxn9", 4, 8, { locations: [] }),
      t("cax4", 4, 8, { architecture: "arm" }),
    ],
  };
  const select = (raw: Record<string, unknown>, deployed?: DeployedServer) => {
    const c = cfg({ stage: 2, location: "fsn1", ...raw }, "shop");
    return selectServer(c, STAGES[c.stage], hand, deployed);
  };
  const req = "3c-4g-60d-x86"; // stage 2's requirements on x86

  it("a deployed server cannot move or change architecture: both refusals, with the way back", () => {
    const s = select(
      { location: "hel1", server: { architecture: "arm" } },
      { name: "shop-vm", type: "cx4", location: "fsn1" },
    );
    expect(s.choice).toBeUndefined();
    expect(s.errors).toEqual([
      'location: "hel1" differs from the location of the deployed server shop-vm (fsn1). Hetzner cannot move a server, ' +
        'and a new one would start empty, without Redis\' queue. Set location back to "fsn1" (pulumi config set location fsn1), ' +
        "or deploy hel1 as a new stack and move the data over",
      'server/architecture: "arm" differs from the deployed server shop-vm (cx4, x86). Hetzner cannot rescale a server across ' +
        'architectures, and the images would have to be rebuilt. Set server/architecture back to "x86" ' +
        "(pulumi config set --path server.architecture x86), or deploy the other architecture as a new stack",
    ]);
  });

  it("a pinned type: unknown, deprecated, sold out here, elsewhere only, or nowhere", () => {
    // every orderable type here, by price (cx5 €7, then cax4 and cx4 at €8, by name)
    const orderableHere = "cx5, cax4, cx4";
    expect(select({ server: { type: "cx99" } }).errors).toEqual([
      `server/type: "cx99" is not a Hetzner server type (orderable in fsn1: ${orderableHere})`,
    ]);
    expect(select({ server: { type: "cxo9" } }).errors).toEqual([
      'server/type: "cxo9" is deprecated by Hetzner and can no longer be ordered or rescaled to ' +
        `(orderable in fsn1: ${orderableHere})`,
    ]);
    expect(select({ server: { type: "cxg9" } }).errors).toEqual([
      'server/type: "cxg9" is not available in location fsn1 (it is in: none)',
    ]);
    expect(select({ server: { type: "cxh9" } }).errors).toEqual([
      'server/type: "cxh9" is not available in location fsn1 (it is in: hel1)',
    ]);
    expect(select({ server: { type: "cxn9" } }).errors).toEqual([
      'server/type: "cxn9" is not available in location fsn1 (it is in: none)',
    ]);
    expect(select({ server: { type: "cx4" } }).choice).toMatchObject({
      type: "cx4",
      pinned: true,
      kept: false,
    });
  });

  it("a pinned type the server already runs is kept when it can no longer be ordered, with a warning", () => {
    const gone = select({ server: { type: "cxg9" } }, { name: "shop-vm", type: "cxg9", location: "fsn1" });
    expect(gone.errors).toEqual([]);
    expect(gone.choice).toMatchObject({ type: "cxg9", pinned: true, kept: true });
    expect(gone.warnings).toEqual([
      'server/type: "cxg9" cannot be ordered in fsn1 today (out of stock); the deployed server shop-vm keeps it, ' +
        "but a rescale to it or a new server would fail",
    ]);
    const old = select({ server: { type: "cxo9" } }, { name: "shop-vm", type: "cxo9", location: "fsn1" });
    expect(old.warnings[0]).toContain("cannot be ordered in fsn1 today (deprecated)");
    expect(
      select({ server: { type: "cx4" } }, { name: "shop-vm", type: "cx4", location: "fsn1" }).warnings,
    ).toEqual([]);
  });

  it("an unpinned deployed type is kept while the requirements it was chosen for stand", () => {
    const kept = select({}, { name: "shop-vm", type: "cxo9", location: "fsn1", requirements: req });
    expect(kept.choice).toMatchObject({ type: "cxo9", pinned: false, kept: true });
    expect(kept.warnings).toEqual([
      "server: the deployed cxo9 cannot be ordered in fsn1 today (deprecated); kept, since stage 2's requirements did not change",
    ]);
    // A server from before the label: kept too.
    expect(select({}, { name: "shop-vm", type: "cxg9", location: "fsn1" }).warnings).toEqual([
      "server: the deployed cxg9 cannot be ordered in fsn1 today (out of stock); kept, since stage 2's requirements did not change",
    ]);
    // Other requirements: the cheapest orderable type again.
    const moved = select(
      {},
      { name: "shop-vm", type: "cxo9", location: "fsn1", requirements: "9c-9g-9d-x86" },
    );
    expect(moved.choice).toMatchObject({ type: "cx5", kept: false });
  });

  it("a deployed type kept where the catalog has no price for it says so (null), not another location's price", () => {
    // cxh9 is listed in hel1 only (€1), and has none of its own in fsn1
    const s = select({}, { name: "shop-vm", type: "cxh9", location: "fsn1" });
    expect(s.choice).toMatchObject({ type: "cxh9", kept: true, priceMonthlyEur: null });
    expect(s.warnings).toEqual([
      "server: the deployed cxh9 cannot be ordered in fsn1 today (out of stock); kept, since stage 2's requirements did not change",
    ]);
  });

  it("a deployed type that can still be ordered is kept without a warning", () => {
    const s = select({}, { name: "shop-vm", type: "cx4", location: "fsn1", requirements: req });
    expect(s.choice).toMatchObject({ type: "cx4", pinned: false, kept: true, priceMonthlyEur: 8 });
    expect(s.warnings).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it("a deployed type below the requirements is not kept, even without a requirements label", () => {
    const s = select({ server: { cores: 8 } }, { name: "shop-vm", type: "cx4", location: "fsn1" });
    expect(s.choice).toBeUndefined();
    expect(s.errors).toEqual([
      "server: no orderable x86 server type in fsn1 has at least 8 vCPU, 4 GB RAM and 60 GB disk " +
        "(catalog: hand-made, 2026-11-26); lower server/cores, server/memoryGb or server/diskGb, or change location or server/architecture",
    ]);
  });

  it("the architecture check looks at the deployed type itself (an arm server, x86 configured)", () => {
    const s = select({}, { name: "shop-vm", type: "cax4", location: "fsn1" });
    expect(s.choice).toBeUndefined();
    expect(s.errors).toEqual([
      'server/architecture: "x86" differs from the deployed server shop-vm (cax4, arm). Hetzner cannot rescale a server across ' +
        'architectures, and the images would have to be rebuilt. Set server/architecture back to "arm" ' +
        "(pulumi config set --path server.architecture arm), or deploy the other architecture as a new stack",
    ]);
  });
});

describe("server: the label key, from a fresh load (a constant made when the module loads)", () => {
  it("the server carries its requirements under the label `requirements`", async () => {
    vi.resetModules();
    const S = await import("../../src/plan/server");
    expect(S.REQUIREMENTS_LABEL).toBe("requirements");
  });
});
