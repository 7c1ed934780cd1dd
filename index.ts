// app-infra: load config → make plan → declare components → export outputs.
import * as pulumi from "@pulumi/pulumi";
import { App } from "./components/app";
import { Host, readScript } from "./components/host";
import { Keys } from "./components/keys";
import { Server } from "./components/server";
import { ConfigError } from "./src/config/errors";
import { loadSecrets, loadStackConfig } from "./src/config/pulumi-config";
import { loadLiveCatalog } from "./src/live/catalog";
import { loadDeployedServer } from "./src/live/deployed";
import { dockerSshOpts, sshFilePaths, writeSshFiles } from "./src/live/ssh-files";
import { hostSteps } from "./src/plan/host";
import { makePlan } from "./src/plan/plan";
import { watchdogEnv, watchdogPayload, watchdogSecretsFile } from "./src/plan/watchdog";
import { planToJson } from "./src/report/json";

export = async () => {
  // Everything is validated before the first resource is registered: nothing is half-applied.
  const cfg = loadStackConfig();
  const secrets = loadSecrets(cfg);
  const problems: string[] = [];
  if (!cfg.secrets.botToken)
    problems.push("botToken: is required (pulumi config set --secret botToken <token from @BotFather>)");
  // The local target picks no server, so it needs no catalog (and no Hetzner token).
  const [catalog, deployed] =
    cfg.target === "hetzner"
      ? await Promise.all([
          loadLiveCatalog(secrets.hcloudToken, secrets.hcloudEndpoint),
          loadDeployedServer(cfg.stack),
        ])
      : [{ source: "none (local target)", takenAt: "", live: false, types: [] }, undefined];
  // The deployed server (if any) keeps its type while the requirements hold, and pins location
  // and architecture.
  const plan = makePlan(cfg, catalog, deployed);
  problems.push(...plan.errors);
  if (problems.length > 0) throw new ConfigError(problems);
  for (const w of plan.warnings) pulumi.log.warn(w);

  const report = planToJson(plan);
  if (cfg.target === "local") {
    new App("app", { cfg, plan, secrets });
    return { target: "local", apiUrl: `http://localhost:${cfg.services.api.port}`, capacity: report };
  }

  const keys = new Keys("keys", { deployPrivateKey: secrets.deployPrivateKey });
  const server = new Server("server", {
    cfg,
    plan,
    deployPublicKey: keys.deployPublicKey,
    hostPrivateKey: keys.hostPrivateKey,
    hostPublicKey: keys.hostPublicKey,
  });
  const connection = {
    host: server.ipv4,
    user: "root",
    privateKey: keys.deployPrivateKey,
    // Pinned: the key cloud-init installed, so no first connection is taken on trust.
    hostKey: keys.hostPublicKey,
    // A new server takes a minute or two to boot and start sshd; a refused port is retried with a
    // backoff capped at 5 s (pulumi-command connection.go dialWithRetry), so 120 attempts allow
    // about 10 minutes for a slow first boot.
    dialErrorLimit: 120,
    perDialTimeout: 15,
  };
  const watchdogSecrets = pulumi
    .all([cfg.alerts.telegramChatId ? secrets.botToken : undefined, secrets.alertWebhookUrl])
    .apply(([token, url]) => watchdogSecretsFile(token, url));
  const host = new Host("host", {
    connection,
    steps: hostSteps(plan, cfg),
    server: server.server,
    payloads: {
      watchdog: pulumi
        .secret(watchdogSecrets)
        .apply((s) => watchdogPayload(readScript("watchdog.sh"), watchdogEnv(cfg, plan), s)),
    },
  });

  // Written on every run that runs the program (refresh and destroy too, with --run-program), so no
  // operation depends on a file an earlier run left behind (src/live/ssh-files.ts).
  const paths = sshFilePaths(cfg.stack);
  const sshOpts = pulumi
    .all([keys.deployPrivateKey, keys.hostPublicKey])
    .apply(([key, hostKey]) => dockerSshOpts(writeSshFiles(paths, key), hostKey));
  // The options hold a file path and the public host key; the private key stays in its file.
  const sshOptsPlain = pulumi.unsecret(sshOpts);
  new App("app", {
    cfg,
    plan,
    secrets,
    dockerHost: pulumi.interpolate`ssh://root@${server.ipv4}`,
    serverId: server.server.id,
    sshOpts: sshOptsPlain,
    dependsOn: [host.dockerReady],
  });

  return {
    serverIp: server.ipv4,
    serverType: plan.server!.type,
    serverPriceMonthlyEur: plan.server!.priceMonthlyEur,
    sshCommand: pulumi.interpolate`pulumi stack output --show-secrets deployPrivateKey > ~/.ssh/app-infra-${cfg.stack} && chmod 600 ~/.ssh/app-infra-${cfg.stack} && ssh -i ~/.ssh/app-infra-${cfg.stack} root@${server.ipv4}`,
    statusCommand: pulumi.interpolate`ssh -i ~/.ssh/app-infra-${cfg.stack} root@${server.ipv4} app-infra-status`,
    hostKey: keys.hostPublicKey,
    deployPrivateKey: keys.deployPrivateKey,
    apiUrl: pulumi.interpolate`http://${server.ipv4}:${cfg.services.api.port}`,
    capacity: report,
  };
};
