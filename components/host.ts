// Host configuration over SSH: wait for cloud-init, admin keys, swap, Docker (and the watchdog).
// Each step is an idempotent script from scripts/, sent on stdin (`bash -s -- ARGS`) so nothing
// but its plain arguments appears in a command line, and re-run only when the script or its
// arguments change (triggers). The chain is explicit: server → host-ready → swap → docker.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HostStep, HostStepName } from "../src/plan/host";
import { remoteCommandLine, sha256 } from "../src/plan/host";

export const SCRIPTS_DIR = join(__dirname, "..", "scripts");

export function readScript(file: string): string {
  return readFileSync(join(SCRIPTS_DIR, file), "utf8");
}

export interface HostArgs {
  connection: command.types.input.remote.ConnectionArgs;
  steps: HostStep[];
  /** The server: every step runs after it exists. */
  server: pulumi.Resource;
  /** Extra stdin appended after a step's script (e.g. the watchdog's payload), secret. */
  payloads?: Partial<Record<HostStepName, pulumi.Output<string>>>;
}

export class Host extends pulumi.ComponentResource {
  readonly steps: Record<string, command.remote.Command> = {};
  /** The step after which Docker can be used. */
  readonly dockerReady: command.remote.Command;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:Host", name, {}, opts);
    for (const step of args.steps) {
      const script = readScript(step.script);
      const payload = args.payloads?.[step.name];
      this.steps[step.name] = new command.remote.Command(
        `${name}-${step.name}`,
        {
          connection: args.connection,
          create: remoteCommandLine(step.args),
          stdin: payload ? pulumi.secret(pulumi.interpolate`${script}${payload}`) : script,
          // Re-run when the script or its parameters change. A payload change (new secrets, a new
          // watchdog script) changes stdin, which re-runs the command as an update.
          triggers: [sha256(script), ...step.args],
          // A payload carries secrets: its output is not logged.
          logging: payload ? "none" : "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        {
          parent: this,
          dependsOn: [args.server, ...step.after.map((a) => this.steps[a]!)],
          // On failure the provider puts the whole output into the error, and stdout/stderr are kept
          // in state as plain outputs (pulumi-command commandOutputs.go): secret where a payload is.
          ...(payload ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
        },
      );
    }
    this.dockerReady = this.steps["docker"]!;
    this.registerOutputs({});
  }
}
