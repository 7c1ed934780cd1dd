// The configuration the lab deploys — the dev stack's own file plus what the lab must set — and
// the values its checks expect, derived from the program's own plan (never typed in twice).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseConfig, PROJECT } from "../../src/config/parse";
import type { StackConfig } from "../../src/config/types";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan, type Plan } from "../../src/plan/plan";
import { PROXY_IMAGE } from "./edge";
import { ROOT } from "./engine";

/** The reference app, built inside the VM (no registry is reachable); `:2` is the image bump. */
export const APP_IMAGE = (tag: number) => `app-infra-lab/reference-app:${tag}`;
export const BASE_IMAGE = "app-infra-lab/base:bookworm";
/** The reference app's tag whose API fails every request (the broken-release test of issue 14). */
export const BROKEN_TAG = 3;
/** The stack's `domain` in the lab; `.test` is reserved for testing (RFC 2606), never a real name. */
export const LAB_DOMAIN = "api.lab.test";

/** A stack name of its own, so the lab never shares a stack's fixed paths (e.g. its ssh files) with a real one. */
export function labStackName(): string {
  return `lab-${randomBytes(3).toString("hex")}`;
}

/** `app-infra:*` keys of Pulumi.dev.yaml, unqualified. */
export function devStackConfig(): Record<string, unknown> {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8")) ?? {};
  return Object.fromEntries(
    Object.entries(doc.config ?? {})
      .filter(([k]) => k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => [k.slice(PROJECT.length + 1), v]),
  );
}

export interface LabStackConfig {
  /** Unqualified app-infra keys (plain). */
  app: Record<string, unknown>;
  /** Fully qualified secrets for `pulumi config set --secret`. */
  secrets: Record<string, string>;
  /** Other providers' plain config (hcloud:endpoint). */
  providers: Record<string, unknown>;
}

/** The lab's backup secrets: fixed fakes (gofakes3 checks no signature), each distinct so a leak is traceable. */
export const BACKUP_SECRETS = {
  password: "lab-restic-password-4c8a1f0e",
  accessKeyId: "LABAKID7Q2BACKUP",
  secretAccessKey: "lab-s3-secret-9f1e2d7c6b5a",
};

/**
 * The dev stack, with the lab's images, alerts that fire fast, its emulator as the Hetzner API,
 * backups on (to the lab's S3 server) and the heartbeat to the receiver.
 */
export function labStackConfig(o: {
  receiverUrl: string;
  heartbeatUrl: string;
  backupRepository: string;
  endpoint: string;
  hcloudToken: string;
}): LabStackConfig {
  return {
    app: {
      ...devStackConfig(),
      images: { api: APP_IMAGE(1), bot: APP_IMAGE(1), worker: APP_IMAGE(1), proxy: PROXY_IMAGE },
      // The edge proxy answers for this name with a certificate from the lab's ACME server
      // (pebble, through the "Let's Encrypt front"): HTTPS as in production. Clients reach it on
      // the server's address with this name as the TLS name and Host (test/lab/edge.ts).
      domain: LAB_DOMAIN,
      // The lab's images are built inside the VM and no registry is reachable from here, so no
      // registry digest can be asked for: a lab stack pulls a tag once (the contract for the
      // default, `registry`, is pinned by the unit tests and docs/provider-contract.md).
      imageDigests: "off",
      // forMinutes 0 and a short queue threshold: the queue alert fires on the first check that
      // sees the jobs. 30 s, not the 10 s minimum: under TCG one check takes several seconds.
      // apiLatencyMs 10 s: under TCG a TLS handshake with the proxy takes 1.4-2.8 s when the VM is
      // busy (measured in the lab, curl's time_appconnect), over the 2 s default, so the API alert
      // would stay on for the VM's slowness rather than the API's.
      alerts: { forMinutes: 0, queueLength: 5, intervalS: 30, repeatMinutes: 60, apiLatencyMs: 10_000 },
      // The schedule stays the default (03:15): the lab starts the backup by hand.
      backup: { enabled: true, repository: o.backupRepository },
    },
    // A key with a dot is a path inside an object (`pulumi config set --path --secret`).
    secrets: {
      "app-infra:botToken": "123456:lab-bot-token-not-real",
      "app-infra:falKey": "fal-lab-key-not-real",
      "app-infra:alertWebhookUrl": o.receiverUrl,
      "app-infra:alerts.heartbeatUrl": o.heartbeatUrl,
      "app-infra:backup.password": BACKUP_SECRETS.password,
      "app-infra:backup.accessKeyId": BACKUP_SECRETS.accessKeyId,
      "app-infra:backup.secretAccessKey": BACKUP_SECRETS.secretAccessKey,
      "hcloud:token": o.hcloudToken,
    },
    providers: { "hcloud:endpoint": o.endpoint },
  };
}

/** Qualified keys for the stack file. */
export function qualified(c: LabStackConfig): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(c.app).map(([k, v]) => [`${PROJECT}:${k}`, v])),
    ...c.providers,
  };
}

/** What the program plans for this config, on the catalog the emulator serves (the bundled snapshot). */
export function expectedPlan(
  stack: string,
  c: Pick<LabStackConfig, "app" | "secrets">,
): { cfg: StackConfig; plan: Plan } {
  const raw = structuredClone(c.app);
  for (const [k, v] of Object.entries(c.secrets)) {
    if (!k.startsWith(`${PROJECT}:`)) continue;
    // `backup.password` is the `password` field of the `backup` object, as `--path` stores it.
    const path = k.slice(PROJECT.length + 1).split(".");
    let at = raw;
    for (const p of path.slice(0, -1)) {
      const next = at[p];
      at = at[p] = next && typeof next === "object" ? { ...(next as Record<string, unknown>) } : {};
    }
    at[path.at(-1)!] = v;
  }
  const cfg = parseConfig(stack, raw);
  return { cfg, plan: makePlan(cfg, snapshotCatalog()) };
}
