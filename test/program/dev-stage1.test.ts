import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, SERVER_IP, type ProgramRun } from "../support/mocks";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "1", botToken: "123:bot-token-secret", falKey: "fal-secret" }, ["botToken", "falKey"]);
});

describe("dev, stage 1", () => {
  it("declares the server with the plan's type", () => {
    const s = run.one("hcloud:index/server:Server", "server");
    expect(s.inputs).toMatchObject({ serverType: "cx33", image: "ubuntu-24.04", location: "fsn1", keepDisk: true, name: "app-infra-dev" });
  });
  it("lists what it registered", () => {
    console.log(run.resources.map((r) => `${r.type} ${r.name}`).join("\n"));
    console.log(JSON.stringify(run.outputs, null, 1).slice(0, 500));
    expect(run.outputs.serverIp).toBe(SERVER_IP);
  });
});
