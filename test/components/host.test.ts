// components/host.ts alone, from a hand-written `host` slice: each step becomes one command with the
// slice's arguments, order and login settings; a payload is appended to its step's stdin, secret.
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { Host, readScript } from "../../components/host";
import { sha256, type HostPlan } from "../../src/plan/host";
import { recordComponents } from "../support/mocks";

const script = (f: string) => readScript(f);
const PLAN: HostPlan = {
  connection: { user: "someone", dialErrorLimit: 7, perDialTimeout: 3 },
  steps: [
    { name: "ready", formerNames: ["old-ready"], script: "wait-host-ready.sh", args: ["cx99"], after: [] },
    { name: "swap", formerNames: [], script: "setup-swap.sh", args: ["3", "7"], after: ["ready"] },
    {
      name: "watchdog",
      formerNames: [],
      script: "install-watchdog.sh",
      args: ["90", "abc"],
      after: ["swap"],
      payload: "watchdog",
    },
  ],
  dockerReady: "swap",
  watchdog: { env: "", sendBotToken: false, heartbeat: true },
};

let rec: Awaited<ReturnType<typeof recordComponents>>;
let host: Host;
// Per test, not in beforeAll, so that mutation testing can score it (see recordComponents).
beforeEach(async () => {
  rec = await recordComponents(() => {
    const server = new pulumi.ComponentResource("test:index:Thing", "the-server");
    host = new Host("h", {
      plan: PLAN,
      connection: { host: "192.0.2.9", privateKey: pulumi.secret("PRIV"), hostKey: "ssh-ed25519 HK" },
      server,
      payloads: { watchdog: pulumi.secret("PAYLOAD=1\n") },
    });
  });
});

describe("Host maps the plan's host slice", () => {
  it("one command per step, named <component>-<step>, in the slice's order", () => {
    expect(rec.byType("command:remote:Command").map((c) => c.name)).toEqual([
      "h-ready",
      "h-swap",
      "h-watchdog",
    ]);
  });

  it("the slice's login settings and arguments; triggers are the script's hash and the arguments", () => {
    const swap = rec.one("command:remote:Command", "h-swap");
    expect(swap.inputs.connection).toMatchObject({
      host: "192.0.2.9",
      user: "someone",
      privateKey: "PRIV",
      hostKey: "ssh-ed25519 HK",
      dialErrorLimit: 7,
      perDialTimeout: 3,
    });
    expect(swap.inputs.create).toBe("bash -s -- 3 7");
    expect(swap.inputs.stdin).toBe(script("setup-swap.sh"));
    expect(swap.inputs.triggers).toEqual([sha256(script("setup-swap.sh")), "3", "7"]);
    expect(swap.inputs.logging).toBe("stdoutAndStderr");
  });

  it("a payload follows its step's script on a secret stdin, and silences the step's log", () => {
    const w = rec.one("command:remote:Command", "h-watchdog");
    expect(w.inputs.stdin).toBe(`${script("install-watchdog.sh")}PAYLOAD=1\n`);
    expect(w.secretInputs).toContain("stdin");
    expect(w.inputs.logging).toBe("none");
    expect(rec.one("command:remote:Command", "h-ready").secretInputs).not.toContain("stdin");
  });

  it("dockerReady is the step the slice names", () => {
    expect((host.dockerReady as unknown as { __name: string }).__name).toBe("h-swap");
  });

  it("resource options: after the server and the steps the slice names, former names as aliases, secret output", () => {
    const o = rec.options;
    expect(o["h-ready"]).toMatchObject({ parent: "h", dependsOn: ["the-server"], aliases: ["h-old-ready"] });
    expect(o["h-swap"]).toMatchObject({ dependsOn: ["the-server", "h-ready"], aliases: [] });
    expect(o["h-watchdog"]).toMatchObject({
      dependsOn: ["the-server", "h-swap"],
      // "connection" is the Command class's own (@pulumi/command marks its connection secret)
      additionalSecretOutputs: ["stdout", "stderr", "connection"],
    });
    expect(o["h-swap"]!.additionalSecretOutputs).toEqual(["connection"]);
    expect(rec.one("command:remote:Command", "h-swap").inputs.addPreviousOutputInEnv).toBe(false);
  });

  it("stepsAfter: a step also waits for what is declared after the Host (a promise), the others do not", async () => {
    const later = await recordComponents(() => {
      const server = new pulumi.ComponentResource("test:index:Thing", "the-server");
      let settle: (r: pulumi.Resource[]) => void = () => undefined;
      new Host("l", {
        plan: PLAN,
        connection: { host: "192.0.2.9", privateKey: pulumi.secret("PRIV"), hostKey: "ssh-ed25519 HK" },
        server,
        payloads: { watchdog: pulumi.secret("PAYLOAD=1\n") },
        stepsAfter: { watchdog: new Promise((r) => (settle = r)) },
      });
      settle([
        new pulumi.ComponentResource("test:index:Thing", "svc-a"),
        new pulumi.ComponentResource("test:index:Thing", "svc-b"),
      ]);
    });
    expect(later.options["l-watchdog"]?.dependsOn).toEqual(["the-server", "l-swap", "svc-a", "svc-b"]);
    expect(later.options["l-swap"]?.dependsOn).toEqual(["the-server", "l-ready"]);
  });

  it("refuses a step without its payload, and a step that names a later one", async () => {
    const server = () => new pulumi.ComponentResource("test:index:Thing", "s");
    const connection = { host: "192.0.2.9", privateKey: pulumi.secret("PRIV"), hostKey: "ssh-ed25519 HK" };
    expect(() => new Host("np", { plan: PLAN, connection, server: server() })).toThrow(
      "internal: host step watchdog needs its watchdog payload",
    );
    // swap after docker, which the slice declares later
    const backwards: HostPlan = { ...PLAN, steps: [{ ...PLAN.steps[1]!, after: ["docker"] }] };
    expect(() => new Host("bw", { plan: backwards, connection, server: server() })).toThrow(
      "internal: host step docker is used before it is declared",
    );
  });
});
