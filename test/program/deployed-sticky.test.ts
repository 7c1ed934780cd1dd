// A deployed stack whose type is out of stock today: the program keeps it (no rescale).
import { beforeAll, describe, expect, it } from "vitest";
import { requirementsFor, requirementsLabel } from "../../src/plan/server";
import { STAGES } from "../../src/plan/stages";
import { cfg } from "../plan/fixtures";
import { runProgram, type ProgramRun } from "../support/mocks";
import { T } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  const c = cfg({ stage: 1 });
  const requirements = requirementsLabel(requirementsFor(c, STAGES[1]));
  run = await runProgram("dev", { stage: "1", botToken: "123:bot" }, ["botToken"], {
    deployed: {
      name: "app-infra-dev",
      serverType: "cx33",
      location: "fsn1",
      labels: { app: "app-infra", stack: "dev", role: "app", requirements },
    },
    available: (type, location) => !(type === "cx33" && location === "fsn1"),
  });
});

describe("a deployed cx33 that Hetzner cannot sell today", () => {
  it("stays cx33: the type is sticky while the requirements hold", () => {
    expect(run.one(T.server, "server-vm").inputs.serverType).toBe("cx33");
    expect(run.outputs.capacity.server.type).toBe("cx33");
  });
  it("still deploys everything else", () => {
    expect(run.byType(T.container).length).toBeGreaterThan(0);
  });
});
