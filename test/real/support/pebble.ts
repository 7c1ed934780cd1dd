// A local ACME test server (Debian's `pebble`) behind the "Let's Encrypt front" (acme-front.ts):
// what kamal-proxy's unmodified production ACME path gets its certificates from, in the edge-proxy
// test (test/real/edge-proxy.test.ts) and in the VM lab (test/lab). Everything listens on 127.0.0.1
// (the lab's guest reaches the front as qemu's 10.0.2.2, which is the host's loopback).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { freePort } from "../../support/net";
import { LETS_ENCRYPT_HOST, makeTestCa, startAcmeFront, type AcmeFront } from "./acme-front";

export interface Pebble {
  /** Pebble's issuing root of this run (pebble makes a new one at every start): what HTTPS clients trust. */
  root0: string;
  /** The front kamal-proxy reaches through HTTPS_PROXY. */
  front: AcmeFront;
  /** The throwaway CA that signed the front's Let's Encrypt name, and its file (SSL_CERT_FILE). */
  frontCaPem: string;
  frontCaFile: string;
  /** Certificates pebble has issued so far (its log's "Issued certificate serial" lines). */
  issued(): number;
  log(): string;
  stop(): Promise<void>;
}

export function requireTool(cmd: string, pkg: string): void {
  const found = execFileSync("bash", ["-c", `command -v ${cmd} || true`], { encoding: "utf8" }).trim();
  if (!found) throw new Error(`${cmd} not found: these tests need it (${pkg})`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fetchText(url: string, ca: string): Promise<string> {
  return new Promise<string>((done, fail) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () =>
          res.statusCode === 200 ? done(body) : fail(new Error(`${url}: ${res.statusCode}`)),
        );
      })
      .on("error", fail);
  });
}

/** Starts pebble and its front in `dir` (created); stop() ends both. */
export async function startPebble(dir: string): Promise<Pebble> {
  requireTool("pebble", "Debian package pebble: apt-get install -y pebble");
  requireTool("openssl", "Debian package openssl");
  mkdirSync(dir, { recursive: true });
  // Debian's pebble ships no listener certificate (dpkg -L pebble): a throw-away CA signs one for
  // 127.0.0.1/localhost, and the front's certificate for the Let's Encrypt name.
  const ca = makeTestCa(dir, "app-infra-test-CA");
  const listener = ca.issue("pebble", { dns: ["localhost"], ip: ["127.0.0.1"] });
  const leName = ca.issue("front", { dns: [LETS_ENCRYPT_HOST] });
  const [listen, mgmt, httpChal, tlsChal] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: listener.certFile,
        privateKey: listener.keyFile,
        httpPort: httpChal,
        tlsPort: tlsChal,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const child: ChildProcess = spawn("pebble", ["-config", join(dir, "config.json")], {
    env: {
      PATH: process.env.PATH,
      // No challenge is really validated (nothing could reach a proxy on a test port or in a VM),
      // without the random validation sleep, and no deliberately rejected nonces: a deterministic run.
      PEBBLE_VA_ALWAYS_VALID: "1",
      PEBBLE_VA_NOSLEEP: "1",
      PEBBLE_WFE_NONCEREJECT: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    stream?.setEncoding("utf8").on("data", (d: string) => {
      log.push(d);
      if (log.length > 2000) log.splice(0, 1000);
    });
  const stopPebble = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  try {
    for (let i = 0; ; i++) {
      try {
        await fetchText(`https://127.0.0.1:${listen}/dir`, ca.caPem);
        break;
      } catch (err) {
        if (child.exitCode !== null || i > 100)
          throw new Error(`pebble did not start (${String(err)}):\n${log.join("")}`);
        await sleep(100);
      }
    }
    const root0 = await fetchText(`https://127.0.0.1:${mgmt}/roots/0`, ca.caPem);
    const front = await startAcmeFront({
      pebble: { host: "127.0.0.1", port: listen, ca: ca.caPem, servername: "localhost" },
      cert: leName.cert,
      key: leName.key,
    });
    return {
      root0,
      front,
      frontCaPem: ca.caPem,
      frontCaFile: ca.caFile,
      issued: () => (log.join("").match(/Issued certificate serial/g) ?? []).length,
      log: () => log.join(""),
      stop: async () => {
        await front.close();
        await stopPebble();
      },
    };
  } catch (e) {
    await stopPebble();
    throw e;
  }
}
