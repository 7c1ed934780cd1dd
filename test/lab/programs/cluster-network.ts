// The VM lab's stage-4 network program (test/lab/network.ts copies it in as a working copy's
// index.ts, the imports rewritten to ./): the stack's server as stages 1-3 declare it, and on
// stage 4 the cluster's Hetzner resources from components/cluster.ts declareClusterNetwork, the
// same code the program runs. The Swarm's steps are left out: the emulator's fake machines have no
// SSH. Config: app-infra:stage (3 or 4), app-infra:workerNodes (stage 4), hcloud:endpoint/token.
import * as pulumi from "@pulumi/pulumi";
import { declareClusterNetwork } from "../../../components/cluster";
import { Keys } from "../../../components/keys";
import { Server } from "../../../components/server";
import { parseConfig } from "../../../src/config/parse";
import { snapshotCatalog } from "../../../src/plan/catalog";
import { makePlan } from "../../../src/plan/plan";

const config = new pulumi.Config();
const stage = config.requireNumber("stage");
const workerNodes = config.getNumber("workerNodes");
const cfg = parseConfig(pulumi.getStack(), { stage, ...(stage === 4 ? { workerNodes } : {}) });
const plan = makePlan(cfg, snapshotCatalog());
if (plan.errors.length > 0) throw new Error(plan.errors.join("\n"));

// The keys and the server exactly as index.ts declares them.
const keys = new Keys("keys", {});
const server = new Server("server", {
  plan: plan.hetzner!,
  deployPublicKey: keys.deployPublicKey,
  hostPrivateKey: keys.hostPrivateKey,
  hostPublicKey: keys.hostPublicKey,
});

class ClusterNetworkOnly extends pulumi.ComponentResource {
  constructor(name: string) {
    super("app-infra:lab:ClusterNetwork", name, {});
  }
}

export const serverId = server.server.id;
export const workers: pulumi.Output<string[]> | string[] = plan.clusterDeploy
  ? (() => {
      const net = declareClusterNetwork(
        "cluster",
        { plan: plan.clusterDeploy, coreServer: server.server, deployKeyId: server.deployKey.id },
        new ClusterNetworkOnly("cluster"),
      );
      return pulumi.all(Object.values(net.workers).map((w) => w.server.name));
    })()
  : [];
