// The emulator's private networks for qemu VMs: one switch per Hetzner network, on loopback UDP,
// that the VMs' private NICs plug into (qemu's `-netdev socket,udp=…`), and that hands each
// attached server its address by DHCP, as Hetzner's network does for its images' private interface.
//
// A learning switch: a frame from a NIC teaches the switch that NIC's MAC and UDP port; a frame to
// a known MAC goes to that port, any other (broadcast, ARP) to every other port it has heard from.
// A NIC's first frame is its DHCP discover, so every attached NIC is known before anyone ARPs for it.
// Only the MACs attached to the network (lease) are answered or switched: a detached NIC is cut off.
//
// Where it differs from Hetzner's: Hetzner routes the private network (each server gets a /32 and a
// route to the network through its gateway, the network's first address); here the lease carries
// the network's own prefix, so the VMs reach each other directly on one segment. The MTU option
// says 1450, Hetzner's, though nothing here encapsulates.
//
// DHCP (RFC 2131/2132) by hand, the few fields a client needs: the only DHCP codec on npm
// (`dhcp` 0.2.20, of 2017) skips one byte too many after a pad option and logs every option it does
// not know to stderr.
import { createSocket, type Socket } from "node:dgram";
import { intToIp, ipToInt } from "./world";

export interface Lease {
  mac: string;
  ip: string;
  /** The network's range, e.g. 10.0.0.0/16: the lease's netmask. */
  ipRange: string;
}

const BROADCAST = "ff:ff:ff:ff:ff:ff";
const ETH_IPV4 = 0x0800;
const DHCP_MAGIC = 0x63825363;
const LEASE_S = 86_400;
const MTU = 1450;

const macText = (b: Buffer, at: number) =>
  [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
const macBytes = (m: string) => Buffer.from(m.split(":").map((x) => parseInt(x, 16)));
const ipBytes = (ip: string) => Buffer.from(ip.split(".").map(Number));
const ipText = (b: Buffer, at: number) => [...b.subarray(at, at + 4)].join(".");

/** The netmask of a prefix length, as an IPv4 address. */
export function netmask(prefix: number): string {
  return intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

/** The network's first address: Hetzner's gateway, here the DHCP server's identifier. */
export function firstAddress(ipRange: string): string {
  return intToIp(ipToInt(ipRange.split("/")[0]!) + 1);
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A DHCP request the switch answers, read from an Ethernet frame; undefined for any other frame. */
export interface DhcpRequest {
  xid: number;
  mac: string;
  /** 1 discover, 3 request, 7 release, … (option 53). */
  type: number;
  /** Option 50, or ciaddr when renewing. */
  requestedIp?: string;
}

export function parseDhcp(frame: Buffer): DhcpRequest | undefined {
  if (frame.length < 14 + 20 + 8 + 240 || frame.readUInt16BE(12) !== ETH_IPV4) return undefined;
  const ip = 14;
  const ihl = (frame[ip]! & 15) * 4;
  if (frame[ip + 9] !== 17) return undefined; // UDP
  const udp = ip + ihl;
  if (frame.readUInt16BE(udp + 2) !== 67) return undefined;
  const d = udp + 8;
  if (frame[d] !== 1 || frame.readUInt32BE(d + 236) !== DHCP_MAGIC) return undefined;
  const req: DhcpRequest = { xid: frame.readUInt32BE(d + 4), mac: macText(frame, d + 28), type: 0 };
  const ciaddr = ipText(frame, d + 12);
  if (ciaddr !== "0.0.0.0") req.requestedIp = ciaddr;
  for (let o = d + 240; o < frame.length;) {
    const code = frame[o]!;
    if (code === 255) break;
    if (code === 0) {
      o++;
      continue;
    }
    const len = frame[o + 1]!;
    if (code === 53) req.type = frame[o + 2]!;
    if (code === 50 && len === 4) req.requestedIp = ipText(frame, o + 2);
    o += 2 + len;
  }
  return req.type ? req : undefined;
}

/** The server's answer (2 offer, 5 ack, 6 nak) as a broadcast Ethernet frame from the gateway. */
export function dhcpReply(req: DhcpRequest, type: 2 | 5 | 6, lease: Lease): Buffer {
  const gateway = firstAddress(lease.ipRange);
  const prefix = Number(lease.ipRange.split("/")[1]);
  const opt = (code: number, value: Buffer) => Buffer.concat([Buffer.from([code, value.length]), value]);
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const options = Buffer.concat([
    opt(53, Buffer.from([type])),
    opt(54, ipBytes(gateway)),
    ...(type === 6 ? [] : [opt(51, u32(LEASE_S)), opt(1, ipBytes(netmask(prefix))), opt(26, u16(MTU))]),
    Buffer.from([255]),
  ]);
  const bootp = Buffer.alloc(240);
  bootp[0] = 2; // BOOTREPLY
  bootp[1] = 1; // Ethernet
  bootp[2] = 6;
  bootp.writeUInt32BE(req.xid, 4);
  if (type !== 6) ipBytes(lease.ip).copy(bootp, 16); // yiaddr
  ipBytes(gateway).copy(bootp, 20); // siaddr
  macBytes(req.mac).copy(bootp, 28);
  bootp.writeUInt32BE(DHCP_MAGIC, 236);
  const payload = Buffer.concat([bootp, options]);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(67, 0);
  udp.writeUInt16BE(68, 2);
  udp.writeUInt16BE(8 + payload.length, 4); // checksum 0: none, allowed over IPv4
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64; // TTL
  ip[9] = 17; // UDP
  ipBytes(gateway).copy(ip, 12);
  ipBytes("255.255.255.255").copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.alloc(14);
  macBytes(BROADCAST).copy(eth, 0);
  macBytes(gatewayMac(gateway)).copy(eth, 6);
  eth.writeUInt16BE(ETH_IPV4, 12);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** A locally administered MAC for the gateway, from its address. */
const gatewayMac = (gateway: string) =>
  ["02", "00", ...[...ipBytes(gateway)].map((x) => x.toString(16).padStart(2, "0"))].join(":");

/** One line for a frame, for EMU_NET_DEBUG: MACs, type, and an IPv4 TCP segment's ports and flags. */
export function describeFrame(f: Buffer): string {
  const type = f.readUInt16BE(12);
  let what = `type ${type.toString(16)}`;
  if (type === ETH_IPV4 && f.length >= 54 && f[23] === 6) {
    const tcp = 14 + (f[14]! & 15) * 4;
    const flags = ["FIN", "SYN", "RST", "PSH", "ACK"].filter((_, i) => f[tcp + 13]! & (1 << i));
    what = `tcp ${ipText(f, 26)}:${f.readUInt16BE(tcp)} → ${ipText(f, 30)}:${f.readUInt16BE(tcp + 2)} ${flags.join(",")}`;
  }
  return `${macText(f, 6)} → ${macText(f, 0)} ${what} (${f.length} bytes)`;
}

interface Switch {
  sock: Socket;
  port: number;
  /** MAC → the UDP port its NIC sends from. */
  ports: Map<string, number>;
  leases: Map<string, Lease>;
}

export class PrivateFabric {
  private switches = new Map<number, Switch>();
  /** What each switch did, for reports and tests: "dhcp <type> <mac> <ip>" lines. */
  readonly events: string[] = [];

  constructor(private readonly log: (msg: string) => void = () => undefined) {}

  /** The UDP port of network `network`'s switch on 127.0.0.1, started on first use. */
  async port(network: number): Promise<number> {
    const have = this.switches.get(network);
    if (have) return have.port;
    const sock = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(0, "127.0.0.1", () => resolve());
    });
    const sw: Switch = { sock, port: sock.address().port, ports: new Map(), leases: new Map() };
    sock.on("message", (frame, from) => this.frame(sw, network, frame, from.port));
    this.switches.set(network, sw);
    return sw.port;
  }

  /** Attaches `lease.mac` to the network: it is answered by DHCP and switched from now on. */
  lease(network: number, lease: Lease): void {
    const sw = this.switches.get(network);
    if (!sw) throw new Error(`private network ${network} has no switch (port() first)`);
    sw.leases.set(lease.mac, lease);
  }

  /** Cuts `mac` off the network. */
  release(network: number, mac: string): void {
    const sw = this.switches.get(network);
    sw?.leases.delete(mac);
    sw?.ports.delete(mac);
  }

  private send(sw: Switch, frame: Buffer, port: number) {
    sw.sock.send(frame, port, "127.0.0.1");
  }

  private frame(sw: Switch, network: number, frame: Buffer, from: number) {
    if (frame.length < 14) return;
    const src = macText(frame, 6);
    const lease = sw.leases.get(src);
    if (!lease) return;
    sw.ports.set(src, from);
    const req = parseDhcp(frame);
    if (req) {
      const type =
        req.type === 1 ? 2 : req.type === 3 ? (!req.requestedIp || req.requestedIp === lease.ip ? 5 : 6) : 0;
      if (!type) return;
      this.events.push(
        `network ${network}: dhcp ${type === 2 ? "offer" : type === 5 ? "ack" : "nak"} ${src} ${lease.ip}`,
      );
      if (type === 5) this.log(`network ${network}: ${lease.ip} leased to ${src}`);
      this.send(sw, dhcpReply(req, type, lease), from);
      return;
    }
    const dst = macText(frame, 0);
    if (process.env.EMU_NET_DEBUG) this.log(`network ${network}: ${describeFrame(frame)}`);
    const to = sw.ports.get(dst);
    if (to !== undefined) {
      if (sw.leases.has(dst)) this.send(sw, frame, to);
      return;
    }
    for (const [mac, port] of sw.ports) if (mac !== src) this.send(sw, frame, port);
  }

  close(): void {
    for (const sw of this.switches.values()) sw.sock.close();
    this.switches.clear();
  }
}
