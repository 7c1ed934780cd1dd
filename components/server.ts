// The Hetzner VM: deploy key, firewall and server, mapped from the plan's `hetzner` slice
// (src/plan/hetzner.ts decides every name, label, rule and setting). user-data and the SSH keys
// only matter at first boot, so later changes to them are ignored rather than replacing the server
// with an empty one (docs/provider-contract.md).
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { renderUserData } from "../src/plan/cloud-init";
import type { HetznerPlan } from "../src/plan/hetzner";

export interface ServerArgs {
  plan: HetznerPlan;
  deployPublicKey: pulumi.Input<string>;
  hostPrivateKey: pulumi.Input<string>;
  hostPublicKey: pulumi.Input<string>;
}

export class Server extends pulumi.ComponentResource {
  readonly server: hcloud.Server;
  readonly ipv4: pulumi.Output<string>;
  /** The stack's deploy key on Hetzner: stage 4's worker nodes are created with it too. */
  readonly deployKey: hcloud.SshKey;

  constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:Server", name, {}, opts);
    const { deployKey, firewall, server } = args.plan;

    const key = (this.deployKey = new hcloud.SshKey(
      `${name}-deploy-key`,
      { name: deployKey.name, publicKey: args.deployPublicKey, labels: deployKey.labels },
      {
        parent: this,
        // Key names are unique per project, and the provider's plugin-framework resources replace
        // create-first (pulumi-terraform-bridge pf/tfbridge/provider_diff.go): delete the old one first.
        deleteBeforeReplace: true,
      },
    ));

    const fw = new hcloud.Firewall(
      `${name}-firewall`,
      { name: firewall.name, labels: firewall.labels, rules: firewall.rules },
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
        name: server.name,
        image: server.image,
        location: server.location,
        serverType: server.serverType,
        keepDisk: server.keepDisk,
        backups: server.backups,
        deleteProtection: server.protect,
        rebuildProtection: server.protect,
        sshKeys: [key.id],
        firewallIds: [fw.id.apply((id) => Number(id))],
        userData: pulumi.secret(userData),
        publicNets: [{ ipv4Enabled: server.ipv4, ipv6Enabled: server.ipv6 }],
        labels: server.labels,
      },
      {
        parent: this,
        protect: server.protect,
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
