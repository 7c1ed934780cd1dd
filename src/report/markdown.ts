// The plan as markdown for a pull request comment and the job summary; with a `before` plan (the
// base branch's) it shows what the change does to the server, the services and the memory budget.
import type { PlanJson } from "./json";
import { markdownTable } from "./table";
import { budgetRows, eur, SERVICE_HEADER, serviceRows } from "./text";

const arrow = (a: string | number, b: string | number) =>
  String(a) === String(b) ? String(b) : `${a} → **${b}**`;
// In a column of its own next to "before", a changed value is only bolded: repeating the old value is noise.
const bold = (a: string | number, b: string | number) => (String(a) === String(b) ? String(b) : `**${b}**`);
// Warnings and errors are prose that quotes placeholders such as `<image>`; GitHub would take those for
// HTML tags and drop them from the comment, so they are escaped.
const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function serverLine(p: PlanJson): string {
  const s = p.server;
  return s
    ? `${s.type} (${s.cores} vCPU, ${s.memoryGb} GB RAM, ${s.diskGb} GB disk, ${s.location}, ${eur(s.priceMonthlyEur)})`
    : "none (local Docker)";
}

export function renderMarkdown(after: PlanJson, before?: PlanJson): string {
  const out: string[] = [];
  const status = after.deployable ? "✅ deployable" : "❌ not deployable";
  out.push(
    `### app-infra plan: \`${after.stack}\` — stage ${before ? arrow(before.stage, after.stage) : after.stage} — ${status}`,
    "",
  );
  if (before) {
    const changes: string[] = [];
    if (serverLine(before) !== serverLine(after)) {
      changes.push(`- **Server:** ${serverLine(before)} → ${serverLine(after)}`);
      if (before.server && after.server && before.server.type !== after.server.type) {
        changes.push(
          "  - A server type change powers the server off, rescales and boots it (a reboot, not a replacement; the disk is kept) and moves it to Hetzner's current price.",
        );
      }
    }
    if (before.swapGb !== after.swapGb) changes.push(`- **Swap:** ${before.swapGb} GB → ${after.swapGb} GB`);
    const names = new Set([...before.services, ...after.services].map((s) => s.name));
    for (const name of names) {
      const a = before.services.find((s) => s.name === name);
      const b = after.services.find((s) => s.name === name);
      if (!a) changes.push(`- **${name}:** added (${b!.memoryMb} MB limit)`);
      else if (!b) changes.push(`- **${name}:** removed`);
      else if (JSON.stringify(a) !== JSON.stringify(b)) {
        const diffs = (["image", "memoryMb", "memoryReservationMb", "swapMb", "restart"] as const)
          .filter((k) => a[k] !== b[k])
          .map((k) => `${k} ${a[k]} → ${b[k]}`);
        if (JSON.stringify(a.command) !== JSON.stringify(b.command)) diffs.push("command changed");
        // A field outside the list above (e.g. memorySwapMb alone) must not leave an empty bullet.
        if (!diffs.length) diffs.push("changed");
        changes.push(`- **${name}:** ${diffs.join(", ")}`);
      }
    }
    out.push(
      "#### What this change does",
      changes.length ? changes.join("\n") : "No change to the server, swap or services.",
      "",
    );
  }
  out.push(
    `**Server:** ${serverLine(after)}  `,
    `**Swap:** ${after.swapGb} GB · **Workers:** ${after.workers}`,
    "",
  );
  if (after.budget) {
    out.push("#### Memory budget");
    if (before?.budget) {
      const rowsA = budgetRows(before);
      const rowsB = budgetRows(after);
      out.push(
        markdownTable(
          ["item", "before MB", "after MB", "after % of RAM"],
          rowsB.map((r, i) => [r[0]!, rowsA[i]![1]!, bold(rowsA[i]![1]!, r[1]!), r[2]!]),
        ),
      );
    } else {
      out.push(markdownTable(["item", "MB", "% of RAM"], budgetRows(after)));
    }
    out.push("");
  }
  out.push(
    "<details><summary>Services</summary>",
    "",
    markdownTable(
      SERVICE_HEADER,
      serviceRows(after).map((r) => r.map((c, i) => (i === 6 ? `\`${c}\`` : c))),
    ),
    "",
    "</details>",
    "",
  );
  if (after.warnings.length) out.push("#### Warnings", ...after.warnings.map((w) => `- ⚠️ ${html(w)}`), "");
  if (after.errors.length) out.push("#### Errors", ...after.errors.map((e) => `- ❌ ${html(e)}`), "");
  return out.join("\n");
}

/** A configuration the planner refused, as markdown: the PR comment still says what is wrong. */
export function renderMarkdownRefused(stack: string, problems: readonly string[]): string {
  return [
    `### app-infra plan: \`${stack}\` — ❌ not deployable`,
    "",
    "#### Errors",
    ...problems.map((p) => `- ❌ ${html(p)}`),
    "",
  ].join("\n");
}
