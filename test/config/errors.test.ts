import { beforeEach, describe, expect, it, vi } from "vitest";

describe("show", () => {
  let E: typeof import("../../src/config/errors");
  beforeEach(async () => {
    vi.resetModules();
    E = await import("../../src/config/errors");
  });
  it("shows a value whose JSON is exactly 60 characters whole, and cuts one of 61 to 57 and ...", () => {
    // ["…"] with 56 letters inside is 2 + 56 + 2 = 60 characters; with 57 letters it is 61.
    expect(E.show(["a".repeat(56)])).toBe(`["${"a".repeat(56)}"]`);
    expect(E.show(["a".repeat(57)])).toBe(`["${"a".repeat(55)}...`);
  });
});
