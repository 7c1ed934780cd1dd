// The container specs the program registers, run on a real Docker engine: every flag is accepted,
// and `docker inspect` shows the planned limits, reservation, swap, restart policy, network alias,
// volume, port and healthcheck. The app images are not reachable here, so each container runs the
// local test image with a sleep instead of its command; everything else is the program's.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dockerRunArgs,
  expectedHostConfig,
  networkCreateArgs,
  volumeCreateArgs,
  type ContainerInputs,
} from "./support/docker-cli";
import { record, type Recording } from "../support/record";
import { BASE_IMAGE_TIMEOUT_MS, ensureBaseImage, ensureDocker, run, runOk } from "./support/docker";

const PREFIX = `aitest${process.pid}-`;
const dir = mkdtempSync(join(tmpdir(), "containers-"));
let rec: Recording;
let image: string;
const started: string[] = [];
let network = "";
let volume = "";

const inputs = (type: string) => rec.resources.filter((r) => r.type === type);
/** The API's container is named by its release (src/plan/release.ts), the others by their service. */
const RELEASE_NAMED_API = /^api-[0-9a-f]{12}$/;
const containerOf = (service: string) =>
  started
    .map((n) => n.slice(PREFIX.length))
    .find((n) => n === service || (service === "api" && RELEASE_NAMED_API.test(n))) ?? service;
const inspect = async (service: string) =>
  JSON.parse((await runOk("docker", ["inspect", PREFIX + containerOf(service)])).stdout)[0];

beforeAll(async () => {
  await ensureDocker();
  image = await ensureBaseImage();
  rec = await record("dev", { stage: 2, botToken: "123:bot-token-secret", falKey: "fal-secret" }, [
    "botToken",
    "falKey",
  ]);
  const net = inputs("docker:index/network:Network")[0]!.inputs as {
    name: string;
    driver?: string;
    labels?: { label: string; value: string }[];
  };
  const vol = inputs("docker:index/volume:Volume")[0]!.inputs as {
    name: string;
    labels?: { label: string; value: string }[];
  };
  network = PREFIX + net.name;
  volume = PREFIX + vol.name;
  await runOk("docker", networkCreateArgs({ ...net, name: network }));
  await runOk("docker", volumeCreateArgs({ ...vol, name: volume }));
  for (const r of inputs("docker:index/container:Container")) {
    const c = r.inputs as unknown as ContainerInputs;
    const envFile = join(dir, `${c.name}.env`);
    writeFileSync(envFile, (c.envs ?? []).join("\n") + "\n");
    chmodSync(envFile, 0o600);
    const spec: ContainerInputs = {
      ...c,
      name: PREFIX + c.name,
      image,
      command: ["sleep", "600"],
      networksAdvanced: c.networksAdvanced?.map((n) => ({ ...n, name: network })),
      volumes: c.volumes?.map((v) => ({ ...v, volumeName: volume })),
      // A free host port instead of the planned one, which may be taken on this machine.
      ports: c.ports?.map((p) => ({ ...p, external: undefined })),
    };
    await runOk("docker", dockerRunArgs(spec, { envFile }));
    started.push(spec.name);
  }
}, BASE_IMAGE_TIMEOUT_MS + 120_000);

afterAll(async () => {
  for (const name of started) await run("docker", ["rm", "-f", name]);
  if (network) await run("docker", ["network", "rm", network]);
  if (volume) await run("docker", ["volume", "rm", volume]);
  rmSync(dir, { recursive: true, force: true });
});

describe("the program's containers on a real Docker engine", () => {
  it("all of them run", async () => {
    const names = started.map((n) => n.slice(PREFIX.length)).sort();
    expect(names[0]).toMatch(RELEASE_NAMED_API);
    expect(names.slice(1)).toEqual(["bot", "proxy", "redis", "worker-image-1", "worker-image-2"]);
    for (const n of started)
      expect(JSON.parse((await runOk("docker", ["inspect", n])).stdout)[0].State.Running, n).toBe(true);
  });

  it("docker enforces the planned memory limit, reservation and swap, and the restart policy", async () => {
    for (const r of inputs("docker:index/container:Container")) {
      const c = r.inputs as unknown as ContainerInputs;
      const hc = JSON.parse((await runOk("docker", ["inspect", PREFIX + c.name])).stdout)[0].HostConfig;
      const want = expectedHostConfig(c);
      expect(
        {
          Memory: hc.Memory,
          MemoryReservation: hc.MemoryReservation,
          MemorySwap: hc.MemorySwap,
          RestartPolicy: hc.RestartPolicy.Name,
        },
        c.name,
      ).toEqual(want);
    }
    expect((await inspect("redis")).HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect((await inspect("worker-image-1")).HostConfig.MemorySwap).toBe(500 * 1024 * 1024);
  });

  it("each container is on the private network under its service name; only the proxy publishes (80, 443), never Redis or the API", async () => {
    for (const n of ["redis", "proxy", "api", "bot", "worker-image-1"]) {
      const nets = (await inspect(n)).NetworkSettings.Networks;
      expect(Object.keys(nets), n).toEqual([network]);
      expect(nets[network].Aliases, n).toContain(n);
    }
    expect((await inspect("redis")).HostConfig.PortBindings ?? {}).toEqual({});
    expect((await inspect("api")).HostConfig.PortBindings ?? {}).toEqual({});
    expect(Object.keys((await inspect("proxy")).HostConfig.PortBindings).sort()).toEqual([
      "443/tcp",
      "80/tcp",
    ]);
  });

  it("a worker resolves Redis by name on that network", async () => {
    const r = await run("docker", ["exec", PREFIX + "worker-image-1", "getent", "hosts", "redis"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\.\d+\s+redis/);
  });

  it("Redis' data volume is mounted at /data; healthchecks and log rotation are registered", async () => {
    const redis = await inspect("redis");
    expect(redis.Mounts.map((m: { Name: string; Destination: string }) => [m.Name, m.Destination])).toEqual([
      [volume, "/data"],
    ]);
    expect(redis.Config.Healthcheck.Test).toEqual(["CMD-SHELL", "redis-cli PING"]);
    expect((await inspect("api")).Config.Healthcheck.Test[1]).toContain("http://127.0.0.1:8000/health");
    expect(redis.HostConfig.LogConfig).toEqual({
      Type: "json-file",
      Config: { "max-file": "3", "max-size": "10m" },
    });
  });

  it("secrets arrive in the environment but not in the container's command or args", async () => {
    const bot = await inspect("bot");
    expect(bot.Config.Env).toContain("BOT_TOKEN=123:bot-token-secret");
    expect(JSON.stringify([bot.Path, bot.Args, bot.Config.Cmd])).not.toContain("bot-token-secret");
    expect((await inspect("api")).Config.Env.some((e: string) => e.startsWith("BOT_TOKEN="))).toBe(false);
  });
});
