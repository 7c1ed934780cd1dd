// The domain's vocabulary, declared once: which services exist, the stages, targets, locations and
// architectures. The key table (keys.ts) builds its enums from these lists and the StackConfig type
// is derived from that table, so a new service or location is one edit here.

/**
 * The containers of the app, in start order (Redis first: the others connect to it). `proxy` is
 * the edge proxy (kamal-proxy, issue 14): a container like the others, with an image, memory keys
 * and a line in the budget, so it is one more service here rather than a vocabulary of its own.
 */
export const SERVICE_NAMES = ["redis", "proxy", "api", "bot", "worker"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * The scaling stages of the sizing note (presets in src/plan/stages.ts), and stage 4: the note's
 * "consider horizontal scaling" as one core node plus worker nodes (src/plan/nodes.ts).
 */
export const STAGE_NUMBERS = [1, 2, 3, 4] as const;
export type Stage = (typeof STAGE_NUMBERS)[number];

/** Hetzner Cloud locations (https://docs.hetzner.com/cloud/general/locations/). */
export const LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;
export type Location = (typeof LOCATIONS)[number];

export const ARCHITECTURES = ["x86", "arm"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** `hetzner` provisions a VM; `local` runs the same containers on the local Docker daemon. */
export const TARGETS = ["hetzner", "local"] as const;
export type Target = (typeof TARGETS)[number];
