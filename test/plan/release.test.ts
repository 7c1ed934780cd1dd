// src/plan/release.ts: the release id of a container's resolved inputs.
import { describe, expect, it } from "vitest";
import { IN_PLACE_INPUTS, releaseContainerName, releaseId } from "../../src/plan/release";

const inputs = {
  image: "sha256:" + "a".repeat(64),
  command: ["uvicorn", "app.web.api:app"],
  envs: ["A=1", "FAL_KEY=secret"],
  healthcheck: { tests: ["CMD", "true"], interval: "15s" },
  memory: 200,
  restart: "unless-stopped",
};

describe("releaseId", () => {
  it("is 12 hex digits, a function of the inputs and the salt alone", () => {
    expect(releaseId("", inputs)).toMatch(/^[0-9a-f]{12}$/);
    expect(releaseId("", inputs)).toBe(releaseId("", { ...inputs }));
    expect(releaseContainerName("api", "", inputs)).toBe(`api-${releaseId("", inputs)}`);
  });

  it("does not depend on the order the inputs were written in", () => {
    const reordered = {
      restart: inputs.restart,
      memory: 200,
      healthcheck: { interval: "15s", tests: ["CMD", "true"] },
    };
    expect(
      releaseId("", { ...reordered, envs: inputs.envs, command: inputs.command, image: inputs.image }),
    ).toBe(releaseId("", inputs));
  });

  it("changes with any replacing input and with the salt", () => {
    const base = releaseId("", inputs);
    expect(releaseId("", { ...inputs, image: "sha256:" + "b".repeat(64) })).not.toBe(base);
    expect(releaseId("", { ...inputs, envs: ["A=1", "FAL_KEY=rotated"] })).not.toBe(base);
    expect(releaseId("", { ...inputs, healthcheck: { tests: ["CMD", "false"], interval: "15s" } })).not.toBe(
      base,
    );
    expect(releaseId("4711-1", inputs)).not.toBe(base);
    expect(releaseId("4711-2", inputs)).not.toBe(releaseId("4711-1", inputs));
  });

  it("ignores the inputs the provider updates in place", () => {
    const base = releaseId("", inputs);
    const inPlace = {
      memory: 300,
      memoryReservation: 1,
      memorySwap: 2,
      restart: "always",
      destroyGraceSeconds: 3,
      wait: false,
      waitTimeout: 4,
      mustRun: false,
    };
    expect(Object.keys(inPlace).sort()).toEqual([...IN_PLACE_INPUTS].sort());
    expect(releaseId("", { ...inputs, ...inPlace })).toBe(base);
  });
});
