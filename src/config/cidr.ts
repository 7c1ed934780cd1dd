// CIDR blocks as Hetzner's firewall accepts them: a valid address, a prefix in range, and no host
// bits set ("… is not the start of the cidr block", terraform-provider-hcloud
// internal/firewall/validation.go). Checked here so the error names the key, before any resource.
// Parsing is ipaddr.js's; IPv4 must be the plain dotted-quad form (ipaddr.js alone also takes
// "127.1" or hex parts, which the firewall would not).
import * as ipaddr from "ipaddr.js";

/** Why `cidr` is not a network block, or undefined when it is one. */
export function cidrProblem(cidr: string): string | undefined {
  const slash = cidr.lastIndexOf("/");
  const addr = cidr.slice(0, slash);
  const p = cidr.slice(slash + 1);
  if (slash < 0 || !/^\d{1,3}$/.test(p)) return "it is not address/prefix, e.g. 203.0.113.7/32";
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  if (!v4 && !(ipaddr.IPv6.isValid(addr) && !addr.includes(".")))
    return `${addr} is not an IPv4 or IPv6 address`;
  const prefix = Number(p);
  const width = v4 ? 32 : 128;
  if (prefix > width) return `prefix /${prefix} is longer than ${width}`;
  const network = (v4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(cidr).toString();
  if (network !== ipaddr.parse(addr).toString()) {
    return `${addr} is not the start of a /${prefix} block (did you mean ${network}/${prefix}, or /${width} for one address?)`;
  }
  return undefined;
}
