// The human report `npm run plan` prints: server, swap, services, budget, warnings, errors.
import type { ClusterJson, PlanJson } from "./json";
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

/** One row per node: its server, address, services, memory and monthly cost. */
export function nodeRows(c: ClusterJson): (string | number)[][] {
  return c.nodes.map((n) => [
    n.name,
    n.role,
    n.server?.type ?? "none fits",
    n.server?.cores ?? "",
    n.server?.memoryGb ?? "",
    n.privateIp,
    n.services.join(", "),
    n.budget ? `${n.budget.totalMb} MB (${n.budget.ramPercent}%)` : "",
    eur(n.monthlyEur),
  ]);
}

export const NODE_HEADER = [
  "node",
  "role",
  "type",
  "vCPU",
  "RAM GB",
  "private IP",
  "services",
  "memory budget",
  "monthly",
];

/** The network, Swarm's settings and the total, in one line each. */
export function clusterSummary(c: ClusterJson): string[] {
  const workers = c.nodes.filter((n) => n.role === "worker").length;
  return [
    `1 core node + ${workers} worker node${workers === 1 ? "" : "s"}; total ${eur(c.totalMonthlyEur)} net of VAT (the private network is free)`,
    `private network ${c.network.name}: ${c.network.subnet} in ${c.network.networkZone}, MTU ${c.network.mtu}`,
    `Swarm: manager on ${c.swarm.advertiseAddr}, overlay pool ${c.swarm.addressPool} (/${c.swarm.addressPoolSubnetSize} each), ` +
      `overlays ${c.swarm.encrypted ? "encrypted (IPsec ESP)" : "unencrypted"} over MTU ${c.swarm.overlayLinkMtu}, ` +
      `MTU ${c.swarm.overlayMtu} inside a task`,
    `swap: ${c.swarm.serviceSwap}`,
  ];
}

function clusterLines(c: ClusterJson): string[] {
  return ["Nodes (stage 4)", textTable(NODE_HEADER, nodeRows(c)), ...clusterSummary(c).map((l) => `  ${l}`)];
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
  if (p.cluster) out.push(...clusterLines(p.cluster), "");
  out.push(
    `Services${p.cluster ? " on the core node" : ""} (${p.workers} worker${p.workers === 1 ? "" : "s"})`,
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
