// components/app.ts alone, from a hand-written `app` slice: names, labels, limits, healthchecks,
// order and images reach their inputs as the slice says; env merges the secrets the slice asks for.
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { App, containerEnv } from "../../components/app";
import type { AppPlan, ContainerSpec } from "../../src/plan/app";
import { isSecret, mockDigest, mockImageId, recordComponents, unwrap } from "../support/mocks";

const base: Omit<ContainerSpec, "resource" | "name" | "hostname" | "role" | "after"> = {
  command: undefined,
  memoryMb: 100,
  memoryReservationMb: 50,
  memorySwapMb: 100,
  restart: "unless-stopped",
  stopTimeoutS: 11,
  destroyGraceSeconds: 12,
  networkAliases: [],
  volumes: [],
  ports: [],
  env: {},
  secretEnv: [],
  healthcheck: undefined,
  wait: false,
  waitTimeoutS: 33,
  mustRun: true,
  logDriver: "local",
  logOpts: { k: "v" },
  labels: [],
  deleteBeforeReplace: true,
};
const PLAN: AppPlan = {
  network: { resource: "net", name: "net-name", driver: "bridge", labels: [{ label: "n", value: "1" }] },
  volumes: [
    { resource: "vol", name: "vol-name", labels: [{ label: "v", value: "2" }], retainOnDelete: true },
    { resource: "scratch", name: "scratch-name", labels: [], retainOnDelete: false },
  ],
  volume: { resource: "vol", name: "vol-name", labels: [{ label: "v", value: "2" }], retainOnDelete: true },
  registryAuth: { address: "registry.example", username: "u" },
  gate: {
    resource: "web-switch",
    proxyContainer: "db",
    container: "web",
    service: "svc",
    port: 81,
    healthPath: "/hc",
    host: undefined,
    tls: false,
    deployTimeoutS: 7,
    drainTimeoutS: 8,
  },
  digestLookup: true,
  images: [
    {
      resource: "img-db",
      role: "redis",
      reference: "db:1",
      resolveDigest: true,
      repository: "db",
      keepLocally: true,
    },
    {
      resource: "img-web",
      role: "api",
      reference: "web@sha256:" + "b".repeat(64),
      resolveDigest: false,
      repository: "web",
      keepLocally: false,
    },
  ],
  containers: [
    {
      ...base,
      resource: "c-db",
      name: "db",
      hostname: "db-host",
      role: "redis",
      after: [],
      volumes: [
        { volume: "vol-name", containerPath: "/data" },
        { volume: "other", containerPath: "/x" },
        { volume: "scratch-name", containerPath: "/s" },
      ],
      healthcheck: {
        tests: ["CMD", "true"],
        interval: "1m30s",
        timeout: "5s",
        retries: 2,
        startPeriod: "0s",
      },
      wait: true,
    },
    {
      ...base,
      resource: "c-web",
      name: "web",
      release: { salt: "s" },
      deleteBeforeReplace: false,
      hostname: "web",
      role: "api",
      after: ["db"],
      command: ["serve"],
      networkAliases: ["web-alias"],
      ports: [{ internal: 1, external: 2 }],
      env: { PLAIN: "p", BOT_TOKEN: "plan-wins" },
      secretEnv: ["BOT_TOKEN", "EXTRA_ENV"],
      labels: [{ label: "l", value: "w" }],
    },
  ],
};

let rec: Awaited<ReturnType<typeof recordComponents>>;
// Per test, not in beforeAll, so that mutation testing can score it (see recordComponents).
beforeEach(async () => {
  rec = await recordComponents(() => {
    const dockerReady = new pulumi.ComponentResource("test:index:Ready", "docker-ready");
    new App("a", {
      serverId: "server-17",
      dependsOn: [dockerReady],
      plan: PLAN,
      secrets: {
        botToken: pulumi.secret("TOKEN"),
        falKey: pulumi.secret("FAL"),
        env: pulumi.secret<Record<string, string>>({ EXTRA: "e", PLAIN: "overridden?" }),
        registryPassword: pulumi.secret("PW"),
      },
    });
  });
});
const container = (n: string) => rec.one("docker:index/container:Container", n);

describe("App maps the plan's app slice", () => {
  it("network and volumes: the slice's names, drivers and labels", () => {
    expect(rec.one("docker:index/network:Network", "a-net").inputs).toEqual({
      name: "net-name",
      driver: "bridge",
      labels: [{ label: "n", value: "1" }],
    });
    expect(rec.one("docker:index/volume:Volume", "a-vol").inputs).toEqual({
      name: "vol-name",
      labels: [{ label: "v", value: "2" }],
    });
    expect(rec.one("docker:index/volume:Volume", "a-scratch").inputs).toEqual({
      name: "scratch-name",
      labels: [],
    });
    expect(rec.byType("docker:index/volume:Volume")).toHaveLength(2);
  });

  it("images: by digest where the slice says so, as given otherwise, with the slice's keepLocally", () => {
    expect(rec.one("docker:index/remoteImage:RemoteImage", "a-img-db").inputs).toEqual({
      name: `db@${mockDigest("db:1")}`,
      keepLocally: true,
    });
    expect(rec.one("docker:index/remoteImage:RemoteImage", "a-img-web").inputs).toEqual({
      name: "web@sha256:" + "b".repeat(64),
      keepLocally: false,
    });
  });

  it("the digest lookup asks the registry-only provider (it holds the credentials), once per image that wants it", () => {
    const lookups = rec.invokes.filter((i) => i.token === "docker:index/getRegistryImage:getRegistryImage");
    expect(lookups.map((i) => i.inputs.name)).toEqual(["db:1"]);
    // A provider reference is `<urn>::<id>`; the mocks give a resource the id `<name>-id`.
    expect(lookups[0].provider).toBe(
      "urn:pulumi:unit::app-infra::app-infra:index:App$pulumi:providers:docker::a-registry::a-registry-id",
    );
  });

  it("the providers carry the registry credentials; the registry-only one has no host", () => {
    const auth = [{ address: "registry.example", username: "u", password: "PW" }];
    const docker = rec.one("pulumi:providers:docker", "a-docker").inputs;
    const registry = rec.one("pulumi:providers:docker", "a-registry").inputs;
    for (const p of [docker, registry])
      expect(typeof p.registryAuth === "string" ? JSON.parse(p.registryAuth) : p.registryAuth).toEqual(auth);
    expect(registry.host).toBeUndefined();
  });

  it("containers in the slice's order, each setting from the slice", () => {
    expect(rec.byType("docker:index/container:Container").map((c) => c.name)).toEqual(["a-c-db", "a-c-web"]);
    expect(container("a-c-db").inputs).toMatchObject({
      name: "db",
      hostname: "db-host",
      image: mockImageId(`db@${mockDigest("db:1")}`),
      memory: 100,
      memoryReservation: 50,
      memorySwap: 100,
      restart: "unless-stopped",
      stopTimeout: 11,
      destroyGraceSeconds: 12,
      networksAdvanced: [{ name: "net-name", aliases: [] }],
      volumes: [
        { volumeName: "vol-name", containerPath: "/data" },
        { volumeName: "other", containerPath: "/x" },
        { volumeName: "scratch-name", containerPath: "/s" },
      ],
      healthcheck: {
        tests: ["CMD", "true"],
        interval: "1m30s",
        timeout: "5s",
        retries: 2,
        startPeriod: "0s",
      },
      wait: true,
      waitTimeout: 33,
      mustRun: true,
      logDriver: "local",
      logOpts: { k: "v" },
    });
    expect(container("a-c-web").inputs).toMatchObject({
      image: mockImageId("web@sha256:" + "b".repeat(64)),
      command: ["serve"],
      networksAdvanced: [{ name: "net-name", aliases: ["web-alias"] }],
      ports: [{ internal: 1, external: 2 }],
      labels: [{ label: "l", value: "w" }],
      wait: false,
    });
    expect(container("a-c-web").inputs.healthcheck).toBeUndefined();
    // Release-named: the base, then the id of its resolved inputs (src/plan/release.ts).
    expect(container("a-c-web").inputs.name).toMatch(/^web-[0-9a-f]{12}$/);
    expect(container("a-c-web").secretInputs).not.toContain("name");
  });

  it("env: the secrets the slice asks for, plan values over free-form env, all secret", () => {
    const web = container("a-c-web");
    expect(web.inputs.envs).toEqual(["BOT_TOKEN=plan-wins", "EXTRA=e", "PLAIN=p"]);
    expect(web.secretInputs).toContain("envs");
    expect(container("a-c-db").inputs.envs).toEqual([]);
  });

  it("resource options: the volume outlives the App; stop-first containers go before their successors start, start-first ones after", () => {
    const o = rec.options;
    // Every Docker resource is replaced with the server (its ID is the trigger) and uses the host's provider.
    for (const n of ["a-net", "a-vol", "a-c-db", "a-c-web"])
      expect(o[n], n).toMatchObject({ parent: "a", provider: "a-docker", replacementTrigger: true });
    expect(o["a-vol"]!.retainOnDelete).toBe(true);
    expect(o["a-scratch"]!.retainOnDelete).toBe(false);
    expect(o["a-net"]!.retainOnDelete).toBeUndefined();
    for (const n of ["a-c-db", "a-c-web"])
      expect(o[n], n).toMatchObject({ replaceOnChanges: ["healthcheck"], ignoreChanges: ["mustRun"] });
    // Explicit both ways: the provider's own answer is true for every container.
    expect(o["a-c-db"]!.deleteBeforeReplace).toBe(true);
    expect(o["a-c-web"]!.deleteBeforeReplace).toBe(false);
    expect(o["a-c-db"]!.dependsOn).toEqual([]);
    expect(o["a-c-web"]!.dependsOn).toEqual(["a-c-db"]);
    // The host's provider waits for Docker on the host; the registry-only one waits for nothing.
    expect(o["a-docker"]).toMatchObject({ parent: "a", dependsOn: ["docker-ready"] });
    expect(o["a-registry"]).toMatchObject({ parent: "a", dependsOn: [] });
    expect(o["a-img-db"]!.provider).toBe("a-docker");
  });
});

describe("the gate: the proxy switches to the new container after it exists", () => {
  const web = () => container("a-c-web").inputs.name as string;

  it("runs kamal-proxy's deploy against the new container's name, with the logs on failure", () => {
    const gate = rec.one("command:local:Command", "a-web-switch");
    expect(gate.inputs.create).toBe(
      `docker exec db kamal-proxy deploy svc --target ${web()}:81 --health-check-path /hc --deploy-timeout 7s --drain-timeout 8s || ` +
        `{ echo 'app-infra: ${web()} did not become healthy on /hc within 7s; the running release keeps serving. Its last 50 log lines:' >&2; ` +
        `docker logs --tail 50 ${web()} 2>&1; exit 1; }`,
    );
    expect(gate.inputs.delete).toBeUndefined();
    expect(gate.inputs.addPreviousOutputInEnv).toBe(false);
  });

  it("depends on the proxy and the new container, and re-runs when either is new", () => {
    expect(rec.options["a-web-switch"]).toMatchObject({ parent: "a", dependsOn: ["a-c-db", "a-c-web"] });
    const gate = rec.one("command:local:Command", "a-web-switch");
    expect(gate.inputs.triggers).toEqual([web(), "a-c-db-id"]);
  });

  it("runs over SSH where the App is given a connection", async () => {
    const remote = await recordComponents(() => {
      new App("s", {
        plan: PLAN,
        secrets: { env: pulumi.secret<Record<string, string>>({}) },
        gateConnection: { host: "203.0.113.10", user: "root", privateKey: pulumi.secret("KEY") },
      });
    });
    expect(remote.byType("command:local:Command")).toEqual([]);
    const gate = remote.one("command:remote:Command", "s-web-switch");
    expect(gate.inputs.connection).toMatchObject({ host: "203.0.113.10", user: "root", privateKey: "KEY" });
    expect(gate.inputs.create).toMatch(
      /^docker exec db kamal-proxy deploy svc --target web-[0-9a-f]{12}:81 /,
    );
  });
});

describe("App's edges", () => {
  const spec = (over: Partial<ContainerSpec>): ContainerSpec => ({
    ...base,
    resource: "c-x",
    name: "x",
    hostname: "x",
    role: "api",
    after: [],
    ...over,
  });

  it("containerEnv: each secret the container asks for, by its own name", async () => {
    const env = containerEnv(spec({ env: { A: "1" }, secretEnv: ["BOT_TOKEN", "FAL_KEY", "EXTRA_ENV"] }), {
      botToken: pulumi.secret("T-1"),
      falKey: pulumi.secret("F-2"),
      env: pulumi.secret<Record<string, string>>({ E: "3" }),
    });
    expect(await unwrap(env)).toEqual(["A=1", "BOT_TOKEN=T-1", "E=3", "FAL_KEY=F-2"]);
    expect(await isSecret(env)).toBe(true);
    const none = containerEnv(spec({ secretEnv: ["BOT_TOKEN", "FAL_KEY"] }), {
      env: pulumi.secret<Record<string, string>>({}),
    });
    expect(await unwrap(none)).toEqual([]);
  });

  it("registry login only with both the plan's registry and its password", async () => {
    const run = (registryAuth: AppPlan["registryAuth"], registryPassword?: pulumi.Output<string>) =>
      recordComponents(() => {
        new App("r", {
          plan: { ...PLAN, registryAuth },
          secrets: { env: pulumi.secret<Record<string, string>>({}), registryPassword },
        });
      });
    const noPassword = await run({ address: "registry.example", username: "u" });
    expect(noPassword.one("pulumi:providers:docker", "r-docker").inputs.registryAuth).toBeUndefined();
    const noRegistry = await run(undefined, pulumi.secret("PW"));
    expect(noRegistry.one("pulumi:providers:docker", "r-docker").inputs.registryAuth).toBeUndefined();
  });

  it("refuses a container before its image or the container it follows", () => {
    const app = (containers: ContainerSpec[]) => () =>
      new App("e", {
        plan: { ...PLAN, containers },
        secrets: { env: pulumi.secret<Record<string, string>>({}) },
      });
    expect(app([spec({ role: "worker" })])).toThrow("internal: image worker is used before it is declared");
    expect(app([spec({ after: ["later"] })])).toThrow(
      "internal: container later is used before it is declared",
    );
  });
});
