// A lab phase that needs no VM, run on its own (`tsx test/lab/network.ts`, `tsx
// test/lab/swarm-services.ts`): the engine (LAB_ENGINE_BIN, else tools/engine builds), a temp dir
// of its own, the checks' summary and each operation's time, and the exit code.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopDockerdWeStarted } from "../real/support/docker";
import { buildEngine } from "./engine";
import { Results } from "./results";
import { log } from "./vm";

/** A check that failed: already recorded, it ends the phase (the later checks depend on it). */
export class CheckFailed extends Error {}

export async function runAlone(
  name: string,
  phase: (r: Results, bin: string, tmp: string) => Promise<void>,
): Promise<never> {
  const r = new Results();
  const tmp = mkdtempSync(join(tmpdir(), `app-infra-lab-${name.replaceAll(" ", "-")}-`));
  try {
    await phase(r, buildEngine(), tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    // The Swarm phase builds its test image in the host's dockerd, started if none ran.
    await stopDockerdWeStarted();
  }
  const bad = r.checks.filter((c) => !c.ok);
  log(
    `${name}: ${r.checks.length - bad.length} of ${r.checks.length} checks passed in ${Math.round((Date.now() - r.startedAt) / 1000)} s`,
  );
  for (const o of r.operations) log(`  ${o.step}: ${o.seconds} s`);
  for (const c of bad) log(`  FAILED ${c.name}: ${c.detail}`);
  process.exit(bad.length > 0 ? 1 : 0);
}
