// One Hetzner stack with every wiring-relevant setting away from its default, so an assertion can
// tell a value that reached its resource from one that was hard-coded or taken from the wrong place:
// adminCidrs, a private API on a custom port and health path, a private registry, the `env` secret,
// a user-supplied deploy key, non-default alert levels and a distinct image per role. Every
// expected value below is written out by hand, not computed by the code under test.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readScript } from "../../components/host";
import { SERVER_IP, mockDigest, mockImageId, runProgram, type ProgramRun } from "../support/mocks";
import { ed25519KeyPair, type OpensshKeyPair } from "../support/openssh-key";
import { T } from "./hetzner-stack";

const STACK = "qa";
const BOT_TOKEN = "123:qa-bot-token";
const FAL_KEY = "qa-fal-key";
const REGISTRY_PASSWORD = "ghp_qa-registry-token";
const IMAGES = {
  api: "ghcr.io/acme/api:1.2.3",
  bot: "ghcr.io/acme/bot:2.0.0",
  worker: "ghcr.io/acme/worker:3.1.0",
  redis: "redis:7.4.6-alpine",
} as const;
/** The mocked tls.PrivateKey's answer for the host key (test/support/mocks.ts). */
const HOST_PUBLIC_KEY = /^ssh-ed25519 \S+ keys-host$/;

let deployKey: OpensshKeyPair;
let run: ProgramRun;

beforeAll(async () => {
  deployKey = ed25519KeyPair("qa-deploy");
  run = await runProgram(
    STACK,
    {
      stage: "2",
      workers: 3,
      adminCidrs: ["198.51.100.7/32", "2001:db8:7::/48"],
      services: { api: { public: false, port: 8080, healthPath: "/healthz" }, worker: { queue: "jobs" } },
      registry: { server: "ghcr.io", username: "acme-bot" },
      images: IMAGES,
      alerts: {
        memoryPercent: 91,
        swapPercent: 40,
        cpuPercent: 85,
        queueLength: 60,
        apiLatencyMs: 1500,
        redisMemoryPercent: 80,
        forMinutes: 7,
        repeatMinutes: 45,
        intervalS: 120,
        telegramChatId: "-100777",
      },
      botToken: BOT_TOKEN,
      falKey: FAL_KEY,
      registryPassword: REGISTRY_PASSWORD,
      // REDIS_URL and APP_STACK are the plan's: the free-form env must not override them.
      env: { LOG_LEVEL: "debug", REDIS_URL: "redis://elsewhere:6379/9", APP_STACK: "not-qa" },
      deployPrivateKey: deployKey.privateKey,
    },
    ["botToken", "falKey", "registryPassword", "env", "deployPrivateKey"],
  );
});

// The shipped text (scripts/lib inlined), as index.ts sends it.
const script = (f: string) => readScript(f);
const container = (n: string) => run.one(T.container, `app-${n}`);

describe("non-default stack: firewall", () => {
  it("SSH only from adminCidrs, ping from everywhere, and no HTTP(S) rule when services/api/public is false", () => {
    expect(run.one(T.firewall, "server-firewall").inputs.rules).toEqual([
      {
        direction: "in",
        protocol: "tcp",
        port: "22",
        sourceIps: ["198.51.100.7/32", "2001:db8:7::/48"],
        description: "SSH from adminCidrs",
      },
      { direction: "in", protocol: "icmp", sourceIps: ["0.0.0.0/0", "::/0"], description: "ping" },
    ]);
  });

  it("the API listens on its custom port inside the network only; its URL is the proxy's", () => {
    expect(container("api").inputs.ports).toEqual([]);
    expect(container("api").inputs.command).toContain("8080");
    expect(run.outputs.apiUrl).toBe(`http://${SERVER_IP}`);
  });
});

describe("non-default stack: the user-supplied deploy key", () => {
  it("no deploy key is generated; only the host key is", () => {
    expect(run.byType(T.privateKey).map((k) => [k.name, k.inputs.algorithm])).toEqual([
      ["keys-host", "ED25519"],
    ]);
  });

  it("Hetzner's SSH key is the public half of the supplied key", () => {
    const key = run.one(T.sshKey, "server-deploy-key").inputs;
    expect(key.publicKey).toBe(deployKey.publicKey);
    expect(key.name).toBe(`app-infra-${STACK}-deploy`);
  });

  it("user-data carries the generated host key pair, not the deploy key", () => {
    const doc = parse(run.one(T.server, "server-vm").inputs.userData as string);
    expect(doc.ssh_keys.ed25519_public).toMatch(HOST_PUBLIC_KEY);
    expect(doc.ssh_keys.ed25519_private).toBe(
      "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-keys-host\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    expect(run.one(T.server, "server-vm").inputs.userData).not.toContain(deployKey.publicKey.split(" ")[1]);
  });

  it("every host step and the API's gate log in with the supplied private key and pin the host key", () => {
    const steps = run.byType(T.command);
    expect(steps.map((c) => c.name)).toEqual([
      "host-ready",
      "host-admin-keys",
      "host-swap",
      "host-docker",
      "host-watchdog",
      "app-api-deploy",
      "kept-images",
    ]);
    for (const c of steps) {
      expect(c.inputs.connection.privateKey, c.name).toBe(deployKey.privateKey);
      expect(c.inputs.connection.hostKey, c.name).toMatch(HOST_PUBLIC_KEY);
      expect(c.secretInputs, c.name).toContain("connection");
    }
  });

  it("the Docker provider's identity file holds the supplied key, and the pinned key is the host's", () => {
    const opts = JSON.parse(run.one(T.dockerProvider, "app-docker").inputs.sshOpts as string) as string[];
    const identity = opts[opts.indexOf("-i") + 1]!;
    expect(readFileSync(identity, "utf8")).toBe(deployKey.privateKey);
    const hostKeyBase64 = (run.outputs.hostKey as string).split(" ")[1];
    expect(opts).toContain(`KnownHostsCommand=/bin/echo %H ssh-ed25519 ${hostKeyBase64}`);
    expect(opts.join(" ")).not.toContain(deployKey.publicKey.split(" ")[1]);
  });

  it("the deployPrivateKey output is the supplied key, as a secret; hostKey is the host's", () => {
    expect(run.outputs.deployPrivateKey).toBe(deployKey.privateKey);
    expect(run.secretOutputs).toContain("deployPrivateKey");
    expect(run.outputs.hostKey).toMatch(HOST_PUBLIC_KEY);
  });
});

describe("non-default stack: private registry and images", () => {
  const auth = [{ address: "ghcr.io", username: "acme-bot", password: REGISTRY_PASSWORD }];

  it("both Docker providers (the host's and the digest lookup's) carry the registry credentials, as a secret", () => {
    for (const name of ["app-docker", "app-registry"]) {
      const p = run.one(T.dockerProvider, name);
      expect(JSON.parse(p.inputs.registryAuth as string), name).toEqual(auth);
      expect(p.secretInputs, name).toContain("registryAuth");
    }
  });

  it("each role's image is pulled by the digest of ITS tag", () => {
    const names = Object.fromEntries(run.byType(T.image).map((i) => [i.name, i.inputs.name]));
    expect(names).toEqual({
      "app-image-redis": `redis@${mockDigest(IMAGES.redis)}`,
      "app-image-proxy": `basecamp/kamal-proxy@${mockDigest("basecamp/kamal-proxy:v0.9.2")}`,
      "app-image-api": `ghcr.io/acme/api@${mockDigest(IMAGES.api)}`,
      "app-image-bot": `ghcr.io/acme/bot@${mockDigest(IMAGES.bot)}`,
      "app-image-worker": `ghcr.io/acme/worker@${mockDigest(IMAGES.worker)}`,
    });
    for (const i of run.byType(T.image)) expect(i.inputs.keepLocally, i.name).toBe(true);
  });

  it("each container runs the imageId of its own role's RemoteImage", () => {
    const imageOf = (role: string) =>
      mockImageId(run.one(T.image, `app-image-${role}`).inputs.name as string);
    expect(new Set(["redis", "proxy", "api", "bot", "worker"].map(imageOf)).size).toBe(5);
    const byContainer = Object.fromEntries(
      run.byType(T.container).map((c) => [c.name.slice("app-".length), c.inputs.image]),
    );
    expect(byContainer).toEqual({
      redis: imageOf("redis"),
      proxy: imageOf("proxy"),
      api: imageOf("api"),
      bot: imageOf("bot"),
      "worker-image-1": imageOf("worker"),
      "worker-image-2": imageOf("worker"),
      "worker-image-3": imageOf("worker"),
    });
  });
});

describe("non-default stack: container environment", () => {
  it("the env secret reaches api, bot and workers; the plan's own variables win over it; secrets only where needed", () => {
    const envs = Object.fromEntries(
      run.byType(T.container).map((c) => [c.name.slice("app-".length), c.inputs.envs]),
    );
    const app = ["APP_STACK=qa", "LOG_LEVEL=debug", "REDIS_URL=redis://redis:6379/0"];
    const worker = [`FAL_KEY=${FAL_KEY}`, ...app].sort();
    expect(envs).toEqual({
      redis: [],
      proxy: [],
      api: [`FAL_KEY=${FAL_KEY}`, ...app, "PORT=8080"].sort(),
      bot: [`BOT_TOKEN=${BOT_TOKEN}`, `FAL_KEY=${FAL_KEY}`, ...app].sort(),
      "worker-image-1": worker,
      "worker-image-2": worker,
      "worker-image-3": worker,
    });
    for (const c of run.byType(T.container)) expect(c.secretInputs, c.name).toContain("envs");
  });

  it("the API's command and healthcheck use the custom port and health path", () => {
    const api = container("api").inputs;
    expect(api.command).toEqual([
      "uvicorn",
      "app.web.api:app",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--workers",
      "2",
      "--limit-concurrency",
      "150",
    ]);
    expect(api.healthcheck.tests).toEqual([
      "CMD",
      "python3",
      "-c",
      'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8080/healthz", timeout=4)',
    ]);
  });
});

describe("non-default stack: the watchdog", () => {
  // Every line, in order, from the stack config above.
  const ENV = [
    "STACK='qa'",
    "STAGE='2'",
    "MEMORY_PERCENT='91'",
    "SWAP_PERCENT='40'",
    "CPU_PERCENT='85'",
    "QUEUE_LENGTH='60'",
    "API_LATENCY_MS='1500'",
    "REDIS_MEMORY_PERCENT='80'",
    "FOR_MINUTES='7'",
    "REPEAT_MINUTES='45'",
    "QUEUE_NAME='jobs'",
    // Through the edge proxy on port 80, not the API's own port 8080: it is not published (issue 14).
    "API_HEALTH_URL='http://127.0.0.1:80/healthz'",
    "WORKERS='3'",
    "INTERVAL_S='120'",
    "CONTAINERS='redis=redis proxy=proxy @api=api bot=bot worker-image-1=worker worker-image-2=worker worker-image-3=worker'",
    "DISK_PERCENT='85'",
    "DISK_PATHS='/ /var/lib/docker'",
    "BACKUP_MAX_AGE_H='0'",
    "BACKUP_STATE_DIR='/var/lib/app-infra'",
    "API_CONNECT_TO=''",
    "CERT_MIN_DAYS='14'",
    "TELEGRAM_CHAT_ID='-100777'",
    // The next size up on the mocked live catalog, from the plan (src/plan/advice.ts).
    "SCALE_UP_MEMORY='set server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 (`pulumi config set --path server.memoryGb 16 -s qa && pulumi up -s qa`)'",
    "SCALE_UP_CPU='set server/cores 8 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4 (`pulumi config set --path server.cores 8 -s qa && pulumi up -s qa`)'",
    "",
  ].join("\n");

  const payload = () => {
    const stdin = run.one(T.command, "host-watchdog").inputs.stdin as string;
    const installer = script("install-watchdog.sh");
    expect(stdin.startsWith(installer)).toBe(true);
    return Object.fromEntries(
      stdin
        .slice(installer.length)
        .trim()
        .split("\n")
        .map((l) => [
          l.slice(0, l.indexOf("=")),
          Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString("utf8"),
        ]),
    );
  };

  it("watchdog.env is exactly the configured thresholds", () => {
    expect(payload().WATCHDOG_ENV_B64).toBe(ENV);
  });

  it("the installer runs at the configured interval and re-runs when the thresholds change (their hash is an argument)", () => {
    const hash = createHash("sha256").update(ENV).digest("hex").slice(0, 16);
    const w = run.one(T.command, "host-watchdog").inputs;
    expect(w.create).toBe(`bash -s -- 120 ${hash}`);
    expect(w.triggers).toEqual([
      createHash("sha256").update(script("install-watchdog.sh")).digest("hex"),
      "120",
      hash,
    ]);
  });

  it("the secrets file holds the bot token for the configured chat, and nothing else", () => {
    expect(payload().WATCHDOG_SECRETS_B64).toBe(`TELEGRAM_BOT_TOKEN=${BOT_TOKEN}\n`);
    expect(run.one(T.command, "host-watchdog").secretInputs).toContain("stdin");
  });
});
