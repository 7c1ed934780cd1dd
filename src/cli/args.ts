// The plan command's arguments: strict, with a hint for each mistake a newcomer makes (npm eating the
// flags when `--` is missing, a config key given as a flag, two output formats at once).
import { KEY_BY_PATH } from "../config/keys";

export type Format = "text" | "json" | "markdown";

export interface PlanArgs {
  stack?: string;
  sets: string[];
  format: Format;
  before?: string;
  help: boolean;
}

export const USAGE =
  "usage: npm run --silent plan -- --stack <name> [--set key=value ...] [--json | --markdown] [--before <plan.json | git ref>]";

export const HELP = `${USAGE}

  --stack, -s <name>     plan Pulumi.<name>.yaml (also --stack=<name>)
  --set key=value        override one config key for this plan; repeatable. Paths use / or .
                         (--set services.redis.memoryMb=300); values are JSON when they parse as JSON.
                         Every key is listed in README.md, "Configuration".
  --json                 print exactly one JSON document on stdout, errors included
  --markdown             print the report as markdown (the pull request comment)
  --before <source>      show what the change does to the running box, compared with a plan JSON file
                         (written by --json) or a git ref (e.g. main): the stack file at that ref,
                         planned by this code
  --help, -h             this text

Exit codes: 0 deployable, 1 not deployable, 2 usage or configuration error, 3 internal error (a bug).
--silent keeps npm's own banner ("> app-infra@… plan") out of stdout.`;

const VALUE_FLAGS = new Map([
  ["--stack", "stack"],
  ["-s", "stack"],
  ["--set", "set"],
  ["--before", "before"],
] as const);
const SWITCHES = new Set(["--json", "--markdown", "--help", "-h"]);

/** npm's own config names for flags npm takes when `--` is missing (`npm run plan --stack dev`). */
const NPM_EATEN = ["stack", "set", "markdown", "json", "before"] as const;

export type ParseResult = { ok: true; args: PlanArgs } | { ok: false; problems: string[] };

export function parseArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): ParseResult {
  const args: PlanArgs = { sets: [], format: "text", help: false };
  const problems: string[] = [];
  const formats: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const kind = VALUE_FLAGS.get(flag as never);
    if (kind) {
      let value = inline;
      if (value === undefined) {
        const next = argv[i + 1];
        if (
          next === undefined ||
          (next.startsWith("-") && (VALUE_FLAGS.has(next as never) || SWITCHES.has(next)))
        ) {
          problems.push(
            `${flag}: needs a value${next === undefined ? "" : ` (got the option ${next})`}, e.g. ${flag} ${kind === "set" ? "stage=2" : kind === "before" ? "base.json" : "dev"}`,
          );
          continue;
        }
        value = next;
        i++;
      }
      if (value === "") {
        problems.push(`${flag}: needs a non-empty value`);
        continue;
      }
      if (kind === "set") args.sets.push(value);
      else if (kind === "stack") {
        if (args.stack !== undefined && args.stack !== value)
          problems.push(`--stack: given twice (${args.stack} and ${value}); plan one stack at a time`);
        args.stack = value;
      } else {
        if (args.before !== undefined && args.before !== value)
          problems.push(`--before: given twice (${args.before} and ${value}); compare with one base`);
        args.before = value;
      }
      continue;
    }
    if (SWITCHES.has(flag)) {
      if (inline !== undefined) {
        problems.push(`${flag}: takes no value (got ${JSON.stringify(raw)})`);
        continue;
      }
      if (flag === "--json") formats.push("json");
      else if (flag === "--markdown") formats.push("markdown");
      else args.help = true;
      continue;
    }
    if (raw.startsWith("-") && raw !== "-") {
      const name = flag.replace(/^-+/, "");
      const key = KEY_BY_PATH.has(name.replace(/\./g, "/")) ? name : undefined;
      problems.push(
        `unknown option ${JSON.stringify(raw)}` +
          (key ? `: config keys go through --set (--set ${key}=${inline ?? "<value>"})` : ` (${USAGE})`),
      );
      continue;
    }
    positional.push(raw);
  }
  const unique = [...new Set(formats)];
  if (unique.length > 1) problems.push("--json and --markdown: pick one output format");
  else if (unique.length === 1) args.format = unique[0] as Format;

  // `npm run plan --stack dev` (no `--`): npm keeps --stack for itself (npm_config_stack=true in the
  // script's environment) and passes only "dev" on. Seen with npm 10.9 and 11.19.
  const eaten = NPM_EATEN.filter(
    (n) =>
      env[`npm_config_${n}`] !== undefined && !argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`)),
  );
  if (env.npm_lifecycle_event === "plan" && eaten.length > 0) {
    problems.push(
      `npm took ${eaten.map((n) => `--${n}`).join(", ")} for itself: put -- between "plan" and the plan's options ` +
        "(npm run --silent plan -- --stack dev)",
    );
  } else {
    for (const p of positional) {
      problems.push(
        `unexpected argument ${JSON.stringify(p)}: ` +
          (p.includes("=")
            ? `did you mean --set ${p}?`
            : args.stack === undefined
              ? `did you mean --stack ${p}?`
              : `options start with -- (${USAGE})`),
      );
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, args };
}
