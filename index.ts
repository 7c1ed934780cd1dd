// app-infra: load config → make plan → declare components → export outputs.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { App } from "./components/app";
import { Cluster } from "./components/cluster";
import { Host, readScript } from "./components/host";
import { Keys } from "./components/keys";
import { keptImagesOnHost, releasesOutput } from "./components/releases";
import { Server } from "./components/server";
import { SwarmApp } from "./components/swarm";
import { ConfigError } from "./src/config/errors";
import { loadSecrets, loadStackConfig } from "./src/config/pulumi-config";
import { loadLiveCatalog } from "./src/live/catalog";
import { gitCommit } from "./src/live/commit";
import { loadDeployedServer } from "./src/live/deployed";
import { dockerSshOpts, sshFilePaths, writeSshFiles } from "./src/live/ssh-files";
import { NO_CATALOG } from "./src/plan/catalog";
import { dockerHostUrl, sshCommand, statusCommand } from "./src/plan/names";
import { publicApiUrl } from "./src/plan/proxy";
import { makePlan } from "./src/plan/plan";
import { backupPayload, backupSecretsFile } from "./src/plan/backup";
import { watchdogPayload, watchdogSecretsFile } from "./src/plan/watchdog";
import { planToJson } from "./src/report/json";

export = async () => {
  // Everything is validated before the first resource is registered: nothing is half-applied.
  const cfg = loadStackConfig();
  const secrets = loadSecrets(cfg);
  // The local target picks no server, so it needs no catalog (and no Hetzner token).
  const [catalog, deployed] =
    cfg.target === "hetzner"
      ? await Promise.all([
          loadLiveCatalog(secrets.hcloudToken, secrets.hcloudEndpoint),
          loadDeployedServer(cfg.stack),
        ])
      : [NO_CATALOG, undefined];
  // The deployed server (if any) keeps its type while the requirements hold, and pins location
  // and architecture. forDeploy: what this program refuses beyond the offline plan (a missing
  // botToken) is among the plan's errors, so every problem is reported at once.
  const plan = makePlan(cfg, catalog, deployed, { forDeploy: true });
  if (plan.errors.length > 0) throw new ConfigError(plan.errors);
  for (const w of plan.warnings) pulumi.log.warn(w);

  const report = planToJson(plan);
  // The releases this stack has deployed (components/releases.ts). The clock and the commit are
  // read here, at the edge; the list keeps an entry's date until its images change.
  const releases = (app: App) =>
    releasesOutput({
      configured: cfg.images,
      pulled: app.pulled,
      keep: cfg.releases.keep,
      date: new Date().toISOString(),
      commit: gitCommit(process.env, __dirname),
      settled: app.settled,
      dryRun: pulumi.runtime.isDryRun(),
    });
  if (cfg.target === "local") {
    const app = new App("app", { plan: plan.app, secrets });
    return {
      target: "local",
      apiUrl: publicApiUrl(plan.edge, "localhost"),
      capacity: report,
      releases: releases(app),
    };
  }
  if (!plan.server || !plan.hetzner || !plan.host)
    throw new Error("internal: a deployable Hetzner plan has a server, its resources and host steps");

  const keys = new Keys("keys", { deployPrivateKey: secrets.deployPrivateKey });
  const server = new Server("server", {
    plan: plan.hetzner,
    deployPublicKey: keys.deployPublicKey,
    hostPrivateKey: keys.hostPrivateKey,
    hostPublicKey: keys.hostPublicKey,
  });
  const watchdogSecrets = pulumi
    .all([
      plan.host.watchdog.sendBotToken ? secrets.botToken : undefined,
      secrets.alertWebhookUrl,
      plan.host.watchdog.heartbeat ? secrets.heartbeatUrl : undefined,
    ])
    .apply(([token, url, heartbeat]) => watchdogSecretsFile(token, url, heartbeat));
  // Backups: the settings from the plan, the secrets only inside this payload (makePlan forDeploy
  // refused a missing one above).
  const backupPlan = plan.host.backup;
  const backup =
    backupPlan && secrets.backup
      ? pulumi
          .secret(
            pulumi.all([secrets.backup.password, secrets.backup.accessKeyId, secrets.backup.secretAccessKey]),
          )
          .apply(([password, accessKeyId, secretAccessKey]) =>
            backupPayload({
              backupScript: readScript("backup-redis.sh"),
              restoreScript: readScript("restore-redis.sh"),
              env: backupPlan.env,
              secrets: backupSecretsFile(accessKeyId!, secretAccessKey!),
              password: password!,
            }),
          )
      : undefined;
  const watchdogEnvFile = plan.host.watchdog.env;
  // Stage 4: the core's watchdog is installed (again) only once the Swarm runs the services, so
  // it does not report the node a scale-up is still building, or the one box's containers the move
  // from stage 3 has just retired (swarmRuns is settled below, also if declaring the rest throws).
  let swarmRuns: (after: pulumi.Resource[]) => void = () => undefined;
  const watchdogAfter =
    cfg.stage === 4 ? new Promise<pulumi.Resource[]>((settle) => (swarmRuns = settle)) : undefined;
  const host = new Host("host", {
    plan: plan.host,
    // Pinned: the key cloud-init installed, so no first connection is taken on trust.
    connection: { host: server.ipv4, privateKey: keys.deployPrivateKey, hostKey: keys.hostPublicKey },
    server: server.server,
    payloads: {
      watchdog: pulumi
        .secret(watchdogSecrets)
        .apply((s) => watchdogPayload(readScript("watchdog.sh"), watchdogEnvFile, s)),
      ...(backup ? { backup } : {}),
    },
    ...(watchdogAfter ? { stepsAfter: { watchdog: watchdogAfter } } : {}),
  });

  // Written on every run that runs the program (refresh and destroy too, with --run-program), so no
  // operation depends on a file an earlier run left behind (src/live/ssh-files.ts).
  const paths = sshFilePaths(cfg.stack);
  const sshOpts = pulumi
    .all([keys.deployPrivateKey, keys.hostPublicKey])
    .apply(([key, hostKey]) => dockerSshOpts(writeSshFiles(paths, key), hostKey));
  // The options hold a file path and the public host key; the private key stays in its file.
  const sshOptsPlain = pulumi.unsecret(sshOpts);
  // The gate and the kept-images list log in as the host steps do: the same pinned host key and
  // login settings.
  const hostLogin = {
    host: server.ipv4,
    privateKey: keys.deployPrivateKey,
    hostKey: keys.hostPublicKey,
    ...plan.host.connection,
  };
  const outputs = {
    serverIp: server.ipv4,
    serverType: plan.server.type,
    serverPriceMonthlyEur: plan.server.priceMonthlyEur,
    sshCommand: server.ipv4.apply((ip) => sshCommand(cfg.stack, ip)),
    statusCommand: server.ipv4.apply((ip) => statusCommand(cfg.stack, ip)),
    hostKey: keys.hostPublicKey,
    deployPrivateKey: keys.deployPrivateKey,
    apiUrl: server.ipv4.apply((ip) => publicApiUrl(plan.edge, ip)),
    capacity: report,
  };

  // Stage 4: the core node (the same server, host steps and login) runs the Swarm's manager, the
  // worker nodes join it, and the services replace the one box's containers (components/swarm.ts).
  // A stage 3 → 4 move: the App's resources are no longer declared, so the engine deletes them at
  // the end of the run; the retire step has stopped and removed their containers by then (the
  // provider's delete ignores "No such container"), and their volumes are kept (retainOnDelete) for
  // the services to mount by the same names. README "Stage 4" has the way back.
  const cd = plan.clusterDeploy;
  if (cfg.stage === 4) {
    try {
      return stage4();
    } finally {
      swarmRuns([]);
    }
  }
  function stage4() {
    if (!cd) throw new Error("internal: a deployable stage-4 plan has its cluster deploy");
    const firewall = host.steps["swarm-firewall"];
    if (!firewall) throw new Error("internal: the core node's host steps lack the Swarm firewall");
    const workerWatchdogSecrets = pulumi
      .all([
        cd.workers.some((w) => w.host.watchdog.sendBotToken) ? secrets.botToken : undefined,
        secrets.alertWebhookUrl,
      ])
      .apply(([token, url]) => watchdogSecretsFile(token, url, undefined));
    const cluster = new Cluster("cluster", {
      plan: cd,
      coreServer: server.server,
      coreLogin: hostLogin,
      // The Swarm firewall, and Docker (re-run on a 3 → 4 move: live-restore off, which Swarm needs).
      coreReady: [firewall, host.dockerReady],
      deployKeyId: server.deployKey.id,
      deployPrivateKey: keys.deployPrivateKey,
      workerWatchdogSecrets: pulumi.secret(workerWatchdogSecrets),
    });
    // The manager's engine, over SSH as the one box's provider is; every node pulls for itself.
    const manager = new docker.Provider(
      "swarm-docker",
      { host: server.ipv4.apply(dockerHostUrl), sshOpts: sshOptsPlain },
      { dependsOn: [host.dockerReady] },
    );
    const auth = plan.app.registryAuth;
    const swarm = new SwarmApp("swarm", {
      plan: cd.services,
      secrets,
      provider: manager,
      serverId: server.server.id,
      stop: cd.swarm.stop,
      manager: { connection: hostLogin },
      steps: { retire: cd.swarm.retire, gate: cd.swarm.gate },
      after: [cluster.formed],
      ...(auth && secrets.registryPassword
        ? { registryAuth: { ...auth, password: secrets.registryPassword } }
        : {}),
    });
    swarmRuns([...Object.values(swarm.services), ...(swarm.gate ? [swarm.gate] : [])]);
    return {
      ...outputs,
      workerIps: Object.fromEntries(Object.entries(cluster.workers).map(([k, w]) => [k, w.ipv4Address])),
      services: Object.fromEntries(Object.entries(swarm.services).map(([k, s]) => [k, s.id])),
    };
  }

  const app = new App("app", {
    plan: plan.app,
    secrets,
    dockerHost: server.ipv4.apply(dockerHostUrl),
    serverId: server.server.id,
    sshOpts: sshOptsPlain,
    gateConnection: hostLogin,
    releaseKey: keys.deployPrivateKey,
    dependsOn: [host.dockerReady],
  });
  const released = releases(app);
  // The weekly prune (install-docker.sh) spares the images this list names.
  keptImagesOnHost(
    "kept-images",
    {
      connection: hostLogin,
      releases: released,
    },
    { dependsOn: [host.dockerReady] },
  );

  return { ...outputs, releases: released };
};
