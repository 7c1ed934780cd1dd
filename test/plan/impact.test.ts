// The change-impact comparison on plan documents: every key resolved, and each kind of change with
// its consequence. Plans are made from parsed configs; the expected texts are written out.
import { describe, expect, it } from "vitest";
import { KEYS } from "../../src/config/keys";
import { parseConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import { diffPlans, resolveSettings, shortKey, summarizeChanges, type PlanView } from "../../src/plan/impact";
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

describe("resolved settings", () => {
  it("name every key of the config table, secrets only as set/unset", () => {
    const cfg = parseConfig("prod", { stage: 2, botToken: { secure: "v1:abc" } }, { fromStackFile: true });
    const s = resolveSettings(cfg, makePlan(cfg, catalog));
    expect(Object.keys(s)).toEqual(KEYS.map((k) => k.path));
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

  it("the API made private closes its firewall rule", () => {
    const c = after({ services: { api: { public: false } } });
    expect(c).toEqual([
      expect.objectContaining({ subject: "firewall", what: "API: tcp/8000 from 0.0.0.0/0, ::/0 removed" }),
    ]);
    expect(c[0]!.consequence).toContain("API is no longer reachable from outside");
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
