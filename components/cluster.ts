// Stage 4's nodes and Swarm (issue 16), mapped from the plan's cluster deploy (src/plan/swarm.ts
// decides every name, address, rule, step and argument): the private network and subnet, the core
// node's attachment, the worker nodes (server, pinned host key, host steps), and the Swarm steps.
//
// The Swarm's worker join token: swarm-init.sh prints it on the core node; the Command keeps its
// stdout as a secret (additionalSecretOutputs), and each join gets it on stdin after the script, so
// it never appears in a command line, in a log (logging stderr only) or in plain state. After the
// joins, swarm-node.sh admit rotates it (and removes a replaced server's old node); the init step
// runs again whenever a worker server is added or replaced, so the next join gets the current token.
//
// A removed worker node: its `drain` Command depends on the node's server and join, so Pulumi deletes
// it first, and its delete runs `swarm-node.sh drain` on the core node (pulumi-command runs `delete`
// with the stdin it was created with: remote/commandController.go:86-91 and commandOutputs.go:73),
// which waits for the node's tasks to stop; only then is the server deleted.
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { SSH_KEY_ALGORITHM } from "../src/plan/cloud-init";
import { remoteCommandLine } from "../src/plan/host";
import type { ClusterDeploy, SwarmStep } from "../src/plan/swarm";
import { watchdogPayload } from "../src/plan/watchdog";
import { Host, readScript } from "./host";
import { hetznerServer } from "./server";

type Login = Pick<command.types.input.remote.ConnectionArgs, "host" | "privateKey" | "hostKey"> &
  Partial<command.types.input.remote.ConnectionArgs>;

/** What the network part needs: the plan, the core server and the stack's deploy key. */
export interface ClusterNetworkArgs {
  plan: ClusterDeploy;
  /** The core node's server (stages 1-3's server, unchanged). */
  coreServer: hcloud.Server;
  /** The stack's deploy key on Hetzner: the worker servers' root login. */
  deployKeyId: pulumi.Input<string>;
}

export interface ClusterArgs extends ClusterNetworkArgs {
  /** The core node's login, as its host steps use it. */
  coreLogin: Login;
  /**
   * The core node's Swarm firewall step (the manager starts listening only after it) and its Docker
   * step (which turns live-restore off on a 3 → 4 move: Swarm mode refuses it).
   */
  coreReady: pulumi.Resource[];
  /** The private half of the deploy key, for the worker nodes' logins. */
  deployPrivateKey: pulumi.Input<string>;
  /**
   * The worker nodes' watchdog secrets file (src/plan/watchdog.ts watchdogSecretsFile): the alert
   * channels as on the core node, without the heartbeat URL (src/plan/host.ts HostPlan.watchdog).
   */
  workerWatchdogSecrets: pulumi.Input<string>;
}

export interface WorkerServer {
  server: hcloud.Server;
  /** Its pinned host key (the public half, trimmed). */
  hostPublicKey: pulumi.Output<string>;
}

export interface ClusterNetwork {
  network: hcloud.Network;
  subnet: hcloud.NetworkSubnet;
  coreAttachment: hcloud.ServerNetwork;
  workerFirewall: hcloud.Firewall;
  /** By the plan's key (`worker-<n>`), in the plan's order. */
  workers: Record<string, WorkerServer>;
}

/**
 * Stage 4's Hetzner resources: the private network and subnet, the core server's attachment, the
 * worker nodes' firewall, and each worker node's server with its host key, attached at creation.
 * A function rather than a component, so the resources keep their names and parent in Cluster;
 * the VM lab declares it alone to run it through the real engine and provider (test/lab/network.ts).
 */
export function declareClusterNetwork(
  name: string,
  args: ClusterNetworkArgs,
  parent: pulumi.Resource,
): ClusterNetwork {
  const { plan } = args;
  const network = new hcloud.Network(
    `${name}-network`,
    { name: plan.network.name, ipRange: plan.network.ipRange, labels: plan.network.labels },
    { parent },
  );
  const networkId = network.id.apply(Number);
  const subnet = new hcloud.NetworkSubnet(
    `${name}-subnet`,
    {
      networkId,
      type: plan.subnet.type,
      networkZone: plan.subnet.networkZone,
      ipRange: plan.subnet.ipRange,
    },
    // Its inputs are constants; should the network be replaced, the same range cannot exist twice.
    { parent, deleteBeforeReplace: true },
  );
  // A resource of its own, so the core server's inputs stay stage 3's (src/plan/swarm.ts).
  // Replaced delete-first, as the SSH key is (components/server.ts): a create-first replacement
  // would attach the server to the same network a second time, or take an address still in use.
  const coreAttachment = new hcloud.ServerNetwork(
    `${name}-core-network`,
    { serverId: args.coreServer.id.apply(Number), subnetId: subnet.id, ip: plan.core.privateIp },
    { parent, deleteBeforeReplace: true },
  );
  const workerFirewall = new hcloud.Firewall(
    `${name}-workers-firewall`,
    {
      name: plan.workerFirewall.name,
      labels: plan.workerFirewall.labels,
      rules: plan.workerFirewall.rules,
    },
    { parent },
  );
  const workers: Record<string, WorkerServer> = {};
  for (const w of plan.workers) {
    const hostKey = new tls.PrivateKey(
      `${name}-${w.key}-host-key`,
      { algorithm: SSH_KEY_ALGORITHM },
      { parent },
    );
    const hostPublicKey = hostKey.publicKeyOpenssh.apply((k) => k.trim());
    const server = hetznerServer(`${name}-${w.key}`, w.server, {
      sshKeyId: args.deployKeyId,
      firewallId: workerFirewall.id,
      hostPrivateKey: hostKey.privateKeyOpenssh,
      hostPublicKey,
      // Attached at creation with its fixed address (the provider attaches right after create).
      networks: [{ networkId, ip: w.privateIp }],
      // The provider's documented order: the subnet must exist before a server attaches to it.
      opts: { parent, dependsOn: [subnet] },
    });
    workers[w.key] = { server, hostPublicKey };
  }
  return { network, subnet, coreAttachment, workerFirewall, workers };
}

export class Cluster extends pulumi.ComponentResource {
  readonly network: hcloud.Network;
  readonly subnet: hcloud.NetworkSubnet;
  readonly workers: Record<string, hcloud.Server> = {};
  /** The Swarm steps on the core node after every join (admit): the Swarm is formed. */
  readonly formed: command.remote.Command;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:Cluster", name, {}, opts);
    const { plan } = args;
    const parent = { parent: this };
    const net = declareClusterNetwork(name, args, this);
    this.network = net.network;
    this.subnet = net.subnet;

    // No triggers: a changed script or argument changes stdin or create, which
    // pulumi-command runs again as an update (remote/commandController.go:63-83); only `triggers`
    // replaces (remote/command.go:42), and a replaced drain would run its delete on a live node.
    const step = (s: SwarmStep, stdin: pulumi.Input<string>) => ({
      create: remoteCommandLine(s.args),
      stdin,
      addPreviousOutputInEnv: false,
    });

    // The worker nodes' host steps; the Swarm's init waits for their servers (below).
    const nodes = plan.workers.map((w) => {
      const { server, hostPublicKey } = net.workers[w.key]!;
      this.workers[w.key] = server;
      const login: Login = {
        host: server.ipv4Address,
        privateKey: args.deployPrivateKey,
        hostKey: hostPublicKey,
        ...w.host.connection,
      };
      const env = w.host.watchdog.env;
      const watchdog = pulumi
        .secret(args.workerWatchdogSecrets)
        .apply((secrets) => watchdogPayload(readScript("watchdog.sh"), env, secrets));
      const host = new Host(
        `${name}-${w.key}-host`,
        { plan: w.host, connection: login, server, payloads: { watchdog } },
        parent,
      );
      return { w, server, login, host };
    });

    // The init prints the current join token. Its stdin ends with a comment naming the worker
    // servers, so any new worker server runs it again (an update): a server replaced at the same
    // address would otherwise join with the token the last admit rotated away.
    const serverIds = pulumi.all(nodes.map((n) => n.server.id)).apply((ids) => ids.join(" "));
    const init = new command.remote.Command(
      `${name}-swarm-init`,
      {
        connection: args.coreLogin,
        ...step(
          plan.swarm.init,
          pulumi.interpolate`${readScript(plan.swarm.init.script)}# worker servers: ${serverIds}\n`,
        ),
        // stdout is the token: kept out of the logs.
        logging: "stderr",
      },
      {
        parent: this,
        dependsOn: [net.coreAttachment, ...args.coreReady],
        additionalSecretOutputs: ["stdout"],
      },
    );
    const token = pulumi.secret(init.stdout);

    const joins: command.remote.Command[] = [];
    for (const { w, server, login, host } of nodes) {
      const join = w.join;
      const joined = new command.remote.Command(
        `${name}-${w.key}-swarm-join`,
        {
          connection: login,
          ...step(join, pulumi.secret(pulumi.interpolate`${readScript(join.script)}${token}\n`)),
          logging: "stdoutAndStderr",
        },
        {
          parent: this,
          dependsOn: [init, ...Object.values(host.steps)],
          additionalSecretOutputs: ["stdin"],
        },
      );
      joins.push(joined);
      const drain = w.drain;
      new command.remote.Command(
        `${name}-${w.key}-swarm-drain`,
        {
          connection: args.coreLogin,
          create: "true",
          delete: remoteCommandLine(drain.args),
          stdin: readScript(drain.script),
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [joined, server] },
      );
    }

    this.formed = new command.remote.Command(
      `${name}-swarm-admit`,
      {
        connection: args.coreLogin,
        ...step(plan.swarm.admit, readScript(plan.swarm.admit.script)),
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [init, ...joins] },
    );
    this.registerOutputs({});
  }
}
