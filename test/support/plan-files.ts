// Base plans for `--before`: the offline plan of this repository's stacks, written as JSON into a
// temp dir of the calling test file, removed after it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "vitest";
import { runPlanCli } from "../../src/cli/plan";

export const ROOT = join(__dirname, "..", "..");

export interface PlanFiles {
  /** The temp dir, for other files of the test. */
  dir: string;
  /** Writes `npm run plan -- <args> --json` to `<name>.json` in it and returns its path. */
  write: (name: string, ...args: string[]) => string;
}

export function planFiles(prefix: string): PlanFiles {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, ...args: string[]): string => {
    const r = runPlanCli([...args, "--json"], ROOT);
    expect(r.code).toBe(0);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, r.stdout);
    return file;
  };
  return { dir, write };
}
