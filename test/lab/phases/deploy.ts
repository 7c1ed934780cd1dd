// The first deploy, by the real engine: `pulumi preview`, then `pulumi up` of the server and its
// host steps, the app's images built in the VM (no registry is reachable here), then the full `up`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../engine";
import type { Deployed, LabContext } from "../context";
import { guestFrontUrl, kamalProxyBinary, PROXY_IMAGE, writeProxyContext } from "../edge";
import { APP_IMAGE, BASE_IMAGE, BROKEN_TAG } from "../lab-config";
import { shellJoin, waitHealthy } from "../remote";
import type { Results } from "../results";
import { run, Ssh } from "../vm";

const T = {
  server: "hcloud:index/server:Server",
  privateKey: "tls:index/privateKey:PrivateKey",
};

export async function previewNewStack(ctx: LabContext, r: Results) {
  const op = await ctx.pulumi.op(r, "preview (new stack)", ["preview", "--json"], 900 * ctx.slow);
  r.check(
    "a real `pulumi preview` of the new stack succeeds against the emulator",
    op.ok,
    op.ok ? `${JSON.stringify(op.changes)}` : (op.error ?? ""),
  );
  if (!op.ok) throw new Error("preview failed; nothing to deploy");
}

/**
 * `pulumi up` of the keys, the server and the host steps only (`--target` their components' URN
 * globs, plus the App component itself: the engine creates the App's explicit Docker provider
 * whatever the targets say, and refuses it without its parent — with `--exclude` of the App it
 * even writes the orphan and then fails the snapshot's integrity check; CLI v3.274.1). The Docker
 * provider only stores its settings at create; it dials nothing until a Docker resource needs it.
 * the images must be in the VM's Docker before the Docker provider looks for them, and no
 * registry is reachable here. A stand-in for the registry, not for Pulumi: the same program, the
 * same engine, two runs instead of one.
 */
export async function upServer(ctx: LabContext, r: Results): Promise<Deployed> {
  // `**` spans a component's children (pulumi up --help: "Wildcards (*, **) are also supported").
  const urn = (rest: string) => `urn:pulumi:${ctx.stack}::app-infra::app-infra:index:${rest}`;
  const targets = [urn("Keys**"), urn("Server**"), urn("Host**"), urn("App::app")].flatMap((t) => [
    "--target",
    t,
  ]);
  const op = await ctx.pulumi.op(
    r,
    "up (server and host steps)",
    ["up", "--yes", "--skip-preview", ...targets],
    1800 * ctx.slow,
  );
  r.check(
    "a real `pulumi up` creates the server on the emulator and runs the host steps over pinned SSH",
    op.ok,
    op.ok ? JSON.stringify(op.changes) : (op.error ?? ""),
  );
  if (!op.ok) throw new Error("the first up failed");
  const server = await ctx.pulumi.resource(T.server, "server-vm");
  const deploy = await ctx.pulumi.resource(T.privateKey, "keys-deploy");
  const host = await ctx.pulumi.resource(T.privateKey, "keys-host");
  const ip = String(server.outputs?.ipv4Address ?? "");
  const deployKeyFile = join(ctx.tmp, "deploy_key");
  // OpenSSH wants the key file to end with a newline ("error in libcrypto" otherwise).
  writeFileSync(deployKeyFile, `${String(deploy.outputs?.privateKeyOpenssh ?? "").trimEnd()}\n`, {
    mode: 0o600,
  });
  const hostPublicKey = String(host.outputs?.publicKeyOpenssh ?? "").trim();
  r.figure("server", { ip, type: server.outputs?.serverType, id: server.id });
  const ssh = new Ssh(ctx.tmp, 22, deployKeyFile, hostPublicKey, ip);
  const who = await ssh.exec("true", { timeoutS: 60 });
  r.check(
    "the lab reaches the server as the program does: root@<ip>:22 with the deploy key and only the pinned host key",
    who.code === 0,
    who.code === 0 ? `${ip}:22` : who.stderr.trim(),
  );
  return { ...ctx, ip, ssh, deployKeyFile, hostPublicKey };
}

/** The reference app (tag 1, and tag 2 for the image bump), the Redis stand-in and the edge proxy, built in the VM's Docker. */
export async function buildImages(d: Deployed, r: Results) {
  const { slow, tmp } = d;
  // Each step's time goes to the report: under TCG this phase is among the longest.
  const ssh = {
    must: async (what: string, command: string, opts?: Parameters<Ssh["must"]>[2]) => {
      const t0 = Date.now();
      const out = await d.ssh.must(what, command, opts);
      r.figure(`images in the VM: ${what} (s)`, Math.round((Date.now() - t0) / 100) / 10);
      return out;
    },
    exec: d.ssh.exec.bind(d.ssh),
  };
  await ssh.must(
    "docker import",
    `docker image inspect ${BASE_IMAGE} >/dev/null 2>&1 || docker import - ${BASE_IMAGE} < /dev/disk/by-id/virtio-labbase`,
    { timeoutS: 900 * slow },
  );
  const ctxTar = join(tmp, "reference-app.tar");
  run("tar", ["-C", join(ROOT, "examples", "reference-app"), "--exclude=__pycache__", "-cf", ctxTar, "."]);
  for (const tag of [1, 2]) {
    // Tag 2 differs by a label only: a new image ID, as a new release has.
    await ssh.must(
      `docker build reference-app:${tag}`,
      `docker build -q --label app-infra-lab.release=${tag} -t ${APP_IMAGE(tag)} -`,
      { stdin: { file: ctxTar }, timeoutS: 600 * slow },
    );
  }
  // A deliberately broken API release: it starts, and answers every request (its health path too)
  // with a 503, as a release with a broken dependency does.
  const brokenDir = join(tmp, "broken-release");
  writeBrokenContext(brokenDir, APP_IMAGE(1));
  const brokenTar = join(tmp, "broken-release.tar");
  run("tar", ["-C", brokenDir, "-cf", brokenTar, "."]);
  await ssh.must(
    `docker build reference-app:${BROKEN_TAG}`,
    `docker build -q --label app-infra-lab.release=${BROKEN_TAG} -t ${APP_IMAGE(BROKEN_TAG)} -`,
    { stdin: { file: brokenTar }, timeoutS: 600 * slow },
  );
  // The edge proxy: kamal-proxy from the Go module proxy (cached by tools/kamal-proxy/build.sh,
  // which npm test's edge-proxy test has run already in CI), pointed at the ACME front.
  const proxyDir = join(tmp, "kamal-proxy-image");
  mkdirSync(proxyDir);
  writeProxyContext(proxyDir, {
    binary: kamalProxyBinary(),
    frontCaPem: d.acme.frontCaPem,
    frontUrl: guestFrontUrl(d.acme.front.port),
    base: BASE_IMAGE,
  });
  const proxyTar = join(tmp, "kamal-proxy-image.tar");
  run("tar", ["-C", proxyDir, "-cf", proxyTar, "."]);
  await ssh.must("docker build kamal-proxy", `docker build -q -t ${shellJoin([PROXY_IMAGE])} -`, {
    stdin: { file: proxyTar },
    timeoutS: 600 * slow,
  });
  // A real box trusts Let's Encrypt's roots through its CA store (Ubuntu's ca-certificates), so the
  // watchdog's HTTPS check of the API verifies. The lab's issuer is pebble, whose root is new at each
  // start: it goes into the guest's store the same way (not into any container's).
  await ssh.must(
    "trust the ACME server's root",
    // The bundle curl reads (/etc/ssl/certs/ca-certificates.crt) gets the root appended, as
    // update-ca-certificates would write it; running that rehashes every certificate, one openssl
    // each, which took 158 s under TCG here. The file under /usr/local/share keeps it in the store
    // for any later update-ca-certificates.
    "install -m 0644 /dev/stdin /usr/local/share/ca-certificates/app-infra-lab-acme-root.crt && " +
      "cat /usr/local/share/ca-certificates/app-infra-lab-acme-root.crt >>/etc/ssl/certs/ca-certificates.crt",
    { stdin: d.acme.root0 },
  );
  // pebble sets a certificate's NotBefore to the second it issues it (letsencrypt/pebble
  // ca/ca.go:287), where Let's Encrypt backdates it for clients' clock skew; autocert refuses a
  // certificate that starts after its own clock ("certificate is not valid yet", golang.org/x/crypto
  // v0.46.0 acme/autocert/autocert.go:1123) and tries again only a minute later (:45). The TCG
  // guest's clock lags the host's by up to seconds, and a lab run saw exactly that refusal for
  // minutes. The guest goes 30 s ahead of the host (it has no NTP here); a reboot resets it from
  // the RTC, after the certificate is issued.
  await ssh.must(
    "guest clock 30 s ahead of pebble's",
    `date -s @${Math.floor(Date.now() / 1000) + 30} >/dev/null`,
  );
  const redisImage = d.plan.services.find((s) => s.role === "redis")!.image;
  await ssh.must("docker build redis stand-in", `docker build -q -t ${shellJoin([redisImage])} -`, {
    stdin: readFileSync(join(__dirname, "..", "images", "redis.Dockerfile"), "utf8"),
    timeoutS: 600 * slow,
  });
  const names = [...new Set(d.plan.services.map((s) => s.image))];
  const res = await ssh.exec(shellJoin(["docker", "image", "inspect", "-f", "{{.Id}}", ...names]));
  r.check(
    "every image the plan names exists in the VM's Docker (built there, nothing pulled)",
    res.code === 0,
    names.join(", "),
  );
}

/** The rest of the stack by a plain `pulumi up`: network, volume, images, containers, watchdog. */
export async function upAll(d: Deployed, r: Results) {
  const op = await d.pulumi.op(r, "up (the app)", ["up", "--yes", "--skip-preview"], 1800 * d.slow);
  r.check(
    "a real `pulumi up` deploys the containers through the Docker provider over ssh://",
    op.ok,
    op.ok ? JSON.stringify(op.changes) : (op.error ?? ""),
  );
  if (!op.ok) throw new Error("the app's up failed");
  const h = await waitHealthy(
    d.ssh,
    d.plan.services.map((s) => s.name),
    300 * d.slow,
  );
  r.check("every planned container is running and healthy", h.ok, h.detail);
  if (!h.ok) throw new Error("the app did not come up");
}

/** What the broken release's API says to every request, and prints to its log for each. */
export const BROKEN_MARK = "app-infra lab: a deliberately broken release answers 503";

/**
 * The reference app with its API module replaced by one that fails every request: a build context
 * with one COPY (a RUN would start a container, 20-40 s under TCG). The file is root's, as the
 * reference app's own files are; the image keeps running as 65534.
 */
export function writeBrokenContext(dir: string, base: string) {
  mkdirSync(dir, { recursive: true });
  const api = [
    "from fastapi import FastAPI",
    "from fastapi.responses import PlainTextResponse",
    "app = FastAPI()",
    "",
    '@app.get("/{path:path}")',
    "def broken(path: str):",
    `    print("${BROKEN_MARK}", flush=True)`,
    `    return PlainTextResponse("broken release", status_code=503)`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "api.py"), api, { mode: 0o644 });
  writeFileSync(join(dir, "Dockerfile"), [`FROM ${base}`, "COPY api.py /srv/app/web/api.py", ""].join("\n"));
}
