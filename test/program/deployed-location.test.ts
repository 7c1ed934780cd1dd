// A deployed server in fsn1 with location nbg1 configured: refused before any resource is registered.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { runProgram } from "../support/mocks";

describe("a location change of a deployed stack", () => {
  it("is refused, naming location and what to do instead, and registers nothing", async () => {
    const err = await runProgram("dev", { stage: "1", location: "nbg1", botToken: "123:bot" }, ["botToken"], {
      rootStack: false,
      deployed: {
        name: "app-infra-dev",
        serverType: "cx33",
        location: "fsn1",
        labels: { app: "app-infra", stack: "dev", role: "app" },
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^location: "nbg1" differs from the location of the deployed server app-infra-dev \(fsn1\)/,
    );
    expect(problems[0]).toMatch(/new stack/);
    expect((err as { recorded: { type: string }[] }).recorded.map((r) => r.type)).toEqual([]);
  });
});
