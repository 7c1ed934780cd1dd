// Inbound firewall rules: SSH from adminCidrs, the edge proxy's HTTP and HTTPS when the API is
// public, ICMP; nothing else. The API's own port is never published (the proxy reaches it over
// the app's network, issue 14), and Redis is never reachable from outside: neither has a rule or a
// published port.
import type { StackConfig } from "../config/types";
import { HTTPS_PORT, HTTP_PORT } from "./proxy";

export interface FirewallRulePlan {
  direction: "in";
  protocol: "tcp" | "icmp";
  port?: string;
  sourceIps: string[];
  description: string;
}

export const EVERYWHERE = ["0.0.0.0/0", "::/0"];

/** Every server's rules: SSH from adminCidrs and ping. Stage 4's worker nodes have only these. */
export function adminRules(cfg: StackConfig): FirewallRulePlan[] {
  return [
    {
      direction: "in",
      protocol: "tcp",
      port: "22",
      sourceIps: cfg.adminCidrs,
      description: "SSH from adminCidrs",
    },
    { direction: "in", protocol: "icmp", sourceIps: EVERYWHERE, description: "ping" },
  ];
}

export function firewallRules(cfg: StackConfig): FirewallRulePlan[] {
  const rules = adminRules(cfg);
  // Both ports whether or not TLS is on: Let's Encrypt's HTTP-01 challenge comes in on 80, and
  // setting a domain later then needs no firewall change.
  if (cfg.services.api.public) {
    rules.push(
      {
        direction: "in",
        protocol: "tcp",
        port: String(HTTP_PORT),
        sourceIps: EVERYWHERE,
        description: "HTTP",
      },
      {
        direction: "in",
        protocol: "tcp",
        port: String(HTTPS_PORT),
        sourceIps: EVERYWHERE,
        description: "HTTPS",
      },
    );
  }
  return rules;
}
