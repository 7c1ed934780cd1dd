// The translation of the program's container inputs into `docker run` (docker-cli.ts), which the
// real-Docker test uses. Fast and pure.
import { describe, expect, it } from "vitest";
import {
  dockerRunArgs,
  envFileContent,
  expectedHostConfig,
  networkCreateArgs,
  shellJoin,
  volumeCreateArgs,
  type ContainerInputs,
} from "./docker-cli";
import { diffRecordings } from "../../support/record";

// The shape the program records for Redis and a worker (test/program/hetzner-stack.ts pins them).
const redis: ContainerInputs = {
  name: "redis",
  hostname: "redis",
  image: "redis:7.4.6-alpine",
  command: [
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
  ],
  memory: 256,
  memoryReservation: 64,
  memorySwap: 256,
  restart: "unless-stopped",
  stopTimeout: 30,
  networksAdvanced: [{ name: "app-infra", aliases: ["redis"] }],
  volumes: [{ volumeName: "redis-data", containerPath: "/data" }],
  ports: [],
  envs: [],
  healthcheck: {
    tests: ["CMD", "redis-cli", "PING"],
    interval: "10s",
    timeout: "3s",
    retries: 5,
    startPeriod: "5s",
  },
  wait: true,
  waitTimeout: 120,
  mustRun: true,
  logDriver: "json-file",
  logOpts: { "max-size": "10m", "max-file": "3" },
  labels: [
    { label: "app-infra.stack", value: "dev" },
    { label: "app-infra.role", value: "redis" },
  ],
};

const api: ContainerInputs = {
  name: "api",
  image: "app-infra-lab/reference-app:1",
  command: ["uvicorn", "app.web.api:app", "--port", "8000"],
  memory: 200,
  memoryReservation: 120,
  memorySwap: 200,
  restart: "unless-stopped",
  ports: [{ internal: 8000, external: 8000 }],
  envs: ["FAL_KEY=fal-secret", "REDIS_URL=redis://redis:6379/0"],
  healthcheck: {
    tests: [
      "CMD",
      "python3",
      "-c",
      'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/health", timeout=4)',
    ],
    interval: "15s",
    timeout: "5s",
    retries: 3,
    startPeriod: "20s",
  },
};

describe("docker run from the program's container inputs", () => {
  it("redis: limits in MB, restart, network alias, named volume, healthcheck, logs, labels, image then command", () => {
    expect(dockerRunArgs(redis)).toEqual([
      "run",
      "-d",
      "--name",
      "redis",
      "--hostname",
      "redis",
      "--memory",
      "256m",
      "--memory-reservation",
      "64m",
      "--memory-swap",
      "256m",
      "--restart",
      "unless-stopped",
      "--stop-timeout",
      "30",
      "--network",
      "app-infra",
      "--network-alias",
      "redis",
      "-v",
      "redis-data:/data",
      "--health-cmd",
      "redis-cli PING",
      "--health-interval",
      "10s",
      "--health-timeout",
      "3s",
      "--health-retries",
      "5",
      "--health-start-period",
      "5s",
      "--log-driver",
      "json-file",
      "--log-opt",
      "max-file=3",
      "--log-opt",
      "max-size=10m",
      "--label",
      "app-infra.stack=dev",
      "--label",
      "app-infra.role=redis",
      "redis:7.4.6-alpine",
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
    ]);
  });

  it("an empty argument survives the trip through a remote shell as ''", () => {
    expect(
      shellJoin([
        "docker",
        ...dockerRunArgs({ ...redis, command: ["redis-server", "--appendfilename", "", "--dir", "/data"] }),
      ]),
    ).toContain("--appendfilename '' --dir /data");
  });

  it("api: published port, env only through --env-file, the exec-form healthcheck shell-quoted", () => {
    const argv = dockerRunArgs(api, { envFile: "/run/lab/api.env" });
    expect(argv).toEqual(expect.arrayContaining(["-p", "8000:8000", "--env-file", "/run/lab/api.env"]));
    expect(argv.join(" ")).not.toContain("fal-secret");
    const cmd = argv[argv.indexOf("--health-cmd") + 1]!;
    expect(cmd).toBe(
      `python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/health", timeout=4)'`,
    );
    expect(argv.slice(argv.indexOf("app-infra-lab/reference-app:1"))).toEqual([
      "app-infra-lab/reference-app:1",
      "uvicorn",
      "app.web.api:app",
      "--port",
      "8000",
    ]);
  });

  it("refuses env without an env file, rather than putting secrets in argv", () => {
    expect(() => dockerRunArgs(api)).toThrow(
      "container api: envs need an envFile (values are never put on the command line)",
    );
  });

  it("refuses an input it has no translation for, naming it", () => {
    expect(() => dockerRunArgs({ ...api, privileged: true } as ContainerInputs, { envFile: "/e" })).toThrow(
      "container api: no docker run translation for privileged",
    );
  });

  it("refuses a second network and an unknown healthcheck form", () => {
    expect(() => dockerRunArgs({ ...redis, networksAdvanced: [{ name: "a" }, { name: "b" }] })).toThrow(
      "container redis: networksAdvanced: only one network is supported (got 2)",
    );
    expect(() => dockerRunArgs({ ...redis, healthcheck: { tests: ["SHELL", "x"] } })).toThrow(
      "container redis: healthcheck/tests: should start with CMD, CMD-SHELL or NONE (got SHELL)",
    );
  });

  it("the env file is KEY=VALUE lines; a line break or a bad key is refused without echoing the value", () => {
    expect(envFileContent(["A=1", "B=x=y"])).toBe("A=1\nB=x=y\n");
    expect(envFileContent([])).toBe("");
    expect(() => envFileContent(["TOKEN=abc\ndef"])).toThrow(
      "envs/TOKEN: a value with a line break cannot go into an --env-file",
    );
    expect(() => envFileContent(["no-equals-secret"])).toThrow(/^envs: should be KEY=VALUE/);
  });

  it("what docker inspect must show: bytes and the restart policy", () => {
    expect(expectedHostConfig(redis)).toEqual({
      Memory: 268435456,
      MemoryReservation: 67108864,
      MemorySwap: 268435456,
      RestartPolicy: "unless-stopped",
    });
  });

  it("network and volume", () => {
    expect(
      networkCreateArgs({
        name: "app-infra",
        driver: "bridge",
        labels: [{ label: "app-infra.stack", value: "dev" }],
      }),
    ).toEqual(["network", "create", "--driver", "bridge", "--label", "app-infra.stack=dev", "app-infra"]);
    expect(volumeCreateArgs({ name: "redis-data" })).toEqual(["volume", "create", "redis-data"]);
  });
});

describe("applying a configuration change", () => {
  const r = (name: string, inputs: Record<string, unknown>) => ({ type: "t", name, inputs });

  it("diffs two recordings by logical name", () => {
    const a = [
      r("host-swap", { create: "bash -s -- 4 10" }),
      r("app-redis", { memory: 256 }),
      r("app-worker-image-1", {}),
    ];
    const b = [
      r("host-swap", { create: "bash -s -- 2 10" }),
      r("app-redis", { memory: 256 }),
      r("app-worker-image-1", {}),
      r("app-worker-image-2", {}),
    ];
    expect(diffRecordings(a, b)).toEqual({
      changed: ["host-swap"],
      added: ["app-worker-image-2"],
      removed: [],
    });
    expect(diffRecordings(b, a)).toEqual({
      changed: ["host-swap"],
      added: [],
      removed: ["app-worker-image-2"],
    });
  });
});
