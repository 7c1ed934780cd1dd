// A "Let's Encrypt front" for pebble: lets kamal-proxy's unmodified production ACME path (the CLI's
// `deploy --tls --host …`, which always means Let's Encrypt production) get its certificates from
// a pebble test server, with no change to kamal-proxy's state, flags or build.
//
// How, and what each step relies on (file:line at the versions named):
//   - kamal-proxy v0.9.2 builds its autocert client as `&acme.Client{DirectoryURL:
//     options.ACMEDirectory}` with no HTTPClient (internal/server/service.go:395-400); the CLI leaves
//     the directory empty unless --tls-staging (internal/cmd/deploy.go:37,78-80). golang.org/x/crypto
//     v0.46.0 (kamal-proxy's go.mod) then uses LetsEncryptURL, https://acme-v02.api.letsencrypt.org/
//     directory (acme/acme.go:47, :215-220), through http.DefaultClient (acme/http.go:264-269).
//   - http.DefaultClient has no Transport, so DefaultTransport (Go 1.26 net/http/client.go:109,
//     :204-209), whose Proxy is ProxyFromEnvironment (transport.go:46-47): HTTPS_PROXY, read once
//     per process (transport.go:971-976; vendor/golang.org/x/net/http/httpproxy/proxy.go:90-97),
//     is used for https:// request URLs only (proxy.go:127-145), never for localhost or a loopback
//     IP (proxy.go:170-188; the ACME host is neither). For an https URL Go sends
//     `CONNECT acme-v02.api.letsencrypt.org:443` to the proxy, and on a 200 does TLS to that name
//     through the tunnel (transport.go:1860-1945); a non-200 fails the request with the status text.
//   - This front accepts that CONNECT (and no other: a 403 whose reason names the one allowed
//     target, recorded in `refused`), terminates TLS with a certificate for the Let's Encrypt name
//     signed by a throwaway CA that kamal-proxy trusts (SSL_CERT_FILE, or the image's trust store),
//     and forwards every request to pebble, mapping Let's Encrypt's `/directory` to pebble's `/dir`
//     (letsencrypt/pebble v2.4.0 wfe/wfe.go:42).
//   - The Host header is passed on unchanged. Pebble writes every URL it hands out (directory,
//     Location, Link) from the request's Host (wfe.go:586-610), so they all name the Let's Encrypt
//     host and come back through this front; and it checks each signed request's JWS "url" against
//     https://<Host><RequestURI> (wfe.go:904-914), which therefore matches. Had the front rewritten
//     Host to pebble's 127.0.0.1:<port>, kamal-proxy would reach those URLs directly (loopback is
//     never proxied), which on the VM lab's guest is not where pebble runs.
//   - Nothing else kamal-proxy sends is affected, with HTTP_PROXY left unset: targets are always
//     http:// URLs (internal/server/target.go:470-477), proxied with a Transport that has no Proxy
//     (target.go:300-303), and health checks are http:// GETs through http.DefaultClient
//     (health_check.go:82,94), which only HTTP_PROXY could redirect (proxy.go:131-136). No NO_PROXY
//     is needed. kamal-proxy's own environment settings (KAMAL_PROXY_<X> or <X>,
//     internal/cmd/util.go:22-34) are DEBUG, HTTP_PORT, HTTPS_PORT, METRICS_PORT (cmd/run.go:27-30):
//     no clash with HTTPS_PROXY.
//
// For the VM lab: the front listens on an address the guest can reach (`listenHost`); the
// kamal-proxy image carries HTTPS_PROXY=<front> and the throwaway CA in its trust store.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import tls from "node:tls";

/** The host of x/crypto's LetsEncryptURL (golang.org/x/crypto v0.46.0 acme/acme.go:47). */
export const LETS_ENCRYPT_HOST = "acme-v02.api.letsencrypt.org";
/** The only CONNECT target the front accepts. */
export const LETS_ENCRYPT_AUTHORITY = `${LETS_ENCRYPT_HOST}:443`;
const LETS_ENCRYPT_DIRECTORY_PATH = "/directory";
const PEBBLE_DIRECTORY_PATH = "/dir"; // letsencrypt/pebble v2.4.0 wfe/wfe.go:42

// Headers of one hop, not to be passed on (RFC 9110 §7.6.1).
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade"];

export interface TestCa {
  /** The CA certificate (PEM) and its file, e.g. for SSL_CERT_FILE. */
  caPem: string;
  caFile: string;
  /** A leaf certificate signed by this CA for the given DNS names and IP addresses. */
  issue(
    base: string,
    names: { dns?: string[]; ip?: string[] },
  ): { cert: string; key: string; certFile: string; keyFile: string };
}

/**
 * A throwaway P-256 CA in `dir` (openssl; Node can parse certificates but not make them), valid
 * for 2 days. Its key never leaves `dir`.
 */
export function makeTestCa(dir: string, commonName: string): TestCa {
  // Arguments as one string split on spaces, so no value below may contain a space.
  const ossl = (args: string) => execFileSync("openssl", args.split(" "), { cwd: dir, stdio: "pipe" });
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  if (!/^[\w.-]+$/.test(commonName)) throw new Error(`makeTestCa: "${commonName}" is not a plain name`);
  ossl(`req -x509 ${ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=${commonName}`);
  let serial = 0;
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  return {
    caPem: read("ca.pem"),
    caFile: join(dir, "ca.pem"),
    issue(base, names) {
      const all = [...(names.dns ?? []), ...(names.ip ?? [])];
      if (!/^[a-z0-9-]+$/.test(base) || all.length === 0 || !all.every((n) => /^[\w.:-]+$/.test(n)))
        throw new Error(`issue(${base}, ${JSON.stringify(names)}): plain names, at least one, are needed`);
      const sans = [...(names.dns ?? []).map((n) => `DNS:${n}`), ...(names.ip ?? []).map((n) => `IP:${n}`)];
      ossl(`req ${ec} -keyout ${base}.key -out ${base}.csr -subj /CN=${all[0]}`);
      writeFileSync(join(dir, `${base}.ext`), `subjectAltName=${sans.join(",")}\n`);
      serial += 1;
      ossl(
        `x509 -req -in ${base}.csr -CA ca.pem -CAkey ca.key -set_serial ${serial} -days 2 ` +
          `-extfile ${base}.ext -out ${base}.pem`,
      );
      return {
        cert: read(`${base}.pem`),
        key: read(`${base}.key`),
        certFile: join(dir, `${base}.pem`),
        keyFile: join(dir, `${base}.key`),
      };
    },
  };
}

export interface AcmeFrontOptions {
  /** Pebble's ACME listener, and how to verify its certificate. */
  pebble: { host: string; port: number; ca: string; servername: string };
  /** The certificate and key the front presents as LETS_ENCRYPT_HOST. */
  cert: string;
  key: string;
  /** Where the front listens; 127.0.0.1 unless a VM must reach it. */
  listenHost?: string;
}

export interface ForwardedRequest {
  method: string;
  /** The path kamal-proxy asked for, and the path pebble got. */
  path: string;
  pebblePath: string;
  status: number;
}

export interface AcmeFront {
  port: number;
  /** The value of HTTPS_PROXY for kamal-proxy. */
  proxyUrl: string;
  /** Accepted CONNECT targets, one per tunnel. */
  tunnels: string[];
  /** Refused attempts: "CONNECT <target>" or "<METHOD> <url>" for a plain proxy request. */
  refused: string[];
  requests: ForwardedRequest[];
  /** Failures while forwarding (pebble unreachable, a TLS error in a tunnel). */
  errors: string[];
  close(): Promise<void>;
}

export async function startAcmeFront(opts: AcmeFrontOptions): Promise<AcmeFront> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const requests: ForwardedRequest[] = [];
  const errors: string[] = [];
  const sockets = new Set<Socket>();
  const secureContext = tls.createSecureContext({ cert: opts.cert, key: opts.key });

  // The requests inside the tunnels: plain HTTP/1.1 once TLS is off (no ALPN is offered, so Go's
  // client, which would take h2, stays on HTTP/1.1).
  const inner = http.createServer((req, res) => {
    const path = req.url ?? "/";
    const host = req.headers.host ?? "";
    if (host !== LETS_ENCRYPT_HOST && host !== LETS_ENCRYPT_AUTHORITY) {
      refused.push(`${req.method} https://${host}${path}`);
      res
        .writeHead(421, { "content-type": "text/plain" })
        .end(`acme-front serves ${LETS_ENCRYPT_HOST} only\n`);
      return;
    }
    const pebblePath = path === LETS_ENCRYPT_DIRECTORY_PATH ? PEBBLE_DIRECTORY_PATH : path;
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const out = https.request(
      {
        host: opts.pebble.host,
        port: opts.pebble.port,
        method: req.method,
        path: pebblePath,
        // Host stays LETS_ENCRYPT_HOST (see the header); the TLS name checked is pebble's own.
        headers,
        servername: opts.pebble.servername,
        ca: opts.pebble.ca,
        agent: false,
      },
      (pres) => {
        requests.push({ method: req.method ?? "", path, pebblePath, status: pres.statusCode ?? 0 });
        const back = { ...pres.headers };
        for (const h of HOP_BY_HOP) delete back[h];
        res.writeHead(pres.statusCode ?? 502, back);
        pres.pipe(res);
      },
    );
    out.on("error", (err) => {
      errors.push(`${req.method} ${path} → pebble: ${String(err)}`);
      requests.push({ method: req.method ?? "", path, pebblePath, status: 502 });
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`acme-front: pebble unreachable: ${String(err)}\n`);
    });
    req.pipe(out);
  });

  const outer = http.createServer((req, res) => {
    // A plain-HTTP proxy request (what HTTP_PROXY would send): never ours to forward.
    refused.push(`${req.method} ${req.url}`);
    res
      .writeHead(405, { "content-type": "text/plain" })
      .end(`acme-front tunnels CONNECT ${LETS_ENCRYPT_AUTHORITY} only\n`);
  });
  outer.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  outer.on("connect", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", (err) => errors.push(`tunnel ${req.url}: ${String(err)}`));
    const target = req.url ?? "";
    if (target !== LETS_ENCRYPT_AUTHORITY) {
      refused.push(`CONNECT ${target}`);
      // Go returns the reason phrase as the request's error (transport.go:1931-1937), so it
      // shows up in kamal-proxy's log.
      socket.end(
        `HTTP/1.1 403 acme-front tunnels only to ${LETS_ENCRYPT_AUTHORITY}\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    tunnels.push(target);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    // Go waits for the 200 before its ClientHello (transport.go:1898-1945), so `head` is empty;
    // put back anything a client sent early.
    if (head.length > 0) socket.unshift(head);
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
    secure.on("error", (err) => errors.push(`TLS in tunnel: ${String(err)}`));
    inner.emit("connection", secure);
  });

  const listenHost = opts.listenHost ?? "127.0.0.1";
  await new Promise<void>((done, fail) => {
    outer.once("error", fail);
    outer.listen(0, listenHost, done);
  });
  const port = (outer.address() as AddressInfo).port;
  return {
    port,
    proxyUrl: `http://${listenHost}:${port}`,
    tunnels,
    refused,
    requests,
    errors,
    close: () =>
      new Promise<void>((done) => {
        // Tunnels are detached from `outer` after 'connect', so close() alone would wait on them.
        for (const s of sockets) s.destroy();
        inner.closeAllConnections();
        outer.close(() => done());
      }),
  };
}
