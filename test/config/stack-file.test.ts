import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError, StackFileError } from "../../src/config/errors";
import { applyOverrides, parseStackYaml, readStackFile } from "../../src/config/stack-file";

const dir = mkdtempSync(join(tmpdir(), "app-infra-stack-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readStackFile", () => {
  writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  app-infra:stage: 1\n  hcloud:endpoint: x\n");
  writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  app-infra:stage: [2\n");

  it("returns the project's keys without their namespace, other namespaces whole", () => {
    expect(readStackFile(dir, "dev")).toEqual({ stage: 1, "hcloud:endpoint": "x" });
  });

  it("a missing file is a StackFileError that lists the stacks there", () => {
    const e = (() => {
      try {
        readStackFile(dir, "nope");
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(StackFileError);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as StackFileError).problems).toEqual([
      `--stack: no file Pulumi.nope.yaml in ${dir} (stacks here: dev, prod; create it with: pulumi stack init nope)`,
    ]);
  });

  it("a YAML error names the file by its path, with line and column", () => {
    expect(() => readStackFile(dir, "prod")).toThrow(
      new RegExp(
        `^${join(dir, "Pulumi.prod.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:1: Flow sequence`,
      ),
    );
  });
});

describe("parseStackYaml", () => {
  it("a config: with no entries is an empty config", () => {
    expect(parseStackYaml("config:\n", "f")).toEqual({});
    expect(parseStackYaml("# nothing\n", "f")).toEqual({});
    expect(parseStackYaml("encryptionsalt: x\n", "f")).toEqual({});
  });
  it("YAML 1.2 numbers are numbers; secure markers stay markers", () => {
    expect(
      parseStackYaml(
        "config:\n  app-infra:workers: 1.0\n  app-infra:swapGb: 0x4\n  app-infra:botToken:\n    secure: v1:x\n",
        "f",
      ),
    ).toEqual({ workers: 1, swapGb: 4, botToken: { secure: "v1:x" } });
  });
  it("every YAML error is reported, each on its own line", () => {
    const e = (() => {
      try {
        parseStackYaml("config:\n  a: 1\n   b: 2\n", "Pulumi.x.yaml");
      } catch (err) {
        return err as StackFileError;
      }
      return undefined;
    })()!;
    expect(e.problems.length).toBeGreaterThan(1);
    expect(e.message).toBe(e.problems.join("\n"));
    for (const p of e.problems) expect(p).toMatch(/^Pulumi\.x\.yaml:\d+:\d+: \S/);
  });
});

describe("applyOverrides", () => {
  it("reads values as `pulumi config set --path` stores them", () => {
    expect(
      applyOverrides({}, ["a=true", "b=42", "c=-7", "d=007", "e=1.5", 'f=["x"]', "g={bad", "h=", "i=a=b"]),
    ).toEqual({ a: true, b: 42, c: -7, d: "007", e: "1.5", f: ["x"], g: "{bad", h: "", i: "a=b" });
  });
  it("takes / and . paths, [index] and quoted keys, and strips the app-infra: prefix", () => {
    expect(
      applyOverrides({ services: { redis: { memoryMb: 1 } } }, [
        "services/redis/memoryMb=300",
        "app-infra:services.api.port=8080",
        'env["A.B"]=x',
        "adminSshKeys[0]=k",
      ]),
    ).toEqual({
      services: { redis: { memoryMb: 300 }, api: { port: 8080 } },
      env: { "A.B": "x" },
      adminSshKeys: ["k"],
    });
  });
  it("extends a list held as runtime JSON text, and does not change its input", () => {
    const raw = { adminCidrs: '["203.0.113.7/32"]' };
    expect(applyOverrides(raw, ["adminCidrs[1]=198.51.100.0/24"])).toEqual({
      adminCidrs: ["203.0.113.7/32", "198.51.100.0/24"],
    });
    expect(raw).toEqual({ adminCidrs: '["203.0.113.7/32"]' });
  });
  it.each([
    ["stage", '--set: should be key=value (got "stage")'],
    ["=3", '--set: should be key=value (got "=3")'],
    [
      "[0]=x",
      '--set: "[0]" has no key name before [ (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)',
    ],
    [
      "a[0]b=x",
      '--set: "a[0]b" has "b" right after ]: put a . before it (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)',
    ],
    [
      "a[x]=1",
      '--set: "a[x]" has an unexpected "[" at character 2 (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)',
    ],
    [
      "a.=1",
      '--set: "a." has an empty key name (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)',
    ],
  ])("%s is refused: %s", (item, message) => {
    expect(() => applyOverrides({}, [item])).toThrow(new ConfigError([message]).message);
  });
  it("reports every bad --set at once", () => {
    expect(() => applyOverrides({}, ["x", "y"])).toThrow(
      new ConfigError(['--set: should be key=value (got "x")', '--set: should be key=value (got "y")'])
        .message,
    );
  });
});

// Loaded inside each test after vi.resetModules(), so that code which also runs when the module loads
// is scored by these tests too.
describe("stack files and --set, loaded inside the test", () => {
  let S: typeof import("../../src/config/stack-file");
  beforeEach(async () => {
    vi.resetModules();
    S = await import("../../src/config/stack-file");
  });
  const messageOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };

  it("an empty config: is an empty config, and a scalar config: is named at its own line and column", () => {
    expect(S.parseStackYaml("config:\n", "Pulumi.dev.yaml")).toEqual({});
    expect(messageOf(() => S.parseStackYaml("encryptionsalt: x\nconfig: text\n", "Pulumi.dev.yaml"))).toBe(
      'Pulumi.dev.yaml:2:9: config: should be a mapping of key: value such as app-infra:stage: 1 (got "text")',
    );
  });

  it("a null key is a key without its namespace, named as the empty name", () => {
    expect(messageOf(() => S.parseStackYaml("config:\n  null: 1\n", "Pulumi.dev.yaml"))).toBe(
      "Pulumi.dev.yaml:2:3: : Pulumi refuses a config key without its namespace; write app-infra:",
    );
  });

  it("lists the stacks in the order of their names, not of their file names", () => {
    // Byte order of the file names puts Pulumi.a-b.yaml first ("-" is below "."); by name, "a" is first.
    const here = mkdtempSync(join(tmpdir(), "app-infra-stack-order-"));
    try {
      writeFileSync(join(here, "Pulumi.a-b.yaml"), "config: {}\n");
      writeFileSync(join(here, "Pulumi.a.yaml"), "config: {}\n");
      expect(messageOf(() => S.readStackFile(here, "c"))).toBe(
        `--stack: no file Pulumi.c.yaml in ${here} (stacks here: a, a-b; create it with: pulumi stack init c)`,
      );
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });

  it('a key may start with a quoted name, ["workers"]', () => {
    expect(S.applyOverrides({}, ['["workers"]=3'])).toEqual({ workers: 3 });
  });

  it("a value that only contains [ or { is text, even when it is JSON", () => {
    expect(S.applyOverrides({}, ['services.worker.queue="[q]"'])).toEqual({
      services: { worker: { queue: '"[q]"' } },
    });
  });

  it("only a leading app-infra: is the namespace; inside a key it is part of the name", () => {
    expect(S.applyOverrides({}, ["app-infra:workers=2", "env.app-infra:A=1"])).toEqual({
      workers: 2,
      env: { "app-infra:A": 1 },
    });
  });

  it("a name made of digits is a name, not a list index, even on an object with a length", () => {
    expect(S.applyOverrides({ length: 0 }, ["5=1"])).toEqual({ length: 0, 5: 1 });
  });

  it("a null on the way to a nested key is replaced by an object", () => {
    expect(S.applyOverrides({ backup: null }, ["backup.enabled=true"])).toEqual({
      backup: { enabled: true },
    });
  });
});
