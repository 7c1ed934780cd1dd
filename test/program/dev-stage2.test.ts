import { beforeAll, describe } from "vitest";
import { runProgram, type ProgramRun } from "../support/mocks";
import { hetznerStackPolicies } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "2", botToken: "123:bot-token-secret", falKey: "fal-secret" }, [
    "botToken",
    "falKey",
  ]);
});

describe("dev stack, stage 2", () => {
  hetznerStackPolicies(() => run, {
    stage: 2,
    serverType: "cx33",
    swapGb: 2,
    workers: 2,
    protect: false,
    backups: false,
  });
});
