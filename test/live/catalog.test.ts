// src/live/catalog.ts against a local HTTP server: the program's one direct call to Hetzner
// (GET /pricing) — a good answer gives the prices; an HTTP error, a timeout and a malformed body each
// give undefined and a warning naming the URL and the cause, so the plan falls back to the bundled
// snapshot's prices — and loadLiveCatalog, which joins it with the provider's server types.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { fetchPrices } from "../../src/live/catalog";

const TOKEN = "tok-3f9a";
let server: Server;
let base = "";
const seen: { path: string; auth: string | undefined }[] = [];
const pending = new Set<import("node:http").ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? "", auth: req.headers.authorization });
    const path = req.url ?? "";
    if (path === "/ok/pricing") {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          pricing: {
            server_types: [
              {
                name: "cx33",
                prices: [
                  { location: "fsn1", price_monthly: { net: "6.4900000000", gross: "7.7" } },
                  { location: "hel1", price_monthly: { net: "not a number" } },
                ],
              },
              { name: "cx43" },
            ],
          },
        }),
      );
    } else if (path === "/forbidden/pricing") {
      res.statusCode = 403;
      res.end('{"error":{"code":"forbidden"}}');
    } else if (path === "/malformed/pricing") {
      res.end("<html>maintenance</html>");
    } else if (path === "/wrong-shape/pricing") {
      res.end('{"pricing":{}}');
    } else if (path === "/slow/pricing") {
      pending.add(res); // never answered: the client's timeout must end the wait
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of pending) res.destroy();
  await new Promise((r) => server.close(r));
});

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  seen.length = 0;
  warn = vi.spyOn(pulumi.log, "warn").mockImplementation(async () => {});
});

afterEach(() => warn.mockRestore());

const warned = () => warn.mock.calls.map((c: unknown[]) => String(c[0]));

describe("fetchPrices against a local server", () => {
  it("reads each type's monthly net price per location, with the token as a bearer", async () => {
    expect(await fetchPrices(TOKEN, `${base}/ok/pricing`)).toEqual({ cx33: { fsn1: 6.49 } });
    expect(seen).toEqual([{ path: "/ok/pricing", auth: `Bearer ${TOKEN}` }]);
    expect(warned()).toEqual([]);
  });

  it("asks nothing without a token", async () => {
    expect(await fetchPrices(undefined, `${base}/ok/pricing`)).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it.each([
    ["an HTTP error", "forbidden", "HTTP 403"],
    ["a body that is not JSON", "malformed", "JSON"],
    ["JSON without the price list", "wrong-shape", "pricing: response has no pricing.server_types list"],
  ])("falls back on %s, with a warning naming the URL and the cause", async (_, path, cause) => {
    const url = `${base}/${path}/pricing`;
    expect(await fetchPrices(TOKEN, url)).toBeUndefined();
    expect(warned()).toHaveLength(1);
    expect(warned()[0]).toContain(`could not read live prices from ${url} (`);
    expect(warned()[0]).toContain(cause);
    expect(warned()[0]).toContain("using the bundled snapshot's prices");
    expect(warned()[0]).not.toContain(TOKEN);
  });

  it("falls back when the server does not answer in time", async () => {
    const t0 = Date.now();
    expect(await fetchPrices(TOKEN, `${base}/slow/pricing`, 300)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(warned()).toHaveLength(1);
    expect(warned()[0]).toContain(`${base}/slow/pricing`);
  });
});

describe("loadLiveCatalog: the provider's server types joined with the pricing call", () => {
  const serverTypes = [
    {
      id: 1,
      name: "cx33",
      cores: 4,
      memory: 8,
      disk: 80,
      architecture: "x86",
      cpuType: "shared",
      isDeprecated: false,
      locations: [
        { id: 1, name: "fsn1", isDeprecated: false, available: true },
        { id: 2, name: "hel1", isDeprecated: false, available: false },
      ],
    },
  ];
  let invoked: string[];
  beforeEach(async () => {
    invoked = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }),
        call: (a) => {
          invoked.push(a.token);
          return { serverTypes };
        },
      },
      "app-infra",
      "dev",
      false,
    );
  });

  it("prices each location from /pricing under the given endpoint, with the token unwrapped", async () => {
    const { loadLiveCatalog } = await import("../../src/live/catalog");
    const catalog = await loadLiveCatalog(pulumi.secret(TOKEN), `${base}/ok/`);
    expect(invoked).toEqual(["hcloud:index/getServerTypes:getServerTypes"]);
    expect(seen).toEqual([{ path: "/ok/pricing", auth: `Bearer ${TOKEN}` }]);
    expect(catalog.source).toBe("Hetzner Cloud API (server types and /v1/pricing)");
    expect(catalog.live).toBe(true);
    const cx33 = catalog.types.find((t) => t.name === "cx33");
    expect(cx33?.memoryGb).toBe(8);
    expect(cx33?.locations).toEqual([
      { name: "fsn1", available: true, priceMonthlyEur: 6.49 },
      // no live price for hel1 (the server sent a non-number): the bundled snapshot's price
      { name: "hel1", available: false, priceMonthlyEur: expect.any(Number) },
    ]);
    expect(warned()).toEqual([]);
  });

  it("keeps the server types and says so when the pricing call fails", async () => {
    const { loadLiveCatalog } = await import("../../src/live/catalog");
    const catalog = await loadLiveCatalog(pulumi.secret(TOKEN), `${base}/forbidden`);
    expect(catalog.types.map((t) => t.name)).toEqual(["cx33"]);
    expect(catalog.source).toMatch(/^Hetzner Cloud API \(server types\); prices from the /);
    expect(warned()).toHaveLength(1);
    expect(warned()[0]).toContain(`${base}/forbidden/pricing`);
  });
});
