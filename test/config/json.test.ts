import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonExact } from "../../src/config/json";

describe("parseJsonExact", () => {
  it("keeps an integer beyond 2^53 as its decimal text", () => {
    expect(parseJsonExact('{"q":12345678901234567890,"n":-9007199254740993}')).toEqual({
      q: "12345678901234567890",
      n: "-9007199254740993",
    });
  });
  it("leaves safe integers, floats, exponents and strings alone", () => {
    expect(
      parseJsonExact('[9007199254740991,-1001234567890,1.5,1e30,"12345678901234567890","a\\"1"]'),
    ).toEqual([9007199254740991, -1001234567890, 1.5, 1e30, "12345678901234567890", 'a"1']);
  });
  it("throws on invalid JSON as JSON.parse does", () => {
    expect(() => parseJsonExact("{bad}")).toThrow(SyntaxError);
  });
  it("agrees with JSON.parse on any JSON without unsafe integers", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
        const text = JSON.stringify(v);
        fc.pre(!/(^|[^\d.eE+-])-?\d{16,}(?![\d.eE])/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""')));
        expect(parseJsonExact(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });
});
