// What a change does to the running box, Terraform-style: compares two resolved plans (the base and
// the change) and says, per resource, whether it is replaced, rescaled, recreated, updated in place or
// untouched, with the consequence in plain words. Pure: works on the JSON documents `npm run plan --
// --json` prints, so a base planned by older code (fewer fields) still compares where it can.
//
// What replaces and what updates in place comes from docs/provider-contract.md (the locked providers'
// source): a container's image, command, env, ports, volumes and stop timeout replace it, stop-first
// for the fixed-name containers and start-first for the API (its name is its release, and the edge
// proxy's health-gated switch decides when traffic moves: src/plan/gate.ts); memory, reservation,
// swap and restart policy update in place without a restart; a server type change powers off,
// rescales and boots; a location change replaces the server.
import type { StackConfig } from "../config/types";
import { KEYS } from "../config/keys";
import type { Scaling, MonthlyCost } from "./advice";
import { euro } from "./advice";
import { firewallRules } from "./firewall";
import { DEPLOY_TIMEOUT_S, DRAIN_TIMEOUT_S, FAILED_LOG_LINES } from "./gate";
import type { Plan } from "./plan";
import { defaultMaxmemoryMb } from "./services";
import { WORKER_NODE } from "./stages";

export type SettingValue = string | number | boolean | string[] | null;

export interface FirewallRuleView {
  protocol: string;
  port?: string;
  sourceIps: string[];
  description: string;
}

/** The fields of a plan document (src/report/json.ts) this comparison reads. */
export interface PlanView {
  stack: string;
  stage: number;
  target: string;
  server: {
    type: string;
    cores: number;
    memoryGb: number;
    diskGb: number;
    architecture: string;
    location: string;
    priceMonthlyEur: number | null;
  } | null;
  requirements?: { cores: number; memoryGb: number; diskGb: number } | null;
  swapGb: number;
  workers: number;
  services: {
    name: string;
    image: string;
    command: string[] | null;
    memoryMb: number;
    memoryReservationMb: number;
    memorySwapMb: number;
    swapMb: number;
    restart: string;
  }[];
  /** Every config key, resolved (absent in documents from before settings were reported). */
  settings?: Record<string, SettingValue>;
  /** Inbound firewall rules; null for the local target. */
  firewall?: FirewallRuleView[] | null;
  /** Server + primary IPv4 + backups, net; null for the local target or when no type fits. */
  cost?: MonthlyCost | null;
  scaling?: Scaling | null;
}

export type ChangeKind =
  | "replace-server"
  | "destroy-server"
  | "create-server"
  | "rescale"
  | "recreate"
  | "add"
  | "remove"
  | "update"
  | "no-op";

export interface Change {
  kind: ChangeKind;
  /** What is touched: `server`, `swap`, `firewall`, a container name, `watchdog`, … */
  subject: string;
  /** What changes, e.g. `cx33 → cx43`. */
  what: string;
  /** The consequence on the running box, in words. */
  consequence: string;
  /** The program refuses this change for a deployed server (issue 11): `pulumi up` stops before it. */
  refused: boolean;
}

export interface SettingDiff {
  key: string;
  before: SettingValue | undefined;
  after: SettingValue | undefined;
}

// ------------------------------------------------------------------------------------------------
// Resolved settings: every key of src/config/keys.ts with the value the plan uses, like `kamal config`.

/** `ssh-ed25519 …AbCdEfGh you@laptop`: enough to tell keys apart, short enough for a table. */
export function shortKey(key: string): string {
  const [type, body = "", ...comment] = key.split(" ");
  return [type, `…${body.slice(-8)}`, ...comment].join(" ");
}

function walk(cfg: StackConfig, path: string): unknown {
  let node: unknown = cfg;
  for (const part of path.split("/")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Every config key with its resolved value; secrets only as "set"/"unset". */
export function resolveSettings(cfg: StackConfig, plan: Plan): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  const firstOf = (role: string) => plan.services.find((s) => s.role === role);
  const workerNode = plan.cluster?.nodes.find((n) => n.role === "worker");
  for (const k of KEYS) {
    const p = k.path;
    // The worker nodes' keys mean nothing on one box (the parser refuses them there).
    if (k.stage4Only && !plan.cluster) continue;
    let v: unknown;
    if (k.secret) v = (cfg.secrets as unknown as Record<string, boolean>)[p] ? "set" : "unset";
    else if (p === "server/type") v = plan.server?.type ?? null;
    else if (p === "server/cores") v = cfg.server.cores ?? plan.preset.minCores;
    else if (p === "server/memoryGb") v = cfg.server.memoryGb ?? plan.preset.minMemoryGb;
    else if (p === "server/diskGb") v = cfg.server.diskGb ?? plan.preset.minDiskGb;
    else if (p === "workerNodes") v = plan.cluster!.nodes.length - 1;
    else if (p === "workersPerNode") v = workerNode?.services.length ?? null;
    else if (p === "workerNode/type") v = workerNode?.server?.type ?? null;
    else if (p === "workerNode/cores") v = cfg.workerNode.cores ?? WORKER_NODE.minCores;
    else if (p === "workerNode/memoryGb") v = cfg.workerNode.memoryGb ?? WORKER_NODE.minMemoryGb;
    else if (p === "swapGb") v = plan.swapGb;
    else if (p === "workers") v = plan.workers;
    else if (p === "adminSshKeys") v = cfg.adminSshKeys.map(shortKey);
    else if (p === "services/redis/maxmemoryMb") {
      const redis = firstOf("redis");
      v = cfg.services.redis.maxmemoryMb ?? (redis ? defaultMaxmemoryMb(redis.memoryMb) : null);
    } else {
      const m = /^services\/(\w+)\/(memoryMb|reservationMb|swapMb)$/.exec(p);
      const s = m && firstOf(m[1]!);
      if (m && s) {
        v = m[2] === "memoryMb" ? s.memoryMb : m[2] === "reservationMb" ? s.memoryReservationMb : s.swapMb;
      } else v = walk(cfg, p);
    }
    out[p] = v === undefined ? null : Array.isArray(v) ? v.map(String) : (v as SettingValue);
  }
  return out;
}

/** The firewall as the plan declares it (hetzner only). */
export function resolveFirewall(cfg: StackConfig): FirewallRuleView[] {
  return firewallRules(cfg).map((r) => ({
    protocol: r.protocol,
    ...(r.port ? { port: r.port } : {}),
    sourceIps: r.sourceIps,
    description: r.description,
  }));
}

// ------------------------------------------------------------------------------------------------
// The comparison.

export const fmt = (v: SettingValue | undefined): string =>
  v === undefined
    ? "(not reported)"
    : v === null
      ? "unset"
      : Array.isArray(v)
        ? `[${v.join(", ")}]`
        : String(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * How a replaced container of this role gives way to its successor: the plan's `ServicePlan.replace`
 * (src/plan/services.ts), which plan documents do not carry, so it is repeated here by role and
 * pinned against the plan by test/plan/impact.test.ts.
 */
export function replaceOrder(role: string): "start-first" | "stop-first" {
  return role === "api" ? "start-first" : "stop-first";
}

/**
 * kamal-proxy's own bound on finishing in-flight requests after SIGTERM (v0.9.2
 * internal/server/server.go: shutdownTimeout, used by Server.Stop); the container's 30 s grace
 * covers it.
 */
const PROXY_SHUTDOWN_S = 10;

/** What the running box goes through when a container of this role is replaced. */
export function recreateConsequence(role: string): string {
  switch (role) {
    case "redis":
      return (
        "Redis stops and starts again: every app loses its connection for a few seconds (estimate). " +
        "The queue and data stay on the redis-data volume (reloaded from the AOF)"
      );
    case "api":
      return (
        "the new release starts beside the old one, and the old one keeps serving meanwhile; " +
        "kamal-proxy switches traffic to the new one only after its health check passes, then drains the old one " +
        `(up to ${DRAIN_TIMEOUT_S} s) before Pulumi deletes it, so no request fails. ` +
        `If the new one is not healthy within ${DEPLOY_TIMEOUT_S} s, pulumi up fails with its last ${FAILED_LOG_LINES} log lines ` +
        "and the old one keeps serving"
      );
    case "bot":
      return (
        "stop-first, because Telegram allows one poller: the bot is offline for a few seconds (estimate); " +
        "Telegram keeps the updates meanwhile (up to 24 h, Bot API getUpdates), so none are lost"
      );
    case "proxy":
      return (
        "stop-first, because the host ports 80 and 443 are fixed: the API is unreachable from outside for a short gap, " +
        `from the old proxy's stop (it finishes in-flight requests for up to ${PROXY_SHUTDOWN_S} s) until the new one listens ` +
        "(estimate: a few seconds). The certificates and routes stay on the kamal-proxy-config volume, so no new " +
        "certificate is ordered, and the deploy gate switches the new proxy to the running API again"
      );
    default:
      return (
        "the worker gets up to 120 s to finish its current job, then restarts with the change; " +
        "queued jobs wait in Redis (the other workers keep consuming)"
      );
  }
}

/** The words before a replaced container's consequence: which one runs first. */
function replacedHow(role: string): string {
  return replaceOrder(role) === "start-first"
    ? "replaced start-first (the new one starts, then the old one is deleted)"
    : "recreated (stop, then start the new one)";
}

const roleOf = (name: string) => (name.startsWith("worker-") ? "worker" : name);

function serverChanges(b: PlanView, a: PlanView): Change[] {
  const out: Change[] = [];
  const bs = b.server;
  const as = a.server;
  if (bs && !as && a.target === "local") {
    out.push({
      kind: "destroy-server",
      subject: "server",
      what: `target ${b.target} → ${a.target}`,
      consequence:
        `DELETES THE SERVER ${bs.type} — data on it is lost: the local target runs the containers on this machine's ` +
        "Docker instead. Deploy local as a separate stack",
      refused: false,
    });
    return out;
  }
  if (!bs && as) {
    out.push({
      kind: "create-server",
      subject: "server",
      what: `${as.type} in ${as.location}`,
      consequence: `a new ${as.type} server is created (${euro(as.priceMonthlyEur)} before IPv4 and backups)`,
      refused: false,
    });
    return out;
  }
  if (!bs || !as) return out;
  const moved = bs.location !== as.location;
  const archChanged = bs.architecture !== as.architecture;
  if (moved || archChanged) {
    const why: string[] = [];
    if (moved) why.push(`location ${bs.location} → ${as.location}: Hetzner cannot move a server`);
    if (archChanged)
      why.push(
        `architecture ${bs.architecture} → ${as.architecture}: Hetzner cannot rescale across architectures, and the images must be built for ${as.architecture}`,
      );
    out.push({
      kind: "replace-server",
      subject: "server",
      what: `${bs.type} (${bs.location}, ${bs.architecture}) → ${as.type} (${as.location}, ${as.architecture})`,
      consequence:
        `REPLACES THE SERVER — data on it is lost (a new server: new IP, empty disk, empty Redis). ${why.join("; ")}. ` +
        "pulumi up refuses this for a deployed server before anything is touched: deploy the new location or " +
        "architecture as a new stack and move the data over",
      refused: true,
    });
    return out;
  }
  if (bs.type !== as.type) {
    const disk = a.settings?.["server/keepDisk"] === false && as.diskGb > bs.diskGb;
    out.push({
      kind: "rescale",
      subject: "server",
      what: `${bs.type} (${bs.cores} vCPU, ${bs.memoryGb} GB) → ${as.type} (${as.cores} vCPU, ${as.memoryGb} GB)`,
      consequence:
        "rescale: Hetzner powers the server off, changes its type and boots it — every service is down for about " +
        "1–2 min; the server, its IP and its data stay. " +
        (disk
          ? `The disk grows to ${as.diskGb} GB (server/keepDisk is false), so a later move back to a smaller type is impossible. `
          : as.diskGb < bs.diskGb
            ? // Hetzner's change_type cannot shrink a disk: a move to a smaller disk works only if the
              // server's disk never outgrew the new type's (created on such a type, grown with
              // upgrade_disk false, which is server/keepDisk).
              `Hetzner refuses this move if the server's disk is larger than ${as.type}'s ${as.diskGb} GB: it works only for a server created on a type with a disk that small whose disk never grew (server/keepDisk). `
            : "The disk keeps its size (server/keepDisk), so a later downgrade stays possible. ") +
        `New tariff: ${euro(bs.priceMonthlyEur)} → ${euro(as.priceMonthlyEur)} (any rescale moves the server to Hetzner's current price)`,
      refused: false,
    });
  }
  return out;
}

function swapChanges(b: PlanView, a: PlanView): Change[] {
  if (b.swapGb === a.swapGb || !a.server) return [];
  return [
    {
      kind: "update",
      subject: "swap",
      what: `${b.swapGb} GB → ${a.swapGb} GB`,
      consequence:
        a.swapGb === 0
          ? "the swapfile is switched off and removed in place (no reboot); what was swapped out moves back to RAM first"
          : "the swapfile is resized in place (no reboot, nothing restarts)",
      refused: false,
    },
  ];
}

function serviceChanges(b: PlanView, a: PlanView): Change[] {
  const out: Change[] = [];
  const names = [...new Set([...b.services, ...a.services].map((s) => s.name))];
  for (const name of names) {
    const x = b.services.find((s) => s.name === name);
    const y = a.services.find((s) => s.name === name);
    const role = roleOf(name);
    if (!x && y) {
      out.push({
        kind: "add",
        subject: name,
        what: `new container (${y.memoryMb} MB limit)`,
        consequence:
          role === "worker"
            ? "a new worker starts consuming the queue; the running containers are not touched"
            : "a new container starts; the running ones are not touched",
        refused: false,
      });
      continue;
    }
    if (x && !y) {
      out.push({
        kind: "remove",
        subject: name,
        what: "container removed",
        consequence:
          role === "worker"
            ? "this worker is stopped and removed; its queued jobs stay in Redis for the remaining workers"
            : "this container is stopped and removed",
        refused: false,
      });
      continue;
    }
    if (!x || !y) continue;
    const forcing: string[] = [];
    if (x.image !== y.image) forcing.push(`image ${x.image} → ${y.image}`);
    if (!same(x.command, y.command)) forcing.push("command changed");
    const inPlace = (["memoryMb", "memoryReservationMb", "swapMb", "restart"] as const)
      .filter((k) => x[k] !== y[k])
      .map((k) => `${k} ${x[k]} → ${y[k]}`);
    if (forcing.length > 0) {
      out.push({
        kind: "recreate",
        subject: name,
        what: [...forcing, ...inPlace].join(", "),
        consequence: `${replacedHow(role)}: ${recreateConsequence(role)}`,
        refused: false,
      });
    } else if (inPlace.length > 0 || !same(x, y)) {
      out.push({
        kind: "update",
        subject: name,
        what: inPlace.join(", ") || "changed",
        consequence: "updated in place (docker update): the container keeps running, no restart",
        refused: false,
      });
    }
  }
  return out;
}

function firewallChanges(b: PlanView, a: PlanView): Change[] {
  if (!b.firewall || !a.firewall) return [];
  const out: Change[] = [];
  const descs = [...new Set([...b.firewall, ...a.firewall].map((r) => r.description))];
  const show = (r: FirewallRuleView) =>
    `${r.protocol}${r.port ? `/${r.port}` : ""} from ${r.sourceIps.join(", ") || "nowhere"}`;
  for (const d of descs) {
    const x = b.firewall.find((r) => r.description === d);
    const y = a.firewall.find((r) => r.description === d);
    if (same(x, y)) continue;
    const what =
      x && y ? `${d}: ${show(x)} → ${show(y)}` : x ? `${d}: ${show(x)} removed` : `${d}: ${show(y!)} added`;
    const world = (r?: FirewallRuleView) => !!r && r.sourceIps.some((c) => c === "0.0.0.0/0" || c === "::/0");
    let consequence = "the Hetzner firewall is updated in place; open connections are not dropped";
    if (y && world(y) && !world(x)) consequence += `. ${d} is now OPEN TO THE WHOLE INTERNET`;
    if (!y) consequence += `. ${d} is no longer reachable from outside`;
    out.push({ kind: "update", subject: "firewall", what, consequence, refused: false });
  }
  return out;
}

/** Consequences of settings that no server, swap, firewall or container diff shows. */
function settingChanges(b: PlanView, a: PlanView, diffs: SettingDiff[]): Change[] {
  const out: Change[] = [];
  const changed = new Map(diffs.map((d) => [d.key, d]));
  const add = (kind: ChangeKind, subject: string, what: string, consequence: string) =>
    out.push({ kind, subject, what, consequence, refused: false });
  const pair = (k: string) => `${fmt(changed.get(k)!.before)} → ${fmt(changed.get(k)!.after)}`;

  if (changed.has("server/protect") && a.server) {
    const on = changed.get("server/protect")!.after === true;
    add(
      "update",
      "server",
      `server/protect ${pair("server/protect")}`,
      on
        ? "delete and rebuild protection turned on in place (Hetzner and Pulumi `protect`)"
        : "delete and rebuild protection REMOVED: `pulumi destroy`, a replacement or a click in the console can now delete the server and its data",
    );
  }
  if (changed.has("server/backups") && a.server) {
    const on = changed.get("server/backups")!.after === true;
    add(
      "update",
      "server",
      `server/backups ${pair("server/backups")}`,
      on
        ? "Hetzner's daily backups turned on in place (+20 % of the server price)"
        : "Hetzner's backups turned off in place: Hetzner deletes the server's existing backups (API `disable_backup`)",
    );
  }
  if (changed.has("server/keepDisk") && a.server) {
    add(
      "no-op",
      "server",
      `server/keepDisk ${pair("server/keepDisk")}`,
      "nothing changes now: it decides at the next rescale whether the disk grows with the type",
    );
  }
  if (changed.has("swappiness") && a.server) {
    add("update", "swap", `vm.swappiness ${pair("swappiness")}`, "set with sysctl in place (no reboot)");
  }
  if (changed.has("adminSshKeys") && a.server) {
    add(
      "update",
      "admin keys",
      `adminSshKeys ${pair("adminSshKeys")}`,
      "root's authorized_keys is rewritten in place over SSH; open sessions stay, a removed key can no longer log in",
    );
  }
  const alerts = diffs.filter((d) => d.key.startsWith("alerts/") || d.key === "alertWebhookUrl");
  if (alerts.length > 0 && a.server) {
    add(
      "update",
      "watchdog",
      alerts.map((d) => `${d.key} ${fmt(d.before)} → ${fmt(d.after)}`).join(", "),
      "the watchdog's settings are re-installed in place; no container restarts",
    );
  }
  const budgetOnly = diffs.filter((d) => ["users", "perUserMb", "systemReserveMb"].includes(d.key));
  if (budgetOnly.length > 0) {
    add(
      "no-op",
      "budget",
      budgetOnly.map((d) => `${d.key} ${fmt(d.before)} → ${fmt(d.after)}`).join(", "),
      "only the memory budget's projection changes; nothing on the box does",
    );
  }
  if (changed.has("imageDigests")) {
    add(
      "update",
      "images",
      `imageDigests ${pair("imageDigests")}`,
      "images are referenced differently at the next up: a container whose resolved reference changes is recreated",
    );
  }
  const registry = diffs.filter((d) => d.key.startsWith("registry"));
  if (registry.length > 0) {
    add(
      "update",
      "registry",
      registry.map((d) => `${d.key} ${fmt(d.before)} → ${fmt(d.after)}`).join(", "),
      "the Docker provider's registry login changes in place; it is used at the next pull",
    );
  }
  for (const key of ["botToken", "falKey", "env"]) {
    if (!changed.has(key)) continue;
    add(
      "recreate",
      key === "botToken" ? "bot" : "api, bot, workers",
      `${key} ${pair(key)}`,
      "the secret reaches the containers as environment: the ones that receive it are recreated",
    );
  }
  if (changed.has("services/api/healthPath")) {
    add(
      "recreate",
      "api",
      `services/api/healthPath ${pair("services/api/healthPath")}`,
      `recreated (the health check changes, and Docker cannot change it in place): ${recreateConsequence("api")}`,
    );
  }
  // A new `release` alone renames the API (src/plan/release.ts), which the provider answers with a
  // replacement; with a new image, command, health path or secret the API's own line says so already.
  if (changed.has("release")) {
    const x = b.services.find((s) => s.name === "api");
    const y = a.services.find((s) => s.name === "api");
    const said =
      (x && y && (x.image !== y.image || !same(x.command, y.command))) ||
      ["services/api/healthPath", "falKey", "env"].some((k) => changed.has(k));
    if (!said)
      add(
        "recreate",
        "api",
        `release ${pair("release")}`,
        `${replacedHow("api")}, under a new release name: ${recreateConsequence("api")}`,
      );
  }
  // The host name and TLS reach only the gate's command line, not its triggers (the new API's name,
  // the proxy's ID): pulumi-command updates it in place by running `create` again
  // (docs/provider-contract.md, command.remote.Command), and no container changes.
  const routing = diffs.filter((d) => d.key === "domain" || d.key === "tls");
  if (routing.length > 0) {
    const tls = a.settings?.tls;
    const tlsOn =
      tls === true || ((tls === null || tls === undefined) && typeof a.settings?.domain === "string");
    add(
      "update",
      "proxy",
      routing.map((d) => `${d.key} ${fmt(d.before)} → ${fmt(d.after)}`).join(", "),
      "the deploy gate runs kamal-proxy's deploy again with the new host name and TLS setting; no container is replaced " +
        "and the API keeps serving" +
        (tlsOn
          ? ". kamal-proxy asks Let's Encrypt for the name's certificate when it is first asked for over HTTPS"
          : ""),
    );
  }
  if (changed.has("deployPrivateKey")) {
    add(
      "update",
      "deploy key",
      `deployPrivateKey ${pair("deployPrivateKey")}`,
      "Pulumi connects with a different key: it must already be in root's authorized_keys (the server's SSH keys are read only at first boot)",
    );
  }
  // A stage or requirement change that leaves the server as it is: say so, and what would change it.
  const req = diffs.filter((d) => ["server/cores", "server/memoryGb", "server/diskGb"].includes(d.key));
  const stageChanged = b.stage !== a.stage;
  if ((stageChanged || req.length > 0) && a.server && b.server && a.server.type === b.server.type) {
    const s = a.server;
    const need = a.requirements;
    const up = a.scaling?.nextSizeUp;
    add(
      "no-op",
      "server",
      [
        stageChanged ? `stage ${b.stage} → ${a.stage}` : "",
        ...req.map((d) => `${d.key} ${fmt(d.before)} → ${fmt(d.after)}`),
      ]
        .filter(Boolean)
        .join(", "),
      `the server stays ${s.type} (${s.cores} vCPU, ${s.memoryGb} GB RAM, ${s.diskGb} GB disk): it already meets ` +
        (need
          ? `the new requirements (≥${need.cores} vCPU, ≥${need.memoryGb} GB RAM, ≥${need.diskGb} GB disk)`
          : "the new requirements") +
        "; only its requirements label is updated in place" +
        (up
          ? `. The next size up: ${up.key} ${up.value} → ${up.type} (${up.cores} vCPU, ${up.memoryGb} GB RAM), ${euro(up.monthly.totalEur)} incl. IPv4${up.monthly.backupsEur ? " and backups" : ""}${up.monthly.estimated ? " (estimate)" : ""}`
          : ""),
    );
  }
  return out;
}

/** Settings that differ; empty when either side does not report settings. */
export function diffSettings(b: PlanView, a: PlanView): SettingDiff[] {
  if (!b.settings || !a.settings) return [];
  const keys = [...new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])];
  return keys
    .filter((k) => !same(b.settings![k], a.settings![k]))
    .map((k) => ({ key: k, before: b.settings![k], after: a.settings![k] }));
}

/** Every change from `before` to `after`, most consequential first. */
export function diffPlans(before: PlanView, after: PlanView): Change[] {
  const settings = diffSettings(before, after);
  const changes = [
    ...serverChanges(before, after),
    ...settingChanges(before, after, settings),
    ...swapChanges(before, after),
    ...firewallChanges(before, after),
    ...serviceChanges(before, after),
  ];
  const order: ChangeKind[] = [
    "replace-server",
    "destroy-server",
    "create-server",
    "rescale",
    "recreate",
    "remove",
    "add",
    "update",
    "no-op",
  ];
  // Array.prototype.sort is stable (ES2019), so changes of one kind keep the order they were found in.
  return changes.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind));
}

/** Terraform's last line: "Plan: 1 to add, 2 to change, …". */
export function summarizeChanges(changes: readonly Change[]): string {
  const n = (kinds: ChangeKind[]) => changes.filter((c) => kinds.includes(c.kind)).length;
  const parts = [
    `${n(["add", "create-server"])} to add`,
    `${n(["update", "rescale"])} to change in place`,
    `${n(["recreate", "replace-server"])} to replace`,
    `${n(["remove", "destroy-server"])} to destroy`,
  ];
  const refused = changes.filter((c) => c.refused).length;
  return `Changes: ${parts.join(", ")}${refused ? `; ${refused} refused by the program` : ""}.`;
}
