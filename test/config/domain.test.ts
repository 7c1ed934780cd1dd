// `domain` and `tls` (issue 14): the proxy's host name as RFC 1123 allows it, and TLS only with a
// name to certify. Each message is pinned through parseConfig, as a user meets it.
import { describe, expect, it } from "vitest";
import { domainProblem } from "../../src/config/domain";
import { ConfigError } from "../../src/config/errors";
import { parseConfig, type RawConfig } from "../../src/config/parse";

function problems(raw: RawConfig): readonly string[] {
  try {
    parseConfig("dev", { stage: 1, ...raw });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

const HINT = "should be a DNS host name with at least one dot, such as api.example.com";

describe("domain", () => {
  it("is optional, and so is tls (the plan decides tls from domain)", () => {
    const cfg = parseConfig("dev", { stage: 1 });
    expect(cfg.domain).toBeUndefined();
    expect(cfg.tls).toBeUndefined();
  });

  it.each(["api.example.com", "a.b", "x-1.example.co.uk", `${"a".repeat(63)}.example.com`, "1.example.com"])(
    "accepts %s",
    (domain) => {
      expect(problems({ domain })).toEqual([]);
      expect(parseConfig("dev", { stage: 1, domain }).domain).toBe(domain);
    },
  );

  it.each([
    ["localhost", "it needs at least one dot, e.g. api.example.com"],
    ["api.example.com.", "leave out the trailing dot"],
    ["API.example.com", "use lower case (api.example.com)"],
    ["https://api.example.com", "give the host name alone, without scheme or path"],
    ["api.example.com/v1", "give the host name alone, without scheme or path"],
    ["api..example.com", "it has an empty label (two dots in a row, or a leading dot)"],
    [".example.com", "it has an empty label (two dots in a row, or a leading dot)"],
    [
      "-api.example.com",
      'the label "-api" should be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen',
    ],
    [
      "api_1.example.com",
      'the label "api_1" should be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen',
    ],
    [
      `${"a".repeat(64)}.example.com`,
      `the label "${"a".repeat(64)}" should be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen`,
    ],
    ["203.0.113.7", "that is an IP address; the proxy needs a DNS name that points at the server"],
  ])("refuses %s, naming the key, the value and why", (domain, why) => {
    expect(problems({ domain })).toEqual([`domain: ${HINT} (got ${JSON.stringify(domain)}): ${why}`]);
  });

  it("refuses a name longer than 253 characters", () => {
    const long = `${"a.".repeat(126)}com`;
    expect(domainProblem(long)).toBe(`it is ${long.length} characters long, at most 253 are allowed`);
    expect(domainProblem(long.slice(2))).toBeUndefined();
  });
});

describe("tls", () => {
  it("needs a domain, and the error names both keys and both ways out", () => {
    expect(problems({ tls: true })).toEqual([
      "tls: true needs domain, the name the certificate is issued for (got tls true and no domain); " +
        "set domain (pulumi config set domain api.example.com) or remove tls (pulumi config rm tls)",
    ]);
    expect(problems({ tls: "true" })).toHaveLength(1);
  });

  it("false needs nothing, and true with a domain is fine", () => {
    expect(problems({ tls: false })).toEqual([]);
    expect(parseConfig("dev", { stage: 1, tls: "false" }).tls).toBe(false);
    expect(problems({ tls: true, domain: "api.example.com" })).toEqual([]);
  });

  it("with a bad domain, only the domain is reported (its fix also fixes tls)", () => {
    expect(problems({ tls: true, domain: "localhost" })).toEqual([
      `domain: ${HINT} (got "localhost"): it needs at least one dot, e.g. api.example.com`,
    ]);
  });

  it("is a boolean", () => {
    expect(problems({ tls: "yes", domain: "api.example.com" })).toEqual([
      'tls: should be true or false (got "yes")',
    ]);
  });
});
