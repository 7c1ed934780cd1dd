import { beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { KEYS } from "../../src/config/keys";
import { parseConfig, projectKeys, type RawConfig } from "../../src/config/parse";

const base: RawConfig = { stage: 1 };

function problems(fragment: RawConfig, fromStackFile = false): string[] {
  try {
    parseConfig("dev", { ...base, ...fragment }, { fromStackFile });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  return [];
}

describe("parseConfig: defaults", () => {
  it("a stack with only a stage gets the table's defaults", () => {
    const cfg = parseConfig("dev", base);
    expect(cfg.stage).toBe(1);
    expect(cfg.location).toBe("fsn1");
    expect(cfg.target).toBe("hetzner");
    expect(cfg.server).toEqual({
      architecture: "x86",
      keepDisk: true,
      backups: false,
      protect: false,
      type: undefined,
      cores: undefined,
      memoryGb: undefined,
      diskGb: undefined,
    });
    expect(cfg.users).toBe(100);
    expect(cfg.perUserMb).toBe(18);
    expect(cfg.images.redis).toMatch(/^redis:7\.\d+\.\d+-alpine$/);
    expect(cfg.services.redis.maxmemoryPolicy).toBe("noeviction");
    expect(cfg.services.redis.appendonly).toBe(true);
    expect(cfg.services.worker).toMatchObject({ queue: "img_queue", maxJobs: 15 });
    expect(cfg.services.api).toMatchObject({
      workers: 2,
      limitConcurrency: 150,
      port: 8000,
      healthPath: "/health",
      public: true,
    });
    expect(cfg.alerts).toMatchObject({
      memoryPercent: 95,
      swapPercent: 50,
      cpuPercent: 90,
      queueLength: 100,
      apiLatencyMs: 2000,
    });
    expect(cfg.secrets).toEqual({
      botToken: false,
      falKey: false,
      env: false,
      registryPassword: false,
      alertWebhookUrl: false,
      deployPrivateKey: false,
      "alerts/heartbeatUrl": false,
      "backup/password": false,
      "backup/accessKeyId": false,
      "backup/secretAccessKey": false,
    });
    expect(cfg.backup).toEqual({
      enabled: false,
      schedule: "*-*-* 03:15:00",
      keepDaily: 7,
      keepWeekly: 4,
      maxAgeHours: 26,
    });
    expect(cfg.alerts.diskPercent).toBe(85);
    expect(cfg.alerts.certMinDays).toBe(14);
    for (const days of [1, 60])
      expect(parseConfig("dev", { stage: 1, alerts: { certMinDays: days } }).alerts.certMinDays).toBe(days);
  });

  it("accepts the string forms the Pulumi runtime passes (numbers, booleans and JSON objects as strings)", () => {
    const cfg = parseConfig("dev", {
      stage: "3",
      swapGb: "2",
      server: JSON.stringify({ type: "cx43", keepDisk: "false" }),
      services: JSON.stringify({ redis: { memoryMb: 300, maxmemoryMb: "120" }, worker: { queue: "q2" } }),
      adminCidrs: JSON.stringify(["203.0.113.7/32"]),
    });
    expect(cfg.stage).toBe(3);
    expect(cfg.swapGb).toBe(2);
    expect(cfg.server.type).toBe("cx43");
    expect(cfg.server.keepDisk).toBe(false);
    expect(cfg.services.redis).toMatchObject({ memoryMb: 300, maxmemoryMb: 120 });
    expect(cfg.services.worker.queue).toBe("q2");
    expect(cfg.adminCidrs).toEqual(["203.0.113.7/32"]);
  });

  it("strips the project namespace and keeps other namespaces' keys whole", () => {
    expect(projectKeys({ "app-infra:stage": 1, "hcloud:token": "x", swapGb: 2 })).toEqual({
      stage: 1,
      "hcloud:token": "x",
      swapGb: 2,
    });
    // Other providers' keys are not ours to judge: they parse without a problem.
    expect(
      parseConfig("dev", projectKeys({ "app-infra:stage": 1, "hcloud:token": "x", "docker:host": "y" }))
        .stage,
    ).toBe(1);
  });

  it("records which secrets are set without keeping their values", () => {
    const cfg = parseConfig("dev", {
      ...base,
      botToken: "123:abc",
      env: JSON.stringify({ LOG_LEVEL: "info" }),
    });
    expect(cfg.secrets.botToken).toBe(true);
    expect(cfg.secrets.env).toBe(true);
    expect(JSON.stringify(cfg)).not.toContain("123:abc");
  });
});

describe("parseConfig: every message names the key, the value and what is allowed", () => {
  const cases: [string, RawConfig, string][] = [
    ["stage 5", { stage: 5 }, "stage: should be one of 1, 2, 3, 4 (got 5)"],
    ["negative swap", { swapGb: -1 }, "swapGb: should be an integer between 0 and 64 (got -1)"],
    ["fractional swap", { swapGb: 2.5 }, "swapGb: should be an integer between 0 and 64 (got 2.5)"],
    [
      "unknown top-level key",
      { swapGB: 2 },
      "swapGB: unknown key (known: stage, target, location, server, swapGb, swappiness, systemReserveMb, workers, workerNodes, workersPerNode, workerNode, users, perUserMb, images, imageDigests, services, domain, tls, release, releases, adminCidrs, adminSshKeys, registry, alerts, backup, botToken, falKey, env, registryPassword, alertWebhookUrl, deployPrivateKey)",
    ],
    [
      "unknown nested key",
      { services: { redis: { maxMemoryMb: 100 } } },
      "services/redis/maxMemoryMb: unknown key (known under services/redis: memoryMb, reservationMb, swapMb, maxmemoryMb, maxmemoryPolicy, appendonly)",
    ],
    [
      "unknown service",
      { services: { celery: {} } },
      "services/celery: unknown key (known under services: redis, proxy, api, bot, worker)",
    ],
    [
      "object expected",
      { server: "cx33" },
      'server: should be an object with keys type, cores, memoryGb, diskGb, architecture, keepDisk, backups, protect (got "cx33")',
    ],
    [
      "bad location",
      { location: "fra1" },
      'location: should be one of fsn1, nbg1, hel1, ash, hil, sin (got "fra1")',
    ],
    [
      "bad architecture",
      { server: { architecture: "arm64" } },
      'server/architecture: should be one of x86, arm (got "arm64")',
    ],
    [
      "redis memory too big",
      { services: { redis: { memoryMb: 90000 } } },
      "services/redis/memoryMb: should be an integer between 32 and 65536 (got 90000)",
    ],
    [
      "bad policy",
      { services: { redis: { maxmemoryPolicy: "lru" } } },
      'services/redis/maxmemoryPolicy: should be one of noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl (got "lru")',
    ],
    [
      "bad bool",
      { services: { redis: { appendonly: "yes" } } },
      'services/redis/appendonly: should be true or false (got "yes")',
    ],
    [
      "reservation above limit",
      { services: { api: { memoryMb: 100, reservationMb: 150 } } },
      "services/api/reservationMb: should be at most services/api/memoryMb (100) (got 150)",
    ],
    [
      "bad cidr",
      { adminCidrs: ["10.0.0.1"] },
      'adminCidrs[0]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "10.0.0.1"): it is not address/prefix, e.g. 203.0.113.7/32',
    ],
    [
      "bad ssh key",
      { adminSshKeys: ["hello"] },
      `adminSshKeys[0]: should be an OpenSSH public key such as 'ssh-ed25519 AAAA... you@laptop' (got "hello")`,
    ],
    [
      "bad image",
      { images: { api: "Not An Image" } },
      'images/api: should be a Docker image reference such as ghcr.io/acme/app-api:1.4.2 (got "Not An Image"): it contains white space',
    ],
    [
      "bad queue",
      { services: { worker: { queue: "img queue" } } },
      'services/worker/queue: should be an RQ queue name of letters, digits, _ . : - (got "img queue")',
    ],
    [
      "bad health path",
      { services: { api: { healthPath: "health" } } },
      'services/api/healthPath: should be an absolute HTTP path such as /health (got "health")',
    ],
    [
      "registry half set",
      { registry: { server: "ghcr.io" } },
      "registry: set both registry/server and registry/username (got only server)",
    ],
    ["bad workers", { workers: 0 }, "workers: should be an integer between 1 and 32 (got 0)"],
    [
      "bad chat id",
      { alerts: { telegramChatId: "admins" } },
      'alerts/telegramChatId: should be a numeric Telegram chat id or @channel (got "admins")',
    ],
    // Let's Encrypt certificates live 90 days and kamal-proxy renews at 30 left: above 60 a fresh
    // certificate would alert for its first month; below 1 the alert would come after expiry.
    [
      "cert days 0",
      { alerts: { certMinDays: 0 } },
      "alerts/certMinDays: should be an integer between 1 and 60 (got 0)",
    ],
    [
      "cert days 61",
      { alerts: { certMinDays: 61 } },
      "alerts/certMinDays: should be an integer between 1 and 60 (got 61)",
    ],
    [
      "cert days 7.5",
      { alerts: { certMinDays: 7.5 } },
      "alerts/certMinDays: should be an integer between 1 and 60 (got 7.5)",
    ],
  ];
  for (const [name, fragment, message] of cases) {
    it(name, () => {
      expect(problems(fragment)).toContain(message);
    });
  }

  it("stage is required", () => {
    expect(() => parseConfig("dev", {})).toThrow(
      "stage: is required, one of 1, 2, 3, 4 (pulumi config set stage <value>)",
    );
  });

  it("reports every problem at once", () => {
    const all = problems({ stage: 5, swapGb: -1, bogus: true, services: { redis: { memoryMb: 1 } } });
    expect(all).toHaveLength(4);
    expect(all.map((p) => p.split(":")[0])).toEqual(["stage", "swapGb", "bogus", "services/redis/memoryMb"]);
  });

  it("the error message lists the problems under one heading", () => {
    expect(() => parseConfig("dev", { stage: 9, swapGb: 99 })).toThrow(
      "app-infra: the stack configuration has 2 problems:\n  - stage: should be one of 1, 2, 3, 4 (got 9)\n  - swapGb: should be an integer between 0 and 64 (got 99)",
    );
  });

  it("never echoes a secret's value, even when it is invalid", () => {
    const msg = problems({ alertWebhookUrl: "ftp://hooks.example/secret-token-123" });
    expect(msg).toEqual([
      "alertWebhookUrl: should be an http(s) URL (got a value that is hidden because it is secret)",
    ]);
    expect(msg.join("")).not.toContain("secret-token-123");
  });

  it("a secret written in plain text into a stack file is refused", () => {
    expect(problems({ botToken: "123:abc" }, true)).toEqual([
      "botToken: must be stored encrypted: pulumi config set --secret botToken <value>",
    ]);
    expect(problems({ botToken: { secure: "v1:abc" } }, true)).toEqual([]);
  });

  it("registry needs its password", () => {
    expect(problems({ registry: { server: "ghcr.io", username: "me" } })).toEqual([
      "registryPassword: is required when registry/server is set (pulumi config set --secret registryPassword <token>)",
    ]);
  });

  it("env must be an object of strings with valid names", () => {
    expect(problems({ env: JSON.stringify({ "BAD NAME": "x" }) })).toEqual([
      'env: variable name "BAD NAME" should be letters, digits and _, not starting with a digit',
    ]);
    expect(problems({ env: '["A=b"]' })).toEqual([
      "env: should be an object of string values (got a value that is hidden because it is secret)",
    ]);
    expect(problems({ env: JSON.stringify({ A: { nested: "x-secret-value" } }) })).toEqual([
      "env/A: should be a string (got a value that is hidden because it is secret)",
    ]);
  });
});

describe("key table", () => {
  it("paths are unique and every key has a description", () => {
    expect(new Set(KEYS.map((k) => k.path)).size).toBe(KEYS.length);
    for (const k of KEYS) expect(k.description.length, k.path).toBeGreaterThan(10);
  });
  it("literal defaults satisfy their own kind", () => {
    const raw: RawConfig = {};
    for (const k of KEYS) {
      if (k.default === undefined || k.secret) continue;
      const parts = k.path.split("/");
      let node = raw as Record<string, unknown>;
      for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
      node[parts[parts.length - 1]!] = k.default;
    }
    expect(() => parseConfig("dev", { ...raw, stage: 1 })).not.toThrow();
  });
});

// Loaded inside each test after vi.resetModules(), so that code which also runs when the module loads
// (setCommand, the helpers other test files reach while they are collected) is scored by these tests.
describe("parseConfig, loaded inside the test: shapes, secrets and the problem list", () => {
  let P: typeof import("../../src/config/parse");
  beforeEach(async () => {
    vi.resetModules();
    P = await import("../../src/config/parse");
  });
  const problemsOf = (raw: RawConfig, fromStackFile = false): string[] => {
    try {
      P.parseConfig("dev", raw, { fromStackFile });
    } catch (e) {
      return [...(e as ConfigError).problems];
    }
    return [];
  };

  it("a null value (an empty YAML entry) is refused as a value of the wrong kind, not taken for an object", () => {
    expect(problemsOf({ stage: 1, workers: null })).toEqual([
      "workers: should be an integer between 1 and 32 (got null)",
    ]);
  });

  it("only text that starts with [ or { is read as a JSON list: a quoted JSON string stays the text typed", () => {
    expect(problemsOf({ stage: 1, adminCidrs: '"[1]"' })).toEqual([
      'adminCidrs: should be a list of CIDR blocks such as 203.0.113.7/32 or ::/0 (got "\\"[1]\\""; a list is written ["\\"[1]\\""])',
    ]);
  });

  it("an empty encrypted secret names the command that sets it, with --path for a nested key", () => {
    expect(problemsOf({ stage: 1, botToken: { secure: "" } })).toEqual([
      "botToken: its encrypted value is empty (pulumi config set --secret botToken <value>)",
    ]);
    expect(problemsOf({ stage: 1, backup: { password: { secure: "" } } })).toEqual([
      "backup/password: its encrypted value is empty (pulumi config set --secret --path backup.password <value>)",
    ]);
  });

  it("a plaintext secret in a stack file names the command that encrypts it", () => {
    expect(problemsOf({ stage: 1, botToken: "123:abc" }, true)).toEqual([
      "botToken: must be stored encrypted: pulumi config set --secret botToken <value>",
    ]);
  });

  it("an env secret that is plain text, not a map, is refused as a whole", () => {
    expect(problemsOf({ stage: 1, env: "A=b" }, true)).toEqual([
      "env: must be stored encrypted: pulumi config set --secret env <value>",
    ]);
  });

  it("a string secret written as a map in a stack file is refused as a whole, never per entry nor as set", () => {
    expect(problemsOf({ stage: 1, botToken: {} }, true)).toEqual([
      "botToken: must be stored encrypted: pulumi config set --secret botToken <value>",
    ]);
    expect(problemsOf({ stage: 1, botToken: { a: "x" } }, true)).toEqual([
      "botToken: must be stored encrypted: pulumi config set --secret botToken <value>",
    ]);
  });

  it("three edits from app-infra are not a typo of it, with or without a swap of neighbours", () => {
    // "pixinfra" → "appinfra": p→a, i→p, x→p; "iaxinfra": i→a, a→p, x→p. No two neighbours are
    // swapped in either, so three edits each, above the two that make a near miss.
    expect(problemsOf({ stage: 1, "pix-infra:stage": 1 })).toEqual([]);
    expect(problemsOf({ stage: 1, "iax-infra:stage": 1 })).toEqual([]);
  });

  it("a key still carrying the project's namespace is not called a near miss of it", () => {
    // projectKeys strips one app-infra: (a stack file's app-infra:app-infra:workers leaves this).
    expect(problemsOf({ stage: 1, "app-infra:workers": 2 })).toEqual([]);
  });

  it("a missing stage is reported next to the other problems", () => {
    expect(problemsOf({ workers: "x" })).toEqual([
      'workers: should be an integer between 1 and 32 (got "x")',
      "stage: is required, one of 1, 2, 3, 4 (pulumi config set stage <value>)",
    ]);
  });

  it("a problem already named after stage[…] stands for the missing stage", () => {
    expect(problemsOf({ "stage[0]": 1 }).map((p) => p.split(" (known")[0])).toEqual([
      "stage[0]: unknown key",
    ]);
  });

  it("backups without a repository are reported next to the other problems", () => {
    expect(problemsOf({ stage: 1, workers: "x", backup: { enabled: true } })).toEqual([
      'workers: should be an integer between 1 and 32 (got "x")',
      "backup/repository: is required when backup/enabled is true " +
        "(pulumi config set --path backup.repository s3:https://fsn1.your-objectstorage.com/<bucket>/redis)",
    ]);
  });
});
