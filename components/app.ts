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
  /**
   * The server's ID. Every Docker resource is replaced when it changes: a new server is an empty
   * Docker, and the provider's host change alone is an update that leaves every resource "same"
   * (pulumi-docker marks no provider input ForcesProviderReplace). docs/provider-contract.md.
   */
  serverId?: pulumi.Input<string>;
  sshOpts?: pulumi.Input<pulumi.Input<string>[]>;
  /** The provider must not dial before Docker is installed on the host. */
  dependsOn?: pulumi.Resource[];
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
const seconds = goDuration;

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
      return Object.keys(env)
        .sort()
        .map((k) => `${k}=${env[k]}`);
    })
    .apply((list) => pulumi.secret(list));
}

/** `repo[:tag][@digest]` → `repo`: a tag is the part after the last ':' that follows the last '/'. */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split("@")[0]!;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/**
 * The reference the server pulls: for `imageDigests: registry`, the tag resolved to the registry's
 * current digest (`repo@sha256:…`). The provider pulls only when it does not find the name locally
 * (kreuzwerker resource_docker_image_funcs.go, resourceDockerImageCreate → searchLocalImages, then
 * pull), so a new digest must be a new name: pullTriggers alone would re-create the resource but
 * find the old image under the same tag (kreuzwerker#172). A reference already pinned by digest,
 * and `imageDigests: off`, are used as they are.
 */
export function pullReference(
  cfg: StackConfig,
  role: keyof StackConfig["images"],
  registry: docker.Provider | undefined,
): pulumi.Input<string> {
  const ref = cfg.images[role];
  // No registry provider: `imageDigests: off`.
  if (!registry || ref.includes("@sha256:")) return ref;
  const digest = docker.getRegistryImageOutput({ name: ref }, { provider: registry }).sha256Digest;
  return pulumi.interpolate`${repositoryOf(ref)}@${digest}`;
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
        ? [
            {
              address: cfg.registry.server,
              username: cfg.registry.username,
              password: secrets.registryPassword,
            },
          ]
        : undefined;
    this.provider = new docker.Provider(
      `${name}-docker`,
      {
        host: args.dockerHost,
        sshOpts: args.sshOpts,
        registryAuth,
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    // replacementTrigger, not a label: labels are ForceNew and read back on networks and volumes,
    // and a retained volume re-created under its old name keeps its old labels, so a label would
    // replace it on every run. The engine compares the trigger with its last value only.
    const child = {
      parent: this,
      provider: this.provider,
      ...(args.serverId ? { replacementTrigger: args.serverId } : {}),
    };
    // Digest lookups go to the registry over HTTPS from where Pulumi runs and never dial the Docker
    // host (kreuzwerker data_source_docker_registry_image.go, dataSourceDockerRegistryImageRead).
    // Their own provider has only the registry credentials, all known at preview time, so the
    // lookup works before the server (the other provider's host) exists.
    const registry =
      cfg.imageDigests === "registry"
        ? new docker.Provider(`${name}-registry`, { registryAuth }, { parent: this })
        : undefined;

    this.network = new docker.Network(
      `${name}-network`,
      {
        name: NETWORK_NAME,
        driver: "bridge",
        labels: [{ label: "app-infra.stack", value: cfg.stack }],
      },
      child,
    );

    // Redis' AOF lives here. `retainOnDelete`: Pulumi never removes the volume itself, so replacing
    // or deleting the App's resources keeps the queue on this server. It does not survive a
    // `pulumi destroy` of the stack: the server's disk goes with the server.
    this.redisVolume = new docker.Volume(
      `${name}-${REDIS_VOLUME}`,
      {
        name: REDIS_VOLUME,
        labels: [{ label: "app-infra.stack", value: cfg.stack }],
      },
      { ...child, retainOnDelete: true },
    );

    const images: Record<string, docker.RemoteImage> = {};
    for (const role of ["redis", "api", "bot", "worker"] as const) {
      images[role] = new docker.RemoteImage(
        `${name}-image-${role}`,
        {
          // A re-pushed tag is a new digest, so a new name: pulled, a new imageId, and the containers
          // replaced (gracefully, below). docs/provider-contract.md.
          name: pullReference(cfg, role, registry),
          // Several roles may share one image; never delete it under a running container.
          keepLocally: true,
        },
        child,
      );
    }

    // Redis first: the apps connect at start, and one that finds no Redis exits and restarts,
    // which the watchdog would report as a crash.
    const ordered = [...plan.services].sort(
      (a, b) => Number(b.role === "redis") - Number(a.role === "redis"),
    );
    for (const s of ordered) {
      const redis = this.containers["redis"];
      this.containers[s.name] = new docker.Container(
        `${name}-${s.name}`,
        {
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
          volumes: s.volumes.map((v) => ({
            volumeName: v.volume === REDIS_VOLUME ? this.redisVolume.name : v.volume,
            containerPath: v.containerPath,
          })),
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
        },
        {
          ...child,
          // Fixed names: the old container must go before the new one starts. For the bot this is
          // also the singleton rule — Telegram answers 409 Conflict to a second long-poller.
          deleteBeforeReplace: true,
          // The provider's Update ignores healthcheck (it only updates restart and resource limits)
          // yet records the new value, so a change never reaches Docker. v4.6.0 marks the block
          // ForceNew, but that only fires when the block appears or goes: the real engine planned a
          // change of its test as an update, and the container kept the old one (the lab).
          replaceOnChanges: ["healthcheck"],
          // The provider's Read records must_run=false whenever a container is not running at that
          // moment (a worker restarting after --max-jobs, a bot in a crash loop), which would make the
          // daily drift check fail at random. Restarts are Docker's job (restart policy) and alerts the
          // watchdog's; a create still sends mustRun: true. docs/provider-contract.md.
          ignoreChanges: ["mustRun"],
          dependsOn: s.role !== "redis" && redis ? [redis] : [],
        },
      );
    }
    this.registerOutputs({});
  }
}
