import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Recorded, RecordedOptions } from "./mocks";

export interface Recording {
  resources: Recorded[];
  options: Record<string, RecordedOptions>;
  outputs: Record<string, any>;
}

const root = join(__dirname, "..", "..");

/** Records one program run in a child process (see record-program.ts). */
export async function record(stack: string, config: Record<string, unknown>, secretKeys: string[] = []): Promise<Recording> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(__dirname, "record-program.ts"), stack, JSON.stringify(config), JSON.stringify(secretKeys)],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Recording;
}

export const inputsOf = (r: Recording, type: string, name: string) => {
  const hit = r.resources.find((x) => x.type === type && x.name === name);
  if (!hit) throw new Error(`no ${type} ${name}`);
  return hit.inputs;
};
