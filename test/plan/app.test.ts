import { describe, expect, it } from "vitest";
import { containerEnvList, goDuration, planApp, repositoryOf } from "../../src/plan/app";
import { planEdge } from "../../src/plan/proxy";
import { planServices } from "../../src/plan/services";
import { cfg } from "./fixtures";

describe("the repository of an image reference (the digest replaces its tag)", () => {
  it.each([
    ["redis:7.4.6-alpine", "redis"],
    ["ghcr.io/acme/app:1.4.2", "ghcr.io/acme/app"],
    ["registry.example:5000/team/app:latest", "registry.example:5000/team/app"],
    ["registry.example:5000/team/app", "registry.example:5000/team/app"],
    ["ghcr.io/acme/app:1.4.2@sha256:abc", "ghcr.io/acme/app"],
    ["app", "app"],
  ])("%s → %s", (ref, repo) => {
    expect(repositoryOf(ref)).toBe(repo);
  });
});

describe("healthcheck durations, written as Go prints them (the provider reads them back so)", () => {
  it.each([
    [0, "0s"],
    [5, "5s"],
    [59, "59s"],
    [60, "1m0s"],
    [90, "1m30s"],
    [3600, "1h0m0s"],
    [3725, "1h2m5s"],
  ])("%i s → %s", (s, text) => {
    expect(goDuration(s)).toBe(text);
  });
});

describe("the app slice", () => {
  const app = (raw: Record<string, unknown> = {}) =>
    planApp(cfg(raw, "qa"), planServices(cfg(raw, "qa"), 2), planEdge(cfg(raw, "qa")));

  it("Redis first, then the plan's order; every other container starts after Redis, each worker after the one before it (replaced one at a time)", () => {
    const a = app();
    expect(a.containers.map((c) => [c.name, c.after])).toEqual([
      ["redis", []],
      ["proxy", []],
      ["api", ["redis"]],
      ["bot", ["redis"]],
      ["worker-image-1", ["redis"]],
      ["worker-image-2", ["redis", "worker-image-1"]],
    ]);
    expect(
      app({ stage: 3 })
        .containers.filter((c) => c.role === "worker")
        .map((c) => c.after),
    ).toEqual(
      planServices(cfg({ stage: 3 }, "qa"), 2)
        .filter((s) => s.role === "worker")
        .map((_, i) => (i === 0 ? ["redis"] : ["redis", `worker-image-${i}`])),
    );
  });

  it("names, labels, logs and waiting are the plan's", () => {
    const a = app();
    expect(a.network).toEqual({
      resource: "network",
      name: "app-infra",
      driver: "bridge",
      labels: [{ label: "app-infra.stack", value: "qa" }],
    });
    const labels = [{ label: "app-infra.stack", value: "qa" }];
    expect(a.volumes).toEqual([
      { resource: "redis-data", name: "redis-data", labels, retainOnDelete: true },
      { resource: "kamal-proxy-config", name: "kamal-proxy-config", labels, retainOnDelete: true },
    ]);
    expect(a.volume).toBe(a.volumes[0]);
    const bot = a.containers.find((c) => c.name === "bot")!;
    expect(bot).toMatchObject({
      resource: "bot",
      hostname: "bot",
      networkAliases: ["bot"],
      healthcheck: undefined,
      wait: false,
      waitTimeoutS: 120,
      destroyGraceSeconds: 30,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      labels: [
        { label: "app-infra.stack", value: "qa" },
        { label: "app-infra.role", value: "bot" },
      ],
    });
    const redis = a.containers[0]!;
    expect(redis.healthcheck).toEqual({
      tests: ["CMD", "redis-cli", "PING"],
      interval: "10s",
      timeout: "3s",
      retries: 5,
      startPeriod: "5s",
    });
    expect(redis.wait).toBe(true);
    expect(a.containers.find((c) => c.name === "worker-image-2")!.destroyGraceSeconds).toBe(120);
  });

  it("images: one per service, by digest unless pinned or digests are off", () => {
    const pinned = `ghcr.io/acme/bot@sha256:${"c".repeat(64)}`;
    const a = app({ images: { api: "ghcr.io/acme/api:1.2", bot: pinned } });
    expect(a.images.map((i) => [i.resource, i.role, i.resolveDigest, i.repository])).toEqual([
      ["image-redis", "redis", true, "redis"],
      ["image-proxy", "proxy", true, "basecamp/kamal-proxy"],
      ["image-api", "api", true, "ghcr.io/acme/api"],
      ["image-bot", "bot", false, "ghcr.io/acme/bot"],
      ["image-worker", "worker", true, "ghcr.io/example/app"],
    ]);
    expect(a.digestLookup).toBe(true);
    const off = app({ imageDigests: "off" });
    expect(off.digestLookup).toBe(false);
    expect(off.images.every((i) => !i.resolveDigest && i.keepLocally)).toBe(true);
  });

  it("registry credentials only when a registry is configured", () => {
    expect(app().registryAuth).toBeUndefined();
    expect(
      app({ registry: { server: "ghcr.io", username: "bob" }, registryPassword: "pw" }).registryAuth,
    ).toEqual({
      address: "ghcr.io",
      username: "bob",
    });
  });
});

describe("a container's environment", () => {
  const secrets = { botToken: "TOK", falKey: "FAL", extra: { EXTRA: "x", REDIS_URL: "nope" } };
  it("adds only the secrets the container asks for, sorted, plan values winning over `env`", () => {
    expect(
      containerEnvList({ env: { REDIS_URL: "r", A: "1" }, secretEnv: ["FAL_KEY", "EXTRA_ENV"] }, secrets),
    ).toEqual(["A=1", "EXTRA=x", "FAL_KEY=FAL", "REDIS_URL=r"]);
    expect(containerEnvList({ env: {}, secretEnv: ["BOT_TOKEN"] }, secrets)).toEqual(["BOT_TOKEN=TOK"]);
    expect(containerEnvList({ env: {}, secretEnv: [] }, secrets)).toEqual([]);
  });
  it("leaves out a secret that is not set", () => {
    expect(
      containerEnvList(
        { env: {}, secretEnv: ["BOT_TOKEN", "FAL_KEY"] },
        { botToken: "", falKey: "", extra: {} },
      ),
    ).toEqual([]);
  });
});

describe("release names (issue 14)", () => {
  it("only the start-first API is named by its release, salted by the release key", () => {
    const named = (raw: Record<string, unknown>) =>
      planApp(cfg(raw, "qa"), planServices(cfg(raw, "qa"), 1), planEdge(cfg(raw, "qa"))).containers.map(
        (c) => [c.name, c.release],
      );
    expect(named({})).toEqual([
      ["redis", undefined],
      ["proxy", undefined],
      ["api", { salt: "" }],
      ["bot", undefined],
      ["worker-image-1", undefined],
    ]);
    expect(named({ release: "4711-1" })[2]).toEqual(["api", { salt: "4711-1" }]);
  });
});

describe("planApp's order and guards", () => {
  it("Redis first whatever the services' order; every container must run", () => {
    const c = cfg({ stage: 2 });
    const services = planServices(c, 2);
    const reversed = [...services].reverse();
    const app = planApp(c, reversed, planEdge(c));
    expect(app.containers.map((x) => x.name)).toEqual([
      "redis",
      "worker-image-2",
      "worker-image-1",
      "bot",
      "api",
      "proxy",
    ]);
    expect(app.containers.every((x) => x.mustRun === true)).toBe(true);
  });

  it("the sort moves Redis ahead of the others only: two Redis services keep their own order", () => {
    const c = cfg({ stage: 1 });
    const [redis, ...others] = planServices(c, 1);
    const second = { ...redis!, name: "redis-b" };
    expect(planApp(c, [redis!, second, ...others], planEdge(c)).containers.map((x) => x.name)).toEqual([
      "redis",
      "redis-b",
      "proxy",
      "api",
      "bot",
      "worker-image-1",
    ]);
  });

  it("a duration must be whole, non-negative seconds", () => {
    expect(() => goDuration(1.5)).toThrow("internal: duration must be whole seconds, got 1.5");
    expect(() => goDuration(-1)).toThrow("internal: duration must be whole seconds, got -1");
  });
});
