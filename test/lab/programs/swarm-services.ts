// The VM lab's Swarm-services program (test/lab/swarm-services.ts copies it in as a working copy's
// index.ts, the imports rewritten to ./): stage 4's plan for one worker node, and its services
// declared by components/swarm.ts SwarmApp, the program's own code, on a real Swarm's manager.
// Config:
//   app-infra:stage (4), app-infra:workerNodes (1), app-infra:workersPerNode   as the program's keys
//   app-infra:dockerHost       the manager's engine (a unix socket of the lab's core node)
//   app-infra:redisImage, app-infra:appImage, app-infra:apiImage, app-infra:proxyImage
//                              the lab's stand-ins (no registry here): the workers run appImage,
//                              the API apiImage (the same build at first), the edge proxy a
//                              kamal-proxy image laid out as the official one
//   app-infra:encrypted        false where the kernel has no ESP (the overlay would carry nothing)
//   app-infra:apiVip           false where the kernel has no IPVS: the API service then resolves
//                              by DNS to its task (dnsrr), as Redis always does, since its
//                              virtual IP would lead nowhere
//   app-infra:falKey 🔒         a secret the workers get in their environment
//   app-infra:sshHost, app-infra:sshPort, app-infra:sshHostKey, app-infra:sshKey 🔒
//                              the core node's login for the Commands (the lab's lab-sshd, whose
//                              commands reach the manager's engine)
//   app-infra:serverId         stands in for the core server's ID (a change replaces everything)
//   app-infra:workerGeneration a test knob: a change replaces the worker service (delete-first, as
//                              a change of one of its replace-forcing inputs would)
// Redis, the edge proxy, the API and the workers are declared, with the retire step, the
// workers' stop step and the gate (kamal-proxy's route to the API service), as index.ts declares
// them. The bot is not: it needs Telegram.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { SwarmApp } from "../../../components/swarm";
import { parseConfig } from "../../../src/config/parse";
import { snapshotCatalog } from "../../../src/plan/catalog";
import { makePlan } from "../../../src/plan/plan";

const config = new pulumi.Config();
const cfg = parseConfig(pulumi.getStack(), {
  stage: config.requireNumber("stage"),
  workerNodes: config.requireNumber("workerNodes"),
  workersPerNode: config.requireNumber("workersPerNode"),
});
const plan = makePlan(cfg, snapshotCatalog());
if (plan.errors.length > 0) throw new Error(plan.errors.join("\n"));
const planned = plan.clusterDeploy!.services;
const image = {
  redis: config.require("redisImage"),
  "worker-image": config.require("appImage"),
  api: config.require("apiImage"),
  proxy: config.require("proxyImage"),
};
const apiVip = config.requireBoolean("apiVip");
const services = planned.services
  .filter((s) => s.name in image)
  .map((s) => ({
    ...s,
    image: image[s.name as keyof typeof image],
    ...(s.name === "api" && !apiVip ? { endpointMode: "dnsrr" as const } : {}),
  }));

// The knob above, as a replacement trigger on the worker service only (the lab's own, not the
// program's: a stage-4 stack has no setting that replaces one service alone).
const generation = config.require("workerGeneration");
pulumi.runtime.registerStackTransformation((a) =>
  a.type === "docker:index/service:Service" && a.name === "swarm-worker-image"
    ? { props: a.props, opts: { ...a.opts, replacementTrigger: generation } }
    : undefined,
);

const provider = new docker.Provider("manager", { host: config.require("dockerHost") });
const app = new SwarmApp("swarm", {
  plan: {
    ...planned,
    network: { ...planned.network, encrypted: config.requireBoolean("encrypted") as true },
    services,
  },
  secrets: { falKey: config.requireSecret("falKey"), env: pulumi.output<Record<string, string>>({}) },
  provider,
  serverId: config.require("serverId"),
  stop: Object.fromEntries(Object.entries(plan.clusterDeploy!.swarm.stop).filter(([n]) => n in image)),
  manager: {
    connection: {
      host: config.require("sshHost"),
      port: config.requireNumber("sshPort"),
      user: "root",
      privateKey: config.requireSecret("sshKey"),
      hostKey: config.require("sshHostKey"),
    },
  },
  steps: { retire: plan.clusterDeploy!.swarm.retire, gate: plan.clusterDeploy!.swarm.gate },
});

export const serviceIds = Object.fromEntries(Object.entries(app.services).map(([k, s]) => [k, s.id]));
export const networkId = app.network.id;
