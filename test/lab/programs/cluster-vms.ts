// The VM lab's stage 3 → 4 program on VMs (test/lab/cluster-vms.ts copies it in as a working copy's
// index.ts, the imports rewritten to ./): the core server, its host steps and, on stage 4, the
// cluster (components/cluster.ts Cluster: the private network, the worker servers and their host
// steps, the Swarm's init, joins and admit), declared as index.ts declares them. The app is left
// out, containers and Swarm services alike: the worker VMs could pull no image (no registry is
// reachable here), and the Swarm services run in the Swarm-services phase (swarm-services.ts).
// Config: app-infra:stage (3 or 4), app-infra:workerNodes (stage 4), app-infra:alertWebhookUrl 🔒
// (a loopback address nothing answers on), hcloud:endpoint/token.
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../../../components/cluster";
import { Host, readScript } from "../../../components/host";
import { Keys } from "../../../components/keys";
import { Server } from "../../../components/server";
import { parseConfig } from "../../../src/config/parse";
import { snapshotCatalog } from "../../../src/plan/catalog";
import { makePlan } from "../../../src/plan/plan";
import { watchdogPayload, watchdogSecretsFile } from "../../../src/plan/watchdog";

const config = new pulumi.Config();
const stage = config.requireNumber("stage");
const workerNodes = config.getNumber("workerNodes");
const cfg = parseConfig(pulumi.getStack(), { stage, ...(stage === 4 ? { workerNodes } : {}) });
const plan = makePlan(cfg, snapshotCatalog());
if (plan.errors.length > 0) throw new Error(plan.errors.join("\n"));
if (!plan.hetzner || !plan.host) throw new Error("internal: no Hetzner plan");
const webhook = config.requireSecret("alertWebhookUrl");

const keys = new Keys("keys", {});
const server = new Server("server", {
  plan: plan.hetzner,
  deployPublicKey: keys.deployPublicKey,
  hostPrivateKey: keys.hostPrivateKey,
  hostPublicKey: keys.hostPublicKey,
});
// As index.ts: on stage 4 the core's watchdog waits for the Swarm (here: its admit step).
let swarmRuns: (after: pulumi.Resource[]) => void = () => undefined;
const watchdogAfter =
  stage === 4 ? new Promise<pulumi.Resource[]>((settle) => (swarmRuns = settle)) : undefined;
const host = new Host("host", {
  plan: plan.host,
  connection: { host: server.ipv4, privateKey: keys.deployPrivateKey, hostKey: keys.hostPublicKey },
  server: server.server,
  payloads: {
    watchdog: webhook.apply((url) =>
      watchdogPayload(
        readScript("watchdog.sh"),
        plan.host!.watchdog.env,
        watchdogSecretsFile(undefined, url),
      ),
    ),
  },
  ...(watchdogAfter ? { stepsAfter: { watchdog: watchdogAfter } } : {}),
});

export const serverId = server.server.id;
export const serverIp = server.ipv4;
export const hostKey = keys.hostPublicKey;
export const deployPrivateKey = keys.deployPrivateKey;
export const workers = (() => {
  const cd = plan.clusterDeploy;
  if (stage !== 4 || !cd) return {};
  try {
    const firewall = host.steps["swarm-firewall"];
    if (!firewall) throw new Error("internal: the core node's host steps lack the Swarm firewall");
    const cluster = new Cluster("cluster", {
      plan: cd,
      coreServer: server.server,
      coreLogin: {
        host: server.ipv4,
        privateKey: keys.deployPrivateKey,
        hostKey: keys.hostPublicKey,
        ...plan.host.connection,
      },
      coreReady: [firewall, host.dockerReady],
      deployKeyId: server.deployKey.id,
      deployPrivateKey: keys.deployPrivateKey,
      workerWatchdogSecrets: webhook.apply((url) => watchdogSecretsFile(undefined, url)),
    });
    swarmRuns([cluster.formed]);
    return Object.fromEntries(
      Object.entries(cluster.workers).map(([k, w]) => [k, { ip: w.ipv4Address, id: w.id }]),
    );
  } finally {
    swarmRuns([]);
  }
})();
