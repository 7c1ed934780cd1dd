// The application containers on a Docker engine: the provider (ssh:// to the server, or the local
// daemon), a private network, the Redis data volume, the images and one container per planned
// service. Container names are fixed, so a replaced container must be deleted before its successor
// starts (deleteBeforeReplace) — which is also what keeps the bot a singleton.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../src/config/types";
import type { Plan } from "../src/plan/plan";
import { NETWORK_NAME, REDIS_VOLUME, type ServicePlan } from "../src/plan/services";

export interface AppSecrets {
  botToken?: pulumi.Output<string>;
  falKey?: pulumi.Output<string>;
  env: pulumi.Output<Record<string, string>>;
  registryPassword?: pulumi.Output<string>;
}

export interface AppArgs {
  cfg: StackConfig;
  plan: Plan;
  secrets: AppSecrets;
  /** `ssh://root@IP` or undefined for the local daemon. */
  dockerHost?: pulumi.Input<string>;
  sshOpts?: pulumi.Input<pulumi.Input<string>[]>;
  /** The provider must not dial before Docker is installed on the host. */
  dependsOn?: pulumi.Resource[];
}

const seconds = (s: number) => `${s}s`;

/** Environment of a container: plain values plus the secrets it needs, as one secret list. */
export function containerEnv(s: ServicePlan, secrets: AppSecrets): pulumi.Output<string[]> {
  return pulumi
    .all([secrets.botToken ?? "", secrets.falKey ?? "", secrets.env])
    .apply(([botToken, falKey, extra]) => {
      const env: Record<string, string> = { ...s.env };
      if (s.secretEnv.includes("EXTRA_ENV")) Object.assign(env, extra);
      if (s.secretEnv.includes("BOT_TOKEN") && botToken) env.BOT_TOKEN = botToken;
      if (s.secretEnv.includes("FAL_KEY") && falKey) env.FAL_KEY = falKey;
      // Plan-owned variables win over free-form `env`.
      Object.assign(env, s.env);
      return Object.keys(env).sort().map((k) => `${k}=${env[k]}`);
    })
    .apply((list) => pulumi.secret(list));
}

/**
 * The registry's current digest of an image, as the RemoteImage's pullTriggers; none for
 * `imageDigests: off` or a reference already pinned by digest (it cannot move).
 */
export function pullTriggersFor(cfg: StackConfig, role: keyof StackConfig["images"], registry: docker.Provider | undefined): pulumi.Output<string>[] | undefined {
  const ref = cfg.images[role];
  if (!registry || cfg.imageDigests === "off" || ref.includes("@sha256:")) return undefined;
  return [docker.getRegistryImageOutput({ name: ref }, { provider: registry }).sha256Digest];
}

export class App extends pulumi.ComponentResource {
  readonly provider: docker.Provider;
  readonly network: docker.Network;
  readonly redisVolume: docker.Volume;
  readonly containers: Record<string, docker.Container> = {};

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:App", name, {}, opts);
    const { cfg, plan, secrets } = args;
    const registryAuth =
      cfg.registry && secrets.registryPassword
        ? [{ address: cfg.registry.server, username: cfg.registry.username, password: secrets.registryPassword }]
        : undefined;
    this.provider = new docker.Provider(`${name}-docker`, {
      host: args.dockerHost,
      sshOpts: args.sshOpts,
      registryAuth,
    }, { parent: this, dependsOn: args.dependsOn });
    const child = { parent: this, provider: this.provider };
    // Digest lookups go to the registry over HTTPS from where Pulumi runs and never dial the Docker
    // host (kreuzwerker data_source_docker_registry_image.go, dataSourceDockerRegistryImageRead).
    // Their own provider has only the registry credentials, all known at preview time, so the
    // lookup works before the server (the other provider's host) exists.
    const registry = cfg.imageDigests === "registry"
      ? new docker.Provider(`${name}-registry`, { registryAuth }, { parent: this })
      : undefined;

    this.network = new docker.Network(`${name}-network`, {
      name: NETWORK_NAME,
      driver: "bridge",
      labels: [{ label: "app-infra.stack", value: cfg.stack }],
    }, child);

    // Redis' AOF lives here; `retainOnDelete` so not even a `pulumi destroy` of the containers
    // throws the queue away by accident.
    this.redisVolume = new docker.Volume(`${name}-${REDIS_VOLUME}`, {
      name: REDIS_VOLUME,
      labels: [{ label: "app-infra.stack", value: cfg.stack }],
    }, { ...child, retainOnDelete: true });

    const images: Record<string, docker.RemoteImage> = {};
    for (const role of ["redis", "api", "bot", "worker"] as const) {
      images[role] = new docker.RemoteImage(`${name}-image-${role}`, {
        name: cfg.images[role],
        // The provider pulls only on create or when name/pullTriggers/triggers change (all
        // ForceNew; its Read looks up the local image by name), so a re-pushed tag needs the
        // registry's digest here. A new digest re-pulls, the imageId changes and the containers
        // are replaced (gracefully, below). docs/provider-contract.md.
        pullTriggers: pullTriggersFor(cfg, role, registry),
        // Several roles may share one image; never delete it under a running container.
        keepLocally: true,
      }, child);
    }

    // Redis first: the apps connect at start, and one that finds no Redis exits and restarts,
    // which the watchdog would report as a crash.
    const ordered = [...plan.services].sort((a, b) => Number(b.role === "redis") - Number(a.role === "redis"));
    for (const s of ordered) {
      const redis = this.containers["redis"];
      this.containers[s.name] = new docker.Container(`${name}-${s.name}`, {
        name: s.name,
        hostname: s.name,
        image: images[s.role]!.imageId,
        command: s.command,
        memory: s.memoryMb,
        memoryReservation: s.memoryReservationMb,
        memorySwap: s.memorySwapMb,
        restart: s.restart,
        stopTimeout: s.stopTimeoutS,
        // How long Pulumi's delete (every replacement, every destroy) waits after SIGTERM. The
        // provider stops with destroy_grace_seconds, and 0 (unset) overrides stopTimeout: an
        // instant SIGKILL mid-job, Redis without its AOF flush (kreuzwerker
        // resource_docker_container_funcs.go, resourceDockerContainerDelete).
        destroyGraceSeconds: s.stopTimeoutS,
        networksAdvanced: [{ name: this.network.name, aliases: [s.alias] }],
        volumes: s.volumes.map((v) => ({ volumeName: v.volume === REDIS_VOLUME ? this.redisVolume.name : v.volume, containerPath: v.containerPath })),
        ports: s.ports.map((p) => ({ internal: p.internal, external: p.external })),
        envs: containerEnv(s, secrets),
        healthcheck: s.healthcheck && {
          tests: s.healthcheck.test,
          interval: seconds(s.healthcheck.intervalS),
          timeout: seconds(s.healthcheck.timeoutS),
          retries: s.healthcheck.retries,
          startPeriod: seconds(s.healthcheck.startPeriodS),
        },
        // Wait for a healthy container where there is a healthcheck, so a broken deploy fails `pulumi up`.
        wait: s.healthcheck !== undefined,
        waitTimeout: 120,
        mustRun: true,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        labels: [
          { label: "app-infra.stack", value: cfg.stack },
          { label: "app-infra.role", value: s.role },
        ],
      }, {
        ...child,
        // Fixed names: the old container must go before the new one starts. For the bot this is
        // also the singleton rule — Telegram answers 409 Conflict to a second long-poller.
        deleteBeforeReplace: true,
        // The provider's Update ignores healthcheck (it only updates restart and resource limits)
        // yet records the new value: without a replacement the change would never reach Docker.
        replaceOnChanges: ["healthcheck"],
        dependsOn: s.role !== "redis" && redis ? [redis] : [],
      });
    }
    this.registerOutputs({});
  }
}
