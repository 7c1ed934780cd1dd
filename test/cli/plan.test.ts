import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runPlanCli } from "../../src/cli/plan";

const root = join(__dirname, "..", "..");
const run = (...args: string[]) => runPlanCli(args, root);

describe("npm run plan (offline)", () => {
  it("prints the dev report and exits 0", () => {
    const r = run("--stack", "dev");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("app-infra plan: stack dev, stage 1, target hetzner");
    expect(r.stdout).toMatch(/cx33 +4 +8 +80 +x86 +fsn1 +€8\.49\/month/);
    expect(r.stdout).toContain("Swap: 4 GB swapfile");
    expect(r.stdout).toMatch(
      /worker-image-1 .* 250 +100 +250 +unless-stopped +rq worker --url redis:\/\/redis:6379\/0 --max-jobs 15 img_queue/,
    );
    expect(r.stdout).toMatch(/deploy headroom \(2nd api during a switch\) +200 +2%/);
    expect(r.stdout).toMatch(/total \(reserve \+ limits \+ headroom \+ users\) +3420 +42%/);
    expect(r.stdout).toContain("Deployable.");
  });

  it("prints the prod report (stage 2, two workers)", () => {
    const r = run("--stack", "prod");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stage 2");
    expect(r.stdout).toContain("worker-image-2");
    expect(r.stdout).toContain("Swap: 2 GB swapfile");
  });

  it("--json is one parseable document with the documented fields", () => {
    const r = run("--stack", "dev", "--set", "stage=3", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ stack: "dev", stage: 3, swapGb: 2, deployable: true, errors: [] });
    expect(Object.keys(j.server)).toEqual(
      expect.arrayContaining(["type", "cores", "memoryGb", "diskGb", "location", "priceMonthlyEur"]),
    );
    expect(Object.keys(j.services[0])).toEqual(
      expect.arrayContaining([
        "name",
        "image",
        "command",
        "memoryMb",
        "memoryReservationMb",
        "memorySwapMb",
        "restart",
      ]),
    );
    expect(Object.keys(j.budget)).toEqual(
      expect.arrayContaining([
        "ramMb",
        "swapMb",
        "systemReserveMb",
        "limitsMb",
        "reservationsMb",
        "usersMb",
        "totalMb",
        "ramPercent",
      ]),
    );
    expect(j.services.map((s: { name: string }) => s.name)).toEqual([
      "redis",
      "proxy",
      "api",
      "bot",
      "worker-image-1",
      "worker-image-2",
    ]);
    expect(Array.isArray(j.warnings)).toBe(true);
  });

  it.each([
    [["--set", "stage=5"], "stage: should be one of 1, 2, 3, 4 (got 5)"],
    [["--set", "swapGb=-1"], "swapGb: should be an integer between 0 and 64 (got -1)"],
    [["--set", "swapGB=2"], "swapGB: unknown key"],
    [
      ["--set", "services/redis/maxmemoryMb=512"],
      "services/redis/maxmemoryMb: should be below the container limit services/redis/memoryMb (256) (got 512)",
    ],
    [
      [
        "--set",
        "workers=30",
        "--set",
        "swapGb=0",
        "--set",
        "server.type=cx23",
        "--set",
        "server.cores=2",
        "--set",
        "server.diskGb=40",
        "--set",
        "services.worker.swapMb=0",
      ],
      "budget: container limits (8170 MB) + deploy headroom (200 MB) + system reserve (500 MB) = 8870 MB exceed RAM + swap (4096 + 0 MB)",
    ],
  ])("bad input %j names the key: 2 for a bad value, 1 for a valid one the plan refuses", (sets, message) => {
    // A value the parser refuses is a configuration error (2); a valid configuration whose plan
    // does not fit (the budget) is "not deployable" (1).
    const expected =
      message.startsWith("budget:") || message.startsWith("services/redis/maxmemoryMb") ? 1 : 2;
    const r = run("--stack", "dev", ...sets);
    expect(r.code).toBe(expected);
    expect(r.stdout + r.stderr).toContain(message);
    const j = run("--stack", "dev", ...sets, "--json");
    expect(j.code).toBe(expected);
    expect(JSON.parse(j.stdout).errors.join("\n")).toContain(message);
  });

  it("--markdown renders a refused configuration as a report too", () => {
    const r = run("--stack", "dev", "--set", "stage=5", "--markdown");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      "### app-infra plan: `dev` — ❌ not deployable\n\n#### Errors\n- ❌ stage: should be one of 1, 2, 3, 4 (got 5)\n\n",
    );
  });

  it("usage errors exit 2", () => {
    expect(run().code).toBe(2);
    expect(run("--stack").stderr).toContain("--stack: needs a value");
    expect(run("--stack", "dev", "--frobnicate").stderr).toContain('unknown option "--frobnicate"');
    const missing = run("--stack", "nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--stack: no file Pulumi.nope.yaml");
  });

  it("refuses a secret stored in plain text in a stack file", () => {
    const dir = mkdtempSync(join(tmpdir(), "plan-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, "Pulumi.t.yaml"),
      "config:\n  app-infra:stage: 1\n  app-infra:botToken: 123:abc\n",
    );
    const r = runPlanCli(["--stack", "t"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("botToken: must be stored encrypted");
    expect(r.stderr).not.toContain("123:abc");
  });

  it("runs as `npm run plan` from a shell", () => {
    const out = execFileSync("npm", ["run", "--silent", "plan", "--", "--stack", "dev", "--json"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(JSON.parse(out).stage).toBe(1);
    const bad = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "dev", "--set", "stage=5"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("stage: should be one of 1, 2, 3, 4 (got 5)");
  });
});
