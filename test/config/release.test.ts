// `release`: the deploy attempt id that salts the API's container name (src/plan/release.ts).
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { parseConfig } from "../../src/config/parse";

const problems = (release: unknown): readonly string[] => {
  try {
    parseConfig("dev", { stage: 1, release });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
};

describe("release", () => {
  it("is optional, and takes a CI run id and attempt, a tag or a date", () => {
    expect(parseConfig("dev", { stage: 1 }).release).toBeUndefined();
    for (const ok of ["4711-1", "v1.4.2", "2026-11-26t21.30z", "a_b"]) expect(problems(ok), ok).toEqual([]);
    // `pulumi config set release 4711` stores a number; its text is the id.
    expect(parseConfig("dev", { stage: 1, release: 4711 }).release).toBe("4711");
  });

  it("refuses what a container name cannot carry, naming the key, the value and what is allowed", () => {
    const hint =
      "should be up to 64 lower-case letters, digits, '.', '_' or '-' (a letter or digit first), such as 4711-1";
    expect(problems("Run 1")).toEqual([`release: ${hint} (got "Run 1")`]);
    expect(problems("-1")).toEqual([`release: ${hint} (got "-1")`]);
    expect(problems("a".repeat(65))).toEqual([`release: ${hint} (got "${"a".repeat(65)}")`]);
  });
});
