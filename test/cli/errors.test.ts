// Errors a person and a program can both read: exit codes 0/1/2/3, one JSON document with --json
// whatever fails, and a hint for every flag mistake.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args";
import { runPlanCli } from "../../src/cli/plan";

const root = join(__dirname, "..", "..");
const run = (...args: string[]) => runPlanCli(args, root);
const scratch = mkdtempSync(join(tmpdir(), "app-infra-errors-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("exit codes", () => {
  it("0 deployable, 1 not deployable, 2 configuration, 2 usage", () => {
    expect(run("--stack", "dev").code).toBe(0);
    expect(run("--stack", "dev", "--set", "services.redis.maxmemoryMb=256").code).toBe(1);
    expect(run("--stack", "dev", "--set", "stage=9").code).toBe(2);
    expect(run("--stack", "dev", "--set", "stage").code).toBe(2);
    expect(run("--stack", "nope").code).toBe(2);
    expect(run("--stak", "dev").code).toBe(2);
  });

  it("3 for an internal error, with a one-line bug report hint and no stack trace", () => {
    // A catalog that throws stands for a bug: nothing the user typed can cause it.
    const dir = join(scratch, "internal");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Pulumi.t.yaml"), "config:\n  app-infra:stage: 1\n");
    const broken = {
      catalog: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'types')");
      },
    };
    const r = runPlanCli(["--stack", "t"], dir, broken);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("app-infra plan: internal error:");
    expect(r.stderr).toContain("This is a bug in app-infra, not in your configuration: please report it");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const j = runPlanCli(["--stack", "t", "--json"], dir, broken);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({
      stack: "t",
      deployable: false,
      error: "internal",
      exitCode: 3,
    });
  });

  it("2 for a stack file that cannot be read, naming it", () => {
    const dir = join(scratch, "unreadable");
    mkdirSync(join(dir, "Pulumi.t.yaml"), { recursive: true });
    const r = runPlanCli(["--stack", "t"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Pulumi.t.yaml: cannot be read (EISDIR)");
  });
});

describe("--json prints exactly one JSON document, whatever fails", () => {
  it.each([
    ["usage", ["--json"], "--stack is required"],
    ["usage", ["--json", "--stack", "dev", "--markdown"], "--json and --markdown: pick one output format"],
    ["usage", ["--json", "--stack", "dev", "--frobnicate"], 'unknown option "--frobnicate"'],
    [
      "config",
      ["--json", "--stack", "dev", "--set", "stage=9"],
      "stage: should be one of 1, 2, 3, 4 (got 9)",
    ],
    ["config", ["--json", "--stack", "nope"], "no file Pulumi.nope.yaml"],
  ])("%s error %j", (kind, args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ deployable: false, error: kind, exitCode: 2, warnings: [] });
    expect(doc.errors.join("\n")).toContain(message);
  });

  it("a malformed stack file: file:line:col, no stack trace, still one document", () => {
    const dir = join(scratch, "yaml");
    mkdirSync(dir);
    writeFileSync(join(dir, "Pulumi.t.yaml"), "config:\n  app-infra:stage: [1\n");
    for (const format of [["--json"], ["--markdown"], []]) {
      const r = runPlanCli(["--stack", "t", ...format], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Pulumi\.t\.yaml:\d+:\d+: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      if (format[0] === "--json") expect(JSON.parse(r.stdout).error).toBe("config");
      if (format[0] === "--markdown") expect(r.stdout).toContain("❌ not deployable");
    }
  });

  it("--help with --json is a document too", () => {
    const r = run("--help", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).help).toContain("Exit codes: 0 deployable");
  });
});

describe("flags: refused with a hint, never ignored", () => {
  const problems = (argv: string[], env: Record<string, string> = {}) => {
    const r = parseArgs(argv, env);
    return r.ok ? [] : r.problems;
  };

  it("accepts --stack=dev, --set=k=v and -s", () => {
    expect(parseArgs(["--stack=dev", "--set=stage=2", "--before=base.json"])).toEqual({
      ok: true,
      args: { stack: "dev", sets: ["stage=2"], format: "text", before: "base.json", help: false },
    });
    expect(parseArgs(["-s", "prod", "--json"])).toMatchObject({
      ok: true,
      args: { stack: "prod", format: "json" },
    });
    expect(run("--stack=dev").code).toBe(0);
  });

  it.each([
    [["--stack", "a", "--stack", "b"], "--stack: given twice (a and b); plan one stack at a time"],
    [["--stack", "--json"], "--stack: needs a value (got the option --json), e.g. --stack dev"],
    [["--stack", "dev", "--before"], "--before: needs a value, e.g. --before base.json"],
    [["--stack", "dev", "--json", "--markdown"], "--json and --markdown: pick one output format"],
    [["--stack", "dev", "--json=true"], '--json: takes no value (got "--json=true")'],
    [
      ["--stack", "dev", "--stage", "2"],
      'unknown option "--stage": config keys go through --set (--set stage=<value>)',
    ],
    [
      ["--stack", "dev", "--workers=3"],
      'unknown option "--workers=3": config keys go through --set (--set workers=3)',
    ],
    [["dev"], 'unexpected argument "dev": did you mean --stack dev?'],
    [["--stack", "dev", "stage=2"], 'unexpected argument "stage=2": did you mean --set stage=2?'],
  ])("%j", (argv, message) => {
    expect(problems(argv)).toContain(message);
    const r = runPlanCli(argv, root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("`npm run plan --stack dev` (no --): names what npm took and the fix", () => {
    // What npm 10.9 and 11.19 hand the script: "dev" as an argument, --stack kept as npm config.
    const env = { npm_lifecycle_event: "plan", npm_config_stack: "true" };
    expect(problems(["dev"], env)).toEqual([
      'npm took --stack for itself: put -- between "plan" and the plan\'s options (npm run --silent plan -- --stack dev)',
    ]);
    // `npm run plan --stack=dev --json`: nothing reaches the script at all.
    expect(
      problems([], { npm_lifecycle_event: "plan", npm_config_stack: "dev", npm_config_json: "true" }),
    ).toEqual([
      'npm took --stack, --json for itself: put -- between "plan" and the plan\'s options (npm run --silent plan -- --stack dev)',
    ]);
    // With `--`, npm keeps nothing and the same environment variables are absent.
    expect(problems(["--stack", "dev"], { npm_lifecycle_event: "plan" })).toEqual([]);
  });
});
