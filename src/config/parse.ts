// Parses and validates stack config, driven by the key table (keys.ts): each key's value is checked
// against its kind and lands at the field its path names (`services/redis/memoryMb` →
// `cfg.services.redis.memoryMb`), so there is no hand-written mapping to keep in step. What one
// key's kind cannot say is in the cross-key rules below.
import { ConfigError, show } from "./errors";
import { parseJsonExact } from "./json";
import {
  KEYS,
  KEY_BY_PATH,
  SERVICE_NAMES,
  describeKind,
  itemHint,
  type KeyKind,
  type KeyPath,
  type KeySpec,
} from "./keys";
import type { StackConfig, ValueAt } from "./types";

/**
 * Raw stack config: top-level key (without the `app-infra:` namespace) → value. Values may be typed
 * (from a Pulumi.<stack>.yaml file) or strings (from the Pulumi runtime, where objects arrive as JSON).
 * A secret read from a stack file without its decryption key is `{ secure: "..." }`. Keys of other
 * namespaces keep their `namespace:` prefix; the parser looks only for mistakes among them.
 */
export type RawConfig = Record<string, unknown>;

export const PROJECT = "app-infra";

type Leaf = string | number | boolean | string[] | Record<string, string>;
type Coerced = { ok: true; value: Leaf } | { ok: false; problems: string[] };

/** Other namespaces' keys that must never sit in a stack file in plain text. */
const FOREIGN_SECRETS: ReadonlySet<string> = new Set(["hcloud:token"]);

/** Reserved host ports: what already listens there, or why publishing there would hurt. */
const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [22, "sshd's port on the server, and the API rule would open it to everyone past adminCidrs"],
  [6379, "Redis' port: scanners and clients take it for Redis, and Redis must never look reachable"],
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function isSecureMarker(v: unknown): v is { secure: string } {
  return isObject(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
}

/** Objects and lists set with `pulumi config set --path` reach the program as JSON strings. */
function decodeJson(v: unknown): unknown {
  if (typeof v === "string" && /^\s*[[{]/.test(v)) {
    try {
      return parseJsonExact(v);
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * A scalar as a string key's text. `pulumi config set --path` stores a value that parses as an
 * integer as a number and true/false as booleans (pulumi/pulumi sdk/go/common/resource/config,
 * adjustObjectValue), so `alerts.telegramChatId -- -1001234567890` arrives as a number: its decimal
 * text is what the user typed. Integers beyond 2^53 arrive here as their decimal strings already
 * (json.ts, stack-file.ts), so no digit is lost.
 */
function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "boolean") return String(value);
  return undefined;
}

function asInteger(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/** "(got …)", never echoing a secret; a float where text is expected gets a hint. */
function got(spec: KeySpec, value: unknown): string {
  if (spec.secret) return "a value that is hidden because it is secret";
  const text = spec.kind.type === "string";
  const hint =
    text && typeof value === "number" && !Number.isInteger(value) ? "; quote it to keep it as text" : "";
  return `${show(value)}${hint}`;
}

function checkText(kind: { pattern?: RegExp; check?: (s: string) => string | undefined }, text: string) {
  if (kind.pattern && !kind.pattern.test(text)) return { ok: false, why: undefined };
  const why = kind.check?.(text);
  return why === undefined ? { ok: true, why } : { ok: false, why };
}

function coerce(spec: KeySpec, value: unknown): Coerced {
  const kind: KeyKind = spec.kind;
  const bad = (why?: string): Coerced => ({
    ok: false,
    problems: [
      `${spec.path}: should be ${describeKind(kind)} (got ${got(spec, value)})${why ? `: ${why}` : ""}`,
    ],
  });
  switch (kind.type) {
    case "int": {
      const n = asInteger(value);
      return n !== undefined && n >= kind.min && n <= kind.max ? { ok: true, value: n } : bad();
    }
    case "enum": {
      // Only a scalar can match: String(["1"]) is "1", and a list must not pass as the stage.
      if (typeof value !== "string" && typeof value !== "number") return bad();
      const hit = kind.allowed.find((a) => a === value || String(a) === String(value).trim());
      return hit === undefined ? bad() : { ok: true, value: hit };
    }
    case "bool": {
      if (typeof value === "boolean") return { ok: true, value };
      if (value === "true" || value === "false") return { ok: true, value: value === "true" };
      return bad();
    }
    case "string": {
      const text = asText(value);
      if (text === undefined || text.length === 0) return bad();
      const r = checkText(kind, text);
      return r.ok ? { ok: true, value: text } : bad(r.why);
    }
    case "stringList": {
      const list = decodeJson(value);
      if (!Array.isArray(list)) {
        const text = asText(list);
        const example =
          text !== undefined && !spec.secret ? `; a list is written [${JSON.stringify(text)}]` : "";
        return {
          ok: false,
          problems: [`${spec.path}: should be ${describeKind(kind)} (got ${got(spec, value)}${example})`],
        };
      }
      const problems: string[] = [];
      const out: string[] = [];
      list.forEach((item, i) => {
        const text = asText(item);
        const r = text === undefined ? { ok: false, why: undefined } : checkText(kind, text);
        if (r.ok) out.push(text!);
        else
          problems.push(
            `${spec.path}[${i}]: should be ${itemHint(kind)} (got ${spec.secret ? "a hidden value" : show(item)})${r.why ? `: ${r.why}` : ""}`,
          );
      });
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
    }
    case "stringMap": {
      const map = decodeJson(value);
      if (!isObject(map)) return bad();
      const problems: string[] = [];
      const out: Record<string, string> = {};
      for (const [name, v] of Object.entries(map)) {
        const text = asText(v);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          problems.push(
            `${spec.path}: variable name ${JSON.stringify(name)} should be letters, digits and _, not starting with a digit`,
          );
        else if (text === undefined)
          problems.push(`${spec.path}/${name}: should be a string (got ${got(spec, v)})`);
        else out[name] = text;
      }
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
    }
  }
}

const dotted = (path: string) => path.replace(/\//g, ".");

/** The command that sets a secret key: a nested one (`backup/password`) needs `--path`. */
const setSecretCommand = (path: string) =>
  `pulumi config set --secret${path.includes("/") ? " --path" : ""} ${dotted(path)}`;

/** Optimal string alignment distance, small strings only (namespace typos). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** A namespace that is probably a typo of ours (`app-infar`, `appinfra`), not another provider's. */
function looksLikeProject(namespace: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  return namespace !== PROJECT && editDistance(norm(namespace), norm(PROJECT)) <= 2;
}

/** Walks the raw config into a flat `path → value` map, collecting unknown keys and bad values. */
function flatten(raw: RawConfig, fromStackFile: boolean, problems: string[]): Map<string, Leaf> {
  const values = new Map<string, Leaf>();
  const visit = (path: string, value: unknown): void => {
    if (value === undefined) return;
    const spec = KEY_BY_PATH.get(path);
    if (spec) {
      if (isSecureMarker(value)) {
        if (!spec.secret) {
          problems.push(
            `${path}: is stored encrypted, but it is not a secret and the offline plan cannot decrypt it ` +
              `(pulumi config set ${path.includes("/") ? "--path " : ""}${dotted(path)} <value>)`,
          );
        } else if (value.secure === "") {
          problems.push(`${path}: its encrypted value is empty (${setSecretCommand(path)} <value>)`);
        } else values.set(path, "(secret)");
        return;
      }
      if (spec.secret && fromStackFile) {
        // `pulumi config set --secret --path env.NAME value` encrypts each value of a map.
        const plain = isObject(value)
          ? Object.keys(value).filter((k) => !isSecureMarker(value[k]))
          : undefined;
        if (spec.kind.type === "stringMap" && plain?.length === 0) values.set(path, "(secret)");
        else if (plain && plain.length > 0 && spec.kind.type === "stringMap")
          for (const k of plain)
            problems.push(
              `${path}/${k}: must be stored encrypted: pulumi config set --secret --path ${dotted(path)}.${k} <value>`,
            );
        else problems.push(`${path}: must be stored encrypted: ${setSecretCommand(path)} <value>`);
        return;
      }
      const result = coerce(spec, value);
      if (result.ok) values.set(path, result.value);
      else problems.push(...result.problems);
      return;
    }
    const decoded = decodeJson(value);
    const isPrefix = KEYS.some((k) => k.path.startsWith(`${path}/`));
    if (isPrefix && isObject(decoded)) {
      for (const [child, v] of Object.entries(decoded)) visit(`${path}/${child}`, v);
      return;
    }
    if (isPrefix) {
      const children = KEYS.filter((k) => k.path.startsWith(`${path}/`)).map(
        (k) => k.path.slice(path.length + 1).split("/")[0]!,
      );
      problems.push(
        `${path}: should be an object with keys ${[...new Set(children)].join(", ")} (got ${show(value)})`,
      );
      return;
    }
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    const siblings = [
      ...new Set(
        KEYS.filter((k) => (parent === "" ? true : k.path.startsWith(`${parent}/`))).map(
          (k) => (parent === "" ? k.path : k.path.slice(parent.length + 1)).split("/")[0]!,
        ),
      ),
    ];
    problems.push(`${path}: unknown key (known${parent ? ` under ${parent}` : ""}: ${siblings.join(", ")})`);
  };
  for (const [key, value] of Object.entries(raw)) {
    const colon = key.indexOf(":");
    if (colon < 0) {
      visit(key, value);
      continue;
    }
    // Another namespace's key: a provider's (hcloud:, docker:) is not ours to judge, except a
    // plaintext token, and a near miss of our own namespace is a typo Pulumi would silently keep.
    const namespace = key.slice(0, colon);
    if (looksLikeProject(namespace))
      problems.push(
        `${key}: unknown namespace "${namespace}" (did you mean ${PROJECT}:${key.slice(colon + 1)}?)`,
      );
    else if (fromStackFile && FOREIGN_SECRETS.has(key) && !isSecureMarker(value))
      problems.push(`${key}: must be stored encrypted: pulumi config set --secret ${key} <value>`);
  }
  return values;
}

/** Builds StackConfig from the validated values: every key lands at the field its path names. */
function build(stack: string, v: ReadonlyMap<string, Leaf>): StackConfig {
  const out: Record<string, unknown> = { stack, secrets: {} };
  for (const spec of KEYS) {
    if (spec.secret) {
      (out.secrets as Record<string, boolean>)[spec.path] = v.has(spec.path);
      continue;
    }
    const value = v.get(spec.path) ?? spec.default;
    const parts = spec.path.split("/");
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    // A list default is shared and frozen by `as const`: each config gets its own copy.
    node[parts[parts.length - 1]!] = Array.isArray(value) ? [...(value as readonly string[])] : value;
  }
  // Both or neither, by the cross-key rule below.
  const registry = out.registry as { server?: string; username?: string };
  out.registry = registry.server && registry.username ? registry : undefined;
  return out as StackConfig;
}

/**
 * Parses and validates stack config. Pure: the only input is the raw map. Throws one ConfigError
 * listing every problem, before anything else runs.
 */
export function parseConfig(
  stack: string,
  raw: RawConfig,
  opts: { fromStackFile?: boolean } = {},
): StackConfig {
  const problems: string[] = [];
  const v = flatten(raw, opts.fromStackFile ?? false, problems);
  for (const spec of KEYS) {
    if (
      spec.required &&
      !v.has(spec.path) &&
      !problems.some((p) => p.startsWith(`${spec.path}:`) || p.startsWith(`${spec.path}[`))
    ) {
      problems.push(
        `${spec.path}: is required, ${describeKind(spec.kind)} (pulumi config set ${spec.path} <value>)`,
      );
    }
  }
  /** The value a key resolved to (its literal default when unset), typed by the key's kind. */
  const get = <P extends KeyPath>(path: P): ValueAt<P> | undefined =>
    (v.get(path) ?? KEY_BY_PATH.get(path)!.default) as ValueAt<P> | undefined;

  // Cross-key rules that a single key's type cannot express.
  for (const service of SERVICE_NAMES) {
    const memory = v.get(`services/${service}/memoryMb`) as number | undefined;
    const reservation = v.get(`services/${service}/reservationMb`) as number | undefined;
    if (memory !== undefined && reservation !== undefined && reservation > memory) {
      problems.push(
        `services/${service}/reservationMb: should be at most services/${service}/memoryMb (${memory}) (got ${reservation})`,
      );
    }
  }
  const registryServer = get("registry/server");
  const registryUser = get("registry/username");
  if ((registryServer === undefined) !== (registryUser === undefined)) {
    problems.push(
      `registry: set both registry/server and registry/username (got ${registryServer ? "only server" : "only username"})`,
    );
  }
  if (registryServer !== undefined && !v.has("registryPassword")) {
    problems.push(
      "registryPassword: is required when registry/server is set (pulumi config set --secret registryPassword <token>)",
    );
  }

  if (
    get("backup/enabled") &&
    get("backup/repository") === undefined &&
    !problems.some((p) => p.startsWith("backup/repository:"))
  )
    problems.push(
      "backup/repository: is required when backup/enabled is true " +
        "(pulumi config set --path backup.repository s3:https://fsn1.your-objectstorage.com/<bucket>/redis)",
    );

  // A certificate is issued for a name: `tls: true` alone has none to ask for.
  if (get("tls") === true && get("domain") === undefined && !problems.some((p) => p.startsWith("domain:")))
    problems.push(
      "tls: true needs domain, the name the certificate is issued for (got tls true and no domain); " +
        "set domain (pulumi config set domain api.example.com) or remove tls (pulumi config rm tls)",
    );
  // The API's port is published on the host, and the firewall opens it to everyone when public.
  // (It is the only configurable port today; a second one would also be checked against it.)
  const apiPort = get("services/api/port")!;
  const reserved = RESERVED_PORTS.get(apiPort);
  if (reserved)
    problems.push(
      `services/api/port: ${apiPort} is ${reserved} (got ${apiPort}); use another port, e.g. 8000`,
    );
  if (v.has("adminCidrs") && get("adminCidrs")!.length === 0) {
    problems.push(
      "adminCidrs: needs at least one CIDR block (got []): Pulumi itself reaches the server over SSH; allow your and your CI's addresses, or 0.0.0.0/0 and ::/0 (key-only login)",
    );
  }
  const target = get("target");
  if (target === "local") {
    const ignored = KEYS.filter((k) => k.hetznerOnly && v.has(k.path)).map((k) => k.path);
    for (const path of ignored)
      problems.push(
        `${path}: applies only to target hetzner, and this stack's target is local; remove it from the stack ` +
          `(pulumi config rm ${path.includes("/") ? "--path " : ""}${dotted(path)})`,
      );
  }
  // Stage 4 moves the workers to worker nodes: their keys mean nothing on one box, and `workers`
  // (the one box's worker count) means nothing on stage 4.
  const stage = get("stage");
  if (stage !== undefined && stage !== 4) {
    for (const k of KEYS.filter((k) => k.stage4Only && v.has(k.path)))
      problems.push(
        `${k.path}: applies only to stage 4 (worker nodes), and this stack's stage is ${stage}; ` +
          `remove it (pulumi config rm ${k.path.includes("/") ? "--path " : ""}${dotted(k.path)}) or set stage 4`,
      );
  }
  if (stage === 4) {
    if (v.has("workers"))
      problems.push(
        `workers: on stage 4 the workers run on the worker nodes (got workers ${get("workers")}); ` +
          "set workersPerNode instead (pulumi config rm workers && pulumi config set workersPerNode <n>)",
      );
    // app-infra-<stack>-worker-<n> must stay a 63-character host name, as the core's does.
    if (stack.length > 43)
      problems.push(
        `stack name "${stack}" is too long for stage 4's worker nodes (app-infra-${stack}-worker-20): ` +
          "at most 43 characters (pulumi stack rename)",
      );
    if (target === "local")
      problems.push(
        "stage: 4 needs target hetzner: its worker nodes are servers on a Hetzner private network (got target local); " +
          "use stage 1-3 locally",
      );
  }
  // The server is named app-infra-<stack>, and Hetzner server names must be RFC 1123 hostnames.
  if (target === "hetzner" && !/^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$/i.test(stack)) {
    problems.push(
      `stack name "${stack}" cannot name a Hetzner server (app-infra-${stack}): use letters, digits and dashes, ` +
        "at most 53 characters, starting and ending with a letter or digit (pulumi stack rename)",
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return build(stack, v);
}

/**
 * Strips the project namespace from Pulumi config keys. Keys of other namespaces keep their prefix
 * (`hcloud:token`): the parser ignores them, but for a plaintext token or a near miss of ours.
 */
export function projectKeys(all: Record<string, unknown>): RawConfig {
  const out: RawConfig = {};
  for (const [key, value] of Object.entries(all)) {
    const name = key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key;
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
