// Stage 4's Swarm services (issue 16), mapped from the plan's SwarmServicesPlan
// (src/plan/swarm-services.ts decides every name, constraint, limit, grace period, order and port):
// the encrypted overlay and one docker.Service per planned service, declared on the Swarm manager's
// engine (the core node). What each input does on a change, at the provider version we lock, is in
// docs/provider-contract.md ("Stage 4's Swarm services"); the choices below that follow from it:
//
// - The plan's command goes to `args`: the provider's `commands` is the image's entrypoint.
// - The overlay is referenced by `networksAdvanceds[].id`, which the provider reads back; `name` is
//   deprecated, read back as `id`, and replaced the services on every refresh (the VM lab).
// - Durations in the provider's own format (goDuration): it reads each one back as Go prints it,
//   so "120s" would be a change to "2m" on every refresh (the VM lab).
// - The restart policy in full: the provider sends an unset delay or window as 0 and reads them back.
// - The overlay's options: Docker adds its VXLAN id to them, which a refresh reads back as a change
//   of a ForceNew input (the VM lab); the options are ignored as read, and the planned ones replace
//   the overlay through replacementTrigger when the plan changes them.
// - Every service sets `stopGracePeriod`: unset, a delete does not wait for the tasks to stop, and
//   an update's stop is Docker's 10 s; the plan's grace is what lets a worker finish its job.
// - `convergeConfig`: a create or update waits until the tasks run, so a release that never starts
//   fails the `pulumi up`; Swarm rolls a failed update back by itself (`failureAction: rollback`).
// - A service off the core node is stopped by the plan's step before its delete (swarm-node.sh
//   stop, on the manager): the provider's delete waits only for the containers on the manager's own
//   engine (deleteService, resource_docker_service_funcs.go:261-300: ContainerWait there, whose
//   "No such container" for a task on another node it ignores), so it returned at once and Redis was
//   deleted under a worker's job (the VM lab). The step's Command depends on its service, so Pulumi
//   deletes it first; pulumi-command runs `delete` with the stdin it was created with
//   (remote/commandController.go:86-91 at v1.2.1). Redis goes after the services that depend on it.
//   A replaced service (delete-first) takes its step with it: the step's `triggers` hold the
//   service's ID, so the engine counts the step among the dependents that a delete-before-replace
//   must replace first (calculateDependentReplacements: a property that depends on the replaced
//   resource is made unknown, and replaceOnChanges `triggers[*]` turns that into a replace;
//   pkg/v3 resource/deploy/step_generator.go:3436-3521 at v3.274.1), and its delete runs before the
//   service's. Its `delete` names the ID too, so a step replaced any other way (a service re-created
//   after it vanished) leaves the live successor alone.
// - The environment: a service with secrets gets its `env` as one secret map, which hides only that
//   map in previews and state; the image, limits and placement stay readable (checked with the real
//   engine: a nested secret leaves its siblings in the diff).
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerEnvMap } from "../src/plan/app";
import { remoteCommandLine } from "../src/plan/host";
import type { SwarmStep } from "../src/plan/swarm";
import type { SwarmServiceSpec, SwarmServicesPlan } from "../src/plan/swarm-services";
import type { AppSecrets } from "./app";
import { readScript } from "./host";

export interface SwarmAppArgs {
  plan: SwarmServicesPlan;
  secrets: AppSecrets;
  /** The Swarm manager's engine: the core node's Docker (ssh://), or a local socket in tests. */
  provider: docker.Provider;
  /**
   * The core server's ID: the overlay and every service are replaced when it changes, as the one
   * box's resources are (components/app.ts): a new server is a new, empty Docker and Swarm.
   */
  serverId?: pulumi.Input<string>;
  /** The plan's stop steps (ClusterDeploy.swarm.stop), by service name. */
  stop: Record<string, SwarmStep>;
  /** Where those steps run: the core node's login, as its host steps use it (needed with any step). */
  manager?: { connection: command.types.input.remote.ConnectionArgs };
  /**
   * The one-box containers' retirement before the services start, and the proxy's switch to the
   * API service after they run (ClusterDeploy.swarm.retire and .gate); both on the manager.
   */
  steps?: { retire?: SwarmStep; gate?: SwarmStep };
  /** What the overlay and the retirement wait for: the Swarm formed (components/cluster.ts). */
  after?: pulumi.Resource[];
  /** The registry login each node pulls with (src/plan/app.ts registryAuth); undefined = none. */
  registryAuth?: { address: string; username: string; password: pulumi.Input<string> };
}

/** The overlay's driver options: the link MTU always, `encrypted` (IPsec ESP) as the plan says. */
export function overlayOptions(net: SwarmServicesPlan["network"]): Record<string, string> {
  return {
    "com.docker.network.driver.mtu": String(net.linkMtu),
    ...(net.encrypted ? { encrypted: "" } : {}),
  };
}

/**
 * `s` seconds as the provider reads a duration back: Go's time.Duration String() with a trailing
 * "0s" after minutes and "0m" after hours cut (shortDur, resource_docker_service_structures.go:1341
 * at v4.5.0): 30 → "30s", 120 → "2m", 90 → "1m30s", 3600 → "1h".
 */
export function goDuration(s: number): string {
  if (!Number.isInteger(s) || s < 0) throw new Error(`internal: a duration is whole seconds ≥ 0, got ${s}`);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return sec > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${h}h${m}m` : `${h}h`;
  if (m > 0) return sec > 0 ? `${m}m${sec}s` : `${m}m`;
  return `${sec}s`;
}
const seconds = goDuration;
/** Swarm's own restart delay when a spec has none: a crash loop restarts every 5 s, not at once. */
export const RESTART_DELAY_S = 5;

/** A service's inputs, but its name: the plan's spec, the overlay's id, its environment and the plan's timings. */
export function serviceArgs(
  s: SwarmServiceSpec,
  plan: Pick<SwarmServicesPlan, "convergeTimeoutS" | "updateMonitorS">,
  networkId: pulumi.Input<string>,
  env: pulumi.Input<Record<string, string>>,
): Omit<docker.ServiceArgs, "name" | "auth"> {
  // Megabytes as bytes; here rather than at load time, so mutation testing sees the tests of it.
  const bytes = (mb: number) => mb * 1024 * 1024;
  const update = {
    order: s.updateOrder,
    parallelism: 1,
    monitor: seconds(plan.updateMonitorS),
    failureAction: "rollback",
  };
  return {
    taskSpec: {
      containerSpec: {
        image: s.image,
        ...(s.command ? { args: s.command } : {}),
        env,
        labels: Object.entries(s.containerLabels).map(([label, value]) => ({ label, value })),
        mounts: s.volumes.map((v) => ({ type: "volume", source: v.volume, target: v.containerPath })),
        stopGracePeriod: seconds(s.stopGracePeriodS),
        ...(s.healthcheck
          ? {
              healthcheck: {
                tests: s.healthcheck.test,
                interval: seconds(s.healthcheck.intervalS),
                timeout: seconds(s.healthcheck.timeoutS),
                retries: s.healthcheck.retries,
                startPeriod: seconds(s.healthcheck.startPeriodS),
              },
            }
          : {}),
      },
      resources: {
        limits: { memoryBytes: bytes(s.memoryLimitMb) },
        reservation: { memoryBytes: bytes(s.memoryReservationMb) },
      },
      placement: {
        constraints: s.constraints,
        ...(s.maxReplicasPerNode ? { maxReplicas: s.maxReplicasPerNode } : {}),
      },
      // A task that exits (a worker after --max-jobs, a crash) is started again, as the one box's
      // restart policy does.
      restartPolicy: {
        condition: "any",
        delay: seconds(RESTART_DELAY_S),
        window: seconds(0),
        maxAttempts: 0,
      },
      networksAdvanceds: [{ id: networkId }],
    },
    mode: { replicated: { replicas: s.replicas } },
    updateConfig: update,
    rollbackConfig: { order: s.updateOrder, parallelism: 1, monitor: seconds(plan.updateMonitorS) },
    endpointSpec: {
      mode: s.endpointMode,
      // Host mode: published on the core node itself, no routing mesh, the client's address kept.
      ports: s.hostPorts.map((p) => ({
        targetPort: p.target,
        publishedPort: p.published,
        publishMode: "host",
        protocol: "tcp",
      })),
    },
    convergeConfig: { timeout: seconds(plan.convergeTimeoutS) },
  };
}

/**
 * A service's environment: one secret map where it takes a secret (see above); plain where it takes
 * none, since containerEnvMap puts in only the secrets the service's `secretEnv` names.
 */
export function serviceEnv(s: SwarmServiceSpec, secrets: AppSecrets): pulumi.Output<Record<string, string>> {
  const env = pulumi
    .all([secrets.botToken ?? "", secrets.falKey ?? "", secrets.env])
    .apply(([botToken, falKey, extra]) => containerEnvMap(s, { botToken, falKey, extra }));
  return s.secretEnv.length > 0 ? env.apply((e) => pulumi.secret(e)) : pulumi.unsecret(env);
}

export class SwarmApp extends pulumi.ComponentResource {
  readonly network: docker.Network;
  /** By the plan's service name. */
  readonly services: Record<string, docker.Service> = {};
  /** The stop steps' Commands, by service name. */
  readonly stops: Record<string, command.remote.Command> = {};
  readonly retire?: command.remote.Command;
  readonly gate?: command.remote.Command;

  constructor(name: string, args: SwarmAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:SwarmApp", name, {}, opts);
    const { plan } = args;
    // The gate's proxy and target services (swarm-node.sh gate PROXY TARGET …), checked before
    // anything is declared.
    const gate = args.steps?.gate;
    const gateServices = gate ? gate.args.slice(2, 4) : [];
    for (const n of gateServices)
      if (!plan.services.some((s) => s.name === n))
        throw new Error(`internal: the gate names service ${n}, which the plan lacks`);
    const child = {
      parent: this,
      provider: args.provider,
      ...(args.serverId ? { replacementTrigger: args.serverId } : {}),
    };
    const manager = () => {
      if (!args.manager) throw new Error("internal: the Swarm's steps have no manager login to run on");
      return args.manager.connection;
    };
    const onManager = (s: SwarmStep) => ({
      connection: manager(),
      create: remoteCommandLine(s.args),
      stdin: readScript(s.script),
      logging: "stdoutAndStderr" as const,
      addPreviousOutputInEnv: false,
    });
    // Every input of a docker.Network is ForceNew (see above for the options).
    const options = overlayOptions(plan.network);
    this.network = new docker.Network(
      `${name}-network`,
      { name: plan.network.name, driver: plan.network.driver, attachable: plan.network.attachable, options },
      {
        ...child,
        // Its name is fixed, and Docker refuses a second network of that name: delete-first. Docker
        // also refuses to remove a network a service is on, and the engine does not replace the
        // services first (with the overlay's ID unknown the bridge diffs taskSpec as an update), so
        // a replacement fails the `pulumi up` before anything is deleted (the VM lab; README
        // "Stage 4" says how to apply one).
        deleteBeforeReplace: true,
        ignoreChanges: ["options"],
        replacementTrigger: args.serverId
          ? pulumi.interpolate`${JSON.stringify(options)} on ${args.serverId}`
          : JSON.stringify(options),
        dependsOn: args.after ?? [],
      },
    );
    // Runs once, on create: a later run finds no one-box container and the services own the names.
    if (args.steps?.retire)
      this.retire = new command.remote.Command(`${name}-retire`, onManager(args.steps.retire), {
        parent: this,
        dependsOn: [this.network, ...(args.after ?? [])],
      });
    const first = this.retire ? [this.retire] : [];
    const auth = args.registryAuth && {
      serverAddress: args.registryAuth.address,
      username: args.registryAuth.username,
      password: args.registryAuth.password,
    };
    // Redis first: the apps' first connections find it (they retry anyway, Swarm restarts them).
    const redis = plan.services.filter((s) => s.role === "redis");
    const rest = plan.services.filter((s) => s.role !== "redis");
    for (const s of [...redis, ...rest]) {
      this.services[s.name] = new docker.Service(
        `${name}-${s.name}`,
        {
          name: s.name,
          ...serviceArgs(s, plan, this.network.id, serviceEnv(s, args.secrets)),
          ...(auth ? { auth } : {}),
        },
        {
          ...child,
          dependsOn: [...first, ...(s.role === "redis" ? [] : redis.map((r) => this.services[r.name]!))],
          // Fixed names: a replaced service must go before its successor can take the name.
          deleteBeforeReplace: true,
        },
      );
      const step = args.stop[s.name];
      const service = this.services[s.name]!;
      if (step)
        this.stops[s.name] = new command.remote.Command(
          `${name}-${s.name}-stop`,
          {
            ...onManager(step),
            create: "true",
            // For this service only: a successor under the same name is left alone.
            delete: pulumi.interpolate`${remoteCommandLine(step.args)} ${service.id}`,
            // The service's ID, so a replacement of the service replaces this step first (below).
            triggers: [service.id],
          },
          { parent: this, dependsOn: [service] },
        );
    }
    // Run again (replaced: it has no delete) whenever the proxy or the API service is re-created;
    // an update of either keeps the route (kamal-proxy keeps it in its volume, and the API's name).
    if (gate) {
      const [proxy, target] = gateServices.map((n) => this.services[n]!);
      this.gate = new command.remote.Command(
        `${name}-gate`,
        { ...onManager(gate), triggers: [proxy!.id, target!.id] },
        { parent: this, dependsOn: [proxy!, target!] },
      );
    }
    this.registerOutputs({});
  }
}
