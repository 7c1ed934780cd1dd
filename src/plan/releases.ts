// The `releases` stack output: the last N releases of the app, newest first, each with the images
// its services ran (by digest where the registry was asked), the date and the git commit.
// Rollback (src/cli/rollback.ts) deploys one of them again.
//
// Why it is computed from the stack's own previous output: a release is recorded when it is
// deployed, not when the program runs, so `pulumi up` without changes (and every preview) must
// give back the same list, date included. index.ts reads the previous list through a
// StackReference to the stack itself, and this module prepends an entry only when the images
// differ from the newest one. Measured with the real engine (v3.274.1, file:// backend): on the
// stack's first deploy the self-reference has no outputs (the previous list is undefined); an up
// that fails after the program ran keeps the previous outputs (the engine keeps the root stack's
// old outputs until the program registers new ones), so a release whose deploy failed is not
// recorded (docs/releases.md).
//
// Pure: the date and the commit are read at the edge (index.ts) and passed in.
import type { ServiceName } from "../config/keys";

/** The services a release is made of: the app's own images. Redis and the edge proxy are pinned
 * infrastructure with keys of their own; a rollback never touches them. */
export const RELEASE_SERVICES = ["api", "bot", "worker"] as const satisfies readonly ServiceName[];
export type ReleaseService = (typeof RELEASE_SERVICES)[number];

export interface ReleaseImage {
  /** The configured reference (images/<service>) as it was at that deploy. */
  reference: string;
  /**
   * What the server pulled: `repository@sha256:…` where the registry was asked (imageDigests:
   * registry) or the reference was pinned, else the reference as given. Rollback sets this.
   */
  image: string;
  /** `sha256:…`, or null when the image was deployed by tag without asking the registry (imageDigests: off). */
  digest: string | null;
}

export interface Release {
  /** ISO 8601, UTC: when this release was first deployed. */
  date: string;
  /** The git commit of the program that deployed it (GITHUB_SHA, else `git rev-parse HEAD`), or "unknown". */
  commit: string;
  images: Record<ReleaseService, ReleaseImage>;
}

export const KEEP_RELEASES_MIN = 1;
export const KEEP_RELEASES_MAX = 20;

const DIGEST = /@(sha256:[0-9a-f]{64})$/;

/** The digest a pulled reference is pinned to, or null for a tag. */
export function digestOf(image: string): string | null {
  return DIGEST.exec(image)?.[1] ?? null;
}

/** What this deploy runs, per release service: the configured reference and the pulled one. */
export function currentImages(
  configured: Record<ReleaseService, string>,
  pulled: Record<ReleaseService, string>,
): Record<ReleaseService, ReleaseImage> {
  const out = {} as Record<ReleaseService, ReleaseImage>;
  for (const s of RELEASE_SERVICES) {
    out[s] = { reference: configured[s], image: pulled[s], digest: digestOf(pulled[s]) };
  }
  return out;
}

const isString = (v: unknown): v is string => typeof v === "string";

function isReleaseImage(v: unknown): v is ReleaseImage {
  const o = v as Partial<ReleaseImage> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    isString(o.reference) &&
    isString(o.image) &&
    (o.digest === null || isString(o.digest))
  );
}

function isRelease(v: unknown): v is Release {
  const o = v as Partial<Release> | null;
  if (typeof o !== "object" || o === null || !isString(o.date) || !isString(o.commit)) return false;
  const images = o.images as Record<string, unknown> | undefined;
  return (
    typeof images === "object" && images !== null && RELEASE_SERVICES.every((s) => isReleaseImage(images[s]))
  );
}

/**
 * The recorded releases in a stack output's value: undefined on a first deploy (no output yet).
 * An entry of another shape (a future or hand-edited one) is dropped rather than failing the deploy.
 */
export function readReleases(value: unknown): Release[] {
  return Array.isArray(value) ? value.filter(isRelease) : [];
}

/** Same release: every service runs the same pulled image (a new configured spelling of it is not a release). */
export function sameImages(a: Release["images"], b: Release["images"]): boolean {
  return RELEASE_SERVICES.every((s) => a[s].image === b[s].image);
}

/**
 * The releases after this deploy, newest first, at most `keep`: the previous list as it is when
 * the images are the newest entry's, else a new entry (with this date and commit) in front.
 */
export function nextReleases(
  previous: unknown,
  images: Release["images"],
  meta: { date: string; commit: string },
  keep: number,
): Release[] {
  if (!Number.isInteger(keep) || keep < KEEP_RELEASES_MIN || keep > KEEP_RELEASES_MAX)
    throw new Error(`internal: keep must be ${KEEP_RELEASES_MIN}..${KEEP_RELEASES_MAX}, got ${keep}`);
  const prev = readReleases(previous);
  const newest = prev[0];
  const list = newest && sameImages(newest.images, images) ? prev : [{ ...meta, images }, ...prev];
  return list.slice(0, keep);
}

/**
 * Where `pulumi up` writes {@link keptImages} on the server, one reference per line; the weekly
 * prune (scripts/lib/prune-images.sh, installed by install-docker.sh, which gets this path as its
 * argument) spares the images it names.
 */
export const KEPT_IMAGES_FILE = "/var/lib/app-infra/kept-images";

/** The file's text: one reference per line, sorted, ending with a newline (empty list: empty file). */
export function keptImagesFile(releases: readonly Release[]): string {
  return keptImages(releases)
    .map((ref) => `${ref}\n`)
    .join("");
}

/** The image references the host must keep (the prune spares them): every release's pulled images. */
export function keptImages(releases: readonly Release[]): string[] {
  return [...new Set(releases.flatMap((r) => RELEASE_SERVICES.map((s) => r.images[s].image)))].sort();
}
