import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { hostSteps, remoteCommandLine, shellQuote } from "../../src/plan/host";
import { makePlan } from "../../src/plan/plan";
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
