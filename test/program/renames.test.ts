// Renamed resources replace nothing: every resource a stack deployed before the renames is still
// declared, under its old URN or under a new one that carries an alias to it. Pulumi matches a
// resource to its state by URN (type chain + name), and an alias is how a new URN claims an old
// one; without it the engine would create the new name and delete the old one, i.e. a replacement.
import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, type ProgramRun } from "../support/mocks";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "2", workers: "2", botToken: "123:bot-token-secret" }, ["botToken"]);
});

/** old logical name → new logical name. */
const RENAMES: Record<string, string> = {
  "host-host-ready": "host-ready",
};

const P = "urn:pulumi:dev::app-infra::";
/**
 * Every URN this stack (stage 2, two workers, digests from the registry) had before the renames,
 * copied from the recording of the tree before them, not computed.
 */
const OLD_URNS = [
  `${P}app-infra:index:Keys::keys`,
  `${P}app-infra:index:Server::server`,
  `${P}app-infra:index:Host::host`,
  `${P}app-infra:index:App::app`,
  `${P}app-infra:index:Keys$tls:index/privateKey:PrivateKey::keys-deploy`,
  `${P}app-infra:index:Keys$tls:index/privateKey:PrivateKey::keys-host`,
  `${P}app-infra:index:Server$hcloud:index/firewall:Firewall::server-firewall`,
  `${P}app-infra:index:Server$hcloud:index/sshKey:SshKey::server-deploy-key`,
  `${P}app-infra:index:Server$hcloud:index/server:Server::server-vm`,
  `${P}app-infra:index:Host$command:remote:Command::host-host-ready`,
  `${P}app-infra:index:Host$command:remote:Command::host-admin-keys`,
  `${P}app-infra:index:Host$command:remote:Command::host-swap`,
  `${P}app-infra:index:Host$command:remote:Command::host-docker`,
  `${P}app-infra:index:Host$command:remote:Command::host-watchdog`,
  `${P}app-infra:index:App$pulumi:providers:docker::app-docker`,
  `${P}app-infra:index:App$pulumi:providers:docker::app-registry`,
  `${P}app-infra:index:App$docker:index/network:Network::app-network`,
  `${P}app-infra:index:App$docker:index/volume:Volume::app-redis-data`,
  `${P}app-infra:index:App$docker:index/remoteImage:RemoteImage::app-image-redis`,
  `${P}app-infra:index:App$docker:index/remoteImage:RemoteImage::app-image-api`,
  `${P}app-infra:index:App$docker:index/remoteImage:RemoteImage::app-image-bot`,
  `${P}app-infra:index:App$docker:index/remoteImage:RemoteImage::app-image-worker`,
  `${P}app-infra:index:App$docker:index/container:Container::app-redis`,
  `${P}app-infra:index:App$docker:index/container:Container::app-api`,
  `${P}app-infra:index:App$docker:index/container:Container::app-bot`,
  `${P}app-infra:index:App$docker:index/container:Container::app-worker-image-1`,
  `${P}app-infra:index:App$docker:index/container:Container::app-worker-image-2`,
].sort();

/**
 * Resources added since that recording, by logical name: new, so created on the next up, and
 * never a replacement of an old one. Issue 14: the edge proxy, its image, its state volume, the
 * API's gate, the stack's reference to itself (a read, components/releases.ts) and the list of the
 * last releases' images on the server (kept-images).
 */
const ADDED = [
  "app-image-proxy",
  "app-kamal-proxy-config",
  "app-proxy",
  "app-api-deploy",
  "releases",
  "kept-images",
];

/** A resource's type chain as Pulumi builds its URN: the parents' types, then its own (the stack's is left out). */
function typeChain(name: string): string {
  const o = run.options[name];
  if (!o) throw new Error(`no options recorded for ${name}`);
  return o.parent && run.options[o.parent] ? `${typeChain(o.parent)}$${o.type}` : o.type;
}
const urn = (name: string, as = name) => `${P}${typeChain(name)}::${as}`;

describe("renamed resources keep their state (aliases to the old names)", () => {
  it("every renamed resource is declared under its new name and carries an alias to its old name", () => {
    for (const [old, now] of Object.entries(RENAMES)) {
      expect(run.options[old], `${old} is still declared`).toBeUndefined();
      expect(run.options[now]?.aliases, now).toEqual([old]);
    }
  });

  it("aliases are given by name only (same type, same parent), and only on renamed resources", () => {
    const aliased = Object.entries(run.options)
      .filter(([, o]) => o.aliases.length > 0)
      .map(([n]) => n)
      .sort();
    expect(aliased).toEqual(Object.values(RENAMES).sort());
  });

  it("the old URN set is exactly the new URNs plus the aliases' URNs: nothing is created or deleted", () => {
    const names = Object.keys(run.options);
    const now = names.map((n) => urn(n));
    const aliases = names.flatMap((n) => run.options[n]!.aliases.map((a) => urn(n, a)));
    const claimed = [...new Set([...now.filter((u) => OLD_URNS.includes(u)), ...aliases])].sort();
    expect(claimed).toEqual(OLD_URNS);
    // Each new URN is an old one or claims one through an alias: no new resource but the added ones.
    for (const n of names)
      expect(
        OLD_URNS.includes(urn(n)) ||
          run.options[n]!.aliases.some((a) => OLD_URNS.includes(urn(n, a))) ||
          ADDED.includes(n),
        n,
      ).toBe(true);
    for (const n of ADDED) expect(names, n).toContain(n);
  });

  it("no alias claims a name another resource still uses", () => {
    const now = new Set(Object.keys(run.options).map((n) => urn(n)));
    for (const [n, o] of Object.entries(run.options))
      for (const a of o.aliases) expect(now.has(urn(n, a)), `${n} → ${a}`).toBe(false);
  });
});
