// The Hetzner resources of a stack as plain data: the deploy key, the firewall and the server.
// components/server.ts maps these fields onto hcloud resources and decides nothing itself.
//
// Everything here that forces a replacement (image, location, user-data, SSH keys) is independent of
// stage and size, so a stage change can only change `serverType` and the `requirements` label: an
// in-place rescale (a reboot), never a new server. A location or architecture change is refused
// before this is built (src/plan/server.ts).
import type { StackConfig } from "../config/types";
import { firewallRules, type FirewallRulePlan } from "./firewall";
import { deployKeyName, firewallName, serverLabels, serverName } from "./names";
import { REQUIREMENTS_LABEL, type ServerChoice } from "./server";

export const SERVER_IMAGE = "ubuntu-24.04";

export interface SshKeySpec {
  name: string;
  labels: Record<string, string>;
}

export interface FirewallSpec {
  name: string;
  labels: Record<string, string>;
  rules: FirewallRulePlan[];
}

export interface ServerSpec {
  name: string;
  image: string;
  location: string;
  serverType: string;
  /** A disk that does not grow on upgrade keeps a later downgrade possible. */
  keepDisk: boolean;
  backups: boolean;
  /** Delete and rebuild protection on Hetzner, and Pulumi's `protect`. */
  protect: boolean;
  /** The stack's labels plus the requirements the type was chosen for: the next run keeps the type while they hold. */
  labels: Record<string, string>;
  ipv4: boolean;
  ipv6: boolean;
}

export interface HetznerPlan {
  deployKey: SshKeySpec;
  firewall: FirewallSpec;
  server: ServerSpec;
}

export function planHetzner(cfg: StackConfig, choice: ServerChoice): HetznerPlan {
  const labels = serverLabels(cfg.stack);
  return {
    deployKey: { name: deployKeyName(cfg.stack), labels },
    firewall: { name: firewallName(cfg.stack), labels, rules: firewallRules(cfg) },
    server: {
      name: serverName(cfg.stack),
      image: SERVER_IMAGE,
      location: cfg.location,
      serverType: choice.type,
      keepDisk: cfg.server.keepDisk,
      backups: cfg.server.backups,
      protect: cfg.server.protect,
      labels: { ...labels, [REQUIREMENTS_LABEL]: choice.requirementsLabel },
      ipv4: true,
      ipv6: true,
    },
  };
}
