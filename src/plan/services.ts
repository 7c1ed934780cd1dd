// The containers from the sizing note, with its limits and reservations, and its defects fixed:
// Redis maxmemory below the container limit, noeviction, workers reach Redis by service name, a
// restart policy that brings a worker back after `--max-jobs`, and an explicit swap choice per service.
import type { ServiceName } from "../config/keys";
import { PROJECT } from "../config/parse";
import type { StackConfig } from "../config/types";
import { HTTPS_PORT, HTTP_PORT, PROXY_STATE_PATH, PROXY_STATE_VOLUME } from "./proxy";
import { SERVICE_DEFAULT_LIMITS } from "./service-defaults";

/** A container's service: one of the config's SERVICE_NAMES (src/config/keys.ts). */
export type Role = ServiceName;

export interface HealthcheckPlan {
  test: string[];
  intervalS: number;
  timeoutS: number;
  retries: number;
  startPeriodS: number;
}

export interface ServicePlan {
  /** Container name and logical resource name: stable, never contains a stage or a size. */
  name: string;
  role: Role;
  image: string;
  /** undefined = the image's default command. */
  command: string[] | undefined;
  memoryMb: number;
  memoryReservationMb: number;
  /** Swap on top of memoryMb this container may use. */
  swapMb: number;
  /** docker --memory-swap: RAM + swap. Equal to memoryMb when swapMb is 0 (no swap). */
  memorySwapMb: number;
  restart: "unless-stopped" | "always" | "no";
  /** Network alias other containers use to reach this one. */
  alias: string;
  env: Record<string, string>;
  /** Names of environment variables whose values are Pulumi secrets (set by the components). */
  secretEnv: ("BOT_TOKEN" | "FAL_KEY" | "EXTRA_ENV")[];
  ports: { internal: number; external: number }[];
  volumes: { volume: string; containerPath: string }[];
  healthcheck?: HealthcheckPlan;
  /** Two copies must never run at once (Telegram answers 409 to a second long-poller). */
  singleton: boolean;
  /**
   * How a new version replaces the running one, in Swarm's words (`update_config.order`):
   * `start-first` starts the new container beside the old one and deletes the old one only after
   * the edge proxy switched to the new one (the API, issue 14); `stop-first` deletes the old one
   * first, for a singleton (the bot), a fixed host port (the proxy) or a volume's single writer
   * (Redis). Workers are stop-first until issue 14's graceful one-at-a-time replacement.
   */
  replace: "start-first" | "stop-first";
  /** Seconds between SIGTERM and SIGKILL. */
  stopTimeoutS: number;
}

/** The app's private Docker network: the project's name. */
export const NETWORK_NAME = PROJECT;
export const REDIS_VOLUME = "redis-data";
export const REDIS_PORT = 6379;

export const redisUrl = () => `redis://redis:${REDIS_PORT}/0`;

/**
 * Redis maxmemory: half the container limit. A background AOF rewrite (or RDB save) forks, and
 * copy-on-write can double Redis' footprint under writes, so maxmemory must leave that headroom
 * (https://redis.io/docs/latest/operate/oss_and_stack/management/admin/ and the sizing note's defect 1).
 */
export function defaultMaxmemoryMb(limitMb: number): number {
  return Math.floor(limitMb / 2);
}

/**
 * A service's limits: its keys where set, else the note's defaults. `hostSwap` is whether the box
 * has swap for a container to use: false on a Hetzner box with swapGb 0; true for the local target,
 * whose host swap the plan does not manage (it keeps Docker's per-container setting as before).
 */
function resolved(cfg: StackConfig, role: Role, hostSwap: boolean) {
  const o = cfg.services[role];
  const defaults = SERVICE_DEFAULT_LIMITS[role];
  const memoryMb = o.memoryMb ?? defaults.memoryMb;
  // The default reservation never exceeds a lowered limit.
  const reservationMb = o.reservationMb ?? Math.min(defaults.reservationMb, memoryMb);
  // Workers may swap by default: an image job that spikes is better slow than OOM-killed mid-job.
  // Redis, api and bot may not: a swapped Redis or a swapped event loop stalls every user. Without
  // host swap there is nothing to allow, so `swapGb: 0` alone is deployable; an explicit swapMb
  // above 0 on such a host stays an error (src/plan/budget.ts).
  const swapMb = o.swapMb ?? (role === "worker" && hostSwap ? memoryMb : 0);
  return { memoryMb, memoryReservationMb: reservationMb, swapMb, memorySwapMb: memoryMb + swapMb };
}

export function redisCommand(cfg: StackConfig, limitMb: number): string[] {
  const r = cfg.services.redis;
  const maxmemoryMb = r.maxmemoryMb ?? defaultMaxmemoryMb(limitMb);
  return [
    "redis-server",
    "--appendonly",
    r.appendonly ? "yes" : "no",
    // With AOF on, AOF is the persistence; RDB snapshots would add a second fork on a tight box.
    // A bare `--save` means `save ""` (redis-server's command-line parsing since 7.0; checked on
    // 7.0.15 by test/real/redis-args.test.ts). Not `"--save", ""`: the Docker provider refuses an
    // empty element in a container's command ("values for command may not be empty"), which the
    // real-engine lab found at the first `pulumi up`.
    ...(r.appendonly ? ["--save"] : []),
    "--dir",
    "/data",
    "--maxmemory",
    `${maxmemoryMb}mb`,
    "--maxmemory-policy",
    r.maxmemoryPolicy,
    // Clients come from the other containers on the private network, and no port is published.
    // The official image already turns protected mode off; saying it keeps a Redis built
    // elsewhere (e.g. Debian's, as the VM lab uses) from refusing them with "DENIED".
    "--protected-mode",
    "no",
  ];
}

/** `hostSwap`: whether the host has swap the containers could use (see resolved()). */
export function planServices(cfg: StackConfig, workers: number, hostSwap = true): ServicePlan[] {
  const common = () => ({
    singleton: false,
    volumes: [],
    ports: [],
    healthcheck: undefined,
    replace: "stop-first" as const,
  });
  const appEnv = { REDIS_URL: redisUrl(), APP_STACK: cfg.stack };
  const redisLimits = resolved(cfg, "redis", hostSwap);
  const redis: ServicePlan = {
    ...common(),
    name: "redis",
    role: "redis",
    image: cfg.images.redis,
    command: redisCommand(cfg, redisLimits.memoryMb),
    ...redisLimits,
    restart: "unless-stopped",
    alias: "redis",
    env: {},
    secretEnv: [],
    volumes: [{ volume: REDIS_VOLUME, containerPath: "/data" }],
    healthcheck: {
      test: ["CMD", "redis-cli", "PING"],
      intervalS: 10,
      timeoutS: 3,
      retries: 5,
      startPeriodS: 5,
    },
    stopTimeoutS: 30,
  };
  const proxy: ServicePlan = {
    ...common(),
    name: "proxy",
    role: "proxy",
    image: cfg.images.proxy,
    // The image's own command, said out loud so another build of it cannot change what runs.
    command: ["kamal-proxy", "run"],
    ...resolved(cfg, "proxy", hostSwap),
    restart: "unless-stopped",
    alias: "proxy",
    env: {},
    secretEnv: [],
    // The only published ports of the box: the API and everything else stay on the private network.
    ports: [
      { internal: HTTP_PORT, external: HTTP_PORT },
      { internal: HTTPS_PORT, external: HTTPS_PORT },
    ],
    volumes: [{ volume: PROXY_STATE_VOLUME, containerPath: PROXY_STATE_PATH }],
    // Two proxies cannot both hold 80 and 443.
    singleton: true,
    // On SIGTERM kamal-proxy shuts its servers down gracefully for at most 10 s (shutdownTimeout,
    // internal/server/server.go:24,69 in basecamp/kamal-proxy v0.9.2): 30 s covers that with room,
    // so Docker never SIGKILLs it mid-shutdown.
    stopTimeoutS: 30,
  };
  const a = cfg.services.api;
  const api: ServicePlan = {
    ...common(),
    name: "api",
    role: "api",
    image: cfg.images.api,
    command: [
      "uvicorn",
      "app.web.api:app",
      "--host",
      "0.0.0.0",
      "--port",
      String(a.port),
      "--workers",
      String(a.workers),
      "--limit-concurrency",
      String(a.limitConcurrency),
    ],
    ...resolved(cfg, "api", hostSwap),
    replace: "start-first",
    restart: "unless-stopped",
    alias: "api",
    env: { ...appEnv, PORT: String(a.port) },
    secretEnv: ["FAL_KEY", "EXTRA_ENV"],
    // Not published: only the edge proxy reaches it, over the app's network (issue 14). A fixed host
    // port would also keep a new release from starting beside the old one.
    // Python is in every image that runs uvicorn; curl may not be.
    healthcheck: {
      test: [
        "CMD",
        "python3",
        "-c",
        `import urllib.request; urllib.request.urlopen("http://127.0.0.1:${a.port}${a.healthPath}", timeout=4)`,
      ],
      intervalS: 15,
      timeoutS: 5,
      retries: 3,
      startPeriodS: 20,
    },
    stopTimeoutS: 30,
  };
  const bot: ServicePlan = {
    ...common(),
    name: "bot",
    role: "bot",
    image: cfg.images.bot,
    command: undefined,
    ...resolved(cfg, "bot", hostSwap),
    restart: "unless-stopped",
    alias: "bot",
    env: appEnv,
    secretEnv: ["BOT_TOKEN", "FAL_KEY", "EXTRA_ENV"],
    singleton: true,
    stopTimeoutS: 30,
  };
  const w = cfg.services.worker;
  const workerLimits = resolved(cfg, "worker", hostSwap);
  const workerList: ServicePlan[] = Array.from({ length: workers }, (_, i) => ({
    ...common(),
    name: `worker-image-${i + 1}`,
    role: "worker",
    image: cfg.images.worker,
    // No `--name`: after an OOM kill RQ keeps the dead worker's registration until its TTL, and a
    // restarted worker with the same fixed name refuses to start ("There exists an active worker
    // named ... already"). The container name carries `worker-image-N`; RQ picks a unique one.
    command: ["rq", "worker", "--url", redisUrl(), "--max-jobs", String(w.maxJobs), w.queue],
    ...workerLimits,
    // `--max-jobs` makes the worker exit 0 on purpose: only a policy that restarts on exit 0
    // (unless-stopped/always) brings it back (the note's defect 3).
    restart: "unless-stopped",
    alias: `worker-image-${i + 1}`,
    env: appEnv,
    secretEnv: ["FAL_KEY", "EXTRA_ENV"],
    // RQ finishes the current job on SIGTERM (warm shutdown); give an image job time to end.
    stopTimeoutS: 120,
  }));
  return [redis, proxy, api, bot, ...workerList];
}
