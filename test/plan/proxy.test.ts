// The edge proxy in the plan (issue 14): a service like the others, the only one with published
// ports, its state on a kept volume, and a warning whenever it serves plain HTTP.
import { describe, expect, it } from "vitest";
import type { RawConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { planEdge, publicApiUrl } from "../../src/plan/proxy";
import { cfg } from "./fixtures";

const plan = (raw: RawConfig = {}) => makePlan(cfg(raw), snapshotCatalog());
const NO_DOMAIN =
  "domain: not set, so the edge proxy serves the API over plain HTTP on port 80, for any host name: " +
  "tokens and user data cross in clear text. Point a DNS name at the server and set it " +
  "(pulumi config set domain api.example.com) for HTTPS with a Let's Encrypt certificate";

describe("the proxy service", () => {
  const p = plan();
  const proxy = p.services.find((s) => s.role === "proxy")!;

  it("runs kamal-proxy v0.9.2 by default, with 64 MB (three times its measured 22.6 MB peak)", () => {
    expect(proxy).toMatchObject({
      name: "proxy",
      image: "basecamp/kamal-proxy:v0.9.2",
      command: ["kamal-proxy", "run"],
      memoryMb: 64,
      memoryReservationMb: 32,
      swapMb: 0,
      restart: "unless-stopped",
      secretEnv: [],
      singleton: true,
    });
  });

  it("publishes 80 and 443, and is the only service that publishes anything", () => {
    expect(proxy.ports).toEqual([
      { internal: 80, external: 80 },
      { internal: 443, external: 443 },
    ]);
    for (const s of p.services.filter((x) => x.role !== "proxy")) expect(s.ports, s.name).toEqual([]);
  });

  it("keeps its certificates and routing state on a volume the plan retains", () => {
    expect(proxy.volumes).toEqual([
      { volume: "kamal-proxy-config", containerPath: "/home/kamal-proxy/.config/kamal-proxy" },
    ]);
    expect(p.app.volumes.find((v) => v.name === "kamal-proxy-config")).toMatchObject({
      retainOnDelete: true,
    });
  });

  it("starts without waiting for Redis, which it never talks to", () => {
    expect(p.app.containers.find((c) => c.role === "proxy")!.after).toEqual([]);
  });

  it("takes its image and limits from the same keys as every service", () => {
    const q = plan({
      images: { proxy: "ghcr.io/acme/kamal-proxy:v0.9.2" },
      services: { proxy: { memoryMb: 96 } },
    });
    expect(q.services.find((s) => s.role === "proxy")).toMatchObject({
      image: "ghcr.io/acme/kamal-proxy:v0.9.2",
      memoryMb: 96,
      memoryReservationMb: 32,
    });
  });
});

describe("routing and its warnings", () => {
  it("without a domain: any host, plain HTTP, and the plan says so", () => {
    const p = plan();
    expect(p.edge).toEqual({ host: undefined, tls: false, service: "api", warnings: [NO_DOMAIN] });
    expect(p.warnings).toContain(NO_DOMAIN);
  });

  it("with a domain: TLS by default and no warning", () => {
    const p = plan({ domain: "api.example.com" });
    expect(p.edge).toEqual({ host: "api.example.com", tls: true, service: "api", warnings: [] });
    expect(p.warnings.filter((w) => w.startsWith("domain:") || w.startsWith("tls:"))).toEqual([]);
  });

  it("with a domain and tls: false, plain HTTP is a warning naming the domain", () => {
    expect(planEdge(cfg({ domain: "api.example.com", tls: false })).warnings).toEqual([
      "tls: false, so the edge proxy serves api.example.com over plain HTTP on port 80: tokens and user data cross in clear text " +
        "(pulumi config rm tls for HTTPS with a Let's Encrypt certificate)",
    ]);
  });

  it("the API's public URL follows the routing", () => {
    expect(publicApiUrl({ host: undefined, tls: false }, "203.0.113.10")).toBe("http://203.0.113.10");
    expect(publicApiUrl({ host: "api.example.com", tls: true }, "203.0.113.10")).toBe(
      "https://api.example.com",
    );
    expect(publicApiUrl({ host: "api.example.com", tls: false }, "203.0.113.10")).toBe(
      "http://api.example.com",
    );
  });
});
