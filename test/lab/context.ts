// What every phase of the lab works with, built once in lab.ts; `Deployed` adds the server, known
// only after the first real `pulumi up`, so no phase needs a non-null assertion.
import type { StackConfig } from "../../src/config/types";
import type { Plan } from "../../src/plan/plan";
import type { Control } from "../emulator/emulator";
import type { Pulumi } from "./engine";
import type { LabImage } from "./image-cache";
import type { LabStackConfig } from "./lab-config";
import type { Receiver } from "./receiver";
import type { Pebble } from "../real/support/pebble";
import type { Accel, Ssh } from "./vm";

export interface LabContext {
  accel: Accel;
  /** Timeouts scale by this under TCG. */
  slow: number;
  /** The run's private temp dir (0700): keys, working copies, state. */
  tmp: string;
  image: LabImage;
  stack: string;
  /** The main working copy of the program, as a developer's checkout. */
  pulumi: Pulumi;
  /** The stack's config as deployed now (each change phase updates it). */
  config: LabStackConfig;
  /** The program's own parse and plan of that config (expectedPlan): what the checks expect. */
  cfg: StackConfig;
  plan: Plan;
  receiver: Receiver;
  /** The ACME test server and its front, on the host (the lab's kamal-proxy image points at the front). */
  acme: Pebble;
  emulatorUrl: string;
  /** The emulator's control API: stock-outs, prices, its request log and state. */
  emulator: Control;
}

export interface Deployed extends LabContext {
  ip: string;
  ssh: Ssh;
  deployKeyFile: string;
  hostPublicKey: string;
}
