// The capacity budget, laid out like the sizing note's table: system reserve, container limits,
// reservations and the users' projected memory against the box's real RAM and swap.
import type { ServicePlan } from "./services";

export interface Budget {
  ramMb: number;
  swapMb: number;
  systemReserveMb: number;
  /** restic's memory while a backup runs (src/plan/backup.ts); present only when backups are on. */
  backupMb?: number;
  limitsMb: number;
  /**
   * One more `api` limit: during a deploy the new API container starts beside the old one and both
   * run until the proxy has switched and drained (issue 14's create-before-delete). Present when
   * the plan has a switch to make room for.
   */
  deployHeadroomMb?: number;
  reservationsMb: number;
  /** Swap the containers are allowed to use in total (Σ swapMb). */
  containerSwapMb: number;
  usersMb: number;
  /** reserve + backup + limits + headroom + users: the note's sum, plus the backup's and the deploy's lines. */
  totalMb: number;
  ramPercent: number;
  /** Projected memory that does not fit in RAM and must live in swap. */
  swapNeededMb: number;
  swapPercent: number;
  /**
   * Information about the figures that needs no action while the total fits (shown with the
   * budget, not as a warning): today the per-user memory that the note counts on top of the limits.
   */
  notes: string[];
}

export interface BudgetInput {
  ramMb: number;
  swapMb: number;
  systemReserveMb: number;
  /** Memory of a host job outside the containers (restic), counted beside the system reserve. */
  backupMb?: number;
  /** The second API container during a deploy (Budget.deployHeadroomMb). */
  deployHeadroomMb?: number;
  users: number;
  perUserMb: number;
  services: readonly ServicePlan[];
  /** Names the server in messages, e.g. `cx33 (4 vCPU, 8 GB)`. */
  serverLabel: string;
  /** The keys the messages tell the user to change: a stage-4 worker node's differ (src/plan/nodes.ts). */
  keys?: BudgetKeys;
}

export interface BudgetKeys {
  /** The worker count: `workers`, or `workersPerNode` on a worker node. */
  workers: string;
  /** More RAM: `server/memoryGb`, or `workerNode/memoryGb`. */
  memory: string;
  /** The last resort: a higher stage, or a bigger worker node. */
  bigger: string;
  /** The swap key, where the user sets it (`swapGb`); a worker node's swap is its preset's. */
  swap?: string;
}

const ONE_BOX_KEYS: BudgetKeys = {
  workers: "workers",
  memory: "server/memoryGb",
  bigger: "move to a higher stage",
  swap: "swapGb",
};

/** The containers whose memory grows with users; Redis and the edge proxy are not among them. */
const USER_SERVING: ReadonlySet<ServicePlan["role"]> = new Set(["api", "bot", "worker"]);

/** The note's critical level for memory, and its swap alert. */
export const CRITICAL_RAM_PERCENT = 95;
export const SWAP_RELIANCE_PERCENT = 50;

/**
 * The memory a deploy needs on top of the running containers: the services replaced start-first
 * (the API, src/plan/services.ts `replace`) run twice during the switch, so each adds its limit once.
 */
export function deployHeadroomMb(services: readonly ServicePlan[]): number {
  return services.filter((s) => s.replace === "start-first").reduce((a, s) => a + s.memoryMb, 0);
}

export function computeBudget(input: BudgetInput): Omit<Budget, "notes"> {
  const sum = (f: (s: ServicePlan) => number) => input.services.reduce((acc, s) => acc + f(s), 0);
  const limitsMb = sum((s) => s.memoryMb);
  const usersMb = input.users * input.perUserMb;
  const backupMb = input.backupMb ?? 0;
  const deployHeadroomMb = input.deployHeadroomMb ?? 0;
  const totalMb = input.systemReserveMb + backupMb + limitsMb + deployHeadroomMb + usersMb;
  const swapNeededMb = Math.max(0, totalMb - input.ramMb);
  return {
    ramMb: input.ramMb,
    swapMb: input.swapMb,
    systemReserveMb: input.systemReserveMb,
    ...(backupMb > 0 ? { backupMb } : {}),
    limitsMb,
    ...(deployHeadroomMb > 0 ? { deployHeadroomMb } : {}),
    reservationsMb: sum((s) => s.memoryReservationMb),
    containerSwapMb: sum((s) => s.swapMb),
    usersMb,
    totalMb,
    ramPercent: Math.round((totalMb / input.ramMb) * 100),
    swapNeededMb,
    swapPercent:
      input.swapMb > 0 ? Math.round((swapNeededMb / input.swapMb) * 100) : swapNeededMb > 0 ? Infinity : 0,
  };
}

/** Errors refuse the deploy; warnings are shown and allowed; notes are information for the budget. */
export function checkBudget(
  b: Omit<Budget, "notes">,
  input: BudgetInput,
): { errors: string[]; warnings: string[]; notes: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const box = input.serverLabel;
  const k = input.keys ?? ONE_BOX_KEYS;
  const capacityMb = b.ramMb + b.swapMb;
  const backupMb = b.backupMb ?? 0;
  const headroomMb = b.deployHeadroomMb ?? 0;
  // The headroom is a limit like the others: at the moment of a switch it is all in use.
  const limitsSumMb = b.limitsMb + headroomMb + b.systemReserveMb + backupMb;
  const limitsDontFit = limitsSumMb > capacityMb;
  if (limitsDontFit) {
    const headroom = headroomMb > 0 ? ` + deploy headroom (${headroomMb} MB)` : "";
    const backup = backupMb > 0 ? ` + backup (${backupMb} MB)` : "";
    errors.push(
      `budget: container limits (${b.limitsMb} MB)${headroom} + system reserve (${b.systemReserveMb} MB)${backup} = ${limitsSumMb} MB ` +
        `exceed RAM + swap (${b.ramMb} + ${b.swapMb} MB) on ${box}: lower services/*/memoryMb or ${k.workers}, ${k.swap ? `raise ${k.swap}, ` : ""}or ${k.bigger}`,
    );
  }
  // Beyond RAM + swap the projection cannot be met at all: the kernel's OOM killer, not the
  // containers' limits, would decide what dies. The review of issue 13 (item 15) found
  // `users=100000` (21989 % of RAM) planned as "Deployable." with two warnings.
  const beyond = !limitsDontFit && b.totalMb > capacityMb;
  if (beyond) errors.push(projectionError(b, input));
  if (b.reservationsMb > b.ramMb) {
    errors.push(
      `budget: container reservations (${b.reservationsMb} MB) exceed RAM (${b.ramMb} MB) on ${box}: lower services/*/reservationMb or ${k.workers}`,
    );
  }
  for (const s of input.services) {
    if (s.swapMb > 0 && b.swapMb === 0) {
      errors.push(
        `services/${s.role}/swapMb: ${s.name} may swap ${s.swapMb} MB but the host has no swap (swapGb is 0): set it to 0 or add swap`,
      );
    }
  }
  if (b.swapMb > 0 && b.containerSwapMb > b.swapMb) {
    warnings.push(
      `budget: containers may use ${b.containerSwapMb} MB of swap in total but the swapfile has ${b.swapMb} MB: lower services/*/swapMb${k.swap ? ` or raise ${k.swap}` : ""}`,
    );
  }
  if (!beyond && b.ramPercent > CRITICAL_RAM_PERCENT) {
    warnings.push(
      `budget: projected memory ${b.totalMb} MB is ${b.ramPercent}% of RAM (${b.ramMb} MB) on ${box}, above the note's ${CRITICAL_RAM_PERCENT}% ` +
        `critical level; ${b.swapNeededMb} MB will live in swap. ${k.bigger[0]!.toUpperCase()}${k.bigger.slice(1)} or raise ${k.memory}`,
    );
  }
  if (!beyond && b.swapNeededMb > 0 && b.swapPercent > SWAP_RELIANCE_PERCENT) {
    warnings.push(
      `budget: the projected overflow (${b.swapNeededMb} MB) fills ${b.swapPercent === Infinity ? "more than all" : `${b.swapPercent}%`} of swap ` +
        `(${b.swapMb} MB), above the note's ${SWAP_RELIANCE_PERCENT}% alert: the box needs more RAM`,
    );
  }
  // The note's defect 5, in words a user understands. The note adds the per-user memory on top of
  // the container limits, although it can only live inside them (a process cannot use memory beyond
  // its container's limit). With the note's own defaults (100 users × 18 MB against 600 MB of app
  // limits) that is true of every plan, so while the total still fits below the note's critical
  // level it is information shown with the budget, not a warning a user would learn to skip; once
  // the users' share pushes the box past that level it is a warning, since it may be the cause.
  const appLimitsMb = input.services
    .filter((s) => USER_SERVING.has(s.role))
    .reduce((a, s) => a + s.memoryMb, 0);
  if (b.usersMb > appLimitsMb) {
    const perUser = `${input.users} users × ${input.perUserMb} MB = ${b.usersMb} MB of per-user memory`;
    const action =
      "if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, " +
      "lower perUserMb to what `docker stats` shows.";
    if (b.ramPercent > CRITICAL_RAM_PERCENT) {
      warnings.push(
        `users: ${perUser}, but the containers that serve users (api, bot, workers) may use at most ${appLimitsMb} MB together ` +
          `(their limits). The per-user memory cannot live inside them: ${action} The total above counts it on top of the limits, as the note does.`,
      );
    } else {
      notes.push(
        `users: ${perUser} is counted on top of the container limits, as the note does, so the total is an upper bound ` +
          `(${b.ramPercent}% of RAM). The containers that serve users (api, bot, workers) may use at most ${appLimitsMb} MB ` +
          `together: ${action}`,
      );
    }
  }
  return { errors, warnings, notes };
}

/** The projection beyond RAM + swap, with what would fit: users, per-user memory or workers. */
function projectionError(b: Omit<Budget, "notes">, input: BudgetInput): string {
  const k = input.keys ?? ONE_BOX_KEYS;
  const capacityMb = b.ramMb + b.swapMb;
  const backupMb = b.backupMb ?? 0;
  const headroomMb = b.deployHeadroomMb ?? 0;
  const roomForUsersMb = capacityMb - b.systemReserveMb - backupMb - b.limitsMb - headroomMb;
  const allowed: string[] = [];
  if (input.perUserMb > 0) {
    allowed.push(`users ≤ ${Math.floor(roomForUsersMb / input.perUserMb)} at perUserMb ${input.perUserMb}`);
  }
  const perUserMb = input.users > 0 ? Math.floor(roomForUsersMb / input.users) : 0;
  if (perUserMb >= 1) allowed.push(`perUserMb ≤ ${perUserMb}`);
  const workers = input.services.filter((s) => s.role === "worker");
  const workerMb = workers[0]?.memoryMb ?? 0;
  if (workerMb > 0) {
    const othersMb =
      b.systemReserveMb + backupMb + headroomMb + b.usersMb + (b.limitsMb - workers.length * workerMb);
    const maxWorkers = Math.floor((capacityMb - othersMb) / workerMb);
    if (maxWorkers >= 1 && maxWorkers < workers.length) allowed.push(`${k.workers} ≤ ${maxWorkers}`);
  }
  return (
    `budget: projected memory ${b.totalMb} MB (system reserve ${b.systemReserveMb}${backupMb > 0 ? ` + backup ${backupMb}` : ""} + container limits ${b.limitsMb}${headroomMb > 0 ? ` + deploy headroom ${headroomMb}` : ""} + ` +
    `users ${input.users} × ${input.perUserMb} MB) exceeds RAM + swap (${b.ramMb} + ${b.swapMb} MB) on ${input.serverLabel}: ` +
    `not deployable, the kernel's OOM killer would decide what dies. It fits with ${allowed.join(", or ")}; ` +
    `or raise ${[k.memory, k.swap].filter(Boolean).join(" or ")}`
  );
}
