// The config rows of the first-time user's bad-input table (review-newcomer.md, section B) that were
// wrongly accepted, wrongly rejected or unclear: each now gets an answer naming the key, the value
// and what is allowed, pinned here through the same path `npm run plan` takes (stack file text →
// --set overrides → parseConfig).
import { describe, expect, it } from "vitest";
import { ConfigError, StackFileError } from "../../src/config/errors";
import { parseConfig } from "../../src/config/parse";
import { applyOverrides, parseStackYaml } from "../../src/config/stack-file";
import type { StackConfig } from "../../src/config/types";

const DEV = "config:\n  app-infra:stage: 1\n";

function plan(sets: string[], yaml = DEV): { cfg?: StackConfig; problems: readonly string[] } {
  try {
    const raw = applyOverrides(parseStackYaml(yaml, "Pulumi.dev.yaml"), sets);
    return { cfg: parseConfig("dev", raw, { fromStackFile: true }), problems: [] };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { problems: e.problems };
  }
}
const problems = (sets: string[], yaml?: string) => plan(sets, yaml).problems;

describe("--set rows", () => {
  it("rows 5, 6: a one-element list is not a stage", () => {
    expect(problems(["stage=[1]"])).toEqual(["stage: should be one of 1, 2, 3, 4 (got [1])"]);
    expect(problems(['stage=["2"]'])).toEqual(['stage: should be one of 1, 2, 3, 4 (got ["2"])']);
    expect(problems(['location=["fsn1"]'])).toEqual([
      'location: should be one of fsn1, nbg1, hel1, ash, hil, sin (got ["fsn1"])',
    ]);
  });

  it("row 35: an upper-case repository is refused, as Docker refuses it", () => {
    expect(problems(["images.api=ghcr.io/Acme/App:1.4"])).toEqual([
      'images/api: should be a Docker image reference such as ghcr.io/acme/app-api:1.4.2 (got "ghcr.io/Acme/App:1.4"): the repository path "Acme/App" must be lower case',
    ]);
  });

  it("row 36: a second tag is refused", () => {
    expect(problems(["images.api=ghcr.io/acme/app:1.4:5"])).toEqual([
      'images/api: should be a Docker image reference such as ghcr.io/acme/app-api:1.4.2 (got "ghcr.io/acme/app:1.4:5"): only one :tag may follow the repository name (got "app:1.4:5")',
    ]);
  });

  it("row 41: a bad list entry is named by its index and shown whole", () => {
    expect(
      problems(['adminCidrs=["203.0.113.7/32","198.51.100.0/24","2001:db8::/32","10.0.0.0/8","bad"]']),
    ).toEqual([
      'adminCidrs[4]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "bad"): it is not address/prefix, e.g. 203.0.113.7/32',
    ]);
  });

  it("row 42: a scalar where a list belongs shows how a list is written", () => {
    expect(problems(["adminCidrs=10.0.0.1/32"])).toEqual([
      'adminCidrs: should be a list of CIDR blocks such as 203.0.113.7/32 or ::/0 (got "10.0.0.1/32"; a list is written ["10.0.0.1/32"])',
    ]);
  });

  it("rows 43-45: impossible addresses and prefixes are refused", () => {
    expect(problems(['adminCidrs=["999.999.999.999/99"]'])).toEqual([
      'adminCidrs[0]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "999.999.999.999/99"): 999.999.999.999 is not an IPv4 or IPv6 address',
    ]);
    expect(problems(['adminCidrs=["1.2.3.4/33"]'])).toEqual([
      'adminCidrs[0]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "1.2.3.4/33"): prefix /33 is longer than 32',
    ]);
    expect(problems(['adminCidrs=["cafe/12"]'])).toEqual([
      'adminCidrs[0]: should be a CIDR block such as 203.0.113.7/32 or ::/0 (got "cafe/12"): cafe is not an IPv4 or IPv6 address',
    ]);
  });

  it("row 46: an empty adminCidrs is refused", () => {
    expect(problems(["adminCidrs=[]"])).toEqual([
      "adminCidrs: needs at least one CIDR block (got []): Pulumi itself reaches the server over SSH; allow your and your CI's addresses, or 0.0.0.0/0 and ::/0 (key-only login)",
    ]);
  });

  it("row 61: the API may not publish sshd's or Redis' port", () => {
    expect(problems(["services.api.port=22"])).toEqual([
      "services/api/port: 22 is sshd's port on the server, and the API rule would open it to everyone past adminCidrs (got 22); use another port, e.g. 8000",
    ]);
    expect(problems(["services.api.port=6379"])).toEqual([
      "services/api/port: 6379 is Redis' port: scanners and clients take it for Redis, and Redis must never look reachable (got 6379); use another port, e.g. 8000",
    ]);
    expect(plan(["services.api.port=8080"]).cfg?.services.api.port).toBe(8080);
  });

  it("row 73: the README's numeric Telegram chat id is accepted as its decimal text", () => {
    expect(plan(["alerts.telegramChatId=-1001234567890"]).cfg?.alerts.telegramChatId).toBe("-1001234567890");
    const yaml = `${DEV}  app-infra:alerts:\n    telegramChatId: -1001234567890\n`;
    expect(plan([], yaml).cfg?.alerts.telegramChatId).toBe("-1001234567890");
    expect(plan(["alerts.telegramChatId=@ops_alerts"]).cfg?.alerts.telegramChatId).toBe("@ops_alerts");
  });

  it("row 74: a queue name typed as a number is its decimal text", () => {
    const yaml = `${DEV}  app-infra:services:\n    worker:\n      queue: 123\n`;
    expect(plan([], yaml).cfg?.services.worker.queue).toBe("123");
    // A number that is not an integer has no exact text: the message says to quote it.
    expect(problems([], `${DEV}  app-infra:services:\n    worker:\n      queue: 1.50\n`)).toEqual([
      "services/worker/queue: should be an RQ queue name of letters, digits, _ . : - (got 1.5; quote it to keep it as text)",
    ]);
  });

  it("row 82: __proto__ is an unknown key, and no prototype is touched", () => {
    expect(problems(["__proto__.polluted=1"])[0]).toMatch(/^__proto__: unknown key \(known: stage, /);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("row 85: Pulumi's own path syntax sets one list entry", () => {
    expect(plan(["adminCidrs[0]=203.0.113.7/32"]).cfg?.adminCidrs).toEqual(["203.0.113.7/32"]);
    const yaml = `${DEV}  app-infra:adminCidrs:\n    - 203.0.113.7/32\n`;
    expect(plan(["adminCidrs[1]=198.51.100.0/24"], yaml).cfg?.adminCidrs).toEqual([
      "203.0.113.7/32",
      "198.51.100.0/24",
    ]);
    expect(() => applyOverrides({}, ["adminCidrs[3]=203.0.113.7/32"])).toThrow(
      "--set: adminCidrs[3] is past the end of adminCidrs, which has 0 entries (the next is adminCidrs[0])",
    );
  });

  it("rows 86, 87: an empty key name says how keys are written", () => {
    expect(problems(["services..redis=1"])).toEqual([
      '--set: "services..redis" has an empty key name (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)',
    ]);
    expect(problems([".stage=1"])).toEqual([
      '--set: ".stage" has an empty key name (write keys like services.redis.memoryMb=300 or adminCidrs[0]=203.0.113.7/32)',
    ]);
  });
});

describe("stack file rows", () => {
  const yamlError = (text: string) => {
    try {
      parseStackYaml(text, "Pulumi.t.yaml");
    } catch (e) {
      expect(e).toBeInstanceOf(StackFileError);
      expect((e as StackFileError).file).toBe("Pulumi.t.yaml");
      return (e as StackFileError).message;
    }
    throw new Error("no error");
  };

  it("F1-F5: YAML errors name the file, line and column in one line each, no stack trace", () => {
    expect(yamlError("config:\n  app-infra:stage: 1\n   app-infra:workers: 2\n").split("\n")[0]).toBe(
      "Pulumi.t.yaml:2:20: Nested mappings are not allowed in compact mappings",
    );
    expect(yamlError("config:\n  app-infra:stage: [1\n")).toBe(
      "Pulumi.t.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
    );
    expect(yamlError("config:\n\tapp-infra:stage: 1\n")).toBe(
      "Pulumi.t.yaml:2:1: Tabs are not allowed as indentation",
    );
    expect(yamlError("config:\n  app-infra:stage: 1\n  app-infra:stage: 2\n")).toBe(
      "Pulumi.t.yaml:3:3: Map keys must be unique",
    );
    expect(yamlError("config: {}\nconfig: {}\n")).toBe("Pulumi.t.yaml:2:1: Map keys must be unique");
  });

  it("F6: an empty file is a stack without config", () => {
    expect(problems([], "")).toEqual([
      "stage: is required, one of 1, 2, 3, 4 (pulumi config set stage <value>)",
    ]);
  });

  it("F7, F8: a file that is not shaped like a stack file says so", () => {
    expect(yamlError("hello\n")).toBe(
      'Pulumi.t.yaml:1:1: is not a Pulumi stack file: its top level should be a mapping with a config: mapping (got "hello")',
    );
    expect(yamlError("config:\n  - app-infra:stage: 1\n")).toBe(
      'Pulumi.t.yaml:2:3: config: should be a mapping of key: value such as app-infra:stage: 1 (got [{"app-infra:stage":1}])',
    );
  });

  it("F11, F12: a near miss of the app-infra namespace is refused with the right name", () => {
    expect(
      problems([], `${DEV}  app-infar:workers: 3\n  appinfra:swapGb: 0\n  hcloud:endpoint: x\n`),
    ).toEqual([
      'app-infar:workers: unknown namespace "app-infar" (did you mean app-infra:workers?)',
      'appinfra:swapGb: unknown namespace "appinfra" (did you mean app-infra:swapGb?)',
    ]);
  });

  it("F13: a key without its namespace is refused, as Pulumi refuses it", () => {
    expect(yamlError("config:\n  app-infra:stage: 1\n  workers: 2\n")).toBe(
      "Pulumi.t.yaml:3:3: workers: Pulumi refuses a config key without its namespace; write app-infra:workers",
    );
  });

  it("F15: a plaintext hcloud:token in a stack file is refused; an encrypted one is fine", () => {
    expect(problems([], `${DEV}  hcloud:token: abc123\n`)).toEqual([
      "hcloud:token: must be stored encrypted: pulumi config set --secret hcloud:token <value>",
    ]);
    expect(problems([], `${DEV}  hcloud:token:\n    secure: v1:abc\n`)).toEqual([]);
  });

  it("F19: a non-secret key stored encrypted is explained, and its ciphertext is not echoed", () => {
    const p = problems([], `${DEV}  app-infra:workers:\n    secure: AAABAJk3m1\n`);
    expect(p).toEqual([
      "workers: is stored encrypted, but it is not a secret and the offline plan cannot decrypt it (pulumi config set workers <value>)",
    ]);
    expect(p.join("")).not.toContain("AAABAJk3m1");
  });

  it("F26: hetzner-only keys under target local are refused, not ignored", () => {
    const yaml = `${DEV}  app-infra:target: local\n  app-infra:server:\n    type: cx99\n  app-infra:swapGb: 8\n`;
    expect(problems([], yaml)).toEqual([
      "server/type: applies only to target hetzner, and this stack's target is local; remove it from the stack (pulumi config rm --path server.type)",
      "swapGb: applies only to target hetzner, and this stack's target is local; remove it from the stack (pulumi config rm swapGb)",
    ]);
    expect(problems([], `${DEV}  app-infra:target: local\n`)).toEqual([]);
  });

  it("stage 4's keys on stages 1-3 are refused, naming each and the way out; workers and target local on stage 4 too", () => {
    const yaml = `${DEV}  app-infra:workerNodes: 2\n  app-infra:workerNode:\n    memoryGb: 8\n`;
    expect(problems([], yaml)).toEqual([
      "workerNodes: applies only to stage 4 (worker nodes), and this stack's stage is 1; remove it (pulumi config rm workerNodes) or set stage 4",
      "workerNode/memoryGb: applies only to stage 4 (worker nodes), and this stack's stage is 1; remove it (pulumi config rm --path workerNode.memoryGb) or set stage 4",
    ]);
    expect(problems(["stage=4"], yaml)).toEqual([]);
    expect(problems(["stage=4", "workers=3"])).toEqual([
      "workers: on stage 4 the workers run on the worker nodes (got workers 3); set workersPerNode instead (pulumi config rm workers && pulumi config set workersPerNode <n>)",
    ]);
    expect(problems(["stage=4", "target=local"])).toEqual([
      "stage: 4 needs target hetzner: its worker nodes are servers on a Hetzner private network (got target local); use stage 1-3 locally",
    ]);
    expect(problems(["stage=4", "workerNodes=0"])).toEqual([
      "workerNodes: should be an integer between 1 and 20 (got 0)",
    ]);
  });

  it("stage 4 needs a stack name that leaves room for -worker-20 in a 63-character host name", () => {
    expect(() => parseConfig("a".repeat(43), { stage: 4 })).not.toThrow();
    expect(() => parseConfig("a".repeat(44), { stage: 4 })).toThrow(
      `stack name "${"a".repeat(44)}" is too long for stage 4's worker nodes (app-infra-${"a".repeat(44)}-worker-20): at most 43 characters (pulumi stack rename)`,
    );
    expect(() => parseConfig("a".repeat(44), { stage: 3 })).not.toThrow();
  });

  it("F28: a !!binary value is named as such", () => {
    expect(problems([], "config:\n  app-infra:stage: !!binary aGVsbG8=\n")).toEqual([
      "stage: should be one of 1, 2, 3, 4 (got binary data (a !!binary value))",
    ]);
  });

  it("F30: an empty encrypted value is not counted as set", () => {
    expect(problems([], `${DEV}  app-infra:falKey:\n    secure: ""\n`)).toEqual([
      "falKey: its encrypted value is empty (pulumi config set --secret falKey <value>)",
    ]);
  });

  it("env set with --secret --path keeps each value encrypted, and a plaintext one is named", () => {
    const ok = `${DEV}  app-infra:env:\n    A:\n      secure: v1:a\n`;
    expect(plan([], ok).cfg?.secrets.env).toBe(true);
    expect(problems([], `${ok}    B: plain\n`)).toEqual([
      "env/B: must be stored encrypted: pulumi config set --secret --path env.B <value>",
    ]);
  });
});

describe("numbers as `pulumi config set --path` stores them", () => {
  it("integers beyond 2^53 keep every digit in a string key, from YAML, JSON and --set", () => {
    const digits = "12345678901234567890";
    expect(
      plan([], `${DEV}  app-infra:services:\n    worker:\n      queue: ${digits}\n`).cfg?.services.worker
        .queue,
    ).toBe(digits);
    expect(plan([`services.worker.queue=${digits}`]).cfg?.services.worker.queue).toBe(digits);
    // The Pulumi runtime passes a structured key as JSON text.
    const runtime = parseConfig("dev", { stage: "1", services: `{"worker":{"queue":${digits}}}` });
    expect(runtime.services.worker.queue).toBe(digits);
  });

  it("an integer key refuses such a number, showing every digit", () => {
    expect(problems(["workers=12345678901234567890"])).toEqual([
      'workers: should be an integer between 1 and 32 (got "12345678901234567890")',
    ]);
  });

  it("true/false land in a bool key, and as text in a string key", () => {
    expect(plan(["services.api.public=false"]).cfg?.services.api.public).toBe(false);
    expect(plan(["services.worker.queue=true"]).cfg?.services.worker.queue).toBe("true");
  });

  it("a leading zero stays text, as Pulumi keeps it", () => {
    expect(plan(["services.worker.queue=0123"]).cfg?.services.worker.queue).toBe("0123");
  });
});
