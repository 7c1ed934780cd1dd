// The application on a Docker engine as plain data: the private network, Redis' volume, one image
// per service, and one container per planned service with every Docker setting decided here.
// components/app.ts maps these fields onto docker resources and decides nothing itself.
import { SERVICE_NAMES, type ServiceName } from "../config/keys";
import type { StackConfig } from "../config/types";
import { ROLE_LABEL, STACK_LABEL } from "./names";
import { planGate, type GatePlan } from "./gate";
import { PROXY_STATE_VOLUME, type EdgePlan } from "./proxy";
import { NETWORK_NAME, REDIS_VOLUME, type ServicePlan } from "./services";

export interface DockerLabel {
  label: string;
  value: string;
}

export interface ImageSpec {
  /** Logical name suffix: `<component>-<resource>`. */
  resource: string;
  role: ServiceName;
  /** The configured reference. */
  reference: string;
  /**
   * Pull `repository@<the registry's current digest>` instead of the reference. The provider pulls
   * only when it does not find the name locally (kreuzwerker resource_docker_image_funcs.go,
   * resourceDockerImageCreate → searchLocalImages, then pull), so a new digest must be a new name:
   * pullTriggers alone would re-create the resource but find the old image under the same tag
   * (kreuzwerker#172). A reference already pinned by digest, and `imageDigests: off`, are used as
   * they are.
   */
  resolveDigest: boolean;
  repository: string;
  /** Several services may share one image; never delete it under a running container. */
  keepLocally: boolean;
}

/** Durations as Go prints them (goDuration). */
export interface HealthcheckSpec {
  tests: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export interface ContainerSpec {
  /** Logical name suffix; equal to the container's name, or to its base where `release` is set. */
  resource: string;
  /** The container's name, or its base (`api`) where `release` is set. */
  name: string;
  /**
   * The container is named `<name>-<release id>` (src/plan/release.ts), a hash of its resolved
   * inputs salted by the `release` key, so a start-first replacement never reuses a name. Set for
   * start-first services only; the others keep their fixed names.
   */
  release?: { salt: string };
  hostname: string;
  /** Which image (by service) it runs. */
  role: ServiceName;
  command: string[] | undefined;
  memoryMb: number;
  memoryReservationMb: number;
  memorySwapMb: number;
  restart: ServicePlan["restart"];
  stopTimeoutS: number;
  /**
   * How long Pulumi's delete (every replacement, every destroy) waits after SIGTERM. The provider
   * stops with destroy_grace_seconds, and 0 (unset) overrides stopTimeout: an instant SIGKILL
   * mid-job, Redis without its AOF flush (kreuzwerker resource_docker_container_funcs.go,
   * resourceDockerContainerDelete).
   */
  destroyGraceSeconds: number;
  networkAliases: string[];
  /** By volume name; the app's own volumes (AppPlan.volumes) are wired to their resources. */
  volumes: { volume: string; containerPath: string }[];
  ports: { internal: number; external: number }[];
  /** Plain environment; the secret parts are merged by containerEnvList. */
  env: Record<string, string>;
  secretEnv: ServicePlan["secretEnv"];
  healthcheck: HealthcheckSpec | undefined;
  /**
   * Wait for a healthy container where there is a healthcheck, so a broken deploy fails `pulumi up`.
   * Not for a start-first container: the gate (AppPlan.gate) is its health check, and one that
   * fails fast and prints the container's logs, which the provider's wait does not
   * (docs/edge-proxy.md, "What the Pulumi side must do").
   */
  wait: boolean;
  waitTimeoutS: number;
  mustRun: boolean;
  logDriver: string;
  logOpts: Record<string, string>;
  labels: DockerLabel[];
  /** Containers (by name) this one starts after. */
  after: string[];
  /**
   * Delete the old container before its successor starts. The provider answers true for every
   * container (pulumi-docker provider/resources.go: docker_container DeleteBeforeReplace), and the
   * engine takes the program's explicit value over it (pulumi pkg/v3 v3.274.1
   * resource/deploy/step_generator.go), so the component always passes this, false included:
   * false for a start-first service, true for the rest (ServicePlan.replace).
   */
  deleteBeforeReplace: boolean;
}

export interface VolumeSpec {
  resource: string;
  name: string;
  labels: DockerLabel[];
  /** Pulumi never removes it (retainOnDelete): replacing or deleting the App keeps its data. */
  retainOnDelete: boolean;
}

export interface AppPlan {
  network: { resource: string; name: string; driver: "bridge"; labels: DockerLabel[] };
  /**
   * Redis' AOF, and the edge proxy's certificates and routing state. Both are kept when Pulumi
   * deletes or replaces them: the queue must survive, and a lost certificate store means a new
   * Let's Encrypt order on every re-created proxy, against weekly rate limits.
   */
  volumes: VolumeSpec[];
  /**
   * Redis' entry of `volumes`, the same object. Only the VM lab reads it
   * (test/lab/phases/backup.ts), which this branch may not edit; drop it when the lab learns
   * `volumes` (issue 14's lab work).
   */
  volume: VolumeSpec;
  /** Credentials for the private registry, when one is configured (the password is a secret). */
  registryAuth: { address: string; username: string } | undefined;
  /** Digest lookups need a registry-only provider (`imageDigests: registry`). */
  digestLookup: boolean;
  images: ImageSpec[];
  /** In registration order: Redis first. */
  containers: ContainerSpec[];
  /** The health-gated switch to the new API container, after it exists (src/plan/gate.ts). */
  gate: GatePlan;
}

/**
 * Whole seconds as Go's time.Duration prints them ("90s" reads back as "1m30s"): the provider
 * reads a container's healthcheck back in that form, so anything else is a diff on every refresh
 * and then a replacement (docs/provider-contract.md, docker.Container `healthcheck`).
 */
export function goDuration(total: number): string {
  if (!Number.isInteger(total) || total < 0)
    throw new Error(`internal: duration must be whole seconds, got ${total}`);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** `repo[:tag][@digest]` → `repo`: a tag is the part after the last ':' that follows the last '/'. */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split("@")[0]!;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/** The secret values a container may receive; absent ones are left out. */
export interface EnvSecrets {
  botToken: string;
  falKey: string;
  extra: Record<string, string>;
}

/**
 * A container's environment, its keys sorted: the plan's values, the secrets it needs and the
 * user's `env`; plan-owned variables win over `env`. A Swarm service takes it as it is
 * (components/swarm.ts), a container as containerEnvList.
 */
export function containerEnvMap(
  c: Pick<ContainerSpec, "env" | "secretEnv">,
  s: EnvSecrets,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (c.secretEnv.includes("EXTRA_ENV")) Object.assign(env, s.extra);
  if (c.secretEnv.includes("BOT_TOKEN") && s.botToken) env.BOT_TOKEN = s.botToken;
  if (c.secretEnv.includes("FAL_KEY") && s.falKey) env.FAL_KEY = s.falKey;
  Object.assign(env, c.env);
  return Object.fromEntries(
    Object.keys(env)
      .sort()
      .map((k) => [k, env[k]!]),
  );
}

/** A container's environment as Docker's `KEY=value` list, sorted (containerEnvMap). */
export function containerEnvList(c: Pick<ContainerSpec, "env" | "secretEnv">, s: EnvSecrets): string[] {
  return Object.entries(containerEnvMap(c, s)).map(([k, v]) => `${k}=${v}`);
}

function containerSpec(s: ServicePlan, cfg: StackConfig): ContainerSpec {
  const stack = cfg.stack;
  return {
    resource: s.name,
    name: s.name,
    ...(s.replace === "start-first" ? { release: { salt: cfg.release ?? "" } } : {}),
    hostname: s.name,
    role: s.role,
    command: s.command,
    memoryMb: s.memoryMb,
    memoryReservationMb: s.memoryReservationMb,
    memorySwapMb: s.memorySwapMb,
    restart: s.restart,
    stopTimeoutS: s.stopTimeoutS,
    destroyGraceSeconds: s.stopTimeoutS,
    networkAliases: [s.alias],
    volumes: s.volumes,
    ports: s.ports,
    env: s.env,
    secretEnv: s.secretEnv,
    healthcheck: s.healthcheck && {
      tests: s.healthcheck.test,
      interval: goDuration(s.healthcheck.intervalS),
      timeout: goDuration(s.healthcheck.timeoutS),
      retries: s.healthcheck.retries,
      startPeriod: goDuration(s.healthcheck.startPeriodS),
    },
    wait: s.healthcheck !== undefined && s.replace === "stop-first",
    waitTimeoutS: 120,
    mustRun: true,
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
    labels: [
      { label: STACK_LABEL, value: stack },
      { label: ROLE_LABEL, value: s.role },
    ],
    // The apps connect to Redis at start, and one that finds no Redis exits and restarts, which
    // the watchdog would report as a crash. The proxy never talks to Redis.
    after: s.role === "redis" || s.role === "proxy" ? [] : ["redis"],
    deleteBeforeReplace: s.replace === "stop-first",
  };
}

/** The one service a rule picks (the proxy, the start-first API): the plan always has exactly one. */
function named(services: readonly ServicePlan[], rule: (s: ServicePlan) => boolean): string {
  const found = services.filter(rule);
  if (found.length !== 1) throw new Error(`internal: expected one such service, got ${found.length}`);
  return found[0]!.name;
}

export function planApp(cfg: StackConfig, services: readonly ServicePlan[], edge: EdgePlan): AppPlan {
  const stackLabels = [{ label: STACK_LABEL, value: cfg.stack }];
  const digestLookup = cfg.imageDigests === "registry";
  // Redis first, the others in plan order (see `after`).
  const ordered = [...services].sort((a, b) => Number(b.role === "redis") - Number(a.role === "redis"));
  const volumes = [REDIS_VOLUME, PROXY_STATE_VOLUME].map((name) => ({
    resource: name,
    name,
    labels: stackLabels,
    retainOnDelete: true,
  }));
  return {
    network: { resource: "network", name: NETWORK_NAME, driver: "bridge", labels: stackLabels },
    volumes,
    volume: volumes[0]!,
    registryAuth: cfg.registry && { address: cfg.registry.server, username: cfg.registry.username },
    digestLookup,
    images: SERVICE_NAMES.map((role) => {
      const reference = cfg.images[role];
      return {
        resource: `image-${role}`,
        role,
        reference,
        resolveDigest: digestLookup && !reference.includes("@sha256:"),
        repository: repositoryOf(reference),
        keepLocally: true,
      };
    }),
    containers: ordered.map((s, i) => {
      const spec = containerSpec(s, cfg);
      // Workers are replaced one at a time (issue 14): each one's replacement waits for the one
      // before it to be running again (the SDK registers a resource only after its dependsOn are
      // created), so the queue always has a consumer while an image bump replaces them, each
      // finishing its job first (its stop time).
      const before = ordered[i - 1];
      if (s.role === "worker" && before?.role === "worker") spec.after = [...spec.after, before.name];
      return spec;
    }),
    gate: planGate(
      cfg,
      edge,
      named(services, (s) => s.role === "proxy"),
      named(services, (s) => s.replace === "start-first"),
    ),
  };
}
