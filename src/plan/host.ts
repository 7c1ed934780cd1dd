// Remote host steps, in order: each is an idempotent script from scripts/ run over SSH as
// `bash -s -- ARGS` with the script on stdin, re-run only when its script or its arguments change.
// Pure: script contents are passed in, so hashing and command strings are testable as strings.
import { createHash } from "node:crypto";
import type { StackConfig } from "../config/types";
import type { Plan } from "./plan";
import { watchdogEnv } from "./watchdog";

export type HostStepName = "host-ready" | "admin-keys" | "swap" | "docker" | "watchdog";

export interface HostStep {
  /** Logical resource name; stable. */
  name: HostStepName;
  script: string;
  args: string[];
  /** Steps this one runs after (besides the server itself). */
  after: HostStepName[];
}

/** Every step, in dependency order: server → host ready → swap → Docker → containers. */
export function hostSteps(plan: Plan, cfg: StackConfig): HostStep[] {
  return [
    // The server type is an argument so that a rescale re-runs this step: Hetzner powers the box
    // off for change_type, and this re-checks over the pinned SSH connection that it came back
    // (the provider itself never powers it on: terraform-provider-hcloud resourceServerUpdate).
    {
      name: "host-ready",
      script: "wait-host-ready.sh",
      args: plan.server ? [plan.server.type] : [],
      after: [],
    },
    {
      name: "admin-keys",
      script: "install-admin-keys.sh",
      // Public keys are not secret; base64 keeps spaces and comments out of shell quoting.
      args: [Buffer.from(cfg.adminSshKeys.join("\n"), "utf8").toString("base64") || "-"],
      after: ["host-ready"],
    },
    {
      name: "swap",
      script: "setup-swap.sh",
      args: [String(plan.swapGb), String(plan.swappiness)],
      after: ["host-ready"],
    },
    { name: "docker", script: "install-docker.sh", args: [], after: ["swap"] },
    {
      name: "watchdog",
      script: "install-watchdog.sh",
      // The interval, then the thresholds' hash: a threshold change re-runs the installer. The
      // watchdog script and the secrets reach it on stdin (see components/host.ts).
      args: [String(cfg.alerts.intervalS), sha256(watchdogEnv(cfg, plan)).slice(0, 16)],
      after: ["docker"],
    },
  ];
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** POSIX single-quote of one word; the host steps' arguments are validated numbers or base64 already. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=+,@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'"'"'`)}'`;
}

export function remoteCommandLine(args: readonly string[]): string {
  return ["bash", "-s", "--", ...args.map(shellQuote)].join(" ");
}
