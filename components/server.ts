// The Hetzner VM: deploy key, firewall and server, mapped from the plan's `hetzner` slice
// (src/plan/hetzner.ts decides every name, label, rule and setting). user-data and the SSH keys
// only matter at first boot, so later changes to them are ignored rather than replacing the server
// with an empty one (docs/provider-contract.md).
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { renderUserData } from "../src/plan/cloud-init";
import type { HetznerPlan, ServerSpec } from "../src/plan/hetzner";

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

    this.server = hetznerServer(`${name}-vm`, server, {
      sshKeyId: key.id,
      firewallId: fw.id,
      hostPrivateKey: args.hostPrivateKey,
      hostPublicKey: args.hostPublicKey,
      opts: { parent: this, protect: server.protect },
    });
    this.ipv4 = this.server.ipv4Address;
    this.registerOutputs({ ipv4: this.ipv4 });
  }
}

export interface HetznerServerArgs {
  /** The stack's deploy key on Hetzner (only read at first boot). */
  sshKeyId: pulumi.Input<string>;
  firewallId: pulumi.Input<string>;
  /** The server's own SSH host key, which cloud-init installs: every login pins its public half. */
  hostPrivateKey: pulumi.Input<string>;
  hostPublicKey: pulumi.Input<string>;
  /** Extra inputs: stage 4's worker nodes attach to the private network at creation. */
  networks?: hcloud.ServerArgs["networks"];
  opts: pulumi.CustomResourceOptions;
}

/**
 * A server from its plan: the stack's server and stage 4's worker nodes alike. user-data and the
 * SSH keys only matter at first boot, so later changes to them are ignored.
 */
export function hetznerServer(name: string, spec: ServerSpec, a: HetznerServerArgs): hcloud.Server {
  const userData = pulumi
    .all([a.hostPrivateKey, a.hostPublicKey])
    .apply(([privateKeyOpenssh, publicKeyOpenssh]) =>
      renderUserData({ privateKeyOpenssh, publicKeyOpenssh }),
    );
  return new hcloud.Server(
    name,
    {
      name: spec.name,
      image: spec.image,
      location: spec.location,
      serverType: spec.serverType,
      keepDisk: spec.keepDisk,
      backups: spec.backups,
      deleteProtection: spec.protect,
      rebuildProtection: spec.protect,
      sshKeys: [a.sshKeyId],
      firewallIds: [pulumi.output(a.firewallId).apply((id) => Number(id))],
      userData: pulumi.secret(userData),
      publicNets: [{ ipv4Enabled: spec.ipv4, ipv6Enabled: spec.ipv6 }],
      ...(a.networks ? { networks: a.networks } : {}),
      labels: spec.labels,
    },
    {
      ...a.opts,
      // Both are ForceNew (terraform-provider-hcloud internal/server/resource.go) but only read at
      // first boot: a new deploy key or a cloud-init edit must not replace a running server.
      // Rotate the deploy key on the box instead (admin-keys).
      ignoreChanges: ["userData", "sshKeys"],
    },
  );
}
