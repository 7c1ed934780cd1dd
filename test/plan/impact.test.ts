// The change-impact comparison on plan documents: every key resolved, and each kind of change with
// its consequence. Plans are made from parsed configs; the expected texts are written out.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { KEYS } from "../../src/config/keys";
import { parseConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import {
  diffPlans,
  fmt,
  recreateConsequence,
  replaceOrder,
  resolveSettings,
  shortKey,
  summarizeChanges,
  type PlanView,
} from "../../src/plan/impact";
import { DEPLOY_TIMEOUT_S, DRAIN_TIMEOUT_S, FAILED_LOG_LINES } from "../../src/plan/gate";
import { makePlan } from "../../src/plan/plan";
import { planToJson } from "../../src/report/json";

const catalog = snapshotCatalog();
const doc = (raw: Record<string, unknown>): PlanView => {
  const cfg = parseConfig("prod", { stage: 2, ...raw });
  return planToJson(makePlan(cfg, catalog), { cfg, catalog });
};
const base = doc({ server: { protect: true, backups: true } });
const after = (raw: Record<string, unknown>) =>
  diffPlans(base, doc({ server: { protect: true, backups: true }, ...raw }));

/** The start-first API (issue 14): written out once, its key phrases pinned one by one below. */
const API_TEXT =
  "the new release starts beside the old one, and the old one keeps serving meanwhile; kamal-proxy switches traffic " +
  "to the new one only after its health check passes, then drains the old one (up to 30 s) before Pulumi deletes it, " +
  "so no request fails. If the new one is not healthy within 60 s, pulumi up fails with its last 50 log lines and the " +
  "old one keeps serving";
const API_REPLACED = `replaced start-first (the new one starts, then the old one is deleted): ${API_TEXT}`;

describe("resolved settings", () => {
  it("name every key of the config table, secrets only as set/unset", () => {
    const cfg = parseConfig("prod", { stage: 2, botToken: { secure: "v1:abc" } }, { fromStackFile: true });
    const s = resolveSettings(cfg, makePlan(cfg, catalog));
    // Every key but the worker nodes' on a one-box stage; stage 4 names them too.
    expect(Object.keys(s)).toEqual(KEYS.filter((k) => !k.stage4Only).map((k) => k.path));
    const cfg4 = parseConfig("prod", { stage: 4, workerNode: { memoryGb: 8 } });
    const s4 = resolveSettings(cfg4, makePlan(cfg4, catalog));
    expect(Object.keys(s4)).toEqual(KEYS.map((k) => k.path));
    expect([s4.workerNodes, s4.workersPerNode, s4["workerNode/cores"], s4["workerNode/memoryGb"]]).toEqual([
      1, 2, 2, 8,
    ]);
    expect(s4["workerNode/type"]).toMatch(/^c[a-z]*\d+$/);
    expect(s.botToken).toBe("set");
    expect(s.falKey).toBe("unset");
    expect(JSON.stringify(s)).not.toContain("v1:abc");
    // Derived values are the plan's, not "unset".
    expect(s["server/type"]).toBe("cx33");
    expect(s["services/worker/swapMb"]).toBe(250);
    expect(s["services/redis/maxmemoryMb"]).toBe(128);
    expect(s.workers).toBe(2);
  });

  it("admin keys are shortened, never dropped", () => {
    expect(shortKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabcdefgh you@laptop")).toBe(
      "ssh-ed25519 …abcdefgh you@laptop",
    );
  });
});

describe("diffPlans", () => {
  it("the same plan: no change", () => {
    expect(diffPlans(base, base)).toEqual([]);
    expect(summarizeChanges([])).toBe("Changes: 0 to add, 0 to change in place, 0 to replace, 0 to destroy.");
  });

  it("swap resized in place, and removed", () => {
    expect(after({ swapGb: 4 })).toEqual([
      {
        kind: "update",
        subject: "swap",
        what: "2 GB → 4 GB",
        consequence: "the swapfile is resized in place (no reboot, nothing restarts)",
        refused: false,
      },
    ]);
    const off = after({ swapGb: 0, services: { worker: { swapMb: 0 } } });
    expect(off.find((c) => c.subject === "swap")!.consequence).toContain("switched off and removed in place");
  });

  it("limits change in place, without a restart", () => {
    const c = after({ services: { api: { memoryMb: 300 } } });
    expect(c).toEqual([
      {
        kind: "update",
        subject: "api",
        what: "memoryMb 200 → 300",
        consequence: "updated in place (docker update): the container keeps running, no restart",
        refused: false,
      },
    ]);
  });

  it("a worker removed", () => {
    const c = after({ workers: 1 });
    expect(c).toEqual([
      expect.objectContaining({ kind: "remove", subject: "worker-image-2", what: "container removed" }),
    ]);
  });

  it("firewall: SSH opened to the world is said in capitals", () => {
    const narrow = doc({ server: { protect: true, backups: true }, adminCidrs: ["203.0.113.0/24"] });
    const c = diffPlans(narrow, base);
    expect(c).toHaveLength(1);
    expect(c[0]!.what).toBe("SSH from adminCidrs: tcp/22 from 203.0.113.0/24 → tcp/22 from 0.0.0.0/0, ::/0");
    expect(c[0]!.consequence).toContain("SSH from adminCidrs is now OPEN TO THE WHOLE INTERNET");
  });

  it("the API made private closes the proxy's firewall rules", () => {
    const c = after({ services: { api: { public: false } } });
    expect(c).toEqual([
      expect.objectContaining({ subject: "firewall", what: "HTTP: tcp/80 from 0.0.0.0/0, ::/0 removed" }),
      expect.objectContaining({ subject: "firewall", what: "HTTPS: tcp/443 from 0.0.0.0/0, ::/0 removed" }),
    ]);
    expect(c[0]!.consequence).toContain("HTTP is no longer reachable from outside");
  });

  it("backups off: Hetzner deletes the existing backups", () => {
    const c = after({ server: { protect: true, backups: false } });
    expect(c).toHaveLength(1);
    expect(c[0]!.consequence).toContain("Hetzner deletes the server's existing backups");
  });

  it("alerts and admin keys: re-installed in place, nothing restarts", () => {
    const c = after({
      alerts: { memoryPercent: 90 },
      adminSshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabcdefgh ops@example"],
    });
    expect(c.map((x) => [x.subject, x.what])).toEqual([
      ["admin keys", "adminSshKeys [] → [ssh-ed25519 …abcdefgh ops@example]"],
      ["watchdog", "alerts/memoryPercent 95 → 90"],
    ]);
  });

  it("a recreated Redis keeps its data on the volume", () => {
    const c = after({ services: { redis: { maxmemoryPolicy: "volatile-lru" } } });
    expect(c[0]).toMatchObject({ kind: "recreate", subject: "redis", what: "command changed" });
    expect(c[0]!.consequence).toContain("The queue and data stay on the redis-data volume");
  });

  it("users and per-user memory change only the budget", () => {
    const c = after({ users: 150 });
    expect(c).toEqual([
      expect.objectContaining({ kind: "no-op", subject: "budget", what: "users 100 → 150" }),
    ]);
  });

  it("to the local target: the server is deleted", () => {
    const c = diffPlans(base, doc({ target: "local" }));
    expect(c[0]).toMatchObject({ kind: "destroy-server", subject: "server" });
    expect(c[0]!.consequence).toContain("DELETES THE SERVER cx33 — data on it is lost");
  });

  it("a base from older code (no settings, no firewall) still compares server, swap and services", () => {
    const { settings: _s, firewall: _f, cost: _c, scaling: _x, ...old } = base;
    const c = diffPlans(old, doc({ server: { protect: false, backups: true }, workers: 3 }));
    expect(c.map((x) => x.subject)).toEqual(["worker-image-3"]);
  });

  it("orders the most consequential first and counts them", () => {
    const c = after({ location: "hel1", workers: 3, images: { bot: "ghcr.io/acme/bot:2" } });
    expect(c.map((x) => x.kind)).toEqual(["replace-server", "recreate", "add"]);
    expect(summarizeChanges(c)).toBe(
      "Changes: 1 to add, 0 to change in place, 2 to replace, 0 to destroy; 1 refused by the program.",
    );
  });
});

describe("diffPlans, each kind of change written out", () => {
  const B = { server: { protect: true, backups: true } };
  const cases: [string, Record<string, unknown>, Record<string, unknown>, unknown[]][] = [
    [
      "local to hetzner: a new server, protection and backups on, swap from nothing",
      { target: "local" },
      B,
      [
        {
          kind: "create-server",
          subject: "server",
          what: "cx33 in fsn1",
          consequence: "a new cx33 server is created (€8.49/month before IPv4 and backups)",
          refused: false,
        },
        {
          kind: "update",
          subject: "server",
          what: "server/protect false → true",
          consequence: "delete and rebuild protection turned on in place (Hetzner and Pulumi `protect`)",
          refused: false,
        },
        {
          kind: "update",
          subject: "server",
          what: "server/backups false → true",
          consequence: "Hetzner's daily backups turned on in place (+20 % of the server price)",
          refused: false,
        },
        {
          kind: "update",
          subject: "swap",
          what: "0 GB → 2 GB",
          consequence: "the swapfile is resized in place (no reboot, nothing restarts)",
          refused: false,
        },
      ],
    ],
    [
      "x86 to arm: refused, the server would be replaced",
      B,
      { server: { ...B.server, architecture: "arm" } },
      [
        {
          kind: "replace-server",
          subject: "server",
          what: "cx33 (fsn1, x86) → cax21 (fsn1, arm)",
          consequence:
            "REPLACES THE SERVER — data on it is lost (a new server: new IP, empty disk, empty Redis). architecture x86 → arm: Hetzner cannot rescale across architectures, and the images must be built for arm. pulumi up refuses this for a deployed server before anything is touched: deploy the new location or architecture as a new stack and move the data over",
          refused: true,
        },
      ],
    ],
    [
      "a bigger type with keepDisk false: the disk grows for good",
      B,
      { server: { ...B.server, memoryGb: 16, keepDisk: false } },
      [
        {
          kind: "rescale",
          subject: "server",
          what: "cx33 (4 vCPU, 8 GB) → cx43 (8 vCPU, 16 GB)",
          consequence:
            "rescale: Hetzner powers the server off, changes its type and boots it — every service is down for about 1–2 min; the server, its IP and its data stay. The disk grows to 160 GB (server/keepDisk is false), so a later move back to a smaller type is impossible. New tariff: €8.49/month → €15.99/month (any rescale moves the server to Hetzner's current price)",
          refused: false,
        },
        {
          kind: "no-op",
          subject: "server",
          what: "server/keepDisk true → false",
          consequence:
            "nothing changes now: it decides at the next rescale whether the disk grows with the type",
          refused: false,
        },
      ],
    ],
    [
      "a bigger type keeping the disk: a downgrade stays possible",
      B,
      { server: { ...B.server, memoryGb: 16 } },
      [
        {
          kind: "rescale",
          subject: "server",
          what: "cx33 (4 vCPU, 8 GB) → cx43 (8 vCPU, 16 GB)",
          consequence:
            "rescale: Hetzner powers the server off, changes its type and boots it — every service is down for about 1–2 min; the server, its IP and its data stay. The disk keeps its size (server/keepDisk), so a later downgrade stays possible. New tariff: €8.49/month → €15.99/month (any rescale moves the server to Hetzner's current price)",
          refused: false,
        },
      ],
    ],
    [
      "a third worker: one new container",
      B,
      { ...B, workers: 3 },
      [
        {
          kind: "add",
          subject: "worker-image-3",
          what: "new container (250 MB limit)",
          consequence: "a new worker starts consuming the queue; the running containers are not touched",
          refused: false,
        },
      ],
    ],
    [
      "a new worker image: each worker recreated with its grace",
      B,
      { ...B, images: { worker: "ghcr.io/acme/w:2" } },
      [
        {
          kind: "recreate",
          subject: "worker-image-1",
          what: "image ghcr.io/example/app:latest → ghcr.io/acme/w:2",
          consequence:
            "recreated (stop, then start the new one): the worker gets up to 120 s to finish its current job, then restarts with the change; queued jobs wait in Redis (the other workers keep consuming)",
          refused: false,
        },
        {
          kind: "recreate",
          subject: "worker-image-2",
          what: "image ghcr.io/example/app:latest → ghcr.io/acme/w:2",
          consequence:
            "recreated (stop, then start the new one): the worker gets up to 120 s to finish its current job, then restarts with the change; queued jobs wait in Redis (the other workers keep consuming)",
          refused: false,
        },
      ],
    ],
    [
      "a new API image: replaced start-first behind the proxy's health-gated switch",
      B,
      { ...B, images: { api: "ghcr.io/acme/a:2" } },
      [
        {
          kind: "recreate",
          subject: "api",
          what: "image ghcr.io/example/app:latest → ghcr.io/acme/a:2",
          consequence: API_REPLACED,
          refused: false,
        },
      ],
    ],
    [
      "SSH narrowed to one address",
      B,
      { ...B, adminCidrs: ["198.51.100.7/32"] },
      [
        {
          kind: "update",
          subject: "firewall",
          what: "SSH from adminCidrs: tcp/22 from 0.0.0.0/0, ::/0 → tcp/22 from 198.51.100.7/32",
          consequence: "the Hetzner firewall is updated in place; open connections are not dropped",
          refused: false,
        },
      ],
    ],
    [
      "the API made public: said in capitals",
      { ...B, services: { api: { public: false } } },
      B,
      [
        {
          kind: "update",
          subject: "firewall",
          what: "HTTP: tcp/80 from 0.0.0.0/0, ::/0 added",
          consequence:
            "the Hetzner firewall is updated in place; open connections are not dropped. HTTP is now OPEN TO THE WHOLE INTERNET",
          refused: false,
        },
        {
          kind: "update",
          subject: "firewall",
          what: "HTTPS: tcp/443 from 0.0.0.0/0, ::/0 added",
          consequence:
            "the Hetzner firewall is updated in place; open connections are not dropped. HTTPS is now OPEN TO THE WHOLE INTERNET",
          refused: false,
        },
      ],
    ],
    [
      "a new API port: the API recreated, the firewall untouched (the port is never published)",
      B,
      { ...B, services: { api: { port: 8081 } } },
      [
        {
          kind: "recreate",
          subject: "api",
          what: "command changed",
          consequence: API_REPLACED,
          refused: false,
        },
      ],
    ],
    [
      "protection off: said in capitals",
      B,
      { server: { protect: false, backups: true } },
      [
        {
          kind: "update",
          subject: "server",
          what: "server/protect true → false",
          consequence:
            "delete and rebuild protection REMOVED: `pulumi destroy`, a replacement or a click in the console can now delete the server and its data",
          refused: false,
        },
      ],
    ],
    [
      "protection on",
      { server: { protect: false, backups: true } },
      B,
      [
        {
          kind: "update",
          subject: "server",
          what: "server/protect false → true",
          consequence: "delete and rebuild protection turned on in place (Hetzner and Pulumi `protect`)",
          refused: false,
        },
      ],
    ],
    [
      "Hetzner backups on: the price",
      { server: { protect: true, backups: false } },
      B,
      [
        {
          kind: "update",
          subject: "server",
          what: "server/backups false → true",
          consequence: "Hetzner's daily backups turned on in place (+20 % of the server price)",
          refused: false,
        },
      ],
    ],
    [
      "an image and a limit at once: one recreate naming both",
      B,
      { ...B, images: { api: "ghcr.io/acme/a:2" }, services: { api: { memoryMb: 300 } } },
      [
        {
          kind: "recreate",
          subject: "api",
          what: "image ghcr.io/example/app:latest → ghcr.io/acme/a:2, memoryMb 200 → 300",
          consequence: API_REPLACED,
          refused: false,
        },
      ],
    ],
    [
      "digests off: re-referenced at the next up",
      B,
      { ...B, imageDigests: "off" },
      [
        {
          kind: "update",
          subject: "images",
          what: "imageDigests registry → off",
          consequence:
            "images are referenced differently at the next up: a container whose resolved reference changes is recreated",
          refused: false,
        },
      ],
    ],
    [
      "a registry login: in place, used at the next pull",
      B,
      { ...B, registry: { server: "ghcr.io", username: "acme" }, registryPassword: { secure: "x" } },
      [
        {
          kind: "update",
          subject: "registry",
          what: "registry/server unset → ghcr.io, registry/username unset → acme, registryPassword unset → set",
          consequence: "the Docker provider's registry login changes in place; it is used at the next pull",
          refused: false,
        },
      ],
    ],
    [
      "a bot token: the bot recreated",
      B,
      { ...B, botToken: { secure: "x" } },
      [
        {
          kind: "recreate",
          subject: "bot",
          what: "botToken unset → set",
          consequence:
            "the secret reaches the containers as environment: the ones that receive it are recreated",
          refused: false,
        },
      ],
    ],
    [
      "the env secret: every app container recreated",
      B,
      { ...B, env: { secure: "x" } },
      [
        {
          kind: "recreate",
          subject: "api, bot, workers",
          what: "env unset → set",
          consequence:
            "the secret reaches the containers as environment: the ones that receive it are recreated",
          refused: false,
        },
      ],
    ],
    [
      "a new health path: the API recreated",
      B,
      { ...B, services: { api: { healthPath: "/hz" } } },
      [
        {
          kind: "recreate",
          subject: "api",
          what: "services/api/healthPath /health → /hz",
          consequence: `recreated (the health check changes, and Docker cannot change it in place): ${API_TEXT}`,
          refused: false,
        },
      ],
    ],
    [
      "your own deploy key: it must already be authorized",
      B,
      { ...B, deployPrivateKey: { secure: "x" } },
      [
        {
          kind: "update",
          subject: "deploy key",
          what: "deployPrivateKey unset → set",
          consequence:
            "Pulumi connects with a different key: it must already be in root's authorized_keys (the server's SSH keys are read only at first boot)",
          refused: false,
        },
      ],
    ],
    [
      "stage 3 on a server that already meets it: a label",
      B,
      { ...B, stage: 3 },
      [
        {
          kind: "no-op",
          subject: "server",
          what: "stage 2 → 3, server/cores 3 → 4, server/memoryGb 4 → 6",
          consequence:
            "the server stays cx33 (4 vCPU, 8 GB RAM, 80 GB disk): it already meets the new requirements (≥4 vCPU, ≥6 GB RAM, ≥60 GB disk); only its requirements label is updated in place. The next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €19.69/month incl. IPv4 and backups",
          refused: false,
        },
      ],
    ],
    [
      "more RAM asked, the type already has it",
      B,
      { ...B, server: { ...B.server, memoryGb: 6 } },
      [
        {
          kind: "no-op",
          subject: "server",
          what: "server/memoryGb 4 → 6",
          consequence:
            "the server stays cx33 (4 vCPU, 8 GB RAM, 80 GB disk): it already meets the new requirements (≥3 vCPU, ≥6 GB RAM, ≥60 GB disk); only its requirements label is updated in place. The next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €19.69/month incl. IPv4 and backups",
          refused: false,
        },
      ],
    ],
    [
      "alert thresholds: the watchdog re-installed",
      B,
      { ...B, alerts: { cpuPercent: 70, forMinutes: 9 } },
      [
        {
          kind: "update",
          subject: "watchdog",
          what: "alerts/cpuPercent 90 → 70, alerts/forMinutes 5 → 9",
          consequence: "the watchdog's settings are re-installed in place; no container restarts",
          refused: false,
        },
      ],
    ],
    [
      "users and per-user memory: the budget only",
      B,
      { ...B, users: 150, perUserMb: 3 },
      [
        {
          kind: "no-op",
          subject: "budget",
          what: "users 100 → 150, perUserMb 18 → 3",
          consequence: "only the memory budget's projection changes; nothing on the box does",
          refused: false,
        },
      ],
    ],
    [
      "hetzner to local: the server is deleted",
      B,
      { target: "local" },
      [
        {
          kind: "destroy-server",
          subject: "server",
          what: "target hetzner → local",
          consequence:
            "DELETES THE SERVER cx33 — data on it is lost: the local target runs the containers on this machine's Docker instead. Deploy local as a separate stack",
          refused: false,
        },
      ],
    ],
    [
      "another location: refused, the server would be replaced",
      B,
      { ...B, location: "hel1" },
      [
        {
          kind: "replace-server",
          subject: "server",
          what: "cx33 (fsn1, x86) → cx33 (hel1, x86)",
          consequence:
            "REPLACES THE SERVER — data on it is lost (a new server: new IP, empty disk, empty Redis). location fsn1 → hel1: Hetzner cannot move a server. pulumi up refuses this for a deployed server before anything is touched: deploy the new location or architecture as a new stack and move the data over",
          refused: true,
        },
      ],
    ],
    [
      "swappiness: sysctl in place",
      B,
      { ...B, swappiness: 30 },
      [
        {
          kind: "update",
          subject: "swap",
          what: "vm.swappiness 10 → 30",
          consequence: "set with sysctl in place (no reboot)",
          refused: false,
        },
      ],
    ],
  ];
  it.each(cases)("%s", (_, before, afterRaw, want) => {
    expect(diffPlans(doc(before), doc(afterRaw))).toEqual(want);
  });

  it("values as the report prints them, and each role's recreate consequence", () => {
    expect([fmt(undefined), fmt(null), fmt(["a", "b"]), fmt(true), fmt(3), fmt("x")]).toEqual([
      "(not reported)",
      "unset",
      "[a, b]",
      "true",
      "3",
      "x",
    ]);
    expect(["redis", "api", "bot", "proxy", "worker"].map(recreateConsequence)).toEqual([
      "Redis stops and starts again: every app loses its connection for a few seconds (estimate). The queue and data stay on the redis-data volume (reloaded from the AOF)",
      API_TEXT,
      "stop-first, because Telegram allows one poller: the bot is offline for a few seconds (estimate); Telegram keeps the updates meanwhile (up to 24 h, Bot API getUpdates), so none are lost",
      "stop-first, because the host ports 80 and 443 are fixed: the API is unreachable from outside for a short gap, from the old proxy's stop (it finishes in-flight requests for up to 10 s) until the new one listens (estimate: a few seconds). The certificates and routes stay on the kamal-proxy-config volume, so no new certificate is ordered, and the deploy gate switches the new proxy to the running API again",
      "the worker gets up to 120 s to finish its current job, then restarts with the change; queued jobs wait in Redis (the other workers keep consuming)",
    ]);
  });
});

describe("each service is replaced by its own rule (issue 14)", () => {
  const api = recreateConsequence("api");

  // Key phrases, so a rewording keeps the meaning and a revert to the stop-first text fails here.
  it.each([
    ["starts beside the old one", "the new release starts beside the old one"],
    ["the old one serves during the start", "the old one keeps serving meanwhile"],
    ["the switch waits for the health check", "only after its health check passes"],
    ["kamal-proxy does the switch", "kamal-proxy switches traffic"],
    ["drained before it is deleted", "drains the old one (up to 30 s) before Pulumi deletes it"],
    ["a failing release fails pulumi up with its logs", "pulumi up fails with its last 50 log lines"],
    ["and the old one still serves", "and the old one keeps serving"],
  ])("the API: %s", (_, phrase) => {
    expect(api).toContain(phrase);
  });

  it("the API never reads as down or stop-first", () => {
    expect(api).not.toMatch(/is down|stop-first|stops|stop, then start/);
    const c = after({ images: { api: "ghcr.io/acme/a:2" } });
    expect(c).toHaveLength(1);
    expect(
      c[0]!.consequence.startsWith(
        "replaced start-first (the new one starts, then the old one is deleted): ",
      ),
    ).toBe(true);
    expect(c[0]!.consequence).not.toContain("stop, then start");
  });

  it("the figures are the gate's own (src/plan/gate.ts)", () => {
    expect(api).toContain(`within ${DEPLOY_TIMEOUT_S} s`);
    expect(api).toContain(`up to ${DRAIN_TIMEOUT_S} s`);
    expect(api).toContain(`last ${FAILED_LOG_LINES} log lines`);
  });

  it("bot, proxy, Redis and workers stay stop-first, each for its reason", () => {
    expect(recreateConsequence("bot")).toMatch(/^stop-first, because Telegram allows one poller/);
    expect(recreateConsequence("proxy")).toMatch(/^stop-first, because the host ports 80 and 443 are fixed/);
    expect(recreateConsequence("proxy")).toContain("short gap");
    expect(recreateConsequence("redis")).toContain("Redis stops and starts again");
    expect(recreateConsequence("worker")).toContain("up to 120 s to finish its current job");
    for (const role of ["bot", "proxy", "redis", "worker"])
      expect(replaceOrder(role), role).toBe("stop-first");
    expect(replaceOrder("api")).toBe("start-first");
  });

  it("replaceOrder is the plan's own rule for every service", () => {
    const cfg = parseConfig("prod", { stage: 2, workers: 3 });
    const services = makePlan(cfg, catalog).services;
    expect(new Set(services.map((s) => s.role))).toEqual(new Set(["redis", "proxy", "api", "bot", "worker"]));
    for (const s of services) expect(replaceOrder(s.role), s.name).toBe(s.replace);
  });

  it("a new proxy image: recreated stop-first, with the gap", () => {
    expect(after({ images: { proxy: "ghcr.io/acme/proxy:2" } })).toEqual([
      {
        kind: "recreate",
        subject: "proxy",
        what: expect.stringMatching(/^image .+ → ghcr\.io\/acme\/proxy:2$/),
        consequence: `recreated (stop, then start the new one): ${recreateConsequence("proxy")}`,
        refused: false,
      },
    ]);
  });

  it("a new bot image: recreated stop-first", () => {
    expect(after({ images: { bot: "ghcr.io/acme/bot:2" } })).toEqual([
      expect.objectContaining({
        kind: "recreate",
        subject: "bot",
        consequence: `recreated (stop, then start the new one): ${recreateConsequence("bot")}`,
      }),
    ]);
  });

  it("a new release id alone: the API replaced start-first under a new name", () => {
    expect(after({ release: "4711-1" })).toEqual([
      {
        kind: "recreate",
        subject: "api",
        what: "release unset → 4711-1",
        consequence: `replaced start-first (the new one starts, then the old one is deleted), under a new release name: ${API_TEXT}`,
        refused: false,
      },
    ]);
  });

  it("a new release id with a new API image: one line for the API", () => {
    const c = after({ release: "4711-1", images: { api: "ghcr.io/acme/a:2" } });
    expect(c.filter((x) => x.subject === "api")).toEqual([
      expect.objectContaining({
        what: "image ghcr.io/example/app:latest → ghcr.io/acme/a:2",
        consequence: API_REPLACED,
      }),
    ]);
  });

  it.each([
    ["a new health path", { services: { api: { healthPath: "/hz" } } }],
    ["a new fal.ai key", { falKey: { secure: "x" } }],
  ])("a new release id with %s: the API is named once", (_, raw) => {
    const c = after({ release: "4711-1", ...raw });
    expect(c.filter((x) => x.what.startsWith("release"))).toEqual([]);
  });

  it("a domain: the gate re-runs in place, with a certificate", () => {
    expect(after({ domain: "api.example.com" })).toEqual([
      {
        kind: "update",
        subject: "proxy",
        what: "domain unset → api.example.com",
        consequence:
          "the deploy gate runs kamal-proxy's deploy again with the new host name and TLS setting; no container is replaced and the API keeps serving. kamal-proxy asks Let's Encrypt for the name's certificate when it is first asked for over HTTPS",
        refused: false,
      },
    ]);
  });

  it("a domain without TLS: the gate re-runs, no certificate", () => {
    const c = after({ domain: "api.example.com", tls: false });
    expect(c).toEqual([
      expect.objectContaining({
        subject: "proxy",
        what: "domain unset → api.example.com, tls unset → false",
      }),
    ]);
    expect(c[0]!.consequence).not.toContain("certificate");
  });

  it("TLS turned on for a domain: a certificate", () => {
    const plain = doc({ server: { protect: true, backups: true }, domain: "api.example.com", tls: false });
    const c = diffPlans(
      plain,
      doc({ server: { protect: true, backups: true }, domain: "api.example.com", tls: true }),
    );
    expect(c).toEqual([expect.objectContaining({ subject: "proxy", what: "tls false → true" })]);
    expect(c[0]!.consequence).toContain("Let's Encrypt");
  });
});

describe("services that appear, go, or change in a way the plan does not name", () => {
  const noBot: PlanView = { ...base, services: base.services.filter((s) => s.name !== "bot") };

  it("a non-worker container added or removed gets plain words", () => {
    expect(diffPlans(noBot, base)).toEqual([
      {
        kind: "add",
        subject: "bot",
        what: "new container (150 MB limit)",
        consequence: "a new container starts; the running ones are not touched",
        refused: false,
      },
    ]);
    expect(diffPlans(base, noBot)).toEqual([
      {
        kind: "remove",
        subject: "bot",
        what: "container removed",
        consequence: "this container is stopped and removed",
        refused: false,
      },
    ]);
  });

  it("any other difference is an in-place update, said as 'changed'", () => {
    const tweaked: PlanView = {
      ...base,
      services: base.services.map((s) => (s.name === "bot" ? ({ ...s, note: "x" } as typeof s) : s)),
    };
    expect(diffPlans(base, tweaked)).toEqual([
      {
        kind: "update",
        subject: "bot",
        what: "changed",
        consequence: "updated in place (docker update): the container keeps running, no restart",
        refused: false,
      },
    ]);
  });
});

// Mutation testing (issue 12): the module is loaded afresh in each test of this block, so the
// helpers it defines at load time (fmt, same, roleOf) are the ones of the mutant under test.
describe("the comparison's helpers and the resolved limits, with the module loaded per test", () => {
  let I: typeof import("../../src/plan/impact");
  beforeEach(async () => {
    vi.resetModules();
    I = await import("../../src/plan/impact");
  });

  it("each service's limit, reservation and swap are the plan's, and swapGb is the stage's", () => {
    const cfg = parseConfig("prod", { stage: 2 });
    const s = I.resolveSettings(cfg, makePlan(cfg, catalog));
    const keys = ["redis", "api", "bot", "worker"].flatMap((n) =>
      ["memoryMb", "reservationMb", "swapMb"].map((f) => `services/${n}/${f}`),
    );
    expect(Object.fromEntries(["swapGb", ...keys].map((k) => [k, s[k]]))).toEqual({
      swapGb: 2,
      "services/redis/memoryMb": 256,
      "services/redis/reservationMb": 64,
      "services/redis/swapMb": 0,
      "services/api/memoryMb": 200,
      "services/api/reservationMb": 120,
      "services/api/swapMb": 0,
      "services/bot/memoryMb": 150,
      "services/bot/reservationMb": 100,
      "services/bot/swapMb": 0,
      "services/worker/memoryMb": 250,
      "services/worker/reservationMb": 100,
      "services/worker/swapMb": 250,
    });
  });

  it("a plan without a role's container: that role's limits are the config's, unset when not set", () => {
    const cfg = parseConfig("prod", { stage: 2, services: { worker: { memoryMb: 300 } } });
    const plan = makePlan(cfg, catalog);
    const s = I.resolveSettings(cfg, { ...plan, services: plan.services.filter((x) => x.role !== "worker") });
    expect([
      s["services/worker/memoryMb"],
      s["services/worker/reservationMb"],
      s["services/worker/swapMb"],
    ]).toEqual([300, null, null]);
  });

  it("values are printed as the report prints them", () => {
    expect([I.fmt(undefined), I.fmt(null), I.fmt(["a", "b"]), I.fmt(false), I.fmt(0)]).toEqual([
      "(not reported)",
      "unset",
      "[a, b]",
      "false",
      "0",
    ]);
  });

  it("the same plan compares equal in every setting and container", () => {
    expect(I.diffPlans(base, base)).toEqual([]);
  });

  it("a removed worker is said to leave its queued jobs to the others", () => {
    expect(I.diffPlans(base, doc({ server: { protect: true, backups: true }, workers: 1 }))).toEqual([
      {
        kind: "remove",
        subject: "worker-image-2",
        what: "container removed",
        consequence:
          "this worker is stopped and removed; its queued jobs stay in Redis for the remaining workers",
        refused: false,
      },
    ]);
  });
});

describe("diffPlans, the edges of each rule", () => {
  const B = { server: { protect: true, backups: true } };

  it("a key with no body still shows its type", () => {
    expect(shortKey("ssh-ed25519")).toBe("ssh-ed25519 …");
  });

  it("local to local: no server is created, deleted or rescaled", () => {
    expect(diffPlans(doc({ target: "local" }), doc({ target: "local", workers: 3 }))).toEqual([
      {
        kind: "add",
        subject: "worker-image-3",
        what: "new container (250 MB limit)",
        consequence: "a new worker starts consuming the queue; the running containers are not touched",
        refused: false,
      },
    ]);
  });

  it("a change after which no server type fits (the plan's errors say so): no server change is claimed", () => {
    const none = doc({ ...B, server: { ...B.server, type: "cpx22" } });
    expect(none.server).toBe(null);
    expect(diffPlans(base, none)).toEqual([]);
  });

  it("another location and architecture at once: both reasons, separated", () => {
    const c = after({ location: "hel1", server: { ...B.server, architecture: "arm" } });
    expect(c).toEqual([
      {
        kind: "replace-server",
        subject: "server",
        what: "cx33 (fsn1, x86) → cax21 (hel1, arm)",
        consequence:
          "REPLACES THE SERVER — data on it is lost (a new server: new IP, empty disk, empty Redis). location fsn1 → hel1: Hetzner cannot move a server; architecture x86 → arm: Hetzner cannot rescale across architectures, and the images must be built for arm. pulumi up refuses this for a deployed server before anything is touched: deploy the new location or architecture as a new stack and move the data over",
        refused: true,
      },
    ]);
  });

  const rescaleText = (diskText: string, tariff: string) =>
    "rescale: Hetzner powers the server off, changes its type and boots it — every service is down for about " +
    `1–2 min; the server, its IP and its data stay. ${diskText}New tariff: ${tariff} (any rescale moves the server to Hetzner's current price)`;
  const kept = "The disk keeps its size (server/keepDisk), so a later downgrade stays possible. ";

  it("a smaller type with keepDisk false: the disk does not grow, and the move needs a disk no larger than the new type's", () => {
    const big = doc({ server: { memoryGb: 16, keepDisk: false } });
    expect(diffPlans(big, doc({ server: { keepDisk: false } }))).toEqual([
      {
        kind: "rescale",
        subject: "server",
        what: "cx43 (8 vCPU, 16 GB) → cx33 (4 vCPU, 8 GB)",
        consequence: rescaleText(
          "Hetzner refuses this move if the server's disk is larger than cx33's 80 GB: it works only for a server " +
            "created on a type with a disk that small whose disk never grew (server/keepDisk). ",
          "€15.99/month → €8.49/month",
        ),
        refused: false,
      },
    ]);
  });

  it("a type with the same disk and keepDisk false: the disk does not grow", () => {
    const one = { stage: 1, server: { keepDisk: false, cores: 2 } };
    const c = diffPlans(doc(one), doc({ ...one, server: { ...one.server, type: "ccx13" } }));
    expect(c).toEqual([
      {
        kind: "rescale",
        subject: "server",
        what: "cx33 (4 vCPU, 8 GB) → ccx13 (2 vCPU, 8 GB)",
        consequence: rescaleText(kept, "€8.49/month → €42.99/month"),
        refused: false,
      },
    ]);
  });

  it("a rescale against a document without settings: the disk is said to keep its size", () => {
    const { settings: _s, ...bigger } = doc({ ...B, server: { ...B.server, memoryGb: 16 } });
    expect(diffPlans(base, bigger)).toEqual([
      {
        kind: "rescale",
        subject: "server",
        what: "cx33 (4 vCPU, 8 GB) → cx43 (8 vCPU, 16 GB)",
        consequence: rescaleText(kept, "€8.49/month → €15.99/month"),
        refused: false,
      },
    ]);
  });

  it("two limits of one container: both named, comma-separated", () => {
    expect(after({ services: { api: { memoryMb: 300, reservationMb: 150 } } })).toEqual([
      {
        kind: "update",
        subject: "api",
        what: "memoryMb 200 → 300, memoryReservationMb 120 → 150",
        consequence: "updated in place (docker update): the container keeps running, no restart",
        refused: false,
      },
    ]);
  });

  const inPlace = "the Hetzner firewall is updated in place; open connections are not dropped";
  const sshOpen = `${inPlace}. SSH from adminCidrs is now OPEN TO THE WHOLE INTERNET`;
  const firewallCases: [string, string[], string, string][] = [
    ["to 0.0.0.0/0 alone: open", ["0.0.0.0/0"], "tcp/22 from 0.0.0.0/0", sshOpen],
    ["to ::/0 alone: open", ["::/0"], "tcp/22 from ::/0", sshOpen],
    [
      "to one address and ::/0: open",
      ["198.51.100.7/32", "::/0"],
      "tcp/22 from 198.51.100.7/32, ::/0",
      sshOpen,
    ],
    ["to another address: not open", ["198.51.100.7/32"], "tcp/22 from 198.51.100.7/32", inPlace],
  ];
  it.each(firewallCases)("SSH from 203.0.113.0/24 %s", (_, cidrs, to, consequence) => {
    const narrow = doc({ ...B, adminCidrs: ["203.0.113.0/24"] });
    expect(diffPlans(narrow, doc({ ...B, adminCidrs: cidrs }))).toEqual([
      {
        kind: "update",
        subject: "firewall",
        what: `SSH from adminCidrs: tcp/22 from 203.0.113.0/24 → ${to}`,
        consequence,
        refused: false,
      },
    ]);
  });

  it("a base document without the ping rule: the rule is added, without a port, open to all", () => {
    const older: PlanView = { ...base, firewall: base.firewall!.filter((r) => r.description !== "ping") };
    expect(diffPlans(older, base)).toEqual([
      {
        kind: "update",
        subject: "firewall",
        what: "ping: icmp from 0.0.0.0/0, ::/0 added",
        consequence: `${inPlace}. ping is now OPEN TO THE WHOLE INTERNET`,
        refused: false,
      },
    ]);
  });

  it("a rule with no source in a hand-written base reads 'from nowhere'", () => {
    const closed: PlanView = {
      ...base,
      firewall: base.firewall!.map((r) =>
        r.description === "SSH from adminCidrs" ? { ...r, sourceIps: [] } : r,
      ),
    };
    expect(diffPlans(closed, base)).toEqual([
      {
        kind: "update",
        subject: "firewall",
        what: "SSH from adminCidrs: tcp/22 from nowhere → tcp/22 from 0.0.0.0/0, ::/0",
        consequence: sshOpen,
        refused: false,
      },
    ]);
  });

  const settingCases: [string, Record<string, unknown>, unknown[]][] = [
    [
      "an admin key: root's authorized_keys rewritten in place",
      { adminSshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabcdefgh ops@example"] },
      [
        {
          kind: "update",
          subject: "admin keys",
          what: "adminSshKeys [] → [ssh-ed25519 …abcdefgh ops@example]",
          consequence:
            "root's authorized_keys is rewritten in place over SSH; open sessions stay, a removed key can no longer log in",
          refused: false,
        },
      ],
    ],
    [
      "the alert webhook: the watchdog re-installed",
      { alertWebhookUrl: { secure: "x" } },
      [
        {
          kind: "update",
          subject: "watchdog",
          what: "alertWebhookUrl unset → set",
          consequence: "the watchdog's settings are re-installed in place; no container restarts",
          refused: false,
        },
      ],
    ],
    [
      "the system reserve: the budget only",
      { systemReserveMb: 600 },
      [
        {
          kind: "no-op",
          subject: "budget",
          what: "systemReserveMb 500 → 600",
          consequence: "only the memory budget's projection changes; nothing on the box does",
          refused: false,
        },
      ],
    ],
    [
      "the fal.ai key: every app container recreated",
      { falKey: { secure: "x" } },
      [
        {
          kind: "recreate",
          subject: "api, bot, workers",
          what: "falKey unset → set",
          consequence:
            "the secret reaches the containers as environment: the ones that receive it are recreated",
          refused: false,
        },
      ],
    ],
    [
      "more disk asked, the type already has it: a label",
      { server: { ...B.server, diskGb: 80 } },
      [
        {
          kind: "no-op",
          subject: "server",
          what: "server/diskGb 60 → 80",
          consequence:
            "the server stays cx33 (4 vCPU, 8 GB RAM, 80 GB disk): it already meets the new requirements (≥3 vCPU, ≥4 GB RAM, ≥80 GB disk); only its requirements label is updated in place. The next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €19.69/month incl. IPv4 and backups",
          refused: false,
        },
      ],
    ],
    [
      "a worker fewer and a new API image: the recreate before the removal",
      { workers: 1, images: { api: "ghcr.io/acme/a:2" } },
      [
        {
          kind: "recreate",
          subject: "api",
          what: "image ghcr.io/example/app:latest → ghcr.io/acme/a:2",
          consequence: API_REPLACED,
          refused: false,
        },
        {
          kind: "remove",
          subject: "worker-image-2",
          what: "container removed",
          consequence:
            "this worker is stopped and removed; its queued jobs stay in Redis for the remaining workers",
          refused: false,
        },
      ],
    ],
  ];
  it.each(settingCases)("%s", (_, raw, want) => {
    expect(after(raw)).toEqual(want);
  });

  it("a stage change against a document without requirements or scaling: no figures, no next size", () => {
    const { requirements: _r, scaling: _x, ...older } = doc({ ...B, stage: 3 });
    expect(diffPlans(base, older)).toEqual([
      {
        kind: "no-op",
        subject: "server",
        what: "stage 2 → 3, server/cores 3 → 4, server/memoryGb 4 → 6",
        consequence:
          "the server stays cx33 (4 vCPU, 8 GB RAM, 80 GB disk): it already meets the new requirements; only its requirements label is updated in place",
        refused: false,
      },
    ]);
  });

  it("a stage change in Singapore without backups: the next size up is an estimate, IPv4 only", () => {
    expect(diffPlans(doc({ location: "sin" }), doc({ location: "sin", stage: 3 }))).toEqual([
      {
        kind: "no-op",
        subject: "server",
        what: "stage 2 → 3, server/cores 3 → 4, server/memoryGb 4 → 6",
        consequence:
          "the server stays cpx32 (4 vCPU, 8 GB RAM, 160 GB disk): it already meets the new requirements (≥4 vCPU, ≥6 GB RAM, ≥60 GB disk); only its requirements label is updated in place. The next size up: server/memoryGb 16 → cpx42 (8 vCPU, 16 GB RAM), €69.99/month incl. IPv4 (estimate)",
        refused: false,
      },
    ]);
  });
});

describe("summarizeChanges counts each kind where Terraform would", () => {
  const B = { server: { protect: true, backups: true } };
  const cases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
    [
      "a new server with protection, backups and swap: one to add, three in place",
      { target: "local" },
      B,
      "Changes: 1 to add, 3 to change in place, 0 to replace, 0 to destroy.",
    ],
    [
      "a rescale: one in place",
      B,
      { server: { ...B.server, memoryGb: 16 } },
      "Changes: 0 to add, 1 to change in place, 0 to replace, 0 to destroy.",
    ],
    [
      "the server deleted for the local target: one to destroy",
      B,
      { target: "local" },
      "Changes: 0 to add, 0 to change in place, 0 to replace, 1 to destroy.",
    ],
    [
      "a worker fewer: one to destroy",
      B,
      { ...B, workers: 1 },
      "Changes: 0 to add, 0 to change in place, 0 to replace, 1 to destroy.",
    ],
  ];
  it.each(cases)("%s", (_, before, afterRaw, want) => {
    expect(summarizeChanges(diffPlans(doc(before), doc(afterRaw)))).toBe(want);
  });
});
