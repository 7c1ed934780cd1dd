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
  /** The watchdog's push heartbeat URL (alerts/heartbeatUrl). */
  heartbeatUrl?: pulumi.Output<string>;
  /** The restic repository password and the bucket's S3 keys (backup/*). */
  backup?: {
    password?: pulumi.Output<string>;
    accessKeyId?: pulumi.Output<string>;
    secretAccessKey?: pulumi.Output<string>;
  };
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

/**
 * A nested secret's text, such as backup/password in `{"enabled":true,"password":"…"}`. Pulumi keeps
 * structured config under its top-level key: `pulumi config set --secret --path backup.password x`
 * stores `app-infra:backup` as an object with one `secure:` leaf, and the program sees the whole
 * object (decrypted, as JSON) under `app-infra:backup`, secret because a leaf is
 * (pulumi/pulumi sdk/go/common/resource/config, Value.ToObject; sdk/nodejs/config.ts getSecret).
 * So `requireSecret("backup/password")` finds nothing; the object is read and walked instead. A
 * leaf stored as a number (`--path` turns digits into one) is its decimal text.
 */
export function nestedValue(json: string, rest: readonly string[]): string {
  let node: unknown = parseJsonExact(json);
  for (const part of rest) {
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  if (typeof node === "string") return node;
  if (typeof node === "number" || typeof node === "bigint" || typeof node === "boolean") return String(node);
  throw new Error(`internal: ${rest.join("/")} should be a string in the stack's config`);
}

/** A secret key's value as a Pulumi secret, top-level (`botToken`) or nested (`backup/password`). */
function secretAt(c: pulumi.Config, path: string): pulumi.Output<string> {
  const [head, ...rest] = path.split("/");
  if (rest.length === 0) return c.requireSecret(head!);
  return c.requireSecret(head!).apply((json) => nestedValue(json, rest));
}

export function loadStackConfig(): StackConfig {
  return parseConfig(pulumi.getStack(), projectKeys(pulumi.runtime.allConfig()));
}

export function loadSecrets(cfg: StackConfig): Secrets {
  const c = new pulumi.Config(PROJECT);
  const hcloud = new pulumi.Config("hcloud");
  const opt = (set: boolean, key: string) => (set ? secretAt(c, key) : undefined);
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
    heartbeatUrl: opt(cfg.secrets["alerts/heartbeatUrl"], "alerts/heartbeatUrl"),
    backup: cfg.backup.enabled
      ? {
          password: opt(cfg.secrets["backup/password"], "backup/password"),
          accessKeyId: opt(cfg.secrets["backup/accessKeyId"], "backup/accessKeyId"),
          secretAccessKey: opt(cfg.secrets["backup/secretAccessKey"], "backup/secretAccessKey"),
        }
      : undefined,
    hcloudToken: hcloud.getSecret("token") ?? (envToken ? pulumi.secret(envToken) : undefined),
    hcloudEndpoint: hcloud.get("endpoint") ?? process.env.HCLOUD_ENDPOINT,
  };
}
