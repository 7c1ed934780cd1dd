// Policy-style assertions shared by every Hetzner stack/stage test file.
import { expect, it } from "vitest";
import { parse } from "yaml";
import { readScript } from "../../components/host";
import { sha256 } from "../../src/plan/host";
import { KEPT_IMAGES_FILE } from "../../src/plan/releases";
import { SERVER_IP, type ProgramRun } from "../support/mocks";

export const T = {
  server: "hcloud:index/server:Server",
  firewall: "hcloud:index/firewall:Firewall",
  sshKey: "hcloud:index/sshKey:SshKey",
  command: "command:remote:Command",
  container: "docker:index/container:Container",
  network: "docker:index/network:Network",
  volume: "docker:index/volume:Volume",
  image: "docker:index/remoteImage:RemoteImage",
  dockerProvider: "pulumi:providers:docker",
  privateKey: "tls:index/privateKey:PrivateKey",
};

// The shipped text (scripts/lib inlined), as index.ts sends it.
const script = (f: string) => readScript(f);

export interface Expected {
  stage: number;
  serverType: string;
  swapGb: number;
  workers: number;
  protect: boolean;
  backups: boolean;
  /** The watchdog's secrets file, when alert delivery is configured. */
  secretsFile?: string;
  cpuPercent?: number;
}

export function hetznerStackPolicies(get: () => ProgramRun, e: Expected) {
  const run = () => get();
  const containers = () => run().byType(T.container);
  const container = (n: string) => run().one(T.container, `app-${n}`).inputs;

  it(`the server is ${e.serverType}, Ubuntu 24.04, keeps its disk, with the deploy key and the firewall`, () => {
    const vm = run().one(T.server, "server-vm").inputs;
    expect(vm).toMatchObject({
      name: `app-infra-${run().outputs.capacity.stack}`,
      serverType: e.serverType,
      image: "ubuntu-24.04",
      location: "fsn1",
      keepDisk: true,
      backups: e.backups,
      deleteProtection: e.protect,
      rebuildProtection: e.protect,
      sshKeys: ["server-deploy-key-id"],
      firewallIds: [4711],
    });
    expect(vm.labels).toMatchObject({ app: "app-infra", role: "app" });
    expect(run().options["server-vm"]).toMatchObject({ parent: "server", protect: e.protect });
  });

  it("user-data is minimal cloud-config with the pinned ed25519 host key and no stage-dependent content", () => {
    const ud: string = run().one(T.server, "server-vm").inputs.userData;
    expect(ud.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(ud);
    expect(doc.ssh_keys.ed25519_public).toMatch(/^ssh-ed25519 /);
    expect(doc.ssh_keys.ed25519_private).toContain("OPENSSH PRIVATE KEY");
    expect(doc.ssh_deletekeys).toBe(true);
    expect(doc.ssh_pwauth).toBe(false);
    expect(ud).not.toMatch(/swap|docker|cx\d\d|stage/i);
    expect(run().options["server-vm"]!.secretProps).toContain("userData");
    expect(run().one(T.server, "server-vm").secretInputs).toContain("userData");
  });

  it("the firewall opens SSH to adminCidrs and the proxy's 80 and 443, nothing else; never the API's port, never Redis", () => {
    const rules = run().one(T.firewall, "server-firewall").inputs.rules as {
      direction: string;
      protocol: string;
      port?: string;
      sourceIps: string[];
    }[];
    expect(rules.every((r) => r.direction === "in")).toBe(true);
    expect(
      rules
        .filter((r) => r.protocol === "tcp")
        .map((r) => r.port)
        .sort(),
    ).toEqual(["22", "443", "80"]);
    expect(rules.find((r) => r.port === "22")!.sourceIps).toEqual(["0.0.0.0/0", "::/0"]);
    for (const port of ["80", "443"])
      expect(rules.find((r) => r.port === port)!.sourceIps, port).toEqual(["0.0.0.0/0", "::/0"]);
    expect(rules.some((r) => r.port?.includes("8000"))).toBe(false);
    expect(rules.some((r) => r.port?.includes("6379"))).toBe(false);
  });

  it("host steps run over SSH with the deploy key and the pinned host key, in the order server → ready → swap → docker", () => {
    const o = run().options;
    expect(o["host-ready"]!.dependsOn).toEqual(["server-vm"]);
    expect(o["host-admin-keys"]!.dependsOn).toEqual(["server-vm", "host-ready"]);
    expect(o["host-swap"]!.dependsOn).toEqual(["server-vm", "host-ready"]);
    expect(o["host-docker"]!.dependsOn).toEqual(["server-vm", "host-swap"]);
    for (const step of ["ready", "admin-keys", "swap", "docker"]) {
      const c = run().one(T.command, `host-${step}`).inputs;
      expect(c.connection).toMatchObject({ host: SERVER_IP, user: "root", dialErrorLimit: 120 });
      expect(c.connection.privateKey).toContain("OPENSSH PRIVATE KEY");
      expect(c.connection.hostKey).toMatch(/^ssh-ed25519 \S+ keys-host$/);
      expect(o[`host-${step}`]!.parent).toBe("host");
    }
  });

  it("the watchdog is installed after Docker, its thresholds from config, its secrets only inside secret stdin", () => {
    const w = run().one(T.command, "host-watchdog");
    expect(run().options["host-watchdog"]!.dependsOn).toEqual(["server-vm", "host-docker"]);
    expect(w.inputs.create).toMatch(/^bash -s -- 60 [0-9a-f]{16}$/);
    expect(w.secretInputs).toContain("stdin");
    expect(w.inputs.logging).toBe("none");
    const stdin: string = w.inputs.stdin;
    expect(stdin.startsWith(script("install-watchdog.sh"))).toBe(true);
    const payload = Object.fromEntries(
      stdin
        .slice(script("install-watchdog.sh").length)
        .trim()
        .split("\n")
        .map((l) => [l.split("=")[0], Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString("utf8")]),
    );
    expect(Object.keys(payload)).toEqual(["WATCHDOG_SCRIPT_B64", "WATCHDOG_ENV_B64", "WATCHDOG_SECRETS_B64"]);
    expect(payload.WATCHDOG_SCRIPT_B64).toBe(script("watchdog.sh"));
    const env = payload.WATCHDOG_ENV_B64!;
    for (const line of [
      "MEMORY_PERCENT='95'",
      "SWAP_PERCENT='50'",
      `CPU_PERCENT='${e.cpuPercent ?? 90}'`,
      "QUEUE_LENGTH='100'",
      "API_LATENCY_MS='2000'",
      "QUEUE_NAME='img_queue'",
      `STAGE='${e.stage}'`,
      `WORKERS='${e.workers}'`,
      "API_HEALTH_URL='http://127.0.0.1:80/health'",
    ]) {
      expect(env).toContain(line);
    }
    expect(env).toContain("CONTAINERS='redis=redis proxy=proxy @api=api bot=bot worker-image-1=worker");
    expect(env).not.toMatch(/bot-token-secret|fal-secret/);
    expect(payload.WATCHDOG_SECRETS_B64).toBe(e.secretsFile ?? "");
  });

  it(`swap is ${e.swapGb} GB: setup-swap.sh on stdin, re-run only when the script or size changes`, () => {
    const swap = run().one(T.command, "host-swap").inputs;
    expect(swap.create).toBe(`bash -s -- ${e.swapGb} 10`);
    expect(swap.stdin).toBe(script("setup-swap.sh"));
    expect(swap.triggers).toEqual([sha256(script("setup-swap.sh")), String(e.swapGb), "10"]);
    const docker = run().one(T.command, "host-docker").inputs;
    // Its argument: where the kept-images list is, for the weekly prune.
    expect(docker.create).toBe(`bash -s -- ${KEPT_IMAGES_FILE}`);
    expect(docker.triggers).toEqual([sha256(script("install-docker.sh")), KEPT_IMAGES_FILE]);
  });

  it("the Docker provider dials ssh://root@IP only after Docker is ready, with the pinned host key", () => {
    const p = run().one(T.dockerProvider, "app-docker").inputs;
    expect(p.host).toBe(`ssh://root@${SERVER_IP}`);
    const opts = JSON.parse(p.sshOpts) as string[];
    expect(opts).toEqual(expect.arrayContaining(["StrictHostKeyChecking=yes", "IdentitiesOnly=yes"]));
    expect(opts.join(" ")).not.toContain("OPENSSH PRIVATE KEY");
    expect(run().options["app-docker"]!.dependsOn).toEqual(["host-docker"]);
    for (const c of containers()) expect(run().options[c.name]!.provider, c.name).toBe("app-docker");
  });

  it(`containers: redis, proxy, api, bot and ${e.workers} worker(s), on the private network, with the planned limits`, () => {
    const names = containers()
      .map((c) => c.name.slice("app-".length))
      .sort();
    const workers = Array.from({ length: e.workers }, (_, i) => `worker-image-${i + 1}`);
    expect(names).toEqual(["api", "bot", "proxy", "redis", ...workers].sort());
    for (const c of containers()) {
      const base = c.name.slice("app-".length);
      // Fixed names, but the API's, which is its release (src/plan/release.ts).
      expect(c.inputs.name, c.name).toMatch(base === "api" ? /^api-[0-9a-f]{12}$/ : new RegExp(`^${base}$`));
      expect(c.inputs.networksAdvanced, c.name).toEqual([{ name: "app-infra", aliases: [base] }]);
      expect(c.inputs.restart, c.name).toBe("unless-stopped");
      expect(c.inputs.logOpts, c.name).toEqual({ "max-size": "10m", "max-file": "3" });
      expect(run().options[c.name]!.parent).toBe("app");
    }
    expect(container("redis")).toMatchObject({ memory: 256, memoryReservation: 64, memorySwap: 256 });
    expect(container("proxy")).toMatchObject({ memory: 64, memoryReservation: 32, memorySwap: 64 });
    expect(container("api")).toMatchObject({ memory: 200, memoryReservation: 120, memorySwap: 200 });
    expect(container("bot")).toMatchObject({ memory: 150, memoryReservation: 100, memorySwap: 150 });
    for (const w of workers) {
      expect(container(w)).toMatchObject({
        memory: 250,
        memoryReservation: 100,
        memorySwap: 500,
        stopTimeout: 120,
      });
      expect(container(w).command).toEqual([
        "rq",
        "worker",
        "--url",
        "redis://redis:6379/0",
        "--max-jobs",
        "15",
        "img_queue",
      ]);
    }
  });

  it("Redis: maxmemory below its limit, noeviction, AOF on its named volume, PING healthcheck, no published port", () => {
    const r = container("redis");
    expect(r.command).toEqual([
      "redis-server",
      "--appendonly",
      "yes",
      "--save",
      "--dir",
      "/data",
      "--maxmemory",
      "128mb",
      "--maxmemory-policy",
      "noeviction",
      "--protected-mode",
      "no",
    ]);
    expect(r.volumes).toEqual([{ volumeName: "redis-data", containerPath: "/data" }]);
    expect(r.ports ?? []).toEqual([]);
    expect(r.healthcheck).toMatchObject({ tests: ["CMD", "redis-cli", "PING"] });
    expect(run().options["app-redis-data"]!.retainOnDelete).toBe(true);
  });

  it("only the edge proxy publishes ports (80, 443); the API has an HTTP healthcheck on its health path", () => {
    for (const c of containers())
      if (c.name !== "app-proxy") expect(c.inputs.ports ?? [], c.name).toEqual([]);
    expect(container("proxy").ports).toEqual([
      { internal: 80, external: 80 },
      { internal: 443, external: 443 },
    ]);
    expect(container("api").healthcheck.tests.join(" ")).toContain("http://127.0.0.1:8000/health");
    // The gate is the API's health check (it fails fast and prints the logs); the others wait.
    expect(container("api").wait).toBe(false);
    expect(container("redis").wait).toBe(true);
  });

  it("env: REDIS_URL by service name; secrets are secret inputs, only where needed, never in a command", () => {
    const env = (n: string) => container(n).envs as string[];
    for (const n of ["api", "bot", "worker-image-1"])
      expect(env(n)).toContain("REDIS_URL=redis://redis:6379/0");
    expect(env("bot")).toContain("BOT_TOKEN=123:bot-token-secret");
    expect(env("api").some((v) => v.startsWith("BOT_TOKEN="))).toBe(false);
    expect(env("worker-image-1")).toContain("FAL_KEY=fal-secret");
    for (const c of containers()) {
      expect(run().options[c.name]!.secretProps, c.name).toContain("envs");
      expect(c.secretInputs, c.name).toContain("envs");
      expect(JSON.stringify(c.inputs.command ?? [])).not.toMatch(/bot-token-secret|fal-secret/);
    }
    for (const c of run().byType(T.command))
      expect(JSON.stringify(c.inputs.create)).not.toMatch(/bot-token-secret|fal-secret|PRIVATE KEY/);
  });

  it("the apps start after Redis, each worker after the one before it (replaced one at a time); the proxy, which never talks to Redis, does not wait", () => {
    const workers = containers()
      .map((c) => c.name)
      .filter((n) => n.startsWith("app-worker-"));
    for (const c of containers()) {
      const first = c.name === "app-redis" || c.name === "app-proxy";
      const w = workers.indexOf(c.name);
      const want = first ? [] : w > 0 ? ["app-redis", workers[w - 1]] : ["app-redis"];
      expect(run().options[c.name]!.dependsOn, c.name).toEqual(want);
    }
  });

  it("the bot is a singleton: deleted before a replacement starts (so are all fixed-name containers)", () => {
    expect(run().options["app-bot"]!.deleteBeforeReplace).toBe(true);
    for (const c of containers())
      if (c.name !== "app-api") expect(run().options[c.name]!.deleteBeforeReplace, c.name).toBe(true);
  });

  it("the API is created before the old one is deleted: deleteBeforeReplace false, said explicitly", () => {
    // Explicit false overrides the provider's true for every container (pulumi-docker
    // provider/resources.go; pulumi step_generator.go): undefined would mean delete-first.
    expect(run().options["app-api"]!.deleteBeforeReplace).toBe(false);
    expect(container("api").name).toMatch(/^api-[0-9a-f]{12}$/);
  });

  it("the gate switches the proxy to the new API after both exist, over the host steps' SSH login", () => {
    const gate = run().one(T.command, "app-api-deploy");
    const api = container("api").name as string;
    expect(run().options["app-api-deploy"]).toMatchObject({
      parent: "app",
      dependsOn: ["app-proxy", "app-api"],
    });
    expect(gate.inputs.create).toBe(
      `docker exec proxy kamal-proxy deploy api --target ${api}:8000 --health-check-path /health ` +
        `--deploy-timeout 60s --drain-timeout 30s || { echo 'app-infra: ${api} did not become healthy on /health ` +
        `within 60s; the running release keeps serving. Its last 50 log lines:' >&2; docker logs --tail 50 ${api} 2>&1; exit 1; }`,
    );
    expect(gate.inputs.delete).toBeUndefined();
    expect(gate.inputs.triggers).toEqual([api, "app-proxy-id"]);
    const watchdog = run().one(T.command, "host-watchdog").inputs.connection;
    expect(gate.inputs.connection).toEqual(watchdog);
  });

  it("outputs: IP, type, price, SSH command, API URL, capacity report; the private key is secret", async () => {
    const out = run().outputs;
    expect(out).toMatchObject({
      serverIp: SERVER_IP,
      serverType: e.serverType,
      apiUrl: `http://${SERVER_IP}`,
    });
    expect(typeof out.serverPriceMonthlyEur).toBe("number");
    expect(out.sshCommand).toContain(`root@${SERVER_IP}`);
    expect(out.statusCommand).toBe(
      `ssh -i ~/.ssh/app-infra-${out.capacity.stack} root@${SERVER_IP} app-infra-status`,
    );
    expect(out.capacity).toMatchObject({
      stage: e.stage,
      swapGb: e.swapGb,
      workers: e.workers,
      deployable: true,
    });
    expect(out.capacity.budget.ramMb).toBeGreaterThan(0);
    expect(run().secretOutputs).toContain("deployPrivateKey");
  });
}
