// Reads a Pulumi.<stack>.yaml the way the offline `plan` needs it: no Pulumi CLI, no passphrase.
// Encrypted values stay `{ secure: ... }` markers: the plan only needs to know they are set.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "./errors";
import { projectKeys, type RawConfig } from "./parse";

export function readStackFile(dir: string, stack: string): RawConfig {
  const file = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new ConfigError([
      `--stack: no file Pulumi.${stack}.yaml in ${dir} (create it with: pulumi stack init ${stack})`,
    ]);
  }
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  return projectKeys(doc?.config ?? {});
}

/**
 * Applies `--set key=value` overrides. Keys are paths with `/` or `.` (`services/redis/memoryMb`);
 * values are JSON when they parse as JSON (numbers, booleans, lists), strings otherwise.
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
    const path = item
      .slice(0, eq)
      .replace(/^app-infra:/, "")
      .split(/[/.]/);
    const text = item.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a plain string
    }
    let node = out as Record<string, unknown>;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
