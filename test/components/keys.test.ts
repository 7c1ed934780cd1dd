// components/keys.ts alone: a deploy key is generated only when none is supplied; the host key
// always is, with the algorithm cloud-init installs it as; the private halves are secret.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Keys } from "../../components/keys";
import { isSecret, recordComponents, unwrap } from "../support/mocks";
import { ed25519KeyPair, type OpensshKeyPair } from "../support/openssh-key";

let rec: Awaited<ReturnType<typeof recordComponents>>;
let generated: Keys;
let supplied: Keys;
let pair: OpensshKeyPair;
beforeAll(() => {
  pair = ed25519KeyPair("keys-test");
});
// Per test, not in beforeAll, so that mutation testing can score it (see recordComponents).
beforeEach(async () => {
  rec = await recordComponents(() => {
    generated = new Keys("gen", {});
    supplied = new Keys("own", { deployPrivateKey: pulumi.secret(pair.privateKey) });
  });
});

describe("Keys", () => {
  it("generates ED25519 keys: deploy and host without a supplied key, only the host key with one", () => {
    const keys = rec.byType("tls:index/privateKey:PrivateKey");
    expect(keys.map((k) => k.name).sort()).toEqual(["gen-deploy", "gen-host", "own-host"]);
    for (const k of keys) expect(k.inputs, k.name).toEqual({ algorithm: "ED25519" });
  });

  it("the supplied key is used as it is, its public half derived; private halves are secret", async () => {
    expect(await unwrap(supplied.deployPrivateKey)).toBe(pair.privateKey);
    expect(await unwrap(supplied.deployPublicKey)).toBe(pair.publicKey);
    expect(await unwrap(generated.deployPublicKey)).toMatch(/^ssh-ed25519 \S+ gen-deploy$/);
    expect(await unwrap(generated.hostPublicKey)).toMatch(/^ssh-ed25519 \S+ gen-host$/);
    for (const k of [generated, supplied]) {
      expect(await isSecret(k.deployPrivateKey)).toBe(true);
      expect(await isSecret(k.hostPrivateKey)).toBe(true);
    }
  });

  it("every key is the component's child", () => {
    for (const n of ["gen-deploy", "gen-host"]) expect(rec.options[n]?.parent, n).toBe("gen");
    expect(rec.options["own-host"]?.parent).toBe("own");
    expect(rec.options["own-deploy"]).toBeUndefined();
  });
});
