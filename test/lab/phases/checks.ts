// What the first deploy left running, checked against the plan: host, containers, Redis, the API
// from outside, the bot's singleton lock.
import type { Deployed } from "../context";
import { edgeRequest, keepAliveAgent, type EdgeClient, type EdgeReply } from "../edge";
import { appRun, checkContainers, checkHost } from "../remote";
import { sleep } from "../vm";
import { probeHttp, type HttpProbe } from "../watch";
import { secs, type Results } from "../results";

/** The API as users reach it: through the edge proxy on the server's address, for the stack's domain. */
export function edgeClient(d: Deployed): EdgeClient {
  return { ip: d.ip, host: d.plan.edge.host, tls: d.plan.edge.tls, ca: d.acme.root0 };
}

/**
 * A steady stream of requests to the API's health path through the proxy (watch.ts probeHttp),
 * over keep-alive connections: a TLS handshake per request, 20 a second, kept a TCG guest's CPUs
 * busy enough (kamal-proxy 45 %, load 14 on 3 vCPUs) that containers' health checks timed out.
 */
export function apiStream(
  d: Deployed,
  perSecond: number,
  timeoutMs: number,
): { stop: () => Promise<HttpProbe> } {
  const client = edgeClient(d);
  const agent = keepAliveAgent(client);
  const probe = probeHttp(
    () => edgeRequest(client, d.cfg.services.api.healthPath, "GET", timeoutMs, agent),
    perSecond,
  );
  return {
    stop: async () => {
      const s = await probe.stop();
      agent.destroy();
      return s;
    },
  };
}

export function apiRequest(
  d: Deployed,
  path: string,
  method = "GET",
  timeoutMs = 120_000,
): Promise<EdgeReply> {
  return edgeRequest(edgeClient(d), path, method, timeoutMs);
}

/** `--maxmemory 128mb` and friends, out of the plan's Redis command line. */
function redisFlag(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(`--${flag}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function checkDeployed(d: Deployed, r: Results, when: string) {
  const { ssh, plan } = d;
  await checkHost(ssh, r, plan, when);
  await checkContainers(ssh, r, plan.services, when);
  const redis = plan.services.find((s) => s.role === "redis")!;
  const args = redis.command ?? [];
  const got = await ssh.must(
    "redis config",
    "docker exec redis redis-cli CONFIG GET maxmemory maxmemory-policy appendonly dir",
  );
  const kv = Object.fromEntries(
    got
      .trim()
      .split("\n")
      .reduce<string[][]>((a, l, i) => (i % 2 ? (a[a.length - 1]!.push(l), a) : [...a, [l]]), []),
  );
  const wantMax = String(Number.parseInt(redisFlag(args, "maxmemory")!, 10) * 1024 * 1024);
  r.check(
    `${when}: Redis CONFIG is the plan's`,
    kv.maxmemory === wantMax &&
      kv["maxmemory-policy"] === redisFlag(args, "maxmemory-policy") &&
      kv.appendonly === redisFlag(args, "appendonly") &&
      kv.dir === redisFlag(args, "dir"),
    JSON.stringify(kv),
  );
  // The first HTTPS request for the domain makes kamal-proxy order its certificate (autocert, on
  // demand); in one TCG run that first handshake ended in a TLS "internal error" alert and a later
  // one succeeded. A client retries, and so does this check, for a while; the attempts are shown.
  const started = Date.now();
  const tries: string[] = [];
  let health = await apiRequest(d, d.cfg.services.api.healthPath);
  while (health.status !== 200 && Date.now() - started < 300_000) {
    tries.push(`${health.status} ${(health.error ?? health.body).slice(0, 120)}`);
    await sleep(5000);
    health = await apiRequest(d, d.cfg.services.api.healthPath);
  }
  r.figure(`firstApiAnswer (${when})`, { seconds: secs(Date.now() - started), failedTries: tries });
  const e = d.plan.edge;
  r.check(
    `${when}: the API answers from outside the VM through the edge proxy on the server's address` +
      (e.tls ? `, over HTTPS for ${e.host} with a certificate that chains to the ACME server's root` : ""),
    health.status === 200 && (!e.tls || !!health.serial),
    `${health.status} ${health.body}${health.serial ? ` (certificate serial ${health.serial})` : ""}` +
      (tries.length ? `; after ${tries.length} failed tries: ${tries.join(" | ")}` : ""),
  );
  await checkMetadataBlocked(d, r, when);
}

/** install-docker.sh's REJECT for the metadata address, seen from inside a container on the app's network. */
export async function checkMetadataBlocked(d: Deployed, r: Results, when: string) {
  const probe =
    "import socket\ntry:\n    socket.create_connection(('169.254.169.254', 80), timeout=10)\n    print('connected')\nexcept Exception as e:\n    print(type(e).__name__)";
  const res = await d.ssh.exec(appRun([], ["python3", "-c", probe]), { timeoutS: 120 * d.slow });
  r.check(
    `${when}: a container cannot reach the metadata address 169.254.169.254 (refused by DOCKER-USER)`,
    res.stdout.trim() === "ConnectionRefusedError",
    `${res.stdout.trim()} ${res.stderr.trim().split("\n").pop() ?? ""}`,
  );
}

/** The VM image has no Docker: install-docker.sh installed docker.io from the mirror, as on a new Hetzner server. */
export async function checkDockerInstalledByScript(d: Deployed, r: Results) {
  const res = await d.ssh.exec(
    "grep -E '^(Commandline|Install):' /var/log/apt/history.log | grep -A1 'install -y --no-install-recommends docker.io' | head -2",
  );
  r.check(
    "docker.io was installed by install-docker.sh from the Debian mirror (not preinstalled)",
    res.code === 0 && /Install: .*docker\.io:amd64/.test(res.stdout),
    res.stdout.trim().slice(0, 300) || res.stderr.trim(),
  );
}

/** The bot must be a singleton: a second copy with the same environment exits 3 while the first holds bot:lock. */
export async function checkBotSingleton(d: Deployed, r: Results) {
  const envFile = "/run/app-infra-lab-bot.env";
  await d.ssh.must(
    "bot env",
    `umask 077 && docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' bot > ${envFile}`,
  );
  const second = await d.ssh.exec(
    appRun(["--env-file", envFile, "-e", "BOT_LOCK_WAIT_S=2"]) + `; rc=$?; rm -f ${envFile}; exit $rc`,
    { timeoutS: 180 * d.slow },
  );
  r.check(
    "bot is a singleton: a second copy exits 3 while the first holds bot:lock",
    second.code === 3,
    `exit ${second.code}: ${second.stderr.trim().split("\n").pop()}`,
  );
}

/**
 * The watchdog sees the API as users do: through the edge proxy (over HTTPS for the domain, the
 * box trusting the issuer's root) within its latency threshold, and the certificate's days left.
 * `app-infra-watchdog --status` measures afresh; a few tries, as the VM may be busy.
 */
export async function checkWatchdogSeesApi(d: Deployed, r: Results) {
  let last = "";
  for (let i = 0; i < 6; i++) {
    const res = await d.ssh.exec("app-infra-watchdog --status", { timeoutS: 120 * d.slow });
    last = res.stdout;
    const api = /^api latency\s+(.*)$/m.exec(last)?.[1] ?? "";
    const cert = /^certificate\s+(.*)$/m.exec(last)?.[1] ?? "";
    if (/\bok\b/.test(api) && (!d.plan.edge.tls || /^\d+ days .*\bok\b/.test(cert))) {
      r.check(
        "the watchdog checks the API through the edge proxy and reads the certificate's days left",
        true,
        `api latency ${api.replace(/\s+/g, " ")}; certificate ${cert.replace(/\s+/g, " ")}`,
      );
      return;
    }
    await sleep(10_000);
  }
  r.check(
    "the watchdog checks the API through the edge proxy and reads the certificate's days left",
    false,
    last.slice(-1200),
  );
}
