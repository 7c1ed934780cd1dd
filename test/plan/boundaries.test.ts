// Deterministic boundary cases of the plan's checks: each side of every comparison, with the
// numbers worked out by hand here rather than by the code under test. The fast-check properties in
// plan.test.ts reach these edges only by chance (a `>=` → `>` slip in the maxmemory check failed
// there 1 run in 20).
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { cfg } from "./fixtures";

const catalog = snapshotCatalog();
const plan = (raw: Record<string, unknown>) => makePlan(cfg(raw), catalog);
const startingWith = (list: string[], prefix: string) => list.filter((m) => m.startsWith(prefix));

describe("Redis maxmemory against its container limit", () => {
  const MAXMEMORY_ERROR = "services/redis/maxmemoryMb:";

  it("equal to the limit is refused: it leaves no room at all for the AOF rewrite's fork", () => {
    // Default Redis limit: 256 MB.
    const p = plan({ stage: 2, services: { redis: { maxmemoryMb: 256 } } });
    expect(p.deployable).toBe(false);
    expect(p.errors).toEqual([
      "services/redis/maxmemoryMb: should be below the container limit services/redis/memoryMb (256) (got 256); about half of it (128) leaves room for the AOF rewrite's fork",
    ]);
  });

  it("equal to a raised limit is refused too", () => {
    const p = plan({ stage: 2, services: { redis: { memoryMb: 300, maxmemoryMb: 300 } } });
    expect(p.errors).toEqual([
      "services/redis/maxmemoryMb: should be below the container limit services/redis/memoryMb (300) (got 300); about half of it (150) leaves room for the AOF rewrite's fork",
    ]);
  });

  it("one MB below the limit is allowed, with the fork warning, and reaches redis-server", () => {
    const p = plan({ stage: 2, services: { redis: { maxmemoryMb: 255 } } });
    expect(p.deployable).toBe(true);
    expect(startingWith(p.errors, MAXMEMORY_ERROR)).toEqual([]);
    expect(startingWith(p.warnings, MAXMEMORY_ERROR)).toEqual([
      "services/redis/maxmemoryMb: 255 MB is more than half of the 256 MB container limit: an AOF rewrite forks and copy-on-write can push Redis over its limit into an OOM kill",
    ]);
    const redis = p.services.find((s) => s.role === "redis")!;
    expect(redis.command).toContain("255mb");
  });

  it("exactly half the limit is the default and draws no warning", () => {
    const p = plan({ stage: 2, services: { redis: { maxmemoryMb: 128 } } });
    expect(startingWith([...p.errors, ...p.warnings], MAXMEMORY_ERROR)).toEqual([]);
  });
});

describe("the containers' swap allowance against the swapfile", () => {
  const SWAP_WARNING = "budget: containers may use";

  it("more container swap than the swapfile holds warns, naming both sizes", () => {
    // Stage 2 with 5 workers: each worker may swap its own limit by default, 5 × 250 = 1250 MB,
    // against a 1 GB swapfile (1024 MB). Redis, api and bot may not swap.
    const p = plan({ stage: 2, swapGb: 1, workers: 5 });
    expect(p.deployable).toBe(true);
    expect(startingWith(p.warnings, SWAP_WARNING)).toEqual([
      "budget: containers may use 1250 MB of swap in total but the swapfile has 1024 MB: lower services/*/swapMb or raise swapGb",
    ]);
  });

  it("container swap exactly equal to the swapfile does not warn", () => {
    // 4 workers × 256 MB = 1024 MB = 1 GB.
    const p = plan({ stage: 2, swapGb: 1, workers: 4, services: { worker: { swapMb: 256 } } });
    expect(p.budget!.containerSwapMb).toBe(1024);
    expect(startingWith(p.warnings, SWAP_WARNING)).toEqual([]);
  });

  it("container swap well below the swapfile does not warn", () => {
    // Stage 2 defaults: 2 workers × 250 MB = 500 MB against 2 GB.
    const p = plan({ stage: 2 });
    expect(p.budget!.containerSwapMb).toBe(500);
    expect(startingWith(p.warnings, SWAP_WARNING)).toEqual([]);
  });
});

describe("swap counts as capacity for the limits (limits + reserve ≤ RAM + swap)", () => {
  // cx23: 4 GB = 4096 MB of RAM. Limits with 12 workers that may not swap:
  // redis 256 + api 200 + bot 150 + 12 × 250 = 3606 MB.
  // No per-user memory: these cases are about the limits alone (the projection with users has its
  // own boundary in plan.test.ts).
  const box = {
    server: { type: "cx23", cores: 2, diskGb: 40 },
    workers: 12,
    perUserMb: 0,
    services: { worker: { swapMb: 0 } },
  };
  const LIMITS_ERROR = "budget: container limits";

  it("a plan that exceeds RAM but fits in RAM + swap is deployable", () => {
    // 3670 + 200 (deploy headroom) + 500 = 4370 MB > 4096 MB of RAM, < 4096 + 1024.
    const p = plan({ ...box, swapGb: 1 });
    expect(p.budget).toMatchObject({
      ramMb: 4096,
      swapMb: 1024,
      limitsMb: 3670,
      deployHeadroomMb: 200,
      systemReserveMb: 500,
    });
    expect(startingWith(p.errors, LIMITS_ERROR)).toEqual([]);
    expect(p.deployable).toBe(true);
  });

  it("the same plan without swap is refused", () => {
    const p = plan({ ...box, swapGb: 0 });
    expect(p.errors).toEqual([
      "budget: container limits (3670 MB) + deploy headroom (200 MB) + system reserve (500 MB) = 4370 MB exceed RAM + swap (4096 + 0 MB) on cx23 (2 vCPU, 4 GB): lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage",
    ]);
  });

  it("limits + headroom + reserve exactly equal to RAM + swap is deployable; one MB more is refused", () => {
    // 3670 + 200 + 1250 = 5120 = 4096 + 1024.
    const fits = plan({ ...box, swapGb: 1, systemReserveMb: 1250 });
    expect(startingWith(fits.errors, LIMITS_ERROR)).toEqual([]);
    expect(fits.deployable).toBe(true);
    const over = plan({ ...box, swapGb: 1, systemReserveMb: 1251 });
    expect(over.deployable).toBe(false);
    expect(over.errors).toEqual([
      "budget: container limits (3670 MB) + deploy headroom (200 MB) + system reserve (1251 MB) = 5121 MB exceed RAM + swap (4096 + 1024 MB) on cx23 (2 vCPU, 4 GB): lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage",
    ]);
  });
});

describe("a reservation above the limit that applies, default or not", () => {
  it("is refused against the default limit (api: 200 MB), naming both keys", () => {
    const plan = makePlan(cfg({ stage: 1, services: { api: { reservationMb: 300 } } }), snapshotCatalog());
    expect(plan.errors).toContain(
      "services/api/reservationMb: should be at most services/api/memoryMb (200, the default) (got 300); raise services/api/memoryMb or lower the reservation",
    );
    expect(plan.deployable).toBe(false);
  });
  it("equal to the default limit is fine", () => {
    expect(
      makePlan(cfg({ stage: 1, services: { api: { reservationMb: 200 } } }), snapshotCatalog()).errors.join(),
    ).not.toMatch(/reservationMb/);
  });
});
