// List endpoints: Hetzner's label selectors, sorting and pagination, as the public API reference
// describes them ("Label Selector", "Sorting", "Pagination"; meta shape from hcloud-go v2.35.0
// hcloud/schema/meta.go). Defaults: 25 per page, at most 50.
import { invalidField } from "./errors";
import { intParam } from "./validate";

type Labels = Record<string, string>;
type Term = (labels: Labels) => boolean;

/** Splits on commas outside parentheses: `a in (x,y),!b` → ["a in (x,y)", "!b"]. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== "");
}

export function parseLabelSelector(selector: string): (labels: Labels) => boolean {
  const terms: Term[] = splitTerms(selector).map((t) => {
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, k, op, list] = m;
      const vals = list!.split(",").map((v) => v.trim());
      return op === "in"
        ? (l) => l[k!] !== undefined && vals.includes(l[k!]!)
        : (l) => l[k!] === undefined || !vals.includes(l[k!]!);
    }
    if ((m = t.match(/^([^\s!=]+)\s*!=\s*(\S*)$/))) {
      const [, k, v] = m;
      return (l) => l[k!] !== v;
    }
    if ((m = t.match(/^([^\s!=]+)\s*==?\s*(\S*)$/))) {
      const [, k, v] = m;
      return (l) => l[k!] === v;
    }
    if ((m = t.match(/^!([^\s!=]+)$/))) {
      const k = m[1]!;
      return (l) => l[k] === undefined;
    }
    if ((m = t.match(/^([^\s!=()]+)$/))) {
      const k = m[1]!;
      return (l) => l[k] !== undefined;
    }
    throw invalidField("label_selector", `cannot parse '${t}'`);
  });
  return (labels) => terms.every((f) => f(labels));
}

/** `sort=field[:asc|:desc]`, repeatable; only the fields given are allowed. */
export function sortItems<T>(
  items: T[],
  sorts: string[],
  keys: Record<string, (t: T) => string | number>,
): T[] {
  if (sorts.length === 0) return [...items].sort((a, b) => cmp(keys.id!(a), keys.id!(b)));
  const parsed = sorts.map((s) => {
    const [field, dir = "asc"] = s.split(":");
    if (!field || !(field in keys) || (dir !== "asc" && dir !== "desc")) {
      throw invalidField(
        "sort",
        `cannot sort by '${s}' (allowed: ${Object.keys(keys)
          .map((k) => `${k}[:asc|:desc]`)
          .join(", ")})`,
      );
    }
    return { key: keys[field]!, sign: dir === "asc" ? 1 : -1 };
  });
  return [...items].sort((a, b) => {
    for (const p of parsed) {
      const c = cmp(p.key(a), p.key(b));
      if (c !== 0) return c * p.sign;
    }
    return 0;
  });
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

export interface Pagination {
  page: number;
  per_page: number;
  previous_page: number | null;
  next_page: number | null;
  last_page: number;
  total_entries: number;
}

export function paginate<T>(items: T[], q: URLSearchParams): { page: T[]; meta: { pagination: Pagination } } {
  const perPage = intParam(q, "per_page", 25, 1, 50);
  const page = intParam(q, "page", 1, 1, 1_000_000);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    meta: {
      pagination: {
        page,
        per_page: perPage,
        previous_page: page > 1 ? Math.min(page - 1, lastPage) : null,
        next_page: page < lastPage ? page + 1 : null,
        last_page: lastPage,
        total_entries: items.length,
      },
    },
  };
}
