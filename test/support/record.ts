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
export async function record(
  stack: string,
  config: Record<string, unknown>,
  secretKeys: string[] = [],
  opts: { stackOutputs?: Record<string, Record<string, unknown>>; env?: Record<string, string> } = {},
): Promise<Recording> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(root, "node_modules", "tsx", "dist", "cli.mjs"),
      join(__dirname, "record-program.ts"),
      stack,
      JSON.stringify(config),
      JSON.stringify(secretKeys),
      JSON.stringify({ stackOutputs: opts.stackOutputs }),
    ],
    { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...opts.env } },
  );
  return JSON.parse(stdout) as Recording;
}

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface ResourceDiff {
  changed: string[];
  added: string[];
  removed: string[];
}

/** Resources whose inputs differ between two recordings, and those only in one of them, by logical name. */
export function diffRecordings(a: readonly RecordedResource[], b: readonly RecordedResource[]): ResourceDiff {
  const key = (r: RecordedResource) => `${r.type}::${r.name}`;
  const A = new Map(a.map((r) => [key(r), JSON.stringify(r.inputs)]));
  const B = new Map(b.map((r) => [key(r), JSON.stringify(r.inputs)]));
  const nameOf = (k: string) => k.split("::")[1]!;
  return {
    changed: [...A.keys()]
      .filter((k) => B.has(k) && A.get(k) !== B.get(k))
      .map(nameOf)
      .sort(),
    added: [...B.keys()]
      .filter((k) => !A.has(k))
      .map(nameOf)
      .sort(),
    removed: [...A.keys()]
      .filter((k) => !B.has(k))
      .map(nameOf)
      .sort(),
  };
}
