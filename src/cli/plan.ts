// `npm run --silent plan -- --stack <name> [--set key=value ...] [--json | --markdown] [--before <base>]`
// Offline: no Pulumi CLI, no token. Reads Pulumi.<stack>.yaml, applies overrides, plans against the
// bundled server-type snapshot. Exit codes, for people and scripts alike:
//   0 deployable (warnings allowed), 1 not deployable (a valid configuration the plan refuses),
//   2 usage or configuration error, 3 internal error (a bug).
// With --json, stdout is exactly one JSON document whatever happens, errors included.
import { ConfigError } from "../config/errors";
import { parseConfig } from "../config/parse";
import { applyOverrides, readStackFile } from "../config/stack-file";
import { snapshotCatalog, type Catalog } from "../plan/catalog";
import { diffPlans } from "../plan/impact";
import { makePlan } from "../plan/plan";
import { planToJson, type PlanJson } from "../report/json";
import { renderMarkdown, renderMarkdownRefused } from "../report/markdown";
import { renderText } from "../report/text";
import { HELP, parseArgs, USAGE, type Format } from "./args";
import { loadBase } from "./before";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const EXIT = { deployable: 0, notDeployable: 1, usage: 2, internal: 3 } as const;

export type ErrorKind = "usage" | "config" | "internal";

/** The one document `--json` prints when there is no plan. */
export interface ErrorDocument {
  stack: string | null;
  deployable: false;
  error: ErrorKind;
  exitCode: number;
  errors: string[];
  warnings: string[];
}

const BUG_HINT =
  "This is a bug in app-infra, not in your configuration: please report it with the command you ran and this output " +
  "(APP_INFRA_DEBUG=1 adds the stack trace).";

function failure(
  kind: ErrorKind,
  stack: string | undefined,
  problems: string[],
  format: Format,
  extra = "",
): CliResult {
  const code = kind === "internal" ? EXIT.internal : EXIT.usage;
  const heading =
    kind === "usage"
      ? "app-infra plan: bad usage:"
      : kind === "config"
        ? `app-infra: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:`
        : "app-infra plan: internal error:";
  const human =
    `${heading}\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
    (kind === "usage" ? `${USAGE}\n` : kind === "internal" ? `${BUG_HINT}\n` : "") +
    extra;
  if (format === "json") {
    const doc: ErrorDocument = {
      stack: stack ?? null,
      deployable: false,
      error: kind,
      exitCode: code,
      errors: problems,
      warnings: [],
    };
    return { code, stdout: JSON.stringify(doc, null, 2) + "\n", stderr: human };
  }
  if (format === "markdown" && kind !== "usage") {
    return { code, stdout: renderMarkdownRefused(stack ?? "?", problems) + "\n", stderr: human };
  }
  return { code, stdout: "", stderr: human };
}

/** A YAML syntax error from the `yaml` library, as `file:line:col: reason` (no stack trace). */
function yamlProblem(e: unknown, stack: string): string | undefined {
  const y = e as { name?: string; message?: string; linePos?: { line: number; col: number }[] };
  if (y?.name !== "YAMLParseError" && y?.name !== "YAMLWarning") return undefined;
  const pos = y.linePos?.[0];
  const reason = (y.message ?? "").split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return `Pulumi.${stack}.yaml${pos ? `:${pos.line}:${pos.col}` : ""}: ${reason}`;
}

export interface CliOptions {
  /** The environment, for npm's traces of flags it took (`npm run plan --stack dev`). */
  env?: Record<string, string | undefined>;
  /** The server-type catalog; the shipped snapshot unless a test passes its own. */
  catalog?: () => Catalog;
}

export function runPlanCli(argv: string[], cwd: string, opts: CliOptions = {}): CliResult {
  // Decided before parsing, so that even a usage error comes out as JSON when --json was asked for.
  const format: Format = argv.includes("--json") ? "json" : argv.includes("--markdown") ? "markdown" : "text";
  let stack: string | undefined;
  try {
    const parsed = parseArgs(argv, opts.env ?? {});
    if (!parsed.ok)
      return failure("usage", undefined, parsed.problems, argv.includes("--json") ? "json" : "text");
    const args = parsed.args;
    if (args.help) {
      if (args.format === "json")
        return { code: 0, stdout: JSON.stringify({ help: HELP }) + "\n", stderr: "" };
      return { code: 0, stdout: HELP + "\n", stderr: "" };
    }
    stack = args.stack;
    if (!stack) return failure("usage", undefined, ["--stack is required (e.g. --stack dev)"], args.format);
    return plan(args.format, stack, args.sets, args.before, cwd, opts.catalog ?? snapshotCatalog);
  } catch (e) {
    const problems =
      e instanceof ConfigError || Array.isArray((e as { problems?: unknown })?.problems)
        ? [...(e as ConfigError).problems]
        : undefined;
    if (problems) return failure("config", stack, problems, format);
    const yaml = stack !== undefined ? yamlProblem(e, stack) : undefined;
    if (yaml) return failure("config", stack, [yaml], format);
    const err = e as Error;
    return failure(
      "internal",
      stack,
      [String(err?.message ?? e).split("\n")[0]!],
      format,
      opts.env?.APP_INFRA_DEBUG ? `${err?.stack ?? ""}\n` : "",
    );
  }
}

function plan(
  format: Format,
  stack: string,
  sets: string[],
  before: string | undefined,
  cwd: string,
  loadCatalog: () => Catalog,
): CliResult {
  const catalog = loadCatalog();
  const raw = applyOverrides(readStackFile(cwd, stack), sets);
  const cfg = parseConfig(stack, raw, { fromStackFile: true });
  const json: PlanJson = planToJson(makePlan(cfg, catalog), { cfg, catalog });
  let prev: PlanJson | undefined;
  if (before !== undefined) {
    const base = loadBase(before, stack, cwd, catalog);
    if (!base.ok) return failure("usage", stack, [base.problem], format);
    prev = base.plan;
    json.comparedWith = base.comparedWith;
    if (prev) {
      json.changes = diffPlans(prev, json);
      for (const c of json.changes.filter((x) => x.refused)) {
        json.errors.push(`${c.subject}: ${c.what}: ${c.consequence}`);
      }
      json.deployable = json.errors.length === 0;
    }
  }
  const code = json.deployable ? EXIT.deployable : EXIT.notDeployable;
  if (format === "json") return { code, stdout: JSON.stringify(json, null, 2) + "\n", stderr: "" };
  if (format === "markdown") return { code, stdout: renderMarkdown(json, prev) + "\n", stderr: "" };
  return { code, stdout: renderText(json) + "\n", stderr: "" };
}

if (require.main === module) {
  const r = runPlanCli(process.argv.slice(2), process.cwd(), { env: process.env });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}
