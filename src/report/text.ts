// The human report `npm run plan` prints: server, swap, services, budget, warnings, errors.
import type { PlanJson } from "./json";
import {
  baseNote,
  catalogLabel,
  changeLines,
  costLine,
  settingRows,
  stageLines,
  summarizeChanges,
} from "./changes";
import { textTable } from "./table";

export const eur = (v: number | null) => (v === null ? "unknown" : `€${v.toFixed(2)}/month`);

export function serviceRows(p: PlanJson): (string | number)[][] {
  return p.services.map((s) => [
    s.name,
    s.image,
    s.memoryMb,
    s.memoryReservationMb,
    s.swapMb === 0 ? "none" : `${s.swapMb}`,
    s.restart,
    s.command
      ? s.command.map((a) => (a === "" || /\s/.test(a) ? JSON.stringify(a) : a)).join(" ")
      : "(image default)",
  ]);
}
export const SERVICE_HEADER = ["service", "image", "limit MB", "reserve MB", "swap MB", "restart", "command"];

export function budgetRows(p: PlanJson): (string | number)[][] {
  const b = p.budget!;
  const pct = (mb: number) => `${Math.round((mb / b.ramMb) * 100)}%`;
  return [
    ["system reserve", b.systemReserveMb, pct(b.systemReserveMb)],
    ...(b.backupMb ? [["backup (restic)", b.backupMb, pct(b.backupMb)]] : []),
    ["container limits (Σ)", b.limitsMb, pct(b.limitsMb)],
    ...(b.deployHeadroomMb
      ? [["deploy headroom (2nd api during a switch)", b.deployHeadroomMb, pct(b.deployHeadroomMb)]]
      : []),
    ["container reservations (Σ)", b.reservationsMb, pct(b.reservationsMb)],
    ["users (projected)", b.usersMb, pct(b.usersMb)],
    [
      `total (reserve${b.backupMb ? " + backup" : ""} + limits${b.deployHeadroomMb ? " + headroom" : ""} + users)`,
      b.totalMb,
      `${b.ramPercent}%`,
    ],
    ["RAM", b.ramMb, "100%"],
    ["swap on host", b.swapMb, ""],
    [
      "projected in swap",
      b.swapNeededMb,
      b.swapMb ? `${Math.round((b.swapNeededMb / b.swapMb) * 100)}% of swap` : "",
    ],
  ];
}

export function renderText(p: PlanJson): string {
  const out: string[] = [];
  out.push(`app-infra plan: stack ${p.stack}, stage ${p.stage}, target ${p.target}`, "");
  if (p.comparedWith) {
    out.push(`What this change does (compared with ${p.comparedWith.source})`);
    const note = baseNote(p);
    if (note) out.push(`  ${note}`);
    else if (!p.changes?.length) out.push("  Nothing: the box stays exactly as it is.");
    else {
      for (const c of changeLines(p.changes)) out.push(`  ${c.head}`, `      ${c.consequence}`);
      out.push(`  ${summarizeChanges(p.changes)}`);
    }
    out.push("");
  }
  if (p.server) {
    const s = p.server;
    out.push(
      "Server",
      textTable(
        ["type", "vCPU", "RAM GB", "disk GB", "arch", "location", "price"],
        [
          [
            `${s.type}${s.pinned ? " (pinned)" : ""}`,
            s.cores,
            s.memoryGb,
            s.diskGb,
            s.architecture,
            s.location,
            `${eur(s.priceMonthlyEur)}${p.cost?.estimated ? " (estimate)" : ""}`,
          ],
        ],
      ),
      `  needs ≥${p.requirements!.cores} vCPU, ≥${p.requirements!.memoryGb} GB RAM, ≥${p.requirements!.diskGb} GB disk; catalog: ${catalogLabel(p)}`,
    );
    const cost = costLine(p);
    if (cost) out.push(`  monthly: ${cost}`);
    out.push(...stageLines(p).map((l) => `  ${l}`), "");
    out.push(`Swap: ${p.swapGb} GB swapfile${p.scaling ? ` — ${p.scaling.swapNote}` : ""}`, "");
  }
  out.push(
    `Services (${p.workers} worker${p.workers === 1 ? "" : "s"})`,
    textTable(SERVICE_HEADER, serviceRows(p)),
    "",
  );
  if (p.budget)
    out.push(
      "Memory budget",
      textTable(["item", "MB", "% of RAM"], budgetRows(p)),
      ...p.budget.notes.map((n) => `  i ${n}`),
      "",
    );
  if (p.firewall) {
    out.push(
      "Firewall (inbound; everything else is closed)",
      textTable(
        ["rule", "protocol/port", "from"],
        p.firewall.map((r) => [
          r.description,
          `${r.protocol}${r.port ? `/${r.port}` : ""}`,
          r.sourceIps.join(", "),
        ]),
      ),
      "",
    );
  }
  const rows = settingRows(p);
  if (rows.length) {
    out.push(
      "Settings (every key, resolved; secrets as set/unset)",
      textTable(
        ["key", "value"],
        rows.map((r) => [r.key, r.value]),
      ),
      "",
    );
  }
  if (p.warnings.length) out.push("Warnings", ...p.warnings.map((w) => `  ! ${w}`), "");
  if (p.errors.length) out.push("Errors (not deployable)", ...p.errors.map((e) => `  x ${e}`), "");
  out.push(p.deployable ? "Deployable." : "NOT deployable: fix the errors above.");
  return out.join("\n");
}
