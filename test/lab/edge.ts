// The edge proxy (issue 14) as the lab's users meet it: the API only through kamal-proxy on the
// server's 80/443, for the stack's `domain`, over HTTPS verified against the ACME test server's
// root (pebble, test/real/support/pebble.ts). The lab's kamal-proxy image is the binary
// tools/kamal-proxy builds from the Go module proxy (no registry is reachable here), with the
// "Let's Encrypt front" as its HTTPS_PROXY and the front's throwaway CA as its trust store: the
// production ACME path of kamal-proxy, unmodified, ends at pebble.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { HTTPS_PORT, HTTP_PORT } from "../../src/plan/proxy";
import { GUEST_HOST } from "./receiver";

export interface EdgeClient {
  /** The server's address (the VM's 127.0.0.N, its 80/443 forwarded). */
  ip: string;
  /** The stack's domain: the TLS name and Host header; undefined = none (plain HTTP, any host). */
  host: string | undefined;
  tls: boolean;
  /** The root the certificate must chain to (pebble's). */
  ca: string;
}

export interface EdgeReply {
  status: number;
  body: string;
  ms: number;
  /** The served certificate's serial number (HTTPS only). */
  serial?: string;
  error?: string;
}

/** One request to the API through the edge proxy, as a client on the internet sends it. Never throws. */
export function edgeRequest(
  e: EdgeClient,
  path: string,
  method = "GET",
  timeoutMs = 120_000,
  /** A keep-alive agent to reuse connections; none = a new connection (and TLS handshake) each time. */
  agent?: http.Agent,
): Promise<EdgeReply> {
  const started = Date.now();
  const mod = e.tls ? https : http;
  return new Promise((done) => {
    const req = mod.request(
      {
        host: e.ip,
        port: e.tls ? HTTPS_PORT : HTTP_PORT,
        method,
        path,
        headers: e.host ? { host: e.host } : {},
        ...(e.tls ? { servername: e.host, ca: e.ca } : {}),
        agent: agent ?? false,
      },
      (res) => {
        const serial = e.tls ? (res.socket as TLSSocket).getPeerCertificate().serialNumber : undefined;
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () =>
          done({ status: res.statusCode ?? 0, body: body.slice(0, 500), ms: Date.now() - started, serial }),
        );
        res.on("error", (err) => done({ status: 0, body: "", ms: Date.now() - started, error: String(err) }));
      },
    );
    // A deadline from the moment the request is made, waiting for a pooled connection included
    // (a socket timeout would start only once one is free, and hide a queue).
    const deadline = setTimeout(() => req.destroy(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    req.on("close", () => clearTimeout(deadline));
    req.on("error", (err) =>
      done({ status: 0, body: String(err), ms: Date.now() - started, error: String(err) }),
    );
    req.end();
  });
}

/** The lab's kamal-proxy image: its tag in the stack config. */
export const PROXY_IMAGE = "app-infra-lab/kamal-proxy:v0.9.2";

/**
 * The kamal-proxy binary's path, from tools/kamal-proxy/build.sh (cached by content; npm test's
 * edge-proxy test and CI's prepare step have built it already).
 */
export function kamalProxyBinary(): string {
  const built = spawnSync("bash", [join(__dirname, "..", "..", "tools", "kamal-proxy", "build.sh")], {
    encoding: "utf8",
    timeout: 900_000,
  });
  if (built.status !== 0) throw new Error(`tools/kamal-proxy/build.sh failed: ${built.stderr.slice(-1500)}`);
  return built.stdout.trim().split("\n").at(-1) ?? "";
}

/**
 * The build context of the lab's kamal-proxy image, as a directory: the binary, the front's CA,
 * and a Dockerfile laid out as the official image's (user kamal-proxy, its state directory under
 * $HOME, `kamal-proxy run`), on the lab's Debian base. Docker lets a non-root user bind 80/443 in
 * a container (net.ipv4.ip_unprivileged_port_start=0 in each container's namespace since 20.10).
 */
export function writeProxyContext(
  dir: string,
  o: { binary: string; frontCaPem: string; frontUrl: string; base: string },
) {
  // One COPY of a tree, and no RUN: each instruction is a container under TCG. The user and its
  // state directory are in the lab's base (test/lab/build-image.sh).
  mkdirSync(join(dir, "rootfs", "usr", "local", "bin"), { recursive: true });
  mkdirSync(join(dir, "rootfs", "etc", "app-infra-lab"), { recursive: true });
  writeFileSync(join(dir, "rootfs", "usr", "local", "bin", "kamal-proxy"), readFileSync(o.binary), {
    mode: 0o755,
  });
  writeFileSync(join(dir, "rootfs", "etc", "app-infra-lab", "front-ca.pem"), o.frontCaPem, { mode: 0o644 });
  writeFileSync(
    join(dir, "Dockerfile"),
    [
      `FROM ${o.base}`,
      "COPY rootfs/ /",
      // Lab only: the ACME client's way to pebble (test/real/support/acme-front.ts).
      `ENV HTTPS_PROXY=${o.frontUrl} SSL_CERT_FILE=/etc/app-infra-lab/front-ca.pem`,
      "USER kamal-proxy",
      "EXPOSE 80 443",
      'CMD ["kamal-proxy", "run"]',
      "",
    ].join("\n"),
  );
}

/** The front as the guest reaches it (qemu's user network maps GUEST_HOST to the host's loopback). */
export function guestFrontUrl(port: number): string {
  return `http://${GUEST_HOST}:${port}`;
}

/** A keep-alive agent for `e`'s scheme: clients that reuse their connections, as browsers and bots do. */
export function keepAliveAgent(e: EdgeClient): http.Agent {
  return e.tls
    ? new https.Agent({ keepAlive: true, maxSockets: 16 })
    : new http.Agent({ keepAlive: true, maxSockets: 16 });
}
