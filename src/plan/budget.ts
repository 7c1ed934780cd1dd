// The capacity budget, laid out like the sizing note's table: system reserve, container limits,
// reservations and the users' projected memory against the box's real RAM and swap.
import type { ServicePlan } from "./services";

export interface Budget {
  ramMb: number;
  swapMb: number;
  systemReserveMb: number;
  limitsMb: number;
  reservationsMb: number;
  /** Swap the containers are allowed to use in total (Σ swapMb). */
  containerSwapMb: number;
  usersMb: number;
  /** reserve + limits + users, as the note adds them up. */
  totalMb: number;
  ramPercent: number;
  /** Projected memory that does not fit in RAM and must live in swap. */
  swapNeededMb: number;
  swapPercent: number;
}

export interface BudgetInput {
  ramMb: number;
  swapMb: number;
  systemReserveMb: number;
  users: number;
  perUserMb: number;
  services: readonly ServicePlan[];
  /** Names the server in messages, e.g. `cx33 (4 vCPU, 8 GB)`. */
  serverLabel: string;
}

/** The note's critical level for memory, and its swap alert. */
export const CRITICAL_RAM_PERCENT = 95;
export const SWAP_RELIANCE_PERCENT = 50;

export function computeBudget(input: BudgetInput): Budget {
  const sum = (f: (s: ServicePlan) => number) => input.services.reduce((acc, s) => acc + f(s), 0);
  const limitsMb = sum((s) => s.memoryMb);
  const usersMb = input.users * input.perUserMb;
  const totalMb = input.systemReserveMb + limitsMb + usersMb;
  const swapNeededMb = Math.max(0, totalMb - input.ramMb);
  return {
    ramMb: input.ramMb,
    swapMb: input.swapMb,
    systemReserveMb: input.systemReserveMb,
    limitsMb,
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

/** Errors refuse the deploy; warnings are shown and allowed. */
export function checkBudget(b: Budget, input: BudgetInput): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const box = input.serverLabel;
  if (b.limitsMb + b.systemReserveMb > b.ramMb + b.swapMb) {
    errors.push(
      `budget: container limits (${b.limitsMb} MB) + system reserve (${b.systemReserveMb} MB) = ${b.limitsMb + b.systemReserveMb} MB ` +
        `exceed RAM + swap (${b.ramMb} + ${b.swapMb} MB) on ${box}: lower services/*/memoryMb or workers, raise swapGb, or move to a higher stage`,
    );
  }
  if (b.reservationsMb > b.ramMb) {
    errors.push(
      `budget: container reservations (${b.reservationsMb} MB) exceed RAM (${b.ramMb} MB) on ${box}: lower services/*/reservationMb or workers`,
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
      `budget: containers may use ${b.containerSwapMb} MB of swap in total but the swapfile has ${b.swapMb} MB: lower services/*/swapMb or raise swapGb`,
    );
  }
  if (b.ramPercent > CRITICAL_RAM_PERCENT) {
    warnings.push(
      `budget: projected memory ${b.totalMb} MB is ${b.ramPercent}% of RAM (${b.ramMb} MB) on ${box}, above the note's ${CRITICAL_RAM_PERCENT}% ` +
        `critical level; ${b.swapNeededMb} MB will live in swap. Move to a higher stage or raise server/memoryGb`,
    );
  }
  if (b.swapNeededMb > 0 && b.swapPercent > SWAP_RELIANCE_PERCENT) {
    warnings.push(
      `budget: the projected overflow (${b.swapNeededMb} MB) fills ${b.swapPercent === Infinity ? "more than all" : `${b.swapPercent}%`} of swap ` +
        `(${b.swapMb} MB), above the note's ${SWAP_RELIANCE_PERCENT}% alert: the box needs more RAM`,
    );
  }
  // The note's defect 5, in words a user understands.
  const appLimitsMb = input.services.filter((s) => s.role !== "redis").reduce((a, s) => a + s.memoryMb, 0);
  if (b.usersMb > appLimitsMb) {
    warnings.push(
      `users: ${input.users} users × ${input.perUserMb} MB = ${b.usersMb} MB of per-user memory, but the containers that serve ` +
        `users (api, bot, workers) may use at most ${appLimitsMb} MB together (their limits). The per-user memory cannot ` +
        "live inside them: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, " +
        "lower perUserMb to what `docker stats` shows. The total above counts it on top of the limits, as the note does.",
    );
  }
  return { errors, warnings };
}
