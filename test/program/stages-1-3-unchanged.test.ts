// Stage 4 (src/plan/nodes.ts) must leave stages 1-3 exactly as they were: the offline plan's JSON
// and every resource the program registers, with its inputs, are compared with recordings made by
// the program before stage 4 existed (commit c68ac1b), kept in test/fixtures/stages-1-3/. A
// resource's inputs are kept as a SHA-256 of their canonical JSON (the scripts it ships make them
// large); a mismatch names the resource.
// UPDATE_STAGE_FIXTURES=1 rewrites them; do that only on purpose, for a change meant to reach
// stages 1-3, and say so in the commit.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { SSH_DIR_ENV } from "../../src/live/ssh-files";
import { planToJson } from "../../src/report/json";
import { record } from "../support/record";

const DIR = join(__dirname, "..", "fixtures", "stages-1-3");
const UPDATE = process.env.UPDATE_STAGE_FIXTURES === "1";
const secrets = { botToken: "123:bot-token-secret", falKey: "fal-secret" };
// Fixed, so the releases output (which carries the date) is left out and the commit is known.
const env = { GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567" };

/** JSON with object keys sorted, and this test file's own SSH directory (a temp dir) as `<ssh-dir>`. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  ).replaceAll(process.env[SSH_DIR_ENV]!, "<ssh-dir>");
}

const sha256 = (value: unknown) => createHash("sha256").update(canonical(value)).digest("hex");

function compare(file: string, value: unknown) {
  const path = join(DIR, file);
  const actual = JSON.parse(canonical(value)) as unknown;
  if (UPDATE) writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
  expect(existsSync(path), `${path} (UPDATE_STAGE_FIXTURES=1 writes it)`).toBe(true);
  expect(actual).toEqual(JSON.parse(readFileSync(path, "utf8")));
}

describe.each([1, 2, 3])("stage %i is what it was before stage 4", (stage) => {
  it("the offline plan (JSON with settings, firewall, cost and scaling)", () => {
    const cfg = parseConfig("prod", { stage, users: 150 });
    const catalog = snapshotCatalog();
    compare(`plan-stage${stage}.json`, planToJson(makePlan(cfg, catalog), { cfg, catalog }));
  });

  it("the program: every resource, its inputs and options, and the outputs but the releases' dates", async () => {
    const run = await record("dev", { stage, ...secrets }, ["botToken", "falKey"], { env });
    const releases = (run.outputs.releases as { date: string }[]).map(({ date: _, ...r }) => r);
    // The options as the recordings have them: a replacement trigger's value is recorded since
    // (test/support/mocks.ts), and whether one is set is compared already.
    const options = Object.fromEntries(
      Object.entries(run.options).map(([n, { replacementTriggerValue: _, ...o }]) => [n, o]),
    );
    // The live catalog (the mocked Hetzner API) is taken at the run's date, so the plan's
    // catalogTakenAt is today: recorded as <today>, and any other date still differs.
    const today = new Date().toISOString().slice(0, 10);
    const capacity = JSON.parse(
      JSON.stringify(run.outputs.capacity).replaceAll(
        `"catalogTakenAt":"${today}"`,
        '"catalogTakenAt":"<today>"',
      ),
    ) as unknown;
    compare(`program-stage${stage}.json`, {
      resources: run.resources.map((r) => ({ ...r, inputs: sha256(r.inputs) })),
      options,
      outputs: { ...run.outputs, releases, capacity },
    });
  }, 60_000);
});
