// `npm run plan -- --stack <name> [--set key=value ...] [--json | --markdown [--before file.json]]`
// Offline: no Pulumi CLI, no token. Reads Pulumi.<stack>.yaml, applies overrides, plans against the
// bundled server-type snapshot. Exit 0 when deployable (warnings allowed), 1 otherwise, 2 on usage.
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/errors";
import { parseConfig } from "../config/parse";
import { applyOverrides, readStackFile } from "../config/stack-file";
import { snapshotCatalog } from "../plan/catalog";
import { makePlan } from "../plan/plan";
import { planToJson, type PlanJson } from "../report/json";
import { renderMarkdown, renderMarkdownRefused } from "../report/markdown";
import { renderText } from "../report/text";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const USAGE =
  "usage: npm run plan -- --stack <name> [--set key=value ...] [--json | --markdown [--before plan.json]]";

export function runPlanCli(argv: string[], cwd: string): CliResult {
  let stack: string | undefined;
  let format: "text" | "json" | "markdown" = "text";
  let before: string | undefined;
  const sets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError([`${arg}: needs a value (${USAGE})`]);
      return v;
    };
    try {
      if (arg === "--stack" || arg === "-s") stack = next();
      else if (arg === "--set") sets.push(next());
      else if (arg === "--json") format = "json";
      else if (arg === "--markdown") format = "markdown";
      else if (arg === "--before") before = next();
      else if (arg === "--help" || arg === "-h") return { code: 0, stdout: USAGE + "\n", stderr: "" };
      else
        return { code: 2, stdout: "", stderr: `plan: unknown argument ${JSON.stringify(arg)}\n${USAGE}\n` };
    } catch (e) {
      return { code: 2, stdout: "", stderr: `${(e as Error).message}\n` };
    }
  }
  if (!stack) return { code: 2, stdout: "", stderr: `plan: --stack is required\n${USAGE}\n` };
  let json: PlanJson;
  try {
    const raw = applyOverrides(readStackFile(cwd, stack), sets);
    const cfg = parseConfig(stack, raw, { fromStackFile: true });
    json = planToJson(makePlan(cfg, snapshotCatalog()));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (format === "json") {
      return {
        code: 1,
        stdout:
          JSON.stringify({ stack, deployable: false, warnings: [], errors: e.problems }, null, 2) + "\n",
        stderr: "",
      };
    }
    if (format === "markdown")
      return { code: 1, stdout: renderMarkdownRefused(stack, e.problems) + "\n", stderr: `${e.message}\n` };
    return { code: 1, stdout: "", stderr: `${e.message}\n` };
  }
  let stdout: string;
  if (format === "json") stdout = JSON.stringify(json, null, 2);
  else if (format === "markdown") {
    let prev: PlanJson | undefined;
    if (before) {
      try {
        const parsed = JSON.parse(readFileSync(before, "utf8")) as PlanJson;
        // A base branch whose plan failed (or predates this report) has nothing to compare with.
        prev = parsed.services ? parsed : undefined;
      } catch {
        prev = undefined;
      }
    }
    stdout = renderMarkdown(json, prev);
  } else stdout = renderText(json);
  return { code: json.deployable ? 0 : 1, stdout: stdout + "\n", stderr: "" };
}

if (require.main === module) {
  const r = runPlanCli(process.argv.slice(2), process.cwd());
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}
