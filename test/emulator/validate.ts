// Strict request checking. Hetzner's API ignores fields it does not know; the emulator does not:
// a field, query parameter or endpoint it has no rule for is a 400/404 naming it (and is logged),
// so a call the provider starts making is noticed instead of silently faked.
import { ApiError, invalidField } from "./errors";

export type Rule =
  | { type: "string"; required?: boolean; nullable?: boolean; oneOf?: readonly string[] }
  | { type: "integer"; required?: boolean; nullable?: boolean }
  | { type: "number"; required?: boolean; nullable?: boolean }
  | { type: "boolean"; required?: boolean; nullable?: boolean }
  /** hcloud-go's schema.IDOrName: a JSON number (ID) or a string (name; a numeric string is an ID). */
  | { type: "idOrName"; required?: boolean }
  | { type: "labels"; required?: boolean; nullable?: boolean }
  | { type: "array"; required?: boolean; nullable?: boolean; items: Rule }
  | { type: "object"; required?: boolean; nullable?: boolean; fields: Spec }
  /** A field of Hetzner's API that the emulator does not implement: present → 400 saying so. */
  | { type: "unsupported"; why?: string };

export type Spec = Record<string, Rule>;

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]{0,61}[a-zA-Z0-9])?$/;
const LABEL_VALUE = /^([a-zA-Z0-9]([-a-zA-Z0-9_.]{0,61}[a-zA-Z0-9])?)?$/;

function check(value: unknown, rule: Rule, path: string): unknown {
  if (rule.type === "unsupported") {
    throw invalidField(
      path,
      `is part of Hetzner's API but not implemented by the emulator${rule.why ? ` (${rule.why})` : ""}`,
    );
  }
  if (value === null) {
    if ("nullable" in rule && rule.nullable) return null;
    throw invalidField(path, "must not be null");
  }
  switch (rule.type) {
    case "string":
      if (typeof value !== "string") throw invalidField(path, "should be a string");
      if (rule.oneOf && !rule.oneOf.includes(value))
        throw invalidField(path, `should be one of ${rule.oneOf.join(", ")} (got ${value})`);
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value))
        throw invalidField(path, "should be an integer");
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value))
        throw invalidField(path, "should be a number");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw invalidField(path, "should be a boolean");
      return value;
    case "idOrName":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      if (typeof value === "string" && value !== "") return /^\d+$/.test(value) ? Number(value) : value;
      throw invalidField(path, "should be an ID (integer) or a name (string)");
    case "labels": {
      if (typeof value !== "object" || Array.isArray(value))
        throw invalidField(path, "should be an object of string labels");
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") throw invalidField(`${path}.${k}`, "label values should be strings");
        if (!LABEL_KEY.test(k) || k.startsWith("hetzner.cloud/"))
          throw invalidField(path, `invalid label key '${k}'`);
        if (!LABEL_VALUE.test(v)) throw invalidField(path, `invalid label value '${v}' for key '${k}'`);
      }
      return value;
    }
    case "array":
      if (!Array.isArray(value)) throw invalidField(path, "should be an array");
      return value.map((v, i) => check(v, rule.items, `${path}[${i}]`));
    case "object":
      if (typeof value !== "object" || Array.isArray(value)) throw invalidField(path, "should be an object");
      return parseObject(value as Record<string, unknown>, rule.fields, `${path}.`);
  }
}

function parseObject(obj: Record<string, unknown>, spec: Spec, prefix: string): Record<string, unknown> {
  for (const k of Object.keys(obj)) {
    if (!(k in spec))
      throw invalidField(
        `${prefix}${k}`,
        "unknown field (the emulator has no rule for it; see test/emulator/README.md)",
      );
  }
  const out: Record<string, unknown> = {};
  for (const [k, rule] of Object.entries(spec)) {
    const v = obj[k];
    if (v === undefined) {
      if ("required" in rule && rule.required) throw invalidField(`${prefix}${k}`, "is required");
      continue;
    }
    out[k] = check(v, rule, `${prefix}${k}`);
  }
  return out;
}

/** Parses a JSON request body against a spec. An empty body is `{}` (hcloud-go posts no body for some actions). */
export function parseBody(raw: string, spec: Spec): Record<string, any> {
  let obj: unknown = {};
  if (raw.trim() !== "") {
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new ApiError("json_error", `request body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj))
    throw new ApiError("json_error", "request body should be a JSON object");
  return parseObject(obj as Record<string, unknown>, spec, "");
}

/** Query parameters: every name must be allowed; `multi` ones may repeat. */
export function checkQuery(
  q: URLSearchParams,
  allowed: readonly string[],
  multi: readonly string[] = [],
): void {
  const seen = new Set<string>();
  for (const k of q.keys()) {
    if (!allowed.includes(k))
      throw invalidField(k, `unknown query parameter (allowed here: ${allowed.join(", ") || "none"})`);
    if (seen.has(k) && !multi.includes(k)) throw invalidField(k, "given more than once");
    seen.add(k);
  }
}

export function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null) return dflt;
  if (!/^\d+$/.test(v)) throw invalidField(name, "should be an integer");
  const n = Number(v);
  if (n < min || n > max) throw invalidField(name, `should be between ${min} and ${max}`);
  return n;
}

export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v !== "true" && v !== "false") throw invalidField(name, "should be true or false");
  return v === "true";
}
