// Scaling invariants across configurations: each run is recorded in its own process.
import { beforeAll, describe, expect, it } from "vitest";
import { diffRecordings, record, type Recording } from "../support/record";
import { T } from "./hetzner-stack";

const secrets = { botToken: "123:bot-token-secret" };
const runs: Record<string, Recording> = {};
const configs: Record<string, Record<string, unknown>> = {
  // Three stages landing on three different server types, to prove only serverType moves.
  stage1: { stage: 1, server: { cores: 2, diskGb: 40 } },
  stage2: { stage: 2 },
  stage3: { stage: 3, server: { memoryGb: 16 } },
  workers3: { stage: 2, workers: 3 },
  apiLimit: { stage: 2, services: { api: { memoryMb: 300 } } },
  swap4: { stage: 2, swapGb: 4 },
  alerts: { stage: 2, alerts: { queueLength: 50 } },
};

beforeAll(async () => {
  await Promise.all(
    Object.entries(configs).map(async ([k, c]) => {
      runs[k] = await record("dev", { ...c, ...secrets }, ["botToken"]);
    }),
  );
}, 120_000);

/** Resources whose inputs differ between two runs, and those only in one of them. */
const diff = (a: Recording, b: Recording) => diffRecordings(a.resources, b.resources);

const vm = (r: Recording) => r.resources.find((x) => x.type === T.server)!.inputs;
const REPLACEMENT_FORCING = ["image", "location", "userData", "sshKeys", "name", "keepDisk"] as const;

describe("scaling in place", () => {
  it("the three stages land on different server types", () => {
    expect([vm(runs.stage1!).serverType, vm(runs.stage2!).serverType, vm(runs.stage3!).serverType]).toEqual([
      "cx23",
      "cx33",
      "cx43",
    ]);
  });

  it("between any two stages the server's replacement-forcing inputs are identical; only serverType and the requirements label change", () => {
    for (const [a, b] of [
      ["stage1", "stage2"],
      ["stage2", "stage3"],
      ["stage1", "stage3"],
    ] as const) {
      const x = vm(runs[a]!);
      const y = vm(runs[b]!);
      for (const k of REPLACEMENT_FORCING) expect(y[k], `${a}→${b} ${k}`).toEqual(x[k]);
      const changedKeys = Object.keys({ ...x, ...y }).filter(
        (k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]),
      );
      expect(changedKeys, `${a}→${b}`).toEqual(["labels", "serverType"]);
      // Both change in place (terraform-provider-hcloud resourceServerUpdate); the label records
      // the requirements the type was chosen for (sticky type, src/plan/server.ts).
      const { requirements: rx, ...lx } = x.labels;
      const { requirements: ry, ...ly } = y.labels;
      expect(ly).toEqual(lx);
      expect(ry).not.toEqual(rx);
    }
  });

  it("the Redis container and its volume do not change between stages 2 and 3", () => {
    const d = diff(runs.stage2!, runs.stage3!);
    expect(d.changed).not.toContain("app-redis");
    expect(d.changed).not.toContain("app-redis-data");
    expect(d.removed).toEqual([]);
  });

  it("raising workers only adds worker containers (and tells the watchdog to watch them)", () => {
    const d = diff(runs.stage2!, runs.workers3!);
    expect(d.added).toEqual(["app-worker-image-3"]);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual(["host-watchdog"]);
  });

  it("the watchdog is re-deployed only when its thresholds change", () => {
    expect(diff(runs.stage2!, runs.alerts!)).toEqual({ changed: ["host-watchdog"], added: [], removed: [] });
    expect(diff(runs.stage2!, runs.apiLimit!).changed).not.toContain("host-watchdog");
    expect(diff(runs.stage2!, runs.swap4!).changed).not.toContain("host-watchdog");
  });

  it("changing one service's limit touches only that container's inputs", () => {
    const d = diff(runs.stage2!, runs.apiLimit!);
    expect(d).toEqual({ changed: ["app-api"], added: [], removed: [] });
  });

  it("changing swap re-runs only the swap step", () => {
    const d = diff(runs.stage2!, runs.swap4!);
    expect(d).toEqual({ changed: ["host-swap"], added: [], removed: [] });
    const swap = runs.swap4!.resources.find((x) => x.name === "host-swap")!.inputs;
    expect(swap.create).toBe("bash -s -- 4 10");
  });
});
