// The plan as one JSON document: what `npm run plan -- --json` prints and the stack exports.
import type { Budget } from "../plan/budget";
import type { Plan } from "../plan/plan";

export interface PlanJson {
  stack: string;
  stage: number;
  target: string;
  deployable: boolean;
  server: {
    type: string;
    cores: number;
    memoryGb: number;
    diskGb: number;
    architecture: string;
    location: string;
    priceMonthlyEur: number | null;
    pinned: boolean;
    catalog: string;
    catalogTakenAt: string;
  } | null;
  requirements: { cores: number; memoryGb: number; diskGb: number } | null;
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
  /** The budget without swapPercent, which is Infinity (not JSON) when there is no swap. */
  budget: Omit<Budget, "swapPercent"> | null;
  warnings: string[];
  errors: string[];
}

export function planToJson(plan: Plan): PlanJson {
  const s = plan.server;
  const b = plan.budget;
  return {
    stack: plan.stack,
    stage: plan.stage,
    target: plan.target,
    deployable: plan.deployable,
    server: s
      ? {
          type: s.type,
          cores: s.cores,
          memoryGb: s.memoryGb,
          diskGb: s.diskGb,
          architecture: s.architecture,
          location: s.location,
          priceMonthlyEur: s.priceMonthlyEur,
          pinned: s.pinned,
          catalog: s.catalogSource,
          catalogTakenAt: s.catalogTakenAt,
        }
      : null,
    requirements: s
      ? { cores: s.requirements.cores, memoryGb: s.requirements.memoryGb, diskGb: s.requirements.diskGb }
      : null,
    swapGb: plan.swapGb,
    workers: plan.workers,
    services: plan.services.map((x) => ({
      name: x.name,
      image: x.image,
      command: x.command ?? null,
      memoryMb: x.memoryMb,
      memoryReservationMb: x.memoryReservationMb,
      memorySwapMb: x.memorySwapMb,
      swapMb: x.swapMb,
      restart: x.restart,
    })),
    budget: b ? (({ swapPercent: _, ...rest }) => rest)(b) : null,
    warnings: plan.warnings,
    errors: plan.errors,
  };
}
