// The watchdog's thresholds file (/etc/app-infra/watchdog.env): the sizing note's alert levels from
// stack config, and what to watch on this box. Pure and secret-free; secrets go in a separate file.
import { KEY_BY_PATH, SERVICE_NAMES } from "../config/keys";
import type { StackConfig } from "../config/types";
import { BACKUP_STATE_DIR } from "./backup";
import { ROLE_LABEL, STACK_LABEL } from "./names";
import type { Plan } from "./plan";
import { HTTP_PORT, type EdgePlan } from "./proxy";
import type { ServicePlan } from "./services";

/**
 * Stage 4: the node this watchdog runs on. Each node runs its own (issue 16): the core node watches
 * Redis, the API and its own Swarm tasks, and the swarm's nodes; a worker node its workers' tasks.
 */
export interface WatchdogNode {
  /** `core` or `worker-<n>`, named in every alert. */
  name: string;
  role: "core" | "worker";
  /** `name=service:count` of each Swarm service with tasks on this node (src/plan/swarm-services.ts). */
  tasks: string;
  /** On the core node (the manager): the swarm's nodes, itself included; 0 on a worker node. */
  swarmNodes: number;
  /** Stage 4's worker-node count: what the core node's queue alert's advice raises. */
  workerNodes: number;
}

export type WatchdogInput = Pick<Plan, "stage" | "workers" | "services" | "scaleUp" | "edge"> & {
  node?: WatchdogNode;
};

/** A config key's path, checked against the key table so that a rename fails here, not on a box. */
function keyPath(path: string): string {
  if (!KEY_BY_PATH.has(path)) throw new Error(`internal: ${path} should be a config key`);
  return path;
}

/**
 * The stack config keys the script's advice names, as `<service>` templates: the script builds its
 * `pulumi config set` commands from these (generated into its settings block), not from its own
 * spelling of the keys.
 */
export const WATCHDOG_ADVICE_KEYS = {
  KEY_MEMORY_MB: (() => {
    const template = "services/<service>/memoryMb";
    for (const s of SERVICE_NAMES) keyPath(template.replace("<service>", s));
    return template;
  })(),
} as const;

/**
 * The Docker labels the script selects a start-first service's containers by (`@<role>` in
 * CONTAINERS): the ones src/plan/app.ts puts on every container, generated into its block.
 */
export const WATCHDOG_LABELS = { STACK_LABEL, ROLE_LABEL } as const;

/**
 * The health check goes through the edge proxy, as users' requests do: the API publishes no host
 * port (issue 14). Without a domain kamal-proxy routes any host name, so loopback port 80 reaches
 * it. With one it routes only that name, so the URL carries it and curl is pointed at loopback
 * (API_CONNECT_TO, `curl --connect-to`): the box's own resolver may not map its public name to
 * itself, and HTTPS then sends the name as SNI and checks the certificate users get.
 */
export function watchdogApiUrl(
  edge: Pick<EdgePlan, "host" | "tls">,
  healthPath: string,
): { url: string; connectTo: string } {
  if (edge.host === undefined) return { url: `http://127.0.0.1:${HTTP_PORT}${healthPath}`, connectTo: "" };
  return { url: `${edge.tls ? "https" : "http"}://${edge.host}${healthPath}`, connectTo: "127.0.0.1" };
}

/**
 * A service's CONTAINERS entry: `name=service` for a container with a fixed name; `@role=service`
 * for a start-first one (the API), whose name changes with every release (api-<12 hex>,
 * src/plan/release.ts) and of which two run during a switch: the script finds them by label at
 * each run. The `=service` part names the memory key its advice raises.
 */
export function containersEntry(s: Pick<ServicePlan, "name" | "role" | "replace">): string {
  return s.replace === "start-first" ? `@${s.role}=${s.role}` : `${s.name}=${s.role}`;
}

/**
 * The advice when the file has no plan-made advice (a hand-written file, or one from an older
 * program): which key to raise, with no size or price the script could only guess.
 */
const fallbackScaleUp = (path: string, what: string) =>
  `raise ${keyPath(path)} for more ${what} (npm run plan shows the next size up and its price)`;

/** The name Redis is reached by, which is also its Swarm service's name on stage 4. */
function redisAlias(plan: WatchdogInput): string {
  const redis = plan.services.find((s) => s.role === "redis");
  if (!redis) throw new Error("internal: the core node's watchdog needs the Redis service");
  return redis.alias;
}

/** A worker node's advice names the worker nodes' size, not the core server's. */
const workerNode = (plan: WatchdogInput) => plan.node?.role === "worker";
/** Stage 4 only (undefined leaves the key out on stages 1-3). */
const onNode = <T>(plan: WatchdogInput, f: (n: WatchdogNode) => T): T | undefined =>
  plan.node ? f(plan.node) : undefined;

export interface WatchdogSetting {
  /** The key in watchdog.env (and the shell variable in scripts/watchdog.sh). */
  key: string;
  /**
   * The value the program writes; undefined for a key only set by hand or by tests. A function
   * that returns undefined leaves the key out (stage 4's keys on stages 1-3, whose file stays
   * exactly as it was).
   */
  value?: (cfg: StackConfig, plan: WatchdogInput) => string | number | undefined;
  /**
   * What scripts/watchdog.sh assumes when the file does not set the key. The program writes every
   * key that has a value, so on a deployed box these apply only to the script-only keys.
   */
  default: string | number;
  /** The script refuses anything but a whole number. */
  int: boolean;
}

/** A watchdog threshold that comes from a stack config key: its default is that key's. */
function fromKey(key: string, path: string, pick: (cfg: StackConfig) => string | number): WatchdogSetting {
  const spec = KEY_BY_PATH.get(path);
  if (!spec || (typeof spec.default !== "number" && typeof spec.default !== "string"))
    throw new Error(`internal: ${path} should be a config key with a literal default`);
  return { key, value: pick, default: spec.default, int: spec.kind.type === "int" };
}

/** The paths whose disk usage the watchdog checks: the root and Docker's default data root. */
export const DISK_PATHS = "/ /var/lib/docker";

/**
 * Every key of the thresholds file, in the order the program writes them. scripts/watchdog.sh's
 * settings block (DEFAULTS, INT_KEYS, SECRET_KEYS) is generated from this table by
 * watchdogScriptSettings(), and test/plan/watchdog.test.ts fails when the two differ.
 */
export const WATCHDOG_SETTINGS: readonly WatchdogSetting[] = [
  { key: "STACK", value: (cfg) => cfg.stack, default: "", int: false },
  { key: "STAGE", value: (_, plan) => plan.stage, default: "", int: true },
  fromKey("MEMORY_PERCENT", "alerts/memoryPercent", (cfg) => cfg.alerts.memoryPercent),
  fromKey("SWAP_PERCENT", "alerts/swapPercent", (cfg) => cfg.alerts.swapPercent),
  fromKey("CPU_PERCENT", "alerts/cpuPercent", (cfg) => cfg.alerts.cpuPercent),
  fromKey("QUEUE_LENGTH", "alerts/queueLength", (cfg) => cfg.alerts.queueLength),
  fromKey("API_LATENCY_MS", "alerts/apiLatencyMs", (cfg) => cfg.alerts.apiLatencyMs),
  fromKey("REDIS_MEMORY_PERCENT", "alerts/redisMemoryPercent", (cfg) => cfg.alerts.redisMemoryPercent),
  fromKey("FOR_MINUTES", "alerts/forMinutes", (cfg) => cfg.alerts.forMinutes),
  fromKey("REPEAT_MINUTES", "alerts/repeatMinutes", (cfg) => cfg.alerts.repeatMinutes),
  fromKey("QUEUE_NAME", "services/worker/queue", (cfg) => cfg.services.worker.queue),
  // Through the edge proxy, as users get it (watchdogApiUrl); API_CONNECT_TO is further down.
  {
    key: "API_HEALTH_URL",
    value: (cfg, plan) =>
      workerNode(plan) ? "" : watchdogApiUrl(plan.edge, cfg.services.api.healthPath).url,
    default: "",
    int: false,
  },
  // On stage 4's core node the queue alert's advice adds a worker node (WORKERS_KEY); a worker node
  // reads no queue, and its file stays the same whatever workerNodes is.
  {
    key: "WORKERS",
    value: (_, plan) => (plan.node?.role === "core" ? plan.node.workerNodes : plan.workers),
    default: "",
    int: true,
  },
  fromKey("INTERVAL_S", "alerts/intervalS", (cfg) => cfg.alerts.intervalS),
  // `name=service` so an OOM alert names the config key to raise (services/worker/memoryMb);
  // `@role=service` for the API, whose container name changes with each release (containersEntry).
  // Stage 4's containers are Swarm tasks, watched through TASKS instead.
  {
    key: "CONTAINERS",
    value: (_, plan) => (plan.node ? "" : plan.services.map(containersEntry).join(" ")),
    default: "",
    int: false,
  },
  // Disk: `/` and Docker's data root (images, container logs, the redis-data volume), each read
  // with `df -P` where it exists; one "disk" alert names the paths over the threshold.
  fromKey("DISK_PERCENT", "alerts/diskPercent", (cfg) => cfg.alerts.diskPercent),
  { key: "DISK_PATHS", value: () => DISK_PATHS, default: DISK_PATHS, int: false },
  // Backups (src/plan/backup.ts): 0 = off, no backup alerts. backup-redis.sh writes its outcome
  // to BACKUP_STATE_DIR (backup-last-ok, backup-last-run).
  {
    key: "BACKUP_MAX_AGE_H",
    value: (cfg, plan) => (cfg.backup.enabled && !workerNode(plan) ? cfg.backup.maxAgeHours : 0),
    default: 0,
    int: true,
  },
  { key: "BACKUP_STATE_DIR", value: () => BACKUP_STATE_DIR, default: BACKUP_STATE_DIR, int: false },
  // Where curl connects for API_HEALTH_URL's host: loopback when the URL names the domain, empty
  // when it is loopback already (watchdogApiUrl).
  {
    key: "API_CONNECT_TO",
    value: (cfg, plan) =>
      workerNode(plan) ? "" : watchdogApiUrl(plan.edge, cfg.services.api.healthPath).connectTo,
    default: "",
    int: false,
  },
  // The "cert" alert: an https API_HEALTH_URL whose certificate has fewer days left than this.
  fromKey("CERT_MIN_DAYS", "alerts/certMinDays", (cfg) => cfg.alerts.certMinDays),
  { key: "TELEGRAM_CHAT_ID", value: (cfg) => cfg.alerts.telegramChatId ?? "", default: "", int: false },
  // The setting that gets a bigger box on the deploy's catalog, with its type and price
  // (src/plan/advice.ts scaleUpAdvice): memory and swap alerts, and CPU alerts.
  {
    key: "SCALE_UP_MEMORY",
    value: (_, plan) =>
      workerNode(plan)
        ? fallbackScaleUp("workerNode/memoryGb", "RAM")
        : (plan.scaleUp?.memory ?? fallbackScaleUp("server/memoryGb", "RAM")),
    default: fallbackScaleUp("server/memoryGb", "RAM"),
    int: false,
  },
  {
    key: "SCALE_UP_CPU",
    value: (_, plan) =>
      workerNode(plan)
        ? fallbackScaleUp("workerNode/cores", "vCPUs")
        : (plan.scaleUp?.cpu ?? fallbackScaleUp("server/cores", "vCPUs")),
    default: fallbackScaleUp("server/cores", "vCPUs"),
    int: false,
  },
  // Set by hand or by tests only: the Bot API's address. How to reach redis-cli: the Redis container
  // is named `redis` (src/plan/services.ts); on stage 4 it is the task of the Swarm service `redis`
  // (`@redis`, found at each run) on the core node, and a worker node has none.
  { key: "TELEGRAM_API_BASE", default: "https://api.telegram.org", int: false },
  {
    key: "REDIS_CLI",
    value: (_, plan) =>
      onNode(plan, (n) => (n.role === "core" ? `docker exec -i @${redisAlias(plan)} redis-cli` : "")),
    default: "docker exec -i redis redis-cli",
    int: false,
  },
  // Stage 4 (written only there): the node, its Swarm tasks, the swarm's nodes (the core node
  // only), and the key the queue alert's advice raises.
  { key: "NODE_NAME", value: (_, plan) => onNode(plan, (n) => n.name), default: "", int: false },
  { key: "TASKS", value: (_, plan) => onNode(plan, (n) => n.tasks), default: "", int: false },
  {
    key: "SWARM_NODES",
    value: (_, plan) => onNode(plan, (n) => n.swarmNodes),
    default: 0,
    int: true,
  },
  {
    key: "WORKERS_KEY",
    value: (_, plan) => onNode(plan, () => keyPath("workerNodes")),
    default: keyPath("workers"),
    int: false,
  },
];

/** The keys of the secrets file (watchdogSecretsFile); the script accepts only these there. */
export const WATCHDOG_SECRET_KEYS = ["TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "HEARTBEAT_URL"] as const;

/**
 * The thresholds file. scripts/watchdog.sh reads each line as KEY=VALUE and strips one pair of outer
 * quotes, nothing else (no escapes, never sourced), so a value is safe unless it holds a line break;
 * the single quotes keep the file readable for a person who sources it anyway, so none may hold a `'`.
 */
export function watchdogEnv(cfg: StackConfig, plan: WatchdogInput): string {
  const lines = WATCHDOG_SETTINGS.flatMap((s) => {
    const v = s.value?.(cfg, plan);
    if (v === undefined) return [];
    const value = String(v);
    if (/['\r\n]/.test(value))
      throw new Error(`internal: watchdog ${s.key} cannot hold a quote or line break`);
    return [`${s.key}='${value}'`];
  });
  return lines.join("\n") + "\n";
}

export const SCRIPT_SETTINGS_BEGIN =
  "# BEGIN settings generated from src/plan/watchdog.ts (WATCHDOG_SETTINGS)";
export const SCRIPT_SETTINGS_END = "# END settings generated from src/plan/watchdog.ts";

/** scripts/watchdog.sh's settings block, markers included: defaults, whole-number keys, secret keys. */
export function watchdogScriptSettings(): string {
  const quoted = (v: string | number) => {
    const text = String(v);
    if (/["$`\\]/.test(text)) throw new Error(`internal: watchdog default ${text} needs escaping`);
    return `"${text}"`;
  };
  const pairs = WATCHDOG_SETTINGS.map((s) => `[${s.key}]=${quoted(s.default)}`);
  const lines: string[] = [];
  for (const p of pairs) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + p.length <= 100) lines[lines.length - 1] = `${last} ${p}`;
    else lines.push(`  ${p}`);
  }
  const ints = WATCHDOG_SETTINGS.filter((s) => s.int).map((s) => s.key);
  return [
    SCRIPT_SETTINGS_BEGIN,
    "declare -A DEFAULTS=(",
    ...lines,
    ")",
    `readonly INT_KEYS=" ${ints.join(" ")} "`,
    `readonly SECRET_KEYS=" ${WATCHDOG_SECRET_KEYS.join(" ")} "`,
    ...[WATCHDOG_ADVICE_KEYS, WATCHDOG_LABELS].map(
      (table) =>
        `readonly ${Object.entries(table)
          .map(([k, v]) => `${k}=${quoted(v)}`)
          .join(" ")}`,
    ),
    SCRIPT_SETTINGS_END,
  ].join("\n");
}

/**
 * The installer's stdin payload, appended after install-watchdog.sh: bash reads the script up to
 * its last line, then the installer reads these lines itself, so no value is in any command line.
 */
export function watchdogPayload(watchdogScript: string, envFile: string, secretsFile: string): string {
  const b64 = (t: string) => Buffer.from(t, "utf8").toString("base64");
  return (
    [
      `WATCHDOG_SCRIPT_B64=${b64(watchdogScript)}`,
      `WATCHDOG_ENV_B64=${b64(envFile)}`,
      `WATCHDOG_SECRETS_B64=${b64(secretsFile)}`,
    ].join("\n") + "\n"
  );
}

/** The secrets file: only what is set; values are single-line secrets. */
export function watchdogSecretsFile(
  botToken: string | undefined,
  webhookUrl: string | undefined,
  heartbeatUrl?: string,
): string {
  const lines: string[] = [];
  if (botToken) lines.push(`TELEGRAM_BOT_TOKEN=${botToken}`);
  if (webhookUrl) lines.push(`WEBHOOK_URL=${webhookUrl}`);
  if (heartbeatUrl) lines.push(`HEARTBEAT_URL=${heartbeatUrl}`);
  return lines.length ? lines.join("\n") + "\n" : "";
}
