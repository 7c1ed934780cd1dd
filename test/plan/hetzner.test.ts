// The Hetzner slice: names from the stack, labels that find the server again, the chosen type and
// the requirements label, the firewall rules; nothing stage-dependent but the type and that label.
import { describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { cfg } from "./fixtures";

const hetzner = (raw: Record<string, unknown> = {}, stack = "shop") => {
  const c = cfg(raw, stack);
  return makePlan(c, snapshotCatalog()).hetzner!;
};

describe("the hetzner slice", () => {
  it("names every resource after the stack, with the project's labels", () => {
    const h = hetzner();
    const labels = { app: "app-infra", stack: "shop", role: "app" };
    expect(h.deployKey).toEqual({ name: "app-infra-shop-deploy", labels });
    expect(h.firewall.name).toBe("app-infra-shop");
    expect(h.firewall.labels).toEqual(labels);
    expect(h.server).toEqual({
      name: "app-infra-shop",
      image: "ubuntu-24.04",
      location: "fsn1",
      serverType: "cx33",
      keepDisk: true,
      backups: false,
      protect: false,
      labels: { ...labels, requirements: "3c-3g-60d-x86" },
      ipv4: true,
      ipv6: true,
    });
  });

  it("takes location, protection, backups and keepDisk from config", () => {
    const s = hetzner({ location: "hel1", server: { protect: true, backups: true, keepDisk: false } }).server;
    expect(s).toMatchObject({ location: "hel1", protect: true, backups: true, keepDisk: false });
  });

  it("a stage change moves only the type and the requirements label", () => {
    const one = hetzner({ stage: 1 });
    const three = hetzner({ stage: 3 });
    // (On today's catalog both stages get a cx33; the requirements differ either way.)
    expect(three.server.labels.requirements).toBe("4c-6g-60d-x86");
    expect({ ...three.server, serverType: "", labels: {} }).toEqual({
      ...one.server,
      serverType: "",
      labels: {},
    });
    expect(three.firewall).toEqual(one.firewall);
    expect(three.deployKey).toEqual(one.deployKey);
  });

  it("the firewall: SSH from adminCidrs, ping, and the API only when public", () => {
    const rules = hetzner({ adminCidrs: ["198.51.100.0/24"], services: { api: { public: false } } }).firewall
      .rules;
    expect(rules.map((r) => [r.protocol, r.port, r.sourceIps])).toEqual([
      ["tcp", "22", ["198.51.100.0/24"]],
      ["icmp", undefined, ["0.0.0.0/0", "::/0"]],
    ]);
  });

  it("is absent for the local target, and so are the host steps", () => {
    const c = cfg({ target: "local" });
    const p = makePlan(c, snapshotCatalog());
    expect(p.hetzner).toBeUndefined();
    expect(p.host).toBeUndefined();
    expect(p.app.containers.length).toBe(5);
  });
});
