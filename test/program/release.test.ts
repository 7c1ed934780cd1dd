// The API container's name is its release (src/plan/release.ts): the same on an up without
// changes, new whenever the provider would replace the container, and new for every `release`
// value the deploy workflow sets. Each configuration is recorded in its own process.
import { beforeAll, describe, expect, it } from "vitest";
import { releaseContainerName } from "../../src/plan/release";
import { record, type Recording } from "../support/record";
import { T } from "./hetzner-stack";

const secrets = { botToken: "123:bot-token-secret", falKey: "fal-1" };
const base = { stage: 2, images: { api: "ghcr.io/acme/api:1.0.0" } };
const configs: Record<string, Record<string, unknown>> = {
  base,
  again: base,
  newImage: { ...base, images: { api: "ghcr.io/acme/api:1.0.1" } },
  newHealthPath: { ...base, services: { api: { healthPath: "/ready" } } },
  newMemory: { ...base, services: { api: { memoryMb: 300 } } },
  release1: { ...base, release: "4711-1" },
  release2: { ...base, release: "4711-2" },
  rotatedSecret: base,
};
const runs: Record<string, Recording> = {};

beforeAll(async () => {
  await Promise.all(
    Object.entries(configs).map(async ([k, c]) => {
      const s = k === "rotatedSecret" ? { ...secrets, falKey: "fal-2" } : secrets;
      runs[k] = await record("dev", { ...c, ...s }, ["botToken", "falKey"]);
    }),
  );
}, 120_000);

const container = (k: string, n: string) =>
  runs[k]!.resources.find((r) => r.type === T.container && r.name === `app-${n}`)!.inputs;
const apiName = (k: string) => container(k, "api").name as string;

describe("the API's release name", () => {
  it("is api-<12 hex digits>, under the same logical name (app-api) whatever the release", () => {
    for (const k of Object.keys(configs)) expect(apiName(k), k).toMatch(/^api-[0-9a-f]{12}$/);
  });

  it("is the same on an up without changes (a no-op stays a no-op)", () => {
    expect(apiName("again")).toBe(apiName("base"));
  });

  it("is new when an input the provider replaces on changes: the image, the healthcheck, a secret", () => {
    const names = ["base", "newImage", "newHealthPath", "rotatedSecret"].map(apiName);
    expect(new Set(names).size).toBe(4);
  });

  it("stays when only an in-place input changes (the memory limit is updated, not replaced)", () => {
    expect(container("newMemory", "api").memory).toBe(300);
    expect(apiName("newMemory")).toBe(apiName("base"));
  });

  it("is new for every release the workflow sets, so a rollback never reuses a live container's name", () => {
    expect(new Set(["base", "release1", "release2"].map(apiName)).size).toBe(3);
  });

  it("is keyed by the deploy private key: the HMAC of the container's inputs, not their plain hash", () => {
    const { name, ...inputs } = container("base", "api");
    const key = `-----BEGIN OPENSSH PRIVATE KEY-----\nmock-keys-deploy\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(name).toBe(releaseContainerName("api", "", inputs, key));
    expect(name).not.toBe(releaseContainerName("api", "", inputs));
  });

  it("is not a secret, though it hashes the env: previews and the gate's log show it", () => {
    const api = runs.base!.resources.find((r) => r.type === T.container && r.name === "app-api")!;
    expect(api.secretInputs).not.toContain("name");
    expect(api.secretInputs).toContain("envs");
  });

  it("the other containers keep their fixed names", () => {
    for (const n of ["redis", "proxy", "bot", "worker-image-1", "worker-image-2"])
      expect(container("base", n).name, n).toBe(n);
  });
});
