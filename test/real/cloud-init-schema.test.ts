// The server's user-data against cloud-init's own JSON schema (draft-04, from canonical/cloud-init),
// for the key types a real deploy generates.
import Ajv from "ajv-draft-04";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderUserData } from "../../src/plan/cloud-init";

const SCHEMA = join(__dirname, "..", "..", "..", "shared", "schemas", "cloud-config-v1.json");
const dir = mkdtempSync(join(tmpdir(), "ci-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function realHostKey() {
  // A throwaway ed25519 key, as @pulumi/tls would generate: OpenSSH private key + public line.
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "host")]);
  return {
    privateKeyOpenssh: readFileSync(join(dir, "host"), "utf8"),
    publicKeyOpenssh: readFileSync(join(dir, "host.pub"), "utf8").trim(),
  };
}

describe("user-data", () => {
  const schema = JSON.parse(readFileSync(SCHEMA, "utf8"));
  // Formats (uri, hostname) do not occur in our user-data; silence ajv's notes about them.
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  const validate = ajv.compile(schema);
  const key = realHostKey();
  const userData = renderUserData(key);
  const doc = parse(userData);

  it("is #cloud-config that cloud-init's schema accepts", () => {
    expect(userData.split("\n")[0]).toBe("#cloud-config");
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the schema really rejects mistakes (so the test above can fail)", () => {
    expect(validate({ ...doc, ssh_deletekeys: "yes please" })).toBe(false);
    expect(validate({ ...doc, ssh_keys: { ed25519_private: 42 } })).toBe(false);
    expect(validate({ ...doc, packages_update: true })).toBe(false);
  });

  it("carries the host key byte for byte", () => {
    expect(doc.ssh_keys.ed25519_private).toBe(key.privateKeyOpenssh);
    expect(doc.ssh_keys.ed25519_public).toBe(key.publicKeyOpenssh);
  });
});
