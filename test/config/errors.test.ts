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

describe("ConfigError", () => {
  it("carries no stack trace, so Pulumi prints the problems alone and does not map a stack (38 s in a refused preview)", async () => {
    const { ConfigError, StackFileError } = await import("../../src/config/errors");
    const e = new ConfigError(['location: "nbg1" differs']);
    expect(e.stack).toBeUndefined();
    expect(e.message).toBe('app-infra: the stack configuration has 1 problem:\n  - location: "nbg1" differs');
    expect(new StackFileError("Pulumi.dev.yaml", ["Pulumi.dev.yaml:1:1: not YAML"]).stack).toBeUndefined();
  });
});
