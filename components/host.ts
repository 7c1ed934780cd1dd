// Host configuration over SSH, mapped from the plan's `host` slice (src/plan/host.ts decides the
// steps, their order, arguments and login settings). Each step is an idempotent script from
// scripts/, sent on stdin (`bash -s -- ARGS`) so nothing but its plain arguments appears in a
// command line, and re-run only when the script or its arguments change (triggers).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HostPayload, HostPlan } from "../src/plan/host";
import { remoteCommandLine, sha256 } from "../src/plan/host";
import { inlineLibraries } from "../src/plan/inline";

export const SCRIPTS_DIR = join(__dirname, "..", "scripts");

/**
 * The text of scripts/`file` as it is shipped (on a step's stdin, or base64 in a payload): its
 * scripts/lib/*.sh inlined (src/plan/inline.ts), so it runs alone. Everything that ships a script,
 * hashes it for a trigger or tests what is shipped reads it here, not from the file.
 */
export function readScript(file: string, dir: string = SCRIPTS_DIR): string {
  const read = (path: string) => readFileSync(join(dir, path), "utf8");
  return inlineLibraries(file, read(file), (lib) => (existsSync(join(dir, lib)) ? read(lib) : undefined));
}

export interface HostArgs {
  plan: HostPlan;
  /** The server's address and the keys: the plan's connection settings are added to it. */
  connection: Pick<command.types.input.remote.ConnectionArgs, "host" | "privateKey" | "hostKey">;
  /** The server: every step runs after it exists. */
  server: pulumi.Resource;
  /**
   * What a step waits for besides the plan's order, by step name: resources declared after this
   * component (stage 4: the core's watchdog waits for the Swarm's services, which wait for the
   * core's Swarm firewall), hence promises.
   */
  stepsAfter?: Partial<Record<string, Promise<pulumi.Resource[]>>>;
  /** Extra stdin appended after a step's script (e.g. the watchdog's payload), secret. */
  payloads?: Partial<Record<HostPayload, pulumi.Output<string>>>;
}

export class Host extends pulumi.ComponentResource {
  readonly steps: Record<string, command.remote.Command> = {};
  /** The step after which Docker can be used. */
  readonly dockerReady: command.remote.Command;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:Host", name, {}, opts);
    const connection = { ...args.connection, ...args.plan.connection };
    const step = (n: string) => {
      const found = this.steps[n];
      if (!found) throw new Error(`internal: host step ${n} is used before it is declared`);
      return found;
    };
    const later = (n: string, now: pulumi.Resource[]) => {
      const extra = args.stepsAfter?.[n];
      return extra ? extra.then((more) => [...now, ...more]) : now;
    };
    for (const s of args.plan.steps) {
      const script = readScript(s.script);
      const payload = s.payload && args.payloads?.[s.payload];
      // A step that reads a payload (install-watchdog.sh, install-backup.sh) refuses to run without
      // it on the host; refuse here, before any resource, instead.
      if (s.payload && !payload)
        throw new Error(`internal: host step ${s.name} needs its ${s.payload} payload`);
      this.steps[s.name] = new command.remote.Command(
        `${name}-${s.name}`,
        {
          connection,
          create: remoteCommandLine(s.args),
          stdin: payload ? pulumi.secret(pulumi.interpolate`${script}${payload}`) : script,
          // Re-run when the script or its parameters change. A payload change (new secrets, a new
          // watchdog script) changes stdin, which re-runs the command as an update.
          triggers: [sha256(script), ...s.args],
          // A payload carries secrets: its output is not logged.
          logging: payload ? "none" : "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        {
          parent: this,
          dependsOn: later(s.name, [args.server, ...s.after.map(step)]),
          aliases: s.formerNames.map((old) => ({ name: `${name}-${old}` })),
          // On failure the provider puts the whole output into the error, and stdout/stderr are kept
          // in state as plain outputs (pulumi-command commandOutputs.go): secret where a payload is.
          ...(payload ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
        },
      );
    }
    this.dockerReady = step(args.plan.dockerReady);
    this.registerOutputs({});
  }
}
