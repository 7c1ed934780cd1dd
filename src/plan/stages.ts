// Stage presets from the sizing note's "Scaling plan", as *requirements* on the server rather than
// type names: Hetzner has no 3 vCPU / 3 GB type, so the catalog decides which real type meets them.
// Every value here can be overridden by stack config (server/cores, server/memoryGb, server/diskGb,
// swapGb, workers).
import type { Stage } from "../config/keys";

export type { Stage };

export interface StagePreset {
  stage: Stage;
  title: string;
  minCores: number;
  minMemoryGb: number;
  minDiskGb: number;
  swapGb: number;
  workers: number;
  /** The note's own words for the stage, quoted in reports. */
  note: string;
}

export const STAGES: Readonly<Record<Stage, StagePreset>> = {
  1: {
    stage: 1,
    title: "current box",
    minCores: 3,
    minMemoryGb: 3,
    minDiskGb: 60,
    // The note: "swap 2–4 GB" and "a swapfile is mandatory"; at 92–102 % of RAM we take the top.
    swapGb: 4,
    workers: 1,
    note: "3 cores, 3 GB RAM, 60 GB disk; swap 2–4 GB; one worker; monitor resources",
  },
  2: {
    stage: 2,
    title: "as load grows",
    minCores: 3,
    minMemoryGb: 4,
    minDiskGb: 60,
    swapGb: 2,
    workers: 2,
    note: "RAM 4–6 GB, second worker, swap as reserve",
  },
  3: {
    stage: 3,
    title: "at the limits",
    minCores: 4,
    minMemoryGb: 6,
    minDiskGb: 60,
    swapGb: 2,
    workers: 2,
    note: "RAM 6–8 GB, CPU 4–6 cores, consider horizontal scaling",
  },
};
