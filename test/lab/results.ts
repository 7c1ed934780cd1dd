// The lab's results: checks, figures, per-phase timings and one row per real Pulumi operation.
// One object handed to every phase (no module globals), so the report can be rendered and tested.
import { log } from "./vm";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** One real `pulumi …` run: what it was, how long it took, what Pulumi says it changed. */
export interface Operation {
  step: string;
  command: string;
  ok: boolean;
  seconds: number;
  /** Pulumi's own summary: {create: 3, same: 10, …} from `pulumi stack history`, or the preview's changeSummary. */
  changes: Record<string, number>;
  /** Resources Pulumi touched, by operation: {replace: ["app-redis"], update: [...]}. */
  steps: Record<string, string[]>;
  /** The same steps in the engine's order, with their operation (delete-replaced before create-replacement = delete-before-replace). */
  stepOrder: { op: string; name: string }[];
  /** An up's slowest steps, from the engine's event timestamps (whole seconds). */
  slowest?: { name: string; op: string; seconds: number }[];
  /** The end of Pulumi's output when it failed. */
  error?: string;
}

/** A review finding as the real engine showed it: reproduced (the bug is real) or not. */
export interface Finding {
  id: string;
  reproduced: boolean;
  detail: string;
}

export const secs = (ms: number) => Math.round(ms / 100) / 10;

export class Results {
  readonly checks: Check[] = [];
  readonly timings: Record<string, number> = {};
  readonly figures: Record<string, unknown> = {};
  readonly operations: Operation[] = [];
  readonly findings: Finding[] = [];
  readonly startedAt = Date.now();

  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({ name, ok, detail });
    log(`${ok ? "PASS" : "FAIL"} ${name}: ${detail}`);
    return ok;
  }

  /** Records what really happened without judging it: the figure is the finding. */
  figure(name: string, value: unknown) {
    this.figures[name] = value;
    log(`figure ${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }

  /**
   * What the real engine shows about a known finding. Not a check: the lab's job is to show the
   * bug; the issue that fixes it turns the finding into a check that must pass.
   */
  finding(id: string, reproduced: boolean, detail: string) {
    this.findings.push({ id, reproduced, detail });
    log(`finding ${id}: ${reproduced ? "REPRODUCED" : "not reproduced"}: ${detail}`);
  }

  operation(op: Operation) {
    this.operations.push(op);
    log(
      `pulumi ${op.step}: ${op.ok ? "ok" : "FAILED"} in ${op.seconds} s ${JSON.stringify(op.changes)}${op.error ? `\n${op.error}` : ""}`,
    );
  }

  async phase<T>(name: string, f: () => Promise<T>): Promise<T> {
    const s = Date.now();
    log(`-- ${name}`);
    try {
      return await f();
    } finally {
      this.timings[name] = secs(Date.now() - s);
      log(`   ${name}: ${this.timings[name]} s`);
    }
  }

  get failed(): Check[] {
    return this.checks.filter((c) => !c.ok);
  }
}
