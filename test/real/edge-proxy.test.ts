// The edge-proxy contract the health-gated API deploy relies on (issue 14), pinned against the real
// kamal-proxy v0.9.2 binary on loopback: built by tools/kamal-proxy/build.sh from the Go module
// proxy (cached per content hash), run with HOME and XDG_RUNTIME_DIR inside this test's temporary
// directory, in front of small node http upstreams (test/real/support/http-load.ts).
//
// What is pinned (kamal-proxy file:line at v0.9.2, read from the Go module cache):
//   - `deploy` health-checks the new target and switches only once it answers 2xx on the path
//     (internal/server/router.go:108-131, load_balancer.go:136-147, health_check.go:109);
//   - a target that never becomes healthy fails the command after --deploy-timeout with
//     "target failed to become healthy" (router.go:18) and exit 1 (internal/cmd/root.go:32-35),
//     and nothing is installed, so the old target keeps serving;
//   - the command returns only after the replaced target drained (router.go:124-127);
//   - routes survive a restart: the state is saved at every deploy (router.go:320, :344-365) and
//     restored at start (cmd/run.go:75-76, router.go:61-91), targets marked healthy unchecked
//     (service.go:279-280);
//   - TLS from an ACME server through kamal-proxy's own autocert path (service.go:395-400), with a
//     service deployed by the plain CLI (`deploy --tls --host`, i.e. Let's Encrypt production):
//     pebble answers behind a "Let's Encrypt front" (test/real/support/acme-front.ts) that
//     kamal-proxy reaches through HTTPS_PROXY. The certificate is reused from its cache after a
//     restart and a second CLI deploy. See "ACME" below.
//
// kamal-proxy v0.9.2 has no flag for its listen address: Config.Bind is never set by the CLI
// (internal/cmd/run.go:63-67), so it listens on ":<port>" (internal/server/server.go:134-135),
// i.e. on every interface, for the seconds this test runs, on random free ports. Every request of
// this test goes to 127.0.0.1; all other servers (upstreams, pebble, the ACME front) bind 127.0.0.1
// only.
//
// Needs: Go (the machine's toolchain, with the module proxy), `flock` (util-linux), and for the
// ACME part `pebble` and `openssl` (Debian packages pebble, openssl); a missing one fails loudly.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LETS_ENCRYPT_HOST, type AcmeFront } from "./support/acme-front";
import { run, runOk, type RunResult } from "./support/docker";
import {
  failed,
  get,
  startLoad,
  startUpstream,
  summary,
  type Reply,
  type Upstream,
} from "./support/http-load";
import { freePort } from "../support/net";
import { requireTool, startPebble, type Pebble } from "./support/pebble";

const BUILD = resolve(__dirname, "../../tools/kamal-proxy/build.sh");
const RATE_PER_S = 20;
const TLS_HOST = "api.lab.test";
// The in-flight request of the drain test: long enough to outlast the switch on a busy machine.
const SLOW_MS = 3000;

const tmp = mkdtempSync(join(tmpdir(), "edge-proxy-test-"));
const home = join(tmp, "home");
const runtimeDir = join(tmp, "run");
const pebbleDir = join(tmp, "pebble");
const figures: Record<string, string> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let kamalProxy = "";
let httpPort = 0;
let httpsPort = 0;
let proxy: { child: ChildProcess; log: string[] } | undefined;
let pebble: Pebble | undefined;
const upstreams: Upstream[] = [];
let A: Upstream, B: Upstream, C: Upstream, broken: Upstream;

// A minimal environment: kamal-proxy reads KAMAL_PROXY_<X> and also a bare <X> (e.g. HTTP_PORT,
// DEBUG) from the environment (internal/cmd/util.go:22-34), so a developer's shell must not leak
// in. HOME decides the state and certificate directory ($HOME/.config/kamal-proxy, config.go:43-60),
// XDG_RUNTIME_DIR the control socket (config.go:25-27,39-41); the CLI needs the same two to find
// the server and to name the ACME cache (cmd/deploy.go:40).
function proxyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_RUNTIME_DIR: runtimeDir, ...extra };
}

function collect(child: ChildProcess, log: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8").on("data", (d: string) => {
      log.push(d);
      if (log.length > 2000) log.splice(0, 1000);
    });
  }
}

async function startProxy(extraEnv: Record<string, string> = {}): Promise<void> {
  const child = spawn(
    kamalProxy,
    ["run", "--http-port", String(httpPort), "--https-port", String(httpsPort)],
    { env: proxyEnv(extraEnv), stdio: ["ignore", "pipe", "pipe"] },
  );
  const log: string[] = [];
  collect(child, log);
  proxy = { child, log };
  // "Server started" is logged after the listeners and the control socket are up (server.go:48-66).
  for (let i = 0; !log.join("").includes('"msg":"Server started"'); i++) {
    if (child.exitCode !== null || i > 200)
      throw new Error(`kamal-proxy run did not start:\n${log.join("")}`);
    await sleep(50);
  }
}

async function stopProxy(signal: NodeJS.Signals): Promise<void> {
  const p = proxy;
  proxy = undefined;
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once("exit", r));
  p.child.kill(signal);
  await exited;
}

interface Deploy extends RunResult {
  ms: number;
  endedAt: number;
}

async function deploy(service: string, target: Upstream, ...flags: string[]): Promise<Deploy> {
  const started = performance.now();
  const res = await run(
    kamalProxy,
    ["deploy", service, "--target", `127.0.0.1:${target.port}`, "--health-check-path", "/up", ...flags],
    { env: proxyEnv(), timeoutMs: 45_000 },
  );
  const endedAt = performance.now();
  return { ...res, ms: endedAt - started, endedAt };
}

const url = (path = "/") => `http://127.0.0.1:${httpPort}${path}`;

beforeAll(async () => {
  requireTool("go", "the Go toolchain, to build kamal-proxy from the Go module proxy");
  requireTool("flock", "Debian package util-linux");
  mkdirSync(home, { recursive: true });
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  const started = performance.now();
  // Cold (empty Go build cache) the build took 303 s here with the 2 cores shared (load 13);
  // 68 s of CPU. Cached, it answers in well under a second.
  const built = await run(BUILD, [], { timeoutMs: 590_000 });
  if (built.code !== 0) throw new Error(`${BUILD} failed:\n${built.stderr}`);
  kamalProxy = built.stdout.trim().split("\n").at(-1) ?? "";
  figures["build.sh, s"] = `${((performance.now() - started) / 1000).toFixed(1)} (${built.stderr.trim()})`;
  [httpPort, httpsPort] = [await freePort(), await freePort()];
  A = await startUpstream("A");
  B = await startUpstream("B", { slowMs: SLOW_MS });
  C = await startUpstream("C", { slowMs: SLOW_MS });
  broken = await startUpstream("broken", { healthy: false });
  upstreams.push(A, B, C, broken);
  await startProxy();
}, 600_000);

afterAll(async () => {
  await stopProxy("SIGTERM");
  await pebble?.stop();
  await Promise.all(upstreams.map((u) => u.close()));
  rmSync(tmp, { recursive: true, force: true });
  console.info(`edge-proxy figures: ${JSON.stringify(figures, null, 2)}`);
});

describe("kamal-proxy v0.9.2: health-gated deploys", () => {
  it("a first deploy creates the service and serves A", async () => {
    const d = await deploy("api", A);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    const r = await get(url());
    expect(r).toMatchObject({ status: 200, body: "A" });
    figures["first deploy (A), ms"] = d.ms.toFixed(0);
  });

  it("deploying B under a steady request stream switches to B with no failed request", async () => {
    const load = startLoad(url(), RATE_PER_S);
    await sleep(1000);
    const d = await deploy("api", B);
    await sleep(1500);
    const replies = await load.stop();
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(replies.filter(failed)).toEqual([]);
    // Both releases answered during the step (else it proved nothing), and B answers at the end.
    expect(replies.some((r) => r.body === "A")).toBe(true);
    expect(replies.at(-1)?.body).toBe("B");
    expect((await get(url())).body).toBe("B");
    figures["switch A→B under load"] = `${summary(replies)}; deploy ${d.ms.toFixed(0)} ms`;
  });

  it("a target that never becomes healthy fails the deploy, and B keeps answering every request", async () => {
    const load = startLoad(url(), RATE_PER_S);
    await sleep(500);
    const d = await deploy("api", broken, "--deploy-timeout", "3s");
    await sleep(1000);
    const replies = await load.stop();
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/target failed to become healthy within configured timeout \(3s\)/);
    // The gate waited for the timeout: it did not give up early, nor hang.
    expect(d.ms).toBeGreaterThan(2500);
    expect(replies.filter(failed)).toEqual([]);
    expect(new Set(replies.map((r) => r.body))).toEqual(new Set(["B"]));
    // The broken target was health-checked (so the gate ran) but never sent a client request.
    expect(broken.hits.get("/up") ?? 0).toBeGreaterThan(0);
    expect([...broken.hits.keys()]).toEqual(["/up"]);
    figures["failed deploy (503 on /up)"] =
      `${summary(replies)}; exit ${d.code} after ${d.ms.toFixed(0)} ms: ${d.stderr.trim()}`;
  });

  it("a request in flight to B completes when C is deployed, and the deploy returns only after it", async () => {
    const slow = get(url("/slow")); // B answers /slow after SLOW_MS
    for (let i = 0; !B.hits.get("/slow"); i++) {
      if (i > 100) throw new Error("the /slow request did not reach B");
      await sleep(20);
    }
    const deploying = deploy("api", C);
    // While B drains, new requests already go to C: the switch happens before the drain
    // (router.go:117-127: install the new load balancer, then drain the replaced one). Polled, as
    // the switch waits for C's first health check, and this machine's CPU is shared.
    let during: Reply;
    do {
      await sleep(100);
      during = await get(url());
    } while (during.body !== "C" && B.slowEnds.length === 0);
    const switchedWhileDraining = B.slowEnds.length === 0;
    const [slowReply, d] = await Promise.all([slow, deploying]);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(during).toMatchObject({ status: 200, body: "C" });
    expect(switchedWhileDraining).toBe(true);
    expect(slowReply).toMatchObject({ status: 200, body: "B" });
    // B finished writing the slow answer before the deploy command exited.
    expect(B.slowEnds).toHaveLength(1);
    expect(d.endedAt).toBeGreaterThanOrEqual(B.slowEnds[0]);
    expect((await get(url())).body).toBe("C");
    figures["drain"] =
      `in-flight /slow: ${slowReply.status} from ${slowReply.body} in ${slowReply.ms.toFixed(0)} ms; ` +
      `deploy returned after ${d.ms.toFixed(0)} ms, ${(d.endedAt - B.slowEnds[0]).toFixed(0)} ms after B's answer`;
  });

  it("after kamal-proxy is killed and restarted, it routes to the last target without a redeploy", async () => {
    // SIGKILL: nothing is saved on the way down, so what comes back was saved at deploy time.
    await stopProxy("SIGKILL");
    const down = await get(url(), { timeoutMs: 2000 });
    expect(down.error).toBeDefined();
    const started = performance.now();
    await startProxy();
    const r = await get(url());
    expect(r).toMatchObject({ status: 200, body: "C" });
    expect(proxy?.log.join("")).toMatch(/"msg":"Restored saved state"/);
    const list = await runOk(kamalProxy, ["list"], { env: proxyEnv() });
    // `list` colours its table unconditionally (internal/cmd/formatting.go:25-54).
    const table = list.stdout.replace(/\x1b\[[0-9;]*m/g, "");
    expect(table).toMatch(new RegExp(`api\\s.*127\\.0\\.0\\.1:${C.port}`));
    figures["restart to first answer, ms"] = (performance.now() - started).toFixed(0);
  });
});

// ACME, through kamal-proxy's production path. Its CLI can only choose Let's Encrypt production (no
// flag: the directory stays empty) or staging (--tls-staging, cmd/deploy.go:37,78-80), and that is
// what the lab's deploys will send too. So the test leaves kamal-proxy's directory alone and puts a
// "Let's Encrypt front" (test/real/support/acme-front.ts, where each step is cited) between it and
// pebble: kamal-proxy runs with HTTPS_PROXY pointing at the front, which accepts only
// `CONNECT acme-v02.api.letsencrypt.org:443`, answers TLS for that name with a certificate from this
// test's throwaway CA (trusted through SSL_CERT_FILE: Go's crypto/x509 root_unix.go:19, as the acme
// client uses Go's default transport, service.go:399 sets no HTTPClient), and forwards to pebble.
// Health checks and the reverse proxy are plain http:// and never use HTTPS_PROXY (acme-front.ts).
describe("kamal-proxy v0.9.2: TLS from an ACME server (pebble) through its own autocert path", () => {
  let root0 = ""; // pebble's issuing root, which HTTPS clients trust
  let front: AcmeFront | undefined;
  let caFile = "";
  const issued = () => pebble?.issued() ?? 0;
  // What kamal-proxy runs with from here on: nothing that names pebble.
  const acmeEnv = () => ({ SSL_CERT_FILE: caFile, HTTPS_PROXY: front?.proxyUrl ?? "" });
  const tlsDeploy = (target: Upstream) => deploy("api-tls", target, "--host", TLS_HOST, "--tls");
  const savedService = () => {
    const statePath = join(home, ".config/kamal-proxy/kamal-proxy.state");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as {
      name: string;
      options: { acme_directory?: string; acme_cache_path?: string };
    }[];
    const svc = state.find((s) => s.name === "api-tls");
    if (!svc) throw new Error(`no service api-tls in ${statePath}: ${JSON.stringify(state)}`);
    return svc;
  };

  function httpsGet(ca = root0): Promise<Reply & { serial: string }> {
    const started = performance.now();
    return new Promise((done) => {
      const req = https.get(
        {
          host: "127.0.0.1",
          port: httpsPort,
          path: "/",
          servername: TLS_HOST,
          headers: { host: TLS_HOST },
          // An empty `ca` means Node's bundled roots, which pebble's root is not among.
          ca: ca || undefined,
          agent: false,
        },
        (res) => {
          const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
          let body = "";
          res.setEncoding("utf8").on("data", (d: string) => (body += d));
          res.on("end", () =>
            done({ status: res.statusCode ?? 0, body, serial, ms: performance.now() - started }),
          );
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error("timed out")));
      req.on("error", (err) =>
        done({ status: 0, body: "", serial: "", error: String(err), ms: performance.now() - started }),
      );
    });
  }

  beforeAll(async () => {
    pebble = await startPebble(pebbleDir);
    root0 = pebble.root0;
    front = pebble.front;
    caFile = pebble.frontCaFile;
  }, 60_000);

  let firstSerial = "";

  it("a TLS service deployed by the plain CLI gets its certificate from pebble through the front", async () => {
    await stopProxy("SIGTERM");
    await startProxy(acmeEnv());
    const d = await tlsDeploy(A);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    // What the CLI sent: Let's Encrypt production (an empty directory), not touched afterwards.
    const svc = savedService();
    expect(svc.options.acme_directory).toBe("");
    expect(issued()).toBe(0);

    const r = await httpsGet();
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: 200, body: "A" });
    expect(r.serial).toMatch(/^[0-9A-F]+$/);
    expect(issued()).toBe(1);
    firstSerial = r.serial;
    // Every ACME request went through the front, to the Let's Encrypt name, and nothing else did.
    const f = front as AcmeFront;
    expect(f.refused).toEqual([]);
    expect(f.errors).toEqual([]);
    expect(f.tunnels.length).toBeGreaterThan(0);
    expect(new Set(f.tunnels)).toEqual(new Set([`${LETS_ENCRYPT_HOST}:443`]));
    expect(f.requests[0]).toMatchObject({
      method: "GET",
      path: "/directory",
      pebblePath: "/dir",
      status: 200,
    });
    // The order was finalized and the certificate fetched through the front (pebble's paths,
    // letsencrypt/pebble v2.4.0 wfe/wfe.go:46-58), each answered without an error.
    expect(f.requests.some((q) => q.path.startsWith("/finalize-order/"))).toBe(true);
    expect(f.requests.some((q) => q.path.startsWith("/certZ/"))).toBe(true);
    expect(f.requests.filter((q) => q.status >= 400)).toEqual([]);
    // The check is real: without pebble's root, the same request is refused.
    const untrusted = await httpsGet("");
    expect(untrusted.error).toMatch(/unable to (get local issuer|verify the first) certificate/);
    // The certificate sits in kamal-proxy's cache under sha256("") (service.go:113-124): the
    // scope a real Let's Encrypt production certificate would have.
    const scoped = join(svc.options.acme_cache_path ?? "", createHash("sha256").update("").digest("hex"));
    expect(existsSync(join(scoped, TLS_HOST))).toBe(true);
    // The plain-HTTP service is unaffected.
    expect((await get(url())).body).toBe("C");
    figures["first HTTPS request (ACME order from pebble through the front), ms"] = r.ms.toFixed(0);
    figures["ACME requests through the front"] =
      `${f.requests.length} in ${f.tunnels.length} tunnel(s): ` +
      f.requests.map((q) => `${q.method} ${q.path.replace(/\/[^/]{12,}$/, "/…")} ${q.status}`).join(", ");
    figures["ACME cache"] = readdirSync(scoped).join(", ");
  });

  it("after a restart and a second CLI deploy with a new target, the same certificate is served and nothing new is ordered", async () => {
    const f = front as AcmeFront;
    const seen = f.requests.length;
    await stopProxy("SIGTERM");
    await startProxy(acmeEnv());
    const afterRestart = await httpsGet();
    expect(afterRestart.error).toBeUndefined();
    expect(afterRestart).toMatchObject({ status: 200, body: "A", serial: firstSerial });
    // The deploy the lab will repeat at every release: same flags, a new target.
    const d = await tlsDeploy(B);
    expect(d.stderr).toBe("");
    expect(d.code).toBe(0);
    expect(savedService().options.acme_directory).toBe("");
    const r = await httpsGet();
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: 200, body: "B", serial: firstSerial });
    expect(issued()).toBe(1);
    // Not even a directory lookup: the certificate came from the cache.
    expect(f.requests.length).toBe(seen);
    expect(f.refused).toEqual([]);
    figures["certificate serial (same after restart and redeploy)"] = r.serial;
  });

  it("the front refuses a tunnel to anything but Let's Encrypt, and a plain proxy request", async () => {
    const f = front as AcmeFront;
    const connect = (target: string) =>
      new Promise<number>((done, fail) => {
        const req = http.request({
          host: "127.0.0.1",
          port: f.port,
          method: "CONNECT",
          path: target,
          agent: false,
        });
        req.on("connect", (res, socket) => {
          socket.destroy();
          done(res.statusCode ?? 0);
        });
        req.on("error", fail);
        req.end();
      });
    expect(await connect("example.org:443")).toBe(403);
    expect(await connect("127.0.0.1:443")).toBe(403);
    expect(await connect(`${LETS_ENCRYPT_HOST}:80`)).toBe(403);
    const plain = await get(`http://127.0.0.1:${f.port}/`, { headers: { host: "example.org" } });
    expect(plain.status).toBe(405);
    expect(f.refused).toEqual([
      "CONNECT example.org:443",
      "CONNECT 127.0.0.1:443",
      `CONNECT ${LETS_ENCRYPT_HOST}:80`,
      "GET /",
    ]);
  });
});
