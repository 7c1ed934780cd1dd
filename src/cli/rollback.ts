// `npm run --silent rollback -- --stack <name> [--to <index>] [--release <id>] [--yes] [--config-only]`
//
// Deploys a recorded release again (the `releases` stack output, src/plan/releases.ts):
//   1. `pulumi stack output releases --json` lists them, newest first (index 0);
//   2. picks --to, or by default the release before the one the stack file asks for (index 1 when
//      images/* are the newest release's; index 0 after a failed deploy, which records nothing);
//   3. sets images/api, images/bot and images/worker to that release's pulled images (by digest)
//      and `release` to a new id (the API container then gets a name no live container has,
//      src/plan/release.ts), with `pulumi config set --path`, so Pulumi.<stack>.yaml says what runs;
//   4. runs `pulumi up`: the same health-gated path as any deploy (src/plan/gate.ts).
// --config-only stops after 3 (the deploy workflow runs its own `pulumi up` step next).
// Exit codes: 0 done, 1 a pulumi command failed, 2 usage error or no such release.
import { spawnSync } from "node:child_process";
import { ConfigError } from "../config/errors";
import { parseConfig } from "../config/parse";
import { readStackFile } from "../config/stack-file";
import { readReleases, RELEASE_SERVICES, type Release } from "../plan/releases";

export const ROLLBACK_USAGE =
  "usage: npm run --silent rollback -- --stack <name> [--to <index>] [--release <id>] [--yes] [--config-only]";

const HELP = `${ROLLBACK_USAGE}

  --stack, -s <name>   the stack to roll back
  --to <index>         the release to deploy, as \`pulumi stack output releases\` lists them
                       (0 = newest); default (or "previous"): the one before what
                       Pulumi.<stack>.yaml asks for
  --release <id>       the \`release\` key to set (default rollback-<UTC time>); must be new
  --yes                pass --yes to pulumi up (no confirmation prompt)
  --config-only        set the config, do not run pulumi up
  --help, -h           this text`;

export interface RollbackArgs {
  stack: string;
  to?: number;
  release?: string;
  yes: boolean;
  configOnly: boolean;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

type Parsed = { ok: true; args: RollbackArgs } | { ok: false; problem: string } | { ok: "help" };

export function parseRollbackArgs(argv: readonly string[]): Parsed {
  let stack: string | undefined;
  let to: string | undefined;
  let release: string | undefined;
  let yes = false;
  let configOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    let missing = false;
    const value = () => {
      const v = eq > 0 ? raw.slice(eq + 1) : argv[++i];
      if (v === undefined) missing = true;
      return v;
    };
    switch (flag) {
      case "--stack":
      case "-s":
        stack = value();
        break;
      case "--to":
        to = value();
        break;
      case "--release":
        release = value();
        break;
      case "--yes":
        yes = true;
        break;
      case "--config-only":
        configOnly = true;
        break;
      case "--help":
      case "-h":
        return { ok: "help" };
      default:
        return { ok: false, problem: `unknown argument ${JSON.stringify(raw)}` };
    }
    if (missing) return { ok: false, problem: `${flag} needs a value` };
  }
  if (!stack) return { ok: false, problem: "--stack is required" };
  // `previous`, or an empty --to (the workflow's input), is the default.
  const byDefault = to === undefined || to === "" || to === "previous";
  if (!byDefault && !/^\d+$/.test(to ?? ""))
    return {
      ok: false,
      problem: `--to: should be a release index such as 1, or previous (got ${JSON.stringify(to)})`,
    };
  return {
    ok: true,
    args: { stack, to: byDefault ? undefined : Number(to), release: release || undefined, yes, configOnly },
  };
}

/** Whether the stack file asks for this release's images (by the configured reference or the pulled one). */
export function asksFor(release: Release, configured: Record<string, string>): boolean {
  return RELEASE_SERVICES.every((s) => {
    const c = configured[s];
    return c === release.images[s].reference || c === release.images[s].image;
  });
}

/** The index to deploy, or why there is none. */
export function pickRelease(
  releases: readonly Release[],
  configured: Record<string, string>,
  to: number | undefined,
): { ok: true; index: number } | { ok: false; problem: string } {
  const listed = `${releases.length} recorded (0 = newest; pulumi stack output releases)`;
  if (releases.length === 0)
    return { ok: false, problem: "no release is recorded for this stack yet: nothing to roll back to" };
  if (to !== undefined) {
    if (to >= releases.length) return { ok: false, problem: `--to ${to}: no such release; ${listed}` };
    return { ok: true, index: to };
  }
  const index = asksFor(releases[0]!, configured) ? 1 : 0;
  if (index >= releases.length)
    return {
      ok: false,
      problem: `no previous release: the stack runs its only recorded release (releases/keep keeps up to 20); ${listed}`,
    };
  return { ok: true, index };
}

/** The pulumi commands (argv after `pulumi`) that deploy `release`. */
export function rollbackCommands(args: RollbackArgs, release: Release, releaseId: string): string[][] {
  const s = ["--stack", args.stack];
  const cmds = RELEASE_SERVICES.map((svc) => [
    "config",
    "set",
    "--path",
    `images.${svc}`,
    release.images[svc].image,
    ...s,
  ]);
  cmds.push(["config", "set", "release", releaseId, ...s]);
  if (!args.configOnly) cmds.push(["up", ...(args.yes ? ["--yes"] : []), ...s]);
  return cmds;
}

/** `rollback-<UTC yyyymmddhhmmss>`: a `release` value no earlier deploy used. */
export function defaultReleaseId(now: Date): string {
  return `rollback-${now.toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
}

export function runRollbackCli(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  now: Date = new Date(),
  /** Progress, printed before `pulumi up` prints its own (which goes straight to the terminal). */
  say: (text: string) => void = () => {},
): CliResult {
  const out: string[] = [];
  const log = (text: string) => {
    out.push(text);
    say(text);
  };
  const fail = (code: number, problem: string): CliResult => ({
    code,
    stdout: out.join(""),
    stderr: `rollback: ${problem}\n`,
  });
  const parsed = parseRollbackArgs(argv);
  if (parsed.ok === "help") return { code: 0, stdout: HELP + "\n", stderr: "" };
  if (!parsed.ok) return fail(2, `${parsed.problem}\n${ROLLBACK_USAGE}`);
  const args = parsed.args;

  const pulumi = (cmd: string[], inherit: boolean) =>
    spawnSync("pulumi", cmd, {
      cwd,
      env,
      encoding: "utf8",
      stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });

  const listed = pulumi(["stack", "output", "releases", "--json", "--stack", args.stack], false);
  if (listed.error) return fail(1, `cannot run pulumi: ${listed.error.message}`);
  if (listed.status !== 0)
    return fail(1, `pulumi stack output releases failed (exit ${listed.status}): ${listed.stderr.trim()}`);
  let value: unknown;
  try {
    value = JSON.parse(listed.stdout);
  } catch {
    return fail(1, `pulumi stack output releases --json printed no JSON: ${listed.stdout.slice(0, 200)}`);
  }
  const releases = readReleases(value);

  let configured: Record<string, string> = {};
  if (args.to === undefined) {
    try {
      configured = parseConfig(args.stack, readStackFile(cwd, args.stack), { fromStackFile: true }).images;
    } catch (e) {
      const detail = e instanceof ConfigError ? e.problems.join("; ") : String((e as Error).message ?? e);
      return fail(
        2,
        `cannot read Pulumi.${args.stack}.yaml to find the current release (${detail}); pass --to <index>`,
      );
    }
  }
  const pick = pickRelease(releases, configured, args.to);
  if (!pick.ok) return fail(2, pick.problem);
  const release = releases[pick.index]!;
  const releaseId = args.release ?? defaultReleaseId(now);
  log(
    `rolling back ${args.stack} to release ${pick.index} (${release.date}, commit ${release.commit}):\n` +
      RELEASE_SERVICES.map((s) => `  ${s}: ${release.images[s].image}\n`).join(""),
  );
  for (const cmd of rollbackCommands(args, release, releaseId)) {
    const r = pulumi(cmd, cmd[0] === "up");
    if (r.error) return fail(1, `cannot run pulumi: ${r.error.message}`);
    if (r.status !== 0)
      return fail(1, `pulumi ${cmd.join(" ")} failed (exit ${r.status}) ${r.stderr ?? ""}`.trim());
  }
  if (args.configOnly)
    log(`config set (release ${releaseId}); run pulumi up --stack ${args.stack} to deploy it\n`);
  return { code: 0, stdout: out.join(""), stderr: "" };
}

if (require.main === module) {
  const r = runRollbackCli(process.argv.slice(2), process.cwd(), process.env, new Date(), (t) =>
    process.stdout.write(t),
  );
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}
