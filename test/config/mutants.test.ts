// Tests written to kill mutants that `npm run mutate` found alive in src/config (docs/mutation.md).
// Each module is imported inside the test, after vi.resetModules(): code that runs when a module
// loads (the image grammar's pieces, the key table) then runs inside a test, so Stryker's per-test
// coverage sees these tests and runs them against such mutants too. Expected values are written out
// by hand from Docker's, Pulumi's and JSON's rules, not computed with the code under test.
import { beforeEach, describe, expect, it, vi } from "vitest";

beforeEach(() => {
  vi.resetModules();
});

const errors = () => import("../../src/config/errors");
const json = () => import("../../src/config/json");
const imageRef = () => import("../../src/config/image-ref");
const cidr = () => import("../../src/config/cidr");
const parse = () => import("../../src/config/parse");
const stackFile = () => import("../../src/config/stack-file");

describe("errors", () => {
  it("ConfigError counts its problems in words and lists each on its own line", async () => {
    const { ConfigError } = await errors();
    const one = new ConfigError(["a: bad"]);
    expect(one.message).toBe("app-infra: the stack configuration has 1 problem:\n  - a: bad");
    expect(one.name).toBe("ConfigError");
    const two = new ConfigError(["a: bad", "b: worse"]);
    expect(two.message).toBe("app-infra: the stack configuration has 2 problems:\n  - a: bad\n  - b: worse");
  });

  it("StackFileError's message is its problems alone", async () => {
    const { StackFileError, ConfigError } = await errors();
    const e = new StackFileError("Pulumi.dev.yaml", ["Pulumi.dev.yaml:1:1: x", "Pulumi.dev.yaml:2:1: y"]);
    expect(e.message).toBe("Pulumi.dev.yaml:1:1: x\nPulumi.dev.yaml:2:1: y");
    expect(e.name).toBe("StackFileError");
    expect(e.file).toBe("Pulumi.dev.yaml");
    expect(e).toBeInstanceOf(ConfigError);
  });

  it("show renders each kind of value", async () => {
    const { show } = await errors();
    expect(show("x")).toBe('"x"');
    expect(show(undefined)).toBe("nothing");
    expect(show(12n)).toBe("12");
    expect(show(new Uint8Array([1]))).toBe("binary data (a !!binary value)");
    expect(show({ a: 5n })).toBe('{"a":"5"}');
    expect(show(3)).toBe("3");
    // 60 characters are shown whole; 61 are cut to 57 and "...".
    const sixty = "a".repeat(58); // JSON adds the two quotes: 60
    expect(show([sixty].join(""))).toBe(`"${sixty}"`);
    const list = Array.from({ length: 30 }, () => 1); // [1,1,…] is 61 characters
    expect(show(list)).toBe(`${"[1,".padEnd(57, "1,").slice(0, 57)}...`);
    expect(show(list)).toHaveLength(60);
    const exactly60 = Array.from({ length: 29 }, () => 1).concat([12]); // 59 + one more digit
    expect(JSON.stringify(exactly60)).toHaveLength(62);
    expect(show([1, 2, 3])).toBe("[1,2,3]");
  });
});

describe("parseJsonExact", () => {
  it("keeps integers beyond 2^53 as their digits, and leaves every other number to JSON", async () => {
    const { parseJsonExact } = await json();
    expect(parseJsonExact('{"a": 9007199254740993}')).toEqual({ a: "9007199254740993" });
    expect(parseJsonExact("[-9007199254740993]")).toEqual(["-9007199254740993"]);
    expect(parseJsonExact("[99999999999999999]")).toEqual(["99999999999999999"]);
    expect(parseJsonExact("[-12, 1.5, 2e3, 1E-2, -0.5e+1, 0]")).toEqual([-12, 1.5, 2000, 0.01, -5, 0]);
    expect(parseJsonExact("[9007199254740991]")).toEqual([9007199254740991]);
  });

  it("a fraction or an exponent makes a number a double, as JSON.parse reads it", async () => {
    const { parseJsonExact } = await json();
    expect(parseJsonExact("[9007199254740993.5]")).toEqual([9007199254740994]);
    expect(parseJsonExact("[9007199254740993e0]")).toEqual([9007199254740992]);
    expect(parseJsonExact("[9007199254740993e+0]")).toEqual([9007199254740992]);
    expect(parseJsonExact("[9007199254740993E-0]")).toEqual([9007199254740992]);
  });

  it("digits inside strings, including after an escaped quote, are text", async () => {
    const { parseJsonExact } = await json();
    expect(parseJsonExact('["id 9007199254740993"]')).toEqual(["id 9007199254740993"]);
    expect(parseJsonExact('{"k\\"9007199254740993": "v\\\\"}')).toEqual({ 'k"9007199254740993': "v\\" });
    expect(parseJsonExact('["a\\"1", 9007199254740993]')).toEqual(['a"1', "9007199254740993"]);
  });

  it("malformed JSON throws JSON's SyntaxError", async () => {
    const { parseJsonExact } = await json();
    expect(() => parseJsonExact("[-]")).toThrow(SyntaxError);
    expect(() => parseJsonExact('["open')).toThrow(SyntaxError);
  });
});

describe("image references", () => {
  it("names Docker Hub, other registries and upper-case registry hosts as Docker does", async () => {
    const { parseImageReference } = await imageRef();
    expect(parseImageReference("redis:7.4")).toEqual({
      ok: true,
      ref: { domain: "docker.io", path: "library/redis", tag: "7.4", digest: undefined },
    });
    expect(parseImageReference("index.docker.io/redis:7")).toEqual({
      ok: true,
      ref: { domain: "docker.io", path: "library/redis", tag: "7", digest: undefined },
    });
    expect(parseImageReference("acme/app")).toEqual({
      ok: true,
      ref: { domain: "docker.io", path: "acme/app", tag: undefined, digest: undefined },
    });
    // distribution/reference normalize.go splitDockerDomain: a first component with upper case is a host.
    expect(parseImageReference("Registry/app")).toEqual({
      ok: true,
      ref: { domain: "Registry", path: "app", tag: undefined, digest: undefined },
    });
    expect(parseImageReference("localhost:5000/a-b__c.d/e--f:v1.0_x")).toEqual({
      ok: true,
      ref: { domain: "localhost:5000", path: "a-b__c.d/e--f", tag: "v1.0_x", digest: undefined },
    });
    expect(parseImageReference("[2001:db8::1]:5000/app@sha256:" + "a".repeat(64))).toEqual({
      ok: true,
      ref: {
        domain: "[2001:db8::1]:5000",
        path: "app",
        tag: undefined,
        digest: `sha256:${"a".repeat(64)}`,
      },
    });
    expect(parseImageReference(`ghcr.io/acme/app:1@sha512:${"0".repeat(128)}`).ok).toBe(true);
    expect(parseImageReference(`ghcr.io/acme/app@sha384:${"f".repeat(96)}`).ok).toBe(true);
  });

  it("refuses what Docker refuses, saying why", async () => {
    const { imageReferenceProblem } = await imageRef();
    expect(imageReferenceProblem("")).toBe("it is empty");
    expect(imageReferenceProblem("a".repeat(64))).toBe(
      "a 64-character hex string is an image ID, which Docker refuses as a name",
    );
    // Only the whole string is an ID: a 64-hex name with a tag is a name.
    expect(imageReferenceProblem(`${"a".repeat(64)}:1`)).toBeUndefined();
    expect(imageReferenceProblem("ghcr.io/library/App")).toBe(
      'the repository path "library/App" must be lower case',
    );
    expect(imageReferenceProblem("Redis")).toBe('the repository path "Redis" must be lower case');
    expect(imageReferenceProblem(`app:${"a".repeat(127)}!`)).toBe(
      "it does not follow Docker's grammar name[:tag][@digest]",
    );
    expect(imageReferenceProblem(`app:${"a".repeat(129)}`)).toBe("the tag is longer than 128 characters");
    expect(imageReferenceProblem(`app:${"a".repeat(128)}`)).toBeUndefined();
    expect(imageReferenceProblem("a:b:c")).toBe('only one :tag may follow the repository name (got "a:b:c")');
    expect(imageReferenceProblem("acme//app")).toBe("it has an empty path component");
    expect(imageReferenceProblem("acme/app/")).toBe("it has an empty path component");
    expect(imageReferenceProblem("app_")).toBe("it does not follow Docker's grammar name[:tag][@digest]");
    expect(imageReferenceProblem("a p")).toBe("it contains white space");
    expect(imageReferenceProblem(`app@md5:${"a".repeat(32)}`)).toBe(
      'digest algorithm "md5" is not one Docker knows (sha256, sha384, sha512)',
    );
    expect(imageReferenceProblem(`app@sha256:${"A".repeat(64)}`)).toBe(
      "a sha256 digest is 64 lower-case hex digits",
    );
    expect(imageReferenceProblem(`app@sha256:${"a".repeat(63)}`)).toBe(
      "a sha256 digest is 64 lower-case hex digits",
    );
    expect(imageReferenceProblem(`ghcr.io/${"a".repeat(256)}`)).toBe(
      "the repository path is 256 characters, more than 255",
    );
    expect(imageReferenceProblem(`ghcr.io/${"a".repeat(255)}`)).toBeUndefined();
  });

  it("advises pinning Redis to 7.x unless the tag is a 7.x release or a digest", async () => {
    const { redisImageAdvice } = await imageRef();
    for (const ok of [
      "redis:7",
      "redis:7.4.10-alpine",
      "redis:7.2_x",
      `redis@sha256:${"a".repeat(64)}`,
      "x y",
    ])
      expect(redisImageAdvice(ok), ok).toBeUndefined();
    expect(redisImageAdvice("redis:17")).toBe(
      'images/redis: "redis:17" is tagged "17", not a Redis 7.x release: the program\'s Redis settings are written for 7.x ' +
        "and a moving tag changes Redis under a running queue; pin a 7.x tag such as redis:7.4.6-alpine",
    );
    expect(redisImageAdvice("redis")).toMatch(
      /^images\/redis: "redis" has no tag \(Docker pulls :latest\), not/,
    );
    expect(redisImageAdvice("redis:8.0")).toMatch(/is tagged "8.0"/);
    expect(redisImageAdvice("redis:7a")).toMatch(/is tagged "7a"/);
  });
});

describe("cidrProblem", () => {
  it("wants address/prefix with a 1-3 digit prefix", async () => {
    const { cidrProblem } = await cidr();
    const form = "it is not address/prefix, e.g. 203.0.113.7/32";
    expect(cidrProblem("203.0.113.7")).toBe(form);
    expect(cidrProblem("/32")).toBe(" is not an IPv4 or IPv6 address");
    expect(cidrProblem("203.0.113.7/")).toBe(form);
    expect(cidrProblem("203.0.113.7/x32")).toBe(form);
    expect(cidrProblem("203.0.113.7/32x")).toBe(form);
    expect(cidrProblem("203.0.113.7/0032")).toBe(form);
    expect(cidrProblem("203.0.113.7/32")).toBeUndefined();
  });
});

describe("parseConfig", () => {
  const base = { stage: 1, botToken: { secure: "x" } };
  const problems = async (raw: Record<string, unknown>, stack = "dev", fromStackFile = false) => {
    const { parseConfig } = await parse();
    try {
      parseConfig(stack, raw, { fromStackFile });
      return [];
    } catch (e) {
      return [...(e as { problems: string[] }).problems];
    }
  };

  it("reads numbers, booleans and text in the forms pulumi config set stores", async () => {
    const { parseConfig } = await parse();
    const c = parseConfig("dev", {
      ...base,
      workers: " 3 ",
      "services/api/public": "false",
      "server/backups": "true",
      stage: 2,
      "alerts/telegramChatId": -1001234567890,
      "services/worker/queue": 12n as unknown,
    } as Record<string, unknown>);
    expect(c.workers).toBe(3);
    expect(c.services.api.public).toBe(false);
    expect(c.server.backups).toBe(true);
    expect(c.stage).toBe(2);
    expect(c.alerts.telegramChatId).toBe("-1001234567890");
    expect(c.services.worker.queue).toBe("12");
    expect(parseConfig("dev", { ...base, stage: " 3" }).stage).toBe(3);
    expect(parseConfig("dev", { ...base, workers: 4n as unknown } as Record<string, unknown>).workers).toBe(
      4,
    );
  });

  it("refuses a value of the wrong shape, naming key, value and what is allowed", async () => {
    expect(await problems({ ...base, workers: "3x" })).toEqual([
      'workers: should be an integer between 1 and 32 (got "3x")',
    ]);
    expect(await problems({ ...base, "services/api/public": "yes" })).toEqual([
      'services/api/public: should be true or false (got "yes")',
    ]);
    expect(await problems({ ...base, "services/worker/queue": "" })).toEqual([
      'services/worker/queue: should be an RQ queue name of letters, digits, _ . : - (got "")',
    ]);
    expect(await problems({ ...base, "services/worker/queue": 1.5 })).toEqual([
      "services/worker/queue: should be an RQ queue name of letters, digits, _ . : - (got 1.5; quote it to keep it as text)",
    ]);
    expect(await problems({ ...base, "services/worker/queue": "a b" })).toHaveLength(1);
    expect(await problems({ ...base, "services/worker/queue": "q".repeat(65) })).toHaveLength(1);
    expect(await problems({ ...base, "services/worker/queue": "q".repeat(64) })).toEqual([]);
    expect(await problems({ ...base, "services/worker/queue": "x!" })).toHaveLength(1);
    expect(await problems({ ...base, "services/worker/queue": "!x" })).toHaveLength(1);
    expect(await problems({ ...base, "services/api/healthPath": "health" })).toHaveLength(1);
    expect(await problems({ ...base, "services/api/healthPath": "/health?x" })).toHaveLength(1);
    expect(await problems({ ...base, "services/api/healthPath": "/a?/b" })).toHaveLength(1);
    expect(await problems({ ...base, "services/api/healthPath": "/ready/v1" })).toEqual([]);
    expect(await problems({ ...base, "services/api/healthPath": "/" })).toEqual([]);
  });

  it("admin keys must be OpenSSH public keys of a known type", async () => {
    const key = "AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyForTestsOnly000000000000000000000";
    for (const type of [
      "ssh-ed25519",
      "ssh-rsa",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp521",
      "sk-ssh-ed25519@openssh.com",
    ])
      expect(await problems({ ...base, adminSshKeys: [`${type} ${key} me@laptop`] }), type).toEqual([]);
    for (const bad of [
      `ssh-dss ${key}`,
      `xssh-ed25519 ${key}`,
      `ssh-ed25519 ${key}!`,
      `ssh-ed25519 ${key}\nrm`,
      `ecdsa-sha2-nistp255 ${key}`,
    ])
      expect(await problems({ ...base, adminSshKeys: [bad] }), bad).toHaveLength(1);
  });

  it("a list key names the bad entry by its index, and shows how to write a list", async () => {
    const p = await problems({ ...base, adminCidrs: ["0.0.0.0/0", "1.2.3.4/33", 7.5] });
    expect(p).toEqual([
      'adminCidrs[1]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "1.2.3.4/33"): prefix /33 is longer than 32',
      "adminCidrs[2]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got 7.5)",
    ]);
    expect(await problems({ ...base, adminCidrs: "10.0.0.0/8" })).toEqual([
      'adminCidrs: should be a list of CIDR blocks such as 203.0.113.7/32 or ::/0 (got "10.0.0.0/8"; a list is written ["10.0.0.0/8"])',
    ]);
    expect(await problems({ ...base, adminCidrs: { a: 1 } })).toEqual([
      'adminCidrs: should be a list of CIDR blocks such as 203.0.113.7/32 or ::/0 (got {"a":1})',
    ]);
    expect(await problems({ ...base, adminCidrs: ' ["10.0.0.0/8"]' })).toEqual([]);
    expect(await problems({ ...base, adminCidrs: "[oops" })).toHaveLength(1);
  });

  it("cross-key rules: reservation at most the limit, both registry keys, ports", async () => {
    expect(
      await problems({ ...base, "services/bot/memoryMb": 100, "services/bot/reservationMb": 101 }),
    ).toEqual(["services/bot/reservationMb: should be at most services/bot/memoryMb (100) (got 101)"]);
    expect(
      await problems({ ...base, "services/bot/memoryMb": 100, "services/bot/reservationMb": 100 }),
    ).toEqual([]);
    expect(await problems({ ...base, "registry/server": "ghcr.io" })).toEqual([
      "registry: set both registry/server and registry/username (got only server)",
      "registryPassword: is required when registry/server is set (pulumi config set --secret registryPassword <token>)",
    ]);
    expect(await problems({ ...base, "registry/username": "me" })).toEqual([
      "registry: set both registry/server and registry/username (got only username)",
    ]);
  });

  it("the registry is set only when both of its keys are", async () => {
    const { parseConfig } = await parse();
    const c = parseConfig("dev", {
      ...base,
      "registry/server": "ghcr.io",
      "registry/username": "me",
      registryPassword: { secure: "y" },
    });
    expect(c.registry).toEqual({ server: "ghcr.io", username: "me" });
    expect(parseConfig("dev", base).registry).toBeUndefined();
  });

  it("a near miss of the project namespace is a typo; other namespaces are not ours", async () => {
    expect(await problems({ ...base, "app-infar:stage": 1 })).toEqual([
      'app-infar:stage: unknown namespace "app-infar" (did you mean app-infra:stage?)',
    ]);
    expect(await problems({ ...base, "appinfra:stage": 1 })).toHaveLength(1);
    expect(await problems({ ...base, "ap-infrax:stage": 1 })).toHaveLength(1);
    expect(await problems({ ...base, "pap-infra:stage": 1 })).toHaveLength(1);
    expect(await problems({ ...base, "ppa-infra:stage": 1 })).toHaveLength(1);
    expect(await problems({ ...base, "xyz-infra:stage": 1 })).toEqual([]);
    expect(await problems({ ...base, "app-xxxxx:stage": 1 })).toEqual([]);
    expect(await problems({ ...base, "hcloud:location": "fsn1" })).toEqual([]);
  });

  it("the typo distance counts a swap of two neighbours as one edit, and at most two edits", async () => {
    // "papinfar" is two swaps from "appinfra": 2 edits with swaps, 4 without.
    expect(await problems({ ...base, "pap-infar:stage": 1 })).toEqual([
      'pap-infar:stage: unknown namespace "pap-infar" (did you mean app-infra:stage?)',
    ]);
    // One swap and two substitutions: 3 edits, not a typo.
    expect(await problems({ ...base, "pap-infxx:stage": 1 })).toEqual([]);
    // Three extra leading or missing leading characters: 3 edits each.
    expect(await problems({ ...base, "xyzapp-infra:stage": 1 })).toEqual([]);
    expect(await problems({ ...base, "infra:stage": 1 })).toEqual([]);
    // Two edits at the end.
    expect(await problems({ ...base, "app-infraxy:stage": 1 })).toHaveLength(1);
    // A key that starts with ":" has an empty namespace: not ours, not a typo.
    expect(await problems({ ...base, ":stage": 1 })).toEqual([]);
  });

  it("a bool key takes no other value, and a plain string key no empty text", async () => {
    expect(await problems({ ...base, workers: true })).toEqual([
      "workers: should be an integer between 1 and 32 (got true)",
    ]);
    expect(await problems({ ...base, "registry/username": "", "registry/server": "ghcr.io" })).toContain(
      'registry/username: should be a string (got "")',
    );
  });

  it("the stack name must make an RFC 1123 host name", async () => {
    expect(await problems(base, "a")).toEqual([]);
    expect(await problems(base, "a".repeat(53))).toEqual([]);
    expect(await problems(base, "a".repeat(54))).toHaveLength(1);
    expect(await problems(base, "-a")).toHaveLength(1);
    expect(await problems(base, "a-")).toHaveLength(1);
    expect(await problems(base, "my_stack")).toEqual([
      'stack name "my_stack" cannot name a Hetzner server (app-infra-my_stack): use letters, digits and dashes, ' +
        "at most 53 characters, starting and ending with a letter or digit (pulumi stack rename)",
    ]);
  });

  it("an encrypted value for a key that is not secret, and an empty encrypted value", async () => {
    expect(await problems({ ...base, workers: { secure: "abc" } })).toEqual([
      "workers: is stored encrypted, but it is not a secret and the offline plan cannot decrypt it (pulumi config set workers <value>)",
    ]);
    expect(await problems({ ...base, "services/api/port": { secure: "abc" } })).toEqual([
      "services/api/port: is stored encrypted, but it is not a secret and the offline plan cannot decrypt it (pulumi config set --path services.api.port <value>)",
    ]);
    expect(await problems({ ...base, workers: { secure: "abc", other: 1 } })).toHaveLength(1);
    expect(await problems({ ...base, workers: { secure: 1 } })).toHaveLength(1);
  });

  it("projectKeys strips only our namespace and keeps keys named like Object's own", async () => {
    const { projectKeys } = await parse();
    const out = projectKeys({ "app-infra:stage": 1, "hcloud:token": "t", "app-infra:__proto__": 2 });
    expect(Object.keys(out)).toEqual(["stage", "hcloud:token", "__proto__"]);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")).toEqual({
      value: 2,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
});

describe("stack files and --set", () => {
  it("names a missing stack file with the stacks that exist", async () => {
    const { readStackFile } = await stackFile();
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "app-infra-mutants-"));
    try {
      expect(() => readStackFile(dir, "dev")).toThrow(
        `--stack: no file Pulumi.dev.yaml in ${dir} (create it with: pulumi stack init dev)`,
      );
      writeFileSync(join(dir, "Pulumi.prod.yaml"), "config: {}\n");
      writeFileSync(join(dir, "Pulumi.b.yaml"), "config: {}\n");
      writeFileSync(join(dir, "Pulumi.yaml"), "name: x\n");
      writeFileSync(join(dir, "xPulumi.c.yaml"), "");
      writeFileSync(join(dir, "Pulumi.d.yaml.bak"), "");
      expect(() => readStackFile(dir, "dev")).toThrow(
        `--stack: no file Pulumi.dev.yaml in ${dir} (stacks here: b, prod; create it with: pulumi stack init dev)`,
      );
      try {
        readStackFile(dir, "dev");
      } catch (e) {
        // Outside the working directory the file keeps its absolute name.
        expect((e as { file: string }).file).toBe(join(dir, "Pulumi.dev.yaml"));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Inside the working directory the file is named relative to it.
    try {
      readStackFile(process.cwd(), "no-such-stack-for-mutants");
      expect.unreachable();
    } catch (e) {
      expect((e as { file: string }).file).toBe("Pulumi.no-such-stack-for-mutants.yaml");
    }
  });

  it("parses a stack file's values exactly", async () => {
    const { parseStackYaml } = await stackFile();
    expect(
      parseStackYaml(
        "config:\n  app-infra:stage: 2\n  app-infra:id: 12345678901234567890\n  app-infra:l: [1, 9007199254740993]\n  app-infra:m:\n    k: 3\n",
        "f.yaml",
      ),
    ).toEqual({ stage: 2, id: "12345678901234567890", l: [1, "9007199254740993"], m: { k: 3 } });
    expect(parseStackYaml("", "f.yaml")).toEqual({});
    expect(parseStackYaml("~\n", "f.yaml")).toEqual({});
    expect(parseStackYaml("config:\n", "f.yaml")).toEqual({});
    expect(parseStackYaml("other: 1\n", "f.yaml")).toEqual({});
    expect(parseStackYaml("config:\n  app-infra:x: null\n", "f.yaml")).toEqual({ x: null });
    const nested = parseStackYaml("config:\n  app-infra:m:\n    k: 3\n", "f.yaml") as { m: object };
    expect(Object.getOwnPropertyDescriptor(nested.m, "k")).toEqual({
      value: 3,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });

  it("names file, line and column for a file that is not shaped like a stack file", async () => {
    const { parseStackYaml } = await stackFile();
    expect(() => parseStackYaml("- 1\n- 2\n", "f.yaml")).toThrow(
      "f.yaml:1:1: is not a Pulumi stack file: its top level should be a mapping with a config: mapping (got [1,2])",
    );
    expect(() => parseStackYaml("\n\n- 1\n", "f.yaml")).toThrow("f.yaml:3:1: is not a Pulumi stack file");
    expect(() => parseStackYaml("\n\nconfig: [a]\n", "f.yaml")).toThrow(
      'f.yaml:3:9: config: should be a mapping of key: value such as app-infra:stage: 1 (got ["a"])',
    );
    expect(() => parseStackYaml("config:\n  stage: 1\n", "f.yaml")).toThrow(
      "f.yaml:2:3: stage: Pulumi refuses a config key without its namespace; write app-infra:stage",
    );
  });

  it("--set reads values as pulumi config set --path stores them", async () => {
    const { applyOverrides } = await stackFile();
    expect(
      applyOverrides({}, [
        "a=true",
        "b=false",
        "c=-12",
        "d=012",
        "e= [1, 2]",
        "f={oops",
        "g=text",
        "h=9007199254740993",
        "app-infra:i=1",
      ]),
    ).toEqual({
      a: true,
      b: false,
      c: -12,
      d: "012",
      e: [1, 2],
      f: "{oops",
      g: "text",
      h: "9007199254740993",
      i: 1,
    });
  });

  it("--set paths: dots, slashes, indexes and quoted names", async () => {
    const { applyOverrides } = await stackFile();
    expect(
      applyOverrides({ adminCidrs: ["a"] }, [
        "services.redis.memoryMb=300",
        "services/api/port=8080",
        "adminCidrs[1]=b",
        'env["A.B"]=x',
      ]),
    ).toEqual({
      adminCidrs: ["a", "b"],
      services: { redis: { memoryMb: 300 }, api: { port: 8080 } },
      env: { "A.B": "x" },
    });
    const refused = (set: string, raw: Record<string, unknown> = {}) => {
      try {
        applyOverrides(raw, [set]);
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(refused("=1")).toContain('--set: should be key=value (got "=1")');
    expect(refused("[0]=1")).toContain('"[0]" has no key name before [');
    expect(refused("a.[0]=1")).toContain('"a.[0]" has an empty key name');
    expect(refused('a.["b"]=1')).toContain('"a.[\\"b\\"]" has an empty key name');
    expect(refused("a..b=1")).toContain('"a..b" has an empty key name');
    expect(refused("a.=1")).toContain('"a." has an empty key name');
    expect(refused("a[0]b=1")).toContain('"a[0]b" has "b" right after ]: put a . before it');
    expect(refused("a]=1")).toContain('"a]" has an unexpected "]" at character 2');
    expect(refused("l[2]=x", { l: ["a"] })).toContain(
      "--set: l[2] is past the end of l, which has 1 entry (the next is l[1])",
    );
    expect(refused("l[3]=x", { l: ["a", "b"] })).toContain(
      "--set: l[3] is past the end of l, which has 2 entries (the next is l[2])",
    );
    expect(refused("l[10]=x", { l: ["a"] })).toContain("--set: l[10] is past the end of l");
  });
});

describe("the key table's patterns and derived default texts", () => {
  // The patterns are built when keys.ts loads; importing parse after vi.resetModules() builds them
  // inside the test. Each case is one value; a pattern accepts it or the key has exactly one problem.
  const verdict = async (key: string, value: unknown) => {
    const { parseConfig } = await parse();
    try {
      parseConfig("dev", { stage: 1, botToken: { secure: "x" }, [key]: value });
      return "ok";
    } catch (e) {
      const mine = (e as { problems: string[] }).problems.filter((p) => p.startsWith(key));
      return mine.length === 1 ? "refused" : `problems: ${mine.join(" | ")}`;
    }
  };
  const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIJ0+/=";

  it.each([
    [`ssh-ed25519 ${KEY}`, "ok"],
    [`ssh-ed25519 ${KEY} me@laptop`, "ok"],
    [`ssh-rsa ${KEY}`, "ok"],
    [`ecdsa-sha2-nistp256 ${KEY}`, "ok"],
    [`ecdsa-sha2-nistp521 ${KEY}`, "ok"],
    [`sk-ssh-ed25519@openssh.com ${KEY}`, "ok"],
    [`ecdsa-sha2-nistp999 ${KEY}`, "refused"],
    [`ssh-dss ${KEY}`, "refused"],
    [`x ssh-ed25519 ${KEY}`, "refused"],
    [`ssh-ed25519  ${KEY}`, "refused"],
    [`ssh-ed25519 ${KEY}!`, "refused"],
    ["ssh-ed25519", "refused"],
  ])("adminSshKeys [%j] is %s", async (key, want) => {
    expect(await verdict("adminSshKeys", [key])).toBe(want);
  });

  it.each([
    ["s3:https://fsn1.example.org/bucket", "ok"],
    ["s3:http://127.0.0.1:9000/bucket/redis/app", "ok"],
    ["s3:https://h.example:443/b_1.x-y/", "ok"],
    ["s3:https://h.example/bucket/a b", "refused"],
    ["xs3:https://h.example/bucket", "refused"],
    ["s3:https://h.example/bucket\n", "refused"],
    ["s3:ftp://h.example/bucket", "refused"],
    ["s3:https:///bucket", "refused"],
    ["s3:https://h_x/bucket", "refused"],
    ["s3:https://h.example:/bucket", "refused"],
    ["s3:https://h.example:123456/bucket", "refused"],
    ["s3:https://h.example:8a/bucket", "refused"],
    ["s3:https://h.example/", "refused"],
    ["s3:https://h.example/b!", "refused"],
    ["s3:https://h.example/b/c!", "refused"],
    ["s3:https://h.example", "refused"],
  ])("backup/repository %j is %s", async (repo, want) => {
    expect(await verdict("backup/repository", repo)).toBe(want);
  });

  it.each([
    ["*-*-* 03:15:00", "ok"],
    ["daily", "ok"],
    ["Mon..Fri 02:30", "ok"],
    ["*-*-* 00/6:00:00", "ok"],
    ["ab", "ok"],
    ["a", "refused"],
    [" daily", "refused"],
    ["daily ", "refused"],
    ["-daily", "refused"],
    ["daily:", "refused"],
    ["da;ly", "refused"],
    ["mon$", "refused"],
    ["a" + "b".repeat(62) + "c", "ok"],
    ["a" + "b".repeat(63) + "c", "refused"],
  ])("backup/schedule %j is %s", async (schedule, want) => {
    expect(await verdict("backup/schedule", schedule)).toBe(want);
  });

  it("an image's problem names the form it wants; service limits show the planner's defaults", async () => {
    const { parseConfig } = await parse();
    expect(() => parseConfig("dev", { stage: 1, botToken: { secure: "x" }, images: { api: "A B" } })).toThrow(
      "images/api: should be a Docker image reference such as ghcr.io/acme/app-api:1.4.2",
    );
    const { KEYS } = await import("../../src/config/keys");
    const text = (path: string) => KEYS.find((k) => k.path === path)?.defaultText;
    expect(text("services/redis/memoryMb")).toBe("256");
    expect(text("services/redis/reservationMb")).toBe("64");
    expect(text("services/api/memoryMb")).toBe("200");
    expect(text("services/worker/reservationMb")).toBe("100");
  });
});

describe("parseConfig's cross-key rules and refusals, each case once", () => {
  const b = { stage: 1, botToken: { secure: "x" } };
  const problems = async (raw: Record<string, unknown>, fromStackFile = false) => {
    const { parseConfig } = await parse();
    try {
      parseConfig("dev", raw, { fromStackFile });
      return [];
    } catch (e) {
      return [...(e as { problems: string[] }).problems];
    }
  };

  it.each([
    // Optimal string alignment: two transpositions are 2 edits (4 without transpositions).
    ["pap-infar", 'pap-infar:stage: unknown namespace "pap-infar" (did you mean app-infra:stage?)'],
    ["AppInfra", 'AppInfra:stage: unknown namespace "AppInfra" (did you mean app-infra:stage?)'],
  ])("a near-miss namespace %s is refused", async (ns, want) => {
    expect(await problems({ ...b, [`${ns}:stage`]: 1 }, true)).toEqual([want]);
  });

  it("a namespace three edits away is another provider's, and passes", async () => {
    expect(await problems({ ...b, "xyz-infra:stage": 1 }, true)).toEqual([]);
  });

  it("a reservation may equal its limit, not exceed it; alone it is checked against the default later", async () => {
    expect(await problems({ ...b, services: { api: { memoryMb: 100, reservationMb: 101 } } })).toEqual([
      "services/api/reservationMb: should be at most services/api/memoryMb (100) (got 101)",
    ]);
    expect(await problems({ ...b, services: { api: { memoryMb: 100, reservationMb: 100 } } })).toEqual([]);
    expect(await problems({ ...b, services: { api: { reservationMb: 150 } } })).toEqual([]);
  });

  it("backups need a repository; a bad one is named once, not also as missing", async () => {
    expect(await problems({ ...b, backup: { enabled: true } })).toEqual([
      "backup/repository: is required when backup/enabled is true " +
        "(pulumi config set --path backup.repository s3:https://fsn1.your-objectstorage.com/<bucket>/redis)",
    ]);
    expect(await problems({ ...b, backup: { enabled: true, repository: "nope" } })).toEqual([
      'backup/repository: should be a restic S3 repository such as s3:https://fsn1.your-objectstorage.com/<bucket>/redis (got "nope")',
    ]);
    // A required key with a bad value is not also reported missing.
    expect(await problems({ botToken: { secure: "x" }, stage: [1] })).toEqual([
      "stage: should be one of 1, 2, 3, 4 (got [1])",
    ]);
  });

  it("the API may not take sshd's or Redis' port", async () => {
    expect(await problems({ ...b, services: { api: { port: 22 } } })).toEqual([
      "services/api/port: 22 is sshd's port on the server, and the API rule would open it to everyone past adminCidrs (got 22); use another port, e.g. 8000",
    ]);
    expect(await problems({ ...b, services: { api: { port: 6379 } } })).toEqual([
      "services/api/port: 6379 is Redis' port: scanners and clients take it for Redis, and Redis must never look reachable (got 6379); use another port, e.g. 8000",
    ]);
  });

  it("a plaintext hcloud:token in a stack file is refused", async () => {
    expect(await problems({ ...b, "hcloud:token": "abc" }, true)).toEqual([
      "hcloud:token: must be stored encrypted: pulumi config set --secret hcloud:token <value>",
    ]);
  });

  it("registry: both keys or neither, and a password with a server", async () => {
    expect(await problems({ ...b, registry: { server: "ghcr.io" } })).toEqual([
      "registry: set both registry/server and registry/username (got only server)",
      "registryPassword: is required when registry/server is set (pulumi config set --secret registryPassword <token>)",
    ]);
    expect(await problems({ ...b, registry: { username: "u" } })).toEqual([
      "registry: set both registry/server and registry/username (got only username)",
    ]);
  });

  it("a secure marker is one key; JSON text may start with spaces; an integer is digits only", async () => {
    expect(await problems({ stage: 1, botToken: { secure: "x", other: 1 } })).toEqual([
      "botToken: should be a string (got a value that is hidden because it is secret)",
    ]);
    expect(await problems({ ...b, adminCidrs: '  ["198.51.100.7/32"]' })).toEqual([]);
    expect(await problems({ ...b, workers: " -3 " })).toEqual([
      'workers: should be an integer between 1 and 32 (got " -3 ")',
    ]);
  });
});
