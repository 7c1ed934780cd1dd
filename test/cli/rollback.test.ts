// `npm run rollback` (src/cli/rollback.ts) against a fake `pulumi` on PATH that records its
// arguments and answers `stack output releases --json` from a file.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { defaultReleaseId, parseRollbackArgs, runRollbackCli } from "../../src/cli/rollback";
import type { Release } from "../../src/plan/releases";

const scratch = mkdtempSync(join(tmpdir(), "app-infra-rollback-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const bin = join(scratch, "bin");
mkdirSync(bin);
writeFileSync(
  join(bin, "pulumi"),
  `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >>"$FAKE_PULUMI_LOG"
if [ "$1 $2 $3" = "stack output releases" ]; then cat "$FAKE_RELEASES"; exit 0; fi
if [ "$1" = up ]; then exit "\${FAKE_UP_EXIT:-0}"; fi
`,
);
chmodSync(join(bin, "pulumi"), 0o755);

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const rel = (c: string, tag: string): Release => ({
  date: `2026-11-2${c === "a" ? 1 : c === "b" ? 2 : 3}T10:00:00.000Z`,
  commit: c.repeat(40),
  images: {
    api: { reference: `ghcr.io/acme/api:${tag}`, image: `ghcr.io/acme/api@${digest(c)}`, digest: digest(c) },
    bot: { reference: `ghcr.io/acme/bot:${tag}`, image: `ghcr.io/acme/bot@${digest(c)}`, digest: digest(c) },
    worker: {
      reference: `ghcr.io/acme/api:${tag}`,
      image: `ghcr.io/acme/api@${digest(c)}`,
      digest: digest(c),
    },
  },
});
// Newest first: 1.2 (c), 1.1 (b), 1.0 (a).
const RELEASES = [rel("c", "1.2"), rel("b", "1.1"), rel("a", "1.0")];

let dir: string;
let n = 0;
const stackFile = (tag: string) =>
  writeFileSync(
    join(dir, "Pulumi.dev.yaml"),
    `config:\n  app-infra:stage: 1\n  app-infra:images:\n    api: ghcr.io/acme/api:${tag}\n    bot: ghcr.io/acme/bot:${tag}\n    worker: ghcr.io/acme/api:${tag}\n`,
  );
beforeEach(() => {
  dir = join(scratch, `case-${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "releases.json"), JSON.stringify(RELEASES));
  stackFile("1.2");
});
const NOW = new Date("2026-11-27T08:09:10Z");
const run = (args: string[], extra: Record<string, string> = {}) => {
  rmSync(join(dir, "calls"), { force: true });
  const r = runRollbackCli(
    args,
    dir,
    {
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_PULUMI_LOG: join(dir, "calls"),
      FAKE_RELEASES: join(dir, "releases.json"),
      ...extra,
    },
    NOW,
  );
  let calls: string[] = [];
  try {
    calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
  } catch {
    // pulumi never ran
  }
  return { ...r, calls };
};
const setsTo = (c: string, id = "rollback-20261127080910") => [
  `config set --path images.api ghcr.io/acme/api@${digest(c)} --stack dev`,
  `config set --path images.bot ghcr.io/acme/bot@${digest(c)} --stack dev`,
  `config set --path images.worker ghcr.io/acme/api@${digest(c)} --stack dev`,
  `config set release ${id} --stack dev`,
];

describe("npm run rollback", () => {
  it("by default deploys the release before the one the stack file asks for, through pulumi up", () => {
    const r = run(["--stack", "dev"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(["stack output releases --json --stack dev", ...setsTo("b"), "up --stack dev"]);
    expect(r.stdout).toContain("rolling back dev to release 1 (2026-11-22T10:00:00.000Z, commit bbbb");
  });

  it("after a failed deploy (the stack file asks for a release that was never recorded), the newest release", () => {
    stackFile("1.3-broken");
    expect(run(["--stack", "dev", "--yes"]).calls.slice(1)).toEqual([...setsTo("c"), "up --yes --stack dev"]);
  });

  it("recognizes the current release by digest too (after an earlier rollback the stack file holds digests)", () => {
    writeFileSync(
      join(dir, "Pulumi.dev.yaml"),
      `config:\n  app-infra:stage: 1\n  app-infra:images:\n    api: ghcr.io/acme/api@${digest("c")}\n    bot: ghcr.io/acme/bot@${digest("c")}\n    worker: ghcr.io/acme/api@${digest("c")}\n`,
    );
    expect(run(["--stack", "dev"]).calls.slice(1, 2)).toEqual(setsTo("b").slice(0, 1));
  });

  it("--to picks a release by index; --release and --config-only are passed on; up is not run", () => {
    const r = run(["--stack", "dev", "--to", "2", "--release", "4711-1", "--config-only"]);
    expect(r.code).toBe(0);
    expect(r.calls.slice(1)).toEqual(setsTo("a", "4711-1"));
    expect(r.stdout).toContain("run pulumi up --stack dev to deploy it");
    // An empty --to (the workflow's blank input) is the default.
    expect(run(["--stack", "dev", "--to=", "--config-only"]).calls.slice(1, 2)).toEqual(
      setsTo("b").slice(0, 1),
    );
  });

  it("refuses an unknown index, naming it and what is recorded, before changing anything", () => {
    const r = run(["--stack", "dev", "--to", "3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "rollback: --to 3: no such release; 3 recorded (0 = newest; pulumi stack output releases)\n",
    );
    expect(r.calls).toEqual(["stack output releases --json --stack dev"]);
  });

  it("refuses when there is no previous release, or none at all", () => {
    writeFileSync(join(dir, "releases.json"), JSON.stringify([RELEASES[0]]));
    const only = run(["--stack", "dev"]);
    expect(only.code).toBe(2);
    expect(only.stderr).toMatch(/^rollback: no previous release: the stack runs its only recorded release/);
    writeFileSync(join(dir, "releases.json"), "null");
    expect(run(["--stack", "dev"]).stderr).toBe(
      "rollback: no release is recorded for this stack yet: nothing to roll back to\n",
    );
  });

  it("fails with pulumi's exit when pulumi up fails (the gate refused the release)", () => {
    const r = run(["--stack", "dev"], { FAKE_UP_EXIT: "255" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pulumi up --stack dev failed (exit 255)");
  });

  it("usage errors exit 2 and run no pulumi", () => {
    for (const argv of [[], ["--stack"], ["--stack", "dev", "--to", "one"], ["--stack", "dev", "--bogus"]]) {
      const r = run(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr, argv.join(" ")).toMatch(/^rollback: .+\nusage: npm run --silent rollback/);
      expect(r.calls, argv.join(" ")).toEqual([]);
    }
    expect(parseRollbackArgs(["--stack", "dev", "--to", "one"])).toEqual({
      ok: false,
      problem: '--to: should be a release index such as 1, or previous (got "one")',
    });
  });

  it("the default release id is new every second and a valid `release` value", () => {
    expect(defaultReleaseId(NOW)).toBe("rollback-20261127080910");
    expect(defaultReleaseId(NOW)).toMatch(/^[a-z0-9][a-z0-9._-]{0,63}$/);
  });
});
