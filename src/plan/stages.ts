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
  // The note's "consider horizontal scaling": the core node keeps stage 3's requirements, so a
  // stack moving from stage 3 keeps its server (src/plan/server.ts keeps a deployed type while the
  // requirements hold), and runs Redis, the proxy, the API and the bot; the workers, the part that
  // grows, move to worker nodes (WORKER_NODE, src/plan/nodes.ts).
  4: {
    stage: 4,
    title: "beyond one box",
    minCores: 4,
    minMemoryGb: 6,
    minDiskGb: 60,
    swapGb: 2,
    workers: 0,
    note: "consider horizontal scaling: a core node plus worker nodes on a private network",
  },
};

/** The stages of one box: the outlook and the next size up compare these (stage 4 adds nodes). */
export const ONE_BOX_STAGES = [1, 2, 3] as const satisfies readonly Stage[];

/** A stage-4 worker node's requirements (workerNode/* override cores and memory; workersPerNode the workers). */
export const WORKER_NODE = {
  minCores: 2,
  minMemoryGb: 4,
  // Docker's images and the workers' temporary files; no Redis data lives here.
  minDiskGb: 40,
  swapGb: 2,
  /** workerNodes and workersPerNode when unset. */
  nodes: 1,
  workersPerNode: 2,
} as const;
