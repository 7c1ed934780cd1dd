import { cidrProblem } from "./cidr";
import { ConfigError, show } from "./errors";
import { KEYS, KEY_BY_PATH, describeKind, type KeySpec } from "./keys";
import type { StackConfig } from "./types";

/**
 * Raw stack config: top-level key (without the `app-infra:` namespace) → value. Values may be typed
 * (from a Pulumi.<stack>.yaml file) or strings (from the Pulumi runtime, where objects arrive as JSON).
 * A secret read from a stack file without its decryption key is `{ secure: "..." }`.
 */
export type RawConfig = Record<string, unknown>;

export const PROJECT = "app-infra";

type Leaf = string | number | boolean | string[] | Record<string, string>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSecureMarker(v: unknown): boolean {
  return isObject(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
}

/** Objects and lists set with `pulumi config set --path` reach the program as JSON strings. */
function decodeJson(v: unknown): unknown {
  if (typeof v === "string" && /^\s*[[{]/.test(v)) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

function coerce(spec: KeySpec, value: unknown): { ok: true; value: Leaf } | { ok: false } {
  const kind = spec.kind;
  switch (kind.type) {
    case "int": {
      const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n === "number" && Number.isInteger(n) && n >= kind.min && n <= kind.max)
        return { ok: true, value: n };
      return { ok: false };
    }
    case "enum": {
      const hit = kind.allowed.find((a) => a === value || String(a) === String(value).trim());
      return hit === undefined ? { ok: false } : { ok: true, value: hit };
    }
    case "bool": {
      if (typeof value === "boolean") return { ok: true, value };
      if (value === "true" || value === "false") return { ok: true, value: value === "true" };
      return { ok: false };
    }
    case "string": {
      if (typeof value !== "string" || value.length === 0) return { ok: false };
      if (kind.pattern && !kind.pattern.test(value)) return { ok: false };
      return { ok: true, value };
    }
    case "stringList": {
      const list = decodeJson(value);
      if (
        !Array.isArray(list) ||
        !list.every((s) => typeof s === "string" && (!kind.pattern || kind.pattern.test(s)))
      ) {
        return { ok: false };
      }
      return { ok: true, value: list as string[] };
    }
    case "stringMap": {
      const map = decodeJson(value);
      if (
        !isObject(map) ||
        !Object.entries(map).every(([k, v]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && typeof v === "string")
      ) {
        return { ok: false };
      }
      return { ok: true, value: map as Record<string, string> };
    }
  }
}

/** Walks the raw config into a flat `path → value` map, collecting unknown keys and bad values. */
function flatten(raw: RawConfig, fromStackFile: boolean, problems: string[]): Map<string, Leaf> {
  const values = new Map<string, Leaf>();
  const visit = (path: string, value: unknown): void => {
    if (value === undefined) return;
    const spec = KEY_BY_PATH.get(path);
    if (spec) {
      if (spec.secret) {
        if (isSecureMarker(value)) {
          values.set(path, "(secret)");
          return;
        }
        if (fromStackFile) {
          problems.push(
            `${path}: must be stored encrypted: pulumi config set --secret ${path.replace(/\//g, ".")} <value>`,
          );
          return;
        }
      }
      const result = coerce(spec, value);
      if (result.ok) values.set(path, result.value);
      // A secret's value is never echoed, not even in an error.
      else
        problems.push(
          `${path}: should be ${describeKind(spec.kind)} (got ${spec.secret ? "a value that is hidden because it is secret" : show(value)})`,
        );
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
  for (const [key, value] of Object.entries(raw)) visit(key, value);
  return values;
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
    if (spec.required && !v.has(spec.path) && !problems.some((p) => p.startsWith(`${spec.path}:`))) {
      problems.push(
        `${spec.path}: is required, ${describeKind(spec.kind)} (pulumi config set ${spec.path} <value>)`,
      );
    }
  }
  const get = <T extends Leaf>(path: string): T | undefined => {
    if (!KEY_BY_PATH.has(path)) throw new Error(`internal: no config key ${path}`);
    return (v.get(path) ?? KEY_BY_PATH.get(path)!.default) as T | undefined;
  };

  // Cross-key rules that a single key's type cannot express.
  for (const service of ["redis", "api", "bot", "worker"] as const) {
    const memory = v.get(`services/${service}/memoryMb`) as number | undefined;
    const reservation = v.get(`services/${service}/reservationMb`) as number | undefined;
    if (memory !== undefined && reservation !== undefined && reservation > memory) {
      problems.push(
        `services/${service}/reservationMb: should be at most services/${service}/memoryMb (${memory}) (got ${reservation})`,
      );
    }
  }
  const registryServer = get<string>("registry/server");
  const registryUser = get<string>("registry/username");
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

  // The firewall opens the API port to everyone: on 22 that would be sshd, past adminCidrs.
  if (v.get("services/api/port") === 22) {
    problems.push(
      "services/api/port: 22 is sshd's port on the server, and the API rule would open it to everyone past adminCidrs (got 22); use another port, e.g. 8000",
    );
  }
  const cidrs = v.get("adminCidrs") as string[] | undefined;
  if (cidrs !== undefined && cidrs.length === 0) {
    problems.push(
      "adminCidrs: needs at least one CIDR block (got []): Pulumi itself reaches the server over SSH; allow your and your CI's addresses, or 0.0.0.0/0 and ::/0 (key-only login)",
    );
  }
  for (const cidr of (v.get("adminCidrs") as string[] | undefined) ?? []) {
    const why = cidrProblem(cidr);
    if (why) problems.push(`adminCidrs: "${cidr}" ${why}`);
  }
  // The server is named app-infra-<stack>, and Hetzner server names must be RFC 1123 hostnames.
  if (get<string>("target") === "hetzner" && !/^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$/i.test(stack)) {
    problems.push(
      `stack name "${stack}" cannot name a Hetzner server (app-infra-${stack}): use letters, digits and dashes, ` +
        "at most 53 characters, starting and ending with a letter or digit (pulumi stack rename)",
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const num = (path: string) => get<number>(path);
  const service = (name: string) => ({
    memoryMb: num(`services/${name}/memoryMb`),
    reservationMb: num(`services/${name}/reservationMb`),
    swapMb: num(`services/${name}/swapMb`),
  });
  return {
    stack,
    stage: get<number>("stage") as 1 | 2 | 3,
    target: get<string>("target") as StackConfig["target"],
    location: get<string>("location")!,
    server: {
      type: get<string>("server/type"),
      cores: num("server/cores"),
      memoryGb: num("server/memoryGb"),
      diskGb: num("server/diskGb"),
      architecture: get<string>("server/architecture") as StackConfig["server"]["architecture"],
      keepDisk: get<boolean>("server/keepDisk")!,
      backups: get<boolean>("server/backups")!,
      protect: get<boolean>("server/protect")!,
    },
    swapGb: num("swapGb"),
    swappiness: num("swappiness")!,
    systemReserveMb: num("systemReserveMb")!,
    workers: num("workers"),
    users: num("users")!,
    perUserMb: num("perUserMb")!,
    images: {
      api: get<string>("images/api")!,
      bot: get<string>("images/bot")!,
      worker: get<string>("images/worker")!,
      redis: get<string>("images/redis")!,
    },
    imageDigests: get<string>("imageDigests") as StackConfig["imageDigests"],
    services: {
      redis: {
        ...service("redis"),
        maxmemoryMb: num("services/redis/maxmemoryMb"),
        maxmemoryPolicy: get<string>("services/redis/maxmemoryPolicy")!,
        appendonly: get<boolean>("services/redis/appendonly")!,
      },
      api: {
        ...service("api"),
        workers: num("services/api/workers")!,
        limitConcurrency: num("services/api/limitConcurrency")!,
        port: num("services/api/port")!,
        public: get<boolean>("services/api/public")!,
        healthPath: get<string>("services/api/healthPath")!,
      },
      bot: service("bot"),
      worker: {
        ...service("worker"),
        queue: get<string>("services/worker/queue")!,
        maxJobs: num("services/worker/maxJobs")!,
      },
    },
    adminCidrs: [...(get<string[]>("adminCidrs") ?? [])],
    adminSshKeys: [...(get<string[]>("adminSshKeys") ?? [])],
    registry: registryServer && registryUser ? { server: registryServer, username: registryUser } : undefined,
    alerts: {
      memoryPercent: num("alerts/memoryPercent")!,
      swapPercent: num("alerts/swapPercent")!,
      cpuPercent: num("alerts/cpuPercent")!,
      queueLength: num("alerts/queueLength")!,
      apiLatencyMs: num("alerts/apiLatencyMs")!,
      redisMemoryPercent: num("alerts/redisMemoryPercent")!,
      forMinutes: num("alerts/forMinutes")!,
      repeatMinutes: num("alerts/repeatMinutes")!,
      intervalS: num("alerts/intervalS")!,
      telegramChatId: get<string>("alerts/telegramChatId"),
    },
    secrets: {
      botToken: v.has("botToken"),
      falKey: v.has("falKey"),
      env: v.has("env"),
      registryPassword: v.has("registryPassword"),
      alertWebhookUrl: v.has("alertWebhookUrl"),
      deployPrivateKey: v.has("deployPrivateKey"),
    },
  };
}

/** Strips the project namespace from Pulumi config keys; other namespaces (hcloud:, docker:) are not ours. */
export function projectKeys(all: Record<string, unknown>): RawConfig {
  const out: RawConfig = {};
  for (const [key, value] of Object.entries(all)) {
    if (key.startsWith(`${PROJECT}:`)) out[key.slice(PROJECT.length + 1)] = value;
    else if (!key.includes(":")) out[key] = value;
  }
  return out;
}
