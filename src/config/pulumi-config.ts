// The one place that reads Pulumi config. Everything after it takes the parsed StackConfig, and
// secrets only ever leave here as Pulumi secret Outputs.
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, projectKeys, PROJECT } from "./parse";
import type { StackConfig } from "./types";

export interface Secrets {
  botToken?: pulumi.Output<string>;
  falKey?: pulumi.Output<string>;
  env: pulumi.Output<Record<string, string>>;
  registryPassword?: pulumi.Output<string>;
  alertWebhookUrl?: pulumi.Output<string>;
  deployPrivateKey?: pulumi.Output<string>;
  /** Hetzner API token, for live prices only (the hcloud provider reads it itself). */
  hcloudToken?: pulumi.Output<string>;
  /** The hcloud provider's API endpoint (`hcloud:endpoint`, else HCLOUD_ENDPOINT, as the provider reads it). */
  hcloudEndpoint?: string;
}

export function loadStackConfig(): StackConfig {
  return parseConfig(pulumi.getStack(), projectKeys(pulumi.runtime.allConfig()));
}

export function loadSecrets(cfg: StackConfig): Secrets {
  const c = new pulumi.Config(PROJECT);
  const hcloud = new pulumi.Config("hcloud");
  const opt = (set: boolean, key: string) => (set ? c.requireSecret(key) : undefined);
  const envToken = process.env.HCLOUD_TOKEN;
  return {
    botToken: opt(cfg.secrets.botToken, "botToken"),
    falKey: opt(cfg.secrets.falKey, "falKey"),
    env: cfg.secrets.env
      ? c.requireSecretObject<Record<string, string>>("env")
      : pulumi.secret<Record<string, string>>({}),
    registryPassword: opt(cfg.secrets.registryPassword, "registryPassword"),
    alertWebhookUrl: opt(cfg.secrets.alertWebhookUrl, "alertWebhookUrl"),
    deployPrivateKey: opt(cfg.secrets.deployPrivateKey, "deployPrivateKey"),
    hcloudToken: hcloud.getSecret("token") ?? (envToken ? pulumi.secret(envToken) : undefined),
    hcloudEndpoint: hcloud.get("endpoint") ?? process.env.HCLOUD_ENDPOINT,
  };
}
