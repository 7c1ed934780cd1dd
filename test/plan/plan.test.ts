import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeBudget } from "../../src/plan/budget";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { cfg } from "./fixtures";

const catalog = snapshotCatalog();
const plan = (raw: Record<string, unknown> = {}, stack = "dev") => makePlan(cfg(raw, stack), catalog);

describe("makePlan per stage", () => {
  it.each([
    [1, "cx33", 4, 1, 920],
    [2, "cx33", 2, 2, 1170],
    [3, "cx33", 2, 2, 1170],
  ])("stage %i → %s, swap %i GB, %i worker(s), limits %i MB", (stage, type, swapGb, workers, limitsMb) => {
    const p = plan({ stage });
    expect(p.deployable).toBe(true);
    expect(p.server?.type).toBe(type);
    expect(p.swapGb).toBe(swapGb);
    expect(p.workers).toBe(workers);
    expect(p.budget?.limitsMb).toBe(limitsMb);
    expect(p.budget?.ramMb).toBe(8192);
  });

  it("lays the budget out like the note's table, on the real RAM", () => {
    expect(plan({ stage: 1 }).budget).toEqual({
      ramMb: 8192,
      swapMb: 4096,
      systemReserveMb: 500,
      limitsMb: 920,
      // The second API container while a deploy switches (issue 14).
      deployHeadroomMb: 200,
      reservationsMb: 416,
      containerSwapMb: 250,
      usersMb: 1800,
      totalMb: 3420,
      ramPercent: 42,
      swapNeededMb: 0,
      swapPercent: 0,
      // The note's per-user memory on top of the limits: information while the total fits.
      notes: [
        "users: 100 users × 18 MB = 1800 MB of per-user memory is counted on top of the container limits, as the note does, so the total is an upper bound (42% of RAM). The containers that serve users (api, bot, workers) may use at most 600 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what `docker stats` shows.",
      ],
    });
  });

  it("config overrides every preset value", () => {
    const p = plan({ stage: 1, swapGb: 2, workers: 3, server: { type: "cx43" } });
    expect([p.swapGb, p.workers, p.server?.type]).toEqual([2, 3, "cx43"]);
  });

  it("local target: no server, no swap, no budget against RAM", () => {
    const p = plan({ target: "local" });
    expect(p.server).toBeUndefined();
    expect(p.swapGb).toBe(0);
    expect(p.budget).toBeUndefined();
  });
});

describe("makePlan errors and warnings (exact messages)", () => {
  it("redis maxmemory at or above its container limit is an error", () => {
    expect(plan({ services: { redis: { maxmemoryMb: 512 } } }).errors).toEqual([
      "services/redis/maxmemoryMb: should be below the container limit services/redis/memoryMb (256) (got 512); about half of it (128) leaves room for the AOF rewrite's fork",
    ]);
    expect(plan({ services: { redis: { maxmemoryMb: 200 } } }).warnings).toContain(
      "services/redis/maxmemoryMb: 200 MB is more than half of the 256 MB container limit: an AOF rewrite forks and copy-on-write can push Redis over its limit into an OOM kill",
    );
  });

  it("an allkeys-* policy is allowed with a warning", () => {
    const p = plan({ services: { redis: { maxmemoryPolicy: "allkeys-lru" } } });
    expect(p.deployable).toBe(true);
    expect(p.warnings).toContain(
      "services/redis/maxmemoryPolicy: allkeys-lru evicts any key under memory pressure, including queued RQ jobs, silently. RQ's Redis should use noeviction so a full Redis fails writes loudly instead",
    );
  });

  it("limits + reserve above RAM + swap refuse the deploy", () => {
    const p = plan({
      server: { type: "cx23", cores: 2, diskGb: 40 },
      swapGb: 0,
      workers: 12,
      services: { worker: { swapMb: 0 } },
    });
    expect(p.deployable).toBe(false);
    expect(p.errors).toContain(
      "budget: container limits (3670 MB) + deploy headroom (200 MB) + system reserve (500 MB) = 4370 MB exceed RAM + swap (4096 + 0 MB) on cx23 (2 vCPU, 4 GB): lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage",
    );
  });

  it("reservations above RAM refuse the deploy", () => {
    const p = plan({
      server: { type: "cx23", cores: 2, diskGb: 40 },
      workers: 20,
      services: { worker: { reservationMb: 250 } },
    });
    expect(p.errors).toContain(
      "budget: container reservations (5316 MB) exceed RAM (4096 MB) on cx23 (2 vCPU, 4 GB): lower services/*/reservationMb or workers",
    );
  });

  it("swapGb 0 alone is deployable: the workers' swap default follows the host's (review item 13)", () => {
    const p = plan({ swapGb: 0 });
    expect(p.errors).toEqual([]);
    expect(p.services.filter((s) => s.role === "worker").map((s) => [s.swapMb, s.memorySwapMb])).toEqual([
      [0, 250],
    ]);
    // With host swap the default is the worker's limit, as before.
    expect(plan({ swapGb: 1 }).services.find((s) => s.role === "worker")?.swapMb).toBe(250);
  });

  it("an explicit container swap on a host without swap is still an error", () => {
    expect(plan({ swapGb: 0, services: { worker: { swapMb: 100 } } }).errors).toEqual([
      "services/worker/swapMb: worker-image-1 may swap 100 MB but the host has no swap (swapGb is 0): set it to 0 or add swap",
    ]);
  });

  it("a projection beyond RAM + swap is not deployable, naming what would fit (review item 15)", () => {
    // Stage 1 on cx33: 8192 MB RAM + 4096 MB swap = 12288 MB; reserve 500 + limits 920 + deploy
    // headroom 200 = 1620 MB, so 10668 MB are left for users: 592 users at 18 MB (10656), 0.10 MB
    // per user at 100000.
    const p = plan({ users: 100000 });
    expect(p.deployable).toBe(false);
    expect(p.errors).toEqual([
      "budget: projected memory 1801620 MB (system reserve 500 + container limits 920 + deploy headroom 200 + users 100000 × 18 MB) exceeds RAM + swap (8192 + 4096 MB) on cx33 (4 vCPU, 8 GB): not deployable, the kernel's OOM killer would decide what dies. It fits with users ≤ 592 at perUserMb 18; or raise server/memoryGb or swapGb",
    ]);
    // The error replaces the two warnings about the same projection.
    expect(p.warnings.filter((w) => w.startsWith("budget: projected") || w.includes("of swap"))).toEqual([]);
  });

  it("32 workers on prod's stage 2 box are refused with the number that fits", () => {
    // cx33 at stage 2: 8192 + 2048 = 10240 MB. reserve 500 + redis 256 + proxy 64 + api 200 +
    // deploy headroom 200 + bot 150 + users 1800 = 3170 MB, leaving 7070 MB: 28 workers of 250 MB
    // (7000). With 32 workers, 870 MB are left for users: 48 at 18 MB, or 8 MB for each of 100.
    const p = plan({ stage: 2, workers: 32 }, "prod");
    expect(p.errors).toEqual([
      "budget: projected memory 11170 MB (system reserve 500 + container limits 8670 + deploy headroom 200 + users 100 × 18 MB) exceeds RAM + swap (8192 + 2048 MB) on cx33 (4 vCPU, 8 GB): not deployable, the kernel's OOM killer would decide what dies. It fits with users ≤ 48 at perUserMb 18, or perUserMb ≤ 8, or workers ≤ 28; or raise server/memoryGb or swapGb",
    ]);
    // On dev's stage 1 box the same 11170 MB fit in 8192 + 4096 MB: allowed, with the warnings.
    const dev = plan({ workers: 32 });
    expect(dev.deployable).toBe(true);
    expect(dev.warnings).toContain(
      "budget: the projected overflow (2978 MB) fills 73% of swap (4096 MB), above the note's 50% alert: the box needs more RAM",
    );
  });

  it("a projection exactly at RAM + swap is deployable; one MB more is refused", () => {
    // cx23 (4096 MB) + 1 GB swap = 5120 MB; reserve 500 + limits 920 + headroom 200 leave 3500 MB
    // for users.
    const box = { server: { type: "cx23", cores: 2, diskGb: 40 }, swapGb: 1, perUserMb: 1 };
    expect(plan({ ...box, users: 3500 }).errors).toEqual([]);
    expect(plan({ ...box, users: 3501 }).errors).toEqual([
      "budget: projected memory 5121 MB (system reserve 500 + container limits 920 + deploy headroom 200 + users 3501 × 1 MB) exceeds RAM + swap (4096 + 1024 MB) on cx23 (2 vCPU, 4 GB): not deployable, the kernel's OOM killer would decide what dies. It fits with users ≤ 3500 at perUserMb 1; or raise server/memoryGb or swapGb",
    ]);
  });

  it("projected memory above 95 % of RAM and swap reliance above 50 % warn", () => {
    const p = plan({ server: { type: "cx23", cores: 2, diskGb: 40 }, swapGb: 2, users: 150 });
    expect(p.deployable).toBe(true);
    expect(p.warnings).toContain(
      "budget: projected memory 4320 MB is 105% of RAM (4096 MB) on cx23 (2 vCPU, 4 GB), above the note's 95% critical level; 224 MB will live in swap. Move to a higher stage or raise server/memoryGb",
    );
    const q = plan({ server: { type: "cx23", cores: 2, diskGb: 40 }, swapGb: 2, users: 250 });
    expect(q.warnings).toContain(
      "budget: the projected overflow (2024 MB) fills 99% of swap (2048 MB), above the note's 50% alert: the box needs more RAM",
    );
  });

  it("defect 5: the per-user memory that cannot fit inside the containers is a budget note while the total fits", () => {
    const p = plan();
    expect(p.warnings.filter((w) => w.startsWith("users:"))).toEqual([]);
    expect(p.budget?.notes).toEqual([expect.stringMatching(/^users: 100 users × 18 MB = 1800 MB /)]);
    expect(plan({ perUserMb: 5 }).budget?.notes).toEqual([]);
    // Past the note's 95 % critical level it may be the cause, so it warns (cx23: 4096 MB RAM;
    // 500 + 920 + 200 + 150 × 18 = 4320 MB is 105 %).
    const tight = plan({ server: { type: "cx23", cores: 2, diskGb: 40 }, swapGb: 2, users: 150 });
    expect(tight.budget?.notes).toEqual([]);
    expect(tight.warnings).toContain(
      "users: 150 users × 18 MB = 2700 MB of per-user memory, but the containers that serve users (api, bot, workers) may use at most 600 MB together (their limits). The per-user memory cannot live inside them: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what `docker stats` shows. The total above counts it on top of the limits, as the note does.",
    );
  });

  it("images/redis without a 7.x tag warns (review item 17)", () => {
    expect(plan({ images: { redis: "redis:latest" } }).warnings).toContain(
      'images/redis: "redis:latest" is tagged "latest", not a Redis 7.x release: the program\'s Redis settings are written for 7.x and a moving tag changes Redis under a running queue; pin a 7.x tag such as redis:7.4.6-alpine',
    );
    expect(plan().warnings.filter((w) => w.startsWith("images/redis"))).toEqual([]);
  });

  it("a missing botToken is an error only in the plan pulumi up runs (forDeploy)", () => {
    const c = cfg();
    expect(c.secrets.botToken).toBe(false);
    expect(makePlan(c, catalog).errors).toEqual([]);
    expect(makePlan(c, catalog, undefined, { forDeploy: true }).errors).toEqual([
      "botToken: is required, and pulumi up refuses to run without it (pulumi config set --secret botToken <token from @BotFather>)",
    ]);
    const withToken = cfg({ botToken: { secure: "v1:abc" } });
    expect(withToken.secrets.botToken).toBe(true);
    expect(makePlan(withToken, catalog, undefined, { forDeploy: true }).errors).toEqual([]);
  });

  it("the example images are flagged until the user sets their own", () => {
    expect(plan().warnings.filter((w) => w.startsWith("images/"))).toHaveLength(3);
    expect(
      plan({
        images: { api: "ghcr.io/acme/api:1", bot: "ghcr.io/acme/bot:1", worker: "ghcr.io/acme/w:1" },
      }).warnings.filter((w) => w.startsWith("images/")),
    ).toEqual([]);
  });
});

describe("invariants (fast-check)", () => {
  const arbRaw = fc.record({
    stage: fc.constantFrom(1, 2, 3),
    swapGb: fc.integer({ min: 0, max: 8 }),
    workers: fc.integer({ min: 1, max: 16 }),
    users: fc.integer({ min: 1, max: 2000 }),
    perUserMb: fc.integer({ min: 0, max: 40 }),
    systemReserveMb: fc.integer({ min: 128, max: 2000 }),
    server: fc.record({
      cores: fc.integer({ min: 1, max: 8 }),
      memoryGb: fc.integer({ min: 1, max: 32 }),
      diskGb: fc.integer({ min: 20, max: 200 }),
    }),
    services: fc.record({
      redis: fc.record({ memoryMb: fc.integer({ min: 32, max: 2048 }) }),
      api: fc.record({ memoryMb: fc.integer({ min: 32, max: 2048 }) }),
      worker: fc.record({
        memoryMb: fc.integer({ min: 32, max: 4096 }),
        swapMb: fc.integer({ min: 0, max: 1024 }),
      }),
    }),
  });

  it("a deployable plan never has limits + reserve > RAM + swap, nor reservations > RAM", () => {
    fc.assert(
      fc.property(arbRaw, (raw) => {
        const p = plan(raw);
        if (!p.deployable) return;
        const b = p.budget!;
        expect(b.limitsMb + b.systemReserveMb).toBeLessThanOrEqual(b.ramMb + b.swapMb);
        expect(b.reservationsMb).toBeLessThanOrEqual(b.ramMb);
        expect(p.server!.memoryGb).toBeGreaterThanOrEqual(p.server!.requirements.memoryGb);
        expect(p.server!.cores).toBeGreaterThanOrEqual(p.server!.requirements.cores);
      }),
      { numRuns: 300 },
    );
  });

  it("Redis maxmemory is always below its container limit when deployable", () => {
    fc.assert(
      fc.property(
        arbRaw,
        fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
        (raw, maxmemoryMb) => {
          const p = plan({
            ...raw,
            services: { ...raw.services, redis: { ...raw.services.redis, maxmemoryMb } },
          });
          const redis = p.services.find((s) => s.role === "redis")!;
          const mm = Number(redis.command![redis.command!.indexOf("--maxmemory") + 1]!.replace("mb", ""));
          if (p.deployable) expect(mm).toBeLessThan(redis.memoryMb);
          else if (maxmemoryMb !== undefined && maxmemoryMb >= redis.memoryMb)
            expect(p.errors.some((e) => e.startsWith("services/redis/maxmemoryMb"))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the budget's total is reserve + limits + users and its swap need is what RAM cannot hold", () => {
    fc.assert(
      fc.property(arbRaw, (raw) => {
        const p = plan(raw);
        if (!p.budget) return;
        const b = computeBudget({
          ramMb: p.budget.ramMb,
          swapMb: p.budget.swapMb,
          systemReserveMb: raw.systemReserveMb,
          users: raw.users,
          perUserMb: raw.perUserMb,
          services: p.services,
          serverLabel: "x",
        });
        expect(b.totalMb).toBe(raw.systemReserveMb + b.limitsMb + raw.users * raw.perUserMb);
        expect(b.swapNeededMb).toBe(Math.max(0, b.totalMb - b.ramMb));
      }),
      { numRuns: 200 },
    );
  });
});

describe("swap on the server's disk (review-newcomer row 18)", () => {
  // cx33 (the dev plan's type) has an 80 GB disk: the swapfile may take at most 40 GB of it.
  it("accepts half the disk, refuses one GB more, naming the key, the value and the limit", () => {
    expect(plan({ swapGb: 40 }).errors).toEqual([]);
    expect(plan({ swapGb: 41 }).errors).toEqual([
      "swapGb: should be at most 40 (half of cx33's 80 GB disk, which also holds the OS, Docker's images and Redis' data) (got 41); lower swapGb or raise server/diskGb",
    ]);
    expect(plan({ swapGb: 64 }).deployable).toBe(false);
  });
  it("follows a bigger disk: 64 GB of swap fits a 160 GB type", () => {
    const p = plan({ swapGb: 64, server: { diskGb: 160 } });
    expect(p.server!.diskGb).toBeGreaterThanOrEqual(160);
    expect(p.errors.filter((e) => e.startsWith("swapGb"))).toEqual([]);
  });
});

describe("makePlan's own checks, written out", () => {
  const only = (list: string[], prefix: string) => list.filter((m) => m.startsWith(prefix));

  it("an allkeys- eviction policy is warned: it would drop queued jobs", () => {
    expect(
      only(
        plan({ stage: 2, services: { redis: { maxmemoryPolicy: "allkeys-lru" } } }).warnings,
        "services/redis",
      ),
    ).toEqual([
      "services/redis/maxmemoryPolicy: allkeys-lru evicts any key under memory pressure, including queued RQ jobs, " +
        "silently. RQ's Redis should use noeviction so a full Redis fails writes loudly instead",
    ]);
    expect(
      only(
        plan({ stage: 2, services: { redis: { maxmemoryPolicy: "volatile-lru" } } }).warnings,
        "services/redis",
      ),
    ).toEqual([]);
  });

  it("a reservation above the default limit is refused, naming the default; equal to a set limit passes", () => {
    expect(plan({ stage: 2, services: { bot: { reservationMb: 160 } } }).errors).toEqual([
      "services/bot/reservationMb: should be at most services/bot/memoryMb (150, the default) (got 160); " +
        "raise services/bot/memoryMb or lower the reservation",
    ]);
    expect(plan({ stage: 2, services: { bot: { memoryMb: 100, reservationMb: 100 } } }).errors).toEqual([]);
  });

  it("the example image is warned for each app service, never for Redis", () => {
    expect(only(plan({ stage: 2 }).warnings, "images/")).toEqual(
      ["api", "bot", "worker"].map(
        (r) =>
          `images/${r}: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.${r} <image>)`,
      ),
    );
  });

  it("a server type without a known price is planned, with a warning", () => {
    const noPrices = {
      ...catalog,
      types: catalog.types.map((t) => ({
        ...t,
        locations: t.locations.map((l) => ({ ...l, priceMonthlyEur: undefined })),
      })),
    };
    const p = makePlan(cfg({ stage: 2 }), noPrices);
    expect(p.server?.priceMonthlyEur).toBeNull();
    // Without prices the smallest type that fits wins (cores, then RAM, then the name).
    expect(p.server?.type).toBe("cpx32");
    expect(only(p.warnings, "server:")).toEqual([
      `server: no price is known for cpx32 in fsn1 (${catalog.source})`,
    ]);
  });
});

describe("makePlan: warnings only where due", () => {
  const own = { api: "ghcr.io/acme/api:1", bot: "ghcr.io/acme/bot:1", worker: "ghcr.io/acme/w:1" };

  it("a stack with its own images, a domain and a priced server has no warning at all", () => {
    expect(plan({ images: own, domain: "api.example.com" }).warnings).toEqual([]);
  });

  it("Redis is never told to replace the example image, even when it runs it", () => {
    const p = plan({ images: { ...own, redis: "ghcr.io/example/app:latest" }, domain: "api.example.com" });
    expect(p.warnings).toEqual([
      'images/redis: "ghcr.io/example/app:latest" is tagged "latest", not a Redis 7.x release: the program\'s Redis ' +
        "settings are written for 7.x and a moving tag changes Redis under a running queue; pin a 7.x tag such as " +
        "redis:7.4.6-alpine",
    ]);
  });
});
