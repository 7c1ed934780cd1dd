// Cost, next size up and the watchdog's scale-up advice, against the bundled catalog. Expected values
// are written out from the snapshot's figures, not computed with the code's formula.
import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config/parse";
import {
  describeStep,
  euro,
  monthlyCost,
  priceIsEstimated,
  scaleUpAdvice,
  scaling,
  swapNote,
} from "../../src/plan/advice";
import type { Catalog } from "../../src/plan/catalog";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";

const catalog = snapshotCatalog();
const planFor = (raw: Record<string, unknown>, stack = "dev") => {
  const cfg = parseConfig(stack, raw);
  return { cfg, plan: makePlan(cfg, catalog) };
};

describe("monthly cost", () => {
  it("adds the primary IPv4 (€0.50) and, with backups, 20 % of the server price", () => {
    const { plan } = planFor({ stage: 1 });
    expect(monthlyCost(plan.server!, false)).toEqual({
      serverEur: 8.49,
      ipv4Eur: 0.5,
      backupsEur: 0,
      totalEur: 8.99,
      estimated: false,
    });
    // 8.49 × 0.2 = 1.698 → 1.70; 8.49 + 0.50 + 1.70 = 10.69
    expect(monthlyCost(plan.server!, true)).toMatchObject({ backupsEur: 1.7, totalEur: 10.69 });
  });

  it("marks the snapshot's estimated location prices as estimates", () => {
    const { plan } = planFor({ stage: 1, location: "ash" });
    expect(plan.server!.type).toBe("ccx23");
    expect(monthlyCost(plan.server!, false).estimated).toBe(true);
    expect(priceIsEstimated(catalog.source, "cx33", "fsn1")).toBe(false);
    // A live catalog's prices are not the snapshot's.
    expect(priceIsEstimated("Hetzner Cloud API (server types and /v1/pricing)", "ccx23", "ash")).toBe(false);
  });
});

describe("scaling outlook", () => {
  it("the shipped dev stack: every stage plans cx33; the next size up is server/memoryGb 16 → cx43", () => {
    const { cfg, plan } = planFor({ stage: 1 });
    const s = scaling(cfg, plan, catalog);
    expect(s.stages.map((x) => [x.stage, x.type, x.swapGb, x.workers])).toEqual([
      [1, "cx33", 4, 1],
      [2, "cx33", 2, 2],
      [3, "cx33", 2, 2],
    ]);
    expect(s.nextSizeUp).toMatchObject({
      key: "server/memoryGb",
      value: 16,
      type: "cx43",
      cores: 8,
      memoryGb: 16,
    });
    expect(s.nextSizeUp!.monthly.totalEur).toBe(16.49);
    expect(s.moreCores).toMatchObject({ key: "server/cores", value: 8, type: "cx43" });
  });

  it("a pinned type is advised as a type", () => {
    const { cfg, plan } = planFor({ stage: 1, server: { type: "cx33" } });
    expect(scaling(cfg, plan, catalog).nextSizeUp).toMatchObject({ key: "server/type", value: "cx43" });
  });

  it("swap 4 → 2 → 2 GB is explained, and an override is named as such", () => {
    expect(swapNote(1, 4, 4)).toContain('takes the top of the note\'s "swap 2–4 GB"');
    expect(swapNote(2, 2, 2)).toContain('keeps swap "as reserve"');
    expect(swapNote(2, 6, 2)).toBe("swapGb is set to 6 GB (stage 2's preset is 2 GB)");
  });
});

describe("the watchdog's scale-up advice", () => {
  it("names one concrete setting, the type it gets, its price and the command", () => {
    const { cfg, plan } = planFor({ stage: 2 }, "prod");
    expect(scaleUpAdvice(cfg, plan, catalog)).toBe(
      "set server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 " +
        "(`pulumi config set --path server.memoryGb 16 -s prod && pulumi up -s prod`)",
    );
    expect(scaleUpAdvice(cfg, plan, catalog, "cores")).toContain("set server/cores 8 → cx43");
    // It goes into the watchdog env file inside single quotes.
    expect(scaleUpAdvice(cfg, plan, catalog)).not.toContain("'");
  });

  it("at the largest type it says so instead of naming a stage that changes nothing", () => {
    const { cfg, plan } = planFor({ stage: 1, server: { memoryGb: 192 } });
    expect(plan.server!.type).toBe("ccx63");
    expect(scaleUpAdvice(cfg, plan, catalog)).toBe(
      "ccx63 is the largest orderable x86 type in fsn1 on this catalog: consider a second server for the workers (horizontal scaling)",
    );
  });
});

describe("next size up on a hand-made catalog: each rule excludes its decoy", () => {
  // The plan's server is `cx1` (4 vCPU, 8 GB, 80 GB disk) in fsn1, x86. Each decoy would be the
  // answer if the rule that excludes it were gone; the right answers are `cxa16` for RAM and
  // `cpu8` for cores.
  const at = (price: number, available = true, name = "fsn1") => [
    { name, available, priceMonthlyEur: price },
  ];
  const type = (name: string, cores: number, memoryGb: number, diskGb: number, locations = at(10)) => ({
    name,
    cores,
    memoryGb,
    diskGb,
    architecture: "x86" as const,
    cpuType: "shared",
    deprecated: false,
    locations,
  });
  const hand: Catalog = {
    source: "hand-made",
    takenAt: "2026-11-26",
    live: false,
    types: [
      type("cx1", 4, 8, 80, at(5)),
      { ...type("old", 4, 9, 80), deprecated: true }, // deprecated
      { ...type("arm", 4, 10, 80), architecture: "arm" }, // another architecture
      type("away", 4, 11, 80, at(10, true, "hel1")), // another location
      type("gone", 4, 12, 80, at(10, false)), // sold out here
      type("few-cores", 2, 13, 80), // fewer vCPUs than the server has
      type("small-disk", 4, 14, 40), // less disk than asked (60 GB)
      type("cxa16", 4, 16, 60, at(20)), // equal vCPUs and exactly the disk asked: allowed
      type("cxb16", 4, 16, 80, at(18)), // same RAM, cheaper: the pinned advice's pick
      type("cxc16", 4, 16, 80, at(18)), // same price: the name decides
      type("cpu8", 8, 8, 80, at(30)), // equal RAM: allowed for the cores step
      type("big24", 12, 24, 80, at(40)),
    ],
  };
  const planOn = (raw: Record<string, unknown>) => {
    const cfg = parseConfig("shop", { stage: 1, location: "fsn1", ...raw });
    return { cfg, plan: makePlan(cfg, hand) };
  };

  it("RAM: the smallest orderable step above, by its key", () => {
    const { cfg, plan } = planOn({ server: { cores: 4, memoryGb: 8 } });
    expect(plan.server?.type).toBe("cx1");
    expect(scaleUpAdvice(cfg, plan, hand, "memoryGb")).toBe(
      "set server/memoryGb 16 → cxb16 (4 vCPU, 16 GB RAM), €18.50/month incl. IPv4 " +
        "(`pulumi config set --path server.memoryGb 16 -s shop && pulumi up -s shop`)",
    );
    expect(scaleUpAdvice(cfg, plan, hand, "cores")).toBe(
      "set server/cores 8 → cpu8 (8 vCPU, 8 GB RAM), €30.50/month incl. IPv4 " +
        "(`pulumi config set --path server.cores 8 -s shop && pulumi up -s shop`)",
    );
  });

  it("a pinned type: the advice is the cheapest type with that much, then by name", () => {
    const { cfg, plan } = planOn({ server: { type: "cx1" } });
    expect(scaleUpAdvice(cfg, plan, hand, "memoryGb")).toBe(
      "set server/type cxb16 → cxb16 (4 vCPU, 16 GB RAM), €18.50/month incl. IPv4 " +
        "(`pulumi config set --path server.type cxb16 -s shop && pulumi up -s shop`)",
    );
  });

  it("nothing bigger: horizontal scaling; no server: the containers' limits", () => {
    const { cfg, plan } = planOn({ server: { type: "big24" } });
    expect(scaleUpAdvice(cfg, plan, hand)).toBe(
      "big24 is the largest orderable x86 type in fsn1 on this catalog: consider a second server for the workers (horizontal scaling)",
    );
    expect(scaleUpAdvice(cfg, { ...plan, server: undefined }, hand)).toBe(
      "raise the memory limits of the busy containers (services/<service>/memoryMb)",
    );
  });

  it("prices: unknown is said, backups are named", () => {
    const unknown = { type: "x", location: "fsn1", priceMonthlyEur: null, catalogSource: "live" };
    expect(monthlyCost(unknown, true)).toEqual({
      serverEur: null,
      ipv4Eur: 0.5,
      backupsEur: null,
      totalEur: null,
      estimated: false,
    });
    expect(monthlyCost(unknown, false)).toMatchObject({ backupsEur: 0, totalEur: null });
    expect(euro(null)).toBe("price unknown");
    expect(euro(3.5)).toBe("€3.50/month");
  });
});

describe("advice: the edges the other tests leave open", () => {
  const at = (price: number, available = true, name = "fsn1") => ({
    name,
    available,
    priceMonthlyEur: price,
  });
  const type = (
    name: string,
    cores: number,
    memoryGb: number,
    diskGb: number,
    locations = [at(10)],
    extra: { deprecated?: boolean; architecture?: "x86" | "arm" } = {},
  ) => ({
    name,
    cores,
    memoryGb,
    diskGb,
    architecture: extra.architecture ?? ("x86" as const),
    cpuType: "shared",
    deprecated: extra.deprecated ?? false,
    locations,
  });
  const on = (types: Catalog["types"]): Catalog => ({
    source: "hand-made",
    takenAt: "2026-11-26",
    live: false,
    types,
  });
  const planOn = (catalogIn: Catalog, raw: Record<string, unknown>) => {
    const c = parseConfig("shop", { stage: 1, location: "fsn1", ...raw });
    return { cfg: c, plan: makePlan(c, catalogIn) };
  };
  const command = (setting: string) =>
    `(\`pulumi config set --path ${setting} -s shop && pulumi up -s shop\`)`;

  it("an estimate is only claimed for a type and location the snapshot has", () => {
    // cx33 is in the snapshot but not in ash; "nosuch" is not in it at all.
    expect(priceIsEstimated(catalog.source, "cx33", "ash")).toBe(false);
    expect(priceIsEstimated(catalog.source, "nosuch", "fsn1")).toBe(false);
    expect(priceIsEstimated(catalog.source, "ccx23", "sin")).toBe(true);
  });

  it("the stage 2 swap note, word for word", () => {
    expect(swapNote(2, 2, 2)).toBe(
      '2 GB: from stage 2 on the note asks for more RAM and keeps swap "as reserve", so the swapfile ' +
        "shrinks from stage 1's 4 GB (which served a box at 92–102 % of its RAM); raise swapGb to keep more",
    );
  });

  it("each stage's outlook carries the type's vCPUs, RAM and monthly total (cx33: 4 vCPU, 8 GB, €8.49 + €0.50)", () => {
    const { cfg } = planFor({ stage: 1 });
    expect(scaling(cfg, makePlan(cfg, catalog), catalog).stages).toEqual([
      { stage: 1, type: "cx33", cores: 4, memoryGb: 8, swapGb: 4, workers: 1, monthlyTotalEur: 8.99 },
      { stage: 2, type: "cx33", cores: 4, memoryGb: 8, swapGb: 2, workers: 2, monthlyTotalEur: 8.99 },
      { stage: 3, type: "cx33", cores: 4, memoryGb: 8, swapGb: 2, workers: 2, monthlyTotalEur: 8.99 },
    ]);
  });

  it("the local target: no server at any stage, no swapfile, no next size", () => {
    const { cfg, plan } = planFor({ stage: 2, target: "local" });
    expect(plan.server).toBeUndefined();
    expect(scaling(cfg, plan, catalog)).toMatchObject({
      stages: [
        { stage: 1, type: null, cores: null, memoryGb: null, swapGb: 0, workers: 1, monthlyTotalEur: null },
        { stage: 2, type: null, cores: null, memoryGb: null, swapGb: 0, workers: 2, monthlyTotalEur: null },
        { stage: 3, type: null, cores: null, memoryGb: null, swapGb: 0, workers: 2, monthlyTotalEur: null },
      ],
      nextSizeUp: null,
      moreCores: null,
    });
  });

  it("a step the deployed server refuses (another location) is not advised", () => {
    const { cfg, plan } = planFor({ stage: 1 });
    expect(plan.server!.type).toBe("cx33");
    const elsewhere = { name: "app-dev", type: "cx33", location: "hel1" };
    expect(scaleUpAdvice(cfg, plan, catalog, "memoryGb", elsewhere)).toBe(
      "cx33 is the largest orderable x86 type in fsn1 on this catalog: consider a second server for the workers (horizontal scaling)",
    );
  });

  it("the cores step needs at least the server's RAM; the RAM step takes a type with exactly the disk asked (60 GB)", () => {
    const hand = on([
      type("base", 4, 8, 80, [at(5)]),
      type("lowmem", 6, 4, 80, [at(1)]), // more vCPUs but less RAM: not a step up
      type("exact12", 4, 12, 60, [at(25)]), // the only 12 GB type, with just the 60 GB asked
      type("big", 8, 16, 80, [at(18)]),
    ]);
    const { cfg, plan } = planOn(hand, { server: { cores: 4, memoryGb: 8 } });
    expect(plan.server!.type).toBe("base");
    // 12 GB is the next RAM; the cheapest type with at least 12 GB and 4 vCPU is `big` (€18).
    expect(scaleUpAdvice(cfg, plan, hand, "memoryGb")).toBe(
      `set server/memoryGb 12 → big (8 vCPU, 16 GB RAM), €18.50/month incl. IPv4 ${command("server.memoryGb 12")}`,
    );
    expect(scaleUpAdvice(cfg, plan, hand, "cores")).toBe(
      `set server/cores 8 → big (8 vCPU, 16 GB RAM), €18.50/month incl. IPv4 ${command("server.cores 8")}`,
    );
  });

  it("a pinned type: the cheapest 16 GB type here, never a deprecated, foreign or sold-out one", () => {
    const hand = on([
      type("cx8", 4, 8, 80, [at(5)]),
      type("old16", 4, 16, 80, [at(1)], { deprecated: true }),
      type("arm16", 4, 16, 80, [at(1)], { architecture: "arm" }),
      type("gone16", 4, 16, 80, [at(1, false), at(1, true, "hel1")]), // sold out here, orderable in hel1
      type("pb16", 4, 16, 80, [at(1, true, "hel1"), at(20)]),
      type("pa16", 4, 16, 80, [at(100, true, "hel1"), at(18)]),
    ]);
    const { cfg, plan } = planOn(hand, { server: { type: "cx8" } });
    // Ranked by the fsn1 price (€18 before €20), not by the first location listed.
    expect(scaleUpAdvice(cfg, plan, hand, "memoryGb")).toBe(
      `set server/type pa16 → pa16 (4 vCPU, 16 GB RAM), €18.50/month incl. IPv4 ${command("server.type pa16")}`,
    );
  });

  it("a step's description names backups and an estimated price", () => {
    const step = {
      key: "server/memoryGb",
      value: 16,
      type: "ccx23",
      cores: 4,
      memoryGb: 16,
      diskGb: 160,
      monthly: { serverEur: 85.99, ipv4Eur: 0.5, backupsEur: 17.2, totalEur: 103.69, estimated: true },
    };
    expect(describeStep(step)).toBe(
      "set server/memoryGb 16 → ccx23 (4 vCPU, 16 GB RAM), €103.69/month incl. IPv4 and backups (estimate)",
    );
  });

  it("euro, from a fresh load of the module (its arrow function is made when the module loads)", async () => {
    vi.resetModules();
    const A = await import("../../src/plan/advice");
    expect(A.euro(16.49)).toBe("€16.49/month");
    expect(A.euro(null)).toBe("price unknown");
  });
});
