// The host watchdog (scripts/watchdog.sh), its installer and status command, run for real: fixture
// /proc files for memory/swap/CPU, a real redis-server on a random loopback port for the queue and
// Redis memory, a local HTTP server standing in for the API health endpoint, Telegram and the
// webhook, a real Docker engine for OOM kills (started if it is not running). The clock is simulated
// with NOW_EPOCH, so "5 minutes" take six runs, not five minutes.
// Needs (Debian): redis-server redis-tools shellcheck time curl; busybox-static for the Docker case.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScript } from "../../components/host";
import { parseConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { watchdogEnv } from "../../src/plan/watchdog";
import { ensureDocker } from "./support/docker";
import { freePort } from "../support/net";

const ROOT = resolve(__dirname, "../..");
const WATCHDOG = join(ROOT, "scripts/watchdog.sh");
const STATUS = join(ROOT, "scripts/status.sh");
const FIXTURES = join(__dirname, "fixtures/watchdog");

// Secrets that must never show up in an argv, a log line or a state file.
const TOKEN = "7012345678:AAH-watchdog-test-token_Zq9";
const HOOK_SECRET = "hook-secret-5f2c9e";
const HEARTBEAT_SECRET = "hb-uuid-3e7d1c0a";
const BASE_EPOCH = 1_764_028_800; // 2025-11-25 00:00 UTC
const MIN = 60;

// The scale-up advice lines exactly as the program writes them for the shipped dev stack (quotes
// included), so the script's reading of the real file format is what is tested.
const devCfg = parseConfig("dev", { stage: 1 });
const programEnv = watchdogEnv(devCfg, makePlan(devCfg, snapshotCatalog()));
const envValue = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(programEnv)![1]!;
// What they say, written out: the next size up on the bundled catalog, not "the next stage".
const MORE_RAM =
  "set server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 (`pulumi config set --path server.memoryGb 16 -s dev && pulumi up -s dev`)";
const MORE_CPU =
  "set server/cores 8 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 (`pulumi config set --path server.cores 8 -s dev && pulumi up -s dev`)";

const tmp = mkdtempSync(join(tmpdir(), "watchdog-test-"));
const shimDir = join(tmp, "shim");
const curlArgvLog = join(tmp, "curl-argv.log");
const allOutput: string[] = []; // every stdout/stderr of every run, checked for secrets at the end

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input = ""): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => {
      allOutput.push(stdout, stderr);
      done({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

function have(cmd: string): boolean {
  try {
    execFileSync("bash", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs the Debian packages whose commands are missing (root only; the CI image runs as root). */
function ensurePackages(wanted: Record<string, string>): void {
  const missing = Object.entries(wanted)
    .filter(([cmd]) => !have(cmd))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  execFileSync("apt-get", ["update"], { stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", ...new Set(missing)], {
    stdio: "ignore",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ receiver (Telegram + webhook + API)

interface Delivery {
  channel: "telegram" | "webhook" | "heartbeat";
  path: string;
  body: Record<string, unknown>;
}

class Receiver {
  port = 0;
  deliveries: Delivery[] = [];
  failWith = 0; // answer deliveries with this status instead of 200 (0 = accept)
  deliveryDelayMs = 0;
  private server = http.createServer((req, res) => void this.handle(req, res));

  start(): Promise<void> {
    return new Promise((done) =>
      this.server.listen(0, "127.0.0.1", () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        done();
      }),
    );
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  take(): Delivery[] {
    const out = this.deliveries;
    this.deliveries = [];
    return out;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? "/", this.base);
    if (req.method === "GET" && url.pathname === "/health") {
      await sleep(Number(url.searchParams.get("ms") ?? 0));
      res.writeHead(Number(url.searchParams.get("status") ?? 200)).end("ok");
      return;
    }
    if (req.method === "GET" && url.pathname.startsWith("/ping/")) {
      this.deliveries.push({ channel: "heartbeat", path: url.pathname, body: {} });
      res.writeHead(200).end("OK");
      return;
    }
    const channel = url.pathname.endsWith("/sendMessage")
      ? "telegram"
      : url.pathname.startsWith("/hook/")
        ? "webhook"
        : undefined;
    if (req.method !== "POST" || channel === undefined) {
      res.writeHead(404).end();
      return;
    }
    await sleep(this.deliveryDelayMs);
    if (this.failWith) {
      res.writeHead(this.failWith).end('{"ok":false}');
      return;
    }
    this.deliveries.push({ channel, path: url.pathname, body: JSON.parse(raw) as Record<string, unknown> });
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  }
}

// ------------------------------------------------------------------ a simulated host ("box")

const stat1 = readFileSync(join(FIXTURES, "stat-1"), "utf8");
const stat2 = readFileSync(join(FIXTURES, "stat-2"), "utf8");

// One minute on the fixture's 3 cores at 10 % busy, per core: user +400, system +200, idle +5400
// jiffies (6000 a core). Fields: user nice system idle iowait irq softirq steal guest guest_nice.
const IDLE_MINUTE_PER_CORE = [400, 0, 200, 5400, 0, 0, 0, 0, 0, 0];

/** /proc/stat after `busy` minutes like stat-1 → stat-2 (95 % busy) and then `idle` minutes at 10 %. */
function statAfter(busy: number, idle: number): string {
  const rows2 = stat2.split("\n").map((l) => l.split(/\s+/));
  return stat1
    .split("\n")
    .map((line, i) => {
      const [name, ...values] = line.split(/\s+/);
      if (!/^cpu\d*$/.test(name)) return line;
      const cores = name === "cpu" ? 3 : 1;
      const next = values.map(
        (v, j) =>
          Number(v) + (Number(rows2[i][j + 1]) - Number(v)) * busy + IDLE_MINUTE_PER_CORE[j] * cores * idle,
      );
      return [name, ...next].join(" ");
    })
    .join("\n");
}

let redisPort = 0;
let receiver: Receiver;
let deadBase = ""; // a loopback port where nothing listens: a receiver that is down
let realCurl = "";
const redisCli = (...args: string[]) =>
  execFileSync("redis-cli", ["-p", String(redisPort), ...args], { encoding: "utf8" }).trim();

class Box {
  readonly dir: string;
  readonly state: string;
  readonly envFile: string;
  readonly secretsFile: string;
  settings: Record<string, string | number>;

  constructor(name: string, settings: Record<string, string | number> = {}) {
    this.dir = join(tmp, name);
    this.state = join(this.dir, "state");
    this.envFile = join(this.dir, "watchdog.env");
    this.secretsFile = join(this.dir, "watchdog.secrets");
    mkdirSync(join(this.dir, "proc"), { recursive: true });
    this.settings = {
      STACK: "dev",
      STAGE: 1,
      WORKERS: 2,
      FOR_MINUTES: 5,
      REPEAT_MINUTES: 60,
      TELEGRAM_CHAT_ID: 4242,
      TELEGRAM_API_BASE: receiver.base,
      REDIS_CLI: `redis-cli -p ${redisPort}`,
      SCALE_UP_MEMORY: envValue("SCALE_UP_MEMORY"),
      SCALE_UP_CPU: envValue("SCALE_UP_CPU"),
      // Two paths of this box, read by the fake df (40 % unless the box's df file says otherwise).
      DISK_PATHS: `${this.dir} ${join(this.dir, "proc")}`,
      ...settings,
    };
    this.writeEnv();
    this.secrets(receiver.base);
    this.meminfo("low");
    this.stat(statAfter(0, 0));
  }

  writeEnv(): void {
    const lines = Object.entries(this.settings).map(([k, v]) => `${k}=${v}`);
    writeFileSync(this.envFile, `# written by watchdog.test.ts\n${lines.join("\n")}\n`, { mode: 0o600 });
  }

  set(settings: Record<string, string | number>): void {
    Object.assign(this.settings, settings);
    this.writeEnv();
  }

  secrets(webhookBase: string | undefined): void {
    const hook = webhookBase ? `WEBHOOK_URL="${webhookBase}/hook/${HOOK_SECRET}"\n` : "";
    writeFileSync(this.secretsFile, `TELEGRAM_BOT_TOKEN=${TOKEN}\n${hook}`, { mode: 0o600 });
  }

  meminfo(kind: "low" | "high" | "noswap"): void {
    copyFileSync(join(FIXTURES, `meminfo-${kind}`), join(this.dir, "proc/meminfo"));
  }

  stat(text: string): void {
    writeFileSync(join(this.dir, "proc/stat"), text);
  }

  env(minute: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${shimDir}:${process.env.PATH}`,
      HOME: tmp,
      PROC_ROOT: join(this.dir, "proc"),
      STATE_DIR: this.state,
      WATCHDOG_ENV: this.envFile,
      WATCHDOG_SECRETS: this.secretsFile,
      NOW_EPOCH: String(BASE_EPOCH + minute * MIN),
      CPU_SAMPLE_S: "0",
      FAKE_DF: join(this.dir, "df"),
      ...extra,
    };
  }

  /** One watchdog run at simulated minute `minute`; returns the run and what the receiver got. */
  async run(minute: number, extra: NodeJS.ProcessEnv = {}): Promise<RunResult & { got: Delivery[] }> {
    const res = await run("bash", [WATCHDOG], this.env(minute, extra));
    expect(res.code, `watchdog run at minute ${minute} failed:\n${res.stdout}${res.stderr}`).toBe(0);
    expect(res.stdout.trim().split("\n"), "one log line per run").toHaveLength(1);
    return { ...res, got: receiver.take() };
  }

  /** Runs at each minute in [from, to]; returns every delivery with the minute it happened. */
  async runs(from: number, to: number): Promise<{ minute: number; d: Delivery }[]> {
    const out: { minute: number; d: Delivery }[] = [];
    for (let m = from; m <= to; m++) for (const d of (await this.run(m)).got) out.push({ minute: m, d });
    return out;
  }
}

const texts = (ds: Delivery[], ch: "telegram" | "webhook" = "telegram") =>
  ds.filter((d) => d.channel === ch).map((d) => d.body.text as string);
const alertsIn = (ds: Delivery[]) =>
  ds.filter((d) => d.channel === "webhook").map((d) => `${d.body.alert as string}:${d.body.state as string}`);

// ------------------------------------------------------------------ setup

let redis: ChildProcess | undefined;

beforeAll(async () => {
  ensurePackages({
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    shellcheck: "shellcheck",
    "/usr/bin/time": "time",
    curl: "curl",
  });
  realCurl = execFileSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).trim();
  // A curl shim that records every argv: the proof that no secret is on a command line.
  mkdirSync(shimDir, { recursive: true });
  writeFileSync(
    join(shimDir, "curl"),
    `#!/bin/bash\n{ printf '%s\\x1f' "$@"; printf '\\n'; } >>'${curlArgvLog}'\nexec '${realCurl}' "$@"\n`,
    { mode: 0o755 },
  );
  // A df that reports what the box's df file says ("<path> <percent>" lines), 40 % otherwise, in
  // df -P's format: the watchdog's only way to read disk usage, so the disk alert is testable.
  writeFileSync(
    join(shimDir, "df"),
    [
      "#!/bin/bash",
      "printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n'",
      'for a in "$@"; do',
      "  case $a in -P | --) continue ;; esac",
      "  pct=40",
      '  if [[ -r ${FAKE_DF:-} ]]; then while read -r p v; do if [[ $p == "$a" ]]; then pct=$v; fi; done <"$FAKE_DF"; fi',
      '  printf \'/dev/fake 1000 %d %d %d%% %s\\n\' $((pct * 10)) $((1000 - pct * 10)) "$pct" "$a"',
      "done",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );

  redisPort = await freePort();
  redis = spawn(
    "redis-server",
    [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory",
      "64mb",
      "--maxmemory-policy",
      "noeviction",
      "--dir",
      tmp,
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if (redisCli("PING") === "PONG") break;
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  expect(redisCli("PING")).toBe("PONG");

  receiver = new Receiver();
  await receiver.start();
  deadBase = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  redis?.kill("SIGTERM");
  await receiver?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------ tests

describe("watchdog.sh", () => {
  it("is shellcheck-clean, as are install-watchdog.sh and status.sh", () => {
    const out = execFileSync(
      "shellcheck",
      ["-x", "--format=gcc", "watchdog.sh", "install-watchdog.sh", "status.sh"],
      {
        cwd: join(ROOT, "scripts"),
        encoding: "utf8",
      },
    );
    expect(out).toBe("");
  });

  it("logs one line with the readings and sends nothing while everything is below its threshold", async () => {
    redisCli("DEL", "rq:queue:img_queue");
    redisCli("RPUSH", "rq:queue:img_queue", "job-1", "job-2", "job-3");
    const box = new Box("quiet", { API_HEALTH_URL: `${receiver.base}/health` });
    await box.run(0);
    box.stat(statAfter(0, 1));
    const res = await box.run(1);
    expect(res.stdout).toMatch(
      /^app-infra-watchdog stack=dev mem=33% swap=0% cpu=10% queue=3 redis_mem=\d+% api=\d+ms disk=40% backup=off containers=skipped\(no CONTAINERS\) events=none\n$/,
    );
    expect(res.stderr).toBe("");
    expect(res.got).toEqual([]);
    box.meminfo("noswap");
    expect((await box.run(2)).stdout).toContain(" swap=0% ");
    redisCli("DEL", "rq:queue:img_queue");
  });

  it("fires memory and swap only after FOR_MINUTES of consecutive runs, with the plan's next size up", async () => {
    const box = new Box("memory");
    box.meminfo("high");
    // Over for 4 minutes, then one normal reading: the streak starts again.
    expect(await box.runs(0, 3)).toEqual([]);
    box.meminfo("low");
    expect(await box.runs(4, 4)).toEqual([]);
    box.meminfo("high");
    expect(await box.runs(5, 9)).toEqual([]);
    const fired = (await box.run(10)).got;
    expect(texts(fired)).toEqual([
      `[dev] memory 97% > 95% (critical) for 5 min — needs more RAM: ${MORE_RAM}`,
      `[dev] swap 65% > 50% for 5 min — needs more RAM: ${MORE_RAM}`,
    ]);
    expect(fired.find((d) => d.channel === "telegram")?.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(fired.find((d) => d.channel === "telegram")?.body).toMatchObject({ chat_id: "4242" });
    expect(fired.filter((d) => d.channel === "webhook").map((d) => d.body)).toEqual([
      {
        stack: "dev",
        alert: "memory",
        state: "firing",
        value: "97%",
        threshold: "95%",
        text: texts(fired)[0],
      },
      { stack: "dev", alert: "swap", state: "firing", value: "65%", threshold: "50%", text: texts(fired)[1] },
    ]);
  });

  it("suppresses repeats within REPEAT_MINUTES, re-sends after, and sends resolved when it clears", async () => {
    const box = new Box("repeat", { STAGE: 2, FOR_MINUTES: 0, REPEAT_MINUTES: 60 });
    // A file without the plan's advice (written by hand): the script's generated default names the key.
    delete box.settings.SCALE_UP_MEMORY;
    box.writeEnv();
    box.meminfo("high");
    expect(alertsIn((await box.run(0)).got)).toEqual(["memory:firing", "swap:firing"]);
    for (const m of [1, 2, 30, 59]) expect((await box.run(m)).got, `minute ${m}`).toEqual([]);
    const again = (await box.run(60)).got;
    expect(alertsIn(again)).toEqual(["memory:firing", "swap:firing"]);
    expect(texts(again)[1]).toBe(
      "[dev] swap 65% > 50% for 60 min — needs more RAM: raise server/memoryGb for more RAM (npm run plan shows the next size up and its price)",
    );
    expect((await box.run(61)).got).toEqual([]);
    box.meminfo("low");
    const resolved = (await box.run(62)).got;
    expect(alertsIn(resolved)).toEqual(["memory:resolved", "swap:resolved"]);
    expect(texts(resolved)).toEqual([
      "[dev] resolved: memory 33% <= 95% (alert since 00:00 UTC)",
      "[dev] resolved: swap 0% <= 50% (alert since 00:00 UTC)",
    ]);
    expect((await box.run(63)).got).toEqual([]);
  });

  it("fires CPU on the average since the last run (two /proc/stat snapshots), after FOR_MINUTES", async () => {
    const box = new Box("cpu", { STAGE: 3 });
    expect((await box.run(0)).stdout).toContain(" cpu=0% "); // first run: two samples of the same file
    const sent: Delivery[] = [];
    for (let m = 1; m <= 6; m++) {
      box.stat(statAfter(m, 0));
      const r = await box.run(m);
      expect(r.stdout).toContain(" cpu=95% ");
      sent.push(...r.got);
    }
    expect(texts(sent)).toEqual([`[dev] CPU 95% > 90% (average) for 5 min — needs more CPU: ${MORE_CPU}`]);
    box.stat(statAfter(6, 1));
    const r = await box.run(7);
    expect(r.stdout).toContain(" cpu=10% ");
    expect(texts(r.got)).toEqual(["[dev] resolved: CPU 10% <= 90% (alert since 00:01 UTC)"]);
  });

  it("fires the queue alert from a real Redis list past QUEUE_LENGTH, advising more workers", async () => {
    redisCli("DEL", "rq:queue:img_queue");
    redisCli("RPUSH", "rq:queue:img_queue", ...Array.from({ length: 142 }, (_, i) => `job-${i}`));
    const box = new Box("queue");
    const sent = await box.runs(0, 5);
    expect(sent.map((s) => s.minute)).toEqual([5, 5]);
    expect(texts(sent.map((s) => s.d))).toEqual([
      `[dev] queue img_queue has 142 jobs > 100 for 5 min — needs more workers: \`pulumi config set workers 3 -s dev && pulumi up -s dev\` (each worker needs its memory limit: if memory or swap is high too, ${MORE_RAM} first)`,
    ]);
    expect(sent.find((s) => s.d.channel === "webhook")?.d.body).toMatchObject({
      alert: "queue",
      value: "142 jobs",
      threshold: "100 jobs",
    });
    redisCli("LTRIM", "rq:queue:img_queue", "0", "9");
    expect(texts((await box.run(6)).got)).toEqual([
      "[dev] resolved: queue img_queue has 10 jobs <= 100 (alert since 00:00 UTC)",
    ]);
    redisCli("DEL", "rq:queue:img_queue");
  });

  it("fires when Redis uses more than REDIS_MEMORY_PERCENT of its maxmemory", async () => {
    const used = Number(/used_memory:(\d+)/.exec(redisCli("INFO", "memory"))?.[1]);
    redisCli("CONFIG", "SET", "maxmemory", String(Math.floor(used / 0.94)));
    try {
      const box = new Box("redis-memory", { FOR_MINUTES: 1 });
      const sent = await box.runs(0, 1);
      expect(alertsIn(sent.map((s) => s.d))).toEqual(["redis_memory:firing"]);
      expect(texts(sent.map((s) => s.d))[0]).toMatch(
        /^\[dev\] Redis memory 9\d% of maxmemory > 90% for 1 min — raise services\/redis\/memoryMb \(`pulumi config set --path services\.redis\.memoryMb <MB> -s dev && pulumi up -s dev`\) or find what fills it; the queue's Redis uses noeviction, so writes fail when it is full$/,
      );
    } finally {
      redisCli("CONFIG", "SET", "maxmemory", "64mb");
    }
  });

  it("fires on a slow API health endpoint and counts a failed one as over the threshold", async () => {
    const box = new Box("api", {
      FOR_MINUTES: 1,
      API_LATENCY_MS: 300,
      API_HEALTH_URL: `${receiver.base}/health?ms=600`,
    });
    const slow = await box.runs(0, 1);
    expect(slow.map((s) => s.minute)).toEqual([1, 1]);
    // 600 ms and up: a loaded CI machine measured 1095 ms (curl gives up at 2 s, another text).
    expect(texts(slow.map((s) => s.d))[0]).toMatch(
      /^\[dev\] API health (6\d\d|[7-9]\d\d|1\d\d\d) ms > 300 ms for 1 min — check `docker logs --tail 100 \$\(docker ps -lq --filter label=app-infra\.role=api --filter label=app-infra\.stack=dev\)` \(the newest API container\) and `docker logs --tail 100 proxy` \(the edge proxy\); if memory is high too, set server\/memoryGb 16 → cx43 .*; if CPU is, set server\/cores 8 → cx43 /,
    );
    box.set({ API_HEALTH_URL: `${receiver.base}/health` });
    expect(alertsIn((await box.run(2)).got)).toEqual(["api:resolved"]);
    box.set({ API_HEALTH_URL: `${receiver.base}/health?status=503`, FOR_MINUTES: 0 });
    expect(texts((await box.run(3)).got)[0]).toMatch(
      /^\[dev\] API health check failed \(HTTP 503\) — check /,
    );
    box.set({ API_HEALTH_URL: `${deadBase}/health` });
    const refused = await box.run(4);
    expect(refused.stdout).toContain(" api=fail(connection refused) ");
    expect(refused.got).toEqual([]); // still the same firing alert: no repeat within REPEAT_MINUTES
  });

  it("keeps an alert pending while the receiver is down or answers non-2xx, and delivers it once it is back", async () => {
    const box = new Box("delivery", { FOR_MINUTES: 0, TELEGRAM_API_BASE: deadBase });
    box.secrets(deadBase);
    box.meminfo("high");
    const down = await box.run(0);
    expect(down.got).toEqual([]);
    expect(down.stdout).toMatch(
      /events=memory:firing,memory:firing>telegram:pending,memory:firing>webhook:pending,/,
    );
    expect(down.stdout).toContain(" telegram=down(curl exit 7)");
    expect(down.stdout).toContain(" webhook=down(curl exit 7)");
    // Back, but failing: still pending.
    box.set({ TELEGRAM_API_BASE: receiver.base });
    box.secrets(receiver.base);
    receiver.failWith = 503;
    const failing = await box.run(1);
    expect(failing.stdout).toContain(" telegram=down(HTTP 503) webhook=down(HTTP 503)");
    receiver.failWith = 0;
    const back = await box.run(2);
    expect(alertsIn(back.got)).toEqual(["memory:firing", "swap:firing"]);
    expect(texts(back.got)).toHaveLength(2);
    expect((await box.run(3)).got).toEqual([]); // delivered once, not again
    // A resolved that cannot be delivered is kept too.
    box.meminfo("low");
    box.set({ TELEGRAM_API_BASE: deadBase });
    box.secrets(deadBase);
    expect((await box.run(4)).got).toEqual([]);
    box.set({ TELEGRAM_API_BASE: receiver.base });
    box.secrets(receiver.base);
    expect(alertsIn((await box.run(5)).got)).toEqual(["memory:resolved", "swap:resolved"]);
  });

  it("never puts a secret in curl's argv, even while a delivery is in flight (ps)", async () => {
    const box = new Box("ps", { FOR_MINUTES: 0 });
    box.meminfo("high");
    receiver.deliveryDelayMs = 700;
    const seen: string[] = [];
    let running = true;
    const watch = (async () => {
      while (running) {
        const ps = execFileSync("ps", ["-eo", "args="], { encoding: "utf8" });
        seen.push(...ps.split("\n").filter((l) => l.includes("curl") && l.includes("--config")));
        await sleep(50);
      }
    })();
    try {
      const r = await box.run(0);
      expect(alertsIn(r.got)).toEqual(["memory:firing", "swap:firing"]);
    } finally {
      running = false;
      receiver.deliveryDelayMs = 0;
      await watch;
    }
    expect(seen.length, "a curl delivery was seen in ps").toBeGreaterThan(0);
    for (const line of seen) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(HOOK_SECRET);
    }
  });

  it("reports bad settings on stderr by key, keeps the defaults and never echoes a secret", async () => {
    const box = new Box("settings");
    writeFileSync(
      box.envFile,
      [
        `TELEGRAM_API_BASE=${receiver.base}`,
        `REDIS_CLI=redis-cli -p ${redisPort}`,
        "SWAP_PERCENT=lots",
        "COLOUR=blue",
        `TELEGRAM_BOT_TOKEN=${TOKEN}`,
        "just words",
        "STACK='qa'",
      ].join("\n"),
    );
    writeFileSync(box.secretsFile, `TELEGRAM_BOT_TOKEN="${TOKEN}"\nSTACK=prod\n`);
    const r = await box.run(0);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      "app-infra-watchdog: watchdog.env: COLOUR: unknown key (ignored)",
      "app-infra-watchdog: watchdog.env: TELEGRAM_BOT_TOKEN: belongs in the secrets file (ignored)",
      "app-infra-watchdog: watchdog.env:6: should be KEY=VALUE (line ignored)",
      "app-infra-watchdog: watchdog.secrets: STACK: not a secret key (ignored)",
      "app-infra-watchdog: SWAP_PERCENT: should be a whole number (got lots), using 50",
    ]);
    expect(r.stdout).toContain("stack=qa ");
    // The environment wins over the file.
    expect((await box.run(1, { STACK: "from-env" })).stdout).toContain("stack=from-env ");
  });

  it("--status (and status.sh) prints readings and thresholds as a table, changing no state and sending nothing", async () => {
    redisCli("RPUSH", "rq:queue:img_queue", "a", "b");
    const box = new Box("status", { FOR_MINUTES: 0, API_HEALTH_URL: `${receiver.base}/health` });
    box.meminfo("high");
    await box.run(0);
    receiver.take();
    const snapshot = () =>
      readdirSync(box.state)
        .sort()
        .map(
          (f) =>
            `${f}:${createHash("sha256")
              .update(readFileSync(join(box.state, f)))
              .digest("hex")}`,
        );
    const before = snapshot();
    const st = await run("bash", [WATCHDOG, "--status"], box.env(1));
    expect(st.code).toBe(0);
    const lines = st.stdout.split("\n");
    expect(lines[0]).toBe("app-infra watchdog — stack dev, stage 1, 2025-11-25 00:01 UTC");
    expect(lines[2]).toMatch(/^METRIC\s+VALUE\s+THRESHOLD\s+STATE$/);
    expect(st.stdout).toMatch(/\nmemory\s+97% \(2828 of 2927 MB\)\s+95 %\s+OVER, FIRING since 00:00 UTC\n/);
    expect(st.stdout).toMatch(/\nswap\s+65% \(1331 of 2048 MB\)\s+50 %\s+OVER, FIRING since 00:00 UTC\n/);
    expect(st.stdout).toMatch(/\ncpu \(avg 60 s\)\s+0%\s+90 %\s+ok\n/);
    expect(st.stdout).toMatch(/\nqueue img_queue\s+2 jobs\s+100 jobs\s+ok\n/);
    expect(st.stdout).toMatch(/\nredis memory\s+\d+% \(\d+ of 64 MB\)\s+90 %\s+ok\n/);
    expect(st.stdout).toMatch(/\napi latency\s+\d+ ms\s+2000 ms\s+ok\n/);
    expect(st.stdout).toContain(
      "alerts fire after 0 min, repeat every 60 min; telegram: on (chat 4242); webhook: on\n",
    );
    expect(st.stdout).not.toContain(TOKEN);
    expect(snapshot()).toEqual(before);
    // status.sh from a checkout: no installed watchdog, so it runs scripts/watchdog.sh.
    const viaStatus = await run("bash", [STATUS], {
      ...box.env(1),
      WATCHDOG_BIN: join(tmp, "not-installed"),
    });
    expect(viaStatus.code).toBe(0);
    expect(viaStatus.stdout.split("\n").slice(0, 5)).toEqual(lines.slice(0, 5));
    const viaStdin = await run(
      "bash",
      ["-s"],
      { ...box.env(1), WATCHDOG_BIN: join(tmp, "not-installed") },
      readScript("status.sh"),
    );
    expect(viaStdin.stderr).toBe(
      `app-infra-status: the watchdog is not installed (${join(tmp, "not-installed")} is missing); run pulumi up\n`,
    );
    expect(viaStdin.code).toBe(1);
    expect(receiver.take()).toEqual([]);
    redisCli("DEL", "rq:queue:img_queue");
  });

  it("samples /proc/stat twice 1 s apart on a first run; prints the footprint of one check", async () => {
    const box = new Box("footprint", { API_HEALTH_URL: `${receiver.base}/health` });
    const env = { ...box.env(0), PROC_ROOT: "/proc", NOW_EPOCH: "", CPU_SAMPLE_S: "1" };
    const measure = async (label: string) => {
      const r = await run("/usr/bin/time", ["-v", "bash", WATCHDOG], env);
      expect(r.code).toBe(0);
      const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
      const [, mm, ss] =
        /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\d+):([\d.]+)/.exec(r.stderr) ?? [];
      const wallS = Number(mm) * 60 + Number(ss);
      console.log(
        `watchdog footprint (${label}): peak RSS of the largest process ${rssKb} kB, wall ${wallS.toFixed(2)} s — ${r.stdout.trim()}`,
      );
      return { rssKb, wallS };
    };
    const first = await measure("first run, 1 s CPU sample");
    expect(first.wallS).toBeGreaterThanOrEqual(1);
    const steady = await measure("steady run: meminfo, stat, redis-cli, API curl");
    expect(steady.wallS).toBeLessThan(1);
    expect(steady.rssKb).toBeLessThan(32 * 1024);
  });
});

// ------------------------------------------------------------------ the API behind the edge proxy, over HTTPS

describe("watchdog.sh: the API through the edge proxy, and its certificate", () => {
  const DOMAIN = "api.wdtest.example";
  const certDir = mkdtempSync(join(tmpdir(), "watchdog-cert-"));
  let server: https.Server;
  let port = 0;
  const nowS = () => Math.floor(Date.now() / 1000);

  /** A self-signed certificate for DOMAIN valid `days` days from now; returns its files and notAfter. */
  function makeCert(days: number): { key: string; cert: string; notAfterS: number } {
    const key = join(certDir, `key-${days}.pem`);
    const cert = join(certDir, `cert-${days}.pem`);
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        String(days),
        "-subj",
        `/CN=${DOMAIN}`,
        "-addext",
        `subjectAltName=DNS:${DOMAIN}`,
      ],
      { stdio: "ignore" },
    );
    // openssl's own reading of the date (ISO form, OpenSSL 3), not the script's.
    const iso = execFileSync("openssl", ["x509", "-in", cert, "-noout", "-enddate", "-dateopt", "iso_8601"], {
      encoding: "utf8",
    }).trim();
    const m = /^notAfter=(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)Z$/.exec(iso);
    if (!m) throw new Error(`unexpected openssl output: ${iso}`);
    return { key, cert, notAfterS: Date.parse(`${m[1]}T${m[2]}Z`) / 1000 };
  }
  const serve = (c: { key: string; cert: string }) =>
    server.setSecureContext({ key: readFileSync(c.key), cert: readFileSync(c.cert) });
  const utc = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";

  const soon = makeCert(5);
  const later = makeCert(60);

  beforeAll(async () => {
    port = await freePort();
    server = https.createServer({ key: readFileSync(soon.key), cert: readFileSync(soon.cert) }, (req, res) =>
      res.writeHead(req.url === "/health" ? 200 : 404).end("ok"),
    );
    await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    rmSync(certDir, { recursive: true, force: true });
  });

  // The URL names the domain, which nothing resolves: only API_CONNECT_TO gets curl to the server.
  const tlsBox = (name: string) =>
    new Box(name, {
      FOR_MINUTES: 0,
      API_HEALTH_URL: `https://${DOMAIN}:${port}/health`,
      API_CONNECT_TO: "127.0.0.1",
      CERT_MIN_DAYS: 14,
    });

  it("fires `cert` at once when fewer than CERT_MIN_DAYS are left, naming the days and the date, and resolves on a renewed one", async () => {
    const box = tlsBox("cert");
    // The test's certificate is trusted the way curl reads a CA bundle from the environment.
    const trust = { NOW_EPOCH: String(nowS()), CURL_CA_BUNDLE: soon.cert };
    const fired = await box.run(0, trust);
    const days = Math.floor((soon.notAfterS - Number(trust.NOW_EPOCH)) / 86400);
    expect(days).toBe(4); // -days 5, a few seconds ago
    expect(fired.stdout).toMatch(new RegExp(` api=\\d+ms cert=${days}d `));
    expect(alertsIn(fired.got)).toEqual(["cert:firing"]);
    expect(texts(fired.got)).toEqual([
      `[dev] TLS certificate of ${DOMAIN} expires in ${days} days (${utc(soon.notAfterS)}), fewer than 14 — ` +
        "kamal-proxy renews it by itself 30 days before expiry, so renewal has been failing: see " +
        `\`docker logs --tail 100 proxy\` for its ACME errors, check that ${DOMAIN} resolves to this server's ` +
        `public address (\`dig +short ${DOMAIN}\`) and that ports 80 and 443 reach it from the Internet ` +
        "(Let's Encrypt's challenge comes in there; the firewall opens them when services/api/public is true)",
    ]);
    expect(fired.got.find((d) => d.channel === "webhook")?.body).toMatchObject({
      alert: "cert",
      value: `${days} days`,
      threshold: "14 days",
    });
    // The API itself answered through the name: no api alert.
    expect(fired.stdout).not.toContain("api:firing");
    // Repeats daily, not every REPEAT_MINUTES (60).
    const at = (m: number) => ({ ...trust, NOW_EPOCH: String(Number(trust.NOW_EPOCH) + m * MIN) });
    expect((await box.run(61, at(61))).got).toEqual([]);
    expect(alertsIn((await box.run(24 * 60, at(24 * 60))).got)).toEqual(["cert:firing"]);
    // kamal-proxy renewed it: resolved, with what is left a simulated day later (58 days).
    serve(later);
    const renewedAt = at(24 * 60 + 1);
    const left = Math.floor((later.notAfterS - Number(renewedAt.NOW_EPOCH)) / 86400);
    expect(left).toBe(58);
    const renewed = await box.run(24 * 60 + 1, { ...renewedAt, CURL_CA_BUNDLE: later.cert });
    expect(texts(renewed.got)).toEqual([
      `[dev] resolved: TLS certificate of ${DOMAIN} has ${left} days left, until ${utc(later.notAfterS)} (>= 14) (alert since ${utc(Number(trust.NOW_EPOCH)).slice(11)})`,
    ]);
    serve(soon);
  });

  it("sends nothing with 60 days left; a certificate curl refuses is still read (and fails the API check)", async () => {
    serve(later);
    const box = tlsBox("cert-ok");
    const ok = await box.run(0, { NOW_EPOCH: String(nowS()), CURL_CA_BUNDLE: later.cert });
    expect(ok.got).toEqual([]);
    expect(ok.stdout).toMatch(/ api=\d+ms cert=59d /);
    const st = await run(
      "bash",
      [WATCHDOG, "--status"],
      box.env(0, { NOW_EPOCH: String(nowS()), CURL_CA_BUNDLE: later.cert }),
    );
    expect(st.stdout).toMatch(
      new RegExp(
        `\\ncertificate\\s+59 days \\(until ${utc(later.notAfterS).slice(0, 10)}\\)\\s+14 days\\s+ok\\n`,
      ),
    );
    // Not trusted (no CA bundle), and checked 6 days after the 5-day one was made: expired. curl
    // refuses it, so the watchdog reads it again without verification to say how long ago.
    serve(soon);
    const t = nowS() + 6 * 86400;
    const refused = await box.run(1, { NOW_EPOCH: String(t) });
    expect(refused.stdout).toContain(
      " api=fail(certificate not accepted (untrusted, expired or for another name)) cert=-1d ",
    );
    expect(alertsIn(refused.got).sort()).toEqual(["api:firing", "cert:firing"]);
    expect(texts(refused.got).find((x) => x.includes("TLS certificate"))).toMatch(
      new RegExp(
        `^\\[dev\\] TLS certificate of ${DOMAIN.replace(/\./g, "\\.")} expired 1 days ago \\(${utc(soon.notAfterS)}\\) — kamal-proxy renews`,
      ),
    );
  });

  it("http URLs (no domain, or tls false) read no certificate; without API_CONNECT_TO the domain does not resolve", async () => {
    const box = new Box("cert-http", {
      FOR_MINUTES: 0,
      API_HEALTH_URL: `${receiver.base}/health`,
      API_CONNECT_TO: "",
    });
    const r = await box.run(0);
    expect(r.stdout).toMatch(/ api=\d+ms disk=/);
    expect(r.got).toEqual([]);
    const lost = tlsBox("cert-noconnect");
    lost.set({ API_CONNECT_TO: "" });
    const nx = await lost.run(0, { CURL_CA_BUNDLE: soon.cert });
    // Not resolved (curl exit 6), or a resolver that never answers (the timeout): either way not reached.
    expect(nx.stdout).toMatch(/ api=fail\((curl exit 6|timeout after \d+ s)\) cert=n\/a /);
    lost.set({ API_CONNECT_TO: "127.0.0.1:443" });
    const bad = await lost.run(1, { CURL_CA_BUNDLE: soon.cert });
    expect(bad.stderr).toBe(
      "app-infra-watchdog: API_CONNECT_TO: should be a host name or address, IPv6 in brackets (got 127.0.0.1:443), using none\n",
    );
  });
});

// ------------------------------------------------------------------ containers found by label (a fake docker)

/**
 * A fake `docker` in `bin`: logs every argv to $FAKE_DOCKER/argv (fields split by \x1f), then
 * answers the subcommands `cases` handle (bash `case $1` arms, $d = $FAKE_DOCKER); others exit 1.
 */
function fakeDocker(bin: string, cases: string[]): void {
  writeFileSync(
    join(bin, "docker"),
    [
      "#!/bin/bash",
      "d=${FAKE_DOCKER:?}",
      "{ printf '%s\\x1f' \"$@\"; printf '\\n'; } >>\"$d/argv\"",
      "case $1 in",
      ...cases,
      "  *) exit 1 ;;",
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
}

describe("watchdog.sh: @role entries find the API's containers by label, whatever their release name", () => {
  const fake = join(tmp, "fake-docker");
  const bin = join(fake, "bin");
  const A = "api-aaaaaaaaaaaa";
  const B = "api-bbbbbbbbbbbb";
  const C = "api-cccccccccccc";

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    // `docker ps` prints the file `ps` (fails while `ps-fail` exists); `inspect` the lines of the file
    // `inspect` ("name|status|oomkilled|restarts|exitcode") for the names asked; `events` nothing.
    // Every argv is logged.
    fakeDocker(bin, [
      '  ps) if [[ -e $d/ps-fail ]]; then exit 1; fi; cat "$d/ps" ;;',
      "  inspect)",
      "    shift",
      "    while IFS= read -r line; do",
      '      for a in "$@"; do if [[ $a == "${line%%|*}" ]]; then printf \'/%s\\n\' "$line"; fi; done',
      '    done <"$d/inspect" ;;',
      "  events) ;;",
    ]);
  });

  const docker = (ps: string[], inspect: string[]) => {
    writeFileSync(join(fake, "ps"), ps.map((n) => `${n}\n`).join(""));
    writeFileSync(join(fake, "inspect"), inspect.map((l) => `${l}\n`).join(""));
  };
  const stateFiles = (box: Box) =>
    readdirSync(box.state)
      .filter((f) => /api-/.test(f))
      .sort();

  it("watches each labelled container while it exists, both during a switch, and drops a removed one without alerting", async () => {
    const box = new Box("labels", { CONTAINERS: "'redis=redis @api=api'", REDIS_CLI: "", FOR_MINUTES: 0 });
    const extra = { PATH: `${bin}:${shimDir}:${process.env.PATH}`, FAKE_DOCKER: fake };
    writeFileSync(join(fake, "argv"), "");
    docker([A], ["redis|running|false|0|0", `${A}|running|false|0|0`]);
    const one = await box.run(0, extra);
    expect(one.stdout).toContain(` containers=redis:running/r0,${A}:running/r0 `);
    expect(one.got).toEqual([]);
    // The listing is by the containers' two labels, for this stack.
    expect(readFileSync(join(fake, "argv"), "utf8")).toContain(
      [
        "ps",
        "-a",
        "--filter",
        "label=app-infra.role=api",
        "--filter",
        "label=app-infra.stack=dev",
        "--format",
        "{{.Names}}",
      ].join("\x1f"),
    );
    expect(readFileSync(join(box.state, "labelled-api"), "utf8")).toBe(`${A}\n`);

    // A switch: the new release runs beside the old one, both watched.
    docker([B, A], ["redis|running|false|0|0", `${A}|running|false|0|0`, `${B}|running|false|0|0`]);
    expect((await box.run(1, extra)).stdout).toContain(
      ` containers=redis:running/r0,${B}:running/r0,${A}:running/r0 `,
    );

    // The old one stopped (143) and removed by the deploy: no alert, no "missing", its state gone.
    docker([B], ["redis|running|false|0|0", `${B}|running|false|0|0`]);
    const after = await box.run(2, extra);
    expect(after.got).toEqual([]);
    expect(after.stdout).toContain(` containers=redis:running/r0,${B}:running/r0 `);
    expect(readFileSync(join(box.state, "labelled-api"), "utf8")).toBe(`${B}\n`);

    // The new one crashes: the alert names it and a logs command that works for it.
    docker([B], ["redis|running|false|0|0", `${B}|exited|false|0|3`]);
    const crashed = await box.run(3, extra);
    expect(alertsIn(crashed.got)).toEqual([`container_${B}:firing`]);
    expect(texts(crashed.got)).toEqual([
      `[dev] container ${B} crashed (exit code 3, status exited) — see \`docker logs --tail 100 ${B}\``,
    ]);
    expect(stateFiles(box)).toEqual([`alert-container_${B}`, `container-${B}`]);

    // The next release replaced it: the crashed one's alert resolves as removed, its files go.
    docker([C], ["redis|running|false|0|0", `${C}|running|false|0|0`]);
    const replaced = await box.run(4, extra);
    expect(texts(replaced.got)).toEqual([
      `[dev] resolved: container ${B} was removed (replaced by a deploy) (alert since 00:03 UTC)`,
    ]);
    expect(stateFiles(box)).toEqual([`container-${C}`]);
    expect(readFileSync(join(box.state, "labelled-api"), "utf8")).toBe(`${C}\n`);

    // Docker cannot list: the last names stand in (shown missing), nothing fires, nothing is forgotten.
    writeFileSync(join(fake, "ps-fail"), "");
    docker([], ["redis|running|false|0|0"]);
    const down = await box.run(5, extra);
    expect(down.got).toEqual([]);
    expect(down.stdout).toContain(` containers=redis:running/r0,${C}:missing/r? `);
    expect(readFileSync(join(box.state, "labelled-api"), "utf8")).toBe(`${C}\n`);
    rmSync(join(fake, "ps-fail"));

    // A bad entry is named and skipped.
    box.set({ CONTAINERS: "'@api=api @bad/role'" });
    docker([C], [`${C}|running|false|0|0`]);
    const bad = await box.run(6, extra);
    expect(bad.stderr).toBe(
      "app-infra-watchdog: CONTAINERS: @bad/role: should be @role or @role=service (ignored)\n",
    );
    expect(bad.stdout).toContain(` containers=${C}:running/r0 `);
  });
});

// ------------------------------------------------------------------ stage 4: tasks and nodes (a fake docker)

describe("watchdog.sh on a stage-4 node: its Swarm tasks, the swarm's nodes, alerts naming the node", () => {
  const fake = join(tmp, "fake-swarm");
  const bin = join(fake, "bin");

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    // `ps` prints the file `ps` (one service name per running task), `events` the file `events`,
    // `node ls` the file `nodes` (fails with the file `nodes-fail`'s text while it exists).
    fakeDocker(bin, [
      '  ps) cat "$d/ps" ;;',
      '  events) if [[ -e $d/events-fail ]]; then exit 1; fi; cat "$d/events" ;;',
      '  node) if [[ -e $d/nodes-fail ]]; then cat "$d/nodes-fail" >&2; exit 1; fi; cat "$d/nodes" ;;',
    ]);
  });

  const docker = (files: { ps?: string[]; events?: string[]; nodes?: string[] }) => {
    for (const [f, lines] of Object.entries(files))
      writeFileSync(join(fake, f), lines.map((l) => `${l}\n`).join(""));
  };
  const extra = () => ({ PATH: `${bin}:${shimDir}:${process.env.PATH}`, FAKE_DOCKER: fake });
  /** The events window starts a minute back, so the next run asks for the events (real clock). */
  const window = (box: Box) =>
    writeFileSync(join(box.state, "task-events.since"), `${Math.floor(Date.now() / 1000) - 60}\n`);

  it("a worker node: tasks short after FOR_MINUTES, an OOM kill and a crash at once, a stop is none", async () => {
    const box = new Box("tasks", {
      STAGE: 4,
      NODE_NAME: "worker-1",
      TASKS: "'worker-image=worker:2'",
      CONTAINERS: "''",
      REDIS_CLI: "''",
      FOR_MINUTES: 1,
      SCALE_UP_MEMORY: "'raise workerNode/memoryGb for more RAM'",
    });
    writeFileSync(join(fake, "argv"), "");
    docker({ ps: ["worker-image", "worker-image"], events: [] });
    const ok = await box.run(0, extra());
    expect(ok.stdout).toContain(" stack=dev node=worker-1 mem=");
    expect(ok.stdout).toContain(" containers=skipped(no CONTAINERS) tasks=worker-image:2/2 events=none");
    expect(ok.got).toEqual([]);
    // Running tasks only, of this stack, by Swarm's service label.
    expect(readFileSync(join(fake, "argv"), "utf8")).toContain(
      ["ps", "--filter", "label=com.docker.swarm.service.name", "--filter", "label=app-infra.stack=dev"].join(
        "\x1f",
      ),
    );

    // One task short: after FOR_MINUTES, naming the node and where to look.
    docker({ ps: ["worker-image"] });
    expect((await box.run(1, extra())).got).toEqual([]);
    const short = await box.run(2, extra());
    expect(alertsIn(short.got)).toEqual(["tasks_worker-image:firing"]);
    expect(texts(short.got)).toEqual([
      "[dev worker-1] service worker-image has 1 of 2 tasks running on this node for 1 min — " +
        "`docker service ps --no-trunc worker-image` on the core node says why (no room for its memory " +
        "reservation, an image that cannot be pulled, a node down); if memory is short, raise workerNode/memoryGb for more RAM",
    ]);
    // The webhook's body names the node.
    expect(short.got.find((d) => d.channel === "webhook")!.body).toMatchObject({
      stack: "dev",
      node: "worker-1",
      alert: "tasks_worker-image",
    });

    // An OOM kill (oom, then die 137): at once, with the memory key of the service's config.
    docker({
      ps: ["worker-image", "worker-image"],
      events: ["worker-image|oom||worker-image.1.aaa", "worker-image|die|137|worker-image.1.aaa"],
    });
    window(box);
    const oom = await box.run(3, extra());
    expect(alertsIn(oom.got).sort()).toEqual([
      "task-crash_worker-image:firing",
      "tasks_worker-image:resolved",
    ]);
    expect(texts(oom.got)).toContain(
      "[dev worker-1] service worker-image: task worker-image.1.aaa was OOM-killed (1 in the last run's window) — " +
        "raise services/worker/memoryMb (`pulumi config set --path services.worker.memoryMb <MB> -s dev && pulumi up -s dev`); " +
        "if memory is short overall, raise workerNode/memoryGb for more RAM",
    );
    expect(oom.stdout).toContain(" tasks=worker-image:2/2/oom ");

    // A clean window resolves it; a stop (kill, then die 143) is no crash; a crash is.
    docker({ events: [] });
    window(box);
    expect(alertsIn((await box.run(4, extra())).got)).toEqual(["task-crash_worker-image:resolved"]);
    docker({ events: ["worker-image|kill||worker-image.2.bbb", "worker-image|die|143|worker-image.2.bbb"] });
    window(box);
    expect((await box.run(5, extra())).got).toEqual([]);
    docker({ events: ["worker-image|die|1|worker-image.2.ccc"] });
    window(box);
    const crash = await box.run(6, extra());
    expect(texts(crash.got)).toEqual([
      "[dev worker-1] service worker-image: task worker-image.2.ccc crashed (exit code 1; 1 in the last run's window); " +
        "Swarm starts a new task — `docker service logs --tail 100 worker-image` on the core node",
    ]);

    // A malformed entry is named and skipped.
    box.set({ TASKS: "'worker-image=worker:2 bad'" });
    docker({ events: [] });
    expect((await box.run(7, extra())).stderr).toBe(
      "app-infra-watchdog: TASKS: bad: should be name=service:count (ignored)\n",
    );
  });

  it("a failed events read keeps its window: the next run still reports the OOM kill in it", async () => {
    const box = new Box("tasks-window", {
      STAGE: 4,
      NODE_NAME: "worker-1",
      TASKS: "'worker-image=worker:2'",
      CONTAINERS: "''",
      REDIS_CLI: "''",
    });
    docker({ ps: ["worker-image", "worker-image"], events: [] });
    await box.run(0, extra());
    window(box);
    const since = readFileSync(join(box.state, "task-events.since"), "utf8");
    writeFileSync(join(fake, "events-fail"), "");
    try {
      expect((await box.run(1, extra())).got).toEqual([]);
      expect(readFileSync(join(box.state, "task-events.since"), "utf8")).toBe(since);
    } finally {
      rmSync(join(fake, "events-fail"));
    }
    docker({ events: ["worker-image|oom||worker-image.1.aaa", "worker-image|die|137|worker-image.1.aaa"] });
    const late = await box.run(2, extra());
    expect(alertsIn(late.got)).toEqual(["task-crash_worker-image:firing"]);
    expect(readFileSync(join(box.state, "task-events.since"), "utf8")).not.toBe(since);
  });

  it("the core node: every node ready, one down, one gone; the list unreadable", async () => {
    const box = new Box("swarm", {
      STAGE: 4,
      NODE_NAME: "core",
      SWARM_NODES: 3,
      CONTAINERS: "''",
      REDIS_CLI: "''",
      FOR_MINUTES: 0,
    });
    const nodes = ["app-infra-dev|Ready", "app-infra-dev-worker-1|Ready", "app-infra-dev-worker-2|Ready"];
    docker({ nodes });
    const whole = await box.run(0, extra());
    expect(whole.stdout).toContain(" swarm=3/3 ");
    expect(whole.got).toEqual([]);
    expect(readFileSync(join(box.state, "swarm-nodes"), "utf8")).toBe(
      nodes.map((n) => n.split("|")[0]).join("\n") + "\n",
    );

    // Worker 1 stops answering (Down); worker 2 is removed by hand: both named.
    docker({ nodes: ["app-infra-dev|Ready", "app-infra-dev-worker-1|Down"] });
    const down = await box.run(1, extra());
    expect(texts(down.got)).toEqual([
      "[dev core] swarm: 1 of 3 nodes ready; app-infra-dev-worker-1 (down), app-infra-dev-worker-2 (left the swarm) — " +
        "`docker node ls` on the core node; the tasks of a node that is down move to the other nodes of its kind where " +
        "they fit. A worker node's server that was deleted or broken comes back with " +
        "`pulumi refresh -s dev && pulumi up -s dev`; one that is only powered off, from the Hetzner console",
    ]);
    expect((await box.run(2, extra())).stdout).toContain(" swarm=1/3 ");

    // Back: resolved.
    docker({ nodes });
    expect(texts((await box.run(3, extra())).got)).toEqual([
      "[dev core] resolved: swarm: 3 of 3 nodes ready (alert since 00:01 UTC)",
    ]);

    // Not a manager (or no dockerd): said at once.
    writeFileSync(
      join(fake, "nodes-fail"),
      "Error response from daemon: This node is not a swarm manager.\n",
    );
    const lost = await box.run(4, extra());
    rmSync(join(fake, "nodes-fail"));
    expect(texts(lost.got)[0]).toMatch(
      /^\[dev core\] swarm: cannot list its nodes \(Error response from daemon: This node is not a swarm manager\.\) — this node should be the swarm's manager: /,
    );
    expect(lost.stdout).toContain(" swarm=n/a ");
    docker({ nodes: nodes.slice(0, 2) });
    const status = await run("bash", [WATCHDOG, "--status"], box.env(5, extra()));
    expect(status.stdout).toContain("stack dev, stage 4, node core, ");
    expect(status.stdout).toMatch(
      /^swarm nodes +2 ready; left: app-infra-dev-worker-2 +3 +SHORT, FIRING since 00:04 UTC$/m,
    );
  });
});

// ------------------------------------------------------------------ containers (real Docker)

// Not skipped when dockerd is down: ensureDocker starts it (as root, as .ci/run runs), so a fresh
// CI machine runs this part too instead of silently skipping it.
describe("watchdog.sh with a real Docker engine", () => {
  beforeAll(ensureDocker, 90_000);

  const tag = `app-infra-wdtest-busybox:${process.pid}`;
  const names = {
    oom: `wdtest${process.pid}-worker-1`,
    crash: `wdtest${process.pid}-api`,
    clean: `wdtest${process.pid}-worker-2`,
    stopped: `wdtest${process.pid}-bot`,
  };

  afterAll(() => {
    for (const n of Object.values(names)) spawn("docker", ["rm", "-f", n], { stdio: "ignore" });
    spawn("bash", ["-c", `sleep 2; docker rmi -f ${tag}`], { stdio: "ignore" });
  });

  it("alerts on an OOM kill and a crash at once, not on a clean exit-0 restart (RQ --max-jobs) or a docker stop", async () => {
    ensurePackages({ busybox: "busybox-static" });
    const rootfs = join(tmp, "rootfs");
    mkdirSync(join(rootfs, "bin"), { recursive: true });
    copyFileSync(
      execFileSync("bash", ["-c", "command -v busybox"], { encoding: "utf8" }).trim(),
      join(rootfs, "bin/busybox"),
    );
    chmodSync(join(rootfs, "bin/busybox"), 0o755);
    execFileSync(
      "bash",
      [
        "-c",
        `ln -s busybox ${rootfs}/bin/sh && ln -s busybox ${rootfs}/bin/sleep && tar -C ${rootfs} -c . | docker import - ${tag}`,
      ],
      { stdio: "ignore" },
    );

    // worker-1 names its service explicitly; the others take the name minus a trailing -N.
    const box = new Box("docker", {
      CONTAINERS: `'${names.oom}=worker ${names.crash} ${names.clean} ${names.stopped}'`,
      REDIS_CLI: "",
    });
    const base = await box.run(0);
    expect(base.stdout).toContain(
      `containers=${Object.values(names)
        .map((n) => `${n}:missing/r?`)
        .join(",")} `,
    );
    const docker = (...a: string[]) => execFileSync("docker", a, { encoding: "utf8" }).trim();
    docker(
      "run",
      "-d",
      "--name",
      names.oom,
      "--memory",
      "16m",
      "--memory-swap",
      "16m",
      "--restart",
      "on-failure:2",
      tag,
      "sh",
      "-c",
      "a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done",
    );
    docker("run", "-d", "--name", names.crash, "--restart", "on-failure:1", tag, "sh", "-c", "exit 3");
    docker("run", "-d", "--name", names.clean, "--restart", "always", tag, "sh", "-c", "sleep 1; exit 0");
    // PID 1 ignores SIGTERM, so `docker stop` ends in a SIGKILL: exit code 137, as a slow app would.
    docker("run", "-d", "--name", names.stopped, "--restart", "unless-stopped", tag, "sleep", "1000");
    docker("stop", "-t", "1", names.stopped);
    const inspect = (n: string) => docker("inspect", "--format", "{{.State.Status}} {{.RestartCount}}", n);
    for (let i = 0; i < 150; i++) {
      if (
        inspect(names.oom) === "exited 2" &&
        inspect(names.crash) === "exited 1" &&
        Number(inspect(names.clean).split(" ")[1]) >= 1
      )
        break;
      await sleep(100);
    }
    expect(inspect(names.oom)).toBe("exited 2");
    const r = await box.run(1);
    expect(alertsIn(r.got).sort()).toEqual([
      `container_${names.crash}:firing`,
      `container_${names.oom}:firing`,
    ]);
    const tg = texts(r.got);
    expect(tg).toContain(
      `[dev] container ${names.oom} was OOM-killed (status exited) — raise services/worker/memoryMb (\`pulumi config set --path services.worker.memoryMb <MB> -s dev && pulumi up -s dev\`); if memory is short overall, ${MORE_RAM}`,
    );
    expect(tg).toContain(
      `[dev] container ${names.crash} crashed (exit code 3, status exited) — see \`docker logs --tail 100 ${names.crash}\``,
    );
    expect(r.stdout).toMatch(new RegExp(`${names.oom}:exited/r2/oom/crash\\d`));
    expect(r.stdout).toContain(`${names.stopped}:exited/r0 `); // stopped: no crash counted
    // Stopped after its last OOM kill: the alert holds (no repeat, no resolved); the clean one stays quiet.
    expect((await box.run(2)).got).toEqual([]);
    // Footprint with the docker CLI in the loop (inspect + events for 4 containers).
    const timed = await run("/usr/bin/time", ["-v", "bash", WATCHDOG], box.env(3));
    const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timed.stderr)?.[1]);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(timed.stderr)?.[1];
    console.log(
      `watchdog footprint (4 containers: docker inspect + docker events): peak RSS of the largest process ${rssKb} kB, wall ${wall}`,
    );
    expect(rssKb).toBeLessThan(64 * 1024);
  });
});

// ------------------------------------------------------------------ install-watchdog.sh

describe("install-watchdog.sh", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  // The shipped text (scripts/lib inlined), as components/host.ts sends it.
  const installText = readScript("install-watchdog.sh");
  const envText =
    "STACK='dev'\nSTAGE='1'\nFOR_MINUTES='5'\nTELEGRAM_CHAT_ID='4242'\nCONTAINERS='redis api bot worker-image-1=worker'\n";
  const secretsText = `TELEGRAM_BOT_TOKEN=${TOKEN}\nWEBHOOK_URL=https://hooks.example/${HOOK_SECRET}\n`;
  /** The payload lines components/host.ts appends after the script. */
  const payloadLines = (env = envText) =>
    `WATCHDOG_SCRIPT_B64=${b64(readScript("watchdog.sh"))}\nWATCHDOG_ENV_B64=${b64(env)}\nWATCHDOG_SECRETS_B64=${b64(secretsText)}\n`;
  /** stdin for `bash -s -- INTERVAL_S HASH`, exactly as components/host.ts builds it: script, then payload. */
  const stdin = (env = envText) => installText + payloadLines(env);
  const dest = join(tmp, "destdir");
  const systemctlLog = join(tmp, "systemctl.log");
  const systemctl = join(tmp, "systemctl-shim");
  const install = async (
    input: string,
    args: string[] = ["60", "0123abcd"],
    extra: NodeJS.ProcessEnv = {},
  ) => {
    writeFileSync(systemctlLog, "");
    const r = await run(
      "bash",
      ["-s", "--", ...args],
      { PATH: process.env.PATH, DESTDIR: dest, SYSTEMCTL: systemctl, ...extra },
      input,
    );
    return { ...r, systemctl: readFileSync(systemctlLog, "utf8").trim().split("\n").filter(Boolean) };
  };
  const files = {
    "/usr/local/sbin/app-infra-watchdog": 0o755,
    "/usr/local/sbin/app-infra-status": 0o755,
    "/etc/app-infra/watchdog.env": 0o600,
    "/etc/app-infra/watchdog.secrets": 0o600,
    "/etc/systemd/system/app-infra-watchdog.service": 0o644,
    "/etc/systemd/system/app-infra-watchdog.timer": 0o644,
  };
  const fingerprint = () =>
    Object.keys(files).map((f) => {
      const s = statSync(join(dest, f));
      return `${f} ${s.ino} ${s.mtimeMs} ${s.mode & 0o777}`;
    });

  beforeAll(() => writeFileSync(systemctl, `#!/bin/sh\necho "$*" >>'${systemctlLog}'\n`, { mode: 0o755 }));

  it("installs the script, env, secrets and units with their modes from script+payload on stdin, then changes nothing on a 2nd run", async () => {
    const first = await install(stdin());
    expect(first.code, first.stderr).toBe(0);
    for (const [f, mode] of Object.entries(files)) expect(statSync(join(dest, f)).mode & 0o777, f).toBe(mode);
    expect(readFileSync(join(dest, "usr/local/sbin/app-infra-watchdog"), "utf8")).toBe(
      readScript("watchdog.sh"),
    );
    expect(readFileSync(join(dest, "etc/app-infra/watchdog.env"), "utf8")).toBe(envText);
    expect(readFileSync(join(dest, "etc/app-infra/watchdog.secrets"), "utf8")).toBe(secretsText);
    expect(readFileSync(join(dest, "usr/local/sbin/app-infra-status"), "utf8")).toContain(
      '\nexec /usr/local/sbin/app-infra-watchdog --status "$@"\n',
    );
    const service = readFileSync(join(dest, "etc/systemd/system/app-infra-watchdog.service"), "utf8");
    for (const line of [
      "Type=oneshot",
      "ExecStart=/usr/local/sbin/app-infra-watchdog",
      "Nice=10",
      "MemoryMax=64M",
      "IOSchedulingClass=best-effort",
      "StateDirectory=app-infra-watchdog",
      "TimeoutStartSec=50s",
    ])
      expect(service).toContain(`\n${line}\n`);
    const timer = readFileSync(join(dest, "etc/systemd/system/app-infra-watchdog.timer"), "utf8");
    for (const line of [
      "OnActiveSec=60s",
      "OnBootSec=60s",
      "OnUnitActiveSec=60s",
      "AccuracySec=1s",
      "WantedBy=timers.target",
    ])
      expect(timer).toContain(`\n${line}\n`);
    expect(first.systemctl).toEqual([
      "daemon-reload",
      "enable --now app-infra-watchdog.timer",
      "restart app-infra-watchdog.timer",
    ]);
    expect(first.stdout).toContain(
      "app-infra-watchdog install: 6 file(s) changed, systemd reloaded, timer restarted (every 60 s)\n",
    );

    const before = fingerprint();
    const second = await install(stdin());
    expect(second.code).toBe(0);
    expect(second.stdout).toBe("app-infra-watchdog install: unchanged (timer enabled, every 60 s)\n");
    expect(second.systemctl).toEqual(["enable --now app-infra-watchdog.timer"]);
    expect(fingerprint()).toEqual(before);
  });

  it("reads the payload from a seekable stdin too, and from assignments placed before the script", async () => {
    const file = join(tmp, "install-stdin");
    writeFileSync(file, stdin());
    const fromFile = execFileSync("bash", ["-c", `bash -s -- 60 < '${file}'`], {
      env: { PATH: process.env.PATH, DESTDIR: dest, SYSTEMCTL: ":" },
      encoding: "utf8",
    });
    expect(fromFile).toBe("app-infra-watchdog install: unchanged (timer enabled, every 60 s)\n");
    const prelude = payloadLines().replace(/=(.*)\n/g, "='$1'\n");
    expect((await install(prelude + installText, [])).stdout).toBe(
      "app-infra-watchdog install: unchanged (timer enabled, every 60 s)\n",
    );
  });

  it("rewrites only what changed: the env file without touching systemd, the timer with a reload", async () => {
    const env = await install(stdin(`${envText}QUEUE_LENGTH='150'\n`));
    expect(env.stdout).toBe(
      "app-infra-watchdog install: wrote /etc/app-infra/watchdog.env\napp-infra-watchdog install: 1 file(s) changed, timer enabled (every 60 s)\n",
    );
    expect(env.systemctl).toEqual(["enable --now app-infra-watchdog.timer"]);
    chmodSync(join(dest, "etc/app-infra/watchdog.secrets"), 0o644);
    const timer = await install(stdin(`${envText}QUEUE_LENGTH='150'\n`), ["120"]);
    expect(timer.stdout).toContain(
      "app-infra-watchdog install: fixed mode 0600 of /etc/app-infra/watchdog.secrets\n",
    );
    expect(timer.stdout).toContain("wrote /etc/systemd/system/app-infra-watchdog.timer\n");
    expect(timer.stdout).toContain("wrote /etc/systemd/system/app-infra-watchdog.service\n"); // TimeoutStartSec follows the interval
    expect(timer.systemctl).toEqual([
      "daemon-reload",
      "enable --now app-infra-watchdog.timer",
      "restart app-infra-watchdog.timer",
    ]);
    expect(statSync(join(dest, "etc/app-infra/watchdog.secrets")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dest, "etc/systemd/system/app-infra-watchdog.timer"), "utf8")).toContain(
      "\nOnUnitActiveSec=120s\n",
    );
  });

  it("passes systemd-analyze verify", async () => {
    // Missing tool = failure, not a silent pass (install-docker.test.ts does the same).
    if (!have("systemd-analyze")) throw new Error("systemd-analyze not found: apt-get install -y systemd");
    // Point ExecStart at the installed copy so verify can check that it is executable.
    const units = join(tmp, "units");
    mkdirSync(units, { recursive: true });
    const svc = readFileSync(join(dest, "etc/systemd/system/app-infra-watchdog.service"), "utf8");
    writeFileSync(
      join(units, "app-infra-watchdog.service"),
      svc.replace("ExecStart=/usr", `ExecStart=${dest}/usr`),
    );
    copyFileSync(
      join(dest, "etc/systemd/system/app-infra-watchdog.timer"),
      join(units, "app-infra-watchdog.timer"),
    );
    const r = await run(
      "systemd-analyze",
      ["verify", join(units, "app-infra-watchdog.service"), join(units, "app-infra-watchdog.timer")],
      process.env,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("refuses a broken payload, naming every problem", async () => {
    const r = await install(`${installText}WATCHDOG_SCRIPT_B64=%%%\nTELEGRAM_BOT_TOKEN=${TOKEN}\n`, ["5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        "app-infra-watchdog install: payload: lines should be one of WATCHDOG_SCRIPT_B64=, WATCHDOG_ENV_B64=, WATCHDOG_SECRETS_B64= (got TELEGRAM_BOT_TOKEN)",
        "app-infra-watchdog install: INTERVAL_S: should be a whole number of seconds between 10 and 3600 (got 5)",
        "app-infra-watchdog install: WATCHDOG_ENV_B64: should be given, empty for an empty thresholds file (missing)",
        "app-infra-watchdog install: WATCHDOG_SECRETS_B64: should be given, empty for no secrets (missing)",
        "",
      ].join("\n"),
    );
    expect(r.systemctl).toEqual([]);
    const bad = await install(
      `${installText}WATCHDOG_SCRIPT_B64=%%%\nWATCHDOG_ENV_B64=\nWATCHDOG_SECRETS_B64=\n`,
    );
    expect(bad.stderr).toBe(
      "app-infra-watchdog install: WATCHDOG_SCRIPT_B64: should be base64 (decoding failed)\n",
    );
    const notBash = await install(
      `${installText}WATCHDOG_SCRIPT_B64=${b64("#!/bin/bash\nif then\n")}\nWATCHDOG_ENV_B64=\nWATCHDOG_SECRETS_B64=\n`,
    );
    expect(notBash.stderr).toBe(
      "app-infra-watchdog install: WATCHDOG_SCRIPT_B64: should decode to a bash script (scripts/watchdog.sh); it does not parse\n",
    );
  });
});

// ------------------------------------------------------------------ disk, backups, heartbeat (issue 15)

describe("watchdog.sh: disk, backups and the heartbeat", () => {
  const H = 3600;

  it("fires the disk alert naming the path over DISK_PERCENT, after FOR_MINUTES, and resolves it", async () => {
    const box = new Box("disk", { FOR_MINUTES: 2, DISK_PERCENT: 85 });
    const docker = join(box.dir, "proc");
    writeFileSync(join(box.dir, "df"), `${docker} 91\n`);
    expect((await box.run(0)).got).toEqual([]);
    expect((await box.run(1)).got).toEqual([]);
    const fired = await box.run(2);
    expect(alertsIn(fired.got)).toEqual(["disk:firing"]);
    expect(texts(fired.got)[0]).toMatch(
      new RegExp(`^\\[dev\\] disk ${docker} 91% > 85% for 2 min — free space: `),
    );
    expect(fired.stdout).toContain(" disk=91% ");
    writeFileSync(join(box.dir, "df"), `${docker} 60\n`);
    const resolved = await box.run(3);
    expect(alertsIn(resolved.got)).toEqual(["disk:resolved"]);
    expect(texts(resolved.got)[0]).toBe(
      `[dev] resolved: disk ${box.dir} 40%, ${docker} 60% <= 85% (alert since 00:00 UTC)`,
    );
  });

  it("sends no backup alert while backups are off (BACKUP_MAX_AGE_H=0), whatever the state files say", async () => {
    const box = new Box("backup-off", {
      BACKUP_MAX_AGE_H: 0,
      BACKUP_STATE_DIR: join(tmp, "backup-off-state"),
    });
    mkdirSync(join(tmp, "backup-off-state"), { recursive: true });
    writeFileSync(join(tmp, "backup-off-state/backup-last-run"), `${BASE_EPOCH} failed restic exited 1\n`);
    const r = await box.run(0);
    expect(r.got).toEqual([]);
    expect(r.stdout).toContain(" backup=off ");
  });

  it("fires backup-age when the last success is older than BACKUP_MAX_AGE_H, and when none came since backups were set up", async () => {
    const stateDir = join(tmp, "backup-age-state");
    mkdirSync(stateDir, { recursive: true });
    const box = new Box("backup-age", { BACKUP_MAX_AGE_H: 26, BACKUP_STATE_DIR: stateDir });
    writeFileSync(join(stateDir, "backup-last-ok"), `${BASE_EPOCH - 27 * H}\n`);
    const old = await box.run(0);
    expect(alertsIn(old.got)).toEqual(["backup-age:firing"]);
    expect(texts(old.got)[0]).toMatch(
      /^\[dev\] last successful backup 27 h ago > 26 h — see `journalctl -u app-infra-backup.service`/,
    );
    writeFileSync(join(stateDir, "backup-last-ok"), `${BASE_EPOCH + 60}\n`);
    writeFileSync(join(stateDir, "backup-last-run"), `${BASE_EPOCH + 60} ok\n`);
    const fresh = await box.run(2);
    expect(alertsIn(fresh.got)).toEqual(["backup-age:resolved"]);
    expect(fresh.stdout).toContain(" backup=0h/ok ");

    // A new box whose backup never succeeded: the clock starts at the first run that expects one.
    const none = join(tmp, "backup-none-state");
    mkdirSync(none, { recursive: true });
    const box2 = new Box("backup-none", { BACKUP_MAX_AGE_H: 26, BACKUP_STATE_DIR: none });
    expect((await box2.run(0)).got).toEqual([]);
    expect((await box2.run(26 * 60)).got).toEqual([]);
    const silent = await box2.run(26 * 60 + 1);
    expect(alertsIn(silent.got)).toEqual(["backup-age:firing"]);
    expect(texts(silent.got)[0]).toMatch(
      /^\[dev\] no successful backup in the 26 h since backups were set up \(> 26 h\)/,
    );
    expect(silent.stdout).toContain(" backup=none ");
  });

  it("fires backup-failed with the run's reason at once, and resolves on the next good run", async () => {
    const stateDir = join(tmp, "backup-failed-state");
    mkdirSync(stateDir, { recursive: true });
    const box = new Box("backup-failed", { BACKUP_MAX_AGE_H: 26, BACKUP_STATE_DIR: stateDir });
    writeFileSync(join(stateDir, "backup-last-ok"), `${BASE_EPOCH - 2 * H}\n`);
    writeFileSync(join(stateDir, "backup-last-run"), `${BASE_EPOCH - 60} failed restic backup exited 1\n`);
    const failed = await box.run(0);
    expect(alertsIn(failed.got)).toEqual(["backup-failed:firing"]);
    expect(texts(failed.got)[0]).toMatch(
      /^\[dev\] backup run at 2025-11-24 23:59 UTC failed: restic backup exited 1 — see `journalctl/,
    );
    expect(failed.stdout).toContain(" backup=2h/failed ");
    const webhook = failed.got.find((d) => d.channel === "webhook")!;
    expect(webhook.body).toMatchObject({ alert: "backup-failed", state: "firing", value: "failed" });
    writeFileSync(join(stateDir, "backup-last-run"), `${BASE_EPOCH + 120} ok\n`);
    writeFileSync(join(stateDir, "backup-last-ok"), `${BASE_EPOCH + 120}\n`);
    const ok = await box.run(3);
    expect(alertsIn(ok.got)).toEqual(["backup-failed:resolved"]);
    expect(texts(ok.got)[0]).toBe(
      "[dev] resolved: backup run at 2025-11-25 00:02 UTC succeeded (alert since 00:00 UTC)",
    );
  });

  it("pings the heartbeat after a good run and <url>/fail after a failed one, the URL never in curl's argv", async () => {
    const box = new Box("heartbeat");
    const url = `${receiver.base}/ping/${HEARTBEAT_SECRET}`;
    writeFileSync(box.secretsFile, `TELEGRAM_BOT_TOKEN=${TOKEN}\nHEARTBEAT_URL=${url}\n`, { mode: 0o600 });
    const argvBefore = readFileSync(curlArgvLog, "utf8").length;

    const good = await box.run(0);
    expect(good.got).toEqual([{ channel: "heartbeat", path: `/ping/${HEARTBEAT_SECRET}`, body: {} }]);
    expect(good.stderr).toBe("");

    // An alert firing is not a watchdog failure: the ping is still the good one.
    box.set({ FOR_MINUTES: 0 });
    box.meminfo("high");
    const alerting = await box.run(1);
    expect(alerting.got.filter((d) => d.channel === "heartbeat").map((d) => d.path)).toEqual([
      `/ping/${HEARTBEAT_SECRET}`,
    ]);

    // The watchdog itself failing (its state directory cannot be made): /fail, and the exit code stays.
    const failed = await run("bash", [WATCHDOG], box.env(2, { STATE_DIR: join(box.envFile, "state") }));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("cannot create the state directory");
    expect(receiver.take()).toEqual([
      { channel: "heartbeat", path: `/ping/${HEARTBEAT_SECRET}/fail`, body: {} },
    ]);

    // A heartbeat receiver that is down is a warning, never a failed run, and never shows the URL.
    writeFileSync(box.secretsFile, `HEARTBEAT_URL=${deadBase}/ping/${HEARTBEAT_SECRET}\n`, { mode: 0o600 });
    const down = await box.run(3);
    expect(down.stderr).toMatch(/^app-infra-watchdog: heartbeat: curl exit 7\n$/);

    const argv = readFileSync(curlArgvLog, "utf8").slice(argvBefore);
    expect(argv.split("\n").filter((l) => l.includes("--config")).length).toBeGreaterThanOrEqual(4);
    expect(argv).not.toContain(HEARTBEAT_SECRET);
    for (const out of allOutput) expect(out).not.toContain(HEARTBEAT_SECRET);
  });
});

// ------------------------------------------------------------------ secrets, across everything above

describe("secrets", () => {
  it("never appear in a curl argv, a log line or a state file; Telegram did get the token", () => {
    const argv = readFileSync(curlArgvLog, "utf8");
    expect(argv.split("\n").filter((l) => l.includes("--config")).length).toBeGreaterThan(10);
    expect(argv).not.toContain(TOKEN);
    expect(argv).not.toContain(HOOK_SECRET);
    for (const out of allOutput) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(HOOK_SECRET);
    }
    const stateFiles = readdirSync(tmp, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.includes("/state/"),
    );
    expect(stateFiles.length).toBeGreaterThan(10);
    for (const f of stateFiles) {
      const p = join(tmp, f);
      if (!existsSync(p) || statSync(p).isDirectory()) continue;
      const text = readFileSync(p, "utf8");
      expect(text, f).not.toContain(TOKEN);
      expect(text, f).not.toContain(HOOK_SECRET);
    }
  });
});
