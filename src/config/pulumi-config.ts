// The one place that reads Pulumi config. Everything after it takes the parsed StackConfig, and
// secrets only ever leave here as Pulumi secret Outputs.
import * as pulumi from "@pulumi/pulumi";
import { parseJsonExact } from "./json";
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

/**
 * The env secret's JSON as strings: `pulumi config set --secret --path env.WORKERS 4` stores a
 * number (parse.ts accepts it as text), and Docker's env takes text. Parsed without losing digits.
 */
export function envValues(json: string): Record<string, string> {
  const obj = parseJsonExact(json) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, String(v)]));
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
      ? c.requireSecret("env").apply(envValues)
      : pulumi.secret<Record<string, string>>({}),
    registryPassword: opt(cfg.secrets.registryPassword, "registryPassword"),
    alertWebhookUrl: opt(cfg.secrets.alertWebhookUrl, "alertWebhookUrl"),
    deployPrivateKey: opt(cfg.secrets.deployPrivateKey, "deployPrivateKey"),
    hcloudToken: hcloud.getSecret("token") ?? (envToken ? pulumi.secret(envToken) : undefined),
    hcloudEndpoint: hcloud.get("endpoint") ?? process.env.HCLOUD_ENDPOINT,
  };
}
