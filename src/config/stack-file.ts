// Reads a Pulumi.<stack>.yaml the way the offline `plan` needs it: no Pulumi CLI, no passphrase.
// Encrypted values stay `{ secure: ... }` markers: the plan only needs to know they are set.
// A file that is missing, is not YAML or is not shaped like a stack file is a StackFileError whose
// every line names the file (and the line and column where the YAML parser knows them).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { isMap, LineCounter, parseDocument } from "yaml";
import { ConfigError, show, StackFileError } from "./errors";
import { parseJsonExact } from "./json";
import { projectKeys, type RawConfig } from "./parse";

/** The file as a user would type it: relative to the working directory when inside it. */
function displayName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/**
 * YAML integers as the stack's values: a number when it is exact in a double, else its decimal
 * string (a 19-digit id must not lose digits; the parser reads it as text or refuses it by range).
 */
function exactIntegers(value: unknown): unknown {
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(exactIntegers);
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, {
        value: exactIntegers(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

/**
 * Parses the text of a stack file (read from disk, or from `git show <ref>:Pulumi.<stack>.yaml`).
 * `file` names it in errors. Throws StackFileError for YAML errors and for a file whose top level is
 * not a mapping or whose `config:` is not a mapping.
 */
export function parseStackYaml(text: string, file: string): RawConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, intAsBigInt: true });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0)
    throw new StackFileError(
      file,
      doc.errors.map((e) => `${at(e.pos[0])}: ${e.message}`),
    );
  const root = doc.contents;
  if (root === null || (root as { value?: unknown }).value === null) return {};
  if (!isMap(root)) {
    throw new StackFileError(file, [
      `${at(root.range?.[0] ?? 0)}: is not a Pulumi stack file: its top level should be a mapping with a config: mapping ` +
        `(got ${show(exactIntegers(doc.toJS()))})`,
    ]);
  }
  const config = root.get("config", true);
  if (config === undefined || (config as { value?: unknown }).value === null) return {};
  if (!isMap(config)) {
    throw new StackFileError(file, [
      `${at((config as { range?: [number] }).range?.[0] ?? 0)}: config: should be a mapping of key: value ` +
        `such as app-infra:stage: 1 (got ${show(exactIntegers((config as { toJSON(): unknown }).toJSON()))})`,
    ]);
  }
  // Pulumi parses every key of a stack file as <namespace>:<name> and refuses the file otherwise
  // (pulumi/pulumi sdk/go/common/resource/config/key.go, ParseKey).
  const bare = config.items.flatMap((pair) => {
    const key = pair.key as { value?: unknown; range?: [number] } | null;
    const name = String(key?.value ?? "");
    return name.includes(":")
      ? []
      : [
          `${at(key?.range?.[0] ?? 0)}: ${name}: Pulumi refuses a config key without its namespace; write app-infra:${name}`,
        ];
  });
  if (bare.length > 0) throw new StackFileError(file, bare);
  return projectKeys(exactIntegers(config.toJS(doc)) as Record<string, unknown>);
}

export function readStackFile(dir: string, stack: string): RawConfig {
  const file = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    const stacks = readdirSync(dir)
      .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    throw new StackFileError(displayName(file), [
      `--stack: no file Pulumi.${stack}.yaml in ${dir} ` +
        `(${stacks.length > 0 ? `stacks here: ${stacks.join(", ")}; ` : ""}create it with: pulumi stack init ${stack})`,
    ]);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    // A directory, a file without read permission: the user's setup, not a bug of ours.
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new StackFileError(displayName(file), [
      `${displayName(file)}: cannot be read (${code}): it should be a readable YAML file`,
    ]);
  }
  return parseStackYaml(text, displayName(file));
}

type Segment = string | number;

/**
 * Splits a `--set` key into path segments. Takes Pulumi's `--path` syntax (`services.redis.memoryMb`,
 * `adminCidrs[0]`, `env["A.B"]`) and the `/` form of error messages (`services/redis/memoryMb`).
 */
function splitPath(key: string): Segment[] | string {
  const token = /([^./[\]]+)|([./])|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/y;
  const segments: Segment[] = [];
  let needName = true;
  let i = 0;
  while (i < key.length) {
    token.lastIndex = i;
    const m = token.exec(key);
    if (!m) return `an unexpected "${key[i]}" at character ${i + 1}`;
    i = token.lastIndex;
    if (m[2] !== undefined) {
      if (needName) return "an empty key name";
      needName = true;
    } else if (m[1] !== undefined) {
      if (!needName) return `"${m[1]}" right after ]: put a . before it`;
      segments.push(m[1]);
      needName = false;
    } else if (m[3] !== undefined) {
      if (needName) return segments.length === 0 ? "no key name before [" : "an empty key name";
      segments.push(Number(m[3]));
    } else {
      if (needName && segments.length > 0) return "an empty key name";
      segments.push(JSON.parse(`"${m[4]}"`) as string);
      needName = false;
    }
  }
  return needName ? "an empty key name" : segments;
}

/**
 * A `--set` value as `pulumi config set --path` would store it: true/false as booleans, an integer
 * without a leading zero as a number (pulumi/pulumi sdk/go/common/resource/config, adjustObjectValue),
 * a JSON list or object as that list or object; anything else as text.
 */
function parseValue(text: string): unknown {
  if (text === "true" || text === "false") return text === "true";
  if (/^-?(0|[1-9]\d*)$/.test(text)) return parseJsonExact(text);
  if (/^\s*[[{]/.test(text)) {
    try {
      return parseJsonExact(text);
    } catch {
      // Not JSON after all: kept as text, below.
    }
  }
  return text;
}

const setOwn = (node: object, key: Segment, value: unknown) =>
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });

/**
 * Applies `--set key=value` overrides. Keys are paths with `.`, `/` and `[index]`
 * (`services.redis.memoryMb`, `adminCidrs[0]`); values are read as `pulumi config set --path` would.
 */
export function applyOverrides(raw: RawConfig, sets: readonly string[]): RawConfig {
  const out: RawConfig = structuredClone(raw);
  const problems: string[] = [];
  for (const item of sets) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      problems.push(`--set: should be key=value (got ${JSON.stringify(item)})`);
      continue;
    }
    const key = item.slice(0, eq).replace(/^app-infra:/, "");
    const path = splitPath(key);
    if (typeof path === "string") {
      problems.push(
        `--set: ${JSON.stringify(key)} has ${path} (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)`,
      );
      continue;
    }
    let node: Record<string | number, unknown> = out;
    for (let s = 0; s < path.length; s++) {
      const seg = path[s]!;
      const last = s === path.length - 1;
      if (typeof seg === "number") {
        const list = node as unknown as unknown[];
        if (seg > list.length) {
          const listKey = key.slice(0, key.lastIndexOf("["));
          problems.push(
            `--set: ${key} is past the end of ${listKey}, which has ${list.length} entr${list.length === 1 ? "y" : "ies"} (the next is ${listKey}[${list.length}])`,
          );
          break;
        }
      }
      if (last) {
        setOwn(node, seg, parseValue(item.slice(eq + 1)));
        break;
      }
      const wantList = typeof path[s + 1] === "number";
      let next = Object.prototype.hasOwnProperty.call(node, seg) ? node[seg] : undefined;
      if (typeof next === "string") {
        // The runtime form of a list or object (JSON text) becomes the value itself.
        try {
          next = parseJsonExact(next);
        } catch {
          // not JSON: replaced below
        }
      }
      const fits = wantList
        ? Array.isArray(next)
        : typeof next === "object" && next !== null && !Array.isArray(next);
      if (!fits) next = wantList ? [] : {};
      setOwn(node, seg, next);
      node = next as Record<string | number, unknown>;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
