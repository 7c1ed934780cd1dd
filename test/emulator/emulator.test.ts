// The Hetzner Cloud API emulator with the in-memory backend: loopback only, no VMs.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePricing } from "../../src/plan/catalog";
import { FakeBackend } from "./backend";
import { startEmulator, type Emulator } from "./emulator";

const PUB_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAs3NjxhU2l6CmeglwMwgMdp7hhGf0igutLegRGMOSW5 test-a";
// `ssh-keygen -E md5 -lf` of PUB_A: Hetzner shows MD5 fingerprints.
const PUB_A_MD5 = "65:7c:58:29:ce:a7:9f:b9:66:64:23:19:b4:24:53:3f";
const PUB_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIeTshqc87QquxYiZJCgoikPJ51E3Ex+NqBjnhWA4Xxc test-b";

let emu: Emulator;
let backend: FakeBackend;

async function api(method: string, path: string, body?: unknown, token = emu.token) {
  const base = path.startsWith("/__emulator") ? emu.url.replace(/\/v1$/, "") : emu.url;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls like hcloud-go's ActionClient.WaitFor: GET /actions?id=…&id=…&sort=status&sort=id. */
async function waitActions(actions: { id: number }[], timeoutMs = 5000) {
  const q = actions.map((a) => `id=${a.id}`).join("&");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api("GET", `/actions?${q}&sort=status&sort=id&page=1`);
    expect(r.status).toBe(200);
    if (r.body.actions.every((a: any) => a.status !== "running")) return r.body.actions as any[];
    if (Date.now() > deadline) throw new Error(`actions still running: ${JSON.stringify(r.body.actions)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function createServer(name: string, extra: Record<string, unknown> = {}) {
  const r = await api("POST", "/servers", {
    name,
    server_type: "cx23",
    image: "ubuntu-24.04",
    location: "nbg1",
    ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const done = await waitActions([r.body.action, ...r.body.next_actions]);
  expect(done.map((a) => a.status)).toEqual(done.map(() => "success"));
  return r.body.server;
}

beforeAll(async () => {
  backend = new FakeBackend({ delayMs: 10 });
  emu = await startEmulator({ backend, token: "test-token" });
});
afterAll(async () => {
  await emu.stop();
});

describe("authentication and errors", () => {
  it("refuses a request without the bearer token, in Hetzner's error shape", async () => {
    const r = await api("GET", "/servers", undefined, "wrong");
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("unauthorized");
    expect(typeof r.body.error.message).toBe("string");
  });

  it("rejects an unknown body field with 400 naming the field", async () => {
    const r = await api("POST", "/ssh_keys", { name: "k", public_key: PUB_A, colour: "blue" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_input");
    expect(r.body.error.message).toContain("'colour'");
    expect(r.body.error.details.fields[0].name).toBe("colour");
  });

  it("rejects an unknown nested field and a known-but-unimplemented field", async () => {
    const nested = await api("POST", "/servers", {
      name: "n",
      server_type: "cx23",
      image: "ubuntu-24.04",
      public_net: { enable_ipv4: true, enable_ipv5: true },
    });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toContain("'public_net.enable_ipv5'");
    const vols = await api("POST", "/servers", {
      name: "n",
      server_type: "cx23",
      image: "ubuntu-24.04",
      volumes: [1],
    });
    expect(vols.status).toBe(400);
    expect(vols.body.error.message).toContain(
      "'volumes': is part of Hetzner's API but not implemented by the emulator",
    );
  });

  it("rejects an unknown query parameter with 400 naming it", async () => {
    const r = await api("GET", "/servers?colour=blue");
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("'colour'");
  });

  it("answers an unknown endpoint with 404 and a wrong method with 405, and records both", async () => {
    const r = await api("GET", "/volumes");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    expect(r.body.error.message).toContain("unknown endpoint GET /v1/volumes");
    const m = await api("PATCH", "/servers");
    expect(m.status).toBe(405);
    const rejected = emu.control.rejected().map((x) => `${x.method} ${x.path}`);
    expect(rejected).toContain("GET /v1/volumes");
    expect(rejected).toContain("PATCH /v1/servers");
  });
});

describe("catalogue", () => {
  it("lists the project's snapshot server types with per-location prices", async () => {
    const r = await api("GET", "/server_types?name=cx33");
    expect(r.status).toBe(200);
    const t = r.body.server_types[0];
    expect(t).toMatchObject({
      name: "cx33",
      cores: 4,
      memory: 8,
      disk: 80,
      architecture: "x86",
      cpu_type: "shared",
      storage_type: "local",
    });
    expect(t.prices.find((p: any) => p.location === "nbg1").price_monthly.net).toBe("8.4900000000");
    expect(r.body.meta.pagination).toMatchObject({ page: 1, total_entries: 1, next_page: null });
    const byId = await api("GET", `/server_types/${t.id}`);
    expect(byId.body.server_type.name).toBe("cx33");
  });

  it("finds ubuntu-24.04 by name and architecture, as Image.GetForArchitecture asks", async () => {
    const r = await api("GET", "/images?name=ubuntu-24.04&architecture=arm&include_deprecated=true");
    expect(r.body.images).toHaveLength(1);
    expect(r.body.images[0]).toMatchObject({ name: "ubuntu-24.04", architecture: "arm", type: "system" });
  });

  it("serves a pricing document that the program's own parsePricing reads", async () => {
    const r = await api("GET", "/pricing");
    const prices = parsePricing(r.body);
    expect(prices.cx23!.nbg1).toBe(5.49);
    expect(prices.ccx13!.ash).toBe(42.99);
    const cx23 = r.body.pricing.server_types
      .find((s: any) => s.name === "cx23")
      .prices.find((p: any) => p.location === "fsn1");
    expect(Number(cx23.price_monthly.gross)).toBeCloseTo(5.49 * 1.19, 3);
    expect(Number(cx23.price_hourly.net)).toBeGreaterThan(0);
    expect(r.body.pricing.primary_ips[0].type).toBe("ipv4");
  });

  it("changes a price at run time through the control API", async () => {
    expect(
      (await api("POST", "/__emulator/price", { serverType: "cx23", location: "fsn1", monthlyNetEur: 6.25 }))
        .status,
    ).toBe(200);
    expect(parsePricing((await api("GET", "/pricing")).body).cx23!.fsn1).toBe(6.25);
    const bad = await api("POST", "/__emulator/price", {
      serverType: "cx23",
      location: "ash",
      monthlyNetEur: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("not offered in ash");
  });

  it("a stock-out marks the type's location unavailable and refuses orders there", async () => {
    expect(
      (
        await api("POST", "/__emulator/availability", {
          serverType: "cx43",
          location: "hel1",
          available: false,
        })
      ).status,
    ).toBe(200);
    const t = (await api("GET", "/server_types?name=cx43")).body.server_types[0];
    expect(t.locations.find((l: any) => l.name === "hel1").available).toBe(false);
    expect(t.locations.find((l: any) => l.name === "nbg1").available).toBe(true);
    const dc = (await api("GET", "/datacenters?name=hel1-dc2")).body.datacenters[0];
    expect(dc.server_types.supported).toContain(t.id);
    expect(dc.server_types.available).not.toContain(t.id);
    const r = await api("POST", "/servers", {
      name: "sold-out",
      server_type: "cx43",
      image: "ubuntu-24.04",
      location: "hel1",
    });
    expect(r.body.error.code).toBe("resource_unavailable");
    await api("POST", "/__emulator/availability", { serverType: "cx43", location: "hel1", available: true });
  });

  it("paginates with Hetzner's meta", async () => {
    const r = await api("GET", "/server_types?per_page=10&page=2");
    expect(r.body.server_types).toHaveLength(10);
    expect(r.body.meta.pagination).toMatchObject({
      page: 2,
      per_page: 10,
      previous_page: 1,
      next_page: 3,
      last_page: 3,
      total_entries: 29,
    });
    expect((await api("GET", "/server_types?per_page=51")).status).toBe(400);
  });
});

describe("ssh keys and firewalls", () => {
  it("creates, filters, updates and deletes SSH keys; names and fingerprints are unique", async () => {
    const a = await api("POST", "/ssh_keys", { name: "key-a", public_key: PUB_A, labels: { app: "x" } });
    expect(a.status).toBe(201);
    expect(a.body.ssh_key.fingerprint).toBe(PUB_A_MD5);
    const sameName = await api("POST", "/ssh_keys", { name: "key-a", public_key: PUB_B });
    expect(sameName.status).toBe(409);
    expect(sameName.body.error.code).toBe("uniqueness_error");
    const sameKey = await api("POST", "/ssh_keys", { name: "key-other", public_key: PUB_A });
    expect(sameKey.body.error).toMatchObject({
      code: "uniqueness_error",
      message: "SSH key with the same fingerprint already exists",
    });
    const bad = await api("POST", "/ssh_keys", { name: "key-bad", public_key: "not a key" });
    expect(bad.body.error.details.fields[0].name).toBe("public_key");
    expect(
      (await api("GET", `/ssh_keys?fingerprint=${a.body.ssh_key.fingerprint}`)).body.ssh_keys,
    ).toHaveLength(1);
    expect((await api("GET", "/ssh_keys?label_selector=app%3D%3Dx")).body.ssh_keys).toHaveLength(1);
    expect((await api("GET", "/ssh_keys?label_selector=app%20notin%20(x,y)")).body.ssh_keys).toHaveLength(0);
    expect((await api("PUT", `/ssh_keys/${a.body.ssh_key.id}`, { labels: {} })).body.ssh_key.labels).toEqual(
      {},
    );
    expect((await api("DELETE", `/ssh_keys/${a.body.ssh_key.id}`)).status).toBe(204);
    expect((await api("GET", `/ssh_keys/${a.body.ssh_key.id}`)).body.error.code).toBe("not_found");
  });

  it("validates firewall rules and sets them through an action", async () => {
    const bad = await api("POST", "/firewalls", {
      name: "fw-bad",
      rules: [{ direction: "in", protocol: "tcp", source_ips: ["0.0.0.0/0"] }],
    });
    expect(bad.body.error.message).toContain("'rules[0].port': is required for protocol tcp");
    const fw = await api("POST", "/firewalls", {
      name: "fw-1",
      rules: [{ direction: "in", protocol: "tcp", port: "22", source_ips: ["0.0.0.0/0", "::/0"] }],
    });
    expect(fw.status).toBe(201);
    expect(fw.body.firewall.rules[0]).toEqual({
      direction: "in",
      protocol: "tcp",
      port: "22",
      source_ips: ["0.0.0.0/0", "::/0"],
      destination_ips: [],
      description: null,
    });
    const set = await api("POST", `/firewalls/${fw.body.firewall.id}/actions/set_rules`, {
      rules: [{ direction: "in", protocol: "icmp", source_ips: ["0.0.0.0/0"] }],
    });
    expect(set.status).toBe(201);
    await waitActions(set.body.actions);
    expect((await api("GET", `/firewalls/${fw.body.firewall.id}`)).body.firewall.rules[0].protocol).toBe(
      "icmp",
    );
    expect((await api("POST", "/firewalls", { name: "fw-1" })).body.error.code).toBe("uniqueness_error");
  });
});

describe("servers", () => {
  it("creates, gets, lists and deletes a server; actions go running → success", async () => {
    const key = (await api("POST", "/ssh_keys", { name: "deploy", public_key: PUB_B })).body.ssh_key;
    const fw = (await api("POST", "/firewalls", { name: "fw-srv", rules: [] })).body.firewall;
    const r = await api("POST", "/servers", {
      name: "app-1",
      server_type: "cx23",
      image: "ubuntu-24.04",
      location: "nbg1",
      ssh_keys: [key.id],
      firewalls: [{ firewall: fw.id }],
      user_data: "#cloud-config\n",
      labels: { app: "app-infra" },
      public_net: { enable_ipv4: true, enable_ipv6: true },
      start_after_create: true,
    });
    expect(r.status).toBe(201);
    expect(r.body.server).toMatchObject({
      name: "app-1",
      status: "initializing",
      locked: true,
      primary_disk_size: 40,
    });
    expect(r.body.action).toMatchObject({
      command: "create_server",
      status: "running",
      resources: [{ id: r.body.server.id, type: "server" }],
    });
    expect(r.body.next_actions.map((a: any) => a.command)).toEqual(["start_server"]);
    expect(r.body.root_password).toBeNull();
    const done = await waitActions([r.body.action, ...r.body.next_actions]);
    expect(done.every((a) => a.status === "success" && a.progress === 100 && a.finished)).toBe(true);

    const s = (await api("GET", `/servers/${r.body.server.id}`)).body.server;
    expect(s).toMatchObject({
      status: "running",
      locked: false,
      server_type: { name: "cx23" },
      location: { name: "nbg1" },
      datacenter: { name: "nbg1-dc3" },
      image: { name: "ubuntu-24.04" },
      labels: { app: "app-infra" },
    });
    expect(s.public_net.ipv4.ip).toMatch(/^127\.0\.0\.\d+$/);
    expect(s.public_net.ipv6.ip).toMatch(/\/64$/);
    expect(s.public_net.firewalls).toEqual([{ id: fw.id, status: "applied" }]);
    expect((await api("GET", `/firewalls/${fw.id}`)).body.firewall.applied_to).toEqual([
      { type: "server", server: { id: s.id } },
    ]);
    expect(backend.machines.get(s.id)!.spec).toMatchObject({
      ip: s.public_net.ipv4.ip,
      cores: 2,
      memoryGb: 4,
      userData: "#cloud-config\n",
      sshPublicKeys: [PUB_B],
    });

    expect((await api("GET", "/servers?name=app-1")).body.servers.map((x: any) => x.id)).toEqual([s.id]);
    expect((await api("GET", "/servers?label_selector=app%3Dapp-infra")).body.servers).toHaveLength(1);
    expect((await api("PUT", `/servers/${s.id}`, { labels: { app: "other" } })).body.server.labels).toEqual({
      app: "other",
    });

    // A firewall in use cannot be deleted.
    expect((await api("DELETE", `/firewalls/${fw.id}`)).body.error.code).toBe("resource_in_use");

    const del = await api("DELETE", `/servers/${s.id}`);
    expect(del.status).toBe(200);
    expect(del.body.action.command).toBe("delete_server");
    await waitActions([del.body.action]);
    const gone = await api("GET", `/servers/${s.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("not_found");
    expect((await api("GET", `/firewalls/${fw.id}`)).body.firewall.applied_to).toEqual([]);
    expect((await api("DELETE", `/firewalls/${fw.id}`)).status).toBe(204);
  });

  it("refuses a second server with the same name", async () => {
    await createServer("dup");
    const r = await api("POST", "/servers", {
      name: "dup",
      server_type: "cx23",
      image: "ubuntu-24.04",
      location: "fsn1",
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("uniqueness_error");
    expect(r.body.error.details.fields[0].name).toBe("name");
  });

  it("change_type needs a powered-off server, changes the type and starts it again", async () => {
    const s = await createServer("resize-me");
    const running = await api("POST", `/servers/${s.id}/actions/change_type`, {
      server_type: "cx33",
      upgrade_disk: false,
    });
    expect(running.status).toBe(409);
    expect(running.body.error.code).toBe("server_not_stopped");

    const off = await api("POST", `/servers/${s.id}/actions/poweroff`);
    expect(off.body.action).toMatchObject({ command: "stop_server", status: "running" });
    await waitActions([off.body.action]);
    expect((await api("GET", `/servers/${s.id}`)).body.server.status).toBe("off");

    const ct = await api("POST", `/servers/${s.id}/actions/change_type`, {
      server_type: "cx33",
      upgrade_disk: false,
    });
    expect(ct.status).toBe(201);
    expect(ct.body.action.command).toBe("change_server_type");
    // In progress: migrating, then starting again. The fake backend's steps take 10 ms, so a slow
    // request (a loaded CI machine) can already see the second; either way the server is locked.
    const during = (await api("GET", `/servers/${s.id}`)).body.server;
    expect(["migrating", "starting"]).toContain(during.status);
    expect(during.locked).toBe(true);
    const [done] = await waitActions([ct.body.action]);
    expect(done.status).toBe("success");
    const after = (await api("GET", `/servers/${s.id}`)).body.server;
    expect(after).toMatchObject({
      status: "running",
      server_type: { name: "cx33", cores: 4, memory: 8 },
      primary_disk_size: 40,
    });
    expect(backend.info(s.id)).toMatchObject({
      running: true,
      requested: { cores: 4, memoryGb: 8, diskGb: 40 },
      boots: 2,
    });

    // The kept disk makes the downgrade possible; an upgraded disk does not.
    await waitActions([(await api("POST", `/servers/${s.id}/actions/poweroff`)).body.action]);
    await waitActions([
      (await api("POST", `/servers/${s.id}/actions/change_type`, { server_type: "cx43", upgrade_disk: true }))
        .body.action,
    ]);
    expect((await api("GET", `/servers/${s.id}`)).body.server.primary_disk_size).toBe(160);
    await waitActions([(await api("POST", `/servers/${s.id}/actions/poweroff`)).body.action]);
    const down = await api("POST", `/servers/${s.id}/actions/change_type`, {
      server_type: "cx23",
      upgrade_disk: false,
    });
    expect(down.body.error.code).toBe("invalid_server_type");
    const arm = await api("POST", `/servers/${s.id}/actions/change_type`, {
      server_type: "cax41",
      upgrade_disk: false,
    });
    expect(arm.body.error.code).toBe("invalid_server_type");
    const missing = await api("POST", `/servers/${s.id}/actions/change_type`, { server_type: "cx43" });
    expect(missing.body.error.message).toContain("'upgrade_disk': is required");
  });

  it("with changeTypeStartsServer=false, change_type leaves the server off", async () => {
    const other = await startEmulator({
      backend: new FakeBackend({ delayMs: 5 }),
      changeTypeStartsServer: false,
    });
    try {
      const call = async (method: string, path: string, body?: unknown) =>
        (
          await fetch(`${other.url}${path}`, {
            method,
            headers: { Authorization: `Bearer ${other.token}` },
            body: body === undefined ? undefined : JSON.stringify(body),
          })
        ).json() as Promise<any>;
      const settle = async (id: number) => {
        while ((await call("GET", `/actions/${id}`)).action.status === "running")
          await new Promise((r) => setTimeout(r, 10));
      };
      const c = await call("POST", "/servers", {
        name: "x",
        server_type: "cx23",
        image: "ubuntu-24.04",
        start_after_create: false,
      });
      await settle(c.action.id);
      expect(c.next_actions).toEqual([]);
      expect((await call("GET", `/servers/${c.server.id}`)).server.status).toBe("off");
      await settle(
        (
          await call("POST", `/servers/${c.server.id}/actions/change_type`, {
            server_type: "cx33",
            upgrade_disk: true,
          })
        ).action.id,
      );
      expect((await call("GET", `/servers/${c.server.id}`)).server).toMatchObject({
        status: "off",
        server_type: { name: "cx33" },
        primary_disk_size: 80,
      });
    } finally {
      await other.stop();
    }
  });

  it("a failing machine operation ends the action in error with its message", async () => {
    const s = await createServer("flaky");
    await waitActions([(await api("POST", `/servers/${s.id}/actions/poweroff`)).body.action]);
    backend.failNext("powerOn", "qemu: could not boot");
    const on = await api("POST", `/servers/${s.id}/actions/poweron`);
    const [a] = await waitActions([on.body.action]);
    expect(a).toMatchObject({
      status: "error",
      error: { code: "action_failed", message: "qemu: could not boot" },
    });
    expect((await api("GET", `/servers/${s.id}`)).body.server.status).toBe("off");

    await api("POST", "/__emulator/fail-next-action", { command: "start_server", message: "injected" });
    const [b] = await waitActions([(await api("POST", `/servers/${s.id}/actions/poweron`)).body.action]);
    expect(b.error.message).toBe("injected");
  });

  it("shutdown succeeds when the ACPI request is sent; the server turns off when the guest halts", async () => {
    const s = await createServer("acpi");
    const sd = await api("POST", `/servers/${s.id}/actions/shutdown`);
    expect(sd.body.action.command).toBe("shutdown_server");
    await waitActions([sd.body.action]);
    for (let i = 0; i < 100 && (await api("GET", `/servers/${s.id}`)).body.server.status !== "off"; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await api("GET", `/servers/${s.id}`)).body.server.status).toBe("off");
  });

  it("backups, protection and the delete lock", async () => {
    const s = await createServer("guarded");
    await waitActions([(await api("POST", `/servers/${s.id}/actions/enable_backup`)).body.action]);
    expect((await api("GET", `/servers/${s.id}`)).body.server.backup_window).toBeTruthy();
    await waitActions([(await api("POST", `/servers/${s.id}/actions/disable_backup`)).body.action]);
    expect((await api("GET", `/servers/${s.id}`)).body.server.backup_window).toBeNull();
    await waitActions([
      (await api("POST", `/servers/${s.id}/actions/change_protection`, { delete: true, rebuild: true })).body
        .action,
    ]);
    const del = await api("DELETE", `/servers/${s.id}`);
    expect(del.status).toBe(423);
    expect(del.body.error.code).toBe("protected");
  });

  it("the control API shows what each machine got", async () => {
    const st = (await api("GET", "/__emulator/state")).body;
    const srv = st.servers.find((x: any) => x.name === "resize-me");
    // Left powered off by the refused downgrades above.
    expect(srv.status).toBe("off");
    expect(srv.machine).toMatchObject({
      running: false,
      requested: { cores: 8, memoryGb: 16, diskGb: 160 },
      actual: { cores: 8, memoryMb: 16384 },
    });
  });
});

describe("private networks", () => {
  it("creates a network in private space, adds a /24 cloud subnet in a zone, refuses overlaps and bad ranges", async () => {
    const bad = await api("POST", "/networks", { name: "n-bad", ip_range: "8.8.0.0/16" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/ip_range.*private network/);
    const r = await api("POST", "/networks", { name: "n1", ip_range: "10.0.0.0/16", labels: { app: "x" } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = r.body.network.id;
    expect(r.body.network).toMatchObject({ name: "n1", ip_range: "10.0.0.0/16", subnets: [], servers: [] });
    expect((await api("POST", "/networks", { name: "n1", ip_range: "10.1.0.0/16" })).body.error.code).toBe(
      "uniqueness_error",
    );
    const add = await api("POST", `/networks/${id}/actions/add_subnet`, {
      type: "cloud",
      network_zone: "eu-central",
      ip_range: "10.0.1.0/24",
    });
    expect(add.status).toBe(201);
    expect((await waitActions([add.body.action]))[0].status).toBe("success");
    const got = (await api("GET", `/networks/${id}`)).body.network;
    expect(got.subnets).toEqual([
      { type: "cloud", ip_range: "10.0.1.0/24", network_zone: "eu-central", gateway: "10.0.0.1" },
    ]);
    const again = await api("POST", `/networks/${id}/actions/add_subnet`, {
      type: "cloud",
      network_zone: "eu-central",
      ip_range: "10.0.1.128/25",
    });
    expect(again.body.error.code).toBe("networks_overlap");
    const outside = await api("POST", `/networks/${id}/actions/add_subnet`, {
      type: "cloud",
      network_zone: "eu-central",
      ip_range: "10.9.0.0/24",
    });
    expect(outside.body.error.message).toMatch(/inside the network's 10\.0\.0\.0\/16/);
    const zone = await api("POST", `/networks/${id}/actions/add_subnet`, {
      type: "cloud",
      network_zone: "mars",
    });
    expect(zone.body.error.message).toMatch(/network_zone/);
    // Found by name, as the provider's Get does for a non-numeric ID.
    expect((await api("GET", "/networks?name=n1")).body.networks.map((n: any) => n.id)).toEqual([id]);
    const upd = await api("PUT", `/networks/${id}`, { labels: { app: "y" } });
    expect(upd.body.network.labels).toEqual({ app: "y" });
  });

  it("attaches servers at a fixed or the next free address, and detaches them; the subnet holds while servers are attached", async () => {
    const n = (await api("POST", "/networks", { name: "n2", ip_range: "10.0.0.0/16" })).body.network;
    await waitActions([
      (
        await api("POST", `/networks/${n.id}/actions/add_subnet`, {
          type: "cloud",
          network_zone: "eu-central",
          ip_range: "10.0.1.0/24",
        })
      ).body.action,
    ]);
    const a = await createServer("net-a");
    const b = await createServer("net-b");
    const attach = async (s: number, body: Record<string, unknown>) =>
      api("POST", `/servers/${s}/actions/attach_to_network`, { network: n.id, ...body });
    const fixed = await attach(a.id, { ip: "10.0.1.2" });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(201);
    await waitActions([fixed.body.action]);
    expect((await attach(a.id, {})).body.error.code).toBe("server_already_attached");
    expect((await attach(b.id, { ip: "10.0.1.2" })).body.error.code).toBe("ip_not_available");
    expect((await attach(b.id, { ip: "10.0.2.5" })).body.error.code).toBe("ip_not_available");
    // ip_range names the subnet (the provider sends it for a subnet_id): it must be one.
    expect((await attach(b.id, { ip: "10.0.1.3", ip_range: "10.0.7.0/24" })).body.error.message).toMatch(
      /ip_range.*should be a subnet/,
    );
    const next = await attach(b.id, { ip_range: "10.0.1.0/24" });
    await waitActions([next.body.action]);
    const ips = async () =>
      Promise.all(
        [a.id, b.id].map(async (id) =>
          (await api("GET", `/servers/${id}`)).body.server.private_net.map((p: any) => p.ip),
        ),
      );
    // Without `ip`: the lowest free host address of the zone's subnet, never the network's gateway
    // (Hetzner documents no order; the program always asks for a fixed one).
    expect(await ips()).toEqual([["10.0.1.2"], ["10.0.1.1"]]);
    expect((await api("GET", `/servers/${a.id}`)).body.server.private_net[0]).toMatchObject({
      network: n.id,
      alias_ips: [],
      mac_address: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
    });
    expect((await api("GET", `/networks/${n.id}`)).body.network.servers).toEqual([a.id, b.id]);
    // Each attach plugged the machine's NIC in, with the address and MAC the API shows.
    const mac = (await api("GET", `/servers/${a.id}`)).body.server.private_net[0].mac_address;
    expect(backend.machines.get(a.id)!.nics).toEqual([
      { network: n.id, ipRange: "10.0.0.0/16", ip: "10.0.1.2", mac },
    ]);
    // A subnet with servers in it stays, in the words the provider tolerates.
    const del = await api("POST", `/networks/${n.id}/actions/delete_subnet`, { ip_range: "10.0.1.0/24" });
    expect(del.body.error.message).toContain("servers are attached");
    const off = await api("POST", `/servers/${b.id}/actions/detach_from_network`, { network: n.id });
    await waitActions([off.body.action]);
    expect(
      (await api("POST", `/servers/${b.id}/actions/detach_from_network`, { network: n.id })).body.error.code,
    ).toBe("server_not_attached_to_network");
    expect(await ips()).toEqual([["10.0.1.2"], []]);
    expect(backend.machines.get(b.id)!.nics).toEqual([]);
    // Deleting the network detaches the rest; a server in another zone finds no subnet.
    expect((await api("DELETE", `/networks/${n.id}`)).status).toBe(204);
    expect(await ips()).toEqual([[], []]);
    await expect.poll(() => backend.machines.get(a.id)!.nics).toEqual([]);
    const far = (await api("POST", "/networks", { name: "n3", ip_range: "10.0.0.0/16" })).body.network;
    await waitActions([
      (
        await api("POST", `/networks/${far.id}/actions/add_subnet`, {
          type: "cloud",
          network_zone: "us-east",
        })
      ).body.action,
    ]);
    expect((await api("GET", `/networks/${far.id}`)).body.network.subnets[0].ip_range).toBe("10.0.0.0/24");
    expect((await attach(a.id, { network: far.id })).body.error.code).toBe("no_subnet_available");
  });
});

describe("command line", () => {
  it("main.ts prints its URL and token and stops on SIGTERM", async () => {
    const tsx = join(__dirname, "..", "..", "node_modules", "tsx", "dist", "cli.mjs");
    const p = spawn(process.execPath, [tsx, join(__dirname, "main.ts"), "--port", "0", "--backend", "fake"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      p.stdout.on("data", (d) => {
        out += String(d);
        if (out.includes("\n")) resolve(out.split("\n")[0]!);
      });
      p.on("exit", (c) => reject(new Error(`exited ${c}`)));
    });
    const info = JSON.parse(line);
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    // The provider's SDKv2 half accepts only 64-character tokens.
    expect(info.token).toMatch(/^[0-9a-f]{64}$/);
    const r = await fetch(`${info.url}/locations?name=fsn1`, {
      headers: { Authorization: `Bearer ${info.token}` },
    });
    expect(((await r.json()) as any).locations[0].city).toBe("Falkenstein");
    const code = await new Promise<number | null>((resolve) => {
      p.on("exit", (c) => resolve(c));
      p.kill("SIGTERM");
    });
    expect(code).toBe(0);
  });
});
