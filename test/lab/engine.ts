// The real Pulumi engine, driven as a user drives it: the CLI built by tools/engine/build.sh, a
// local file backend, a passphrase secrets provider, and a working copy of the project in a temp
// dir (the repository's tracked program files plus a symlink to its node_modules). Nothing here
// replays Pulumi: every change the lab makes to the stack is a real `pulumi` command.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { secs, type Operation, type Results } from "./results";
import { log } from "./vm";

export const ROOT = join(__dirname, "..", "..");

/** What a working copy of the program needs: what `git clone` gives a CI runner, minus tests and docs. */
const PROGRAM_FILES = [
  "Pulumi.yaml",
  "index.ts",
  "package.json",
  "tsconfig.json",
  "components",
  "src",
  "scripts",
];

/** Builds (or reuses from the cache) the CLI, the language host and the provider plugins; returns their bin dir. */
export function buildEngine(): string {
  // For working on the lab: a bin dir already built (CI always builds; the build is cached anyway).
  if (process.env.LAB_ENGINE_BIN) return process.env.LAB_ENGINE_BIN;
  const r = spawnSync("bash", [join(ROOT, "tools", "engine", "build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`tools/engine/build.sh failed (exit ${r.status ?? r.error})`);
  const lines = r.stdout.trim().split("\n");
  for (const l of lines.slice(0, -1)) log(`engine: ${l}`);
  const bin = lines.at(-1)!.trim();
  if (!existsSync(join(bin, "pulumi")))
    throw new Error(`tools/engine/build.sh printed ${bin}, which has no pulumi binary`);
  return bin;
}

export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface EngineOptions {
  bin: string;
  /** The file backend's directory (the state), shared by every working copy of the stack. */
  stateDir: string;
  /** PULUMI_HOME: plugins, credentials, workspace settings; temp, never the user's ~/.pulumi. */
  homeDir: string;
  passphrase: string;
  stack: string;
  /** Extra environment for the program and the providers. */
  env?: Record<string, string>;
}

export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, any>;
  outputs?: Record<string, any>;
}

export class Pulumi {
  constructor(
    readonly o: EngineOptions,
    readonly cwd: string,
  ) {}

  /** A fresh working copy of the program in `dir`: the program files, node_modules by symlink, no state. */
  static workingCopy(o: EngineOptions, dir: string): Pulumi {
    mkdirSync(dir, { recursive: true });
    for (const f of PROGRAM_FILES) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    return new Pulumi(o, dir);
  }

  /**
   * A working copy in `<tmp>/program` whose index.ts is one of the lab's programs (test/lab/programs,
   * its imports pointed at the copy's root), with its state and Pulumi home under `tmp`.
   */
  static labProgram(
    o: Pick<EngineOptions, "bin" | "passphrase" | "stack">,
    tmp: string,
    program: string,
  ): Pulumi {
    for (const d of ["state", "home"]) mkdirSync(join(tmp, d), { recursive: true });
    const p = Pulumi.workingCopy(
      { ...o, stateDir: join(tmp, "state"), homeDir: join(tmp, "home") },
      join(tmp, "program"),
    );
    writeFileSync(
      join(p.cwd, "index.ts"),
      readFileSync(program, "utf8").replaceAll('from "../../../', 'from "./'),
    );
    return p;
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...this.o.env,
      ...extra,
      // Ambient plugins: the engine finds pulumi-language-nodejs and pulumi-resource-* on PATH.
      PATH: `${this.o.bin}:${process.env.PATH}`,
      PULUMI_HOME: this.o.homeDir,
      PULUMI_BACKEND_URL: `file://${this.o.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: this.o.passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      NO_COLOR: "1",
    };
  }

  run(
    args: string[],
    opts: { timeoutS?: number; stdin?: string; env?: Record<string, string> } = {},
  ): Promise<PulumiRun> {
    const s = Date.now();
    return new Promise((resolve) => {
      const p = spawn(join(this.o.bin, "pulumi"), [...args, "--non-interactive", "--color", "never"], {
        cwd: this.cwd,
        env: this.env(opts.env),
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d) => (stdout += String(d)));
      p.stderr.on("data", (d) => (stderr += String(d)));
      const timer = opts.timeoutS
        ? setTimeout(() => {
            stderr += `\n[lab] pulumi ${args[0]} timed out after ${opts.timeoutS} s`;
            p.kill("SIGINT");
            setTimeout(() => p.kill("SIGKILL"), 30_000);
          }, opts.timeoutS * 1000)
        : undefined;
      p.on("close", (code) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? 255, stdout, stderr, seconds: secs(Date.now() - s) });
      });
      p.stdin.end(opts.stdin ?? "");
    });
  }

  async must(args: string[], opts: { timeoutS?: number; stdin?: string } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0)
      throw new Error(
        `pulumi ${args.join(" ")}: exit ${r.code}: ${(r.stderr + r.stdout).trim().slice(-3000)}`,
      );
    return r.stdout;
  }

  get stackFile(): string {
    return join(this.cwd, `Pulumi.${this.o.stack}.yaml`);
  }

  /** `pulumi stack init` with the passphrase provider, then the plain config written as YAML and each secret set by the CLI. */
  async initStack(config: Record<string, unknown>, secrets: Record<string, string>) {
    await this.must(["stack", "init", this.o.stack, "--secrets-provider", "passphrase"]);
    this.setConfig(config);
    // The value on stdin: never in an argv. A dotted key is a field of an object (`backup.password`).
    for (const [k, v] of Object.entries(secrets))
      await this.must(["config", "set", "--secret", ...(k.includes(".") ? ["--path"] : []), k], {
        stdin: v,
      });
  }

  /**
   * Merges plain config (fully qualified keys, e.g. `app-infra:stage`) into the stack file. An
   * object replaces the one there, except for its secret fields (`{secure: …}`, set by
   * `config set --path --secret`), which the plain config the lab holds does not carry.
   */
  setConfig(config: Record<string, unknown>) {
    const doc = existsSync(this.stackFile) ? (parse(readFileSync(this.stackFile, "utf8")) ?? {}) : {};
    doc.config = keepSecureFields(doc.config ?? {}, { ...(doc.config ?? {}), ...config });
    writeFileSync(this.stackFile, stringify(doc));
  }

  readConfig(): Record<string, unknown> {
    return (parse(readFileSync(this.stackFile, "utf8"))?.config ?? {}) as Record<string, unknown>;
  }

  async outputs(): Promise<Record<string, any>> {
    return JSON.parse(await this.must(["stack", "output", "--json", "--show-secrets"]));
  }

  /**
   * One real operation, recorded in the results with its time and Pulumi's own summary. Failures
   * are results too (the lab exists to show them); the caller decides whether to go on.
   */
  async op(
    r: Results,
    step: string,
    args: string[],
    timeoutS: number,
    env?: Record<string, string>,
  ): Promise<Operation> {
    // --json: the engine's own account of the run — steps, change summary and error diagnostics.
    const json = ["preview", "up", "refresh", "destroy"].includes(args[0]!) && !args.includes("--json");
    const argv = json ? [...args, "--json"] : args;
    let res = await this.run(argv, { timeoutS, env });
    // Once, and said so: the program's StackReference to its own stack (components/releases.ts)
    // read the file backend's checkpoint as empty while the same run was writing it (a fresh-clone
    // CI run, 2026-11-27 18:25, 4.7 s into the first up; the same up passed when run again). The
    // run is the engine's and the backend's, not the program's; a second failure stands.
    if (res.code !== 0 && errorText(res).includes(CHECKPOINT_RACE)) {
      log(
        `pulumi ${step}: "${CHECKPOINT_RACE}" (the file backend's checkpoint read while written); running it again once`,
      );
      r.figure(`${step}: run again after the checkpoint race`, 1);
      res = await this.run(argv, { timeoutS, env });
    }
    const { changes, steps, stepOrder, slowest } = parseEngineJson(res.stdout);
    const prefix = Object.entries(env ?? {})
      .map(([k, v]) => `${k}=${v} `)
      .join("");
    const op: Operation = {
      step,
      command: `${prefix}pulumi ${args.join(" ")}`,
      ok: res.code === 0,
      seconds: res.seconds,
      changes,
      steps,
      stepOrder,
      slowest,
    };
    if (!op.ok) op.error = errorText(res);
    r.operation(op);
    return op;
  }

  /** The stack's resources as Pulumi recorded them (`pulumi stack export --show-secrets`). */
  async state(): Promise<StateResource[]> {
    const j = JSON.parse(await this.must(["stack", "export", "--show-secrets"]));
    return unwrapSecrets(j.deployment?.resources ?? []) as StateResource[];
  }

  /** The one resource of `type` named `name` in the state. */
  async resource(type: string, name: string): Promise<StateResource> {
    const found = (await this.state()).filter((x) => x.type === type && x.urn.endsWith(`::${name}`));
    if (found.length !== 1)
      throw new Error(`state: expected one ${type} named ${name}, found ${found.length}`);
    return found[0]!;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

/** `next`, with every `{secure: …}` field of `old` that `next` does not mention put back. */
export function keepSecureFields(old: unknown, next: unknown): unknown {
  if (!isObject(old) || !isObject(next)) return next;
  const out: Record<string, unknown> = { ...next };
  for (const [k, v] of Object.entries(old)) {
    if (!(k in out)) {
      if (isObject(v) && typeof v.secure === "string") out[k] = v;
    } else out[k] = keepSecureFields(v, out[k]);
  }
  return out;
}

/** The engine's secret signature in a checkpoint (sdk/go/common/resource/sig: `Secret`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A checkpoint exported with --show-secrets holds each secret as {sig, plaintext: JSON}; this gives the values. */
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270" && typeof o.plaintext === "string")
      return unwrapSecrets(JSON.parse(o.plaintext));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** The file backend's error when a checkpoint is read empty (see Pulumi.op). */
export const CHECKPOINT_RACE = "failed to load checkpoint: EOF";

/**
 * What `pulumi … --json` printed: one JSON document (preview), or one engine event per line (up,
 * refresh, destroy). Returns the change summary, the resources per operation (logical names) and
 * the error diagnostics. Debug events are ignored (they can carry resolved secret inputs).
 */
export function parseEngineJson(
  stdout: string,
): Pick<Operation, "changes" | "steps" | "stepOrder" | "slowest"> & { errors: string[] } {
  const steps: Record<string, string[]> = {};
  // An up's events carry the second they were sent: a step's time is from its pre-event to its
  // outputs (or failure) event, for the report's slowest steps.
  const started = new Map<string, { op: string; at: number }>();
  const slowest: { name: string; op: string; seconds: number }[] = [];
  const ended = (urn: unknown, at: unknown) => {
    const s = started.get(String(urn));
    if (!s || typeof at !== "number") return;
    started.delete(String(urn));
    if (s.op !== "same" && s.op !== "read") slowest.push({ name: name(urn), op: s.op, seconds: at - s.at });
  };
  const stepOrder: { op: string; name: string }[] = [];
  const errors: string[] = [];
  let changes: Record<string, number> = {};
  const name = (urn: unknown) =>
    String(urn ?? "")
      .split("::")
      .pop() ?? "?";
  const step = (op: string, urn: unknown) => {
    if (op === "same" || op === "read") return;
    stepOrder.push({ op, name: name(urn) });
    const list = (steps[op] ??= []);
    if (!list.includes(name(urn))) list.push(name(urn));
  };
  const diag = (d: any) => {
    if (d?.severity === "error") errors.push(`${name(d.urn) || "pulumi"}: ${String(d.message).trim()}`);
  };
  let doc: any;
  try {
    doc = JSON.parse(stdout);
  } catch {
    doc = undefined;
  }
  if (doc && !Array.isArray(doc)) {
    for (const s of doc.steps ?? []) step(s.op, s.urn);
    for (const d of doc.diagnostics ?? []) diag(d);
    changes = doc.changeSummary ?? {};
  } else {
    for (const line of stdout.split("\n")) {
      if (!line.startsWith("{")) continue;
      let e: any;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      if (e.resourcePreEvent) {
        const m = e.resourcePreEvent.metadata;
        step(m?.op, m?.urn);
        // The stack itself spans the whole run: not a step of its own.
        if (typeof e.timestamp === "number" && m?.type !== "pulumi:pulumi:Stack")
          started.set(String(m?.urn), { op: String(m?.op), at: e.timestamp });
      }
      if (e.resOutputsEvent) ended(e.resOutputsEvent.metadata?.urn, e.timestamp);
      if (e.resOpFailedEvent) ended(e.resOpFailedEvent.metadata?.urn, e.timestamp);
      if (e.diagnosticEvent) diag(e.diagnosticEvent);
      if (e.summaryEvent) changes = e.summaryEvent.resourceChanges ?? {};
    }
  }
  slowest.sort((a, b) => b.seconds - a.seconds);
  return { changes, steps, stepOrder, slowest: slowest.slice(0, SLOWEST_KEPT), errors };
}

/** How many of an operation's slowest steps the report keeps. */
const SLOWEST_KEPT = 5;

/** Why a run failed: the engine's error diagnostics, else the end of stderr. */
export function errorText(res: Pick<PulumiRun, "stdout" | "stderr">): string {
  const { errors } = parseEngineJson(res.stdout);
  const err = res.stderr.trim().split("\n").slice(-20).join("\n");
  return [...errors, err].filter(Boolean).join("\n").slice(-4000) || "(no error output)";
}
