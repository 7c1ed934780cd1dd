// The private networks' switch and DHCP server (private-net.ts) over real loopback UDP, as qemu's
// socket NICs talk to it: frames built here as a guest's DHCP client and ARP would send them.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { describeFrame, dhcpReply, netmask, parseDhcp, PrivateFabric } from "./private-net";

const MAC_A = "86:00:00:00:01:01";
const MAC_B = "86:00:00:00:02:01";
const mac = (m: string) => Buffer.from(m.split(":").map((x) => parseInt(x, 16)));

/** A DHCP client's frame: discover (1) or request (3) for `requested`, from 0.0.0.0 to broadcast. */
function dhcpFrame(from: string, type: number, requested?: string, pad = false): Buffer {
  const bootp = Buffer.alloc(240);
  bootp[0] = 1;
  bootp[1] = 1;
  bootp[2] = 6;
  bootp.writeUInt32BE(0xdeadbeef, 4);
  mac(from).copy(bootp, 28);
  bootp.writeUInt32BE(0x63825363, 236);
  const opts = Buffer.from([
    ...(pad ? [0, 0] : []),
    53,
    1,
    type,
    ...(requested ? [50, 4, ...requested.split(".").map(Number)] : []),
    55,
    2,
    1,
    3,
    255,
  ]);
  const payload = Buffer.concat([bootp, opts]);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(68, 0);
  udp.writeUInt16BE(67, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 17;
  ip.fill(255, 16, 20);
  const eth = Buffer.alloc(14);
  eth.fill(255, 0, 6);
  mac(from).copy(eth, 6);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** An ARP-like broadcast frame from `from` (the switch only reads the Ethernet header). */
const broadcast = (from: string) =>
  Buffer.concat([Buffer.alloc(6, 255), mac(from), Buffer.from([8, 6]), Buffer.alloc(28)]);

const sockets: Socket[] = [];
let fabric: PrivateFabric | undefined;
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  fabric?.close();
});

/** A NIC's end: a UDP socket on loopback and the frames it received. */
async function nic(): Promise<{ sock: Socket; got: Buffer[] }> {
  const sock = createSocket("udp4");
  sockets.push(sock);
  const got: Buffer[] = [];
  sock.on("message", (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  return { sock, got };
}
const send = (n: { sock: Socket }, port: number, f: Buffer) =>
  new Promise<void>((r) => n.sock.send(f, port, "127.0.0.1", () => r()));

describe("DHCP frames", () => {
  it("reads a client's discover and request, pad options included, and ignores other frames", () => {
    expect(parseDhcp(dhcpFrame(MAC_A, 1))).toEqual({ xid: 0xdeadbeef, mac: MAC_A, type: 1 });
    expect(parseDhcp(dhcpFrame(MAC_A, 3, "10.0.1.2", true))).toEqual({
      xid: 0xdeadbeef,
      mac: MAC_A,
      type: 3,
      requestedIp: "10.0.1.2",
    });
    expect(parseDhcp(broadcast(MAC_A))).toBeUndefined();
  });

  it("answers with the address, the network's netmask, the gateway as server and MTU 1450", () => {
    const req = parseDhcp(dhcpFrame(MAC_A, 1))!;
    const f = dhcpReply(req, 2, { mac: MAC_A, ip: "10.0.1.2", ipRange: "10.0.0.0/16" });
    const d = 14 + 20 + 8;
    expect(f.readUInt16BE(14 + 20 + 2)).toBe(68);
    expect([...f.subarray(d + 16, d + 20)].join(".")).toBe("10.0.1.2");
    expect(f.readUInt32BE(d + 4)).toBe(0xdeadbeef);
    const opts = [...f.subarray(d + 240)];
    const opt = (code: number) => {
      for (let i = 0; i < opts.length && opts[i] !== 255; i += 2 + opts[i + 1]!)
        if (opts[i] === code) return opts.slice(i + 2, i + 2 + opts[i + 1]!);
      return undefined;
    };
    expect(opt(53)).toEqual([2]);
    expect(opt(1)?.join(".")).toBe("255.255.0.0");
    expect(opt(54)?.join(".")).toBe("10.0.0.1");
    expect(opt(26)).toEqual([1450 >> 8, 1450 & 255]);
    // The IPv4 header's checksum sums to 0xffff with itself.
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
    expect(netmask(24)).toBe("255.255.255.0");
    expect(netmask(32)).toBe("255.255.255.255");
  });
});

describe("EMU_NET_DEBUG's frame lines", () => {
  it("name an IPv4 TCP segment's addresses, ports and flags, and any other frame's type", () => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip[9] = 6;
    Buffer.from([10, 0, 1, 2, 10, 0, 1, 11]).copy(ip, 12);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(40000, 0);
    tcp.writeUInt16BE(22, 2);
    tcp[13] = 0x12; // SYN, ACK
    const eth = Buffer.concat([mac(MAC_B), mac(MAC_A), Buffer.from([8, 0])]);
    expect(describeFrame(Buffer.concat([eth, ip, tcp]))).toBe(
      `${MAC_A} → ${MAC_B} tcp 10.0.1.2:40000 → 10.0.1.11:22 SYN,ACK (54 bytes)`,
    );
    expect(describeFrame(broadcast(MAC_A))).toBe(`${MAC_A} → ff:ff:ff:ff:ff:ff type 806 (42 bytes)`);
  });
});

describe("a network's switch", () => {
  it("leases attached MACs only, switches between them, and cuts a released one off", async () => {
    fabric = new PrivateFabric();
    const port = await fabric.port(7);
    expect(await fabric.port(7)).toBe(port);
    const [a, b, stranger] = [await nic(), await nic(), await nic()];
    fabric.lease(7, { mac: MAC_A, ip: "10.0.1.2", ipRange: "10.0.0.0/16" });
    fabric.lease(7, { mac: MAC_B, ip: "10.0.1.11", ipRange: "10.0.0.0/16" });
    await send(a, port, dhcpFrame(MAC_A, 1));
    await send(b, port, dhcpFrame(MAC_B, 3, "10.0.1.12"));
    await send(stranger, port, dhcpFrame("86:00:00:00:09:09", 1));
    await expect.poll(() => a.got.length + b.got.length).toBe(2);
    expect(a.got[0]![14 + 20 + 8 + 240 + 2]).toBe(2); // offer
    expect(b.got[0]![14 + 20 + 8 + 240 + 2]).toBe(6); // nak: not its address
    expect(fabric.events).toEqual([
      `network 7: dhcp offer ${MAC_A} 10.0.1.2`,
      `network 7: dhcp nak ${MAC_B} 10.0.1.11`,
    ]);
    // Learnt from their DHCP: a broadcast from a reaches b (not a itself, not the stranger) ...
    await send(a, port, broadcast(MAC_A));
    await expect.poll(() => b.got.length).toBe(2);
    // ... and a frame to b's MAC goes to b alone.
    const toB = Buffer.concat([mac(MAC_B), mac(MAC_A), Buffer.from([8, 0]), Buffer.alloc(20)]);
    await send(a, port, toB);
    await expect.poll(() => b.got.length).toBe(3);
    expect(b.got[2]).toEqual(toB);
    fabric.release(7, MAC_B);
    await send(a, port, toB);
    await send(b, port, broadcast(MAC_B));
    await new Promise((r) => setTimeout(r, 200));
    expect([a.got.length, b.got.length, stranger.got.length]).toEqual([1, 3, 0]);
  });
});
