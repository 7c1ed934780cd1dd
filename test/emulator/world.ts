// The emulator's state and the request context its handlers share.
import { Actions } from "./actions";
import type { MachineBackend } from "./backend";
import { Catalog, type Image, type Location } from "./catalog";
import { ApiError } from "./errors";
import { parseBody, type Spec } from "./validate";

export type ServerStatus =
  | "initializing"
  | "starting"
  | "running"
  | "stopping"
  | "off"
  | "deleting"
  | "migrating"
  | "rebuilding"
  | "unknown";

export interface Server {
  id: number;
  name: string;
  status: ServerStatus;
  created: string;
  type: string;
  location: Location;
  image: Image;
  ipv4: string;
  ipv6: string | null;
  labels: Record<string, string>;
  sshKeyIds: number[];
  userData: string;
  /** Firewalls applied to the server directly (label selectors are resolved when read). */
  firewalls: number[];
  backupWindow: string | null;
  protection: { delete: boolean; rebuild: boolean };
  primaryDiskSize: number;
  /** Running actions on this server: while > 0 it is `locked` and takes no new action. */
  busy: number;
  /** Its private networks (attach_to_network), in attach order. */
  privateNet: PrivateNet[];
}

export interface PrivateNet {
  network: number;
  ip: string;
  aliasIps: string[];
  mac: string;
}

export interface Subnet {
  type: "cloud" | "server" | "vswitch";
  ipRange: string;
  networkZone: string;
  /** The network's first address, as Hetzner gives every subnet. */
  gateway: string;
}

export interface Network {
  id: number;
  name: string;
  ipRange: string;
  subnets: Subnet[];
  labels: Record<string, string>;
  created: string;
  protection: { delete: boolean };
  exposeRoutesToVSwitch: boolean;
}

export interface SshKey {
  id: number;
  name: string;
  fingerprint: string;
  publicKey: string;
  labels: Record<string, string>;
  created: string;
}

export interface FirewallRule {
  direction: "in" | "out";
  source_ips: string[];
  destination_ips: string[];
  protocol: "tcp" | "udp" | "icmp" | "esp" | "gre";
  port: string | null;
  description: string | null;
}

export interface Firewall {
  id: number;
  name: string;
  labels: Record<string, string>;
  created: string;
  rules: FirewallRule[];
  servers: number[];
  labelSelectors: string[];
}

export interface Req {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  raw: string;
  body(spec: Spec): Record<string, any>;
}

export interface Res {
  status: number;
  body?: unknown;
}

export type Handler = (req: Req) => Res | Promise<Res>;

export class World {
  readonly catalog = new Catalog();
  readonly actions = new Actions();
  readonly servers = new Map<number, Server>();
  readonly sshKeys = new Map<number, SshKey>();
  readonly firewalls = new Map<number, Firewall>();
  readonly networks = new Map<number, Network>();
  private seq = { server: 0, sshKey: 0, firewall: 0, network: 0 };
  changeTypeStartsServer = true;
  private nextIp: number;

  constructor(
    readonly backend: MachineBackend,
    firstIp = "127.0.0.2",
  ) {
    this.nextIp = ipToInt(firstIp);
  }

  nextId(kind: keyof World["seq"]): number {
    return ++this.seq[kind];
  }

  /** The next loopback address not held by a server: 127.0.0.2, 127.0.0.3, … */
  allocateIp(): string {
    const used = new Set([...this.servers.values()].map((s) => s.ipv4));
    for (;;) {
      const ip = intToIp(this.nextIp++);
      if (!ip.startsWith("127."))
        throw new ApiError("resource_unavailable", "the emulator ran out of loopback addresses");
      if (ip.endsWith(".0") || ip.endsWith(".255") || used.has(ip)) continue;
      return ip;
    }
  }

  server(id: string | number): Server {
    const s = this.servers.get(Number(id));
    if (!s) throw new ApiError("not_found", `server with ID ${id} not found`);
    return s;
  }

  network(id: string | number): Network {
    const n = this.networks.get(Number(id));
    if (!n) throw new ApiError("not_found", `network with ID ${id} not found`);
    return n;
  }
}

export function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

export const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

export function makeReq(
  method: string,
  path: string,
  params: Record<string, string>,
  query: URLSearchParams,
  raw: string,
): Req {
  return { method, path, params, query, raw, body: (spec) => parseBody(raw, spec) };
}
