// CIDR blocks as Hetzner's firewall accepts them: a valid address, a prefix in range, and no host
// bits set ("203.0.113.7/24 is not the start of the cidr block", terraform-provider-hcloud
// internal/firewall/validation.go). Checked here so the error names the key, before any resource.
import { isIPv4, isIPv6 } from "node:net";

function ipv4Bits(addr: string): bigint {
  return addr.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function ipv6Bits(addr: string): bigint {
  const [head, tail] = addr.includes("::") ? addr.split("::") : [addr, undefined];
  const parts = (s: string | undefined) => (s ? s.split(":") : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Why `cidr` is not a network block, or undefined when it is one. */
export function cidrProblem(cidr: string): string | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return "is not address/prefix";
  const [, addr, p] = m as unknown as [string, string, string];
  const prefix = Number(p);
  const v4 = isIPv4(addr);
  // Embedded IPv4 in IPv6 ("::ffff:1.2.3.4") is not worth supporting in a firewall rule.
  if (!v4 && (!isIPv6(addr) || addr.includes("."))) return `${addr} is not an IPv4 or IPv6 address`;
  const width = v4 ? 32 : 128;
  if (prefix > width) return `prefix /${prefix} is longer than ${width}`;
  const bits = v4 ? ipv4Bits(addr) : ipv6Bits(addr);
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((bits & hostMask) !== 0n) {
    const network = bits & ~hostMask;
    const text = v4
      ? [24n, 16n, 8n, 0n].map((s) => String((network >> s) & 255n)).join(".")
      : "the block's first address";
    return `${addr} is not the start of a /${prefix} block (did you mean ${v4 ? `${text}/${prefix}` : text}, or /${width} for one address?)`;
  }
  return undefined;
}
