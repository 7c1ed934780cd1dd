// Remote host steps, in order: each is an idempotent script from scripts/ run over SSH as
// `bash -s -- ARGS` with the script on stdin, re-run only when its script or its arguments change.
// Pure: script contents are passed in, so hashing and command strings are testable as strings.
import { createHash } from "node:crypto";
import type { StackConfig } from "../config/types";
import { SSH_USER } from "./names";
import type { Plan } from "./plan";
import { backupEnv } from "./backup";
import { PRIVATE_NETWORK } from "./nodes";
import { KEPT_IMAGES_FILE } from "./releases";
import { watchdogEnv, type WatchdogNode } from "./watchdog";

export type HostStepName =
  "ready" | "admin-keys" | "swap" | "docker" | "watchdog" | "backup" | "swarm-firewall";

/** What may follow a step's script on its stdin (secret; see components/host.ts). */
export type HostPayload = "watchdog" | "backup";

export interface HostStep {
  /** Logical name suffix (`<component>-<name>`); stable. */
  name: HostStepName;
  /** Earlier logical name suffixes of this step, kept as Pulumi aliases so a rename replaces nothing. */
  formerNames: string[];
  script: string;
  args: string[];
  /** Steps this one runs after (besides the server itself). */
  after: HostStepName[];
  payload?: HostPayload;
}

export interface HostPlan {
  /**
   * How every step logs in: root with the deploy key, the host key pinned (the component adds the
   * address and keys). A new server takes a minute or two to boot and start sshd; a refused port
   * is retried with a backoff capped at 5 s (pulumi-command connection.go dialWithRetry), so 120
   * attempts allow about 10 minutes for a slow first boot.
   */
  connection: { user: string; dialErrorLimit: number; perDialTimeout: number };
  steps: HostStep[];
  /** The step after which Docker can be used. */
  dockerReady: HostStepName;
  watchdog: {
    /** /etc/app-infra/watchdog.env (src/plan/watchdog.ts). */
    env: string;
    /** Telegram delivery needs the bot's token on the box, and only when a chat is configured. */
    sendBotToken: boolean;
    /**
     * Whether this box pings the stack's heartbeat URL. One URL is one check at the outside service,
     * so only the core node (or the one box) pings it: a worker node pinging it too would hide the
     * core's silence. The core node reports a worker node that leaves the swarm (SWARM_NODES).
     */
    heartbeat: boolean;
  };
  /** /etc/app-infra/backup.env (src/plan/backup.ts) when backup/enabled; the secrets follow at deploy. */
  backup?: { env: string };
}

type HostInput = Pick<
  Plan,
  "server" | "swapGb" | "swappiness" | "stage" | "workers" | "services" | "scaleUp" | "edge"
> & {
  /** Stage 4: the core node's watchdog settings (src/plan/swarm.ts coreWatchdogNode). */
  node?: WatchdogNode;
};

/** How every node's steps log in (see HostPlan.connection). */
export const HOST_CONNECTION: HostPlan["connection"] = {
  user: SSH_USER,
  dialErrorLimit: 120,
  perDialTimeout: 15,
};

export function planHost(plan: HostInput, cfg: StackConfig): HostPlan {
  return {
    connection: HOST_CONNECTION,
    steps: hostSteps(plan, cfg),
    dockerReady: "docker",
    watchdog: {
      env: watchdogEnv(cfg, plan),
      sendBotToken: Boolean(cfg.alerts.telegramChatId),
      heartbeat: true,
    },
    ...(cfg.backup.enabled ? { backup: { env: backupEnv(cfg) } } : {}),
  };
}

/** What every node's first steps depend on: its server type, swap and the admins' keys. */
export interface NodeBasics {
  serverType?: string;
  swapGb: number;
  swappiness: number;
  adminSshKeys: readonly string[];
  /** A stage-4 node: Docker without live-restore, which Swarm mode refuses. */
  swarm?: boolean;
}

/**
 * The steps every node runs, the core node (or the one box) and each stage-4 worker node alike:
 * ready → admin keys, swap → Docker.
 */
export function nodeSteps(n: NodeBasics): HostStep[] {
  return [
    // The server type is an argument so that a rescale re-runs this step: Hetzner powers the box
    // off for change_type, and this re-checks over the pinned SSH connection that it came back
    // (the provider itself never powers it on: terraform-provider-hcloud resourceServerUpdate).
    {
      // Was `host-ready`, which the Host component prefixed into `host-host-ready`.
      name: "ready",
      formerNames: ["host-ready"],
      script: "wait-host-ready.sh",
      args: n.serverType ? [n.serverType] : [],
      after: [],
    },
    {
      name: "admin-keys",
      formerNames: [],
      script: "install-admin-keys.sh",
      // Public keys are not secret; base64 keeps spaces and comments out of shell quoting.
      args: [Buffer.from(n.adminSshKeys.join("\n"), "utf8").toString("base64") || "-"],
      after: ["ready"],
    },
    {
      name: "swap",
      formerNames: [],
      script: "setup-swap.sh",
      args: [String(n.swapGb), String(n.swappiness)],
      after: ["ready"],
    },
    // The arguments: where the last releases' images are listed, for the weekly prune to spare;
    // on a stage-4 node, `swarm`: dockerd refuses Swarm mode under live-restore ("--live-restore
    // daemon configuration is incompatible with swarm mode", moby daemon/config/config_linux.go
    // :125-130 and daemon/cluster/cluster.go:208-211 at v28.5.2), which the lab's stage 3 → 4 on
    // VMs hit at the Swarm's init.
    {
      name: "docker",
      formerNames: [],
      script: "install-docker.sh",
      args: n.swarm ? [KEPT_IMAGES_FILE, "swarm"] : [KEPT_IMAGES_FILE],
      after: ["swap"],
    },
  ];
}

/**
 * Stage 4, every node: Swarm's ports answer the private subnet only, since the Hetzner firewall
 * never filters private traffic. Its unit is ordered before docker.service at boot; here it needs
 * only the box.
 */
export const SWARM_FIREWALL_STEP: HostStep = {
  name: "swarm-firewall",
  formerNames: [],
  script: "swarm-firewall.sh",
  args: [PRIVATE_NETWORK.subnet],
  after: ["ready"],
};

/** The watchdog's installer, on every node, after Docker: `env` is the node's thresholds file. */
export function watchdogStep(cfg: Pick<StackConfig, "alerts">, env: string): HostStep {
  return {
    name: "watchdog",
    formerNames: [],
    script: "install-watchdog.sh",
    // The interval, then the thresholds' hash: a threshold change re-runs the installer. The
    // watchdog script and the secrets reach it on stdin (see components/host.ts).
    args: [String(cfg.alerts.intervalS), sha256(env).slice(0, 16)],
    after: ["docker"],
    payload: "watchdog",
  };
}

/** Every step, in dependency order: server → ready → swap → Docker → containers. */
export function hostSteps(plan: HostInput, cfg: StackConfig): HostStep[] {
  return [
    ...nodeSteps({
      ...(plan.server ? { serverType: plan.server.type } : {}),
      swapGb: plan.swapGb,
      swappiness: plan.swappiness,
      adminSshKeys: cfg.adminSshKeys,
      ...(plan.stage === 4 ? { swarm: true } : {}),
    }),
    watchdogStep(cfg, watchdogEnv(cfg, plan)),
    // After Docker (the backup runs `docker exec redis` and restic comes from apt), and beside the
    // watchdog rather than before or after it: neither waits for the other, so a broken S3 setting
    // that fails this step never holds back the watchdog, whose backup-age alert then reports the
    // backups that never ran. Listed last so every earlier step is exactly as without backups.
    ...(cfg.backup.enabled
      ? [
          {
            name: "backup" as const,
            formerNames: [],
            script: "install-backup.sh",
            // The schedule (the installer's only argument), then the settings' hash: a new
            // repository or retention re-runs the installer. Scripts and secrets come on stdin.
            args: [cfg.backup.schedule, sha256(backupEnv(cfg)).slice(0, 16)],
            after: ["docker" as const],
            payload: "backup" as const,
          },
        ]
      : []),
    // Last, so stages 1-3 declare exactly the steps they did.
    ...(plan.stage === 4 ? [SWARM_FIREWALL_STEP] : []),
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
