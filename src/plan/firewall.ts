// Inbound firewall rules: SSH from adminCidrs, the API port if public, ICMP; nothing else.
// Redis is never reachable from outside: it has no rule and no published port.
import type { StackConfig } from "../config/types";

export interface FirewallRulePlan {
  direction: "in";
  protocol: "tcp" | "icmp";
  port?: string;
  sourceIps: string[];
  description: string;
}

export const EVERYWHERE = ["0.0.0.0/0", "::/0"];

export function firewallRules(cfg: StackConfig): FirewallRulePlan[] {
  const rules: FirewallRulePlan[] = [
    {
      direction: "in",
      protocol: "tcp",
      port: "22",
      sourceIps: cfg.adminCidrs,
      description: "SSH from adminCidrs",
    },
    { direction: "in", protocol: "icmp", sourceIps: EVERYWHERE, description: "ping" },
  ];
  if (cfg.services.api.public) {
    rules.push({
      direction: "in",
      protocol: "tcp",
      port: String(cfg.services.api.port),
      sourceIps: EVERYWHERE,
      description: "API",
    });
  }
  return rules;
}
