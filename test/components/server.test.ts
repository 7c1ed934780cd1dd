// components/server.ts alone, from a hand-written `hetzner` slice: every field reaches its input,
// and nothing is added that the slice does not say.
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Server } from "../../components/server";
import type { HetznerPlan } from "../../src/plan/hetzner";
import { recordComponents, type Recorded } from "../support/mocks";

const PLAN: HetznerPlan = {
  deployKey: { name: "key-name-x", labels: { a: "1" } },
  firewall: {
    name: "fw-name-y",
    labels: { b: "2" },
    rules: [
      { direction: "in", protocol: "tcp", port: "2222", sourceIps: ["192.0.2.0/24"], description: "d" },
    ],
  },
  server: {
    name: "vm-name-z",
    image: "image-q",
    location: "hel1",
    serverType: "cax21",
    keepDisk: false,
    backups: true,
    protect: true,
    labels: { c: "3", requirements: "r" },
    ipv4: true,
    ipv6: false,
  },
};

let rec: Awaited<ReturnType<typeof recordComponents>>;
// Per test, not in beforeAll, so that mutation testing can score it (see recordComponents).
beforeEach(async () => {
  rec = await recordComponents(() => {
    new Server("srv", {
      plan: PLAN,
      deployPublicKey: pulumi.output("ssh-ed25519 DEPLOYPUB"),
      hostPrivateKey: pulumi.secret(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nHOSTPRIV\n-----END OPENSSH PRIVATE KEY-----",
      ),
      hostPublicKey: pulumi.output("ssh-ed25519 HOSTPUB"),
    });
  });
});
const one = (type: string, name: string): Recorded => rec.one(type, name);

describe("Server maps the plan's hetzner slice", () => {
  it("the deploy key: the slice's name and labels, the given public key", () => {
    expect(one("hcloud:index/sshKey:SshKey", "srv-deploy-key").inputs).toEqual({
      name: "key-name-x",
      labels: { a: "1" },
      publicKey: "ssh-ed25519 DEPLOYPUB",
    });
  });

  it("the firewall: the slice's name, labels and rules as they are", () => {
    expect(one("hcloud:index/firewall:Firewall", "srv-firewall").inputs).toEqual({
      name: "fw-name-y",
      labels: { b: "2" },
      rules: PLAN.firewall.rules,
    });
  });

  it("the server: every setting from the slice, the key and firewall by ID, user-data with the host key", () => {
    const vm = one("hcloud:index/server:Server", "srv-vm");
    expect(vm.inputs).toMatchObject({
      name: "vm-name-z",
      image: "image-q",
      location: "hel1",
      serverType: "cax21",
      keepDisk: false,
      backups: true,
      deleteProtection: true,
      rebuildProtection: true,
      labels: { c: "3", requirements: "r" },
      publicNets: [{ ipv4Enabled: true, ipv6Enabled: false }],
      sshKeys: ["srv-deploy-key-id"],
      firewallIds: [4711],
    });
    const ud = parse(vm.inputs.userData as string);
    expect(ud.ssh_keys).toEqual({
      ed25519_private: "-----BEGIN OPENSSH PRIVATE KEY-----\nHOSTPRIV\n-----END OPENSSH PRIVATE KEY-----\n",
      ed25519_public: "ssh-ed25519 HOSTPUB",
    });
    expect(vm.secretInputs).toContain("userData");
    expect(rec.resources.map((r) => r.name).sort()).toEqual([
      "srv",
      "srv-deploy-key",
      "srv-firewall",
      "srv-vm",
    ]);
  });

  it("resource options: the key goes before its successor, the server is protected and ignores boot-only inputs", () => {
    expect(rec.options["srv-deploy-key"]).toMatchObject({ parent: "srv", deleteBeforeReplace: true });
    expect(rec.options["srv-firewall"]).toMatchObject({ parent: "srv", deleteBeforeReplace: undefined });
    expect(rec.options["srv-vm"]).toMatchObject({
      parent: "srv",
      protect: true,
      ignoreChanges: ["userData", "sshKeys"],
    });
  });
});
