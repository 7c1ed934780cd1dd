// `npm run lab`: boots what the program emits on a real VM and runs the stack on real Docker.
// See test/lab/README.md. Exit 0 only when every check passed; cleans up on success and failure.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { parse } from "yaml";
import {
  dependencyOrder,
  diffRecordings,
  dockerRunArgs,
  envFileContent,
  expectedHostConfig,
  networkCreateArgs,
  shellJoin,
  volumeCreateArgs,
  type ContainerInputs,
} from "./docker-cli";
import { chooseAccel, freePort, log, run, sleep, Ssh, Vm, type Accel } from "./vm";

const ROOT = join(__dirname, "..", "..");
const LAB = __dirname;
const OUT = join(LAB, "out");
const T = {
  server: "hcloud:index/server:Server",
  command: "command:remote:Command",
  container: "docker:index/container:Container",
  network: "docker:index/network:Network",
  volume: "docker:index/volume:Volume",
  image: "docker:index/remoteImage:RemoteImage",
  privateKey: "tls:index/privateKey:PrivateKey",
};
const APP_IMAGE = "app-infra-lab/reference-app:1";
const BASE_IMAGE = "app-infra-lab/base:bookworm";
const JOBS = Number(process.env.LAB_JOBS ?? 150);
const JOB_MB = Number(process.env.LAB_JOB_MB ?? 50);
const REMOTE_ENV_DIR = "/run/app-infra-lab/env";

interface Rec {
  type: string;
  name: string;
  inputs: Record<string, any>;
  secretInputs: string[];
}
interface Recording {
  resources: Rec[];
  options: Record<string, { dependsOn: string[] }>;
  outputs: Record<string, any>;
}

// ---------------------------------------------------------------- results and timings

interface Check { name: string; ok: boolean; detail: string }
const checks: Check[] = [];
const timings: Record<string, number> = {};
const figures: Record<string, unknown> = {};
const t0 = Date.now();
const secs = (ms: number) => Math.round(ms / 100) / 10;

function check(name: string, ok: boolean, detail: string) {
  checks.push({ name, ok, detail });
  log(`${ok ? "PASS" : "FAIL"} ${name}: ${detail}`);
}

async function phase<T>(name: string, f: () => Promise<T>): Promise<T> {
  const s = Date.now();
  log(`-- ${name}`);
  try {
    return await f();
  } finally {
    timings[name] = secs(Date.now() - s);
    log(`   ${name}: ${timings[name]} s`);
  }
}

// ---------------------------------------------------------------- configuration under test

/** The dev stack, with the lab's images and alerts that fire fast; B is the scaling change. */
function labConfig(receiverUrl: string) {
  const base = {
    stage: 1,
    botToken: "123456:lab-bot-token-not-real",
    falKey: "fal-lab-key-not-real",
    alertWebhookUrl: receiverUrl,
    images: { api: APP_IMAGE, bot: APP_IMAGE, worker: APP_IMAGE },
    // FOR_MINUTES=0 and a short queue threshold: the queue alert fires on the first check that
    // sees the 150 jobs. 30 s (not the minimum 10 s): under TCG one check takes several seconds,
    // and its systemd timeout is 5/6 of the interval.
    alerts: { forMinutes: 0, queueLength: 5, intervalS: 30, repeatMinutes: 60 },
  };
  return { A: base, B: { ...base, swapGb: 2, workers: 2 }, secretKeys: ["botToken", "falKey", "alertWebhookUrl"] };
}

function record(dir: string, label: string, config: Record<string, unknown>, secretKeys: string[], keysDir: string): Promise<Recording> {
  const out = join(dir, `recording-${label}.json`);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(LAB, "record-real.ts"), "dev", JSON.stringify(config), JSON.stringify(secretKeys), keysDir, out], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += String(d)));
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`recording ${label} failed: ${err.slice(-2000)}`));
      resolve(JSON.parse(readFileSync(out, "utf8")) as Recording);
    });
  });
}

// ---------------------------------------------------------------- image cache

function recipeHash(): string {
  const h = createHash("sha256");
  for (const f of ["build-image.sh"]) h.update(readFileSync(join(LAB, f)));
  h.update(process.env.LAB_MIRROR ?? "");
  return h.digest("hex").slice(0, 16);
}

async function ensureImage(): Promise<{ dir: string; built: boolean }> {
  const cache = process.env.LAB_CACHE_DIR ?? "/var/cache/app-infra-lab";
  const hash = recipeHash();
  const dir = join(cache, hash);
  mkdirSync(cache, { recursive: true });
  const already = existsSync(join(dir, "recipe.sha256"));
  if (!already) log(`building the VM image into ${dir} (cold cache; minutes)`);
  // flock: two labs on one machine build once; the second waits and reuses.
  await new Promise<void>((resolve, reject) => {
    const p = spawn("flock", [join(cache, ".lock"), "bash", "-c", `[ -f "$1/recipe.sha256" ] || bash "$2" "$1" "$3"`, "_", dir, join(LAB, "build-image.sh"), hash], { stdio: ["ignore", "inherit", "inherit"] });
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`build-image.sh failed (exit ${code})`))));
  });
  return { dir, built: !already };
}

// ---------------------------------------------------------------- the alert receiver on the host

interface Alert { path: string; body: Record<string, string>; at: number }

function startReceiver(): Promise<{ server: Server; port: number; alerts: Alert[] }> {
  const alerts: Alert[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += String(d)));
    req.on("end", () => {
      let body: Record<string, string> = {};
      try { body = JSON.parse(data); } catch { body = { raw: data.slice(0, 200) }; }
      alerts.push({ path: req.url ?? "", body, at: Date.now() });
      log(`receiver: ${body.alert ?? "?"} ${body.state ?? ""}: ${body.text ?? ""}`);
      res.writeHead(200).end("ok");
    });
  });
  // qemu's user network maps the guest's 10.0.2.2 to the host's loopback: 127.0.0.1 suffices.
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, alerts })));
}

// ---------------------------------------------------------------- remote helpers

async function dockerAll(ssh: Ssh, what: string, argvs: string[][], timeoutS = 600) {
  for (const a of argvs) await ssh.must(what, shellJoin(["docker", ...a]), { timeoutS });
}

async function inspect(ssh: Ssh, names: string[]): Promise<any[]> {
  const r = await ssh.exec(shellJoin(["docker", "inspect", ...names]), { timeoutS: 120 });
  return r.code === 0 ? JSON.parse(r.stdout) : [];
}

async function waitHealthy(ssh: Ssh, containers: ContainerInputs[], timeoutS: number): Promise<string> {
  const deadline = Date.now() + timeoutS * 1000;
  let last = "";
  while (Date.now() < deadline) {
    const info = await inspect(ssh, containers.map((c) => c.name));
    last = info.map((i) => `${i.Name.slice(1)}=${i.State.Status}${i.State.Health ? `/${i.State.Health.Status}` : ""}`).join(" ");
    const ok = info.length === containers.length && info.every((i) => i.State.Status === "running" && (!i.State.Health || i.State.Health.Status === "healthy"));
    if (ok) return last;
    await sleep(3000);
  }
  throw new Error(`containers not all running and healthy after ${timeoutS} s: ${last}`);
}

async function startContainer(ssh: Ssh, c: ContainerInputs) {
  let envFile: string | undefined;
  if (c.envs && c.envs.length) {
    envFile = `${REMOTE_ENV_DIR}/${c.name}.env`;
    // 0600, written over ssh's stdin: the values never appear in an argv or in this log.
    await ssh.must(`env file for ${c.name}`, `umask 077 && mkdir -p ${REMOTE_ENV_DIR} && cat > ${envFile}`, { stdin: envFileContent(c.envs) });
  }
  const argv = dockerRunArgs(c, { envFile });
  log(`docker ${shellJoin(argv)}`);
  await ssh.must(`docker run ${c.name}`, shellJoin(["docker", ...argv]), { timeoutS: 300 });
}

async function runHostStep(ssh: Ssh, r: Rec, timeoutS: number) {
  const quiet = r.inputs.logging === "none";
  const s = Date.now();
  const res = await ssh.exec(r.inputs.create, { stdin: r.inputs.stdin, timeoutS });
  timings[`step ${r.name}`] = secs(Date.now() - s);
  if (res.code !== 0) throw new Error(`${r.name}: \`${r.inputs.create}\` exit ${res.code}${quiet ? " (output not shown: its stdin holds secrets)" : `: ${(res.stderr + res.stdout).trim().slice(-2000)}`}`);
  log(`${r.name}: \`${r.inputs.create}\` ok in ${timings[`step ${r.name}`]} s${quiet ? "" : `\n${res.stdout.trim().split("\n").map((l) => `    ${l}`).join("\n")}`}`);
}

const mem = (s: string) => Object.fromEntries(s.trim().split("\n").map((l) => l.split(/:\s+/)).map(([k, v]) => [k, Number.parseInt(v ?? "0", 10)]));

/** Memory at rest: what the app's containers charge, and everything else (kernel, systemd, dockerd, ...). */
async function memoryAtRest(ssh: Ssh) {
  const script = String.raw`
set -eu
cat /proc/meminfo | grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|Shmem|Slab|SReclaimable|SUnreclaim|KernelStack|PageTables|AnonPages|SwapTotal|SwapFree):'
echo ---
for id in $(docker ps -q --no-trunc); do
  n=$(docker inspect -f '{{.Name}}' "$id"); d=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "*$id*" | head -1)
  cur=$(cat "$d/memory.current"); anon=$(awk '$1=="anon"{print $2}' "$d/memory.stat"); file=$(awk '$1=="file"{print $2}' "$d/memory.stat")
  echo "$n $cur $anon $file"
done
echo ---
ps -eo rss=,comm= | awk '{a[$2]+=$1} END {for (k in a) print k, a[k]}' | sort -k2 -nr | head -25
`;
  const out = await ssh.must("memory at rest", "bash -s", { stdin: script, timeoutS: 120 });
  const [meminfo, cg, ps] = out.split("---\n");
  const m = mem(meminfo!);
  const kb = (k: string) => m[k] ?? 0;
  const containers = cg!.trim().split("\n").filter(Boolean).map((l) => {
    const [name, cur, anon, file] = l.split(" ");
    return { name: name!.slice(1), currentMb: Math.round(Number(cur) / 1048576), anonMb: Math.round(Number(anon) / 1048576), fileMb: Math.round(Number(file) / 1048576) };
  });
  const rss = Object.fromEntries(ps!.trim().split("\n").map((l) => l.trim().split(/\s+/)).map(([k, v]) => [k, Math.round(Number(v) / 1024)]));
  const usedMb = Math.round((kb("MemTotal") - kb("MemAvailable")) / 1024);
  // "Used" = MemTotal - MemAvailable counts no reclaimable cache; the containers' share of it is
  // their anonymous memory (their page cache is reclaimable and so already outside "used").
  const appAnonMb = containers.reduce((a, c) => a + c.anonMb, 0);
  const pick = (names: string[]) => Object.fromEntries(names.filter((n) => rss[n] !== undefined).map((n) => [n, rss[n]]));
  return {
    memTotalMb: Math.round(kb("MemTotal") / 1024),
    memAvailableMb: Math.round(kb("MemAvailable") / 1024),
    usedMb,
    appContainersAnonMb: appAnonMb,
    nonAppUsedMb: usedMb - appAnonMb,
    kernelMb: Math.round((kb("SUnreclaim") + kb("KernelStack") + kb("PageTables")) / 1024),
    swapUsedMb: Math.round((kb("SwapTotal") - kb("SwapFree")) / 1024),
    containers,
    rssMbOfHostProcesses: pick(["systemd", "systemd-journal", "systemd-udevd", "systemd-network", "systemd-logind", "dbus-daemon", "sshd", "dockerd", "containerd", "containerd-shim", "cron"]),
  };
}

// ---------------------------------------------------------------- main

async function main() {
  let accel: Accel;
  try {
    accel = chooseAccel(process.env);
  } catch (e) {
    process.stderr.write(`lab: refusing to start: ${(e as Error).message}\n`);
    process.exit(2);
  }
  figures.accel = accel;
  const slow = accel === "tcg" ? 6 : 1;
  const tmp = mkdtempSync("/var/tmp/app-infra-lab-run-");
  chmodSync(tmp, 0o700);
  let vm: Vm | undefined;
  let ssh: Ssh | undefined;
  let receiver: Server | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    log("cleanup: qemu, receiver, temp dir");
    try { ssh?.closeMaster(); } catch { /* ignore */ }
    await vm?.stop();
    receiver?.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => { void cleanup().then(() => process.exit(130)); });

  try {
    const image = await phase("image", ensureImage);
    figures.imageCache = image.built ? "cold (built now)" : "warm (reused)";

    // Real keys, consistent everywhere: user-data's host key, the pinned hostKey, the deploy key.
    const keysDir = join(tmp, "keys");
    mkdirSync(keysDir, { mode: 0o700 });
    for (const k of ["keys-deploy", "keys-host"]) run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", k, "-f", join(keysDir, k)]);
    const rcv = await startReceiver();
    receiver = rcv.server;
    const cfg = labConfig(`http://10.0.2.2:${rcv.port}/alert`);
    const [A, B] = await phase("record", () => Promise.all([record(tmp, "A", cfg.A, cfg.secretKeys, keysDir), record(tmp, "B", cfg.B, cfg.secretKeys, keysDir)]));

    const server = A.resources.find((r) => r.type === T.server)!;
    const commands = A.resources.filter((r) => r.type === T.command);
    const deployKey = readFileSync(join(keysDir, "keys-deploy"), "utf8");
    const deployPub = readFileSync(join(keysDir, "keys-deploy.pub"), "utf8").trim();
    const hostPub = readFileSync(join(keysDir, "keys-host.pub"), "utf8").trim();
    const ud = parse(server.inputs.userData);
    check("recording: user-data carries the real host key", ud.ssh_keys?.ed25519_public === hostPub, "ssh_keys.ed25519_public is the lab's ssh-keygen key");
    check(
      "recording: every remote command pins that host key and logs in with the real deploy key",
      commands.every((c) => c.inputs.connection.hostKey.trim() === hostPub && c.inputs.connection.privateKey === deployKey && c.inputs.connection.user === "root"),
      `${commands.length} commands`,
    );

    const apiContainer = A.resources.find((r) => r.type === T.container && r.inputs.name === "api")!.inputs as ContainerInputs;
    const guestApiPort = apiContainer.ports![0]!.external!;
    const sshPort = await freePort();
    const apiPort = await freePort();
    vm = new Vm({
      accel,
      dir: tmp,
      files: {
        kernel: join(image.dir, "vmlinuz"),
        initrd: join(image.dir, "initrd.img"),
        baseDisk: join(image.dir, "root.raw"),
        extraDisks: { labbase: join(image.dir, "lab-base.tar") },
      },
      userData: server.inputs.userData,
      // Hetzner installs the server's `sshKeys` for root itself; here NoCloud's meta-data
      // `public-keys` does it (the image's cloud.cfg.d creates no default user, and the
      // program's user-data sets disable_root: false, so the key goes to root).
      metaData: `instance-id: app-infra-lab-${Date.now()}\nlocal-hostname: ${server.inputs.name}\npublic-keys:\n  - ${deployPub}\n`,
      sshPort,
      apiPort,
      guestApiPort,
    });
    const keyFile = join(keysDir, "keys-deploy");
    ssh = new Ssh(tmp, sshPort, keyFile, commands[0]!.inputs.connection.hostKey);

    // ---- boot and first SSH (like dialErrorLimit × perDialTimeout, longer under TCG)
    await phase("boot to first SSH", async () => {
      vm!.start();
      const deadline = Date.now() + 300_000 * slow;
      for (;;) {
        if (vm!.exited) throw new Error(`qemu exited during boot; console: ${tail(vm!.console)}`);
        const r = await ssh!.exec("true", { timeoutS: 40 });
        if (r.code === 0) break;
        if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(r.stderr)) {
          throw new Error(`the VM presented a host key other than the pinned one: ${r.stderr.trim()}`);
        }
        if (Date.now() > deadline) throw new Error(`no SSH after ${(300 * slow)} s; console: ${tail(vm!.console)}`);
        await sleep(3000);
      }
    });
    const firstSsh = Date.now();
    figures.bootToFirstSshS = secs(firstSsh - vm.startedAt);
    check("SSH with StrictHostKeyChecking=yes against only the pinned host key", true, `known_hosts holds one line, the program's hostKey; first login ${figures.bootToFirstSshS} s after qemu started`);

    // ---- the program's remote commands, in its dependency order, exactly as recorded
    const order = dependencyOrder(commands.map((c) => c.name), (n) => A.options[n]?.dependsOn ?? []);
    figures.hostStepOrder = order;
    await phase("host steps", async () => {
      for (const name of order) {
        await runHostStep(ssh!, commands.find((c) => c.name === name)!, 900 * slow);
        if (name === "host-host-ready") {
          const ci = await ssh!.must("cloud-init timing", String.raw`python3 -c 'import json; d=json.load(open("/run/cloud-init/status.json"))["v1"]; print(max(v["finished"] for k,v in d.items() if isinstance(v,dict) and v.get("finished")))'; awk '/^btime/{print $2}' /proc/stat`);
          const [finished, btime] = ci.trim().split("\n").map(Number);
          figures.kernelBootToCloudInitDoneS = Math.round((finished! - btime!) * 10) / 10;
          figures.qemuStartToCloudInitDoneS = secs(finished! * 1000 - vm!.startedAt);
        }
      }
    });

    // ---- images: built inside the VM from Debian's packages, no registry
    await phase("images (docker import + build in the VM)", async () => {
      await ssh!.must("docker import", `docker image inspect ${BASE_IMAGE} >/dev/null 2>&1 || docker import - ${BASE_IMAGE} < /dev/disk/by-id/virtio-labbase`, { timeoutS: 900 * slow });
      const ctx = join(tmp, "reference-app.tar");
      run("tar", ["-C", join(ROOT, "examples", "reference-app"), "--exclude=__pycache__", "-cf", ctx, "."]);
      await ssh!.must("docker build reference-app", `docker build -q -t ${APP_IMAGE} -`, { stdin: { file: ctx }, timeoutS: 600 * slow });
      const redisImage = A.resources.find((r) => r.type === T.image && r.name === "app-image-redis")!.inputs.name as string;
      await ssh!.must("docker build redis stand-in", `docker build -q -t ${shellJoin([redisImage])} -`, { stdin: readFileSync(join(LAB, "images", "redis.Dockerfile"), "utf8"), timeoutS: 600 * slow });
      const names = [...new Set(A.resources.filter((r) => r.type === T.image).map((r) => r.inputs.name as string))];
      const r = await ssh!.exec(shellJoin(["docker", "image", "inspect", "-f", "{{.Id}}", ...names]));
      check("every image the program names exists in the VM's Docker (built there, nothing pulled)", r.code === 0, names.join(", "));
    });

    // ---- network, volume, containers from the recorded inputs
    const containersA = A.resources.filter((r) => r.type === T.container).map((r) => r.inputs as ContainerInputs);
    await phase("containers up to healthy", async () => {
      for (const n of A.resources.filter((r) => r.type === T.network)) await dockerAll(ssh!, "network", [networkCreateArgs(n.inputs as any)]);
      for (const v of A.resources.filter((r) => r.type === T.volume)) await dockerAll(ssh!, "volume", [volumeCreateArgs(v.inputs as any)]);
      for (const c of containersA) await startContainer(ssh!, c);
      const state = await waitHealthy(ssh!, containersA, Math.max(...containersA.map((c) => c.waitTimeout ?? 120)) * slow);
      log(`all running/healthy: ${state}`);
    });
    const allHealthy = Date.now();
    figures.firstSshToAllHealthyS = secs(allHealthy - firstSsh);

    // ---- checks on the running VM
    await phase("checks", async () => {
      await checkHost(ssh!, A, "4 GB");
      await checkContainers(ssh!, containersA);
      const redis = await ssh!.must("redis config", "docker exec redis redis-cli CONFIG GET maxmemory maxmemory-policy appendonly dir appendfsync");
      const cfgR = Object.fromEntries(chunk(redis.trim().split("\n"), 2));
      check("Redis CONFIG is the plan's", cfgR.maxmemory === String(128 * 1048576) && cfgR["maxmemory-policy"] === "noeviction" && cfgR.appendonly === "yes" && cfgR.dir === "/data", JSON.stringify(cfgR));
      const aof = await ssh!.exec(`d=$(docker volume inspect -f '{{.Mountpoint}}' redis-data) && ls -la "$d" "$d"/appendonlydir`);
      check("Redis' AOF lives on the redis-data volume", aof.code === 0 && /\.aof/.test(aof.stdout), aof.stdout.trim().split("\n").filter((l) => /aof/.test(l)).map((l) => l.split(/\s+/).pop()).join(", ") || aof.stderr.trim());
      const health = await fetchText(`http://127.0.0.1:${apiPort}${"/health"}`);
      check("API healthy from outside the VM (published port, forwarded to 127.0.0.1)", health.status === 200, `${health.status} ${health.body}`);
      // The bot must be a singleton: a second copy with the same environment refuses to run.
      const second = await ssh!.exec(shellJoin(["docker", "run", "--rm", "--network", "app-infra", "--env-file", `${REMOTE_ENV_DIR}/bot.env`, "-e", "BOT_LOCK_WAIT_S=2", APP_IMAGE]), { timeoutS: 180 * slow });
      check("bot is a singleton: a second copy exits non-zero while the first holds bot:lock", second.code === 3, `exit ${second.code}: ${second.stderr.trim().split("\n").pop()}`);
    });

    // ---- 150 jobs, --max-jobs restarts, the watchdog's queue alert
    await phase(`${JOBS} jobs`, async () => {
      const before = (await inspect(ssh!, ["worker-image-1"]))[0].RestartCount as number;
      const s = Date.now();
      const enq = await fetchText(`http://127.0.0.1:${apiPort}/enqueue?count=${JOBS}&size_mb=${JOB_MB}`, "POST");
      check(`${JOBS} jobs enqueued through the API`, enq.status === 200, enq.body);
      const deadline = Date.now() + 60_000 * Math.max(10, JOBS / 10) * slow;
      let stats: any = {};
      let lastLog = 0;
      while (Date.now() < deadline) {
        const r = await fetchText(`http://127.0.0.1:${apiPort}/stats`);
        if (r.status === 200) stats = JSON.parse(r.body);
        if (stats.done >= JOBS && stats.queued === 0) break;
        if (Date.now() - lastLog > 60_000) { log(`jobs: ${JSON.stringify(stats)}`); lastLog = Date.now(); }
        await sleep(5000);
      }
      figures.jobsS = secs(Date.now() - s);
      figures.jobsPerMinute = Math.round((stats.done / ((Date.now() - s) / 60000)) * 10) / 10;
      check(`all ${JOBS} jobs processed`, stats.done === JOBS && stats.queued === 0, `${JSON.stringify(stats)} in ${figures.jobsS} s`);
      const w = (await inspect(ssh!, ["worker-image-1"]))[0];
      const restarts = (w.RestartCount as number) - before;
      const maxJobs = Number(containersA.find((c) => c.name === "worker-image-1")!.command!.at(-2));
      check(`the worker exits after --max-jobs ${maxJobs} and comes back by its restart policy`, restarts >= Math.floor(JOBS / maxJobs) - 1 && w.State.Status === "running", `${restarts} restarts for ${JOBS} jobs, now ${w.State.Status}`);
      // The queue alert: fired while the queue was long, delivered from the VM to the host.
      const fired = rcv.alerts.find((a) => a.body.alert === "queue" && a.body.state === "firing");
      check("the watchdog alerted on the queue to the receiver on the host (10.0.2.2)", !!fired, fired ? `${fired.body.text} (+${secs(fired.at - s)} s after enqueue)` : `received: ${rcv.alerts.map((a) => `${a.body.alert}/${a.body.state}`).join(", ") || "nothing"}`);
      // Resolved comes on the first check after the queue drained.
      const until = Date.now() + 120_000 * slow;
      while (Date.now() < until && !rcv.alerts.some((a) => a.body.alert === "queue" && a.body.state === "resolved")) await sleep(3000);
      check("the queue alert resolves once the queue drained", rcv.alerts.some((a) => a.body.alert === "queue" && a.body.state === "resolved"), "");
      check("no alert carried a secret", !rcv.alerts.some((a) => /lab-bot-token|fal-lab-key/.test(JSON.stringify(a.body))), `${rcv.alerts.length} alerts`);
    });

    // ---- a configuration change, applied as the program would: only what differs
    await phase("change: swap 4→2 GB, workers 1→2", async () => {
      const d = diffRecordings(A.resources, B.resources);
      figures.changeDiff = d;
      log(`diff A→B: ${JSON.stringify(d)}`);
      const applicable = (n: string) => [...A.resources, ...B.resources].find((r) => r.name === n)!.type;
      const unsupported = [...d.changed, ...d.added, ...d.removed].filter((n) => ![T.command, T.container].includes(applicable(n)));
      if (unsupported.length) throw new Error(`the change touches resources the lab cannot apply on a running VM: ${unsupported.join(", ")}`);
      check("the change touches only the swap step, the watchdog and a new worker (no server, no Redis)", JSON.stringify(d) === JSON.stringify({ changed: ["host-swap", "host-watchdog"], added: ["app-worker-image-2"], removed: [] }), JSON.stringify(d));
      const cmdsB = B.resources.filter((r) => r.type === T.command);
      for (const name of dependencyOrder(cmdsB.map((c) => c.name), (n) => B.options[n]?.dependsOn ?? [])) {
        if (d.changed.includes(name) || d.added.includes(name)) await runHostStep(ssh!, cmdsB.find((c) => c.name === name)!, 900 * slow);
      }
      for (const name of d.removed) if (applicable(name) === T.container) await ssh!.must(`remove ${name}`, shellJoin(["docker", "rm", "-f", A.resources.find((r) => r.name === name)!.inputs.name]));
      const containersB = B.resources.filter((r) => r.type === T.container);
      for (const r of containersB) {
        if (d.changed.includes(r.name)) await ssh!.must(`replace ${r.name}`, shellJoin(["docker", "rm", "-f", r.inputs.name]));
        if (d.changed.includes(r.name) || d.added.includes(r.name)) await startContainer(ssh!, r.inputs as ContainerInputs);
      }
      await waitHealthy(ssh!, containersB.map((r) => r.inputs as ContainerInputs), 300 * slow);
      await checkHost(ssh!, B, "2 GB");
      await checkContainers(ssh!, containersB.map((r) => r.inputs as ContainerInputs));
      const env = await ssh!.must("watchdog env", "grep -E '^(WORKERS|CONTAINERS)=' /etc/app-infra/watchdog.env");
      check("the watchdog now watches 2 workers", /WORKERS='2'/.test(env) && /worker-image-2=worker/.test(env), env.trim().replace(/\n/g, "; "));
    });

    // ---- reboot: swap, containers and Redis data must survive
    const containersB = B.resources.filter((r) => r.type === T.container).map((r) => r.inputs as ContainerInputs);
    await phase("reboot", async () => {
      const nonce = createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 16);
      await ssh!.must("redis set", `docker exec redis redis-cli SET lab:persist ${nonce}`);
      await sleep(2000); // appendfsync everysec
      const bootId = (await ssh!.must("boot id", "cat /proc/sys/kernel/random/boot_id")).trim();
      const s = Date.now();
      await ssh!.exec("systemctl reboot", { timeoutS: 30 });
      ssh!.closeMaster();
      const deadline = Date.now() + 600_000 * slow;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the VM did not come back after reboot; console: ${tail(vm!.console)}`);
        await sleep(5000);
        const r = await ssh!.exec("cat /proc/sys/kernel/random/boot_id", { timeoutS: 40 });
        if (/Host key verification failed/.test(r.stderr)) throw new Error("after reboot the VM presented another host key");
        if (r.code === 0 && r.stdout.trim() !== bootId) break;
      }
      figures.rebootToSshS = secs(Date.now() - s);
      const state = await waitHealthy(ssh!, containersB, 600 * slow);
      figures.rebootToAllHealthyS = secs(Date.now() - s);
      check("after reboot every container is running (restart: unless-stopped)", true, state);
      await checkHost(ssh!, B, "2 GB");
      const got = (await ssh!.must("redis get", "docker exec redis redis-cli GET lab:persist")).trim();
      const done = (await ssh!.must("redis get", "docker exec redis redis-cli GET app:jobs_done")).trim();
      check("after reboot Redis still has its data (AOF on the volume)", got === nonce && done === String(JOBS), `lab:persist ${got === nonce ? "kept" : `lost (${got})`}, app:jobs_done=${done}`);
      const timer = await ssh!.exec("systemctl is-active app-infra-watchdog.timer");
      check("after reboot the watchdog timer is active", timer.stdout.trim() === "active", timer.stdout.trim());
      const health = await fetchText(`http://127.0.0.1:${apiPort}/health`);
      check("after reboot the API answers", health.status === 200, `${health.status}`);
    });

    await phase("memory at rest", async () => {
      await sleep(30_000);
      figures.memoryAtRest = await memoryAtRest(ssh!);
      const m = figures.memoryAtRest as Awaited<ReturnType<typeof memoryAtRest>>;
      log(`memory at rest: used ${m.usedMb} MB of ${m.memTotalMb} MB; app containers ${m.appContainersAnonMb} MB; everything else ${m.nonAppUsedMb} MB`);
    });
  } catch (e) {
    check("lab run", false, String((e as Error).message ?? e));
  } finally {
    figures.totalS = secs(Date.now() - t0);
    writeReport();
    await cleanup();
  }
  const failed = checks.filter((c) => !c.ok);
  log(failed.length ? `lab FAILED: ${failed.length} of ${checks.length} checks` : `lab passed: ${checks.length} checks in ${figures.totalS} s (${figures.accel})`);
  process.exit(failed.length ? 1 : 0);
}

async function checkHost(ssh: Ssh, rec: Recording, size: string) {
  const swapArgs = rec.resources.find((r) => r.name === "host-swap")!.inputs.create as string;
  const [, , , gb, swappiness] = swapArgs.split(" ");
  const out = await ssh.must("host state", "stat -c %s /swapfile; swapon --show=NAME --noheadings; echo ---; grep -c '^/swapfile ' /etc/fstab || true; grep '^/swapfile ' /etc/fstab || true; echo ---; sysctl -n vm.swappiness vm.overcommit_memory");
  const [swap, fstab, sysctl] = out.split("---\n").map((s) => s.trim());
  // The file's size: swapon reports one page less (the swap header).
  const want = Number(gb) * 1024 ** 3;
  check(`swap is ${size}, active, one fstab line`, swap === `${want}\n/swapfile` && fstab === "1\n/swapfile none swap sw 0 0", `${swap!.replace("\n", " bytes, active: ")} | fstab: ${fstab!.replace("\n", " × ")}`);
  check("sysctls: vm.swappiness and vm.overcommit_memory=1", sysctl === `${swappiness}\n1`, sysctl!.replace("\n", ", "));
}

async function checkContainers(ssh: Ssh, containers: ContainerInputs[]) {
  const info = await inspect(ssh, containers.map((c) => c.name));
  const bad: string[] = [];
  for (const c of containers) {
    const i = info.find((x) => x.Name === `/${c.name}`);
    const want = expectedHostConfig(c);
    const got = i && { Memory: i.HostConfig.Memory, MemoryReservation: i.HostConfig.MemoryReservation, MemorySwap: i.HostConfig.MemorySwap, RestartPolicy: i.HostConfig.RestartPolicy.Name };
    if (!i || i.State.Status !== "running" || JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${c.name}: ${i?.State.Status} ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
  }
  check(
    "every container runs with the planned memory limit, reservation, swap and restart policy",
    bad.length === 0,
    bad.join("; ") || containers.map((c) => `${c.name} ${c.memory}/${c.memoryReservation}/${c.memorySwap} MB`).join(", "),
  );
}

function fetchText(url: string, method = "GET"): Promise<{ status: number; body: string }> {
  return fetch(url, { method, signal: AbortSignal.timeout(120_000) })
    .then(async (r) => ({ status: r.status, body: (await r.text()).slice(0, 500) }))
    .catch((e) => ({ status: 0, body: String(e?.cause?.code ?? e) }));
}

const chunk = <T,>(a: T[], n: number) => Array.from({ length: Math.ceil(a.length / n) }, (_, i) => a.slice(i * n, i * n + n));

function tail(file: string): string {
  try { return readFileSync(file, "utf8").split("\n").slice(-25).join("\n"); } catch { return "(no console)"; }
}

function writeReport() {
  mkdirSync(OUT, { recursive: true });
  const report = { at: new Date().toISOString(), passed: checks.every((c) => c.ok), figures, timingsS: timings, checks };
  writeFileSync(join(OUT, "report.json"), JSON.stringify(report, null, 2) + "\n");
  const m = figures.memoryAtRest as any;
  const md = [
    `# app-infra VM lab — ${report.passed ? "passed" : "FAILED"} (${report.at})`,
    "",
    `Accelerator: **${figures.accel}** (qemu -smp 3 -m 3072). Image cache: ${figures.imageCache ?? "?"}.`,
    "",
    "| figure | seconds |",
    "|---|---|",
    `| qemu start → cloud-init done | ${figures.qemuStartToCloudInitDoneS ?? "—"} |`,
    `| kernel boot → cloud-init done (guest clock) | ${figures.kernelBootToCloudInitDoneS ?? "—"} |`,
    `| qemu start → first SSH | ${figures.bootToFirstSshS ?? "—"} |`,
    `| first SSH → all containers healthy | ${figures.firstSshToAllHealthyS ?? "—"} |`,
    `| ${JOBS} jobs of ${JOB_MB} MB processed | ${figures.jobsS ?? "—"} |`,
    `| reboot → all healthy | ${figures.rebootToAllHealthyS ?? "—"} |`,
    `| total (\`npm run lab\`) | ${figures.totalS} |`,
    "",
    "Phases: " + Object.entries(timings).map(([k, v]) => `${k} ${v} s`).join("; "),
    "",
    ...(m
      ? [
          "## Memory at rest (after the reboot, all containers up, queue empty)",
          "",
          `Used (MemTotal − MemAvailable): **${m.usedMb} MB** of ${m.memTotalMb} MB; the app's containers (anonymous memory): ${m.appContainersAnonMb} MB; ` +
            `**everything that is not the app (kernel, systemd, dockerd, containerd, sshd; the watchdog only runs per check): ${m.nonAppUsedMb} MB** ` +
            `(kernel slab/stacks/page tables ${m.kernelMb} MB). Swap used: ${m.swapUsedMb} MB.`,
          "",
          "| container | charged MB | anon MB |",
          "|---|---|---|",
          ...m.containers.map((c: any) => `| ${c.name} | ${c.currentMb} | ${c.anonMb} |`),
          "",
          "Host processes, RSS MB: " + Object.entries(m.rssMbOfHostProcesses).map(([k, v]) => `${k} ${v}`).join(", "),
          "",
        ]
      : []),
    "## Checks",
    "",
    ...checks.map((c) => `- ${c.ok ? "✅" : "❌"} ${c.name}${c.detail ? ` — ${c.detail.replace(/\n/g, " ")}` : ""}`),
    "",
  ].join("\n");
  writeFileSync(join(OUT, "report.md"), md);
  log(`report: ${join(OUT, "report.md")}`);
}

void main();
