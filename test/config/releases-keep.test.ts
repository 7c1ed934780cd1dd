// `releases/keep`: how many releases the `releases` output records and the host keeps (src/plan/releases.ts).
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { parseConfig } from "../../src/config/parse";

const problems = (keep: unknown): readonly string[] => {
  try {
    parseConfig("dev", { stage: 1, releases: { keep } });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
};

describe("releases/keep", () => {
  it("is 5 by default and takes 1..20", () => {
    expect(parseConfig("dev", { stage: 1 }).releases.keep).toBe(5);
    expect(parseConfig("dev", { stage: 1, releases: { keep: 1 } }).releases.keep).toBe(1);
    expect(parseConfig("dev", { stage: 1, releases: { keep: "20" } }).releases.keep).toBe(20);
  });

  it("refuses anything else, naming the key, the value and the range", () => {
    const hint = "should be an integer between 1 and 20";
    expect(problems(0)).toEqual([`releases/keep: ${hint} (got 0)`]);
    expect(problems(21)).toEqual([`releases/keep: ${hint} (got 21)`]);
    expect(problems(2.5)).toEqual([`releases/keep: ${hint} (got 2.5)`]);
    expect(problems("five")).toEqual([`releases/keep: ${hint} (got "five")`]);
  });
});
