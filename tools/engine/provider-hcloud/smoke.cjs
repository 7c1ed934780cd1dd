#!/usr/bin/env node
// Smoke test of a built pulumi-resource-hcloud, without the Pulumi CLI: it plays the engine's part
// over gRPC (the plugin's own protocol, pulumi/pulumi proto/pulumi/provider.proto) against a
// loopback stub of the few Hetzner Cloud API routes it needs.
//
//   node tools/engine/provider-hcloud/smoke.cjs PATH/TO/pulumi-resource-hcloud
//   node tools/engine/provider-hcloud/smoke.cjs --serve   # only the stub: prints its endpoint,
//                                                         # then logs each request (for a real
//                                                         # `pulumi preview/up` against it)
//
// Checks: schema tokens/property names the @pulumi/hcloud 1.41.0 SDK sends; Configure with
// endpoint + token; the getServerTypes invoke walks GET /server_types pages; SshKey
// create/read/delete; Firewall create with a "running" action that is polled via
// GET /actions?id=...; Server create (backups, protection, firewall, user data), a server-type
// change (poweroff + change_type) and delete; Firewall delete. Prints every stub request. Exit code 0 = all good.
"use strict";

const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const { spawn } = require("node:child_process");

// The gRPC stubs and protobuf runtime that @pulumi/pulumi itself ships (resolved from the repo).
const repoRoot = path.resolve(__dirname, "../../..");
const req = (m) => require(require.resolve(m, { paths: [repoRoot] }));
const grpc = req("@grpc/grpc-js");
const providerPb = req("@pulumi/pulumi/proto/provider_pb.js");
const providerGrpc = req("@pulumi/pulumi/proto/provider_grpc_pb.js");
const pluginPb = req("@pulumi/pulumi/proto/plugin_pb.js");
const { Struct } = req("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = req("google-protobuf/google/protobuf/empty_pb.js");

// A Hetzner token is exactly 64 characters; the SDKv2 half of the provider rejects anything else
// (terraform-provider-hcloud v1.59.0 hcloud/provider.go:45-51).
const TOKEN = "t".repeat(64);

function serverType(id, name) {
  return {
    id,
    name,
    description: name.toUpperCase(),
    category: "shared",
    cores: 2,
    memory: 4.0,
    disk: 40,
    storage_type: "local",
    cpu_type: "shared",
    architecture: "x86",
    included_traffic: 0,
    prices: [],
    deprecated: false,
    deprecation: null,
    locations: [{ id: 1, name: "fsn1", deprecation: null }],
  };
}

function startStub() {
  const seen = [];
  let nextAction = 1;
  const actions = new Map();
  const newAction = (command, status) => {
    const a = {
      id: nextAction++,
      command,
      status,
      progress: status === "running" ? 0 : 100,
      started: "2026-01-01T00:00:00Z",
      finished: null,
      error: null,
      resources: [],
    };
    actions.set(a.id, a);
    return a;
  };
  const sshKey = {
    id: 101,
    name: "k",
    fingerprint: "aa:bb",
    public_key: "ssh-ed25519 AAAA k",
    labels: { a: "b" },
    created: "2026-01-01T00:00:00Z",
  };
  const vm = {
    id: 42,
    name: "",
    status: "running",
    created: "2026-01-01T00:00:00Z",
    public_net: {
      ipv4: { id: 1, ip: "203.0.113.10", blocked: false, dns_ptr: "" },
      ipv6: { id: 2, ip: "2001:db8:1:2::/64", blocked: false, dns_ptr: [] },
      floating_ips: [],
      firewalls: [],
    },
    private_net: [],
    server_type: serverType(1, "cx23"),
    included_traffic: 0,
    outgoing_traffic: 0,
    ingoing_traffic: 0,
    backup_window: null,
    rescue_enabled: false,
    iso: null,
    locked: false,
    location: {
      id: 1,
      name: "fsn1",
      description: "Falkenstein DC Park 1",
      country: "DE",
      city: "Falkenstein",
      latitude: 50.47612,
      longitude: 12.370071,
      network_zone: "eu-central",
    },
    image: { id: 161547269, name: "ubuntu-24.04", type: "system", architecture: "x86" },
    protection: { delete: false, rebuild: false },
    labels: {},
    volumes: [],
    primary_disk_size: 40,
    placement_group: null,
    load_balancers: [],
  };
  const firewall = {
    id: 7,
    name: "fw",
    labels: {},
    rules: [],
    applied_to: [],
    created: "2026-01-01T00:00:00Z",
  };

  const server = http.createServer((rq, rs) => {
    let body = "";
    rq.on("data", (c) => (body += c));
    rq.on("end", () => {
      const url = new URL(rq.url, "http://stub");
      seen.push({ method: rq.method, path: url.pathname + url.search, auth: rq.headers.authorization, body });
      const send = (code, obj) => {
        rs.writeHead(code, { "content-type": "application/json" });
        rs.end(obj === undefined ? "" : JSON.stringify(obj));
      };
      const notFound = () => send(404, { error: { code: "not_found", message: "not found", details: {} } });
      const p = url.pathname;
      if (rq.headers.authorization !== `Bearer ${TOKEN}`)
        return send(401, { error: { code: "unauthorized", message: "bad token" } });
      if (rq.method === "GET" && p === "/v1/server_types" && url.searchParams.has("name")) {
        const name = url.searchParams.get("name");
        return send(200, { server_types: [serverType(name === "cx33" ? 2 : 1, name)] });
      }
      if (rq.method === "GET" && p === "/v1/images") {
        return send(200, {
          images: [
            {
              id: 161547269,
              name: url.searchParams.get("name"),
              type: "system",
              status: "available",
              architecture: url.searchParams.get("architecture"),
              deprecated: null,
              os_flavor: "ubuntu",
              os_version: "24.04",
              rapid_deploy: true,
              disk_size: 5,
              image_size: null,
              description: "Ubuntu 24.04",
              created: "2026-01-01T00:00:00Z",
              protection: { delete: false },
              labels: {},
              bound_to: null,
              created_from: null,
              deleted: null,
            },
          ],
        });
      }
      if (rq.method === "POST" && p === "/v1/servers") {
        const b = JSON.parse(body);
        Object.assign(vm, {
          name: b.name,
          labels: b.labels || {},
          server_type: serverType(1, b.server_type),
          public_net: {
            ...vm.public_net,
            firewalls: (b.firewalls || []).map((f) => ({ id: f.firewall, status: "applied" })),
          },
        });
        return send(201, {
          server: vm,
          action: newAction("create_server", "running"),
          next_actions: [],
          root_password: null,
        });
      }
      if (p === "/v1/servers/42" && rq.method === "GET") return send(200, { server: vm });
      if (p === "/v1/servers/42" && rq.method === "DELETE")
        return send(200, { action: newAction("delete_server", "success") });
      const act = p.match(/^\/v1\/servers\/42\/actions\/(\w+)$/);
      if (act && rq.method === "POST") {
        const b = body ? JSON.parse(body) : {};
        if (act[1] === "enable_backup") vm.backup_window = "22-02";
        if (act[1] === "change_protection") vm.protection = { delete: b.delete, rebuild: b.rebuild };
        if (act[1] === "poweroff") vm.status = "off";
        // Hetzner's API reference: change_type needs a stopped server and "starts it again".
        if (act[1] === "change_type") {
          assert.equal(vm.status, "off", "change_type on a running server");
          Object.assign(vm, { server_type: serverType(2, b.server_type), status: "running" });
        }
        return send(201, { action: newAction(act[1], "running") });
      }
      if (rq.method === "GET" && p === "/v1/server_types") {
        // Two pages, so the client's paging (meta.pagination.next_page) is exercised.
        const page = Number(url.searchParams.get("page") || "1");
        const items = page === 1 ? [serverType(1, "cx23")] : [serverType(2, "cx33")];
        return send(200, {
          server_types: items,
          meta: {
            pagination: {
              page,
              per_page: 1,
              previous_page: page === 1 ? null : 1,
              next_page: page === 1 ? 2 : null,
              last_page: 2,
              total_entries: 2,
            },
          },
        });
      }
      if (rq.method === "POST" && p === "/v1/ssh_keys") {
        const b = JSON.parse(body);
        Object.assign(sshKey, { name: b.name, public_key: b.public_key, labels: b.labels || {} });
        return send(201, { ssh_key: sshKey });
      }
      if (p === "/v1/ssh_keys/101") {
        if (rq.method === "GET") return send(200, { ssh_key: sshKey });
        if (rq.method === "DELETE") return send(204);
      }
      if (rq.method === "POST" && p === "/v1/firewalls") {
        const b = JSON.parse(body);
        Object.assign(firewall, {
          name: b.name,
          labels: b.labels || {},
          rules: (b.rules || []).map((r) => ({
            source_ips: [],
            destination_ips: [],
            port: null,
            description: null,
            ...r,
          })),
        });
        return send(201, { firewall, actions: [newAction("set_firewall_rules", "running")] });
      }
      if (p === "/v1/firewalls/7") {
        if (rq.method === "GET") return send(200, { firewall });
        if (rq.method === "DELETE") return send(204);
      }
      if (rq.method === "GET" && p === "/v1/actions") {
        const ids = url.searchParams.getAll("id").map(Number);
        const out = ids
          .filter((id) => actions.has(id))
          .map((id) => {
            const a = actions.get(id);
            Object.assign(a, { status: "success", progress: 100, finished: "2026-01-01T00:00:01Z" });
            return a;
          });
        return send(200, {
          actions: out,
          meta: {
            pagination: {
              page: 1,
              per_page: 25,
              previous_page: null,
              next_page: null,
              last_page: 1,
              total_entries: out.length,
            },
          },
        });
      }
      return notFound();
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, seen })));
}

function startPlugin(bin) {
  const child = spawn(bin, [], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^(\d+)\s*$/m);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => stderr });
    });
    child.on("exit", (code) =>
      reject(new Error(`plugin exited (${code}) before printing a port:\n${stderr}`)),
    );
  });
}

const call = (client, method, request) =>
  new Promise((resolve, reject) => client[method](request, (err, res) => (err ? reject(err) : resolve(res))));
const struct = (obj) => Struct.fromJavaScript(obj);

async function serveOnly() {
  const { server, seen } = await startStub();
  console.log(`endpoint http://127.0.0.1:${server.address().port}/v1 token ${TOKEN}`);
  let shown = 0;
  setInterval(() => {
    for (; shown < seen.length; shown++) {
      const s = seen[shown];
      console.log(`${s.method} ${s.path}${s.body ? " " + s.body : ""}`);
    }
  }, 200);
}

async function main() {
  if (process.argv[2] === "--serve") return serveOnly();
  const bin = process.argv[2];
  if (!bin) throw new Error("usage: node smoke.cjs PATH/TO/pulumi-resource-hcloud");
  const { server, seen } = await startStub();
  const endpoint = `http://127.0.0.1:${server.address().port}/v1`;
  const plugin = await startPlugin(path.resolve(bin));
  const client = new providerGrpc.ResourceProviderClient(
    `127.0.0.1:${plugin.port}`,
    grpc.credentials.createInsecure(),
  );
  try {
    const info = await call(client, "getPluginInfo", new Empty());
    console.log(`plugin version ${info.getVersion()}`);

    const schema = JSON.parse(
      (await call(client, "getSchema", new providerPb.GetSchemaRequest())).getSchema(),
    );
    for (const tok of [
      "hcloud:index/server:Server",
      "hcloud:index/sshKey:SshKey",
      "hcloud:index/firewall:Firewall",
    ]) {
      assert.ok(schema.resources[tok], `schema lacks resource ${tok}`);
    }
    assert.ok(schema.functions["hcloud:index/getServerTypes:getServerTypes"], "schema lacks getServerTypes");
    const srv = schema.resources["hcloud:index/server:Server"].inputProperties;
    for (const k of [
      "name",
      "image",
      "location",
      "serverType",
      "keepDisk",
      "backups",
      "deleteProtection",
      "rebuildProtection",
      "sshKeys",
      "firewallIds",
      "userData",
      "publicNets",
      "labels",
    ]) {
      assert.ok(srv[k], `Server input ${k} missing`);
    }
    const cfg = schema.config.variables;
    for (const k of ["token", "endpoint", "pollInterval", "pollFunction"])
      assert.ok(cfg[k], `config ${k} missing`);
    console.log("schema: tokens and property names present");

    const config = { token: TOKEN, endpoint, pollInterval: "50ms", pollFunction: "constant" };
    const checkCfg = new providerPb.CheckRequest();
    checkCfg.setUrn("urn:pulumi:smoke::smoke::pulumi:providers:hcloud::default");
    checkCfg.setNews(struct(config));
    checkCfg.setOlds(struct({}));
    const checkedCfg = await call(client, "checkConfig", checkCfg);
    assert.equal(checkedCfg.getFailuresList().length, 0, JSON.stringify(checkedCfg.toObject().failuresList));
    const conf = new providerPb.ConfigureRequest();
    conf.setArgs(checkedCfg.getInputs());
    conf.setAcceptsecrets(true);
    conf.setAcceptresources(true);
    await call(client, "configure", conf);
    console.log("configure: ok");

    const inv = new providerPb.InvokeRequest();
    inv.setTok("hcloud:index/getServerTypes:getServerTypes");
    inv.setArgs(struct({}));
    const invRes = await call(client, "invoke", inv);
    assert.equal(invRes.getFailuresList().length, 0, JSON.stringify(invRes.toObject().failuresList));
    const ret = invRes.getReturn().toJavaScript();
    assert.deepEqual(ret.names, ["cx23", "cx33"]);
    assert.equal(ret.serverTypes[0].architecture, "x86");
    assert.equal(ret.serverTypes[0].locations[0].name, "fsn1");
    console.log(
      `getServerTypes: ${JSON.stringify(ret.names)} (keys of one type: ${Object.keys(ret.serverTypes[0]).join(",")})`,
    );

    const check = async (type, name, news) => {
      const r = new providerPb.CheckRequest();
      r.setUrn(`urn:pulumi:smoke::smoke::${type}::${name}`);
      r.setName(name);
      r.setType(type);
      r.setOlds(struct({}));
      r.setNews(struct(news));
      r.setRandomseed(Buffer.alloc(32));
      const res = await call(client, "check", r);
      assert.equal(res.getFailuresList().length, 0, JSON.stringify(res.toObject().failuresList));
      return res.getInputs();
    };
    const create = async (type, name, inputs) => {
      const r = new providerPb.CreateRequest();
      r.setUrn(`urn:pulumi:smoke::smoke::${type}::${name}`);
      r.setName(name);
      r.setType(type);
      r.setProperties(inputs);
      r.setTimeout(60);
      const res = await call(client, "create", r);
      return { id: res.getId(), props: res.getProperties() };
    };
    const del = async (type, name, id, props) => {
      const r = new providerPb.DeleteRequest();
      r.setUrn(`urn:pulumi:smoke::smoke::${type}::${name}`);
      r.setName(name);
      r.setType(type);
      r.setId(id);
      r.setProperties(props);
      r.setTimeout(60);
      await call(client, "delete", r);
    };

    const keyType = "hcloud:index/sshKey:SshKey";
    const key = await create(
      keyType,
      "k",
      await check(keyType, "k", { name: "k", publicKey: "ssh-ed25519 AAAA k", labels: { a: "b" } }),
    );
    assert.equal(key.id, "101");
    assert.equal(key.props.toJavaScript().fingerprint, "aa:bb");
    console.log(`SshKey created: id ${key.id}`);

    const fwType = "hcloud:index/firewall:Firewall";
    const fw = await create(
      fwType,
      "fw",
      await check(fwType, "fw", {
        name: "fw",
        labels: { app: "x" },
        rules: [{ direction: "in", protocol: "tcp", port: "22", sourceIps: ["0.0.0.0/0", "::/0"] }],
      }),
    );
    assert.equal(fw.id, "7");
    console.log(`Firewall created: id ${fw.id}`);

    const vmType = "hcloud:index/server:Server";
    const vmInputs = {
      name: "vm",
      image: "ubuntu-24.04",
      location: "fsn1",
      serverType: "cx23",
      keepDisk: true,
      backups: true,
      deleteProtection: true,
      rebuildProtection: true,
      sshKeys: [key.id],
      firewallIds: [Number(fw.id)],
      userData: "#cloud-config\n",
      publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
      labels: { app: "x" },
    };
    const vm = await create(vmType, "vm", await check(vmType, "vm", vmInputs));
    const vmState = vm.props.toJavaScript();
    assert.equal(vm.id, "42");
    assert.equal(vmState.ipv4Address, "203.0.113.10");
    assert.equal(vmState.ipv6Address, "2001:db8:1:2::1");
    assert.deepEqual(vmState.firewallIds, [7]);
    console.log(
      `Server created: id ${vm.id}, backups ${vmState.backups}, deleteProtection ${vmState.deleteProtection}`,
    );

    // A stage change: only serverType differs -> poweroff + change_type, in place.
    const upd = new providerPb.UpdateRequest();
    upd.setUrn("urn:pulumi:smoke::smoke::hcloud:index/server:Server::vm");
    upd.setName("vm");
    upd.setType(vmType);
    upd.setId(vm.id);
    upd.setOlds(vm.props);
    upd.setNews(await check(vmType, "vm", { ...vmInputs, serverType: "cx33" }));
    upd.setTimeout(60);
    const updated = (await call(client, "update", upd)).getProperties().toJavaScript();
    assert.equal(updated.serverType, "cx33");
    assert.equal(updated.status, "running");
    console.log(`Server updated: serverType ${updated.serverType}, status ${updated.status}`);

    await del(vmType, "vm", vm.id, vm.props);
    await del(fwType, "fw", fw.id, fw.props);
    await del(keyType, "k", key.id, key.props);
    console.log("deleted server, firewall and key");

    const lines = seen.map((s) => `${s.method} ${s.path}${s.body ? " " + s.body : ""}`);
    console.log("stub saw:\n  " + lines.join("\n  "));
    const has = (re) =>
      assert.ok(
        lines.some((l) => re.test(l)),
        `no request matching ${re}`,
      );
    has(/^GET \/v1\/server_types\?page=1&per_page=50$/);
    has(/^GET \/v1\/server_types\?page=2&per_page=50$/);
    has(/^POST \/v1\/ssh_keys \{"name":"k","public_key":"ssh-ed25519 AAAA k","labels":\{"a":"b"\}\}$/);
    has(/^POST \/v1\/firewalls /);
    has(/^GET \/v1\/actions\?id=\d+&page=1&sort=status&sort=id$/);
    has(/^GET \/v1\/server_types\?name=cx23$/);
    has(/^GET \/v1\/images\?architecture=x86&include_deprecated=true&name=ubuntu-24.04$/);
    has(/^GET \/v1\/ssh_keys\/101$/);
    has(
      /^POST \/v1\/servers \{"name":"vm","server_type":"cx23","image":161547269,"ssh_keys":\[101\],"location":"fsn1","user_data":"#cloud-config\\n","labels":\{"app":"x"\},"firewalls":\[\{"firewall":7\}\],"public_net":\{"enable_ipv4":true,"enable_ipv6":true\}\}$/,
    );
    has(/^POST \/v1\/servers\/42\/actions\/enable_backup$/);
    has(/^POST \/v1\/servers\/42\/actions\/change_protection \{"rebuild":true,"delete":true\}$/);
    has(/^POST \/v1\/servers\/42\/actions\/poweroff$/);
    has(/^POST \/v1\/servers\/42\/actions\/change_type \{"server_type":"cx33","upgrade_disk":false\}$/);
    has(/^DELETE \/v1\/servers\/42$/);
    has(/^DELETE \/v1\/firewalls\/7$/);
    has(/^DELETE \/v1\/ssh_keys\/101$/);
    assert.ok(seen.every((s) => s.auth === `Bearer ${TOKEN}`));
    console.log("SMOKE OK");
  } finally {
    client.close();
    plugin.child.kill();
    server.close();
  }
}

main().catch((e) => {
  console.error(`SMOKE FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
