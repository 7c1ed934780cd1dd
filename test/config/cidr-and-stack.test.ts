import { beforeEach, describe, expect, it, vi } from "vitest";
import { cidrProblem } from "../../src/config/cidr";
import { ConfigError } from "../../src/config/errors";
import { parseConfig } from "../../src/config/parse";

const problems = (stack: string, raw: Record<string, unknown>) => {
  try {
    parseConfig(stack, { stage: 1, ...raw });
    return [];
  } catch (e) {
    return (e as ConfigError).problems;
  }
};

describe("adminCidrs as Hetzner's firewall takes them", () => {
  it.each([
    "203.0.113.7/32",
    "203.0.113.0/24",
    "0.0.0.0/0",
    "::/0",
    "2001:db8::/32",
    "2001:db8::1/128",
    "fe80::/10",
  ])("%s is a network block", (c) => {
    expect(cidrProblem(c)).toBeUndefined();
  });
  it.each([
    [
      "203.0.113.7/24",
      /203\.0\.113\.7 is not the start of a \/24 block \(did you mean 203\.0\.113\.0\/24, or \/32 for one address\?\)/,
    ],
    ["10.0.0.1/0", /not the start of a \/0 block/],
    ["300.1.1.1/32", /is not an IPv4 or IPv6 address/],
    ["203.0.113.7/33", /prefix \/33 is longer than 32/],
    ["2001:db8::1/64", /2001:db8::1 is not the start of a \/64 block/],
    ["2001:db8::/129", /prefix \/129 is longer than 128/],
    ["203.0.113.7", /is not address\/prefix/],
  ])("%s is refused: %s", (c, why) => {
    expect(cidrProblem(c)).toMatch(why);
  });
  it("the config error names the key and the value", () => {
    expect(problems("dev", { adminCidrs: ["0.0.0.0/0", "203.0.113.7/24"] })).toEqual([
      'adminCidrs[1]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "203.0.113.7/24"): 203.0.113.7 is not the start of a /24 block (did you mean 203.0.113.0/24, or /32 for one address?)',
    ]);
  });
});

describe("the stack name names the Hetzner server", () => {
  it("refuses a name that is no hostname label, saying what is allowed", () => {
    expect(problems("prod_eu", {})).toEqual([
      'stack name "prod_eu" cannot name a Hetzner server (app-infra-prod_eu): use letters, digits and dashes, at most 53 characters, starting and ending with a letter or digit (pulumi stack rename)',
    ]);
    expect(problems("-dev", {})).toHaveLength(1);
    expect(problems("x".repeat(54), {})).toHaveLength(1);
  });
  it("accepts hostname labels, and any name for the local target", () => {
    expect(problems("prod-eu2", {})).toEqual([]);
    expect(problems("x".repeat(53), {})).toEqual([]);
    expect(problems("my_laptop", { target: "local" })).toEqual([]);
  });
});

describe("inputs that would open SSH to everyone or lock Pulumi out", () => {
  it("refuses the API on port 22", () => {
    expect(problems("dev", { services: { api: { port: 22 } } })).toEqual([
      "services/api/port: 22 is sshd's port on the server, and the API rule would open it to everyone past adminCidrs (got 22); use another port, e.g. 8000",
    ]);
    expect(problems("dev", { services: { api: { port: 2222 } } })).toEqual([]);
  });
  it("refuses an empty adminCidrs", () => {
    expect(problems("dev", { adminCidrs: [] })).toEqual([
      "adminCidrs: needs at least one CIDR block (got []): Pulumi itself reaches the server over SSH; allow your and your CI's addresses, or 0.0.0.0/0 and ::/0 (key-only login)",
    ]);
  });
});

describe("cidrProblem, loaded inside the test", () => {
  let C: typeof import("../../src/config/cidr");
  beforeEach(async () => {
    vi.resetModules();
    C = await import("../../src/config/cidr");
  });
  it("a bare prefix-like number without a slash is not address/prefix, not an address to check", () => {
    expect(C.cidrProblem("32")).toBe("it is not address/prefix, e.g. 203.0.113.7/32");
    expect(C.cidrProblem("7")).toBe("it is not address/prefix, e.g. 203.0.113.7/32");
  });
});
