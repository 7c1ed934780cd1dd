// /servers and its actions. Schema: hcloud-go v2.35.0 hcloud/schema/server.go (the version
// terraform-provider-hcloud v1.59.0 pins); the calls and fields the provider uses are in its
// internal/server/resource.go (Create, Get, Update name/labels, Poweroff + ChangeType, Shutdown,
// DeleteWithResult, Enable/DisableBackup, ChangeProtection, Poweron).
//
// Status values and the change_type rules follow the public API reference ("Change the Type of a
// Server": "Server must be powered off for this command to succeed. This copies the content of
// its disk, and starts it again. You can only migrate to Server types with the same storage_type
// and equal or bigger disks."; error codes server_not_stopped, invalid_server_type).
import type { Action } from "./actions";
import { now } from "./actions";
import type { MachineSpec } from "./backend";
import { IMAGES, imageJson, type Image } from "./catalog";
import { ApiError, invalidField } from "./errors";
import { paginate, parseLabelSelector, sortItems } from "./list";
import { firewallsOf } from "./routes-firewalls";
import { privateNetJson, SERVER_NETWORK_ACTIONS, serverNetworkAction } from "./routes-networks";
import { checkQuery, type Spec } from "./validate";
import type { Handler, Server, ServerStatus, World } from "./world";

const CREATE: Spec = {
  name: { type: "string", required: true },
  server_type: { type: "idOrName", required: true },
  image: { type: "idOrName", required: true },
  location: { type: "string" },
  datacenter: { type: "string" },
  ssh_keys: { type: "array", items: { type: "idOrName" } },
  user_data: { type: "string" },
  start_after_create: { type: "boolean" },
  labels: { type: "labels" },
  firewalls: {
    type: "array",
    items: { type: "object", fields: { firewall: { type: "integer", required: true } } },
  },
  public_net: {
    type: "object",
    fields: {
      enable_ipv4: { type: "boolean" },
      enable_ipv6: { type: "boolean" },
      ipv4: { type: "unsupported", why: "primary IPs" },
      ipv6: { type: "unsupported", why: "primary IPs" },
    },
  },
  automount: { type: "unsupported", why: "volumes" },
  volumes: { type: "unsupported", why: "volumes" },
  networks: { type: "unsupported", why: "private networks" },
  placement_group: { type: "unsupported", why: "placement groups" },
};
const UPDATE: Spec = { name: { type: "string" }, labels: { type: "labels" } };
const NO_BODY: Spec = {};

// RFC 1123 host names, as the reference asks of server names.
const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// Hetzner: "This field is limited to 32KiB" (server create, user_data).
const USER_DATA_MAX_BYTES = 32 * 1024;

export function serverJson(w: World, s: Server) {
  const t = w.catalog.type(s.type)!;
  const dnsPtr = s.ipv4 ? `static.${s.ipv4.split(".").reverse().join(".")}.clients.your-server.de` : "";
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    created: s.created,
    public_net: {
      ipv4: s.ipv4 ? { id: s.id * 2 - 1, ip: s.ipv4, blocked: false, dns_ptr: dnsPtr } : null,
      ipv6: s.ipv6 ? { id: s.id * 2, ip: s.ipv6, blocked: false, dns_ptr: [] } : null,
      floating_ips: [],
      firewalls: firewallsOf(w, s).map((id) => ({ id, status: "applied" })),
    },
    private_net: privateNetJson(s),
    server_type: w.catalog.serverTypeJson(t),
    datacenter: w.catalog.datacenterJson(s.location),
    location: s.location,
    image: imageJson(s.image),
    iso: null,
    rescue_enabled: false,
    locked: s.busy > 0,
    backup_window: s.backupWindow,
    outgoing_traffic: 0,
    ingoing_traffic: 0,
    included_traffic:
      w.catalog.serverTypeJson(t).prices.find((p) => p.location === s.location.name)?.included_traffic ?? 0,
    protection: s.protection,
    labels: s.labels,
    volumes: [],
    load_balancers: [],
    primary_disk_size: s.primaryDiskSize,
    placement_group: null,
  };
}

export function serverRoutes(w: World): [string, string, Handler][] {
  const nameTaken = (name: string, except?: number) =>
    [...w.servers.values()].some((s) => s.name === name && s.id !== except);
  const ref = (s: Server) => [{ id: s.id, type: "server" }];

  /** An action on a server: locks it while running; `status` while running, then `after(ok)`. */
  const act = (
    s: Server,
    command: string,
    work: () => Promise<void>,
    opts: { after?: Promise<boolean>; done?: (ok: boolean) => void } = {},
  ) => {
    s.busy++;
    return w.actions.start(command, ref(s), work, {
      after: opts.after,
      done: (ok) => {
        s.busy--;
        opts.done?.(ok);
      },
    });
  };
  const setStatus = (s: Server, st: ServerStatus) => {
    if (w.servers.get(s.id) === s && s.status !== "deleting") s.status = st;
  };
  const unlocked = (s: Server) => {
    if (s.busy > 0) throw new ApiError("locked", `server ${s.id} is locked: another action is running on it`);
  };

  w.backend.onStopped((id) => {
    const s = w.servers.get(id);
    if (s && (s.status === "running" || s.status === "stopping")) s.status = "off";
  });

  const powerOn = (s: Server, command = "start_server", after?: Promise<boolean>) =>
    act(
      s,
      command,
      async () => {
        setStatus(s, "starting");
        await w.backend.powerOn(s.id);
      },
      { after, done: (ok) => setStatus(s, ok ? "running" : "off") },
    );

  const resolveImage = (idOrName: number | string, arch: string): Image => {
    const candidates = IMAGES.filter((i) =>
      typeof idOrName === "number" ? i.id === idOrName : i.name === idOrName,
    );
    if (!candidates.length) throw invalidField("image", `image ${idOrName} not found`);
    const img = candidates.find((i) => i.architecture === arch);
    if (!img) throw invalidField("image", `image ${idOrName} is not available for architecture ${arch}`);
    return img;
  };

  const serverAction = (
    name: string,
    spec: Spec,
    f: (s: Server, body: Record<string, any>) => Action,
  ): [string, string, Handler] => [
    "POST",
    `/servers/:id/actions/${name}`,
    (r) => {
      checkQuery(r.query, []);
      const s = w.server(r.params.id!);
      const body = r.body(spec);
      if (s.status === "deleting") throw new ApiError("locked", `server ${s.id} is being deleted`);
      return { status: 201, body: { action: f(s, body) } };
    },
  ];

  return [
    [
      "GET",
      "/servers",
      (r) => {
        checkQuery(
          r.query,
          ["name", "status", "label_selector", "sort", "page", "per_page"],
          ["status", "sort"],
        );
        let items = [...w.servers.values()];
        const name = r.query.get("name");
        if (name !== null) items = items.filter((s) => s.name === name);
        const statuses = r.query.getAll("status");
        if (statuses.length) items = items.filter((s) => statuses.includes(s.status));
        const sel = r.query.get("label_selector");
        if (sel !== null) items = items.filter((s) => parseLabelSelector(sel)(s.labels));
        items = sortItems(items, r.query.getAll("sort"), {
          id: (s) => s.id,
          name: (s) => s.name,
          created: (s) => s.created,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { servers: p.page.map((s) => serverJson(w, s)), meta: p.meta } };
      },
    ],
    [
      "GET",
      "/servers/:id",
      (r) => {
        checkQuery(r.query, []);
        return { status: 200, body: { server: serverJson(w, w.server(r.params.id!)) } };
      },
    ],
    [
      "POST",
      "/servers",
      (r) => {
        checkQuery(r.query, []);
        const b = r.body(CREATE);
        if (!HOSTNAME.test(b.name)) throw invalidField("name", "should be a valid hostname (RFC 1123)");
        if (nameTaken(b.name))
          throw new ApiError("uniqueness_error", "server name is already used", [
            { name: "name", messages: ["already used"] },
          ]);
        const type = w.catalog.type(b.server_type);
        if (!type) throw invalidField("server_type", `server type ${b.server_type} not found`);
        const image = resolveImage(b.image, type.architecture);
        if (b.location !== undefined && b.datacenter !== undefined)
          throw invalidField("location", "location and datacenter are mutually exclusive");
        let locName: string | undefined = b.location;
        if (b.datacenter !== undefined) {
          const dc = w.catalog.datacenterByName(b.datacenter);
          if (!dc) throw invalidField("datacenter", `datacenter ${b.datacenter} not found`);
          locName = dc.location.name;
        }
        // No location: Hetzner picks one; here, the first where the type can be ordered.
        locName ??= type.locations.find((l) => l.available)?.name ?? type.locations[0]?.name;
        const location =
          locName === undefined
            ? undefined
            : w.catalog.location(/^\d+$/.test(locName) ? Number(locName) : locName);
        if (!location)
          throw invalidField(
            b.datacenter !== undefined ? "datacenter" : "location",
            `location ${locName} not found`,
          );
        const tl = w.catalog.typeLocation(type.name, location.name);
        if (!tl)
          throw invalidField(
            "server_type",
            `server type ${type.name} is not offered in location ${location.name}`,
          );
        if (!tl.available)
          throw new ApiError(
            "resource_unavailable",
            `server type ${type.name} is unavailable in location ${location.name}`,
          );
        const userData: string = b.user_data ?? "";
        if (Buffer.byteLength(userData) > USER_DATA_MAX_BYTES)
          throw invalidField("user_data", `is limited to 32 KiB (got ${Buffer.byteLength(userData)} bytes)`);
        const keys = (b.ssh_keys ?? []).map((k: number | string, i: number) => {
          const key = [...w.sshKeys.values()].find((x) =>
            typeof k === "number" ? x.id === k : x.name === k,
          );
          if (!key) throw invalidField(`ssh_keys[${i}]`, `SSH key ${k} not found`);
          return key;
        });
        const firewallIds: number[] = (b.firewalls ?? []).map((f: { firewall: number }, i: number) => {
          if (!w.firewalls.has(f.firewall))
            throw invalidField(`firewalls[${i}].firewall`, `firewall ${f.firewall} not found`);
          return f.firewall;
        });
        const enableV4 = b.public_net?.enable_ipv4 ?? true;
        const enableV6 = b.public_net?.enable_ipv6 ?? true;
        const start = b.start_after_create ?? true;

        const id = w.nextId("server");
        const s: Server = {
          id,
          name: b.name,
          status: "initializing",
          created: now(),
          type: type.name,
          location,
          image,
          ipv4: enableV4 ? w.allocateIp() : "",
          ipv6: enableV6 ? `2001:db8:${id.toString(16)}::/64` : null,
          labels: b.labels ?? {},
          sshKeyIds: keys.map((k: { id: number }) => k.id),
          userData,
          firewalls: [...new Set(firewallIds)],
          backupWindow: null,
          protection: { delete: false, rebuild: false },
          primaryDiskSize: type.diskGb,
          busy: 0,
          privateNet: [],
        };
        w.servers.set(id, s);
        for (const fid of s.firewalls) w.firewalls.get(fid)!.servers.push(id);
        const spec: MachineSpec = {
          id,
          name: s.name,
          ip: s.ipv4,
          cores: type.cores,
          memoryGb: type.memoryGb,
          diskGb: type.diskGb,
          userData,
          sshPublicKeys: keys.map((k: { publicKey: string }) => k.publicKey),
        };
        const create = act(s, "create_server", () => w.backend.createMachine(spec), {
          done: (ok) => {
            if (!ok || !start) setStatus(s, "off");
          },
        });
        const next = start ? [powerOn(s, "start_server", create.finished).action] : [];
        // Hetzner returns a root password only when no SSH key is given.
        const rootPassword = keys.length ? null : `emulator-${id}-not-a-secret`;
        return {
          status: 201,
          body: {
            server: serverJson(w, s),
            action: create.action,
            next_actions: next,
            root_password: rootPassword,
          },
        };
      },
    ],
    [
      "PUT",
      "/servers/:id",
      (r) => {
        checkQuery(r.query, []);
        const s = w.server(r.params.id!);
        const b = r.body(UPDATE);
        if (b.name !== undefined) {
          if (!HOSTNAME.test(b.name)) throw invalidField("name", "should be a valid hostname (RFC 1123)");
          if (nameTaken(b.name, s.id))
            throw new ApiError("uniqueness_error", "server name is already used", [
              { name: "name", messages: ["already used"] },
            ]);
          s.name = b.name;
        }
        if (b.labels !== undefined) s.labels = b.labels;
        return { status: 200, body: { server: serverJson(w, s) } };
      },
    ],
    [
      "DELETE",
      "/servers/:id",
      (r) => {
        checkQuery(r.query, []);
        const s = w.server(r.params.id!);
        if (s.protection.delete)
          throw new ApiError(
            "protected",
            `server ${s.id} is protected against deletion (change_protection delete=false first)`,
          );
        if (s.status === "deleting") throw new ApiError("locked", `server ${s.id} is already being deleted`);
        s.status = "deleting";
        const { action } = w.actions.start("delete_server", ref(s), async () => {
          await w.backend.destroy(s.id);
          w.servers.delete(s.id);
          for (const f of w.firewalls.values()) f.servers = f.servers.filter((x) => x !== s.id);
        });
        return { status: 200, body: { action } };
      },
    ],
    [
      "GET",
      "/servers/:id/actions",
      (r) => {
        checkQuery(r.query, ["status", "sort", "page", "per_page"], ["status", "sort"]);
        const s = w.server(r.params.id!);
        let items = [...w.actions.all.values()].filter((a) =>
          a.resources.some((x) => x.type === "server" && x.id === s.id),
        );
        const statuses = r.query.getAll("status");
        if (statuses.length) items = items.filter((a) => statuses.includes(a.status));
        items = sortItems(items, r.query.getAll("sort"), {
          id: (a) => a.id,
          command: (a) => a.command,
          status: (a) => a.status,
          started: (a) => a.started,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { actions: p.page, meta: p.meta } };
      },
    ],
    serverAction("poweron", NO_BODY, (s) => {
      if (s.status === "running") return w.actions.done("start_server", ref(s));
      unlocked(s);
      return powerOn(s).action;
    }),
    serverAction("poweroff", NO_BODY, (s) => {
      if (s.status === "off") return w.actions.done("stop_server", ref(s));
      unlocked(s);
      return act(
        s,
        "stop_server",
        async () => {
          setStatus(s, "stopping");
          await w.backend.powerOff(s.id);
        },
        { done: (ok) => setStatus(s, ok ? "off" : "unknown") },
      ).action;
    }),
    // An ACPI shutdown request: the action succeeds when the request is sent; the server turns
    // `off` when the guest halts (terraform-provider-hcloud polls for that after the action).
    serverAction("shutdown", NO_BODY, (s) => {
      if (s.status === "off") return w.actions.done("shutdown_server", ref(s));
      unlocked(s);
      return act(s, "shutdown_server", () => w.backend.shutdown(s.id)).action;
    }),
    serverAction("reboot", NO_BODY, (s) => {
      if (s.status !== "running")
        throw new ApiError(
          "conflict",
          `server ${s.id} is ${s.status}; the emulator reboots running servers only`,
        );
      unlocked(s);
      return act(s, "reboot_server", () => w.backend.reboot(s.id)).action;
    }),
    serverAction(
      "change_type",
      {
        server_type: { type: "idOrName", required: true },
        upgrade_disk: { type: "boolean", required: true },
      },
      (s, b) => {
        unlocked(s);
        if (s.status !== "off")
          throw new ApiError(
            "server_not_stopped",
            `server ${s.id} is ${s.status}; change_type needs a powered-off server`,
          );
        const cur = w.catalog.type(s.type)!;
        const next = w.catalog.type(b.server_type);
        if (!next) throw invalidField("server_type", `server type ${b.server_type} not found`);
        if (next.architecture !== cur.architecture)
          throw new ApiError(
            "invalid_server_type",
            `cannot change from ${cur.architecture} (${cur.name}) to ${next.architecture} (${next.name})`,
          );
        if (next.diskGb < s.primaryDiskSize) {
          throw new ApiError(
            "invalid_server_type",
            `server type ${next.name} has a ${next.diskGb} GB disk, smaller than the server's ${s.primaryDiskSize} GB (disks cannot shrink; upgrade_disk=false keeps a downgrade possible)`,
          );
        }
        const tl = w.catalog.typeLocation(next.name, s.location.name);
        if (!tl)
          throw new ApiError(
            "invalid_server_type",
            `server type ${next.name} is not offered in location ${s.location.name}`,
          );
        if (!tl.available)
          throw new ApiError(
            "resource_unavailable",
            `server type ${next.name} is unavailable in location ${s.location.name}`,
          );
        s.status = "migrating";
        return act(
          s,
          "change_server_type",
          async () => {
            await w.backend.resize(s.id, {
              cores: next.cores,
              memoryGb: next.memoryGb,
              diskGb: b.upgrade_disk ? next.diskGb : s.primaryDiskSize,
            });
            s.type = next.name;
            if (b.upgrade_disk) s.primaryDiskSize = next.diskGb;
            // "… and starts it again" (API reference, change_type); switchable for a lab.
            if (!w.changeTypeStartsServer) return;
            setStatus(s, "starting");
            await w.backend.powerOn(s.id);
          },
          { done: (ok) => setStatus(s, ok && w.changeTypeStartsServer ? "running" : "off") },
        ).action;
      },
    ),
    serverAction("enable_backup", NO_BODY, (s) => {
      unlocked(s);
      return act(s, "enable_backup", async () => {
        s.backupWindow = "22-02";
      }).action;
    }),
    serverAction("disable_backup", NO_BODY, (s) => {
      unlocked(s);
      return act(s, "disable_backup", async () => {
        s.backupWindow = null;
      }).action;
    }),
    serverAction(
      "change_protection",
      { delete: { type: "boolean" }, rebuild: { type: "boolean" } },
      (s, b) => {
        return act(s, "change_protection", async () => {
          if (b.delete !== undefined) s.protection.delete = b.delete;
          if (b.rebuild !== undefined) s.protection.rebuild = b.rebuild;
        }).action;
      },
    ),
    // Private networks (routes-networks.ts): checked and applied at once, like Hetzner's answers;
    // the action only marks the server busy while it runs.
    ...(Object.keys(SERVER_NETWORK_ACTIONS) as (keyof typeof SERVER_NETWORK_ACTIONS)[]).map((name) =>
      serverAction(name, SERVER_NETWORK_ACTIONS[name], (s, b) => {
        unlocked(s);
        serverNetworkAction(w, s, name, b);
        // The machine's NIC: plugged in or out while the action runs (the qemu backend's VMs get
        // their address by DHCP from the network, test/emulator/private-net.ts).
        const n = w.network(b.network);
        const p = s.privateNet.find((x) => x.network === n.id);
        const work =
          name === "attach_to_network" && p
            ? () => w.backend.attachNic(s.id, { network: n.id, ipRange: n.ipRange, ip: p.ip, mac: p.mac })
            : name === "detach_from_network"
              ? () => w.backend.detachNic(s.id, n.id)
              : async () => undefined;
        return act(s, name, work).action;
      }),
    ),
  ];
}
