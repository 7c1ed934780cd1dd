// Review findings that one real operation shows, now fixed: a price change and a stock-out (no
// rescale), an architecture and a location change (refused), and what a re-pushed tag does with the
// lab's `imageDigests: off`. Each is tried and then undone; the stack file is restored, so the
// deployed stack is what it was.
import { readFileSync, writeFileSync } from "node:fs";
import { snapshotCatalog } from "../../../src/plan/catalog";
import type { Deployed } from "../context";
import { APP_IMAGE } from "../lab-config";
import { inspect } from "../remote";
import type { Operation, Results } from "../results";

/** Runs `args` with `app` merged into the stack's app-infra config, then puts the stack file back. */
async function withConfig(
  d: Deployed,
  r: Results,
  label: string,
  app: Record<string, unknown>,
  args: string[],
): Promise<Operation> {
  const saved = readFileSync(d.pulumi.stackFile, "utf8");
  try {
    d.pulumi.setConfig(
      Object.fromEntries(Object.entries({ ...d.config.app, ...app }).map(([k, v]) => [`app-infra:${k}`, v])),
    );
    return await d.pulumi.op(r, label, args, 1200 * d.slow);
  } finally {
    writeFileSync(d.pulumi.stackFile, saved);
  }
}

const touched = (op: Operation, name: string) =>
  Object.entries(op.steps)
    .filter(([, names]) => names.includes(name))
    .map(([k]) => k);

/** The server's ID in the state, to tell "untouched" from "replaced". */
async function serverId(d: Deployed): Promise<string | undefined> {
  return (await d.pulumi.state()).find((x) => x.urn.endsWith("::server-vm"))?.id;
}

export async function findingsByExperiment(d: Deployed, r: Results) {
  const type = d.plan.server!.type;
  const location = d.cfg.location;
  const id0 = await serverId(d);

  // 4: a price change and a stock-out at Hetzner (here: the emulator's catalog) must not rescale an
  // unrelated deploy: the deployed type is kept while the requirements are unchanged.
  const price = snapshotCatalog()
    .types.find((t) => t.name === type)
    ?.locations.find((l) => l.name === location)?.priceMonthlyEur;
  d.emulator.setPrice(type, location, 999);
  d.emulator.setAvailable(type, location, false);
  try {
    const op = await d.pulumi.op(
      r,
      `preview (${type} now costs €999 and is out of stock in ${location})`,
      ["preview", "--json"],
      900 * d.slow,
    );
    r.check(
      `a price change and a stock-out of ${type} do not rescale the deployed server (sticky type)`,
      op.ok && touched(op, "server-vm").length === 0,
      `server-vm: ${touched(op, "server-vm").join(", ") || "unchanged"}; ${op.error ?? JSON.stringify(op.changes)}`,
    );
  } finally {
    if (price !== undefined) d.emulator.setPrice(type, location, price);
    d.emulator.setAvailable(type, location, true);
  }

  // 9: an architecture change is refused by the plan, before anything is touched.
  const arch = await withConfig(
    d,
    r,
    "preview (server/architecture → arm)",
    { server: { ...(d.config.app.server as object), architecture: "arm" } },
    ["preview", "--json"],
  );
  r.check(
    "an architecture change of the deployed server is refused in preview, naming server/architecture",
    !arch.ok &&
      /server\/architecture: "arm" differs from the deployed server/.test(arch.error ?? "") &&
      touched(arch, "server-vm").length === 0,
    arch.error?.split("\n").find((l) => l.includes("server/architecture")) ??
      arch.error ??
      JSON.stringify(arch.steps),
  );

  // 5: a location change would replace the server with an empty one: refused before anything is
  // touched — by `up` itself, not only in preview.
  const other = location === "nbg1" ? "fsn1" : "nbg1";
  const loc = await withConfig(d, r, `up (location ${location} → ${other})`, { location: other }, [
    "up",
    "--yes",
    "--skip-preview",
  ]);
  const id1 = await serverId(d);
  r.check(
    `a location change (${location} → ${other}) is refused by \`pulumi up\`, naming location, and nothing is touched`,
    !loc.ok &&
      /location: "[a-z0-9]+" differs from the location of the deployed server/.test(loc.error ?? "") &&
      id1 === id0 &&
      Object.keys(loc.changes).filter((k) => k !== "same").length === 0,
    `${loc.error?.split("\n").find((l) => l.includes("location:")) ?? loc.error}; server id ${id0} → ${id1}; changes ${JSON.stringify(loc.changes)}`,
  );

  // 6: the lab runs `imageDigests: off` (no registry is reachable here): a re-pushed tag is then
  // not pulled, as documented. The default (`registry`) is pinned by the unit tests.
  const tag = APP_IMAGE(2);
  const oldId = (await d.ssh.must("tag's image", `docker image inspect -f '{{.Id}}' ${tag}`)).trim();
  const newId = (
    await d.ssh.must(
      "rebuild tag",
      `printf 'FROM ${tag}\\nLABEL app-infra-lab.repushed=1\\n' | docker build -q -t ${tag} -`,
      { timeoutS: 300 * d.slow },
    )
  ).trim();
  const up = await d.pulumi.op(
    r,
    "up (after the tag was re-pushed; imageDigests: off)",
    ["up", "--yes", "--skip-preview"],
    1200 * d.slow,
  );
  const api = (await inspect(d.ssh, ["api"]))[0];
  r.finding(
    "6 (with imageDigests: off a re-pushed tag is not deployed)",
    up.ok && api?.Image !== newId,
    `up ${up.ok ? "ok" : "failed"} ${JSON.stringify(up.changes)}; the tag is now ${newId.slice(0, 19)}, api runs ${api?.Image.slice(0, 19)}`,
  );
  // Undone: the tag points at the running image again. Left moved, it is real drift: a refresh
  // reads the RemoteImages' image_id back by tag, and the drift check then (rightly) wants to
  // replace every container that runs the tag.
  await d.ssh.must("restore the tag", `docker tag ${oldId} ${tag}`);
}
