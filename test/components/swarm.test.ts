// components/swarm.ts under mocks, from the plan makePlan makes for a stage-4 stack: the overlay and
// one docker.Service per planned service, each input as the plan says and in the form the provider
// reads back (the VM lab's Swarm phase found each of these as a perpetual diff or a replace:
// durations, the overlay by id, the restart policy, the overlay's options), the secrets in a secret
// env only, and the stop step that must precede a worker service's delete.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { readScript } from "../../components/host";
import { goDuration, overlayOptions, serviceArgs, SwarmApp, type SwarmAppArgs } from "../../components/swarm";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { CORE_CONSTRAINT, WORKER_CONSTRAINT } from "../../src/plan/swarm-services";
import { cfg } from "../plan/fixtures";
import { recordComponents } from "../support/mocks";

const plan = (raw: Record<string, unknown> = {}) =>
  makePlan(cfg({ stage: 4, workerNodes: 2, ...raw }, "prod"), snapshotCatalog()).clusterDeploy!;

const CONNECTION = {
  host: "203.0.113.10",
  privateKey: pulumi.secret("DEPLOYPRIV"),
  hostKey: "ssh-ed25519 HOSTPUB",
};

function declare(
  raw: Record<string, unknown> = {},
  registryAuth?: SwarmAppArgs["registryAuth"],
  more: Pick<SwarmAppArgs, "steps" | "after" | "serverId"> = {},
) {
  const d = plan(raw);
  new SwarmApp("swarm", {
    plan: d.services,
    secrets: {
      botToken: pulumi.secret("123:BOT"),
      falKey: pulumi.secret("FALKEY"),
      env: pulumi.secret<Record<string, string>>({ SENTRY_DSN: "https://sentry.example/1" }),
    },
    provider: new docker.Provider("manager", { host: "ssh://root@203.0.113.10" }),
    stop: d.swarm.stop,
    manager: { connection: CONNECTION },
    ...(registryAuth ? { registryAuth } : {}),
    ...more,
  });
}

describe("goDuration: a duration as the provider reads it back (Go's String, shortened)", () => {
  it.each([
    [0, "0s"],
    [30, "30s"],
    [59, "59s"],
    [60, "1m"],
    [90, "1m30s"],
    [120, "2m"],
    [600, "10m"],
    [3599, "59m59s"],
    [3600, "1h"],
    [3660, "1h1m"],
    [3601, "1h0m1s"],
    [7322, "2h2m2s"],
  ])("%i s → %s", (s, text) => {
    expect(goDuration(s)).toBe(text);
  });

  it("refuses what is not whole seconds", () => {
    expect(() => goDuration(1.5)).toThrow(/whole seconds ≥ 0, got 1.5/);
    expect(() => goDuration(-1)).toThrow(/got -1/);
  });
});

describe("the overlay", () => {
  it("carries the link MTU, and encryption as the plan says", () => {
    const net = plan().services.network;
    expect(overlayOptions(net)).toEqual({ "com.docker.network.driver.mtu": "1450", encrypted: "" });
    expect(overlayOptions({ ...net, encrypted: false as true })).toEqual({
      "com.docker.network.driver.mtu": "1450",
    });
  });

  it("is declared once, its read-back options ignored and its planned ones a replacement trigger", async () => {
    const rec = await recordComponents(() => declare());
    const net = rec.one("docker:index/network:Network", "swarm-network");
    expect(net.inputs).toEqual({
      name: "app-infra",
      driver: "overlay",
      attachable: false,
      options: { "com.docker.network.driver.mtu": "1450", encrypted: "" },
    });
    expect(rec.options["swarm-network"]?.ignoreChanges).toEqual(["options"]);
    // Fixed name: replaced delete-first, its services (dependents) before it.
    expect(rec.options["swarm-network"]?.deleteBeforeReplace).toBe(true);
    expect(rec.options["swarm-network"]?.replacementTrigger).toBe(true);
    expect(rec.options["swarm-network"]?.provider).toContain("manager");
  });
});

describe("the core server's ID (a new server is a new, empty Docker and Swarm)", () => {
  it("replaces the overlay and every service when it changes; without it, the overlay's options alone", async () => {
    const rec = await recordComponents(() => declare({}, undefined, { serverId: "4711" }));
    const options = JSON.stringify(overlayOptions(plan().services.network));
    expect(rec.options["swarm-network"]?.replacementTriggerValue).toBe(`${options} on 4711`);
    for (const s of rec.byType("docker:index/service:Service"))
      expect(rec.options[s.name]?.replacementTriggerValue, s.name).toBe("4711");
    const none = await recordComponents(() => declare());
    expect(none.options["swarm-network"]?.replacementTriggerValue).toBe(options);
    for (const s of none.byType("docker:index/service:Service"))
      expect(none.options[s.name]?.replacementTrigger, s.name).toBe(false);
  });
});

describe("the services", () => {
  it("one per planned service, each after Redis and delete-first under its fixed name", async () => {
    const rec = await recordComponents(() => declare());
    const services = rec.byType("docker:index/service:Service");
    expect(services.map((s) => s.inputs.name).sort()).toEqual([
      "api",
      "bot",
      "proxy",
      "redis",
      "worker-image",
    ]);
    for (const s of services) {
      expect(rec.options[s.name]?.deleteBeforeReplace).toBe(true);
      expect(rec.options[s.name]?.dependsOn).toEqual(s.inputs.name === "redis" ? [] : ["swarm-redis"]);
    }
  });

  it("the workers: constrained to the worker nodes, their limits, grace period, order and command", async () => {
    const d = plan();
    const w = d.services.services.find((s) => s.name === "worker-image")!;
    const rec = await recordComponents(() => declare());
    const got = rec.one("docker:index/service:Service", "swarm-worker-image").inputs;
    expect(got.mode).toEqual({ replicated: { replicas: 4 } });
    expect(got.taskSpec.placement).toEqual({ constraints: [WORKER_CONSTRAINT], maxReplicas: 2 });
    expect(got.taskSpec.resources).toEqual({
      limits: { memoryBytes: w.memoryLimitMb * 1024 * 1024 },
      reservation: { memoryBytes: w.memoryReservationMb * 1024 * 1024 },
    });
    const c = got.taskSpec.containerSpec;
    // The plan's command is the image's CMD: `args`; the provider's `commands` is the entrypoint.
    expect(c.args).toEqual(w.command);
    expect(c.commands).toBeUndefined();
    expect(c.image).toBe(w.image);
    expect(c.stopGracePeriod).toBe(goDuration(w.stopGracePeriodS));
    expect(c.labels).toEqual([
      { label: "app-infra.stack", value: "prod" },
      { label: "app-infra.role", value: "worker" },
    ]);
    expect(got.updateConfig).toEqual({
      order: "stop-first",
      parallelism: 1,
      monitor: "30s",
      failureAction: "rollback",
    });
    expect(got.rollbackConfig).toEqual({ order: "stop-first", parallelism: 1, monitor: "30s" });
    expect(got.convergeConfig).toEqual({ timeout: "10m" });
    expect(got.taskSpec.restartPolicy).toEqual({
      condition: "any",
      delay: "5s",
      window: "0s",
      maxAttempts: 0,
    });
    // The overlay by its id (the provider reads `id` back; `name` replaced the service each refresh).
    expect(got.taskSpec.networksAdvanceds).toEqual([{ id: "swarm-network-id" }]);
    expect(got.endpointSpec).toEqual({ mode: "vip", ports: [] });
  });

  it("Redis: on the core node, by DNS round robin, on its volume, with its healthcheck", async () => {
    const r = plan().services.services.find((s) => s.name === "redis")!;
    const rec = await recordComponents(() => declare());
    const got = rec.one("docker:index/service:Service", "swarm-redis").inputs;
    expect(got.taskSpec.placement).toEqual({ constraints: [CORE_CONSTRAINT] });
    expect(got.endpointSpec).toEqual({ mode: "dnsrr", ports: [] });
    expect(got.taskSpec.containerSpec.mounts).toEqual([
      { type: "volume", source: "redis-data", target: "/data" },
    ]);
    expect(got.taskSpec.containerSpec.healthcheck).toEqual({
      tests: r.healthcheck!.test,
      interval: goDuration(r.healthcheck!.intervalS),
      timeout: goDuration(r.healthcheck!.timeoutS),
      retries: r.healthcheck!.retries,
      startPeriod: goDuration(r.healthcheck!.startPeriodS),
    });
  });

  it("the proxy publishes its ports on the core node itself (host mode)", async () => {
    const rec = await recordComponents(() => declare());
    const got = rec.one("docker:index/service:Service", "swarm-proxy").inputs;
    expect(got.endpointSpec.ports).toEqual([
      { targetPort: 80, publishedPort: 80, publishMode: "host", protocol: "tcp" },
      { targetPort: 443, publishedPort: 443, publishMode: "host", protocol: "tcp" },
    ]);
  });

  it("secrets: only in the env of the services that take them, as a secret map; the rest plain", async () => {
    const rec = await recordComponents(() => declare());
    const env = (n: string) => rec.one("docker:index/service:Service", `swarm-${n}`);
    expect(env("bot").inputs.taskSpec.containerSpec.env).toMatchObject({
      BOT_TOKEN: "123:BOT",
      FAL_KEY: "FALKEY",
      SENTRY_DSN: "https://sentry.example/1",
    });
    expect(env("worker-image").inputs.taskSpec.containerSpec.env).toMatchObject({ FAL_KEY: "FALKEY" });
    expect(env("worker-image").inputs.taskSpec.containerSpec.env.BOT_TOKEN).toBeUndefined();
    // Secret where the env is: under these mocks the SDK reports the enclosing taskSpec; the real
    // engine keeps it to the env, the image and limits readable (the VM lab's Swarm phase checks the
    // state). Redis takes no secret, so nothing of it is secret.
    const envPath = "taskSpec.containerSpec.env";
    for (const n of ["bot", "worker-image", "api"]) {
      const paths = env(n).secretInputs;
      expect(paths.length, n).toBeGreaterThan(0);
      expect(
        paths.every((p) => envPath === p || envPath.startsWith(`${p}.`)),
        `${n}: ${paths}`,
      ).toBe(true);
    }
    expect(env("redis").secretInputs).toEqual([]);
    expect(env("redis").inputs.taskSpec.containerSpec.env).toEqual({});
  });

  it("a registry login goes to every service's auth, its password secret; none without one", async () => {
    const auth = { address: "ghcr.io", username: "bot", password: pulumi.secret("REGPASS") };
    const rec = await recordComponents(() => declare({}, auth));
    for (const s of rec.byType("docker:index/service:Service")) {
      expect(s.inputs.auth, s.name).toEqual({
        serverAddress: "ghcr.io",
        username: "bot",
        password: "REGPASS",
      });
      // The mocks report the enclosing input; what matters is that the password is under a secret.
      expect(
        s.secretInputs.some((p) => p === "auth" || p === "auth.password"),
        s.name,
      ).toBe(true);
    }
    const plain = await recordComponents(() => declare());
    for (const s of plain.byType("docker:index/service:Service"))
      expect(s.inputs.auth, s.name).toBeUndefined();
  });

  it("a secret that is not set is left out of the env, not set empty", async () => {
    const d = plan();
    const rec = await recordComponents(() => {
      new SwarmApp("swarm", {
        plan: d.services,
        secrets: { env: pulumi.output<Record<string, string>>({}) },
        provider: new docker.Provider("manager", {}),
        stop: d.swarm.stop,
        manager: { connection: CONNECTION },
      });
    });
    const env = rec.one("docker:index/service:Service", "swarm-bot").inputs.taskSpec.containerSpec.env;
    expect(Object.keys(env)).not.toContain("BOT_TOKEN");
    expect(Object.keys(env)).not.toContain("FAL_KEY");
    expect(env).toMatchObject(d.services.services.find((s) => s.name === "bot")!.env);
  });

  it("serviceArgs leaves out what the plan has not: no args without a command, no maxReplicas without a limit", () => {
    const bot = plan().services.services.find((s) => s.name === "bot")!;
    const a = serviceArgs(bot, { convergeTimeoutS: 90, updateMonitorS: 15 }, "net-id", {}) as any;
    expect("args" in a.taskSpec.containerSpec).toBe(false);
    expect("healthcheck" in a.taskSpec.containerSpec).toBe(false);
    expect(a.taskSpec.placement).toEqual({ constraints: [CORE_CONSTRAINT] });
    expect(a.convergeConfig).toEqual({ timeout: "1m30s" });
    expect(a.updateConfig.monitor).toBe("15s");
    // The bot: one replica, stopped before its successor starts (Telegram's single long-poller).
    expect(a.mode).toEqual({ replicated: { replicas: 1 } });
    expect(a.updateConfig.order).toBe("stop-first");
  });
});

describe("the stop step before a worker service's delete", () => {
  it("a Command on the core node per service off it, depending on that service, its script on stdin", async () => {
    const d = plan();
    const rec = await recordComponents(() => declare());
    const stops = rec.byType("command:remote:Command");
    expect(stops.map((s) => s.name)).toEqual(["swarm-worker-image-stop"]);
    const stop = stops[0]!.inputs;
    expect(stop.create).toBe("true");
    // For this service's ID only, and replaced (so run first) when the service is replaced.
    expect(stop.delete).toBe(
      `bash -s -- ${d.swarm.stop["worker-image"]!.args.join(" ")} swarm-worker-image-id`,
    );
    expect(stop.triggers).toEqual(["swarm-worker-image-id"]);
    expect(stop.stdin).toBe(readScript("swarm-node.sh"));
    expect(stop.connection).toMatchObject({ host: "203.0.113.10" });
    // Its output in the engine's log; no earlier output in its environment.
    expect(stop.logging).toBe("stdoutAndStderr");
    expect(stop.addPreviousOutputInEnv).toBe(false);
    expect(rec.options["swarm-worker-image-stop"]?.dependsOn).toEqual(["swarm-worker-image"]);
  });

  it("refuses a stop step without the manager's login (an internal error, not a silent skip)", async () => {
    const d = plan();
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      "app-infra",
      "unit",
      false,
    );
    expect(
      () =>
        new SwarmApp("swarm", {
          plan: d.services,
          secrets: { env: pulumi.output<Record<string, string>>({}) },
          provider: new docker.Provider("manager", {}),
          stop: d.swarm.stop,
        }),
    ).toThrow(/the Swarm.s steps have no manager login/);
  });
});

describe("a stage 3 → 4 move's retirement of the one box, and the proxy's switch to the API service", () => {
  const withSteps = () => {
    const d = plan();
    const formed = new pulumi.ComponentResource("test:index:Thing", "cluster-formed");
    declare({}, undefined, { steps: { retire: d.swarm.retire, gate: d.swarm.gate }, after: [formed] });
  };

  it("retires after the Swarm is formed and the overlay exists, and before any service", async () => {
    const d = plan();
    const rec = await recordComponents(withSteps);
    const retire = rec.one("command:remote:Command", "swarm-retire").inputs;
    expect(retire.create).toBe(`bash -s -- ${d.swarm.retire.args.join(" ")}`);
    expect(retire.create).toBe("bash -s -- retire prod worker bot proxy api redis");
    expect(retire.stdin).toBe(readScript("swarm-node.sh"));
    expect(retire.delete).toBeUndefined();
    expect(retire.connection).toMatchObject({ host: "203.0.113.10" });
    expect(rec.options["swarm-retire"]?.dependsOn).toEqual(["swarm-network", "cluster-formed"]);
    expect(rec.options["swarm-network"]?.dependsOn).toEqual(["cluster-formed"]);
    for (const s of rec.byType("docker:index/service:Service"))
      expect(rec.options[s.name]?.dependsOn?.[0], s.name).toBe("swarm-retire");
  });

  it("switches the proxy after the proxy and API services run, again whenever either is re-created", async () => {
    const d = plan();
    const rec = await recordComponents(withSteps);
    const gate = rec.one("command:remote:Command", "swarm-gate").inputs;
    expect(gate.create).toBe(`bash -s -- ${d.swarm.gate.args.join(" ")}`);
    expect(gate.stdin).toBe(readScript("swarm-node.sh"));
    expect(gate.delete).toBeUndefined();
    expect(gate.triggers).toEqual(["swarm-proxy-id", "swarm-api-id"]);
    expect(rec.options["swarm-gate"]?.dependsOn).toEqual(["swarm-proxy", "swarm-api"]);
  });

  it("refuses a gate naming a service the plan lacks (an internal error, not a silent skip)", async () => {
    const d = plan();
    const gate = { ...d.swarm.gate, args: d.swarm.gate.args.map((a, i) => (i === 2 ? "edge" : a)) };
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      "app-infra",
      "unit",
      false,
    );
    expect(() => declare({}, undefined, { steps: { gate } })).toThrow(
      /the gate names service edge, which the plan lacks/,
    );
    // The component's own registration, begun before the throw, settles before the next test's mocks.
    await new Promise((r) => setTimeout(r, 100));
  });

  it("each step on its own: the retire step without a gate (the lab's program declares no proxy)", async () => {
    const d = plan();
    const rec = await recordComponents(() => declare({}, undefined, { steps: { retire: d.swarm.retire } }));
    expect(rec.byType("command:remote:Command").map((c) => c.name)).toEqual([
      "swarm-retire",
      "swarm-worker-image-stop",
    ]);
  });

  it("without steps, neither is declared and the services wait for nothing more", async () => {
    const rec = await recordComponents(() => declare());
    expect(rec.byType("command:remote:Command").map((c) => c.name)).toEqual(["swarm-worker-image-stop"]);
    expect(rec.options["swarm-network"]?.dependsOn ?? []).toEqual([]);
  });
});
