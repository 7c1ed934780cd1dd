// components/cluster.ts under mocks, from the plan makePlan makes for a stage-4 stack (bundled
// catalog): what it registers (network, subnet, the core's attachment, every worker node), that no
// firewall rule opens a Swarm port to the internet, that the join token reaches the joins on stdin
// only, that a stage 3 → 4 move changes no replace-forcing input of the core server, and that
// workerNodes 2 → 3 only adds.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Cluster } from "../../components/cluster";
import { readScript } from "../../components/host";
import { Server } from "../../components/server";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan, type Plan } from "../../src/plan/plan";
import { cfg } from "../plan/fixtures";
import { MOCK_JOIN_TOKEN, recordComponents, type Recorded } from "../support/mocks";

const catalog = snapshotCatalog();
const plan = (raw: Record<string, unknown>) => makePlan(cfg(raw, "prod"), catalog);

/** The stack's server (stages 1-3's Server component) and, on stage 4, the cluster around it. */
function declare(p: Plan) {
  const server = new Server("server", {
    plan: p.hetzner!,
    deployPublicKey: "ssh-ed25519 DEPLOYPUB",
    hostPrivateKey: pulumi.secret("HOSTPRIV"),
    hostPublicKey: "ssh-ed25519 HOSTPUB",
  });
  if (!p.clusterDeploy) return;
  const coreReady = new pulumi.ComponentResource("test:index:Thing", "core-swarm-firewall");
  new Cluster("cluster", {
    plan: p.clusterDeploy,
    coreServer: server.server,
    coreLogin: { host: server.ipv4, privateKey: pulumi.secret("DEPLOYPRIV"), hostKey: "ssh-ed25519 HOSTPUB" },
    coreReady: [coreReady],
    deployKeyId: server.deployKey.id,
    deployPrivateKey: pulumi.secret("DEPLOYPRIV"),
    workerWatchdogSecrets: pulumi.secret("WEBHOOK_URL=https://hooks.example/alert\n"),
  });
}

const record = (raw: Record<string, unknown>) => recordComponents(() => declare(plan(raw)));
const SWARM_TCP = ["2377", "7946"];

describe("stage 4: the cluster's resources", () => {
  it("registers the network, its subnet in the location's zone, the core's attachment and every worker node", async () => {
    const rec = await record({ stage: 4, workerNodes: 2, location: "hel1" });
    expect(rec.one("hcloud:index/network:Network", "cluster-network").inputs).toMatchObject({
      name: "app-infra-prod",
      ipRange: "10.0.0.0/16",
    });
    expect(rec.one("hcloud:index/networkSubnet:NetworkSubnet", "cluster-subnet").inputs).toMatchObject({
      type: "cloud",
      networkZone: "eu-central",
      ipRange: "10.0.1.0/24",
      networkId: expect.any(Number),
    });
    expect(rec.one("hcloud:index/serverNetwork:ServerNetwork", "cluster-core-network").inputs).toMatchObject({
      ip: "10.0.1.2",
      subnetId: "cluster-subnet-id",
    });
    const servers = rec.byType("hcloud:index/server:Server");
    expect(servers.map((s) => [s.name, s.inputs.name, s.inputs.serverType])).toEqual([
      ["server-vm", "app-infra-prod", "cx33"],
      ["cluster-worker-1", "app-infra-prod-worker-1", "cx23"],
      ["cluster-worker-2", "app-infra-prod-worker-2", "cx23"],
    ]);
    // Worker nodes attach at creation with their fixed addresses, and log in with the stack's key.
    expect(servers.slice(1).map((s) => s.inputs.networks)).toEqual([
      [{ networkId: expect.any(Number), ip: "10.0.1.11" }],
      [{ networkId: expect.any(Number), ip: "10.0.1.12" }],
    ]);
    expect(servers[1]!.inputs.sshKeys).toEqual(["server-deploy-key-id"]);
    expect(servers[1]!.inputs.labels).toMatchObject({ app: "app-infra", stack: "prod", role: "worker" });
    // Replaced delete-first (a second attachment of the same server, or the same range twice, fails);
    // worker servers wait for the subnet, as the provider's documentation asks.
    expect(rec.options["cluster-core-network"]?.deleteBeforeReplace).toBe(true);
    expect(rec.options["cluster-subnet"]?.deleteBeforeReplace).toBe(true);
    expect(rec.options["cluster-worker-1"]?.dependsOn).toContain("cluster-subnet");
    expect(rec.options["cluster-worker-1"]?.ignoreChanges).toEqual(["userData", "sshKeys"]);
    // The Swarm's token output is secret.
    expect(rec.options["cluster-swarm-init"]?.additionalSecretOutputs).toContain("stdout");
    // Each worker node's own host key, pinned by its logins.
    expect(rec.byType("tls:index/privateKey:PrivateKey").map((k) => k.name)).toEqual([
      "cluster-worker-1-host-key",
      "cluster-worker-2-host-key",
    ]);
  });

  it("every node runs the Swarm firewall step; a worker node's host steps are the core's first four, the watchdog and it", async () => {
    const rec = await record({ stage: 4, workerNodes: 1 });
    const steps = rec.byType("command:remote:Command").map((c) => c.name);
    const worker = steps.filter((n) => n.startsWith("cluster-worker-1-") && !/-swarm-(join|drain)$/.test(n));
    // Registration order is not declaration order under mocks: compared as sets.
    expect(worker.sort()).toEqual([
      "cluster-worker-1-host-admin-keys",
      "cluster-worker-1-host-docker",
      "cluster-worker-1-host-ready",
      "cluster-worker-1-host-swap",
      "cluster-worker-1-host-swarm-firewall",
      "cluster-worker-1-host-watchdog",
    ]);
    expect(rec.one("command:remote:Command", "cluster-worker-1-host-swarm-firewall").inputs.create).toBe(
      "bash -s -- 10.0.1.0/24",
    );
    expect(plan({ stage: 4 }).host!.steps.map((s) => s.name)).toContain("swarm-firewall");
    expect(plan({ stage: 3 }).host!.steps.map((s) => s.name)).not.toContain("swarm-firewall");
  });

  it("no firewall rule opens a Swarm port (2377, 7946, 4789) or ESP to anyone", async () => {
    const rec = await record({ stage: 4, workerNodes: 3, services: { api: { public: true } } });
    const rules = rec.byType("hcloud:index/firewall:Firewall").flatMap((f) => f.inputs.rules as any[]);
    expect(rec.byType("hcloud:index/firewall:Firewall").map((f) => f.name)).toEqual([
      "server-firewall",
      "cluster-workers-firewall",
    ]);
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      expect(["tcp", "icmp"]).toContain(r.protocol);
      if (r.protocol === "tcp") expect(SWARM_TCP).not.toContain(r.port);
      expect(r.port === undefined || !/-/.test(r.port), `a port range may cover Swarm's: ${r.port}`).toBe(
        true,
      );
    }
    // The worker nodes serve nothing publicly: SSH from adminCidrs and ping.
    const workerRules = rec.one("hcloud:index/firewall:Firewall", "cluster-workers-firewall").inputs
      .rules as any[];
    expect(workerRules.map((r) => [r.protocol, r.port ?? null])).toEqual([
      ["tcp", "22"],
      ["icmp", null],
    ]);
  });

  it("the join token reaches each join on stdin only: in no command line, secret wherever it is", async () => {
    const rec = await record({ stage: 4, workerNodes: 2 });
    const init = rec.one("command:remote:Command", "cluster-swarm-init");
    expect(init.inputs.create).toBe("bash -s -- 10.0.1.2 10.128.0.0/16 24 10.0.1.11 10.0.1.12");
    expect(init.inputs.logging).toBe("stderr");
    const joins = rec.byType("command:remote:Command").filter((c) => c.name.endsWith("-swarm-join"));
    expect(joins.map((j) => [j.name, j.inputs.create])).toEqual([
      ["cluster-worker-1-swarm-join", "bash -s -- 10.0.1.2 10.0.1.11"],
      ["cluster-worker-2-swarm-join", "bash -s -- 10.0.1.2 10.0.1.12"],
    ]);
    for (const j of joins) {
      expect(j.inputs.stdin).toBe(`${readScript("swarm-join.sh")}${MOCK_JOIN_TOKEN}\n`);
      expect(j.secretInputs).toContain("stdin");
    }
    // Nowhere but those stdins: not in a command line, a trigger, an environment or a label.
    const leaks = (r: Recorded) =>
      Object.entries(r.inputs).filter(
        ([k, v]) =>
          !(k === "stdin" && r.name.endsWith("-swarm-join")) && JSON.stringify(v ?? null).includes("SWMTKN"),
      );
    expect(rec.resources.flatMap((r) => leaks(r).map(([k]) => `${r.name}.${k}`))).toEqual([]);
  });

  it("a new or replaced worker server runs the init again, so its join gets the current token", async () => {
    const rec = await record({ stage: 4, workerNodes: 2 });
    const init = rec.one("command:remote:Command", "cluster-swarm-init");
    // The script, then a comment naming the worker servers (bash ignores it; a change is an update).
    expect(init.inputs.stdin).toBe(
      `${readScript("swarm-init.sh")}# worker servers: cluster-worker-1-id cluster-worker-2-id\n`,
    );
    expect(readScript("swarm-init.sh").trimEnd().split("\n").at(-1)).toBe('main "$@"');
    expect(rec.options["cluster-swarm-init"]?.dependsOn).toContain("cluster-core-network");
  });

  it("after every join, the core admits the worker nodes (which rotates the token); each node has a drain on delete", async () => {
    const rec = await record({ stage: 4, workerNodes: 2 });
    const admit = rec.one("command:remote:Command", "cluster-swarm-admit");
    expect(admit.inputs.create).toBe("bash -s -- admit 300 10.0.1.11 10.0.1.12");
    expect(admit.inputs.stdin).toBe(readScript("swarm-node.sh"));
    const drain = rec.one("command:remote:Command", "cluster-worker-2-swarm-drain");
    // On the core node (its address), with the workers' stop grace period plus a margin.
    expect(drain.inputs.connection).toMatchObject({ host: "203.0.113.10" });
    expect(drain.inputs.delete).toBe("bash -s -- drain 180 10.0.1.12");
    expect(drain.inputs.create).toBe("true");
    // No triggers: a replaced drain would run its delete on a live node.
    for (const c of rec
      .byType("command:remote:Command")
      .filter((x) => x.name.includes("swarm-") && !x.name.endsWith("swarm-firewall")))
      expect(c.inputs.triggers, c.name).toBeUndefined();
  });
});

describe("stage 4: a watchdog on every node", () => {
  it("each worker node installs its own watchdog: its name and tasks, no Redis, API, backup or heartbeat", async () => {
    const backup = { enabled: true, repository: "s3:https://s3.example.org/bucket/redis" };
    const p = plan({ stage: 4, workerNodes: 2, backup, alerts: { telegramChatId: "-100" } });
    const rec = await recordComponents(() => declare(p));
    const step = rec.one("command:remote:Command", "cluster-worker-2-host-watchdog");
    const env = p.clusterDeploy!.workers[1]!.host.watchdog.env;
    // After the script, the payload: the node's own thresholds file and the secrets given, as a secret.
    expect(step.secretInputs).toContain("stdin");
    const stdin = String(step.inputs.stdin);
    expect(stdin.startsWith(readScript("install-watchdog.sh"))).toBe(true);
    const payload = Object.fromEntries(
      stdin
        .slice(readScript("install-watchdog.sh").length)
        .trim()
        .split("\n")
        .map((l) => [
          l.slice(0, l.indexOf("=")),
          Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString(),
        ]),
    );
    expect(payload.WATCHDOG_ENV_B64).toBe(env);
    expect(payload.WATCHDOG_SECRETS_B64).toBe("WEBHOOK_URL=https://hooks.example/alert\n");
    expect(payload.WATCHDOG_SCRIPT_B64).toBe(readScript("watchdog.sh"));
    expect(env).toContain("NODE_NAME='worker-2'\n");
    expect(env).toContain("TASKS='worker-image=worker:2'\n");
    expect(env).toContain("SWARM_NODES='0'\n");
    for (const off of ["REDIS_CLI=''", "API_HEALTH_URL=''", "BACKUP_MAX_AGE_H='0'", "CONTAINERS=''"])
      expect(env).toContain(`${off}\n`);
    expect(env).toMatch(/^SCALE_UP_MEMORY='raise workerNode\/memoryGb /m);
    expect(p.clusterDeploy!.workers[1]!.host.watchdog).toMatchObject({
      heartbeat: false,
      sendBotToken: true,
    });
  });

  it("the core node's watchdog watches its own tasks, Redis through its task, and the swarm's nodes", () => {
    const p = plan({ stage: 4, workerNodes: 2 });
    const env = p.host!.watchdog.env;
    expect(env).toContain("NODE_NAME='core'\n");
    expect(env).toContain("TASKS='redis=redis:1 proxy=proxy:1 api=api:1 bot=bot:1'\n");
    expect(env).toContain("SWARM_NODES='3'\n");
    expect(env).toContain("REDIS_CLI='docker exec -i @redis redis-cli'\n");
    // The queue alert's advice adds a worker node.
    expect(env).toContain("WORKERS='2'\n");
    expect(env).toContain("WORKERS_KEY='workerNodes'\n");
    expect(p.host!.watchdog.heartbeat).toBe(true);
  });

  it("stages 1-3 write none of stage 4's keys", () => {
    for (const stage of [1, 2, 3]) {
      const env = plan({ stage }).host!.watchdog.env;
      for (const key of ["NODE_NAME", "TASKS", "SWARM_NODES", "WORKERS_KEY", "REDIS_CLI"])
        expect(env, `stage ${stage}`).not.toMatch(new RegExp(`^${key}=`, "m"));
    }
  });
});

describe("moving between stages and node counts", () => {
  it("stage 3 → 4 changes no input of the core server, so nothing that replaces it", async () => {
    const three = await record({ stage: 3 });
    const four = await record({ stage: 4, workerNodes: 2 });
    const core3 = three.one("hcloud:index/server:Server", "server-vm").inputs;
    const core4 = four.one("hcloud:index/server:Server", "server-vm").inputs;
    expect(core4).toEqual(core3);
    // Not `networks`: the core attaches through a resource of its own.
    expect(core4.networks).toBeUndefined();
  });

  it("workerNodes 2 → 3 only adds: every resource of 2 is still there with the same type, name and parent", async () => {
    const two = await record({ stage: 4, workerNodes: 2 });
    const three = await record({ stage: 4, workerNodes: 3 });
    const key = (r: Recorded) => `${r.type}::${r.name}`;
    const after = new Map(three.resources.map((r) => [key(r), r]));
    for (const r of two.resources) expect(after.has(key(r)), key(r)).toBe(true);
    const added = three.resources
      .filter((r) => !two.resources.some((x) => key(x) === key(r)))
      .map((r) => r.name);
    expect(
      added.every((n) => n.startsWith("cluster-worker-3")),
      added.join(", "),
    ).toBe(true);
    expect(added).toContain("cluster-worker-3");
    // Worker nodes 1 and 2 and the core are unchanged; the Swarm's init and admit see the new address
    // (an update: a changed command line is run again, never a replacement).
    const changed = two.resources
      .filter((r) => JSON.stringify(after.get(key(r))!.inputs) !== JSON.stringify(r.inputs))
      .map((r) => r.name);
    expect(changed).toEqual(["cluster-swarm-init", "cluster-swarm-admit"]);
  });
});
