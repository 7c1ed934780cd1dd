// The `domain` key: the DNS name the edge proxy answers for and, with `tls`, gets a Let's Encrypt
// certificate for. A host name as RFC 1123 §2.1 and RFC 1035 §2.3.4 allow it: labels of letters,
// digits and hyphens, 1–63 characters, no hyphen at either end, 253 characters in all. We ask for
// more than a label, because a bare name (`localhost`, `api`) can never get a public certificate,
// and for lower case, because kamal-proxy matches the Host header as given and certificates are
// issued for the lower-case name. The last label must not be all digits: that is an IPv4 address,
// which Let's Encrypt does not issue for through kamal-proxy's HTTP-01 flow.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `name` is not a DNS host name with at least one dot, or undefined when it is one. */
export function domainProblem(name: string): string | undefined {
  if (name.endsWith(".")) return "leave out the trailing dot";
  if (name !== name.toLowerCase()) return `use lower case (${name.toLowerCase()})`;
  if (name.includes("://") || name.includes("/")) return "give the host name alone, without scheme or path";
  if (name.length > 253) return `it is ${name.length} characters long, at most 253 are allowed`;
  const labels = name.split(".");
  if (labels.length < 2) return "it needs at least one dot, e.g. api.example.com";
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined)
    return bad === ""
      ? "it has an empty label (two dots in a row, or a leading dot)"
      : `the label ${JSON.stringify(bad)} should be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen`;
  if (/^\d+$/.test(labels[labels.length - 1]!))
    return "that is an IP address; the proxy needs a DNS name that points at the server";
  return undefined;
}
