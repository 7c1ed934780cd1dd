// Review findings that one real operation shows: a price change, a location change, a re-pushed
// tag, an architecture change. Each is tried and then undone; the stack file is restored, so the
// deployed stack is what it was.
import { readFileSync, writeFileSync } from "node:fs";
import { snapshotCatalog } from "../../../src/plan/catalog";
import type { Deployed } from "../context";
import { APP_IMAGE } from "../lab-config";
import { inspect } from "../remote";
import type { Operation, Results } from "../results";

/** Runs `args` with `app` merged into the stack's app-infra config, then puts the stack file back. */
async function withConfig(d: Deployed, r: Results, label: string, app: Record<string, unknown>, args: string[]): Promise<Operation> {
  const saved = readFileSync(d.pulumi.stackFile, "utf8");
  try {
    d.pulumi.setConfig(Object.fromEntries(Object.entries({ ...d.config.app, ...app }).map(([k, v]) => [`app-infra:${k}`, v])));
    return await d.pulumi.op(r, label, args, 1200 * d.slow);
  } finally {
    writeFileSync(d.pulumi.stackFile, saved);
  }
}

const touched = (op: Operation, name: string) => Object.entries(op.steps).filter(([, names]) => names.includes(name)).map(([k]) => k);

export async function findingsByExperiment(d: Deployed, r: Results) {
  const type = d.plan.server!.type;
  const location = d.cfg.location;

  // 4: a price change at Hetzner (here: the emulator's pricing) makes an unrelated deploy rescale.
  const price = snapshotCatalog().types.find((t) => t.name === type)?.locations.find((l) => l.name === location)?.priceMonthlyEur;
  d.emulator.setPrice(type, location, 999);
  try {
    const op = await d.pulumi.op(r, `preview (${type} now costs €999 in ${location})`, ["preview", "--json"], 900 * d.slow);
    r.finding("4 (server type not sticky: a price change rescales an unrelated deploy)", touched(op, "server-vm").includes("update"), `server-vm: ${touched(op, "server-vm").join(", ") || "unchanged"}; ${op.error ?? JSON.stringify(op.changes)}`);
  } finally {
    if (price !== undefined) d.emulator.setPrice(type, location, price);
  }

  // 9: an architecture change is planned as an in-place update (Hetzner refuses it at apply time).
  const arch = await withConfig(d, r, "preview (server/architecture → arm)", { server: { ...(d.config.app.server as object), architecture: "arm" } }, ["preview", "--json"]);
  r.finding("9 (an architecture change is attempted in place)", touched(arch, "server-vm").includes("update"), `server-vm: ${touched(arch, "server-vm").join(", ") || "unchanged"}; ${arch.error ?? ""}`);

  // 5: a location change replaces the server. A real `up` of it leaves the stack on an empty new
  // box (a lab run showed it: the Docker resources stayed "same", the host steps re-ran), so the
  // lab only previews it and reads the plan: the order of the server's steps, and what else is planned.
  const other = location === "nbg1" ? "fsn1" : "nbg1";
  const loc = await withConfig(d, r, `preview (location ${location} → ${other})`, { location: other }, ["preview", "--json"]);
  const order = loc.stepOrder.filter((x) => x.name === "server-vm").map((x) => x.op);
  const containers = d.plan.services.map((x) => `app-${x.name}`);
  const recreated = loc.stepOrder.filter((x) => containers.includes(x.name) && x.op !== "same").map((x) => `${x.name}: ${x.op}`);
  r.finding("5a (a server replacement fails on its unique name: create-before-delete)", order.indexOf("create-replacement") >= 0 && order.indexOf("create-replacement") < Math.max(order.indexOf("delete-replaced"), 0), `server-vm steps in order: ${order.join(" → ") || "none"}`);
  r.finding("5b (a replaced server is left empty: the Docker resources stay \"same\")", order.length > 0 && recreated.length === 0, `containers planned: ${recreated.join(", ") || "none"}; all planned steps ${JSON.stringify(loc.steps)}`);

  // 6: a re-pushed tag (here: the tag rebuilt in the VM as a new image) never deploys.
  const tag = APP_IMAGE(2);
  const newId = (await d.ssh.must("rebuild tag", `printf 'FROM ${tag}\\nLABEL app-infra-lab.repushed=1\\n' | docker build -q -t ${tag} -`, { timeoutS: 300 * d.slow })).trim();
  const up = await d.pulumi.op(r, "up (after the tag was re-pushed)", ["up", "--yes", "--skip-preview"], 1200 * d.slow);
  const api = (await inspect(d.ssh, ["api"]))[0];
  r.finding("6 (a re-pushed tag never deploys)", up.ok && api?.Image !== newId, `up ${up.ok ? "ok" : "failed"} ${JSON.stringify(up.changes)}; the tag is now ${newId.slice(0, 19)}, api runs ${api?.Image.slice(0, 19)}`);
}
