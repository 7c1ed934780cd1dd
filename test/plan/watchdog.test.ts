// The watchdog's keys and defaults are the plan's: the settings block in scripts/watchdog.sh is the
// text src/plan/watchdog.ts generates, and the program writes every key the script reads.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { readScript } from "../../components/host";
import { KEY_BY_PATH } from "../../src/config/keys";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { cfg } from "./fixtures";

// src/plan/watchdog.ts is loaded afresh before each test: its settings table is built when the
// module loads, and a load inside beforeEach is one Stryker attributes to the test that follows
// (a load at import time is a static mutant it cannot score).
let W: typeof import("../../src/plan/watchdog");
beforeEach(async () => {
  vi.resetModules();
  W = await import("../../src/plan/watchdog");
});

const script = (f: string) => readScript(f);

describe("scripts/watchdog.sh takes its keys and defaults from the plan", () => {
  it("its settings block is exactly the generated one (paste W.watchdogScriptSettings() between the markers)", () => {
    const text = script("watchdog.sh");
    const from = text.indexOf(W.SCRIPT_SETTINGS_BEGIN);
    const to = text.indexOf(W.SCRIPT_SETTINGS_END);
    expect(from, "BEGIN marker").toBeGreaterThan(0);
    expect(to, "END marker").toBeGreaterThan(from);
    expect(text.slice(from, to + W.SCRIPT_SETTINGS_END.length)).toBe(W.watchdogScriptSettings());
    // Only once: no second, hand-written table.
    expect(text.match(/declare -A DEFAULTS/g)).toHaveLength(1);
  });

  it("the generated defaults are the config keys' own defaults (written out by hand here)", () => {
    const d = Object.fromEntries(W.WATCHDOG_SETTINGS.map((s) => [s.key, s.default]));
    expect(d).toMatchObject({
      MEMORY_PERCENT: 95,
      SWAP_PERCENT: 50,
      CPU_PERCENT: 90,
      QUEUE_LENGTH: 100,
      API_LATENCY_MS: 2000,
      REDIS_MEMORY_PERCENT: 90,
      FOR_MINUTES: 5,
      REPEAT_MINUTES: 60,
      QUEUE_NAME: "img_queue",
      INTERVAL_S: 60,
      DISK_PERCENT: 85,
      DISK_PATHS: "/ /var/lib/docker",
      BACKUP_MAX_AGE_H: 0,
      BACKUP_STATE_DIR: "/var/lib/app-infra",
      CERT_MIN_DAYS: 14,
      API_CONNECT_TO: "",
    });
    expect(W.watchdogScriptSettings()).toContain('[SWAP_PERCENT]="50"');
    expect(W.watchdogScriptSettings()).toContain(
      'readonly SECRET_KEYS=" TELEGRAM_BOT_TOKEN WEBHOOK_URL HEARTBEAT_URL "',
    );
  });

  it("the program writes every key the script would otherwise default, except the hand/test-only and stage-4 ones", () => {
    const c = cfg({ stage: 2, alerts: { telegramChatId: "-100" } });
    const env = W.watchdogEnv(c, makePlan(c, snapshotCatalog()));
    const written = env
      .trim()
      .split("\n")
      .map((l) => l.split("=")[0]);
    expect(written).toEqual(
      W.WATCHDOG_SETTINGS.map((s) => s.key).filter(
        (k) =>
          !["TELEGRAM_API_BASE", "REDIS_CLI", "NODE_NAME", "TASKS", "SWARM_NODES", "WORKERS_KEY"].includes(k),
      ),
    );
    // Stage 4 writes every key but the Bot API's address.
    const four = cfg({ stage: 4, workerNodes: 1 });
    const p4 = makePlan(four, snapshotCatalog());
    expect(
      p4
        .host!.watchdog.env.trim()
        .split("\n")
        .map((l) => l.split("=")[0]),
    ).toEqual(W.WATCHDOG_SETTINGS.map((s) => s.key).filter((k) => k !== "TELEGRAM_API_BASE"));
    expect(env).toContain(
      "CONTAINERS='redis=redis proxy=proxy @api=api bot=bot worker-image-1=worker worker-image-2=worker'\n",
    );
    expect(env).toContain("TELEGRAM_CHAT_ID='-100'\n");
  });

  it("every value comes from its own config key or plan figure (a non-default stack, each value distinct)", () => {
    const c = cfg(
      {
        stage: 3,
        workers: 3,
        alerts: {
          memoryPercent: 81,
          swapPercent: 41,
          cpuPercent: 71,
          queueLength: 55,
          apiLatencyMs: 1500,
          redisMemoryPercent: 77,
          forMinutes: 7,
          repeatMinutes: 33,
          intervalS: 45,
          diskPercent: 66,
          certMinDays: 21,
          telegramChatId: "-42",
        },
        domain: "api.shop.example",
        services: { worker: { queue: "jobs_q" }, api: { port: 8081, healthPath: "/healthz" } },
        backup: { enabled: true, repository: "s3:https://s3.example.org/b/r", maxAgeHours: 30 },
      },
      "shop",
    );
    const advice = (key: string, value: number) =>
      `set server/${key} ${value} → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 ` +
      `(\`pulumi config set --path server.${key} ${value} -s shop && pulumi up -s shop\`)`;
    expect(W.watchdogEnv(c, makePlan(c, snapshotCatalog()))).toBe(
      [
        "STACK='shop'",
        "STAGE='3'",
        "MEMORY_PERCENT='81'",
        "SWAP_PERCENT='41'",
        "CPU_PERCENT='71'",
        "QUEUE_LENGTH='55'",
        "API_LATENCY_MS='1500'",
        "REDIS_MEMORY_PERCENT='77'",
        "FOR_MINUTES='7'",
        "REPEAT_MINUTES='33'",
        "QUEUE_NAME='jobs_q'",
        "API_HEALTH_URL='https://api.shop.example/healthz'",
        "WORKERS='3'",
        "INTERVAL_S='45'",
        "CONTAINERS='redis=redis proxy=proxy @api=api bot=bot worker-image-1=worker worker-image-2=worker worker-image-3=worker'",
        "DISK_PERCENT='66'",
        "DISK_PATHS='/ /var/lib/docker'",
        "BACKUP_MAX_AGE_H='30'",
        "BACKUP_STATE_DIR='/var/lib/app-infra'",
        "API_CONNECT_TO='127.0.0.1'",
        "CERT_MIN_DAYS='21'",
        "TELEGRAM_CHAT_ID='-42'",
        `SCALE_UP_MEMORY='${advice("memoryGb", 16)}'`,
        `SCALE_UP_CPU='${advice("cores", 8)}'`,
        "",
      ].join("\n"),
    );
    // Backups off: no age alert (0), whatever maxAgeHours says; no chat id: an empty value.
    const off = cfg({ backup: { enabled: false, maxAgeHours: 30 } });
    const env = W.watchdogEnv(off, makePlan(off, snapshotCatalog()));
    expect(env).toContain("BACKUP_MAX_AGE_H='0'\n");
    expect(env).toContain("TELEGRAM_CHAT_ID=''\n");
  });

  it("the scale-up advice is the plan's, computed from the catalog: a setting that changes the server", () => {
    const c = cfg({ stage: 2 }, "prod");
    const plan = makePlan(c, snapshotCatalog());
    expect(plan.server?.type).toBe("cx33");
    const env = W.watchdogEnv(c, plan);
    expect(env).toContain(
      "SCALE_UP_MEMORY='set server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 " +
        "(`pulumi config set --path server.memoryGb 16 -s prod && pulumi up -s prod`)'\n",
    );
    expect(env).toContain(
      "SCALE_UP_CPU='set server/cores 8 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 " +
        "(`pulumi config set --path server.cores 8 -s prod && pulumi up -s prod`)'\n",
    );
    // The plan's host step writes the same file, so its hash re-runs the installer when it changes.
    expect(plan.host?.watchdog.env).toBe(env);
    expect(env).not.toContain("next stage");
  });

  it("at the largest type the advice says so; without plan advice the file names the keys", () => {
    const big = cfg({ server: { memoryGb: 192 } });
    expect(W.watchdogEnv(big, makePlan(big, snapshotCatalog()))).toContain(
      "SCALE_UP_MEMORY='ccx63 is the largest orderable x86 type in fsn1 on this catalog: consider a second server for the workers (horizontal scaling)'\n",
    );
    const c = cfg();
    const noAdvice = { ...makePlan(c, snapshotCatalog()), scaleUp: undefined };
    const env = W.watchdogEnv(c, noAdvice);
    expect(env).toContain(
      "SCALE_UP_MEMORY='raise server/memoryGb for more RAM (npm run plan shows the next size up and its price)'\n",
    );
    expect(env).toContain(
      "SCALE_UP_CPU='raise server/cores for more vCPUs (npm run plan shows the next size up and its price)'\n",
    );
    // The script's defaults are the same texts, for a file written by hand.
    const d = Object.fromEntries(W.WATCHDOG_SETTINGS.map((s) => [s.key, s.default]));
    expect(d.SCALE_UP_MEMORY).toBe(
      "raise server/memoryGb for more RAM (npm run plan shows the next size up and its price)",
    );
  });

  it("refuses a value the env file cannot carry (a quote or a line break)", () => {
    const c = cfg();
    const p = makePlan(c, snapshotCatalog());
    expect(() => W.watchdogEnv(c, { ...p, scaleUp: { memory: "it's", cpu: "x" } })).toThrow(
      "internal: watchdog SCALE_UP_MEMORY cannot hold a quote or line break",
    );
    expect(() => W.watchdogEnv(c, { ...p, scaleUp: { memory: "x", cpu: "a\nb" } })).toThrow(/SCALE_UP_CPU/);
  });

  it("the config keys the script's advice names come from the key table, generated into its block", () => {
    expect(W.WATCHDOG_ADVICE_KEYS).toEqual({ KEY_MEMORY_MB: "services/<service>/memoryMb" });
    expect(W.watchdogScriptSettings()).toContain('readonly KEY_MEMORY_MB="services/<service>/memoryMb"\n');
    // The key the queue advice raises: workers on one box, workerNodes on stage 4 (written there).
    expect(W.watchdogScriptSettings()).toContain('[WORKERS_KEY]="workers"');
    // The labels the script selects the API's containers by are the ones src/plan/app.ts sets.
    expect(W.watchdogScriptSettings()).toContain(
      'readonly STACK_LABEL="app-infra.stack" ROLE_LABEL="app-infra.role"',
    );
    // The script spells none of them itself, nor the stage key its old advice used.
    const text = script("watchdog.sh");
    const body = text.slice(text.indexOf(W.SCRIPT_SETTINGS_END));
    expect(body).not.toMatch(/services\/%s|services\.%s|config set workers|config set stage|next stage/);
  });

  it("stage 4: each node's file from its own settings (the module's functions, loaded per test)", () => {
    const c = cfg({
      stage: 4,
      workerNodes: 2,
      domain: "api.example.org",
      backup: { enabled: true, repository: "s3:https://s3.example.org/b/redis" },
    });
    const p = makePlan(c, snapshotCatalog());
    const node = { tasks: "t=s:1", workerNodes: 2 };
    const core = W.watchdogEnv(c, { ...p, node: { ...node, name: "core", role: "core", swarmNodes: 3 } });
    const worker = W.watchdogEnv(c, {
      ...p,
      node: { ...node, name: "worker-1", role: "worker", swarmNodes: 0 },
    });
    const value = (env: string, key: string) => new RegExp(`^${key}='(.*)'$`, "m").exec(env)?.[1];
    expect(
      ["NODE_NAME", "TASKS", "SWARM_NODES", "WORKERS", "WORKERS_KEY"].map((k) => value(core, k)),
    ).toEqual(["core", "t=s:1", "3", "2", "workerNodes"]);
    expect(value(core, "REDIS_CLI")).toBe("docker exec -i @redis redis-cli");
    expect(value(core, "API_HEALTH_URL")).toBe("https://api.example.org/health");
    expect(value(core, "API_CONNECT_TO")).toBe("127.0.0.1");
    expect(value(core, "BACKUP_MAX_AGE_H")).toBe("26");
    expect(value(core, "CONTAINERS")).toBe("");
    expect(value(core, "SCALE_UP_MEMORY")).toBe(p.scaleUp!.memory);
    // A worker node: its own name and size advice, no Redis, API or backup of its own.
    expect(
      [
        "NODE_NAME",
        "SWARM_NODES",
        "WORKERS",
        "REDIS_CLI",
        "API_HEALTH_URL",
        "API_CONNECT_TO",
        "BACKUP_MAX_AGE_H",
      ].map((k) => value(worker, k)),
    ).toEqual(["worker-1", "0", String(p.workers), "", "", "", "0"]);
    expect(value(worker, "SCALE_UP_MEMORY")).toMatch(/^raise workerNode\/memoryGb for more RAM /);
    expect(value(worker, "SCALE_UP_CPU")).toMatch(/^raise workerNode\/cores for more vCPUs /);
    // The core node's Redis is found by the service's own name; without one the plan is broken.
    expect(() =>
      W.watchdogEnv(c, {
        ...p,
        services: p.services.filter((s) => s.role !== "redis"),
        node: { ...node, name: "core", role: "core", swarmNodes: 3 },
      }),
    ).toThrow("internal: the core node's watchdog needs the Redis service");
    // Stages 1-3 write none of it.
    const one = W.watchdogEnv(cfg({ stage: 1 }), makePlan(cfg({ stage: 1 }), snapshotCatalog()));
    expect(
      ["NODE_NAME", "TASKS", "SWARM_NODES", "WORKERS_KEY", "REDIS_CLI"].map((k) => value(one, k)),
    ).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("the secrets file uses only the keys the script accepts there", () => {
    const keys = W.watchdogSecretsFile("t", "u")
      .trim()
      .split("\n")
      .map((l) => l.split("=")[0]);
    expect(keys).toEqual(["TELEGRAM_BOT_TOKEN", "WEBHOOK_URL"]);
    expect(W.watchdogSecretsFile("t", undefined, "https://beat.example/1")).toBe(
      "TELEGRAM_BOT_TOKEN=t\nHEARTBEAT_URL=https://beat.example/1\n",
    );
    expect(W.watchdogSecretsFile(undefined, undefined)).toBe("");
    expect(W.WATCHDOG_SECRET_KEYS).toEqual(["TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "HEARTBEAT_URL"]);
    // The installer's payload: the three files, base64 ("aGk=" is "hi"), one key per line.
    expect(W.watchdogPayload("hi", "", "hi\n")).toBe(
      "WATCHDOG_SCRIPT_B64=aGk=\nWATCHDOG_ENV_B64=\nWATCHDOG_SECRETS_B64=aGkK\n",
    );
  });

  it("install-watchdog.sh's interval range and default are alerts/intervalS's", () => {
    const spec = KEY_BY_PATH.get("alerts/intervalS")!;
    expect(spec.kind).toMatchObject({ type: "int", min: 10, max: 3600 });
    const text = script("install-watchdog.sh");
    expect(text).toContain("between 10 and 3600");
    expect(text).toContain("INTERVAL_S < 10 || INTERVAL_S > 3600");
    expect(text).toContain(`\${INTERVAL_S:-${String(spec.default)}}`);
  });
});

describe("the watchdog sees the API as users do: through the edge proxy, its containers by label", () => {
  const envOf = (raw: Parameters<typeof cfg>[0]) => {
    const c = cfg(raw);
    const plan = makePlan(c, snapshotCatalog());
    return { env: W.watchdogEnv(c, plan), plan };
  };
  const line = (env: string, key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(env)?.[1];

  it("without a domain: plain HTTP to loopback port 80 (kamal-proxy answers any host), never the API's own port", () => {
    const { env } = envOf({ services: { api: { port: 8081, healthPath: "/healthz" } } });
    expect(line(env, "API_HEALTH_URL")).toBe("'http://127.0.0.1:80/healthz'");
    expect(line(env, "API_CONNECT_TO")).toBe("''");
    expect(env).not.toContain("8081");
  });

  it("with a domain and tls (the default with a domain): https to the domain, connecting to loopback", () => {
    const { env, plan } = envOf({ domain: "api.example.com" });
    expect(plan.edge).toMatchObject({ host: "api.example.com", tls: true });
    expect(line(env, "API_HEALTH_URL")).toBe("'https://api.example.com/health'");
    expect(line(env, "API_CONNECT_TO")).toBe("'127.0.0.1'");
    expect(line(env, "CERT_MIN_DAYS")).toBe("'14'");
  });

  it("with a domain and tls false: http to the domain, still connecting to loopback", () => {
    const { env } = envOf({ domain: "api.example.com", tls: false, alerts: { certMinDays: 30 } });
    expect(line(env, "API_HEALTH_URL")).toBe("'http://api.example.com/health'");
    expect(line(env, "API_CONNECT_TO")).toBe("'127.0.0.1'");
    // Written anyway; the script reads a certificate only from an https URL.
    expect(line(env, "CERT_MIN_DAYS")).toBe("'30'");
  });

  it("start-first services are listed by label, the others by name; the labels are the containers' own", () => {
    const { env, plan } = envOf({ workers: 1 });
    expect(line(env, "CONTAINERS")).toBe("'redis=redis proxy=proxy @api=api bot=bot worker-image-1=worker'");
    const startFirst = plan.services.filter((s) => s.replace === "start-first").map((s) => s.role);
    expect(startFirst).toEqual(["api"]);
    // The API container carries the two labels the script selects on (app-infra.role=api and the stack).
    const api = plan.app.containers.find((c) => c.role === "api")!;
    expect(api.labels).toEqual([
      { label: "app-infra.stack", value: "dev" },
      { label: "app-infra.role", value: "api" },
    ]);
    expect(W.WATCHDOG_LABELS).toEqual({ STACK_LABEL: "app-infra.stack", ROLE_LABEL: "app-infra.role" });
    expect(W.containersEntry({ name: "x-1", role: "worker", replace: "start-first" })).toBe("@worker=worker");
    expect(W.containersEntry({ name: "x-1", role: "worker", replace: "stop-first" })).toBe("x-1=worker");
  });
});

describe("the settings table's own guards, on a key table changed under it", () => {
  type Keys = typeof import("../../src/config/keys");
  type Spec = NonNullable<ReturnType<Keys["KEY_BY_PATH"]["get"]>>;
  // Loads src/plan/watchdog.ts afresh against a copy of the key table that `edit` changes.
  const loadWith = async (edit: (table: Map<string, Spec>) => void) => {
    vi.resetModules();
    vi.doMock("../../src/config/keys", async (importOriginal) => {
      const real = await importOriginal<Keys>();
      const table = new Map(real.KEY_BY_PATH);
      edit(table);
      return { ...real, KEY_BY_PATH: table };
    });
    try {
      return await import("../../src/plan/watchdog");
    } finally {
      vi.doUnmock("../../src/config/keys");
    }
  };
  const withDefault = (path: string, value: unknown) => (table: Map<string, Spec>) =>
    table.set(path, { ...table.get(path)!, default: value } as Spec);

  it("a key the advice names that is gone from the table fails the load, naming it", async () => {
    await expect(loadWith((t) => t.delete("workers"))).rejects.toThrow(
      "internal: workers should be a config key",
    );
  });

  it("a threshold's key gone from the table, or without a literal default, fails the load", async () => {
    await expect(loadWith((t) => t.delete("alerts/memoryPercent"))).rejects.toThrow(
      "internal: alerts/memoryPercent should be a config key with a literal default",
    );
    await expect(loadWith(withDefault("alerts/cpuPercent", true))).rejects.toThrow(
      "internal: alerts/cpuPercent should be a config key with a literal default",
    );
  });

  it("a default the script's double quotes cannot carry is refused", async () => {
    const M = await loadWith(withDefault("services/worker/queue", "img$queue"));
    expect(() => M.watchdogScriptSettings()).toThrow("internal: watchdog default img$queue needs escaping");
  });

  it("DEFAULTS lines are packed up to 100 characters, not beyond", async () => {
    // With a 10-character queue name the third line is exactly 100 characters and keeps INTERVAL_S;
    // with 11 it would be 101, so INTERVAL_S starts the next line.
    const line3 =
      '  [REPEAT_MINUTES]="60" [QUEUE_NAME]="img_queue1" [API_HEALTH_URL]="" [WORKERS]="" [INTERVAL_S]="60"';
    expect(line3).toHaveLength(100);
    const at100 = (
      await loadWith(withDefault("services/worker/queue", "img_queue1"))
    ).watchdogScriptSettings();
    expect(at100.split("\n").slice(4, 6)).toEqual([
      line3,
      '  [CONTAINERS]="" [DISK_PERCENT]="85" [DISK_PATHS]="/ /var/lib/docker" [BACKUP_MAX_AGE_H]="0"',
    ]);
    const at101 = (
      await loadWith(withDefault("services/worker/queue", "img_queue12"))
    ).watchdogScriptSettings();
    expect(at101.split("\n").slice(4, 6)).toEqual([
      '  [REPEAT_MINUTES]="60" [QUEUE_NAME]="img_queue12" [API_HEALTH_URL]="" [WORKERS]=""',
      '  [INTERVAL_S]="60" [CONTAINERS]="" [DISK_PERCENT]="85" [DISK_PATHS]="/ /var/lib/docker"',
    ]);
  });
});
