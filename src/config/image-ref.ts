// Docker image references, checked as Docker itself parses them before a pull, so a reference the
// daemon would refuse is refused here, naming the key, before any resource exists.
//
// The grammar and the normalisation are those of distribution/reference (reference.go's grammar
// comment, regexp.go, normalize.go ParseNormalizedNamed; the module moby and the Docker provider
// use), restated here:
//   reference  := name [":" tag] ["@" digest]
//   name       := [domain "/"] path-component ["/" path-component]*
//   domain     := (domain-name | "[" IPv6 "]") [":" port]
//   path-component := [a-z0-9]+ ([._] | "__" | "-"+ ) [a-z0-9]+ ...   (lower case only)
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex{32,}; the algorithm must be one Docker knows (go-digest:
//                 sha256, sha384, sha512), with lower-case hex of its exact length.
// The repository path is at most 255 characters; a bare 64-hex string is an image ID, not a name.
// No npm package was a better fit: @swimlane/docker-reference 2.0.1 ports an older grammar (a
// separator of `-*`, no bracketed IPv6 hosts) and has had one release since 2023;
// parse-docker-image-name is LGPL and does not check the grammar.

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|-+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_AND_PORT = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^((?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const MAX_PATH = 255;

export interface ImageReference {
  /** The registry, `docker.io` for Docker Hub names such as `redis`. */
  domain: string;
  /** The repository path, `library/redis` for an official image. */
  path: string;
  tag?: string;
  digest?: string;
}

export type ParsedImage = { ok: true; ref: ImageReference } | { ok: false; why: string };

/** Splits a familiar name into registry and remainder, as Docker's normalisation does. */
function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  if (slash < 0) return { domain: "docker.io", remainder: `library/${name}` };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain = "docker.io";
  let remainder = name;
  if (first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first) {
    domain = first === "index.docker.io" ? "docker.io" : first;
    remainder = rest;
  }
  if (domain === "docker.io" && !remainder.includes("/")) remainder = `library/${remainder}`;
  return { domain, remainder };
}

/** Why Docker would refuse this reference, in words that point at the fix. */
function grammarProblem(s: string): string {
  const afterSlash = s.slice(s.lastIndexOf("/") + 1).split("@")[0]!;
  const colons = afterSlash.split(":").length - 1;
  if (colons > 1) return `only one :tag may follow the repository name (got "${afterSlash}")`;
  if (colons === 1 && afterSlash.split(":")[1]!.length > 128) return "the tag is longer than 128 characters";
  if (/\/\/|^\/|\/$/.test(s.split("@")[0]!)) return "it has an empty path component";
  return "it does not follow Docker's grammar name[:tag][@digest]";
}

/** Parses `text` as Docker's ParseNormalizedNamed would, or says why Docker would refuse it. */
export function parseImageReference(text: string): ParsedImage {
  if (text === "") return { ok: false, why: "it is empty" };
  if (/^[a-f0-9]{64}$/.test(text))
    return { ok: false, why: "a 64-character hex string is an image ID, which Docker refuses as a name" };
  if (/\s/.test(text)) return { ok: false, why: "it contains white space" };
  const { domain, remainder } = splitDomain(text);
  const remote = remainder.split(":")[0]!.split("@")[0]!;
  if (remote.toLowerCase() !== remote) {
    // Named as the user wrote it, without the library/ that Docker Hub names get.
    const written = text.endsWith(remainder) ? remote : remote.replace(/^library\//, "");
    return { ok: false, why: `the repository path "${written}" must be lower case` };
  }
  const full = `${domain}/${remainder}`;
  const m = REFERENCE.exec(full);
  if (!m) return { ok: false, why: grammarProblem(text) };
  const name = NAME.exec(m[1]!)!;
  const path = name[2]!;
  if (path.length > MAX_PATH)
    return { ok: false, why: `the repository path is ${path.length} characters, more than ${MAX_PATH}` };
  const digest = m[3];
  if (digest !== undefined) {
    const [algorithm, hex] = digest.split(":") as [string, string];
    const length = DIGEST_HEX_LENGTH[algorithm];
    if (length === undefined)
      return {
        ok: false,
        why: `digest algorithm "${algorithm}" is not one Docker knows (sha256, sha384, sha512)`,
      };
    if (!new RegExp(`^[a-f0-9]{${length}}$`).test(hex))
      return { ok: false, why: `a ${algorithm} digest is ${length} lower-case hex digits` };
  }
  return { ok: true, ref: { domain: name[1] ?? domain, path, tag: m[2], digest } };
}

/** Why `text` is not an image reference Docker would pull, or undefined when it is one. */
export function imageReferenceProblem(text: string): string | undefined {
  const parsed = parseImageReference(text);
  return parsed.ok ? undefined : parsed.why;
}

/**
 * Advice for images/redis: the program's Redis settings (AOF, noeviction, the memory rules) are
 * written for Redis 7, and Redis 8 changed its license and defaults, so an unpinned or non-7 tag
 * deserves a warning. For the plan's warnings; undefined when the image is pinned to 7.x or by
 * digest.
 */
export function redisImageAdvice(text: string): string | undefined {
  const parsed = parseImageReference(text);
  if (!parsed.ok || parsed.ref.digest) return undefined;
  const tag = parsed.ref.tag;
  if (tag !== undefined && /^7(\.\d+)*([-_].*)?$/.test(tag)) return undefined;
  const what = tag === undefined ? "has no tag (Docker pulls :latest)" : `is tagged "${tag}"`;
  return (
    `images/redis: "${text}" ${what}, not a Redis 7.x release: the program's Redis settings are written for 7.x ` +
    "and a moving tag changes Redis under a running queue; pin a 7.x tag such as redis:7.4.6-alpine"
  );
}
