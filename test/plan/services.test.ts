import { describe, expect, it, vi } from "vitest";
import { KEY_BY_PATH } from "../../src/config/keys";
import { SERVICE_DEFAULT_LIMITS } from "../../src/plan/service-defaults";
import { defaultMaxmemoryMb, planServices, redisUrl } from "../../src/plan/services";
import { cfg } from "./fixtures";

const byName = (raw: Record<string, unknown> = {}, workers = 2) =>
  Object.fromEntries(planServices(cfg(raw), workers).map((s) => [s.name, s]));

describe("services plan: the note's containers", () => {
  it("has redis, proxy, api, bot and worker-image-1..N in that order", () => {
    expect(planServices(cfg(), 3).map((s) => s.name)).toEqual([
      "redis",
      "proxy",
      "api",
      "bot",
      "worker-image-1",
      "worker-image-2",
      "worker-image-3",
    ]);
  });

  it("keeps the note's limits and reservations", () => {
    const s = byName();
    expect([s.redis!.memoryMb, s.redis!.memoryReservationMb]).toEqual([256, 64]);
    expect([s.api!.memoryMb, s.api!.memoryReservationMb]).toEqual([200, 120]);
    expect([s.bot!.memoryMb, s.bot!.memoryReservationMb]).toEqual([150, 100]);
    expect([s["worker-image-2"]!.memoryMb, s["worker-image-2"]!.memoryReservationMb]).toEqual([250, 100]);
  });

  it("the documented defaults are the planner's: one table feeds both (src/plan/service-defaults.ts)", () => {
    const doc = (path: string) => KEY_BY_PATH.get(path)?.defaultText;
    expect(
      ["redis", "api", "bot", "worker"].map((r) => [
        doc(`services/${r}/memoryMb`),
        doc(`services/${r}/reservationMb`),
      ]),
    ).toEqual([
      ["256", "64"],
      ["200", "120"],
      ["150", "100"],
      ["250", "100"],
    ]);
    expect(SERVICE_DEFAULT_LIMITS.worker).toEqual({ memoryMb: 250, reservationMb: 100 });
  });

  it("workers swap their limit by default only when the host has swap", () => {
    const worker = (hostSwap: boolean, raw: Record<string, unknown> = {}) =>
      planServices(cfg(raw), 1, hostSwap).find((s) => s.role === "worker");
    expect(worker(true)).toMatchObject({ swapMb: 250, memorySwapMb: 500 });
    expect(worker(false)).toMatchObject({ swapMb: 0, memorySwapMb: 250 });
    // An explicit value is kept either way (the budget refuses it on a host without swap).
    expect(worker(false, { services: { worker: { swapMb: 80 } } })).toMatchObject({ swapMb: 80 });
    expect(planServices(cfg(), 1, false).find((s) => s.role === "api")?.swapMb).toBe(0);
  });

  it("runs uvicorn with the note's knobs", () => {
    expect(byName().api!.command).toEqual([
      "uvicorn",
      "app.web.api:app",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
      "--workers",
      "2",
      "--limit-concurrency",
      "150",
    ]);
    expect(
      byName({ services: { api: { port: 9000, workers: 3, limitConcurrency: 50 } } }).api!.command,
    ).toEqual([
      "uvicorn",
      "app.web.api:app",
      "--host",
      "0.0.0.0",
      "--port",
      "9000",
      "--workers",
      "3",
      "--limit-concurrency",
      "50",
    ]);
  });
});

describe("services plan: the note's defects, fixed", () => {
  it("1: Redis maxmemory is half its container limit, not 512mb inside 256M", () => {
    expect(byName().redis!.command).toEqual([
      "redis-server",
      "--appendonly",
      "yes",
      "--save",
      "--dir",
      "/data",
      "--maxmemory",
      "128mb",
      "--maxmemory-policy",
      "noeviction",
      "--protected-mode",
      "no",
    ]);
    expect(byName({ services: { redis: { memoryMb: 512 } } }).redis!.command).toContain("256mb");
    expect(defaultMaxmemoryMb(257)).toBe(128);
  });

  it("2: the queue's Redis does not evict (noeviction by default)", () => {
    const cmd = byName().redis!.command!;
    expect(cmd[cmd.indexOf("--maxmemory-policy") + 1]).toBe("noeviction");
  });

  it("3: workers restart after --max-jobs exits 0", () => {
    const w = byName()["worker-image-1"]!;
    expect(w.command).toEqual([
      "rq",
      "worker",
      "--url",
      "redis://redis:6379/0",
      "--max-jobs",
      "15",
      "img_queue",
    ]);
    expect(["unless-stopped", "always"]).toContain(w.restart);
  });

  it("4: workers reach Redis by its service name, never 127.0.0.1", () => {
    for (const s of planServices(cfg(), 2)) {
      expect(JSON.stringify(s)).not.toContain("127.0.0.1:6379");
      if (s.role !== "redis" && s.role !== "proxy") expect(s.env.REDIS_URL).toBe(redisUrl());
    }
    expect(redisUrl()).toBe("redis://redis:6379/0");
  });

  it("6: every service has an explicit swap allowance (memorySwap = memory + swap)", () => {
    const s = byName();
    expect(s.redis).toMatchObject({ swapMb: 0, memorySwapMb: 256 });
    expect(s.api).toMatchObject({ swapMb: 0, memorySwapMb: 200 });
    expect(s.bot).toMatchObject({ swapMb: 0, memorySwapMb: 150 });
    expect(s["worker-image-1"]).toMatchObject({ swapMb: 250, memorySwapMb: 500 });
    expect(byName({ services: { worker: { swapMb: 0 } } })["worker-image-1"]).toMatchObject({
      memorySwapMb: 250,
    });
  });

  it("the bot and the proxy (it holds 80 and 443) are singletons; nothing else is", () => {
    expect(
      planServices(cfg(), 2)
        .filter((s) => s.singleton)
        .map((s) => s.name),
    ).toEqual(["proxy", "bot"]);
  });

  it("Redis is never published on a host port, nor the API; only the edge proxy is", () => {
    const s = byName();
    expect(s.redis!.ports).toEqual([]);
    expect(s.api!.ports).toEqual([]);
    expect(s.proxy!.ports).toEqual([
      { internal: 80, external: 80 },
      { internal: 443, external: 443 },
    ]);
    expect(s.bot!.ports).toEqual([]);
  });

  it("secrets are named, never inlined", () => {
    const s = byName();
    expect(s.bot!.secretEnv).toContain("BOT_TOKEN");
    expect(s.api!.secretEnv).not.toContain("BOT_TOKEN");
    expect(s["worker-image-1"]!.secretEnv).toEqual(["FAL_KEY", "EXTRA_ENV"]);
  });

  it("a lowered limit lowers the default reservation with it", () => {
    expect(byName({ services: { api: { memoryMb: 100 } } }).api).toMatchObject({
      memoryMb: 100,
      memoryReservationMb: 100,
    });
  });
});

describe("services plan: what the Docker provider accepts", () => {
  it('no container command has an empty element (the provider refuses it: "values for command may not be empty")', () => {
    for (const raw of [
      {},
      { services: { redis: { appendonly: false } } },
      { services: { redis: { appendonly: true } } },
    ]) {
      for (const s of planServices(cfg(raw), 2)) {
        expect(s.command ?? [], `${s.name} with ${JSON.stringify(raw)}`).not.toContain("");
      }
    }
  });
});

describe("each service's wiring, written out (a non-default API port and health path)", () => {
  it("names, aliases, volumes, secrets and the API's health check", () => {
    const s = byName({ services: { api: { port: 8081, healthPath: "/healthz" } } }, 3);
    expect(Object.values(s).map((x) => [x.name, x.alias, x.role])).toEqual([
      ["redis", "redis", "redis"],
      ["proxy", "proxy", "proxy"],
      ["api", "api", "api"],
      ["bot", "bot", "bot"],
      ["worker-image-1", "worker-image-1", "worker"],
      ["worker-image-2", "worker-image-2", "worker"],
      ["worker-image-3", "worker-image-3", "worker"],
    ]);
    expect(s.redis!.volumes).toEqual([{ volume: "redis-data", containerPath: "/data" }]);
    expect(s.redis!.secretEnv).toEqual([]);
    expect(s.api!.secretEnv).toEqual(["FAL_KEY", "EXTRA_ENV"]);
    expect(s.bot!.secretEnv).toEqual(["BOT_TOKEN", "FAL_KEY", "EXTRA_ENV"]);
    expect(s.api!.volumes).toEqual([]);
    expect(s.api!.ports).toEqual([]);
    expect(s.api!.command).toContain("8081");
    expect(s.api!.healthcheck?.test).toEqual([
      "CMD",
      "python3",
      "-c",
      'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8081/healthz", timeout=4)',
    ]);
    expect(s.bot!.singleton).toBe(true);
    expect(s["worker-image-3"]!.singleton).toBe(false);
    expect(redisUrl()).toBe("redis://redis:6379/0");
  });
});

describe("services: the module's constants, from a fresh load (they are made when it loads)", () => {
  const fresh = async () => {
    vi.resetModules();
    return import("../../src/plan/services");
  };

  it("Redis' volume is redis-data and the apps reach Redis at redis://redis:6379/0", async () => {
    const S = await fresh();
    expect(S.REDIS_VOLUME).toBe("redis-data");
    expect(S.redisUrl()).toBe("redis://redis:6379/0");
    const [redis, , api] = S.planServices(cfg(), 1);
    expect(redis!.volumes).toEqual([{ volume: "redis-data", containerPath: "/data" }]);
    expect(api!.env.REDIS_URL).toBe("redis://redis:6379/0");
  });

  it("without AOF, Redis keeps its default RDB saves: no --save at all", async () => {
    const S = await fresh();
    expect(S.redisCommand(cfg({ services: { redis: { appendonly: false } } }), 256)).toEqual([
      "redis-server",
      "--appendonly",
      "no",
      "--dir",
      "/data",
      "--maxmemory",
      "128mb",
      "--maxmemory-policy",
      "noeviction",
      "--protected-mode",
      "no",
    ]);
  });
});

describe("how each service is replaced (issue 14)", () => {
  it("the API starts first, beside the old one; every other service stops first", () => {
    expect(planServices(cfg(), 2).map((s) => [s.name, s.replace])).toEqual([
      ["redis", "stop-first"],
      ["proxy", "stop-first"],
      ["api", "start-first"],
      ["bot", "stop-first"],
      ["worker-image-1", "stop-first"],
      ["worker-image-2", "stop-first"],
    ]);
  });
});
