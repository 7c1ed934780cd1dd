// The one table of stack configuration keys. Each key is declared once, here: its path, type,
// range, default and description. From this table come the parser (parse.ts), the StackConfig type
// (types.ts derives it; path `a/b/c` is field `a.b.c`), the README's config section and the
// `config:` block of Pulumi.yaml (src/report/docs.ts), so docs, behaviour and types cannot drift.
//
// Paths use `/` between levels, as in error messages (`services/redis/memoryMb`). In Pulumi they are
// structured config: `pulumi config set --path services.redis.memoryMb 300`.
import { cidrProblem } from "./cidr";
import { domainProblem } from "./domain";
import { SERVICE_DEFAULT_LIMITS } from "../plan/service-defaults";
import { KEEP_RELEASES_MAX, KEEP_RELEASES_MIN } from "../plan/releases";
import { imageReferenceProblem } from "./image-ref";
import {
  ARCHITECTURES,
  LOCATIONS,
  SERVICE_NAMES,
  STAGE_NUMBERS,
  TARGETS,
  type ServiceName,
} from "./vocabulary";

export { ARCHITECTURES, LOCATIONS, SERVICE_NAMES, STAGE_NUMBERS, TARGETS };
export type { Architecture, Location, ServiceName, Stage, Target } from "./vocabulary";

/** Why a string is not allowed (a full clause such as "prefix /33 is longer than 32"), or undefined. */
export type Check = (value: string) => string | undefined;

export type KeyKind =
  | { type: "int"; min: number; max: number }
  | { type: "string"; pattern?: RegExp; check?: Check; patternHint?: string }
  | { type: "enum"; allowed: readonly (string | number)[] }
  | { type: "bool" }
  | { type: "stringList"; pattern?: RegExp; check?: Check; patternHint?: string; itemHint?: string }
  | { type: "stringMap" };

export interface KeySpec {
  path: string;
  kind: KeyKind;
  /** A literal default, or undefined when the default comes from the stage preset or another key. */
  default?: string | number | boolean | readonly string[];
  /** Shown in docs when the default is derived rather than literal. */
  defaultText?: string;
  required?: boolean;
  /** Must be set with `pulumi config set --secret`; never printed. StackConfig says only whether it is set. */
  secret?: boolean;
  /** Has no effect on the local target, so setting it there is refused rather than silently ignored. */
  hetznerOnly?: boolean;
  /** Has an effect on stage 4 only (the worker nodes), so setting it on stages 1-3 is refused. */
  stage4Only?: boolean;
  description: string;
}

export const REDIS_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
] as const;

const IMAGE_HINT = "a Docker image reference such as ghcr.io/acme/app-api:1.4.2";
const CIDR_HINT = "CIDR blocks such as 203.0.113.7/32 or ::/0";
const SSH_PUBKEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/;
const QUEUE = /^[A-Za-z0-9_.:-]{1,64}$/;
const HTTP_PATH = /^\/[A-Za-z0-9_./-]*$/;
// restic's S3 form: s3:<http(s)://host[:port]>/<bucket>[/<path>]. No quote, space or line break:
// the value is written into the host's backup.env as one KEY=VALUE line.
const BACKUP_REPOSITORY = /^s3:https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._\/-]*)?$/;
// A conservative subset of systemd.time(7)'s calendar events (`*-*-* 03:15:00`, `daily`,
// `Mon..Fri 02:00`, `*-*-* 00/6:00:00`): what the installer's argv and the timer unit can carry safely.
// The host checks the meaning with systemd-analyze calendar (scripts/install-backup.sh).
const ON_CALENDAR = /^[A-Za-z0-9*][A-Za-z0-9*:.,/~ -]{0,62}[A-Za-z0-9*]$/;
const image = { type: "string", check: imageReferenceProblem, patternHint: IMAGE_HINT } as const;

/** A service's default limit, as the docs show it: the planner's own figure (src/plan/service-defaults.ts). */
const limitText = (service: ServiceName, what: "memoryMb" | "reservationMb") =>
  String(SERVICE_DEFAULT_LIMITS[service][what]);

function serviceKeys<S extends ServiceName>(
  service: S,
  memoryText: string,
  reservationText: string,
  swapText: string,
) {
  return [
    {
      path: `services/${service}/memoryMb` as const,
      kind: { type: "int", min: 32, max: 65536 },
      defaultText: memoryText,
      description: `Hard memory limit of the ${service} container (docker --memory), MB.`,
    },
    {
      path: `services/${service}/reservationMb` as const,
      kind: { type: "int", min: 0, max: 65536 },
      defaultText: reservationText,
      description: `Soft memory reservation of the ${service} container (docker --memory-reservation), MB; at most memoryMb.`,
    },
    {
      path: `services/${service}/swapMb` as const,
      kind: { type: "int", min: 0, max: 65536 },
      defaultText: swapText,
      description:
        `Host swap the ${service} container may use on top of memoryMb (docker --memory-swap = memoryMb + swapMb). ` +
        "0 = no swap. An explicit choice per service: the sizing note left Docker's implicit default (swap up to the limit again).",
    },
  ] as const;
}

/**
 * Every key, as declared. `as const` keeps each entry's literal path and kind, from which types.ts
 * derives the StackConfig type; `satisfies` checks each entry against KeySpec. Code that walks the
 * keys uses KEYS, the same array typed as KeySpec.
 */
export const KEY_TABLE = [
  {
    path: "stage",
    kind: { type: "enum", allowed: STAGE_NUMBERS },
    required: true,
    description:
      "Scaling stage from the sizing note: 1 = current 3 GB box, 2 = more RAM and a second worker, 3 = more RAM and CPU, " +
      "4 = the core node (stage 3's box: Redis, proxy, API, bot) plus `workerNodes` worker nodes on a private network (Docker Swarm; README `Stage 4`).",
  },
  {
    path: "target",
    kind: { type: "enum", allowed: TARGETS },
    default: "hetzner",
    description:
      "`hetzner` provisions a VM; `local` runs the same containers on the local Docker daemon (no VM, no swap).",
  },
  {
    path: "location",
    hetznerOnly: true,
    kind: { type: "enum", allowed: LOCATIONS },
    default: "fsn1",
    description: "Hetzner Cloud location of the server.",
  },
  {
    path: "server/type",
    hetznerOnly: true,
    kind: {
      type: "string",
      pattern: /^[a-z]+[0-9]+$/,
      patternHint: "a Hetzner server type name such as cx33",
    },
    defaultText: "cheapest type that meets the stage",
    description:
      "Pin a Hetzner server type instead of choosing the cheapest one that meets the stage's requirements.",
  },
  {
    path: "server/cores",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 64 },
    defaultText: "stage preset",
    description: "Minimum vCPUs the server must have.",
  },
  {
    path: "server/memoryGb",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 512 },
    defaultText: "stage preset",
    description: "Minimum RAM the server must have, GB.",
  },
  {
    path: "server/diskGb",
    hetznerOnly: true,
    kind: { type: "int", min: 20, max: 2000 },
    defaultText: "stage preset",
    description: "Minimum local disk the server must have, GB.",
  },
  {
    path: "server/architecture",
    hetznerOnly: true,
    kind: { type: "enum", allowed: ARCHITECTURES },
    default: "x86",
    description: "CPU architecture; your images must be built for it. Cannot be changed in place later.",
  },
  {
    path: "server/keepDisk",
    hetznerOnly: true,
    kind: { type: "bool" },
    default: true,
    description: "Keep the disk size when the server type changes, so a later downgrade stays possible.",
  },
  {
    path: "server/backups",
    hetznerOnly: true,
    kind: { type: "bool" },
    default: false,
    description: "Enable Hetzner's daily backups (+20 % of the server price).",
  },
  {
    path: "server/protect",
    hetznerOnly: true,
    kind: { type: "bool" },
    default: false,
    description:
      "Hetzner delete/rebuild protection and Pulumi `protect` on the server (recommended for prod).",
  },
  {
    path: "swapGb",
    hetznerOnly: true,
    kind: { type: "int", min: 0, max: 64 },
    defaultText: "stage preset",
    description: "Size of the swapfile on the host, GB. 0 removes it.",
  },
  {
    path: "swappiness",
    hetznerOnly: true,
    kind: { type: "int", min: 0, max: 100 },
    default: 10,
    description:
      "vm.swappiness: low keeps the working set in RAM and uses swap as the reserve the note asks for.",
  },
  {
    path: "systemReserveMb",
    kind: { type: "int", min: 128, max: 8192 },
    default: 500,
    description: "RAM kept for the OS, sshd, dockerd and the watchdog (the note: 400–500 MB).",
  },
  {
    path: "workers",
    kind: { type: "int", min: 1, max: 32 },
    defaultText: "stage preset",
    description: "Number of RQ worker containers (`worker-image-1..N`); each runs one job at a time.",
  },
  {
    path: "workerNodes",
    hetznerOnly: true,
    stage4Only: true,
    kind: { type: "int", min: 1, max: 20 },
    defaultText: "1",
    description: "Stage 4: how many worker nodes run the RQ workers, beside the core node.",
  },
  {
    path: "workersPerNode",
    hetznerOnly: true,
    stage4Only: true,
    kind: { type: "int", min: 1, max: 16 },
    defaultText: "2",
    description: "Stage 4: RQ worker containers on each worker node (stage 4 replaces `workers`).",
  },
  {
    path: "workerNode/type",
    hetznerOnly: true,
    stage4Only: true,
    kind: {
      type: "string",
      pattern: /^[a-z]+[0-9]+$/,
      patternHint: "a Hetzner server type name such as cx23",
    },
    defaultText: "cheapest type that meets the worker node's requirements",
    description: "Stage 4: pin the worker nodes' Hetzner server type.",
  },
  {
    path: "workerNode/cores",
    hetznerOnly: true,
    stage4Only: true,
    kind: { type: "int", min: 1, max: 64 },
    defaultText: "2",
    description: "Stage 4: minimum vCPUs of each worker node.",
  },
  {
    path: "workerNode/memoryGb",
    hetznerOnly: true,
    stage4Only: true,
    kind: { type: "int", min: 1, max: 512 },
    defaultText: "4",
    description: "Stage 4: minimum RAM of each worker node, GB.",
  },
  {
    path: "users",
    kind: { type: "int", min: 1, max: 1_000_000 },
    default: 100,
    description: "Active users the box is sized for.",
  },
  {
    path: "perUserMb",
    kind: { type: "int", min: 0, max: 1024 },
    default: 18,
    description: "Memory one active user costs, MB (the note: 15–18; the upper bound by default).",
  },
  {
    path: "images/api",
    kind: image,
    default: "ghcr.io/example/app:latest",
    description: "Image of the FastAPI service (must serve `app.web.api:app`).",
  },
  {
    path: "images/bot",
    kind: image,
    default: "ghcr.io/example/app:latest",
    description: "Image of the Telegram bot (its default command starts the bot).",
  },
  {
    path: "images/worker",
    kind: image,
    default: "ghcr.io/example/app:latest",
    description: "Image of the RQ workers (must have the `rq` command).",
  },
  {
    path: "images/redis",
    kind: image,
    // An official 7.4 patch tag (7.4.6, 2025); Redis 8 changed the license and defaults, so the
    // major stays pinned and a bump is a reviewed config change.
    default: "redis:7.4.6-alpine",
    description: "Redis image, pinned to an official 7.x tag.",
  },
  {
    path: "images/proxy",
    kind: image,
    // The only kamal-proxy release the contract test (test/real/edge-proxy.test.ts) pins; a bump
    // is a reviewed change, as for Redis.
    default: "basecamp/kamal-proxy:v0.9.2",
    description:
      "Image of the edge proxy in front of the API (kamal-proxy: health-gated switches, Let's Encrypt).",
  },
  {
    path: "imageDigests",
    kind: { type: "enum", allowed: ["registry", "off"] },
    default: "registry",
    description:
      "How a re-pushed tag reaches the server. `registry`: every preview and up asks the registry for each image's current digest; " +
      "a new digest re-pulls the image and replaces its containers. `off`: a tag already on the server is never pulled again " +
      "(for digest-pinned or never-reused tags, or images the registry cannot be asked about).",
  },
  ...serviceKeys("redis", limitText("redis", "memoryMb"), limitText("redis", "reservationMb"), "0"),
  {
    path: "services/redis/maxmemoryMb",
    kind: { type: "int", min: 1, max: 65536 },
    defaultText: "half of services/redis/memoryMb",
    description:
      "Redis `maxmemory`, MB. Must stay below the container limit: an AOF rewrite forks and can double Redis' memory.",
  },
  // noeviction: the queue lives in this Redis. With allkeys-* Redis silently drops any key under
  // pressure, queued jobs included; job queues recommend noeviction so writes fail loudly instead
  // (Sidekiq's wiki "Using Redis" #memory; rq/rq discussion #1932; redis.io "Key eviction").
  {
    path: "services/redis/maxmemoryPolicy",
    kind: { type: "enum", allowed: REDIS_POLICIES },
    default: "noeviction",
    description:
      "Redis `maxmemory-policy`. `noeviction` because the RQ queue lives here: allkeys-* would silently drop queued jobs.",
  },
  {
    path: "services/redis/appendonly",
    kind: { type: "bool" },
    default: true,
    description: "Redis AOF persistence on the `redis-data` volume, so queued jobs survive a restart.",
  },
  ...serviceKeys("proxy", limitText("proxy", "memoryMb"), limitText("proxy", "reservationMb"), "0"),
  ...serviceKeys("api", limitText("api", "memoryMb"), limitText("api", "reservationMb"), "0"),
  {
    path: "services/api/workers",
    kind: { type: "int", min: 1, max: 32 },
    default: 2,
    description: "uvicorn `--workers`.",
  },
  {
    path: "services/api/limitConcurrency",
    kind: { type: "int", min: 1, max: 100000 },
    default: 150,
    description: "uvicorn `--limit-concurrency` (503 above it instead of running out of memory).",
  },
  {
    path: "services/api/port",
    kind: { type: "int", min: 1, max: 65535 },
    default: 8000,
    description:
      "Port the API listens on inside the app's network; the edge proxy forwards to it. Never published on the host.",
  },
  {
    path: "services/api/public",
    hetznerOnly: true,
    kind: { type: "bool" },
    default: true,
    description: "Open the edge proxy's ports (80 and 443) in the firewall to everyone.",
  },
  {
    path: "services/api/healthPath",
    kind: { type: "string", pattern: HTTP_PATH, patternHint: "an absolute HTTP path such as /health" },
    default: "/health",
    description: "HTTP path the healthcheck and the watchdog call; must answer 200.",
  },
  // The edge proxy's name and certificate (issue 14, docs/edge-proxy.md). `tls` has no literal
  // default: it follows `domain`, which src/plan decides (src/plan/proxy.ts), and parse.ts refuses
  // `tls: true` without a domain, since there is no name to ask a certificate for.
  {
    path: "domain",
    kind: {
      type: "string",
      check: domainProblem,
      patternHint: "a DNS host name with at least one dot, such as api.example.com",
    },
    defaultText: "unset: plain HTTP on port 80, any host name",
    description:
      "DNS name of the API. The edge proxy answers for it alone and, with tls, gets a Let's Encrypt certificate for it; point its A record at the server first (the proxy listens on IPv4 only).",
  },
  {
    path: "tls",
    kind: { type: "bool" },
    defaultText: "true when domain is set",
    description:
      "Serve HTTPS on 443 with an automatic Let's Encrypt certificate (HTTP on 80 redirects to it). Needs domain.",
  },
  ...serviceKeys("bot", limitText("bot", "memoryMb"), limitText("bot", "reservationMb"), "0"),
  ...serviceKeys(
    "worker",
    limitText("worker", "memoryMb"),
    limitText("worker", "reservationMb"),
    "same as services/worker/memoryMb; 0 when swapGb is 0",
  ),
  {
    path: "services/worker/queue",
    kind: { type: "string", pattern: QUEUE, patternHint: "an RQ queue name of letters, digits, _ . : -" },
    default: "img_queue",
    description: "RQ queue the workers listen on.",
  },
  {
    path: "services/worker/maxJobs",
    kind: { type: "int", min: 1, max: 1_000_000 },
    default: 15,
    description:
      "rq `--max-jobs`: a worker exits (status 0) after this many jobs and is restarted fresh, which caps leaks.",
  },
  // The API's container name is `api-<hash of its inputs, salted by this>` (src/plan/release.ts).
  {
    path: "release",
    kind: {
      type: "string",
      pattern: /^[a-z0-9][a-z0-9._-]{0,63}$/,
      patternHint:
        "up to 64 lower-case letters, digits, '.', '_' or '-' (a letter or digit first), such as 4711-1",
    },
    defaultText: "unset: the API's name follows its inputs alone",
    description:
      "Deploy attempt id, part of the API container's name: npm run rollback (and deploy.yml's rollback_to) sets a new one, " +
      "so the rolled-back API never takes the name of a container a failed deploy left running. Set a new one by hand when you put back by hand the images that still run after a failed deploy.",
  },
  // The `releases` stack output and the images the weekly prune spares (src/plan/releases.ts).
  {
    path: "releases/keep",
    kind: { type: "int", min: KEEP_RELEASES_MIN, max: KEEP_RELEASES_MAX },
    default: 5,
    description:
      "How many releases the `releases` stack output records (images by digest, date, git commit) and the server keeps the images of: " +
      "what `npm run rollback` can go back to.",
  },
  {
    path: "adminCidrs",
    hetznerOnly: true,
    kind: {
      type: "stringList",
      check: cidrProblem,
      patternHint: CIDR_HINT,
      itemHint: "a CIDR block such as 203.0.113.7/32 or ::/0",
    },
    default: ["0.0.0.0/0", "::/0"],
    description:
      "Who may reach SSH (port 22). Key-only login either way; narrow it to your and your CI's addresses.",
  },
  {
    path: "adminSshKeys",
    hetznerOnly: true,
    kind: {
      type: "stringList",
      pattern: SSH_PUBKEY,
      patternHint: "OpenSSH public keys such as 'ssh-ed25519 AAAA... you@laptop'",
      itemHint: "an OpenSSH public key such as 'ssh-ed25519 AAAA... you@laptop'",
    },
    default: [],
    description:
      "Extra public keys allowed to log in as root; installed over SSH, so adding one never replaces the server.",
  },
  {
    path: "registry/server",
    kind: { type: "string", pattern: /^[a-z0-9.-]+(:\d+)?$/, patternHint: "a registry host such as ghcr.io" },
    description: "Registry of private images; with registry/username and the secret registryPassword.",
  },
  {
    path: "registry/username",
    kind: { type: "string" },
    description: "User name for the private registry.",
  },
  {
    path: "alerts/memoryPercent",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 100 },
    default: 95,
    description: "Alert when used RAM stays above this (the note: > 95 % is critical).",
  },
  {
    path: "alerts/swapPercent",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 100 },
    default: 50,
    description: "Alert when used swap stays above this (the note: > 50 % means more RAM is needed).",
  },
  {
    path: "alerts/cpuPercent",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 100 },
    default: 90,
    description: "Alert when average CPU stays above this (the note: > 90 % means more CPU is needed).",
  },
  {
    path: "alerts/queueLength",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 1_000_000 },
    default: 100,
    description: "Alert when the RQ queue stays longer than this (the note: > 100 means more workers).",
  },
  {
    path: "alerts/apiLatencyMs",
    hetznerOnly: true,
    kind: { type: "int", min: 10, max: 60000 },
    default: 2000,
    description: "Alert when the API health check takes longer than this or fails (the note: < 2 s).",
  },
  {
    path: "alerts/redisMemoryPercent",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 100 },
    default: 90,
    description:
      "Alert when Redis used_memory stays above this share of maxmemory (with noeviction, writes fail at 100 %).",
  },
  {
    path: "alerts/forMinutes",
    hetznerOnly: true,
    kind: { type: "int", min: 0, max: 1440 },
    default: 5,
    description: "A threshold must be crossed this long before the alert fires.",
  },
  {
    path: "alerts/repeatMinutes",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 10080 },
    default: 60,
    description: "Repeat a firing alert at most this often.",
  },
  {
    path: "alerts/intervalS",
    hetznerOnly: true,
    kind: { type: "int", min: 10, max: 3600 },
    default: 60,
    description: "How often the watchdog timer runs, seconds.",
  },
  {
    path: "alerts/telegramChatId",
    hetznerOnly: true,
    kind: {
      type: "string",
      pattern: /^-?\d+$|^@[A-Za-z0-9_]{5,}$/,
      patternHint: "a numeric Telegram chat id or @channel",
    },
    description: "Admin chat that receives alerts through the app's own bot (botToken).",
  },
  {
    path: "alerts/diskPercent",
    hetznerOnly: true,
    kind: { type: "int", min: 50, max: 99 },
    default: 85,
    description:
      "Alert when `/` or Docker's data root (/var/lib/docker) is fuller than this: AOF growth, images and container logs all land there.",
  },
  {
    path: "alerts/certMinDays",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 60 },
    default: 14,
    description:
      "With a domain and tls: alert when the API's HTTPS certificate has fewer days left than this. kamal-proxy renews it by itself 30 days before expiry, so the alert means renewal keeps failing.",
  },
  {
    path: "alerts/heartbeatUrl",
    hetznerOnly: true,
    kind: { type: "string", pattern: /^https?:\/\/\S+$/, patternHint: "an http(s) URL" },
    secret: true,
    description:
      "Push heartbeat in the healthchecks.io style: every watchdog run GETs it, a failed run GETs <url>/fail, so an outside service alerts when the box goes silent.",
  },
  {
    path: "backup/enabled",
    hetznerOnly: true,
    kind: { type: "bool" },
    default: false,
    description:
      "Back up Redis off the box with restic on a systemd timer (needs backup/repository and the secrets backup/password, backup/accessKeyId, backup/secretAccessKey).",
  },
  {
    path: "backup/repository",
    hetznerOnly: true,
    kind: {
      type: "string",
      pattern: BACKUP_REPOSITORY,
      patternHint: "a restic S3 repository such as s3:https://fsn1.your-objectstorage.com/<bucket>/redis",
    },
    description:
      "restic repository, S3-compatible (Hetzner Object Storage in the README's example). Required when backup/enabled.",
  },
  {
    path: "backup/schedule",
    hetznerOnly: true,
    kind: {
      type: "string",
      pattern: ON_CALENDAR,
      patternHint: "a systemd OnCalendar value such as *-*-* 03:15:00 or daily",
    },
    default: "*-*-* 03:15:00",
    description:
      "When the backup runs: a systemd OnCalendar value in the server's time zone (UTC on Hetzner's images); the host checks it with systemd-analyze calendar.",
  },
  {
    path: "backup/keepDaily",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 365 },
    default: 7,
    description: "Daily snapshots restic keeps (`forget --prune --keep-daily`).",
  },
  {
    path: "backup/keepWeekly",
    hetznerOnly: true,
    kind: { type: "int", min: 0, max: 520 },
    default: 4,
    description: "Weekly snapshots restic keeps (`forget --prune --keep-weekly`).",
  },
  {
    path: "backup/maxAgeHours",
    hetznerOnly: true,
    kind: { type: "int", min: 1, max: 720 },
    default: 26,
    description:
      "The watchdog alerts when the last successful backup is older than this (a daily schedule plus slack).",
  },
  {
    path: "backup/password",
    hetznerOnly: true,
    kind: { type: "string" },
    secret: true,
    description:
      "restic repository password (pulumi config set --secret --path backup.password …). Lose it and the backups cannot be read.",
  },
  {
    path: "backup/accessKeyId",
    hetznerOnly: true,
    kind: { type: "string" },
    secret: true,
    description: "S3 access key of the backup repository's bucket.",
  },
  {
    path: "backup/secretAccessKey",
    hetznerOnly: true,
    kind: { type: "string" },
    secret: true,
    description: "S3 secret key of the backup repository's bucket.",
  },
  {
    path: "botToken",
    kind: { type: "string" },
    secret: true,
    description:
      "Telegram bot token (BOT_TOKEN in the bot's environment). Required for target hetzner and local.",
  },
  {
    path: "falKey",
    kind: { type: "string" },
    secret: true,
    description: "Fal.ai API key (FAL_KEY in the workers' and api's environment).",
  },
  {
    path: "env",
    kind: { type: "stringMap" },
    secret: true,
    description: "Extra environment for api, bot and workers, as a secret JSON object of strings.",
  },
  {
    path: "registryPassword",
    kind: { type: "string" },
    secret: true,
    description: "Password or token for registry/server.",
  },
  {
    path: "alertWebhookUrl",
    hetznerOnly: true,
    kind: { type: "string", pattern: /^https?:\/\/\S+$/, patternHint: "an http(s) URL" },
    secret: true,
    description: "Generic webhook that receives alerts as JSON (a secret: such URLs usually embed a token).",
  },
  {
    path: "deployPrivateKey",
    hetznerOnly: true,
    kind: {
      type: "string",
      pattern:
        /^-----BEGIN (OPENSSH|RSA|EC) PRIVATE KEY-----[\s\S]+-----END (OPENSSH|RSA|EC) PRIVATE KEY-----\s*$/,
      patternHint: "an unencrypted OpenSSH/PEM private key",
    },
    secret: true,
    defaultText: "generated by the program and kept (encrypted) in the stack state",
    description: "Bring your own deploy key instead of the generated one.",
  },
] as const satisfies readonly KeySpec[];

export const KEYS: readonly KeySpec[] = KEY_TABLE;

/** A key's path, such as `services/redis/memoryMb`: a typo is a compile error. */
export type KeyPath = (typeof KEY_TABLE)[number]["path"];

export const KEY_BY_PATH: ReadonlyMap<string, KeySpec> = new Map(
  KEYS.map((k): [string, KeySpec] => [k.path, k]),
);

export function describeKind(kind: KeyKind): string {
  switch (kind.type) {
    case "int":
      return `an integer between ${kind.min} and ${kind.max}`;
    case "enum":
      return `one of ${kind.allowed.join(", ")}`;
    case "bool":
      return "true or false";
    case "string":
      return kind.patternHint ?? "a string";
    case "stringList":
      return `a list of ${kind.patternHint ?? "strings"}`;
    case "stringMap":
      return "an object of string values";
  }
}

/** What one entry of a list key may be, for an error that names the entry by its index. */
export function itemHint(kind: KeyKind): string {
  return kind.type === "stringList" ? (kind.itemHint ?? "a string") : describeKind(kind);
}
