// Stage 4's Swarm services through the real engine and the real docker plugin, on a real Swarm: two
// dockerds in network namespaces of their own (test/real/support/swarm-nodes.ts), a core node and
// a worker node at the plan's private addresses, joined by the program's scripts (swarm-init.sh,
// swarm-join.sh, swarm-node.sh admit). The program is test/lab/programs/swarm-services.ts:
// components/swarm.ts SwarmApp with stage 4's plan, on the manager's socket. It checks what the
// mocks cannot: what the provider makes of our inputs and what a change does.
//   up: the overlay and the services, converged; the gate after the proxy and the API, and
//   kamal-proxy routing the core node's port 80 to the API service over the overlay; each service
//   as the plan says (placement, limits, grace period, update order, endpoint mode, mounts, the
//   proxy's host-mode ports, the overlay's MTU); the worker node's workers process jobs, reaching
//   Redis by its name; the secret reaches the workers' environment and stays secret in the state;
//   a refresh finds no drift; an image bump updates the worker service in place (a Swarm rolling
//   update, the same service), the diff naming the image and hiding the secret; workersPerNode
//   2 → 1 scales it in place; a change that would replace the overlay fails before anything is
//   deleted, the jobs carrying on; a replaced worker service runs its stop step first (the job in
//   flight finishes); the way back's targeted destroy (SERVICES_TARGET) runs the stop step (the
//   job in flight finishes, the waiting one stays) and removes the services and nothing else;
//   destroy leaves Redis' volume with the queue.
// The move from one box comes first: the one box's Redis (with a key) and a worker container run on
// the core node before the first `up`, whose retire step removes them before any service starts.
// The Commands (retire, stop, gate) run through the command provider over SSH, to lab-sshd (built with
// the engine: tools/engine/lab-sshd), whose commands reach the manager's engine.
// Run alone: `tsx test/lab/swarm-services.ts` (LAB_ENGINE_BIN = a built bin dir, else tools/engine
// builds); the VM lab runs it as a phase. Needs what test/real/swarm.test.ts needs.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScript } from "../../components/host";
import { parseConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { ROLE_LABEL, STACK_LABEL } from "../../src/plan/names";
import { REDIS_VOLUME } from "../../src/plan/services";
import { SERVICES_TARGET } from "../../src/plan/swarm";
import { CORE_CONSTRAINT, WORKER_CONSTRAINT } from "../../src/plan/swarm-services";
import { run, runOk } from "../real/support/docker";
import { NETNS_PREAMBLE } from "../real/support/netns";
import {
  kernelHasEsp,
  kernelHasIpvs,
  saveSwarmImages,
  SWARM_NODE_FUNCS,
  swarmNodesEnv,
} from "../real/support/swarm-nodes";
import { CheckFailed, runAlone } from "./alone";
import { kamalProxyBinary } from "./edge";
import { Pulumi } from "./engine";
import { Results } from "./results";
import { log } from "./vm";

const STACK = "swarm";
const PROGRAM = join(__dirname, "programs", "swarm-services.ts");
const OP_TIMEOUT_S = 300;
/** The secret the workers get (FAL_KEY): a marker to look for in diffs and state. */
const FAL_KEY = "lab-fal-key-4c1d";
/** Jobs of the reference app (examples/reference-app/app/jobs.py): held for HOLD_S at destroy. */
const HOLD_S = 8;

const plan = (workersPerNode: number) => {
  const p = makePlan(parseConfig(STACK, { stage: 4, workerNodes: 1, workersPerNode }), snapshotCatalog());
  if (p.errors.length > 0) throw new Error(p.errors.join("\n"));
  return p;
};

const SCRIPT =
  NETNS_PREAMBLE +
  SWARM_NODE_FUNCS +
  String.raw`
node core "$CORE_IP" "$CORE_NAME"
node w1 "$WORKER_IP" "$WORKER_NAME"
for n in core w1; do
  for _ in $(seq 240); do on "$n" docker info >/dev/null 2>&1 && break; sleep 0.5; done
  on "$n" docker load -q -i "$D/images.tar" >/dev/null
done
token=$(on core bash -s -- $INIT_ARGS <"$D/swarm-init.sh" 2>>"$D/steps.log")
{ cat "$D/swarm-join.sh"; echo "$token"; } | on w1 bash -s -- $JOIN_ARGS >>"$D/steps.log" 2>&1
on core bash -s -- $ADMIT_ARGS <"$D/swarm-node.sh" >>"$D/steps.log" 2>&1
echo ready
# Until the lab closes stdin: then this shell, the PID namespace's first process, ends, and with it
# every daemon and container it started.
read -r _ || true
`;

/** Starts the two nodes; resolves once the Swarm is formed, with the process to close. */
function startNodes(env: NodeJS.ProcessEnv): Promise<ChildProcessWithoutNullStreams> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      "unshare",
      ["--pid", "--fork", "--mount-proc", "--net", "--mount", "bash", "-c", SCRIPT],
      {
        env,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      p.stdin.end();
      reject(new Error(`the Swarm's nodes were not ready after 300 s: ${err.slice(-1500)}`));
    }, 300_000);
    p.stdout.on("data", (d) => {
      out += String(d);
      if (out.includes("ready\n")) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.stderr.on("data", (d) => (err += String(d)));
    p.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`the Swarm's nodes ended (exit ${code}): ${err.slice(-1500)}`));
    });
  });
}

/**
 * Starts lab-sshd on loopback with throwaway keys in `dir`, its commands pointed at `dockerHost`;
 * resolves with its address, its host key and the login key, and the process (ended by closing
 * its stdin).
 */
async function startSshd(bin: string, dir: string, dockerHost: string) {
  for (const k of ["host", "login"])
    await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `lab-${k}`, "-f", join(dir, k)]);
  const p = spawn(
    join(bin, "lab-sshd"),
    [
      ...["-host-key", join(dir, "host"), "-authorized-key", join(dir, "login.pub")],
      ...["-env", `DOCKER_HOST=${dockerHost}`, "-env", "SWARM_POLL_S=0.5"],
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let out = "";
    p.stdout.on("data", (d) => {
      out += String(d);
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    p.on("error", reject);
    p.on("close", (code) => reject(new Error(`lab-sshd ended (exit ${code}) before it listened`)));
  });
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    address.slice(address.lastIndexOf(":") + 1),
  ];
  return {
    process: p as ChildProcess,
    host,
    port: Number(port),
    hostKey: readFileSync(join(dir, "host.pub"), "utf8").trim(),
    loginKey: readFileSync(join(dir, "login"), "utf8"),
  };
}

/** JSON with each object's keys sorted: Docker returns maps in its own order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x,
  );

/** `want` against `got` by field: the fields that differ, as text (empty when all agree). */
function differences(want: Record<string, unknown>, got: Record<string, unknown>): string {
  return Object.keys(want)
    .filter((k) => canonical(want[k]) !== canonical(got[k]))
    .map((k) => `${k}: want ${JSON.stringify(want[k])}, got ${JSON.stringify(got[k])}`)
    .join("; ");
}

/**
 * Runs the checks above into `r`. Never throws: a failed check ends the run (the later ones depend
 * on it), and any other failure (the engine, the nodes) is recorded as a failed check too.
 */
export async function swarmServices(r: Results, bin: string, tmp: string): Promise<void> {
  // The nodes' sockets live here: a short path (a Unix socket's path has 108 bytes at most).
  const D = mkdtempSync(join(tmpdir(), "ai-swarm-"));
  let nodes: ChildProcessWithoutNullStreams | undefined;
  let sshd: ChildProcess | undefined;
  try {
    const p2 = plan(2);
    const deploy = p2.clusterDeploy!;
    const worker = deploy.workers[0]!;
    for (const f of ["swarm-firewall.sh", "swarm-init.sh", "swarm-join.sh", "swarm-node.sh"])
      writeFileSync(join(D, f), readScript(f));
    const ipvs = kernelHasIpvs();
    const [images, esp] = await Promise.all([
      saveSwarmImages(D, 1, { kamalProxy: kamalProxyBinary() }),
      kernelHasEsp(),
    ]);
    nodes = await startNodes({ ...process.env, ...swarmNodesEnv(p2, D) });
    const manager = `unix://${D}/core/docker.sock`;
    const login = await startSshd(bin, D, manager);
    sshd = login.process;
    const on = (node: "core" | "w1", a: string[]) =>
      runOk("docker", ["-H", `unix://${D}/${node}/docker.sock`, ...a], { timeoutMs: 60_000 }).then((x) =>
        x.stdout.trim(),
      );
    const inspect = async (kind: "service" | "network", name: string) =>
      JSON.parse(await on("core", [kind, "inspect", name]))[0];
    const runningOn = async (service: string) =>
      (
        await on("core", [
          "service",
          "ps",
          service,
          "--filter",
          "desired-state=running",
          "--format",
          "{{.Node}} {{.CurrentState}}",
        ])
      )
        .split("\n")
        .filter((l) => l.includes(" Running"))
        .map((l) => l.split(" ")[0]);
    const task = async (node: "core" | "w1", service: string) =>
      (await on(node, ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`])).split(
        "\n",
      )[0] ?? "";
    const redisCli = async (...a: string[]) =>
      on("core", ["exec", await task("core", "redis"), "redis-cli", ...a]);
    const until = async (what: string, f: () => Promise<boolean>, timeoutS: number) => {
      const end = Date.now() + timeoutS * 1000;
      while (Date.now() < end) {
        if (await f().catch(() => false)) return true;
        await new Promise((res) => setTimeout(res, 500));
      }
      log(`swarm services: ${what}: not within ${timeoutS} s`);
      return false;
    };

    const pulumi = Pulumi.labProgram({ bin, passphrase: "lab-swarm", stack: STACK }, tmp, PROGRAM);
    await pulumi.initStack(
      {
        "app-infra:stage": 4,
        "app-infra:workerNodes": 1,
        "app-infra:dockerHost": manager,
        "app-infra:workersPerNode": 2,
        "app-infra:redisImage": images.redis,
        "app-infra:appImage": images.app,
        "app-infra:apiImage": images.app,
        "app-infra:proxyImage": images.proxy!,
        "app-infra:encrypted": esp,
        "app-infra:apiVip": ipvs,
        "app-infra:serverId": "core-1",
        "app-infra:workerGeneration": "1",
        "app-infra:sshHost": login.host,
        "app-infra:sshPort": login.port,
        "app-infra:sshHostKey": login.hostKey,
      },
      { "app-infra:falKey": FAL_KEY, "app-infra:sshKey": login.loginKey },
    );
    const op = (step: string, a: string[]) => pulumi.op(r, `swarm services: ${step}`, a, OP_TIMEOUT_S);
    const ok = (name: string, cond: boolean, detail: string) => {
      if (!r.check(`swarm services: ${name}`, cond, detail)) throw new CheckFailed(name);
    };
    const services = Object.fromEntries(deploy.services.services.map((s) => [s.name, s]));
    const w = services["worker-image"]!;
    const redis = services["redis"]!;

    // The one box before the move: its Redis on the volume the service will mount, holding a key,
    // and a worker; both with the labels and grace period the one box's containers have.
    const oneBox = (role: string, name: string, a: string[]) =>
      on("core", [
        ...[
          "run",
          "-d",
          "--name",
          name,
          "--label",
          `${STACK_LABEL}=${STACK}`,
          "--label",
          `${ROLE_LABEL}=${role}`,
        ],
        ...a,
      ]);
    await oneBox("redis", "one-box-redis", [
      ...["--stop-timeout", String(redis.stopGracePeriodS), "-v", `${REDIS_VOLUME}:/data`],
      images.redis,
      ...redis.command!,
    ]);
    await oneBox("worker", "one-box-worker", ["--stop-timeout", "10", images.redis, "sleep", "600"]);
    const oneBoxCli = (...a: string[]) => on("core", ["exec", "one-box-redis", "redis-cli", ...a]);
    await until("the one box's Redis", async () => (await oneBoxCli("ping")) === "PONG", 30);
    await oneBoxCli("set", "app:moved", "from-one-box");

    const up = await op("up", ["up", "--yes", "--skip-preview"]);
    const workersRunning = async (n: number) =>
      (await runningOn("worker-image")).length === n && (await runningOn("redis")).length === 1;
    const coreRunning = async () =>
      (await runningOn("proxy")).length === 1 && (await runningOn("api")).length === 1;
    ok(
      "up creates the overlay and the services, and they converge",
      up.ok &&
        (await until("tasks running", async () => (await workersRunning(w.replicas)) && coreRunning(), 60)),
      `${JSON.stringify(up.changes)} ${up.error ?? ""} ${await on("core", ["service", "ls"]).catch(String)}`,
    );
    const at = (o: { stepOrder: { op: string; name: string }[] }, opName: string, name: string) =>
      o.stepOrder.findIndex((x) => x.op === opName && x.name === name);
    const oneBoxLeft = await on("core", ["ps", "-a", "--filter", `name=one-box-`, "--format", "{{.Names}}"]);
    const moved = await redisCli("get", "app:moved").catch(String);
    ok(
      "the move from one box: the retire step removes its containers before any service starts, and Redis' service has its data",
      at(up, "create", "swarm-retire") >= 0 &&
        at(up, "create", "swarm-retire") < at(up, "create", "swarm-redis") &&
        oneBoxLeft === "" &&
        moved === "from-one-box",
      `order ${JSON.stringify(up.stepOrder.map((x) => `${x.op} ${x.name}`))}; one-box containers left ${JSON.stringify(oneBoxLeft)}; app:moved ${moved}`,
    );

    // The edge proxy as users meet it: the core node's port 80 (published in host mode), asked
    // from the worker node over the private network. kamal-proxy answers 404 while it has no
    // route (kamal-proxy v0.9.2 internal/server/router.go:93-97); the gate gave it one, to the API
    // service by its name over the overlay.
    const throughProxy = () =>
      on("w1", [
        ...["run", "--rm", "--network", "host", images.app],
        ...["curl", "-sS", "-m", "10", "-w", "\n%{http_code}", `http://${deploy.core.privateIp}/health`],
      ]).catch((e: unknown) => String(e));
    const routed = await throughProxy();
    ok(
      "the gate runs after the proxy and the API services, and kamal-proxy routes to the API service over the overlay",
      at(up, "create", "swarm-gate") >
        Math.max(at(up, "create", "swarm-proxy"), at(up, "create", "swarm-api")) &&
        at(up, "create", "swarm-proxy") >= 0 &&
        at(up, "create", "swarm-api") >= 0 &&
        routed.endsWith("\n200"),
      `order ${JSON.stringify(up.stepOrder.map((x) => `${x.op} ${x.name}`))}; GET http://${deploy.core.privateIp}/health from the worker node: ${JSON.stringify(routed.slice(-300))}; the API service's endpoint: ${ipvs ? "vip, as planned" : "dnsrr (this kernel has no IPVS)"}`,
    );

    const ws = await inspect("service", "worker-image");
    const rs = await inspect("service", "redis");
    const proxySvc = await inspect("service", "proxy");
    const apiSvc = await inspect("service", "api");
    const proxy = services["proxy"]!;
    const api = services["api"]!;
    const net = await inspect("network", deploy.services.network.name);
    const MB = 1024 * 1024;
    const mismatch = [
      differences(
        {
          constraints: [WORKER_CONSTRAINT],
          maxReplicas: w.maxReplicasPerNode,
          replicas: w.replicas,
          limit: w.memoryLimitMb * MB,
          reservation: w.memoryReservationMb * MB,
          grace: w.stopGracePeriodS * 1e9,
          args: w.command,
          order: w.updateOrder,
          failureAction: "rollback",
          labels: w.containerLabels,
          nodes: Array(w.replicas).fill(worker.server.name),
        },
        {
          constraints: ws.Spec.TaskTemplate.Placement.Constraints,
          maxReplicas: ws.Spec.TaskTemplate.Placement.MaxReplicas,
          replicas: ws.Spec.Mode.Replicated.Replicas,
          limit: ws.Spec.TaskTemplate.Resources.Limits.MemoryBytes,
          reservation: ws.Spec.TaskTemplate.Resources.Reservations.MemoryBytes,
          grace: ws.Spec.TaskTemplate.ContainerSpec.StopGracePeriod,
          args: ws.Spec.TaskTemplate.ContainerSpec.Args,
          order: ws.Spec.UpdateConfig.Order,
          failureAction: ws.Spec.UpdateConfig.FailureAction,
          labels: ws.Spec.TaskTemplate.ContainerSpec.Labels,
          nodes: await runningOn("worker-image"),
        },
      ),
      differences(
        {
          redisConstraints: [CORE_CONSTRAINT],
          endpointMode: "dnsrr",
          mount: [REDIS_VOLUME, "/data"],
          redisArgs: redis.command,
          redisNode: [p2.hetzner!.server.name],
        },
        {
          redisConstraints: rs.Spec.TaskTemplate.Placement.Constraints,
          endpointMode: rs.Spec.EndpointSpec.Mode,
          mount: [
            rs.Spec.TaskTemplate.ContainerSpec.Mounts[0].Source,
            rs.Spec.TaskTemplate.ContainerSpec.Mounts[0].Target,
          ],
          redisArgs: rs.Spec.TaskTemplate.ContainerSpec.Args,
          redisNode: await runningOn("redis"),
        },
      ),
      differences(
        {
          proxyPorts: proxy.hostPorts.map((x) => `${x.published}:${x.target}/tcp host`),
          proxyMount: [proxy.volumes[0]!.volume, proxy.volumes[0]!.containerPath],
          apiOrder: api.updateOrder,
          coreNodes: [p2.hetzner!.server.name, p2.hetzner!.server.name],
        },
        {
          proxyPorts: (proxySvc.Spec.EndpointSpec?.Ports ?? []).map(
            (x: any) => `${x.PublishedPort}:${x.TargetPort}/${x.Protocol} ${x.PublishMode}`,
          ),
          proxyMount: [
            proxySvc.Spec.TaskTemplate.ContainerSpec.Mounts?.[0]?.Source,
            proxySvc.Spec.TaskTemplate.ContainerSpec.Mounts?.[0]?.Target,
          ],
          apiOrder: apiSvc.Spec.UpdateConfig.Order,
          coreNodes: [...(await runningOn("proxy")), ...(await runningOn("api"))],
        },
      ),
      differences(
        { mtu: String(deploy.services.network.linkMtu), encrypted: esp, driver: "overlay", scope: "swarm" },
        {
          mtu: net.Options["com.docker.network.driver.mtu"],
          encrypted: "encrypted" in (net.Options ?? {}),
          driver: net.Driver,
          scope: net.Scope,
        },
      ),
    ]
      .filter(Boolean)
      .join("; ");
    ok("each service and the overlay as the plan says", mismatch === "", mismatch || "all fields agree");

    const QUEUE = w.command!.at(-1)!;
    // In Redis' task: the stand-in image has python3-rq and the reference app's jobs module path.
    const enqueue = async (n: number, holdS: number) =>
      on("core", [
        "exec",
        await task("core", "redis"),
        "python3",
        "-c",
        `from redis import Redis; from rq import Queue; q = Queue(${JSON.stringify(QUEUE)}, connection=Redis()); ` +
          `[q.enqueue("app.jobs.process_image", 1, ${holdS}) for _ in range(${n})]`,
      ]);
    await enqueue(2, 0);
    const done = async (n: number) => (await redisCli("get", "app:jobs_done")) === String(n);
    ok(
      "the worker node's workers process jobs, reaching Redis by its service name",
      await until("2 jobs done", () => done(2), 90),
      `jobs done: ${await redisCli("get", "app:jobs_done").catch(String)}`,
    );

    const wTask = await task("w1", "worker-image");
    const envKey = await on("w1", ["exec", wTask, "printenv", "FAL_KEY"]).catch(String);
    const raw = JSON.parse(await pulumi.must(["stack", "export"]));
    const wState = raw.deployment.resources.find((x: any) => x.urn.endsWith("::swarm-worker-image"));
    const spec = wState?.inputs?.taskSpec?.containerSpec ?? {};
    ok(
      "the secret reaches the workers' environment and stays secret in the state",
      envKey === FAL_KEY &&
        !JSON.stringify(raw).includes(FAL_KEY) &&
        spec.image === images.app &&
        typeof spec.env === "object" &&
        "ciphertext" in spec.env,
      `printenv: ${envKey === FAL_KEY ? "the secret" : envKey}; image in state: ${spec.image}; env: ${JSON.stringify(spec.env).slice(0, 80)}`,
    );

    const drift = await op("preview --refresh --expect-no-changes", [
      "preview",
      "--refresh",
      "--expect-no-changes",
    ]);
    if (!drift.ok)
      log((await pulumi.run(["preview", "--refresh", "--diff"], { timeoutS: OP_TIMEOUT_S })).stdout);
    ok("a refresh finds no drift", drift.ok, `${JSON.stringify(drift.changes)} ${drift.error ?? ""}`);

    // An image bump: the preview's diff as a reviewer reads it, then the update.
    pulumi.setConfig({ "app-infra:appImage": images.releases[0] });
    const diff = await pulumi.run(["preview", "--diff"], { timeoutS: OP_TIMEOUT_S });
    const diffText = diff.stdout;
    const before = ws.ID;
    const bump = await op("up, image bump", ["up", "--yes", "--skip-preview"]);
    const newImage = async () =>
      (await inspect("service", "worker-image")).Spec.TaskTemplate.ContainerSpec.Image.startsWith(
        images.releases[0]!,
      ) && (await workersRunning(w.replicas));
    ok(
      "an image bump updates the worker service in place, the diff naming the image and hiding the secret",
      diff.code === 0 &&
        diffText.includes(images.releases[0]!) &&
        !diffText.includes(FAL_KEY) &&
        bump.ok &&
        JSON.stringify(bump.steps) === JSON.stringify({ update: ["swarm-worker-image"] }) &&
        (await inspect("service", "worker-image")).ID === before &&
        (await until("the new image running", newImage, 120)),
      `steps ${JSON.stringify(bump.steps)}; diff ${diff.code === 0 ? "ok" : diff.stderr.slice(-300)}; ${bump.error ?? ""}`,
    );

    pulumi.setConfig({ "app-infra:workersPerNode": 1 });
    const one = plan(1).clusterDeploy!.services.services.find((s) => s.name === "worker-image")!;
    const scale = await op("up, workersPerNode 2 → 1", ["up", "--yes", "--skip-preview"]);
    const scaled = await inspect("service", "worker-image");
    ok(
      "workersPerNode 2 → 1 scales the worker service in place",
      scale.ok &&
        JSON.stringify(scale.steps) === JSON.stringify({ update: ["swarm-worker-image"] }) &&
        scaled.ID === before &&
        scaled.Spec.Mode.Replicated.Replicas === one.replicas &&
        (await until("one worker", () => workersRunning(one.replicas), 60)),
      `steps ${JSON.stringify(scale.steps)}; replicas ${scaled.Spec.Mode.Replicated.Replicas}; ${scale.error ?? ""}`,
    );

    const QUEUE_WIP = `rq:wip:${QUEUE}`;
    const counts = async (cli: (...a: string[]) => Promise<string>, since: number) => ({
      done: Number(await cli("get", "app:jobs_done")) - since,
      queued: Number(await cli("llen", `rq:queue:${QUEUE}`)),
      inFlight: Number(await cli("zcard", QUEUE_WIP)),
      failed: Number(await cli("zcard", `rq:failed:${QUEUE}`)),
    });
    const inFlight = async () => {
      const since = Number(await redisCli("get", "app:jobs_done"));
      await enqueue(2, HOLD_S);
      await until("a job in flight", async () => (await redisCli("zcard", QUEUE_WIP)) === "1", 30);
      return since;
    };
    const both = { done: 2, queued: 0, inFlight: 0, failed: 0 };
    /** The counts since `since`, once both of inFlight()'s jobs are done (or 90 s have passed). */
    const bothDone = async (since: number) => {
      await until(
        "both jobs done",
        async () => canonical(await counts(redisCli, since)) === canonical(both),
        90,
      );
      return counts(redisCli, since);
    };

    // A change that replaces the overlay (here a new core server's ID; also new overlay options)
    // with a job in flight and one waiting. The overlay goes delete-first (its name is fixed), and
    // Docker refuses to remove a network a service is on, so the `up` fails before anything is
    // deleted: the services, the job in flight and the waiting one carry on (README "Stage 4").
    let since = await inFlight();
    const redisBefore = (await inspect("service", "redis")).ID;
    pulumi.setConfig({ "app-infra:serverId": "core-2" });
    const repl = await op("up, the overlay replaced", ["up", "--yes", "--skip-preview"]);
    const afterRepl = await bothDone(since);
    pulumi.setConfig({ "app-infra:serverId": "core-1" });
    const undone = await op("preview --expect-no-changes, the old ID back", [
      "preview",
      "--expect-no-changes",
    ]);
    ok(
      "an overlay replacement is refused before anything is deleted: the services and their jobs carry on",
      !repl.ok &&
        /is in use by service/.test(repl.error ?? "") &&
        !repl.stepOrder.some((x) => x.name !== "swarm-network" && x.op.startsWith("delete")) &&
        (await inspect("service", "worker-image")).ID === before &&
        (await inspect("service", "redis")).ID === redisBefore &&
        canonical(afterRepl) === canonical(both) &&
        undone.ok,
      `${JSON.stringify(afterRepl)}; order ${JSON.stringify(repl.stepOrder.map((x) => `${x.op} ${x.name}`))}; ${(repl.error ?? "").slice(0, 300)}; the old ID back: ${JSON.stringify(undone.changes)} ${undone.error ?? ""}`,
    );

    // The worker service replaced (delete-first, its name being fixed) with a job in flight and
    // one waiting: the engine replaces the stop step first, as a dependent whose `triggers` hold
    // the service's ID, and its delete lets the job finish before the service goes.
    since = await inFlight();
    pulumi.setConfig({ "app-infra:workerGeneration": "2" });
    const wRepl = await op("up, the worker service replaced", ["up", "--yes", "--skip-preview"]);
    const afterWRepl = await bothDone(since);
    const stopFirst = at(wRepl, "delete-replaced", "swarm-worker-image-stop");
    ok(
      "a replaced worker service runs its stop step first: the job in flight finishes, the waiting one runs on the successor",
      wRepl.ok &&
        stopFirst >= 0 &&
        stopFirst < at(wRepl, "delete-replaced", "swarm-worker-image") &&
        (await inspect("service", "worker-image")).ID !== before &&
        (await inspect("service", "redis")).ID === redisBefore &&
        canonical(afterWRepl) === canonical(both),
      `${JSON.stringify(afterWRepl)}; order ${JSON.stringify(wRepl.stepOrder.map((x) => `${x.op} ${x.name}`))}; ${wRepl.error ?? ""}`,
    );
    r.figure("swarm services: up replacing the worker service, a job in flight (s)", wRepl.seconds);

    // The way back to stage 3 (README "Stage 4"), its first step by the README's target, with a
    // job in flight and one waiting: the stop step (a dependent) runs first, the job finishes, the
    // waiting one stays queued, and only the services go.
    since = await inFlight();
    const servicesBefore = (await on("core", ["service", "ls", "-q"])).split("\n").filter(Boolean).length;
    const back = await op("way back", [
      "destroy",
      "--yes",
      "--skip-preview",
      "--target",
      SERVICES_TARGET,
      "--target-dependents",
    ]);
    const servicesLeft = await on("core", ["service", "ls", "-q"]);
    const overlayLeft = await on("core", [
      "network",
      "ls",
      "-q",
      "--filter",
      `name=${deploy.services.network.name}`,
    ]);
    const stopped = at(back, "delete", "swarm-worker-image-stop");
    ok(
      "the way back's targeted destroy runs the workers' stop step first, then removes every service and keeps the overlay",
      back.ok &&
        servicesBefore === 4 &&
        servicesLeft === "" &&
        overlayLeft !== "" &&
        stopped >= 0 &&
        stopped < at(back, "delete", "swarm-worker-image") &&
        JSON.stringify(back.steps.delete?.slice().sort()) ===
          JSON.stringify([
            "swarm-api",
            "swarm-gate",
            "swarm-proxy",
            "swarm-redis",
            "swarm-worker-image",
            "swarm-worker-image-stop",
          ]),
      `${JSON.stringify(back.steps)} in ${back.seconds} s; services left ${JSON.stringify(servicesLeft)}; overlay ${JSON.stringify(overlayLeft)}; ${back.error ?? ""}`,
    );
    r.figure("swarm services: the way back's destroy, a job in flight (s)", back.seconds);
    const gone = await op("destroy", ["destroy", "--yes", "--skip-preview"]);
    const left = await on("core", ["service", "ls", "-q"]);
    // Redis' data as the next Redis would find it: the plan's command on the volume.
    await on("core", [
      "run",
      "-d",
      "--name",
      "redis-after",
      "-v",
      `${REDIS_VOLUME}:/data`,
      images.redis,
      ...redis.command!,
    ]);
    const after = (...a: string[]) => on("core", ["exec", "redis-after", "redis-cli", ...a]);
    await until("Redis after", async () => (await after("ping")) === "PONG", 30);
    const kept = await counts(after, since);
    ok(
      "destroy leaves nothing; Redis' volume keeps the job the way back let finish and the one still queued",
      gone.ok && left === "" && canonical(kept) === canonical({ done: 1, queued: 1, inFlight: 0, failed: 0 }),
      `${JSON.stringify(kept)} in ${gone.seconds} s; services left: ${JSON.stringify(left)}; ${gone.error ?? ""}`,
    );
  } catch (e) {
    if (!(e instanceof CheckFailed)) r.check("swarm services: run", false, String((e as Error).message ?? e));
  } finally {
    sshd?.stdin?.end();
    nodes?.stdin.end();
    if (nodes && nodes.exitCode === null) await new Promise((res) => nodes!.on("close", res));
    await run("rm", ["-rf", D]);
  }
}

if (require.main === module) void runAlone("swarm services", swarmServices);
