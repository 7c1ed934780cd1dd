// The sizing note's per-service memory limits and reservations, declared once. The planner applies
// them (src/plan/services.ts) and the key table documents them (src/config/keys.ts, whose
// `defaultText` of services/<service>/memoryMb and reservationMb is built from this table, and from
// it the README and Pulumi.yaml). A leaf module: it imports nothing at run time, so the key table
// can read it without an import cycle through the planner.
import type { ServiceName } from "../config/vocabulary";

export interface ServiceDefaultLimits {
  /** docker --memory, MB. */
  memoryMb: number;
  /** docker --memory-reservation, MB. */
  reservationMb: number;
}

export const SERVICE_DEFAULT_LIMITS: Readonly<Record<ServiceName, Readonly<ServiceDefaultLimits>>> = {
  redis: { memoryMb: 256, reservationMb: 64 },
  // kamal-proxy v0.9.2: 17.3 MB at rest and 22.6 MB at its peak under 20 HTTPS requests/s
  // (docs/edge-proxy.md, measured on the development machine): 64 MB leaves three times the peak.
  proxy: { memoryMb: 64, reservationMb: 32 },
  api: { memoryMb: 200, reservationMb: 120 },
  bot: { memoryMb: 150, reservationMb: 100 },
  worker: { memoryMb: 250, reservationMb: 100 },
};
