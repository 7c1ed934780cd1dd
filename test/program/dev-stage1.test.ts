import { beforeAll, describe } from "vitest";
import { runProgram, type ProgramRun } from "../support/mocks";
import { hetznerStackPolicies } from "./hetzner-stack";

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
