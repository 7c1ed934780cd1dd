// Shared pieces of the text and markdown reports: the change list of `--before` (Terraform-style
// markers), every resolved setting, the monthly cost and the stage outlook.
import { euro } from "../plan/advice";
import { diffSettings, fmt, summarizeChanges, type Change, type ChangeKind } from "../plan/impact";
import type { PlanJson } from "./json";

export const MARKER: Record<ChangeKind, string> = {
  "replace-server": "-/+",
  "destroy-server": "-",
  "create-server": "+",
  rescale: "~",
  recreate: "-/+",
  add: "+",
  remove: "-",
  update: "~",
  "no-op": "=",
};

/** `-/+ api: image a → b` then the consequence, one change per entry. */
export function changeLines(
  changes: readonly Change[],
): { head: string; consequence: string; refused: boolean }[] {
  return changes.map((c) => ({
    head: `${MARKER[c.kind]} ${c.subject}: ${c.what}`,
    consequence: c.refused ? `REFUSED by the program. ${c.consequence}` : c.consequence,
    refused: c.refused,
  }));
}

export { summarizeChanges };

/** Why there is nothing to compare, in words (the base's config was refused, or it has no stack file). */
export function baseNote(p: PlanJson): string | undefined {
  const w = p.comparedWith;
  if (!w || w.planned) return undefined;
  return `The base (${w.source}) has no plan to compare with: ${w.problems.join("; ")}`;
}

/** Settings rows: key, value, and with a base the value before (changed keys only marked). */
export function settingRows(
  after: PlanJson,
  before?: PlanJson,
): { key: string; value: string; before?: string }[] {
  if (!after.settings) return [];
  const changed = before ? new Map(diffSettings(before, after).map((d) => [d.key, d])) : new Map();
  return Object.entries(after.settings).map(([key, v]) => {
    const d = changed.get(key);
    return d ? { key, value: fmt(v), before: fmt(d.before) } : { key, value: fmt(v) };
  });
}

/** `€8.49 server + €0.50 IPv4 + €1.70 backups = €10.69/month (net of VAT)` */
export function costLine(p: PlanJson): string | undefined {
  const c = p.cost;
  if (!c) return undefined;
  if (c.totalEur === null)
    return `monthly cost unknown: no price for ${p.server?.type} in ${p.server?.location}`;
  const parts = [`€${c.serverEur!.toFixed(2)} server`, `€${c.ipv4Eur.toFixed(2)} primary IPv4`];
  if (c.backupsEur) parts.push(`€${c.backupsEur.toFixed(2)} backups (20 %)`);
  return (
    `${parts.join(" + ")} = ${euro(c.totalEur)}, net of VAT` +
    (c.estimated
      ? ` — an ESTIMATE: the catalog has no published price for ${p.server?.type} in ${p.server?.location} and uses the EU one; the real price there is likely higher`
      : "")
  );
}

/** The stages on this catalog, and what the next one would change. */
export function stageLines(p: PlanJson): string[] {
  const sc = p.scaling;
  if (!sc || !p.server) return [];
  const out = [
    "stages with this stack's settings: " +
      sc.stages
        .map(
          (s) =>
            `${s.stage} → ${s.type ?? "no type fits"}, swap ${s.swapGb} GB, ${s.workers} worker${s.workers === 1 ? "" : "s"}`,
        )
        .join(" · "),
  ];
  const here = sc.stages.find((s) => s.stage === p.stage);
  const next = sc.stages.find((s) => s.stage === p.stage + 1);
  if (next && here && next.type === here.type) {
    const same = next.swapGb === here.swapGb && next.workers === here.workers;
    out.push(
      `stage ${next.stage} would keep ${here.type}: it already meets stage ${next.stage}'s requirements` +
        (same ? `, and stage ${next.stage} changes nothing else here` : ""),
    );
  }
  if (sc.nextSizeUp) {
    const u = sc.nextSizeUp;
    out.push(
      `next size up: ${u.key} ${u.value} → ${u.type} (${u.cores} vCPU, ${u.memoryGb} GB RAM), ${euro(u.monthly.totalEur)} incl. IPv4${u.monthly.backupsEur ? " and backups" : ""}${u.monthly.estimated ? " (estimate)" : ""}`,
    );
  } else {
    out.push(`${p.server.type} is the largest orderable type of its kind here: beyond it, scale out`);
  }
  return out;
}

/** Short catalog label: the snapshot's long source names its sources in the JSON file itself. */
export function catalogLabel(p: PlanJson): string {
  const s = p.server;
  if (!s) return "";
  const short = s.catalog
    .replace(/; see sourceDetail\)/, ")")
    .replace(/^bundled snapshot \(.*\)$/, "bundled snapshot");
  return short === "bundled snapshot"
    ? `bundled snapshot of ${s.catalogTakenAt} (sources in src/plan/catalog/hetzner-server-types.json)`
    : `${short}, ${s.catalogTakenAt}`;
}
