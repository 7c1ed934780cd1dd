// The server's user-data against Debian's own cloud-init (package cloud-init, 22.4.2 in Debian 12):
// `cloud-init schema --config-file FILE` is the validator cloud-init itself runs, and its schema is
// the one the package ships (cloudinit/config/schemas/schema-cloud-config-v1.json, loaded by
// cloudinit.config.schema.get_schema()). The tool is required: without it every test here fails
// (.ci/run installs it); it is never skipped.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderUserData } from "../../src/plan/cloud-init";

const dir = mkdtempSync(join(tmpdir(), "ci-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MISSING =
  "cloud-init is not installed: this test needs Debian's cloud-init package " +
  "(apt-get install --no-install-recommends cloud-init; .ci/run installs it)";

function requireCloudInit(): void {
  const r = spawnSync("cloud-init", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) throw new Error(`${MISSING}: ${r.error?.message ?? r.stderr}`);
}

let n = 0;
/** Runs `cloud-init schema -c` on a document; `valid` only on exit 0 AND its "Valid cloud-config" line. */
function cloudInitSchema(text: string): { valid: boolean; output: string } {
  requireCloudInit();
  const file = join(dir, `user-data-${++n}.yaml`);
  writeFileSync(file, text);
  const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8", timeout: 30_000 });
  const output = `${r.stdout}${r.stderr}`.trim();
  // Exit 1 also means "file not found" or a crash, so an invalid document must say so itself.
  if (r.status !== 0 && !/Cloud config schema errors:/.test(output))
    throw new Error(`cloud-init schema failed: exit ${r.status}: ${output}`);
  return { valid: r.status === 0 && /^Valid cloud-config: /m.test(output), output };
}

/**
 * Every top-level key that some module of the packaged schema declares. cloud-init 22.4.2's schema
 * has no top-level `additionalProperties: false` (upstream added it later), so `cloud-init schema`
 * there accepts a misspelt key such as `packages_update`; this list is how the test still catches one.
 */
function knownTopLevelKeys(): Set<string> {
  requireCloudInit();
  // cloud-init's own interpreter (its #! line): the python3 first on PATH may be another one,
  // without Debian's dist-packages.
  const bin = execFileSync("sh", ["-c", "command -v cloud-init"], { encoding: "utf8" }).trim();
  const python = /^#!\s*(\S+)/.exec(readFileSync(bin, "utf8").split("\n")[0])?.[1];
  if (!python) throw new Error(`${bin}: no #! line naming its Python`);
  const py = "import json; from cloudinit.config.schema import get_schema; print(json.dumps(get_schema()))";
  const schema = JSON.parse(execFileSync(python, ["-c", py], { encoding: "utf8" })) as {
    allOf: { $ref?: string }[];
    $defs: Record<string, { properties?: Record<string, unknown> }>;
  };
  const keys = new Set<string>();
  for (const { $ref } of schema.allOf) {
    const def = $ref?.startsWith("#/$defs/") ? schema.$defs[$ref.slice("#/$defs/".length)] : undefined;
    for (const k of Object.keys(def?.properties ?? {})) keys.add(k);
  }
  if (keys.size < 50)
    throw new Error(
      `cloud-init's schema lists only ${keys.size} top-level keys; not the schema this test expects`,
    );
  return keys;
}

let known: Set<string> | undefined;
const unknownKeys = (d: object) => Object.keys(d).filter((k) => !(known ??= knownTopLevelKeys()).has(k));

function realHostKey() {
  // A throwaway ed25519 key, as @pulumi/tls would generate: OpenSSH private key + public line.
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "host")]);
  return {
    privateKeyOpenssh: readFileSync(join(dir, "host"), "utf8"),
    publicKeyOpenssh: readFileSync(join(dir, "host.pub"), "utf8").trim(),
  };
}

const asCloudConfig = (doc: object) => `#cloud-config\n${stringify(doc)}`;

describe("user-data", () => {
  const key = realHostKey();
  const userData = renderUserData(key);
  const doc = parse(userData) as Record<string, unknown> & { ssh_keys: Record<string, string> };

  it("is #cloud-config that Debian's `cloud-init schema` accepts", () => {
    expect(userData.split("\n")[0]).toBe("#cloud-config");
    const r = cloudInitSchema(userData);
    expect(r.output).toMatch(/^Valid cloud-config: /m);
    expect(r.valid).toBe(true);
  });

  it("uses only keys that cloud-init's packaged schema declares", () => {
    expect(unknownKeys(doc)).toEqual([]);
  });

  it("the checks really reject mistakes (so the tests above can fail)", () => {
    const wrongType = cloudInitSchema(asCloudConfig({ ...doc, ssh_deletekeys: "yes please" }));
    expect(wrongType.valid).toBe(false);
    expect(wrongType.output).toMatch(/ssh_deletekeys: 'yes please' is not of type 'boolean'/);
    const wrongKeyType = cloudInitSchema(asCloudConfig({ ...doc, ssh_keys: { ed25519_private: 42 } }));
    expect(wrongKeyType.valid).toBe(false);
    expect(wrongKeyType.output).toMatch(/ssh_keys\.ed25519_private: 42 is not of type 'string'/);
    // A misspelt key (package_update is right): caught by the key list, not by 22.4.2's validator.
    expect(unknownKeys({ ...doc, packages_update: true })).toEqual(["packages_update"]);
  });

  it("carries the host key byte for byte", () => {
    expect(doc.ssh_keys.ed25519_private).toBe(key.privateKeyOpenssh);
    expect(doc.ssh_keys.ed25519_public).toBe(key.publicKeyOpenssh);
  });
});
