// src/plan/gate.ts: the health-gated switch as a string, Kamal style.
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { gateCommand } from "../../src/plan/gate";
import { makePlan } from "../../src/plan/plan";
import { cfg } from "./fixtures";

const gate = (raw: Record<string, unknown> = {}) => makePlan(cfg(raw), snapshotCatalog()).app.gate;
const FAIL = (name: string, path: string) =>
  `{ echo 'app-infra: ${name} did not become healthy on ${path} within 60s; the running release keeps serving. ` +
  `Its last 50 log lines:' >&2; docker logs --tail 50 ${name} 2>&1; exit 1; }`;

describe("the gate", () => {
  it("targets the start-first API through the proxy container, on the API's port and health path", () => {
    expect(gate()).toEqual({
      resource: "api-deploy",
      proxyContainer: "proxy",
      container: "api",
      service: "api",
      port: 8000,
      healthPath: "/health",
      host: undefined,
      tls: false,
      deployTimeoutS: 60,
      drainTimeoutS: 30,
    });
  });

  it("without a domain: any host, plain HTTP", () => {
    expect(gateCommand(gate(), "api-0123456789ab")).toBe(
      "docker exec proxy kamal-proxy deploy api --target api-0123456789ab:8000 --health-check-path /health " +
        `--deploy-timeout 60s --drain-timeout 30s || ${FAIL("api-0123456789ab", "/health")}`,
    );
  });

  it("with a domain: --host and --tls, and the configured port and health path", () => {
    const g = gate({ domain: "api.example.com", services: { api: { port: 8081, healthPath: "/healthz" } } });
    expect(gateCommand(g, "api-x")).toBe(
      "docker exec proxy kamal-proxy deploy api --target api-x:8081 --host api.example.com --tls " +
        `--health-check-path /healthz --deploy-timeout 60s --drain-timeout 30s || ${FAIL("api-x", "/healthz")}`,
    );
    expect(gateCommand(gate({ domain: "api.example.com", tls: false }), "api-x")).toContain(
      "--host api.example.com --health-check-path",
    );
  });

  it("quotes what the shell could read otherwise", () => {
    expect(gateCommand(gate(), "it's")).toContain("--target 'it'\"'\"'s:8000'");
  });
});
