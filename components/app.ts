// The application containers on a Docker engine, mapped from the plan's `app` slice
// (src/plan/app.ts decides every name, label, limit, healthcheck and the order): the provider
// (ssh:// to the server, or the local daemon), a private network, the Redis data volume, the images
// and one container per planned service. Container names are fixed, so a replaced container must be
// deleted before its successor starts (deleteBeforeReplace), which also keeps the bot a singleton.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceName } from "../src/config/keys";
import type { Secrets } from "../src/config/pulumi-config";
import { containerEnvList, type AppPlan, type ContainerSpec, type ImageSpec } from "../src/plan/app";
import { gateCommand } from "../src/plan/gate";
import { releaseContainerName } from "../src/plan/release";

export type AppSecrets = Pick<Secrets, "botToken" | "falKey" | "env" | "registryPassword">;

export interface AppArgs {
  plan: AppPlan;
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
  /**
   * Where the gate (`docker exec proxy kamal-proxy deploy …`) runs: over SSH on the server, as the
   * host steps do; undefined for the local target, where the local docker CLI runs it.
   */
  gateConnection?: command.types.input.remote.ConnectionArgs;
  /**
   * The key of the release names' HMAC (src/plan/release.ts): the deploy private key. Undefined
   * for the local target, whose names are a plain hash.
   */
  releaseKey?: pulumi.Input<string>;
  /**
   * The provider must not dial before Docker is installed on the host. An argument rather than the
   * resource option on purpose: it applies to the provider only, not to every child.
   */
  dependsOn?: pulumi.Resource[];
}

/** A container's environment: the plan's plain values plus the secrets it needs, as one secret list. */
export function containerEnv(c: ContainerSpec, secrets: AppSecrets): pulumi.Output<string[]> {
  return pulumi
    .all([secrets.botToken ?? "", secrets.falKey ?? "", secrets.env])
    .apply(([botToken, falKey, extra]) => containerEnvList(c, { botToken, falKey, extra }))
    .apply((list) => pulumi.secret(list));
}

/** The reference the server pulls: the plan's, or `repository@<current digest>` where it says so. */
function pullReference(img: ImageSpec, registry: docker.Provider | undefined): pulumi.Input<string> {
  if (!img.resolveDigest || !registry) return img.reference;
  const digest = docker.getRegistryImageOutput({ name: img.reference }, { provider: registry }).sha256Digest;
  return pulumi.interpolate`${img.repository}@${digest}`;
}

export class App extends pulumi.ComponentResource {
  readonly provider: docker.Provider;
  readonly network: docker.Network;
  readonly volumes: Record<string, docker.Volume> = {};
  readonly containers: Record<string, docker.Container> = {};
  /** The health-gated switch to the new API container. */
  readonly gate: command.remote.Command | command.local.Command;
  /** What the server pulls, per service: `repository@<digest>` where resolved, else the reference. */
  readonly pulled = {} as Record<ServiceName, pulumi.Input<string>>;
  /** Resolves once every container and the gate exist: the deploy went through (the `releases` output waits for it). */
  readonly settled: pulumi.Output<string>[];

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:App", name, {}, opts);
    const { plan, secrets } = args;
    const registryAuth =
      plan.registryAuth && secrets.registryPassword
        ? [{ ...plan.registryAuth, password: secrets.registryPassword }]
        : undefined;
    this.provider = new docker.Provider(
      `${name}-docker`,
      { host: args.dockerHost, sshOpts: args.sshOpts, registryAuth },
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
    const registry = plan.digestLookup
      ? new docker.Provider(`${name}-registry`, { registryAuth }, { parent: this })
      : undefined;

    this.network = new docker.Network(
      `${name}-${plan.network.resource}`,
      { name: plan.network.name, driver: plan.network.driver, labels: plan.network.labels },
      child,
    );

    // `retainOnDelete` (where the plan says so): Pulumi never removes the volume itself, so
    // replacing or deleting the App's resources keeps the queue and the certificates on this
    // server. It does not survive a `pulumi destroy` of the stack: the server's disk goes with it.
    for (const v of plan.volumes) {
      this.volumes[v.name] = new docker.Volume(
        `${name}-${v.resource}`,
        { name: v.name, labels: v.labels },
        { ...child, retainOnDelete: v.retainOnDelete },
      );
    }

    const images: Record<string, docker.RemoteImage> = {};
    for (const img of plan.images) {
      this.pulled[img.role] = pullReference(img, registry);
      images[img.role] = new docker.RemoteImage(
        `${name}-${img.resource}`,
        {
          // A re-pushed tag is a new digest, so a new name: pulled, a new imageId, and the containers
          // replaced (gracefully, below). docs/provider-contract.md.
          name: this.pulled[img.role],
          keepLocally: img.keepLocally,
        },
        child,
      );
    }
    const declared = <T>(kind: string, table: Record<string, T>, key: string): T => {
      const found = table[key];
      if (found === undefined) throw new Error(`internal: ${kind} ${key} is used before it is declared`);
      return found;
    };

    for (const c of plan.containers) {
      const inputs = {
        hostname: c.hostname,
        image: declared("image", images, c.role).imageId,
        command: c.command,
        memory: c.memoryMb,
        memoryReservation: c.memoryReservationMb,
        memorySwap: c.memorySwapMb,
        restart: c.restart,
        stopTimeout: c.stopTimeoutS,
        destroyGraceSeconds: c.destroyGraceSeconds,
        networksAdvanced: [{ name: this.network.name, aliases: c.networkAliases }],
        volumes: c.volumes.map((v) => ({
          // The app's own volumes by their resources, so the container depends on them.
          volumeName: this.volumes[v.volume]?.name ?? v.volume,
          containerPath: v.containerPath,
        })),
        ports: c.ports.map((p) => ({ internal: p.internal, external: p.external })),
        envs: containerEnv(c, secrets),
        healthcheck: c.healthcheck,
        wait: c.wait,
        waitTimeout: c.waitTimeoutS,
        mustRun: c.mustRun,
        logDriver: c.logDriver,
        logOpts: c.logOpts,
        labels: c.labels,
      };
      // A start-first container's name is its release (src/plan/release.ts): a keyed hash of the
      // inputs as Docker will get them, image digest and env included. The hash is not a secret,
      // though the env it covers and its key are, so the name is unsecreted: it is shown in
      // previews and the gate's log.
      const containerName = c.release
        ? pulumi.unsecret(
            pulumi
              .all([inputs, args.releaseKey])
              .apply(([resolved, key]) =>
                releaseContainerName(c.name, c.release!.salt, resolved as Record<string, unknown>, key),
              ),
          )
        : c.name;
      this.containers[c.name] = new docker.Container(
        `${name}-${c.resource}`,
        { name: containerName, ...inputs },
        {
          ...child,
          // Always explicit: the provider answers true for every container, and only the program's
          // false lets the API start beside the old one (ContainerSpec.deleteBeforeReplace). True
          // keeps the fixed-name containers stop-first; for the bot it is also the singleton rule —
          // Telegram answers 409 Conflict to a second long-poller.
          deleteBeforeReplace: c.deleteBeforeReplace,
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
          dependsOn: c.after.map((n) => declared("container", this.containers, n)),
        },
      );
    }
    // The switch runs after the new API container exists and before the engine deletes the old
    // one (post-steps). It is replaced, so run again, whenever the target's name changes (a new
    // release) or the proxy is re-created; it has no `delete`, so removing it never unroutes the API.
    const g = plan.gate;
    const proxy = declared("container", this.containers, g.proxyContainer);
    const target = declared("container", this.containers, g.container);
    const gateArgs = {
      create: target.name.apply((name) => gateCommand(g, name)),
      triggers: [target.name, proxy.id],
    };
    const gateOpts = { parent: this, dependsOn: [proxy, target] };
    this.gate = args.gateConnection
      ? new command.remote.Command(
          `${name}-${g.resource}`,
          { ...gateArgs, connection: args.gateConnection, addPreviousOutputInEnv: false },
          gateOpts,
        )
      : new command.local.Command(
          `${name}-${g.resource}`,
          { ...gateArgs, addPreviousOutputInEnv: false },
          gateOpts,
        );
    this.settled = [...Object.values(this.containers).map((c) => c.id), this.gate.id];
    this.registerOutputs({});
  }
}
