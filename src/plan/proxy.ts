// The edge proxy (issue 14; the choice and its figures in docs/edge-proxy.md): kamal-proxy v0.9.2
// publishes 80 and 443 and forwards to the API, which is no longer published on the host. It is a
// service like the others (role `proxy` in src/config/vocabulary.ts) rather than a plan slice of
// its own: it is a container with an image, limits, a restart policy and a line in the budget, and
// a second vocabulary for it would make every loop over the services (budget, images, watchdog,
// config keys) grow a special case. What is proxy-specific, the routing (domain, TLS) and the
// volume, is decided here.
import type { StackConfig } from "../config/types";

/**
 * kamal-proxy's data directory in the official image (v0.9.2 Dockerfile; internal/server/config.go
 * in basecamp/kamal-proxy): the ACME account, the certificates and the routing state file. One
 * volume keeps all three, so after a reboot or a re-created proxy the same certificate is served
 * (no new Let's Encrypt order, whose rate limits are weekly) and the API is routed without a deploy.
 */
export const PROXY_STATE_VOLUME = "kamal-proxy-config";
export const PROXY_STATE_PATH = "/home/kamal-proxy/.config/kamal-proxy";
export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;

/** How the proxy routes to the API: which host it answers for, and whether it serves HTTPS. */
export interface EdgePlan {
  /** The configured domain; undefined = any host name. */
  host: string | undefined;
  /** HTTPS on 443 with a Let's Encrypt certificate for `host` (kamal-proxy `--tls`). */
  tls: boolean;
  /** The service name kamal-proxy routes under (`kamal-proxy deploy <service>`). */
  service: "api";
  warnings: string[];
}

export function planEdge(cfg: StackConfig): EdgePlan {
  const host = cfg.domain;
  // parse.ts refuses tls: true without a domain, so tls is only ever on with a name to certify.
  const tls = cfg.tls ?? host !== undefined;
  const warnings: string[] = [];
  if (host === undefined)
    warnings.push(
      "domain: not set, so the edge proxy serves the API over plain HTTP on port 80, for any host name: " +
        "tokens and user data cross in clear text. Point a DNS name at the server and set it " +
        "(pulumi config set domain api.example.com) for HTTPS with a Let's Encrypt certificate",
    );
  else if (!tls)
    warnings.push(
      `tls: false, so the edge proxy serves ${host} over plain HTTP on port 80: tokens and user data cross in clear text ` +
        "(pulumi config rm tls for HTTPS with a Let's Encrypt certificate)",
    );
  return { host, tls, service: "api", warnings };
}

/** The URL the API answers on from outside: the domain where there is one, else the server's address. */
export function publicApiUrl(edge: Pick<EdgePlan, "host" | "tls">, address: string): string {
  return `${edge.tls ? "https" : "http"}://${edge.host ?? address}`;
}
