// The live server-type catalog for `pulumi up/preview`: types and availability from
// hcloud.getServerTypes (which has no prices), prices from Hetzner's GET /v1/pricing with the same
// token; where pricing cannot be read, the bundled snapshot's prices, and the plan says so.
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { liveCatalog, parsePricing, snapshotCatalog, type Catalog, type LivePrices } from "../plan/catalog";

/** Hetzner's public API; the hcloud provider's own default when `hcloud:endpoint` is unset. */
export const DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1";

/**
 * The pricing URL under the same endpoint the hcloud provider talks to (`hcloud:endpoint` or
 * HCLOUD_ENDPOINT), so a stack pointed at another API — the lab's emulator — reads its prices there too.
 */
export function pricingUrl(endpoint: string | undefined): string {
  return `${(endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, "")}/pricing`;
}

/**
 * Hetzner's prices, or undefined (with a warning naming the URL and why) when they cannot be read:
 * no token, an HTTP error, no answer within `timeoutMs`, or a body that is not the pricing document.
 */
export async function fetchPrices(
  token: string | undefined,
  url: string,
  timeoutMs = 10_000,
): Promise<LivePrices | undefined> {
  if (!token) return undefined;
  try {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return parsePricing(await res.json());
  } catch (e) {
    pulumi.log.warn(
      `app-infra: could not read live prices from ${url} (${(e as Error).message}); using the bundled snapshot's prices`,
    );
    return undefined;
  }
}

/** Unwraps a secret token for the one HTTPS call that needs it; never logged or returned. */
function tokenValue(token: pulumi.Output<string> | undefined): Promise<string | undefined> {
  if (!token) return Promise.resolve(undefined);
  return new Promise((resolve) => token.apply((t) => resolve(t)));
}

export async function loadLiveCatalog(
  token: pulumi.Output<string> | undefined,
  endpoint: string | undefined,
): Promise<Catalog> {
  const url = pricingUrl(endpoint);
  const [types, prices] = await Promise.all([
    hcloud.getServerTypes(),
    tokenValue(token).then((t) => fetchPrices(t, url)),
  ]);
  return liveCatalog(types.serverTypes, prices, snapshotCatalog(), new Date().toISOString().slice(0, 10));
}
