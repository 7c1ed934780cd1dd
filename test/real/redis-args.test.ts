// The Redis command the plan registers, started with a real redis-server: it must accept every
// argument, and CONFIG GET must show what the plan intended.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { planServices } from "../../src/plan/services";
import { freePort } from "../support/net";

const started: { proc: ChildProcess; dir: string }[] = [];

async function startPlannedRedis(
  raw: Record<string, unknown>,
): Promise<{ port: number; cli: (...a: string[]) => string }> {
  const redis = planServices(parseConfig("dev", { stage: 1, ...raw }), 1).find((s) => s.role === "redis")!;
  const [bin, ...args] = redis.command!;
  expect(bin).toBe("redis-server");
  const dir = mkdtempSync(join(tmpdir(), "redis-plan-"));
  // Only the data directory moves to a temp dir; every other argument is the plan's.
  const i = args.indexOf("--dir");
  args[i + 1] = dir;
  const port = await freePort();
  const proc = spawn("redis-server", [...args, "--port", String(port), "--bind", "127.0.0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push({ proc, dir });
  let log = "";
  proc.stdout!.on("data", (d) => (log += d));
  proc.stderr!.on("data", (d) => (log += d));
  const cli = (...a: string[]) =>
    spawnSync("redis-cli", ["-p", String(port), ...a], { encoding: "utf8" }).stdout.trim();
  for (let t = 0; t < 100; t++) {
    if (cli("PING") === "PONG") return { port, cli };
    if (proc.exitCode !== null) throw new Error(`redis-server refused the plan's arguments:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not start:\n${log}`);
}

// Stop each server and wait for it before removing its directory: a Redis with RDB saving on saves
// at SIGTERM and refuses to exit if that save fails, so it would outlive the test.
async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

afterAll(async () => {
  for (const { proc, dir } of started) {
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("the planned Redis command on a real redis-server", () => {
  it("default plan: maxmemory 128 MB (half of 256), noeviction, AOF on, no RDB snapshots", async () => {
    const { cli } = await startPlannedRedis({});
    expect(cli("CONFIG", "GET", "maxmemory").split("\n")).toEqual(["maxmemory", String(128 * 1024 * 1024)]);
    expect(cli("CONFIG", "GET", "maxmemory-policy").split("\n")).toEqual(["maxmemory-policy", "noeviction"]);
    expect(cli("CONFIG", "GET", "appendonly").split("\n")).toEqual(["appendonly", "yes"]);
    expect(cli("CONFIG", "GET", "save").split("\n")[1] ?? "").toBe("");
    expect(cli("CONFIG", "GET", "protected-mode").split("\n")[1]).toBe("no");
  });

  it("overrides reach redis-server: a bigger container, a chosen policy, AOF off", async () => {
    const { cli } = await startPlannedRedis({
      services: {
        redis: { memoryMb: 512, maxmemoryMb: 200, maxmemoryPolicy: "volatile-lru", appendonly: false },
      },
    });
    expect(cli("CONFIG", "GET", "maxmemory").split("\n")[1]).toBe(String(200 * 1024 * 1024));
    expect(cli("CONFIG", "GET", "maxmemory-policy").split("\n")[1]).toBe("volatile-lru");
    expect(cli("CONFIG", "GET", "appendonly").split("\n")[1]).toBe("no");
  });

  it("noeviction makes a full Redis refuse writes loudly instead of dropping queued jobs", async () => {
    const { cli } = await startPlannedRedis({ services: { redis: { memoryMb: 64, maxmemoryMb: 2 } } });
    const big = "x".repeat(100_000);
    let answer = "";
    for (let n = 0; n < 100 && !answer.includes("OOM"); n++) answer = cli("RPUSH", "rq:queue:img_queue", big);
    expect(answer).toContain("OOM command not allowed when used memory > 'maxmemory'");
    expect(Number(cli("LLEN", "rq:queue:img_queue"))).toBeGreaterThan(0);
  });
});
