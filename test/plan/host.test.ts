import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { hostSteps, remoteCommandLine, shellQuote } from "../../src/plan/host";
import { makePlan } from "../../src/plan/plan";
import { watchdogEnv } from "../../src/plan/watchdog";
import { cfg } from "./fixtures";

const steps = (raw: Record<string, unknown> = {}) => {
  const c = cfg(raw);
  return hostSteps(makePlan(c, snapshotCatalog()), c);
};

describe("host steps", () => {
  it("run in the order server → ready → (admin keys, swap) → docker → watchdog", () => {
    expect(steps().map((s) => [s.name, s.after])).toEqual([
      ["ready", []],
      ["admin-keys", ["ready"]],
      ["swap", ["ready"]],
      ["docker", ["swap"]],
      ["watchdog", ["docker"]],
    ]);
  });
  it("swap takes the plan's size and swappiness", () => {
    expect(steps({ stage: 2, swappiness: 5 }).find((s) => s.name === "swap")!.args).toEqual(["2", "5"]);
  });
  it("admin keys travel as base64, '-' for none", () => {
    expect(steps().find((s) => s.name === "admin-keys")!.args).toEqual(["-"]);
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB me@laptop";
    const [b64] = steps({ adminSshKeys: [key] }).find((s) => s.name === "admin-keys")!.args;
    expect(Buffer.from(b64!, "base64").toString("utf8")).toBe(key);
  });
  it("several admin keys travel one per line", () => {
    const keys = [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA one@laptop",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB two@desk",
    ];
    const [b64] = steps({ adminSshKeys: keys }).find((s) => s.name === "admin-keys")!.args;
    expect(Buffer.from(b64!, "base64").toString("utf8")).toBe(
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA one@laptop\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB two@desk",
    );
  });
  it("the ready step names the server type, and has no argument without a server", () => {
    const c = cfg({});
    const plan = makePlan(c, snapshotCatalog());
    expect(hostSteps(plan, c).find((s) => s.name === "ready")!.args).toEqual(["cx33"]);
    expect(hostSteps({ ...plan, server: undefined }, c).find((s) => s.name === "ready")!.args).toEqual([]);
  });
  it("the watchdog re-runs when a threshold changes, not otherwise", () => {
    const a = steps().find((s) => s.name === "watchdog")!.args;
    expect(a[0]).toBe("60");
    expect(steps({ users: 150 }).find((s) => s.name === "watchdog")!.args).toEqual(a);
    expect(steps({ alerts: { swapPercent: 60 } }).find((s) => s.name === "watchdog")!.args).not.toEqual(a);
  });
});

describe("the host slice", () => {
  const host = (raw: Record<string, unknown> = {}) => {
    const c = cfg(raw);
    return makePlan(c, snapshotCatalog()).host!;
  };
  it("logs in as root with a ~10 minute dial budget; Docker is usable after the docker step", () => {
    expect(host().connection).toEqual({ user: "root", dialErrorLimit: 120, perDialTimeout: 15 });
    expect(host().dockerReady).toBe("docker");
  });
  it("only the watchdog step takes a payload, and only `ready` was renamed (host-ready → ready)", () => {
    expect(host().steps.map((s) => [s.name, s.payload ?? "-", s.formerNames])).toEqual([
      ["ready", "-", ["host-ready"]],
      ["admin-keys", "-", []],
      ["swap", "-", []],
      ["docker", "-", []],
      ["watchdog", "watchdog", []],
    ]);
  });
  it("sends the bot token to the box only when a Telegram chat is configured", () => {
    expect(host().watchdog.sendBotToken).toBe(false);
    expect(host({ alerts: { telegramChatId: "-1001" } }).watchdog.sendBotToken).toBe(true);
    expect(host().watchdog.env).toContain("STACK='dev'\n");
  });
});

describe("command lines", () => {
  it("quote only what needs quoting", () => {
    expect(shellQuote("4")).toBe("4");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
    expect(shellQuote("")).toBe("''");
    expect(remoteCommandLine(["4", "10"])).toBe("bash -s -- 4 10");
    expect(remoteCommandLine([])).toBe("bash -s --");
  });
});

describe("every step written out (admin keys, swap, a watchdog interval and backups set)", () => {
  it("scripts, arguments, order, former names and payloads", () => {
    const c = cfg(
      {
        stage: 2,
        adminSshKeys: ["ssh-ed25519 AAAAC3Nza you@laptop"],
        swapGb: 3,
        swappiness: 20,
        alerts: { intervalS: 45 },
        backup: { enabled: true, repository: "s3:https://s3.example.org/b/r", schedule: "daily" },
      },
      "shop",
    );
    const plan = makePlan(c, snapshotCatalog());
    const s = hostSteps(plan, c);
    const envHash = createHash("sha256").update(watchdogEnv(c, plan)).digest("hex").slice(0, 16);
    expect(s.map(({ args, ...rest }) => rest)).toEqual([
      { name: "ready", formerNames: ["host-ready"], script: "wait-host-ready.sh", after: [] },
      { name: "admin-keys", formerNames: [], script: "install-admin-keys.sh", after: ["ready"] },
      { name: "swap", formerNames: [], script: "setup-swap.sh", after: ["ready"] },
      { name: "docker", formerNames: [], script: "install-docker.sh", after: ["swap"] },
      {
        name: "watchdog",
        formerNames: [],
        script: "install-watchdog.sh",
        after: ["docker"],
        payload: "watchdog",
      },
      { name: "backup", formerNames: [], script: "install-backup.sh", after: ["docker"], payload: "backup" },
    ]);
    expect(s.map((x) => x.args)).toEqual([
      ["cx33"],
      // base64 of the keys, one per line ("ssh-ed25519 AAAAC3Nza you@laptop")
      ["c3NoLWVkMjU1MTkgQUFBQUMzTnphIHlvdUBsYXB0b3A="],
      ["3", "20"],
      // where the last releases' images are listed, for the weekly prune to spare
      ["/var/lib/app-infra/kept-images"],
      ["45", envHash],
      ["daily", expect.stringMatching(/^[0-9a-f]{16}$/)],
    ]);
  });

  it("stage 4: every node's Docker step says `swarm` (live-restore off, which Swarm mode refuses); stages 1-3 do not", () => {
    const dockerArgs = (h: { steps: { name: string; args: string[] }[] }) =>
      h.steps.find((x) => x.name === "docker")!.args;
    for (const stage of [1, 2, 3]) {
      const c = cfg({ stage });
      expect(dockerArgs({ steps: hostSteps(makePlan(c, snapshotCatalog()), c) }), `stage ${stage}`).toEqual([
        "/var/lib/app-infra/kept-images",
      ]);
    }
    const c = cfg({ stage: 4, workerNodes: 2 });
    const plan = makePlan(c, snapshotCatalog());
    const nodes = [plan.host!, ...plan.clusterDeploy!.workers.map((w) => w.host)];
    expect(nodes).toHaveLength(3);
    for (const h of nodes) expect(dockerArgs(h)).toEqual(["/var/lib/app-infra/kept-images", "swarm"]);
  });
});
