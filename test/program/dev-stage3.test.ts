import { beforeAll, describe } from "vitest";
import { runProgram, type ProgramRun } from "../support/mocks";
import { hetznerStackPolicies } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "3", botToken: "123:bot-token-secret", falKey: "fal-secret" }, [
    "botToken",
    "falKey",
  ]);
});

describe("dev stack, stage 3", () => {
  hetznerStackPolicies(() => run, {
    stage: 3,
    serverType: "cx33",
    swapGb: 2,
    workers: 2,
    protect: false,
    backups: false,
  });
});
