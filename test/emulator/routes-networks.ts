// /networks, their subnets, and the servers' attachments: hcloud-go v2.35.0 hcloud/schema/network.go
// and server.go (ServerPrivateNet, attach_to_network, detach_from_network, change_alias_ips). The
// calls the provider makes are in terraform-provider-hcloud v1.59.0 internal/network/resource.go
// (Create, Get, Update, Delete, change_protection), resource_subnet.go (add_subnet; delete_subnet,
// whose "servers are attached" error it tolerates when the network goes too, 164-183) and
// internal/server/resource_network.go and resource.go (attach after the server is created and
// started, retried on conflict/locked/no_subnet_available; detach).
//
// The emulator keeps networks as data: addresses are allocated and checked as Hetzner does, but no
// packet moves between machines through them (a qemu guest gets no private interface yet).
import { now, type Action } from "./actions";
import { ApiError, invalidField } from "./errors";
import { paginate, parseLabelSelector, sortItems } from "./list";
import { checkQuery, type Spec } from "./validate";
import {
  intToIp,
  ipToInt,
  type Handler,
  type Network,
  type PrivateNet,
  type Server,
  type World,
} from "./world";

/** The zones of Hetzner's locations (the catalog's locations carry their zone). */
const ZONES = ["eu-central", "us-east", "us-west", "ap-southeast"];
/** A network must lie inside RFC 1918 space (Hetzner: "must be a private network", /8 … /24 wide). */
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

interface Cidr {
  base: number;
  bits: number;
}

export function parseCidr(text: string, field: string): Cidr {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  if (!m) throw invalidField(field, `should be an IPv4 network in CIDR notation (got ${text})`);
  let ip: number;
  try {
    ip = ipToInt(m[1]!);
  } catch {
    throw invalidField(field, `should be an IPv4 network in CIDR notation (got ${text})`);
  }
  const bits = Number(m[2]);
  if (bits > 32) throw invalidField(field, `has a prefix longer than 32 (got ${text})`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  if ((ip & mask) >>> 0 !== ip) throw invalidField(field, `has host bits set (got ${text})`);
  return { base: ip, bits };
}

const size = (c: Cidr) => 2 ** (32 - c.bits);
const inside = (inner: Cidr, outer: Cidr) =>
  inner.bits >= outer.bits &&
  inner.base >= outer.base &&
  inner.base + size(inner) <= outer.base + size(outer);
const overlap = (a: Cidr, b: Cidr) => a.base < b.base + size(b) && b.base < a.base + size(a);
const contains = (c: Cidr, ip: number) => ip >= c.base && ip < c.base + size(c);
const cidrText = (c: Cidr) => `${intToIp(c.base)}/${c.bits}`;

/** Every subnet's gateway: the network's first address, as Hetzner gives it. */
const gatewayOf = (n: Network) => parseCidr(n.ipRange, "ip_range").base + 1;

/** The addresses held in network `n` (each server's IP and alias IPs), but for attachment `except`. */
function takenIps(w: World, n: Network, except?: PrivateNet): Set<string> {
  return new Set(
    [...w.servers.values()].flatMap((x) =>
      x.privateNet.filter((p) => p.network === n.id && p !== except).flatMap((p) => [p.ip, ...p.aliasIps]),
    ),
  );
}

export function networkJson(w: World, n: Network) {
  return {
    id: n.id,
    name: n.name,
    created: n.created,
    ip_range: n.ipRange,
    subnets: n.subnets.map((s) => ({
      type: s.type,
      ip_range: s.ipRange,
      network_zone: s.networkZone,
      gateway: s.gateway,
    })),
    routes: [],
    servers: [...w.servers.values()]
      .filter((s) => s.privateNet.some((p) => p.network === n.id))
      .map((s) => s.id),
    load_balancers: [],
    protection: n.protection,
    labels: n.labels,
    expose_routes_to_vswitch: n.exposeRoutesToVSwitch,
  };
}

export const privateNetJson = (s: Server) =>
  s.privateNet.map((p) => ({ network: p.network, ip: p.ip, alias_ips: p.aliasIps, mac_address: p.mac }));

const SUBNET: Spec = {
  type: { type: "string", required: true, oneOf: ["cloud", "server", "vswitch"] },
  ip_range: { type: "string" },
  network_zone: { type: "string", required: true },
  vswitch_id: { type: "integer" },
};
const CREATE: Spec = {
  name: { type: "string", required: true },
  ip_range: { type: "string", required: true },
  labels: { type: "labels" },
  subnets: { type: "array", items: { type: "object", fields: SUBNET } },
  routes: { type: "array", items: { type: "object", fields: {} } },
  expose_routes_to_vswitch: { type: "boolean" },
};
const UPDATE: Spec = {
  name: { type: "string" },
  labels: { type: "labels" },
  expose_routes_to_vswitch: { type: "boolean" },
};

/**
 * Attaches server `s` to network `n` at `ip` (or the next free address of a cloud subnet in the
 * server's network zone). Throws Hetzner's errors; the caller makes the action.
 */
export function attach(
  w: World,
  s: Server,
  n: Network,
  ip: string | undefined,
  aliasIps: string[] = [],
  ipRange?: string,
): void {
  if (s.privateNet.some((p) => p.network === n.id))
    throw new ApiError("server_already_attached", `server ${s.id} is already attached to network ${n.id}`);
  const zone = s.location.network_zone;
  // `ip_range` names the subnet to take the address from (the provider sends it for subnet_id).
  const asked = ipRange === undefined ? undefined : cidrText(parseCidr(ipRange, "ip_range"));
  if (asked !== undefined && !n.subnets.some((x) => x.ipRange === asked))
    throw invalidField("ip_range", `should be a subnet of network ${n.id} (got ${ipRange})`);
  const subnets = n.subnets.filter(
    (x) => x.type === "cloud" && x.networkZone === zone && (asked === undefined || x.ipRange === asked),
  );
  if (!subnets.length)
    throw new ApiError("no_subnet_available", `network ${n.id} has no cloud subnet in network zone ${zone}`);
  const used = takenIps(w, n);
  // Hetzner keeps the network's first address (the gateway) and each subnet's first and last.
  const gateway = gatewayOf(n);
  const usable = (c: Cidr, a: number) => a > c.base && a < c.base + size(c) - 1 && a !== gateway;
  let chosen: string;
  if (ip !== undefined) {
    let a: number;
    try {
      a = ipToInt(ip);
    } catch {
      throw invalidField("ip", `should be an IPv4 address (got ${ip})`);
    }
    const subnet = subnets.map((x) => parseCidr(x.ipRange, "ip_range")).find((c) => contains(c, a));
    if (!subnet)
      throw new ApiError("ip_not_available", `${ip} is in no cloud subnet of network ${n.id} in ${zone}`);
    if (!usable(subnet, a) || used.has(ip)) throw new ApiError("ip_not_available", `${ip} is not available`);
    chosen = ip;
  } else {
    const free = subnets
      .map((x) => parseCidr(x.ipRange, "ip_range"))
      .flatMap((c) => {
        for (let a = c.base + 1; a < c.base + size(c) - 1; a++)
          if (usable(c, a) && !used.has(intToIp(a))) return [intToIp(a)];
        return [];
      })[0];
    if (!free) throw new ApiError("no_subnet_available", `network ${n.id} has no free address in ${zone}`);
    chosen = free;
  }
  for (const alias of aliasIps)
    if (alias === chosen || used.has(alias))
      throw new ApiError("ip_not_available", `${alias} is not available`);
  const mac = `86:00:00:${[s.id >> 8, s.id, n.id]
    .map((x) => (x & 255).toString(16).padStart(2, "0"))
    .join(":")}`;
  s.privateNet.push({ network: n.id, ip: chosen, aliasIps, mac });
}

export function networkRoutes(w: World): [string, string, Handler][] {
  const nameTaken = (name: string, except?: number) =>
    [...w.networks.values()].some((n) => n.name === name && n.id !== except);
  const ref = (n: Network) => ({ id: n.id, type: "network" });
  const quick = (command: string, resources: { id: number; type: string }[]): Action =>
    w.actions.start(command, resources, async () => undefined).action;

  /** A subnet for `n`, checked; `ip_range` omitted takes the first free /24 of the network. */
  const subnet = (n: Network, b: Record<string, any>, field: string) => {
    if (!ZONES.includes(b.network_zone))
      throw invalidField(
        `${field}.network_zone`,
        `should be one of ${ZONES.join(", ")} (got ${b.network_zone})`,
      );
    if (b.type === "vswitch" && b.vswitch_id === undefined)
      throw invalidField(`${field}.vswitch_id`, "is required for type vswitch");
    const net = parseCidr(n.ipRange, "ip_range");
    const taken = n.subnets.map((x) => parseCidr(x.ipRange, "ip_range"));
    let range: Cidr;
    if (b.ip_range !== undefined) {
      range = parseCidr(b.ip_range, `${field}.ip_range`);
      if (!inside(range, net))
        throw invalidField(
          `${field}.ip_range`,
          `should lie inside the network's ${n.ipRange} (got ${b.ip_range})`,
        );
      if (taken.some((t) => overlap(t, range)))
        throw new ApiError("networks_overlap", `${b.ip_range} overlaps a subnet of network ${n.id}`);
    } else {
      const found = Array.from({ length: size(net) / 256 }, (_, i) => ({
        base: net.base + i * 256,
        bits: 24,
      })).find((c) => !taken.some((t) => overlap(t, c)));
      if (!found) throw new ApiError("no_subnet_available", `network ${n.id} has no free /24 left`);
      range = found;
    }
    return {
      type: b.type,
      ipRange: cidrText(range),
      networkZone: b.network_zone,
      gateway: intToIp(gatewayOf(n)),
    } as const;
  };

  return [
    [
      "GET",
      "/networks",
      (r) => {
        checkQuery(r.query, ["name", "label_selector", "sort", "page", "per_page"], ["sort"]);
        let items = [...w.networks.values()];
        const name = r.query.get("name");
        if (name !== null) items = items.filter((n) => n.name === name);
        const sel = r.query.get("label_selector");
        if (sel !== null) items = items.filter((n) => parseLabelSelector(sel)(n.labels));
        items = sortItems(items, r.query.getAll("sort"), {
          id: (n) => n.id,
          name: (n) => n.name,
          created: (n) => n.created,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { networks: p.page.map((n) => networkJson(w, n)), meta: p.meta } };
      },
    ],
    [
      "GET",
      "/networks/:id",
      (r) => {
        checkQuery(r.query, []);
        return { status: 200, body: { network: networkJson(w, w.network(r.params.id!)) } };
      },
    ],
    [
      "POST",
      "/networks",
      (r) => {
        checkQuery(r.query, []);
        const b = r.body(CREATE);
        if (b.name === "") throw invalidField("name", "must not be empty");
        if (nameTaken(b.name))
          throw new ApiError("uniqueness_error", "network with the same name already exists", [
            { name: "name", messages: ["already used"] },
          ]);
        const range = parseCidr(b.ip_range, "ip_range");
        if (range.bits > 24 || !PRIVATE.some((p) => inside(range, parseCidr(p, "ip_range"))))
          throw invalidField(
            "ip_range",
            `should be a private network (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) of /24 or wider (got ${b.ip_range})`,
          );
        if ((b.routes ?? []).length)
          throw new ApiError("invalid_input", "routes are not implemented by the emulator");
        const n: Network = {
          id: w.nextId("network"),
          name: b.name,
          ipRange: b.ip_range,
          subnets: [],
          labels: b.labels ?? {},
          created: now(),
          protection: { delete: false },
          exposeRoutesToVSwitch: b.expose_routes_to_vswitch ?? false,
        };
        (b.subnets ?? []).forEach((x: Record<string, any>, i: number) =>
          n.subnets.push(subnet(n, x, `subnets[${i}]`)),
        );
        w.networks.set(n.id, n);
        return { status: 201, body: { network: networkJson(w, n) } };
      },
    ],
    [
      "PUT",
      "/networks/:id",
      (r) => {
        checkQuery(r.query, []);
        const n = w.network(r.params.id!);
        const b = r.body(UPDATE);
        if (b.name !== undefined && b.name !== "" && nameTaken(b.name, n.id))
          throw new ApiError("uniqueness_error", "network with the same name already exists", [
            { name: "name", messages: ["already used"] },
          ]);
        if (b.name) n.name = b.name;
        if (b.labels !== undefined) n.labels = b.labels;
        if (b.expose_routes_to_vswitch !== undefined) n.exposeRoutesToVSwitch = b.expose_routes_to_vswitch;
        return { status: 200, body: { network: networkJson(w, n) } };
      },
    ],
    [
      "DELETE",
      "/networks/:id",
      (r) => {
        checkQuery(r.query, []);
        const n = w.network(r.params.id!);
        if (n.protection.delete) throw new ApiError("protected", `network ${n.id} is delete-protected`);
        // Hetzner detaches the servers still attached in the background.
        for (const s of w.servers.values()) {
          if (!s.privateNet.some((p) => p.network === n.id)) continue;
          s.privateNet = s.privateNet.filter((p) => p.network !== n.id);
          w.backend.detachNic(s.id, n.id).catch(() => undefined);
        }
        w.networks.delete(n.id);
        return { status: 204 };
      },
    ],
    [
      "POST",
      "/networks/:id/actions/add_subnet",
      (r) => {
        checkQuery(r.query, []);
        const n = w.network(r.params.id!);
        n.subnets.push(subnet(n, r.body(SUBNET), "subnet"));
        return { status: 201, body: { action: quick("add_subnet", [ref(n)]) } };
      },
    ],
    [
      "POST",
      "/networks/:id/actions/delete_subnet",
      (r) => {
        checkQuery(r.query, []);
        const n = w.network(r.params.id!);
        const b = r.body({ ip_range: { type: "string", required: true } });
        const range = parseCidr(b.ip_range, "ip_range");
        const i = n.subnets.findIndex((x) => x.ipRange === cidrText(range));
        if (i < 0) throw new ApiError("not_found", `network ${n.id} has no subnet ${b.ip_range}`);
        const attached = [...w.servers.values()].some((s) =>
          s.privateNet.some((p) => p.network === n.id && contains(range, ipToInt(p.ip))),
        );
        // The wording the provider looks for (resource_subnet.go 171).
        if (attached)
          throw new ApiError("conflict", `subnet ${b.ip_range} cannot be deleted: servers are attached`);
        n.subnets.splice(i, 1);
        return { status: 201, body: { action: quick("delete_subnet", [ref(n)]) } };
      },
    ],
    [
      "POST",
      "/networks/:id/actions/change_protection",
      (r) => {
        checkQuery(r.query, []);
        const n = w.network(r.params.id!);
        const b = r.body({ delete: { type: "boolean" } });
        if (b.delete !== undefined) n.protection.delete = b.delete;
        return { status: 201, body: { action: quick("change_protection", [ref(n)]) } };
      },
    ],
  ];
}

/** The servers' network actions (mounted by routes-servers.ts, which checks the server's lock). */
export const SERVER_NETWORK_ACTIONS = {
  attach_to_network: {
    network: { type: "integer", required: true },
    ip: { type: "string" },
    alias_ips: { type: "array", items: { type: "string" } },
    ip_range: { type: "string" },
  },
  detach_from_network: { network: { type: "integer", required: true } },
  change_alias_ips: {
    network: { type: "integer", required: true },
    alias_ips: { type: "array", required: true, items: { type: "string" } },
  },
} satisfies Record<string, Spec>;

/** What each of SERVER_NETWORK_ACTIONS does to the world (the action itself is the caller's). */
export function serverNetworkAction(
  w: World,
  s: Server,
  name: keyof typeof SERVER_NETWORK_ACTIONS,
  b: Record<string, any>,
): void {
  const n = w.network(b.network);
  if (name === "attach_to_network") {
    attach(w, s, n, b.ip, b.alias_ips ?? [], b.ip_range);
    return;
  }
  const p = s.privateNet.find((x) => x.network === n.id);
  if (!p)
    throw new ApiError("server_not_attached_to_network", `server ${s.id} is not attached to network ${n.id}`);
  if (name === "detach_from_network") s.privateNet = s.privateNet.filter((x) => x !== p);
  else {
    const others = takenIps(w, n, p);
    for (const a of b.alias_ips as string[])
      if (a === p.ip || others.has(a)) throw new ApiError("ip_not_available", `${a} is not available`);
    p.aliasIps = b.alias_ips;
  }
}
