// Cost, next size up and the watchdog's scale-up advice, against the bundled catalog. Expected values
// are written out from the snapshot's figures, not computed with the code's formula.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { monthlyCost, priceIsEstimated, scaleUpAdvice, scaling, swapNote } from "../../src/plan/advice";
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
