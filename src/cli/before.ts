// The base of `plan --before`: a plan JSON file (written by `--json`), or a git ref whose
// Pulumi.<stack>.yaml is read with `git show` (no checkout) and planned by this code. Anything else
// is refused with the reason: a base that is silently ignored looks like "no change".
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../config/errors";
import { parseConfig } from "../config/parse";
import { readStackFile } from "../config/stack-file";
import type { Catalog } from "../plan/catalog";
import { makePlan } from "../plan/plan";
import { planToJson, type ComparedWith, type PlanJson } from "../report/json";

export type Base =
  { ok: true; plan: PlanJson | undefined; comparedWith: ComparedWith } | { ok: false; problem: string };

const HOW = "write one with: npm run --silent plan -- --stack <name> --json > base.json";

/** Checks that a parsed file is a plan document, and whether it holds a plan or only errors. */
export function readPlanDocument(text: string, source: string): Base {
  const trimmed = text.trimStart();
  if (trimmed === "") return { ok: false, problem: `--before: ${source} is empty (${HOW})` };
  if (trimmed.startsWith(">")) {
    return {
      ok: false,
      problem:
        `--before: ${source} starts with npm's banner ("${trimmed.split("\n")[0]}"), not JSON: ` +
        "it was written without --silent. Write it again with: npm run --silent plan -- --stack <name> --json > " +
        source,
    };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `--before: ${source} is not JSON (${(e as Error).message}); ${HOW}` };
  }
  const d = doc as Partial<PlanJson> | null;
  if (!d || typeof d !== "object" || Array.isArray(d) || typeof d.stack !== "string") {
    return { ok: false, problem: `--before: ${source} is JSON but not a plan document (no "stack"); ${HOW}` };
  }
  if (Array.isArray(d.services)) {
    const good =
      d.services.every((s) => s && typeof s.name === "string" && typeof s.image === "string") &&
      typeof d.swapGb === "number" &&
      (d.server === null || typeof d.server === "object");
    if (!good) return { ok: false, problem: `--before: ${source} is not a complete plan document; ${HOW}` };
    return { ok: true, plan: d as PlanJson, comparedWith: { source, planned: true, problems: [] } };
  }
  if (Array.isArray(d.errors)) {
    // The base's configuration was refused: there is nothing to compare with, and the report says so.
    return {
      ok: true,
      plan: undefined,
      comparedWith: { source, planned: false, problems: d.errors.map(String) },
    };
  }
  return {
    ok: false,
    problem: `--before: ${source} is JSON but not a plan document (no "services"); ${HOW}`,
  };
}

function git(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return undefined;
  }
}

/** Plans Pulumi.<stack>.yaml as it is at `ref`, with this code and catalog. */
export function planAtRef(ref: string, stack: string, cwd: string, catalog: Catalog): Base | undefined {
  // A ref that starts with "-" would be read by git as an option.
  if (ref.startsWith("-")) return undefined;
  const commit = git(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])?.trim();
  if (!commit) return undefined;
  const source = `git ${ref} (${commit.slice(0, 7)})`;
  // `<rev>:./<path>` is relative to the current directory, so a stack in a subfolder works too.
  const text = git(cwd, ["show", `${commit}:./Pulumi.${stack}.yaml`]);
  if (text === undefined) {
    return {
      ok: true,
      plan: undefined,
      comparedWith: {
        source,
        planned: false,
        problems: [`Pulumi.${stack}.yaml does not exist at ${ref}: the whole stack would be new`],
      },
    };
  }
  // Through the same reader as the working tree's file, so both sides are parsed alike.
  const dir = mkdtempSync(join(tmpdir(), "app-infra-before-"));
  try {
    writeFileSync(join(dir, `Pulumi.${stack}.yaml`), text);
    const cfg = parseConfig(stack, readStackFile(dir, stack), { fromStackFile: true });
    const plan = planToJson(makePlan(cfg, catalog), { cfg, catalog });
    return { ok: true, plan, comparedWith: { source, planned: true, problems: [] } };
  } catch (e) {
    const problems = e instanceof ConfigError ? [...e.problems] : [(e as Error).message.split("\n")[0]!];
    return {
      ok: true,
      plan: undefined,
      comparedWith: { source, planned: false, problems: problems.map((p) => `at ${ref}: ${p}`) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function loadBase(before: string, stack: string, cwd: string, catalog: Catalog): Base {
  const path = resolve(cwd, before);
  if (existsSync(path)) {
    if (!statSync(path).isFile()) return { ok: false, problem: `--before: ${before} is not a file` };
    return readPlanDocument(readFileSync(path, "utf8"), before);
  }
  const fromGit = planAtRef(before, stack, cwd, catalog);
  if (fromGit) return fromGit;
  return {
    ok: false,
    problem:
      `--before: ${JSON.stringify(before)} is neither a file nor a git commit or branch here (${cwd}); ` +
      `give a plan JSON (${HOW}) or a git ref such as main`,
  };
}
