// The Hetzner VM: deploy key, firewall and server. Everything that forces a replacement (image,
// location, user-data, SSH keys) is independent of stage and size, so a stage change can only change
// `serverType` and the `requirements` label — an in-place rescale (a reboot), never a new server.
// user-data and the SSH keys only matter at first boot, so later changes to them are ignored rather
// than replacing the server with an empty one (docs/provider-contract.md); a location or
// architecture change is refused by the plan (src/plan/server.ts).
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../src/config/types";
import { renderUserData } from "../src/plan/cloud-init";
import type { Plan } from "../src/plan/plan";
import { firewallRules } from "../src/plan/firewall";
import { REQUIREMENTS_LABEL } from "../src/plan/server";
import { serverLabels, serverName } from "../src/live/deployed";

export interface ServerArgs {
  cfg: StackConfig;
  plan: Plan;
  deployPublicKey: pulumi.Input<string>;
  hostPrivateKey: pulumi.Input<string>;
  hostPublicKey: pulumi.Input<string>;
}

export const SERVER_IMAGE = "ubuntu-24.04";

export class Server extends pulumi.ComponentResource {
  readonly server: hcloud.Server;
  readonly ipv4: pulumi.Output<string>;

  constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:Server", name, {}, opts);
    const { cfg, plan } = args;
    if (!plan.server) throw new Error("internal: Server needs a plan with a server");
    const labels = serverLabels(cfg.stack);

    const key = new hcloud.SshKey(
      `${name}-deploy-key`,
      {
        name: `app-infra-${cfg.stack}-deploy`,
        publicKey: args.deployPublicKey,
        labels,
      },
      {
        parent: this,
        // Key names are unique per project, and the provider's plugin-framework resources replace
        // create-first (pulumi-terraform-bridge pf/tfbridge/provider_diff.go): delete the old one first.
        deleteBeforeReplace: true,
      },
    );

    const firewall = new hcloud.Firewall(
      `${name}-firewall`,
      {
        name: `app-infra-${cfg.stack}`,
        labels,
        rules: firewallRules(cfg),
      },
      { parent: this },
    );

    const userData = pulumi
      .all([args.hostPrivateKey, args.hostPublicKey])
      .apply(([privateKeyOpenssh, publicKeyOpenssh]) =>
        renderUserData({ privateKeyOpenssh, publicKeyOpenssh }),
      );

    this.server = new hcloud.Server(
      `${name}-vm`,
      {
        name: serverName(cfg.stack),
        image: SERVER_IMAGE,
        location: cfg.location,
        serverType: plan.server.type,
        // A disk that does not grow on upgrade keeps a later downgrade possible.
        keepDisk: cfg.server.keepDisk,
        backups: cfg.server.backups,
        deleteProtection: cfg.server.protect,
        rebuildProtection: cfg.server.protect,
        sshKeys: [key.id],
        firewallIds: [firewall.id.apply((id) => Number(id))],
        userData: pulumi.secret(userData),
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
        // The requirements the type was chosen for: the next run keeps the type while they hold.
        labels: { ...labels, [REQUIREMENTS_LABEL]: plan.server.requirementsLabel },
      },
      {
        parent: this,
        protect: cfg.server.protect,
        // Both are ForceNew (terraform-provider-hcloud internal/server/resource.go) but only read at
        // first boot: a new deploy key or a cloud-init edit must not replace a running server.
        // Rotate the deploy key on the box instead (admin-keys).
        ignoreChanges: ["userData", "sshKeys"],
      },
    );
    this.ipv4 = this.server.ipv4Address;
    this.registerOutputs({ ipv4: this.ipv4 });
  }
}
