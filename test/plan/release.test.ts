// src/plan/release.ts: the release id of a container's resolved inputs.
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
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

  it("with a key is the HMAC-SHA-256 of salt and inputs: not the plain hash a preview's reader could recompute", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy\n-----END OPENSSH PRIVATE KEY-----\n";
    const text = `4711-1\n${JSON.stringify({
      command: inputs.command,
      envs: inputs.envs,
      healthcheck: { interval: "15s", tests: ["CMD", "true"] },
      image: inputs.image,
    })}`;
    expect(releaseId("4711-1", inputs, key)).toBe(
      createHmac("sha256", key).update(text).digest("hex").slice(0, 12),
    );
    expect(releaseId("4711-1", inputs)).toBe(createHash("sha256").update(text).digest("hex").slice(0, 12));
    expect(releaseId("4711-1", inputs, key)).not.toBe(releaseId("4711-1", inputs));
    expect(releaseId("4711-1", inputs, `${key} `)).not.toBe(releaseId("4711-1", inputs, key));
    // A guess of the secret cannot be checked against the name without the key.
    expect(releaseId("", { ...inputs, envs: ["A=1", "FAL_KEY=rotated"] }, key)).not.toBe(
      releaseId("", inputs, key),
    );
    expect(releaseContainerName("api", "", inputs, key)).toBe(`api-${releaseId("", inputs, key)}`);
  });
});

describe("scripts that find the API by its name", () => {
  it("restore-redis.sh's default APP_CONTAINERS stops a release-named API, and nothing named like it that is not one", () => {
    const script = readFileSync(join(__dirname, "../../scripts/restore-redis.sh"), "utf8");
    const def = /^\s*local default_apps='(.+)'$/m.exec(script)?.[1];
    expect(def).toBeDefined();
    const re = new RegExp(def!);
    expect(re.test(releaseContainerName("api", "", inputs))).toBe(true);
    expect(re.test(releaseContainerName("api", "4711-1", inputs))).toBe(true);
    for (const other of ["bot", "worker-image-1", "worker-image-12"]) expect(re.test(other)).toBe(true);
    for (const not of ["api", "redis", "proxy", "api-xyz", `api-${"a".repeat(13)}`])
      expect(re.test(not)).toBe(false);
  });
});
