// Renamed resources, through the real engine: a stack deployed before a rename must move to the new
// name without replacing anything. The plan lists each host step's former names (src/plan/host.ts,
// `formerNames`); the program gives the resource an alias to each (components/host.ts). The lab
// turns the live state back into the old names (`pulumi stack export`, the URNs rewritten,
// `pulumi stack import`), which is what a stack deployed by the earlier code holds, then previews
// and ups the current tree: every renamed resource must be kept, none created, deleted or replaced.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Deployed } from "../context";
import type { Results } from "../results";

/** The host component's name in index.ts (`new Host("host", …)`). */
const HOST_COMPONENT = "host";

export interface Rename {
  from: string;
  to: string;
}

/** Each host step's former resource names, as the program aliases them. */
export function plannedRenames(d: Pick<Deployed, "plan">): Rename[] {
  return (d.plan.host?.steps ?? []).flatMap((s) =>
    s.formerNames.map((old) => ({ from: `${HOST_COMPONENT}-${old}`, to: `${HOST_COMPONENT}-${s.name}` })),
  );
}

/** The checkpoint with every URN of a renamed resource (its own, and wherever another refers to it) written back to the old name. */
export function toOldNames(checkpoint: string, renames: readonly Rename[]): string {
  let out = checkpoint;
  // A URN ends with `::<name>`, and in JSON a closing quote follows it.
  for (const { from, to } of renames) out = out.split(`::${to}"`).join(`::${from}"`);
  return out;
}

export async function renamesKeepResources(d: Deployed, r: Results) {
  const renames = plannedRenames(d);
  if (renames.length === 0) {
    r.check("renames: the plan lists renamed resources", false, "no step has formerNames: nothing to test");
    return;
  }
  const dir = mkdtempSync(join(d.tmp, "renames-"));
  const exported = join(dir, "state.json");
  const old = join(dir, "state-old-names.json");
  await d.pulumi.must(["stack", "export", "--file", exported]);
  const checkpoint = readFileSync(exported, "utf8");
  const rewritten = toOldNames(checkpoint, renames);
  const moved = renames.filter((x) => rewritten.includes(`::${x.from}"`));
  r.check(
    "renames: the state now holds the old names (as a stack deployed before the rename would)",
    moved.length === renames.length && !renames.some((x) => rewritten.includes(`::${x.to}"`)),
    renames.map((x) => `${x.to} → ${x.from}`).join(", "),
  );
  writeFileSync(old, rewritten);
  await d.pulumi.must(["stack", "import", "--file", old]);

  const preview = await d.pulumi.op(r, "preview (after a rename)", ["preview", "--json"], 900 * d.slow);
  const touched = ["create", "delete", "replace", "create-replacement", "delete-replaced"].flatMap((op) =>
    (preview.steps[op] ?? []).map((n) => `${op} ${n}`),
  );
  r.check(
    "renames: the preview keeps every renamed resource (no create, delete or replace)",
    preview.ok && touched.length === 0,
    preview.ok ? `steps ${JSON.stringify(preview.steps)}` : (preview.error ?? ""),
  );
  const up = await d.pulumi.op(r, "up (after a rename)", ["up", "--yes", "--skip-preview"], 1800 * d.slow);
  const after = await d.pulumi.state();
  const names = after.map((x) => x.urn.split("::").pop());
  r.check(
    "renames: after `pulumi up` the state holds only the new names, and nothing was re-created",
    up.ok &&
      renames.every((x) => names.includes(x.to) && !names.includes(x.from)) &&
      !up.changes.create &&
      !up.changes.delete &&
      !up.changes.replace,
    up.ok ? `changes ${JSON.stringify(up.changes)}` : (up.error ?? ""),
  );
}
