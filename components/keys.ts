// The deploy key (how the program logs in) and the server's SSH host key (how it knows it reached
// the right box, pinned from the first connection: no trust-on-first-use). Both live only in the
// stack state, encrypted as secrets.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { SSH_KEY_ALGORITHM } from "../src/plan/cloud-init";

export interface KeysArgs {
  /** A user-supplied deploy private key (secret); otherwise one is generated. */
  deployPrivateKey?: pulumi.Output<string>;
}

export class Keys extends pulumi.ComponentResource {
  readonly deployPrivateKey: pulumi.Output<string>;
  readonly deployPublicKey: pulumi.Output<string>;
  readonly hostPrivateKey: pulumi.Output<string>;
  readonly hostPublicKey: pulumi.Output<string>;

  constructor(name: string, args: KeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("app-infra:index:Keys", name, {}, opts);
    if (args.deployPrivateKey) {
      this.deployPrivateKey = pulumi.secret(args.deployPrivateKey);
      this.deployPublicKey = tls
        .getPublicKeyOutput({ privateKeyOpenssh: args.deployPrivateKey }, { parent: this })
        .publicKeyOpenssh.apply((k) => k.trim());
    } else {
      const deploy = new tls.PrivateKey(`${name}-deploy`, { algorithm: SSH_KEY_ALGORITHM }, { parent: this });
      this.deployPrivateKey = pulumi.secret(deploy.privateKeyOpenssh);
      this.deployPublicKey = deploy.publicKeyOpenssh.apply((k) => k.trim());
    }
    const host = new tls.PrivateKey(`${name}-host`, { algorithm: SSH_KEY_ALGORITHM }, { parent: this });
    this.hostPrivateKey = pulumi.secret(host.privateKeyOpenssh);
    this.hostPublicKey = host.publicKeyOpenssh.apply((k) => k.trim());
    this.registerOutputs({ deployPublicKey: this.deployPublicKey, hostPublicKey: this.hostPublicKey });
  }
}
