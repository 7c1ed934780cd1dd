// The plan as markdown for a pull request comment and the job summary; with a `before` plan (the
// base branch's) it shows what the change does to the server, the services and the memory budget.
import type { PlanJson } from "./json";
import { baseNote, changeLines, costLine, settingRows, stageLines, summarizeChanges } from "./changes";
import { markdownTable } from "./table";
import { budgetRows, clusterSummary, eur, NODE_HEADER, nodeRows, SERVICE_HEADER, serviceRows } from "./text";

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
  if (after.comparedWith) {
    out.push(`#### What this change does (compared with ${after.comparedWith.source})`);
    const note = baseNote(after);
    if (note) out.push(html(note));
    else if (!after.changes?.length) out.push("Nothing: the box stays exactly as it is.");
    else {
      out.push(
        ...changeLines(after.changes).map(
          (c) =>
            `- ${c.refused ? "⛔ " : ""}\`${c.head.split(":")[0]}\`:${html(c.head.slice(c.head.indexOf(":") + 1))}  \n  ${html(c.consequence)}`,
        ),
        "",
        summarizeChanges(after.changes),
      );
    }
    out.push("");
  }
  const cost = costLine(after);
  out.push(
    `**Server:** ${serverLine(after)}  `,
    ...(cost ? [`**Monthly:** ${cost}  `] : []),
    `**Swap:** ${after.swapGb} GB · **Workers:** ${after.workers}`,
    "",
  );
  if (after.cluster)
    out.push(
      "#### Nodes (stage 4)",
      markdownTable(NODE_HEADER, nodeRows(after.cluster)),
      "",
      ...clusterSummary(after.cluster).map((l) => `- ${html(l)}`),
      "",
    );
  const stages = stageLines(after);
  if (stages.length || after.scaling) {
    out.push(
      ...stages.map((l) => `- ${l}`),
      ...(after.scaling ? [`- swap: ${after.scaling.swapNote}`] : []),
      "",
    );
  }
  if (after.budget) {
    out.push("#### Memory budget");
    if (before?.budget && after.budget) {
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
    if (after.budget.notes.length > 0) out.push("", ...after.budget.notes.map((n) => `- ℹ️ ${html(n)}`));
    out.push("");
  }
  out.push(
    "<details><summary>Services</summary>",
    "",
    markdownTable(
      SERVICE_HEADER,
      serviceRows(after).map((r) => r.map((c, i) => (i === 6 && c !== "(image default)" ? `\`${c}\`` : c))),
    ),
    "",
    "</details>",
    "",
  );
  if (after.firewall) {
    out.push(
      "<details><summary>Firewall</summary>",
      "",
      markdownTable(
        ["rule", "protocol/port", "from"],
        after.firewall.map((r) => [
          r.description,
          `${r.protocol}${r.port ? `/${r.port}` : ""}`,
          r.sourceIps.join(", "),
        ]),
      ),
      "",
      "</details>",
      "",
    );
  }
  const rows = settingRows(after, before);
  if (rows.length) {
    const anyChanged = rows.some((r) => r.before !== undefined);
    out.push(
      `<details><summary>Settings (every key, resolved${anyChanged ? "; changed ones in bold" : ""})</summary>`,
      "",
      anyChanged
        ? markdownTable(
            ["key", "before (if changed)", "after"],
            rows.map((r) =>
              r.before !== undefined
                ? [`**${r.key}**`, html(r.before), `**${html(r.value)}**`]
                : [r.key, "", html(r.value)],
            ),
          )
        : markdownTable(
            ["key", "value"],
            rows.map((r) => [r.key, html(r.value)]),
          ),
      "",
      "</details>",
      "",
    );
  }
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
