// src/plan/budget.ts on hand-made inputs: each comparison on both sides of its edge, with the sums
// worked out here. Services: redis 200 MB, api 300 MB, two workers of 100 MB (limits 700 MB,
// reservations 250 MB, the app's share 500 MB); the box is named "box".
import { describe, expect, it } from "vitest";
import { checkBudget, computeBudget, deployHeadroomMb, type BudgetInput } from "../../src/plan/budget";
import type { ServicePlan } from "../../src/plan/services";

const svc = (name: string, role: string, memoryMb: number, memoryReservationMb: number, swapMb = 0) =>
  ({ name, role, memoryMb, memoryReservationMb, swapMb }) as unknown as ServicePlan;
const SERVICES = [
  svc("redis", "redis", 200, 50),
  svc("api", "api", 300, 100),
  svc("worker-image-1", "worker", 100, 50),
  svc("worker-image-2", "worker", 100, 50),
];
const input = (over: Partial<BudgetInput>): BudgetInput => ({
  ramMb: 1000,
  swapMb: 0,
  systemReserveMb: 100,
  users: 0,
  perUserMb: 0,
  services: SERVICES,
  serverLabel: "box",
  ...over,
});
const check = (over: Partial<BudgetInput>) => {
  const i = input(over);
  return checkBudget(computeBudget(i), i);
};

describe("computeBudget", () => {
  it("sums the limits, reservations, container swap, users and the backup's share", () => {
    expect(
      computeBudget(
        input({
          swapMb: 500,
          backupMb: 50,
          users: 10,
          perUserMb: 5,
          services: [...SERVICES, svc("w", "worker", 0, 0, 70)],
        }),
      ),
    ).toEqual({
      ramMb: 1000,
      swapMb: 500,
      systemReserveMb: 100,
      backupMb: 50,
      limitsMb: 700,
      reservationsMb: 250,
      containerSwapMb: 70,
      usersMb: 50,
      totalMb: 900, // 100 + 50 + 700 + 50
      ramPercent: 90,
      swapNeededMb: 0,
      swapPercent: 0,
    });
  });

  it("swap: its share of the overflow, none without an overflow, 'Infinity' with an overflow and no swap", () => {
    expect(computeBudget(input({ swapMb: 400, users: 100, perUserMb: 3 }))).toMatchObject({
      totalMb: 1100,
      swapNeededMb: 100,
      swapPercent: 25,
    });
    expect(computeBudget(input({ swapMb: 0 })).swapPercent).toBe(0);
    expect(computeBudget(input({ users: 100, perUserMb: 3 })).swapPercent).toBe(Infinity);
    expect("backupMb" in computeBudget(input({ backupMb: 0 }))).toBe(false);
  });
});

describe("checkBudget", () => {
  it("95 % of RAM is the critical level itself: 96 % is warned", () => {
    expect(check({ users: 30, perUserMb: 5 })).toEqual({ errors: [], warnings: [], notes: [] }); // 950 MB
    expect(check({ users: 31, perUserMb: 5 }).warnings).toEqual([
      // 955 MB rounds to 96 %
      "budget: projected memory 955 MB is 96% of RAM (1000 MB) on box, above the note's 95% critical level; " +
        "0 MB will live in swap. Move to a higher stage or raise server/memoryGb",
    ]);
  });

  it("limits, reserve and backup may fill RAM + swap exactly; one MB more is refused", () => {
    const edge = check({ ramMb: 600, swapMb: 300, backupMb: 100 }); // 700 + 100 + 100 = 900
    expect(edge.errors).toEqual([]);
    expect(check({ ramMb: 600, swapMb: 300, backupMb: 101 }).errors).toEqual([
      "budget: container limits (700 MB) + system reserve (100 MB) + backup (101 MB) = 901 MB exceed RAM + swap " +
        "(600 + 300 MB) on box: lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage",
    ]);
    expect(check({ ramMb: 500, swapMb: 299 }).errors[0]).toBe(
      "budget: container limits (700 MB) + system reserve (100 MB) = 800 MB exceed RAM + swap " +
        "(500 + 299 MB) on box: lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage",
    );
  });

  it("reservations may equal RAM; above it is refused", () => {
    const reserved = (r: ReturnType<typeof check>) =>
      r.errors.filter((e) => e.startsWith("budget: container reservations"));
    expect(reserved(check({ ramMb: 250, swapMb: 2000 }))).toEqual([]);
    expect(reserved(check({ ramMb: 249, swapMb: 2000 }))).toEqual([
      "budget: container reservations (250 MB) exceed RAM (249 MB) on box: lower services/*/reservationMb or workers",
    ]);
  });

  it("container swap may equal the swapfile; more is warned; none at all with container swap is refused", () => {
    const swapping = [
      ...SERVICES.slice(0, 2),
      svc("w1", "worker", 100, 50, 100),
      svc("w2", "worker", 100, 50, 100),
    ];
    expect(check({ ramMb: 2000, swapMb: 200, services: swapping })).toEqual({
      errors: [],
      warnings: [],
      notes: [],
    });
    expect(check({ ramMb: 2000, swapMb: 199, services: swapping }).warnings).toEqual([
      "budget: containers may use 200 MB of swap in total but the swapfile has 199 MB: lower services/*/swapMb or raise swapGb",
    ]);
    expect(check({ ramMb: 2000, swapMb: 0, services: swapping })).toEqual({
      errors: [
        "services/worker/swapMb: w1 may swap 100 MB but the host has no swap (swapGb is 0): set it to 0 or add swap",
        "services/worker/swapMb: w2 may swap 100 MB but the host has no swap (swapGb is 0): set it to 0 or add swap",
      ],
      warnings: [],
      notes: [],
    });
  });

  it("the overflow may fill half the swap; more is warned", () => {
    // 100 + 700 + 300 = 1100 MB: 100 MB overflow into 200 MB of swap is 50 %
    const half = check({ swapMb: 200, users: 60, perUserMb: 5 });
    expect(half.warnings.filter((w) => w.startsWith("budget: the projected overflow"))).toEqual([]);
    // 1105 MB: 105 of 200 MB is 52.5 %, shown as 53 %
    expect(check({ swapMb: 200, users: 61, perUserMb: 5 }).warnings).toContain(
      "budget: the projected overflow (105 MB) fills 53% of swap (200 MB), above the note's 50% alert: the box needs more RAM",
    );
  });

  it("per-user memory beyond the app's limits: a note below the critical level, a warning above it", () => {
    expect(check({ ramMb: 2000, users: 100, perUserMb: 5 }).notes).toEqual([]); // 500 MB: exactly the app's share
    const note = check({ ramMb: 2000, users: 167, perUserMb: 3 }); // 501 MB, total 1301 MB = 65 %
    expect(note.warnings).toEqual([]);
    expect(note.notes).toEqual([
      "users: 167 users × 3 MB = 501 MB of per-user memory is counted on top of the container limits, as the note does, " +
        "so the total is an upper bound (65% of RAM). The containers that serve users (api, bot, workers) may use at most " +
        "500 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, " +
        "lower perUserMb to what `docker stats` shows.",
    ]);
    const warned = check({ ramMb: 1000, swapMb: 1000, users: 167, perUserMb: 3 }); // 1301 MB = 130 %
    expect(warned.notes).toEqual([]);
    expect(warned.warnings).toContain(
      "users: 167 users × 3 MB = 501 MB of per-user memory, but the containers that serve users (api, bot, workers) may " +
        "use at most 500 MB together (their limits). The per-user memory cannot live inside them: if it is real, they " +
        "will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what `docker stats` " +
        "shows. The total above counts it on top of the limits, as the note does.",
    );
  });

  it("beyond RAM + swap: refused, with what would fit (users, per-user memory, workers)", () => {
    // room for users: 1000 - 100 - 700 = 200 MB; workers: (1000 - (100 + 300 + 500)) / 100 = 1
    expect(check({ users: 100, perUserMb: 3 })).toEqual({
      errors: [
        "budget: projected memory 1100 MB (system reserve 100 + container limits 700 + users 100 × 3 MB) exceeds " +
          "RAM + swap (1000 + 0 MB) on box: not deployable, the kernel's OOM killer would decide what dies. It fits " +
          "with users ≤ 66 at perUserMb 3, or perUserMb ≤ 2, or workers ≤ 1; or raise server/memoryGb or swapGb",
      ],
      warnings: [],
      notes: [],
    });
    // with a 50 MB backup: room 150 MB, 1 MB per user at most; no worker count fits
    expect(check({ users: 100, perUserMb: 3, backupMb: 50 }).errors).toEqual([
      "budget: projected memory 1150 MB (system reserve 100 + backup 50 + container limits 700 + users 100 × 3 MB) " +
        "exceeds RAM + swap (1000 + 0 MB) on box: not deployable, the kernel's OOM killer would decide what dies. " +
        "It fits with users ≤ 50 at perUserMb 3, or perUserMb ≤ 1; or raise server/memoryGb or swapGb",
    ]);
    // room 200 MB for 201 users: under 1 MB each, so no per-user figure is offered
    expect(check({ users: 201, perUserMb: 1 }).errors[0]).toContain(
      "It fits with users ≤ 200 at perUserMb 1, or workers ≤ 1;",
    );
  });
});

describe("checkBudget: the remaining edges", () => {
  it("per-user memory at exactly the critical level (95 %) is a note, not a warning", () => {
    // 100 + 700 + 110 × 10 = 1900 MB of 2000 MB: 95 %
    const r = check({ ramMb: 2000, users: 110, perUserMb: 10 });
    expect(r.warnings).toEqual([]);
    expect(r.notes).toEqual([
      "users: 110 users × 10 MB = 1100 MB of per-user memory is counted on top of the container limits, as the note does, " +
        "so the total is an upper bound (95% of RAM). The containers that serve users (api, bot, workers) may use at most " +
        "500 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, " +
        "lower perUserMb to what `docker stats` shows.",
    ]);
  });

  it("beyond RAM + swap without workers: no worker count is offered", () => {
    // limits 500 MB (redis + api); 100 + 500 + 100 × 5 = 1100 MB; room for users 1000 - 100 - 500 = 400 MB
    expect(check({ services: SERVICES.slice(0, 2), users: 100, perUserMb: 5 }).errors).toEqual([
      "budget: projected memory 1100 MB (system reserve 100 + container limits 500 + users 100 × 5 MB) exceeds " +
        "RAM + swap (1000 + 0 MB) on box: not deployable, the kernel's OOM killer would decide what dies. It fits " +
        "with users ≤ 80 at perUserMb 5, or perUserMb ≤ 4; or raise server/memoryGb or swapGb",
    ]);
  });
});

describe("the deploy headroom (issue 14: the new API starts beside the old one)", () => {
  it("is one limit per start-first service: the API's, not the others'", () => {
    const plan = (role: string, replace: ServicePlan["replace"]) =>
      ({ ...svc(role, role, 300, 100), replace }) as ServicePlan;
    expect(deployHeadroomMb([plan("api", "start-first"), plan("bot", "stop-first")])).toBe(300);
    expect(deployHeadroomMb([plan("bot", "stop-first")])).toBe(0);
  });

  it("is a line of its own, counted in the total; absent when 0", () => {
    expect(computeBudget(input({ deployHeadroomMb: 300, users: 10, perUserMb: 5 }))).toMatchObject({
      limitsMb: 700,
      deployHeadroomMb: 300,
      totalMb: 1150, // 100 + 700 + 300 + 50
      ramPercent: 115,
    });
    expect("deployHeadroomMb" in computeBudget(input({ deployHeadroomMb: 0 }))).toBe(false);
  });

  it("counts with the limits against RAM + swap: it is all in use at the moment of a switch", () => {
    // 700 + 300 + 100 = 1100 MB
    expect(check({ ramMb: 800, swapMb: 300, deployHeadroomMb: 300 }).errors).toEqual([]);
    expect(check({ ramMb: 800, swapMb: 299, deployHeadroomMb: 300, backupMb: 1 }).errors).toEqual([
      "budget: container limits (700 MB) + deploy headroom (300 MB) + system reserve (100 MB) + backup (1 MB) = 1101 MB " +
        "exceed RAM + swap (800 + 299 MB) on box: lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage",
    ]);
  });

  it("leaves less room for users and workers in the projection's advice", () => {
    // room for users: 1000 - 100 - 700 - 100 = 100 MB; with both workers gone the others still fill the box
    expect(check({ users: 100, perUserMb: 3, deployHeadroomMb: 100 }).errors).toEqual([
      "budget: projected memory 1200 MB (system reserve 100 + container limits 700 + deploy headroom 100 + users 100 × 3 MB) " +
        "exceeds RAM + swap (1000 + 0 MB) on box: not deployable, the kernel's OOM killer would decide what dies. " +
        "It fits with users ≤ 33 at perUserMb 3, or perUserMb ≤ 1; or raise server/memoryGb or swapGb",
    ]);
  });
});
