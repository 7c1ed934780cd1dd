import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, type ProgramRun } from "../support/mocks";
import { hetznerStackPolicies, T } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "1", botToken: "123:bot-token-secret", falKey: "fal-secret" }, [
    "botToken",
    "falKey",
  ]);
});

describe("dev stack, stage 1", () => {
  hetznerStackPolicies(() => run, {
    stage: 1,
    serverType: "cx33",
    swapGb: 4,
    workers: 1,
    protect: false,
    backups: false,
  });
});

describe("dev stack: backups are off by default", () => {
  it("has no backup step, no budget line, and a watchdog that expects no backup", () => {
    expect(run.byType(T.command).map((c) => c.name)).not.toContain("host-backup");
    expect(run.outputs.capacity.budget).not.toHaveProperty("backupMb");
    const stdin: string = run.one(T.command, "host-watchdog").inputs.stdin;
    const env = /^WATCHDOG_ENV_B64=(.*)$/m.exec(stdin)![1]!;
    expect(Buffer.from(env, "base64").toString("utf8")).toContain("BACKUP_MAX_AGE_H='0'\n");
  });
});
