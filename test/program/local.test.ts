import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, type ProgramRun } from "../support/mocks";
import { T } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("local", { stage: "1", target: "local", botToken: "123:bot-token-secret" }, [
    "botToken",
  ]);
});

describe("local stack (the same containers on the local Docker daemon)", () => {
  it("creates no cloud resources and runs no SSH", () => {
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of [T.server, T.firewall, T.sshKey, T.command, T.privateKey])
      expect(types.has(t), t).toBe(false);
  });
  it("talks to the local daemon (no ssh host)", () => {
    const p = run.one(T.dockerProvider, "app-docker").inputs;
    expect(p.host).toBeUndefined();
    expect(p.sshOpts).toBeUndefined();
  });
  it("declares the same containers with the same limits", () => {
    const names = run
      .byType(T.container)
      .map((c) => c.name.slice("app-".length))
      .sort();
    expect(names).toEqual(["api", "bot", "proxy", "redis", "worker-image-1"]);
    expect(run.one(T.container, "app-redis").inputs).toMatchObject({ memory: 256, memorySwap: 256 });
  });
  it("a worker on a box without a swapfile still gets its explicit swap allowance (Docker's own limit)", () => {
    expect(run.one(T.container, "app-worker-image-1").inputs).toMatchObject({ memory: 250, memorySwap: 500 });
  });
  it("outputs the local API URL and the capacity report", () => {
    expect(run.outputs).toMatchObject({ target: "local", apiUrl: "http://localhost" });
    expect(run.outputs.capacity).toMatchObject({ target: "local", server: null, budget: null });
  });
});

describe("local stack: the API's gate", () => {
  it("runs on this machine's docker CLI, after the proxy and the new API", () => {
    const gate = run.one("command:local:Command", "app-api-deploy");
    const api = run.one(T.container, "app-api").inputs.name as string;
    expect(gate.inputs.create).toMatch(
      new RegExp(`^docker exec proxy kamal-proxy deploy api --target ${api}:8000 `),
    );
    expect(run.options["app-api-deploy"]).toMatchObject({ dependsOn: ["app-proxy", "app-api"] });
    expect(run.options["app-api"]!.deleteBeforeReplace).toBe(false);
  });
});
