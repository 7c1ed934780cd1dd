// Which key goes where when the program generates both keys (no deployPrivateKey set). The mocks
// give every tls.PrivateKey the same shape and tell them apart only by name (`mock-<name>` in the
// private key, `<name>` as the public key's comment: test/support/mocks.ts), so these assertions
// pin the names: the deploy key is `keys-deploy`, the host key `keys-host`. A shape-only check
// ("is an ed25519 key") would pass with the two swapped.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runProgram, type ProgramRun } from "../support/mocks";
import { T } from "./hetzner-stack";

const DEPLOY_PUBLIC = /^ssh-ed25519 \S+ keys-deploy$/;
const HOST_PUBLIC = /^ssh-ed25519 \S+ keys-host$/;
const privateKeyOf = (name: string) =>
  `-----BEGIN OPENSSH PRIVATE KEY-----\nmock-${name}\n-----END OPENSSH PRIVATE KEY-----\n`;

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "2", botToken: "123:bot-token-secret" }, ["botToken"]);
});

describe("generated keys: deploy key vs host key", () => {
  it("two ed25519 keys are generated: keys-deploy and keys-host", () => {
    expect(
      run
        .byType(T.privateKey)
        .map((k) => [k.name, k.inputs.algorithm])
        .sort(),
    ).toEqual([
      ["keys-deploy", "ED25519"],
      ["keys-host", "ED25519"],
    ]);
  });

  it("Hetzner's SSH key is the deploy key's public half", () => {
    expect(run.one(T.sshKey, "server-deploy-key").inputs.publicKey).toMatch(DEPLOY_PUBLIC);
  });

  it("user-data carries the host key pair (both halves), never the deploy key", () => {
    const ud = run.one(T.server, "server-vm").inputs.userData as string;
    const doc = parse(ud);
    expect(doc.ssh_keys.ed25519_public).toMatch(HOST_PUBLIC);
    expect(doc.ssh_keys.ed25519_private).toBe(privateKeyOf("keys-host"));
    expect(ud).not.toContain("keys-deploy");
  });

  it("every host step logs in with the deploy private key and pins the host public key", () => {
    const steps = run.byType(T.command);
    // Five host steps, the API's gate and the kept-images list.
    expect(steps).toHaveLength(7);
    for (const c of steps) {
      expect(c.inputs.connection.privateKey, c.name).toBe(privateKeyOf("keys-deploy"));
      expect(c.inputs.connection.hostKey, c.name).toMatch(HOST_PUBLIC);
    }
  });

  it("the Docker provider's identity file is the deploy private key", () => {
    const opts = JSON.parse(run.one(T.dockerProvider, "app-docker").inputs.sshOpts as string) as string[];
    expect(readFileSync(opts[opts.indexOf("-i") + 1]!, "utf8")).toBe(privateKeyOf("keys-deploy"));
  });

  it("outputs: deployPrivateKey is the deploy key (secret), hostKey the host's public key", () => {
    expect(run.outputs.deployPrivateKey).toBe(privateKeyOf("keys-deploy"));
    expect(run.secretOutputs).toContain("deployPrivateKey");
    expect(run.outputs.hostKey).toMatch(HOST_PUBLIC);
  });
});

describe("default firewall", () => {
  it("SSH and the API from everywhere (the defaults), ping; nothing else", () => {
    expect(run.one(T.firewall, "server-firewall").inputs.rules).toEqual([
      {
        direction: "in",
        protocol: "tcp",
        port: "22",
        sourceIps: ["0.0.0.0/0", "::/0"],
        description: "SSH from adminCidrs",
      },
      { direction: "in", protocol: "icmp", sourceIps: ["0.0.0.0/0", "::/0"], description: "ping" },
      {
        direction: "in",
        protocol: "tcp",
        port: "80",
        sourceIps: ["0.0.0.0/0", "::/0"],
        description: "HTTP",
      },
      {
        direction: "in",
        protocol: "tcp",
        port: "443",
        sourceIps: ["0.0.0.0/0", "::/0"],
        description: "HTTPS",
      },
    ]);
  });
});
