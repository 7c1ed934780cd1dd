// The VM lab's Swarm-services program (test/lab/swarm-services.ts copies it in as a working copy's
// index.ts, the imports rewritten to ./): stage 4's plan for one worker node, and its services
// declared by components/swarm.ts SwarmApp, the program's own code, on a real Swarm's manager.
// Config:
//   app-infra:stage (4), app-infra:workerNodes (1), app-infra:workersPerNode   as the program's keys
//   app-infra:dockerHost       the manager's engine (a unix socket of the lab's core node)
//   app-infra:redisImage, app-infra:appImage   the lab's stand-ins (no registry here)
//   app-infra:encrypted        false where the kernel has no ESP (the overlay would carry nothing)
//   app-infra:falKey 🔒         a secret the workers get in their environment
//   app-infra:sshHost, app-infra:sshPort, app-infra:sshHostKey, app-infra:sshKey 🔒
//                              the core node's login for the Commands (the lab's lab-sshd, whose
//                              commands reach the manager's engine)
//   app-infra:serverId         stands in for the core server's ID (a change replaces everything)
//   app-infra:workerGeneration a test knob: a change replaces the worker service (delete-first, as
//                              a change of one of its replace-forcing inputs would)
// Only Redis and the workers are declared: the proxy's image and the bot's Telegram are not here
// (the VM lab runs them on one box), and the API is a service like these; so the gate is not
// either. The retire step and the workers' stop step are, as index.ts declares them.
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
const image = { redis: config.require("redisImage"), "worker-image": config.require("appImage") };
const services = planned.services
  .filter((s) => s.name in image)
  .map((s) => ({ ...s, image: image[s.name as keyof typeof image] }));

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
  steps: { retire: plan.clusterDeploy!.swarm.retire },
});

export const serviceIds = Object.fromEntries(Object.entries(app.services).map(([k, s]) => [k, s.id]));
export const networkId = app.network.id;
