// The API container's name: `api-<release id>`, fresh whenever the container is replaced.
//
// Why a fresh name: the API is replaced start-first (src/plan/services.ts `replace`), so the new
// container exists while the old one still runs under its name; and a failed deploy leaves the old
// container running under its name until the next `up` deletes it (the engine deletes replaced
// resources only in the post-steps a failed update never reaches: pulumi pkg/v3 v3.274.1
// resource/deploy/step.go and step_generator.go, docs/edge-proxy.md). A name that repeats would
// fail with Docker's "name already in use".
//
// Where the id comes from, and why not from a counter or the clock: a `pulumi up` without changes
// must stay a no-op, so the id must be a function of the program's inputs, not of when it ran. It
// is a hash of every container input that makes the provider replace the container (ForceNew in
// kreuzwerker terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4,
// internal/provider/resource_docker_container.go: name, image, command, env, healthcheck,
// stop_timeout, hostname, labels, log driver and options, networks, volumes, ports), so:
// - nothing changed → same id, same name, no diff;
// - a new image digest, env value, secret or healthcheck → a new id, so the replacement the
//   provider would make anyway gets a name of its own;
// - memory limits and the restart policy are updated in place (not ForceNew), so they are left out:
//   changing them must not rename, i.e. replace, the container.
// What a hash of the inputs cannot tell apart is a retry of the same inputs after a failed deploy
// (a rollback by hand to the release that is still running): the name would be the running one's.
// So the `release` key salts the hash. The rollback command (src/cli/rollback.ts, also behind
// deploy.yml's rollback_to) sets a new value; by hand, `pulumi config set release <new>`. Plain
// deploys leave it alone, so an unchanged stack stays a no-op.
//
// The hash covers the secret env values too (a rotated FAL_KEY replaces the container), and the
// name is shown in every preview (a pull request's comment among them). A plain hash of them would
// let a reader of the preview, who knows the other inputs from the repository, test guesses of a
// weak secret offline. So where the stack has a deploy key (the Hetzner target) the id is an
// HMAC-SHA-256 keyed with that private key, which only the state and the server hold; 12 hex
// digits of it reach the name. The local target has no key and uses the plain hash (its
// previews stay on the machine). A new deploy key renames, i.e. replaces through the gate, the API.
import { createHash, createHmac } from "node:crypto";

/** Hex digits of the id: 48 bits, no collision in any stack's lifetime of deploys. */
export const RELEASE_ID_HEX = 12;

/** The inputs of a container that the provider updates in place: they do not name a release. */
export const IN_PLACE_INPUTS = [
  "memory",
  "memoryReservation",
  "memorySwap",
  "restart",
  "destroyGraceSeconds",
  "wait",
  "waitTimeout",
  "mustRun",
] as const;

/** JSON with object keys sorted, so the id does not depend on the order inputs were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * The release id of a container's resolved inputs, salted by the `release` key (empty when unset);
 * keyed (HMAC) by `key` where there is one: the stack's deploy private key.
 */
export function releaseId(salt: string, inputs: Record<string, unknown>, key?: string): string {
  const replacing = Object.fromEntries(
    Object.entries(inputs).filter(([k]) => !(IN_PLACE_INPUTS as readonly string[]).includes(k)),
  );
  const mac = key ? createHmac("sha256", key) : createHash("sha256");
  return mac
    .update(`${salt}\n${canonical(replacing)}`)
    .digest("hex")
    .slice(0, RELEASE_ID_HEX);
}

/** `<base>-<release id>`, e.g. `api-3f2a9c01b7de`. */
export function releaseContainerName(
  base: string,
  salt: string,
  inputs: Record<string, unknown>,
  key?: string,
): string {
  return `${base}-${releaseId(salt, inputs, key)}`;
}
