// Recording Pulumi mocks: every registered resource is kept with its type, name, inputs and parent
// so tests can assert on what the program would send to the providers. Unmocked calls throw.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import snapshot from "../../src/plan/catalog/hetzner-server-types.json";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Input paths that arrived as secrets. */
  secretInputs: string[];
  provider?: string;
  id: string;
}

/** A provider function call (an invoke) the program made: which function, with what, through which provider. */
export interface RecordedInvoke {
  token: string;
  inputs: Record<string, any>;
  /** The provider reference (`<urn>::<id>`), or undefined for the default provider. */
  provider?: string;
}

export const SERVER_IP = "203.0.113.10";

/** What the mocked `swarm-init` step prints: a join token in Swarm's format. */
export const MOCK_JOIN_TOKEN = "SWMTKN-1-0mocktoken0mocktoken0mocktoken0-0mockworkerpart0";

const TEST_ED25519_PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyForTestsOnly000000000000000000000";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces Pulumi's secret envelopes with their values, noting the paths that were secret. */
export function unwrapSecrets(v: any, path: string, secretPaths: string[]): any {
  if (Array.isArray(v)) return v.map((x, i) => unwrapSecrets(x, `${path}[${i}]`, secretPaths));
  if (v && typeof v === "object") {
    if (v[SECRET_SIG] === SECRET_VALUE) {
      secretPaths.push(path);
      return unwrapSecrets(v.value, path, []);
    }
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x, path ? `${path}.${k}` : k, secretPaths)]),
    );
  }
  return v;
}

/** The imageId the mocked RemoteImage reports for a reference: distinct for distinct references. */
export function mockImageId(reference: string): string {
  return `sha256:${createHash("sha256").update(reference).digest("hex")}`;
}

/**
 * `type base64` of an unencrypted OpenSSH private key ("openssh-key-v1"): the public key blob is
 * stored in the clear after the cipher, KDF and key count (OpenSSH PROTOCOL.key). undefined when
 * the text is not such a key.
 */
export function opensshPublicKey(privateKey: string): string | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/.exec(privateKey);
  if (!m) return undefined;
  const buf = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  const magic = "openssh-key-v1\0";
  if (buf.subarray(0, magic.length).toString("latin1") !== magic) return undefined;
  let at = magic.length;
  const str = (): Buffer | undefined => {
    if (at + 4 > buf.length) return undefined;
    const n = buf.readUInt32BE(at);
    if (at + 4 + n > buf.length) return undefined;
    const v = buf.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return v;
  };
  str(); // cipher
  str(); // kdf
  str(); // kdf options
  if (at + 4 > buf.length || buf.readUInt32BE(at) !== 1) return undefined;
  at += 4;
  const blob = str();
  if (!blob || blob.length < 4) return undefined;
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1");
  return `${type} ${blob.toString("base64")}`;
}

/** A server the Hetzner API reports for the stack (getServers), as a deployed stack would see it. */
export interface MockDeployedServer {
  name: string;
  serverType: string;
  location: string;
  labels?: Record<string, string>;
}

/** Registry digest the mocked getRegistryImage answers (tests of a re-pushed tag change it). */
export function mockDigest(name: string): string {
  return `sha256:${Buffer.from(`digest-of-${name}`).toString("hex").slice(0, 64).padEnd(64, "0")}`;
}

export function recordingMocks(
  resources: Recorded[],
  opts: {
    deployed?: MockDeployedServer;
    available?: (type: string, location: string) => boolean;
    digest?: (name: string) => string;
    /** Receives every invoke, so a test can assert which provider answered it. */
    invokes?: RecordedInvoke[];
    /** Outputs of referenced stacks by fully qualified name; none = a stack without outputs yet. */
    stackOutputs?: Record<string, Record<string, unknown>>;
  } = {},
): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      const secretInputs: string[] = [];
      const inputs = unwrapSecrets(args.inputs, "", secretInputs) as Record<string, any>;
      const state: Record<string, any> = { ...inputs };
      switch (args.type) {
        case "hcloud:index/server:Server":
          state.ipv4Address = SERVER_IP;
          state.ipv6Address = "2001:db8::1";
          state.status = "running";
          break;
        case "hcloud:index/sshKey:SshKey":
          state.fingerprint = "aa:bb";
          break;
        case "tls:index/privateKey:PrivateKey":
          state.privateKeyOpenssh = `-----BEGIN OPENSSH PRIVATE KEY-----\nmock-${args.name}\n-----END OPENSSH PRIVATE KEY-----\n`;
          state.publicKeyOpenssh = `${TEST_ED25519_PUB} ${args.name}\n`;
          break;
        case "docker:index/remoteImage:RemoteImage":
          // A hash of the whole reference: two images that share a registry prefix
          // (ghcr.io/acme/api, ghcr.io/acme/bot) must not get the same ID, or a container wired to
          // the wrong role's image would go unnoticed.
          state.imageId = mockImageId(String(inputs.name));
          state.repoDigest = `${inputs.name}@sha256:0000`;
          break;
        case "docker:index/network:Network":
        case "docker:index/volume:Volume":
          break;
        case "pulumi:pulumi:StackReference":
          // The stack's own outputs (components/releases.ts reads its previous `releases`).
          state.outputs = opts.stackOutputs?.[String(inputs.name)] ?? {};
          state.secretOutputNames = [];
          break;
        case "command:remote:Command":
          // swarm-init.sh prints the Swarm's worker join token (components/cluster.ts).
          state.stdout = args.name.endsWith("-swarm-init") ? MOCK_JOIN_TOKEN : "";
          state.stderr = "";
          break;
      }
      const id = `${args.name}-id`;
      resources.push({ type: args.type, name: args.name, inputs, secretInputs, provider: args.provider, id });
      return { id: args.type === "hcloud:index/firewall:Firewall" ? "4711" : id, state };
    },
    call(args) {
      opts.invokes?.push({ token: args.token, inputs: args.inputs, provider: args.provider });
      if (args.token === "hcloud:index/getServerTypes:getServerTypes") {
        return {
          serverTypes: snapshot.serverTypes.map((t, i) => ({
            id: i + 1,
            name: t.name,
            cores: t.cores,
            memory: t.memoryGb,
            disk: t.diskGb,
            architecture: t.architecture,
            cpuType: t.cpuType,
            category: t.category,
            isDeprecated: t.deprecated,
            locations: t.locations.map((l) => ({
              name: l.name,
              available: !t.deprecated && (opts.available?.(t.name, l.name) ?? true),
              isDeprecated: t.deprecated,
            })),
          })),
        };
      }
      if (args.token === "hcloud:index/getServers:getServers") {
        const d = opts.deployed;
        const wanted = Object.fromEntries(
          String(args.inputs.withSelector ?? "")
            .split(",")
            .filter(Boolean)
            .map((kv) => kv.split("=")),
        );
        const labels = d?.labels ?? { app: "app-infra", stack: "?", role: "app" };
        const match = d && Object.entries(wanted).every(([k, v]) => labels[k] === v);
        return {
          id: "servers",
          servers: match
            ? [
                {
                  id: 1,
                  name: d.name,
                  serverType: d.serverType,
                  location: d.location,
                  labels,
                  status: "running",
                  ipv4Address: SERVER_IP,
                },
              ]
            : [],
        };
      }
      if (args.token === "docker:index/getRegistryImage:getRegistryImage") {
        const name = String(args.inputs.name);
        return { id: name, name, sha256Digest: (opts.digest ?? mockDigest)(name) };
      }
      if (args.token === "tls:index/getPublicKey:getPublicKey") {
        // The public half of the key actually supplied, as the tls provider answers it (one line
        // with a newline); a key this parser cannot read keeps the old fixed answer.
        const supplied = unwrapSecrets(args.inputs, "", []) as { privateKeyOpenssh?: string };
        const derived = supplied.privateKeyOpenssh ? opensshPublicKey(supplied.privateKeyOpenssh) : undefined;
        return {
          publicKeyOpenssh: derived ? `${derived}\n` : `${TEST_ED25519_PUB} supplied\n`,
          publicKeyPem: "",
          publicKeyFingerprintMd5: "",
          publicKeyFingerprintSha256: "",
        };
      }
      throw new Error(`unmocked call ${args.token}`);
    },
  };
}

/** Resource options as the program passed them, by logical name (mocks never see options). */
export interface RecordedOptions {
  type: string;
  parent?: string;
  dependsOn: string[];
  deleteBeforeReplace?: boolean;
  replaceOnChanges?: string[];
  ignoreChanges?: string[];
  additionalSecretOutputs?: string[];
  /** Whether a replacementTrigger was set. */
  replacementTrigger?: boolean;
  /** Its value, once known (an Output's, resolved). */
  replacementTriggerValue?: unknown;
  protect?: boolean;
  retainOnDelete?: boolean;
  provider?: string;
  /** Inputs passed as secret Outputs. */
  secretProps: string[];
  /**
   * The resource's `aliases`: an alias given by name (`{ name }`, same type and parent) as that
   * name, one given as a URN as the URN; any other form as JSON, so a test sees it and fails.
   */
  aliases: string[];
}

const nameOf = (r: unknown) => (r as { __name?: string } | undefined)?.__name;

/**
 * Records each resource's options by logical name, through a stack transformation (mocks never see
 * dependsOn, deleteBeforeReplace, protect...). Call inside a root stack (runInPulumiStack).
 */
function recordOptions(options: Record<string, RecordedOptions>, pending: Promise<void>[]): void {
  pulumi.runtime.registerStackTransformation((args) => {
    const deps = args.opts.dependsOn;
    // A dependency on what is declared later comes as a promise (components/host.ts stepsAfter),
    // which the SDK hands on as an Output.
    const later = deps instanceof Promise || pulumi.Output.isInstance(deps);
    const names = (d: unknown) =>
      (d === undefined ? [] : Array.isArray(d) ? d : [d]).map((r) => nameOf(r) ?? "?");
    options[args.name] = {
      type: args.type,
      parent: nameOf(args.opts.parent),
      dependsOn: later ? [] : names(deps),
      deleteBeforeReplace: (args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace,
      replaceOnChanges: args.opts.replaceOnChanges,
      ignoreChanges: args.opts.ignoreChanges,
      additionalSecretOutputs: (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs,
      replacementTrigger: (args.opts as pulumi.CustomResourceOptions).replacementTrigger !== undefined,
      protect: args.opts.protect,
      retainOnDelete: args.opts.retainOnDelete,
      provider: nameOf((args.opts as pulumi.CustomResourceOptions).provider),
      secretProps: [],
      aliases: (args.opts.aliases ?? []).map((a) => {
        if (typeof a === "string") return a;
        const { name, ...rest } = a as pulumi.Alias;
        return typeof name === "string" && Object.keys(rest).length === 0 ? name : JSON.stringify(a);
      }),
    };
    const rec = options[args.name]!;
    // An option's value once known: an Output's or a promise's, resolved.
    const settled = (v: unknown): Promise<unknown> =>
      Promise.resolve(pulumi.Output.isInstance(v) ? (v as any).promise() : v);
    const trigger = (args.opts as pulumi.CustomResourceOptions).replacementTrigger;
    if (trigger !== undefined)
      pending.push(settled(trigger).then((v) => void (rec.replacementTriggerValue = v)));
    if (later) pending.push(settled(deps).then((d) => void (rec.dependsOn = names(d))));
    for (const [key, value] of Object.entries(args.props ?? {})) {
      if (pulumi.Output.isInstance(value)) {
        pending.push(
          (value as any).isSecret.then((s: boolean) => {
            if (s) rec.secretProps.push(key);
          }),
        );
      }
    }
    return undefined;
  });
}

/**
 * Sets the stack's config as `pulumi config set` leaves it: a key without a namespace is this
 * project's, an object or list is its JSON text, and the named keys are secret.
 */
export function setStackConfig(config: Record<string, unknown>, secretKeys: readonly string[] = []): void {
  const full = (k: string) => (k.includes(":") ? k : `app-infra:${k}`);
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) all[full(k)] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(all, secretKeys.map(full));
}

export interface ProgramRun {
  resources: Recorded[];
  options: Record<string, RecordedOptions>;
  outputs: Record<string, any>;
  /** Names of stack outputs that are secrets. */
  secretOutputs: string[];
  byType(type: string): Recorded[];
  one(type: string, name: string): Recorded;
}

/**
 * Sets mocks and config, then imports and runs the program. Call once per test file: Pulumi's
 * runtime state is per process and vitest runs each file in its own.
 */
export async function runProgram(
  stack: string,
  config: Record<string, unknown>,
  secretKeys: string[] = [],
  {
    rootStack = true,
    deployed,
    available,
    digest,
    stackOutputs,
  }: {
    rootStack?: boolean;
    /** The stack's server as getServers reports it; none = a new stack. */
    deployed?: MockDeployedServer;
    /** Catalog availability per type and location (default: every non-deprecated type). */
    available?: (type: string, location: string) => boolean;
    digest?: (name: string) => string;
    stackOutputs?: Record<string, Record<string, unknown>>;
  } = {},
): Promise<ProgramRun> {
  const resources: Recorded[] = [];
  setStackConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    recordingMocks(resources, { deployed, available, digest, stackOutputs }),
    "app-infra",
    stack,
    false,
    // As the DIY backend names it; the program's StackReference to itself needs one.
    "organization",
  );
  const options: Record<string, RecordedOptions> = {};
  // Inside a root stack, as the real engine runs programs, so stack transformations can record
  // each resource's options (mocks never see dependsOn, deleteBeforeReplace, protect...).
  let raw: Record<string, unknown> = {};
  const pending: Promise<void>[] = [];
  const body = async () => {
    if (rootStack) recordOptions(options, pending);
    const mod = await import("../../index");
    const program = ((mod as any).default ?? mod) as () => Promise<Record<string, unknown>>;
    raw = await program();
    return raw;
  };
  try {
    // Without a root stack (for programs expected to throw: a failing root stack leaves an
    // unhandled rejection behind), options are not recorded.
    if (rootStack) await pulumi.runtime.runInPulumiStack(body);
    else await body();
  } catch (e) {
    // Tests of refused configs check that nothing but the root stack was registered.
    (e as { recorded?: Recorded[] }).recorded = resources;
    throw e;
  }
  const outputs: Record<string, any> = {};
  const secretOutputs: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    outputs[k] = await unwrap(v);
    if (await isSecret(v)) secretOutputs.push(k);
  }
  // Let every registration settle.
  await new Promise((r) => setTimeout(r, 50));
  await Promise.all(pending);
  for (const o of Object.values(options)) o.secretProps.sort();
  return {
    resources,
    options,
    outputs,
    secretOutputs,
    byType: (type) => resources.filter((r) => r.type === type),
    one: (type, name) => {
      const hit = resources.find((r) => r.type === type && r.name === name);
      if (!hit)
        throw new Error(
          `no ${type} named ${name}; have: ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`,
        );
      return hit;
    },
  };
}

/** Resolves an Output (secret or not) to its plain value. */
export function unwrap<T>(v: T | pulumi.Output<T>): Promise<T> {
  if (pulumi.Output.isInstance(v))
    return new Promise((resolve) =>
      (v as pulumi.Output<T>).apply((x) => {
        resolve(x);
        return x;
      }),
    );
  return Promise.resolve(v as T);
}

export async function isSecret(v: unknown): Promise<boolean> {
  return pulumi.Output.isInstance(v) ? await (v as any).isSecret : false;
}

/**
 * Sets the recording mocks and runs `declare`, which constructs components directly from
 * hand-written plan slices (no program, no config), then waits until the registrations settle.
 * The component tests call it in `beforeEach`, not once in `beforeAll`: Stryker's vitest runner
 * attributes code run in a `beforeEach` to the test that follows, and code run in `beforeAll` to no
 * test, a static mutant it cannot score (docs/mutation.md). It costs about 0.3 s per test.
 */
export async function recordComponents(
  declare: () => void,
  opts: Parameters<typeof recordingMocks>[1] = {},
): Promise<Pick<ProgramRun, "resources" | "options" | "byType" | "one"> & { invokes: RecordedInvoke[] }> {
  const resources: Recorded[] = [];
  const invokes: RecordedInvoke[] = [];
  const options: Record<string, RecordedOptions> = {};
  const pending: Promise<void>[] = [];
  await pulumi.runtime.setMocks(recordingMocks(resources, { ...opts, invokes }), "app-infra", "unit", false);
  // Inside a root stack, as runProgram does, so the components' resource options are recorded too.
  await pulumi.runtime.runInPulumiStack(async () => {
    recordOptions(options, pending);
    declare();
    return {};
  });
  // Registrations resolve their inputs first; stop when nothing new arrived for 100 ms.
  for (let seen = -1; seen !== resources.length;) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(pending);
  for (const o of Object.values(options)) o.secretProps.sort();
  // The root stack is the harness's, not the components'.
  const declared = resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  return {
    resources: declared,
    invokes,
    options,
    byType: (type) => declared.filter((r) => r.type === type),
    one: (type, name) => {
      const hit = declared.find((r) => r.type === type && r.name === name);
      if (!hit) throw new Error(`no ${type} named ${name}; have: ${declared.map((r) => r.name).join(", ")}`);
      return hit;
    },
  };
}
