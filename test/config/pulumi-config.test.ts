// src/config/pulumi-config.ts, the one reader of Pulumi config, without the program: each test sets
// the stack's config as `pulumi config set` leaves it and reads it back. Every secret gets its own
// value, so a test can tell which key reached which field; all of it runs inside the tests (not in
// beforeAll), so mutation testing can score it.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envValues, loadSecrets, loadStackConfig, nestedValue } from "../../src/config/pulumi-config";
import { isSecret, setStackConfig, unwrap } from "../support/mocks";
import { ed25519KeyPair } from "../support/openssh-key";

async function useConfig(stack: string, config: Record<string, unknown>, secret: string[]): Promise<void> {
  setStackConfig(config, secret);
  await pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs },
    "app-infra",
    stack,
    false,
  );
}

const IMAGES = { api: "ghcr.io/acme/api:1", bot: "ghcr.io/acme/bot:1", worker: "ghcr.io/acme/worker:1" };
const REPO = "s3:https://s3.example.org/acme/redis";

let savedEnv: Record<string, string | undefined>;
beforeEach(() => {
  savedEnv = { HCLOUD_TOKEN: process.env.HCLOUD_TOKEN, HCLOUD_ENDPOINT: process.env.HCLOUD_ENDPOINT };
  delete process.env.HCLOUD_TOKEN;
  delete process.env.HCLOUD_ENDPOINT;
});
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("nestedValue: one leaf of a structured secret", () => {
  const doc = '{"a":{"s":"text","n":12,"big":123456789012345678901234,"t":true,"f":false,"o":{}},"x":"y"}';
  it.each([
    [["a", "s"], "text"],
    [["a", "n"], "12"],
    [["a", "big"], "123456789012345678901234"],
    [["a", "t"], "true"],
    [["a", "f"], "false"],
    [["x"], "y"],
  ])("%j is %s", (path, want) => {
    expect(nestedValue(doc, path)).toBe(want);
  });

  it.each([[["a", "o"]], [["a", "missing"]], [["x", "deeper"]], [["a", "s", "deeper"]], [["nope", "s"]]])(
    "%j is not a value: an internal error naming the path",
    (path) => {
      expect(() => nestedValue(doc, path)).toThrow(
        `internal: ${path.join("/")} should be a string in the stack's config`,
      );
    },
  );

  it("null on the way is no object", () => {
    expect(() => nestedValue('{"a":null}', ["a", "b"])).toThrow("internal: a/b should be");
  });
});

describe("envValues: the env secret as text", () => {
  it("keeps strings, writes numbers and booleans as their text, big integers digit for digit", () => {
    expect(envValues('{"A":"x","B":4,"C":9007199254740993,"D":true}')).toEqual({
      A: "x",
      B: "4",
      C: "9007199254740993",
      D: "true",
    });
  });
});

describe("loadStackConfig", () => {
  it("parses this stack's project keys, under the stack's name, ignoring other namespaces", async () => {
    await useConfig("shop", { stage: "2", images: IMAGES, "hcloud:location": "hel1" }, []);
    const cfg = loadStackConfig();
    expect(cfg.stack).toBe("shop");
    expect(cfg.stage).toBe(2);
    expect(cfg.images.worker).toBe(IMAGES.worker);
  });
});

describe("loadSecrets: every secret from its own key, as a secret Output", () => {
  it("reads each set secret, top-level and nested, and the hcloud token and endpoint from config", async () => {
    const key = ed25519KeyPair("pulumi-config-test").privateKey;
    await useConfig(
      "qa",
      {
        stage: "3",
        images: IMAGES,
        botToken: "bot-1",
        falKey: "fal-2",
        env: { EXTRA: "e-3", N: 4 },
        registry: { server: "ghcr.io", username: "acme" },
        registryPassword: "reg-5",
        alertWebhookUrl: "https://hooks.example/6",
        deployPrivateKey: key,
        alerts: { heartbeatUrl: "https://beat.example/8" },
        backup: {
          enabled: true,
          repository: REPO,
          password: "pw-9",
          accessKeyId: 10,
          secretAccessKey: "sk-11",
        },
        "hcloud:token": "hc-12",
        "hcloud:endpoint": "http://127.0.0.1:1/v1",
      },
      [
        "botToken",
        "falKey",
        "env",
        "registryPassword",
        "alertWebhookUrl",
        "deployPrivateKey",
        "alerts",
        "backup",
        "hcloud:token",
      ],
    );
    process.env.HCLOUD_TOKEN = "from-env";
    process.env.HCLOUD_ENDPOINT = "http://from-env/v1";
    const s = loadSecrets(loadStackConfig());
    const values = {
      botToken: await unwrap(s.botToken!),
      falKey: await unwrap(s.falKey!),
      env: await unwrap(s.env),
      registryPassword: await unwrap(s.registryPassword!),
      alertWebhookUrl: await unwrap(s.alertWebhookUrl!),
      deployPrivateKey: await unwrap(s.deployPrivateKey!),
      heartbeatUrl: await unwrap(s.heartbeatUrl!),
      password: await unwrap(s.backup!.password!),
      accessKeyId: await unwrap(s.backup!.accessKeyId!),
      secretAccessKey: await unwrap(s.backup!.secretAccessKey!),
      hcloudToken: await unwrap(s.hcloudToken!),
    };
    expect(values).toEqual({
      botToken: "bot-1",
      falKey: "fal-2",
      env: { EXTRA: "e-3", N: "4" },
      registryPassword: "reg-5",
      alertWebhookUrl: "https://hooks.example/6",
      deployPrivateKey: key,
      heartbeatUrl: "https://beat.example/8",
      password: "pw-9",
      accessKeyId: "10",
      secretAccessKey: "sk-11",
      hcloudToken: "hc-12",
    });
    // config wins over the environment, as the hcloud provider reads them
    expect(s.hcloudEndpoint).toBe("http://127.0.0.1:1/v1");
    for (const o of [
      s.botToken,
      s.falKey,
      s.env,
      s.registryPassword,
      s.alertWebhookUrl,
      s.deployPrivateKey,
      s.heartbeatUrl,
      s.backup!.password,
      s.backup!.accessKeyId,
      s.backup!.secretAccessKey,
      s.hcloudToken,
    ])
      expect(await isSecret(o)).toBe(true);
  });

  it("leaves unset secrets undefined, env an empty secret object, and no backup block when backups are off", async () => {
    await useConfig("qa", { stage: "1", images: IMAGES }, []);
    const s = loadSecrets(loadStackConfig());
    expect(s.botToken).toBeUndefined();
    expect(s.falKey).toBeUndefined();
    expect(s.registryPassword).toBeUndefined();
    expect(s.alertWebhookUrl).toBeUndefined();
    expect(s.deployPrivateKey).toBeUndefined();
    expect(s.heartbeatUrl).toBeUndefined();
    expect(s.backup).toBeUndefined();
    expect(s.hcloudToken).toBeUndefined();
    expect(s.hcloudEndpoint).toBeUndefined();
    expect(await unwrap(s.env)).toEqual({});
    expect(await isSecret(s.env)).toBe(true);
  });

  it("takes the hcloud token and endpoint from HCLOUD_TOKEN and HCLOUD_ENDPOINT when config has none", async () => {
    await useConfig("qa", { stage: "1", images: IMAGES }, []);
    process.env.HCLOUD_TOKEN = "from-env";
    process.env.HCLOUD_ENDPOINT = "http://from-env/v1";
    const s = loadSecrets(loadStackConfig());
    expect(await unwrap(s.hcloudToken!)).toBe("from-env");
    expect(await isSecret(s.hcloudToken)).toBe(true);
    expect(s.hcloudEndpoint).toBe("http://from-env/v1");
  });
});
