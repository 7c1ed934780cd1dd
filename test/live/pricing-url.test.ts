import { describe, expect, it } from "vitest";
import { DEFAULT_ENDPOINT, pricingUrl } from "../../src/live/catalog";

describe("pricingUrl: the program's own pricing call follows the hcloud provider's endpoint", () => {
  it("uses Hetzner's public API when no endpoint is set", () => {
    expect(pricingUrl(undefined)).toBe(`${DEFAULT_ENDPOINT}/pricing`);
    expect(pricingUrl("")).toBe("https://api.hetzner.cloud/v1/pricing");
  });
  it("uses the configured endpoint (the lab's emulator), with or without a trailing slash", () => {
    expect(pricingUrl("http://127.0.0.1:4010/v1")).toBe("http://127.0.0.1:4010/v1/pricing");
    expect(pricingUrl("http://127.0.0.1:4010/v1//")).toBe("http://127.0.0.1:4010/v1/pricing");
  });
});
