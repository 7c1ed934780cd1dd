// The lab's pure pieces: reading the engine's JSON, unwrapping exported secrets, downtime from
// Docker's events, the report. The lab itself runs under `npm run lab`.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROXY_STATE_PATH } from "../../src/plan/proxy";
import { writeProxyContext } from "../lab/edge";
import { errorText, parseEngineJson, unwrapSecrets } from "../lab/engine";
import { expectedRestarts } from "../lab/phases/jobs";
import { plannedRenames, toOldNames } from "../lab/phases/renames";
import { reportMarkdown } from "../lab/report";
import { Results } from "../lab/results";
import { downtimeByName, parseDockerEvents } from "../lab/watch";

const urn = (name: string, type = "docker:index/container:Container") =>
  `urn:pulumi:lab::app-infra::app-infra:index:App$${type}::${name}`;

describe("parseEngineJson", () => {
  it("reads a preview's single document: summary, non-same steps by name, error diagnostics", () => {
    const doc = {
      steps: [
        { op: "same", urn: urn("app-bot") },
        { op: "replace", urn: urn("app-api") },
        { op: "update", urn: urn("host-swap", "command:remote:Command") },
      ],
      changeSummary: { same: 10, replace: 1, update: 1 },
      diagnostics: [
        { severity: "warning", message: "w" },
        { severity: "error", urn: urn("app-api"), message: "boom\n" },
      ],
    };
    expect(parseEngineJson(JSON.stringify(doc))).toEqual({
      changes: { same: 10, replace: 1, update: 1 },
      steps: { replace: ["app-api"], update: ["host-swap"] },
      stepOrder: [
        { op: "replace", name: "app-api" },
        { op: "update", name: "host-swap" },
      ],
      slowest: [],
      errors: ["app-api: boom"],
    });
  });

  it("keeps the engine's order of a replacement's steps (delete-replaced first = delete-before-replace)", () => {
    const doc = {
      steps: [
        { op: "delete-replaced", urn: urn("server-vm") },
        { op: "replace", urn: urn("server-vm") },
        { op: "create-replacement", urn: urn("server-vm") },
      ],
    };
    expect(parseEngineJson(JSON.stringify(doc)).stepOrder.map((x) => x.op)).toEqual([
      "delete-replaced",
      "replace",
      "create-replacement",
    ]);
  });

  it("reads an up's event stream and ignores debug events (they can carry resolved secrets)", () => {
    const lines = [
      { resourcePreEvent: { metadata: { op: "create", urn: urn("app-redis") } } },
      { resourcePreEvent: { metadata: { op: "create", urn: urn("app-redis") } } },
      {
        diagnosticEvent: {
          severity: "debug",
          message: "RegisterResource RPC finished: privateKey,,,-----BEGIN OPENSSH PRIVATE KEY-----",
        },
      },
      { diagnosticEvent: { severity: "error", urn: urn("app-redis"), message: "container exited\n" } },
      { summaryEvent: { resourceChanges: { create: 1 } } },
    ].map((l) => JSON.stringify(l));
    const out = parseEngineJson(["not json", ...lines].join("\n"));
    expect(out).toEqual({
      changes: { create: 1 },
      steps: { create: ["app-redis"] },
      stepOrder: [
        { op: "create", name: "app-redis" },
        { op: "create", name: "app-redis" },
      ],
      slowest: [],
      errors: ["app-redis: container exited"],
    });
    expect(errorText({ stdout: lines.join("\n"), stderr: "" })).not.toContain("PRIVATE KEY");
  });

  it("times each step from its pre-event to its outputs or failure event, slowest first", () => {
    const at = (timestamp: number, e: object) => JSON.stringify({ timestamp, ...e });
    const pre = (op: string, name: string) => ({ resourcePreEvent: { metadata: { op, urn: urn(name) } } });
    const lines = [
      at(99, {
        resourcePreEvent: { metadata: { op: "create", type: "pulumi:pulumi:Stack", urn: urn("s") } },
      }),
      at(100, pre("create", "host-docker")),
      at(101, pre("same", "keys")),
      at(102, pre("update", "host-swap")),
      at(103, { resOutputsEvent: { metadata: { urn: urn("keys") } } }),
      at(110, { resOutputsEvent: { metadata: { urn: urn("host-swap") } } }),
      at(250, { resOpFailedEvent: { metadata: { urn: urn("host-docker") } } }),
      at(251, { resOutputsEvent: { metadata: { urn: urn("s") } } }),
    ];
    expect(parseEngineJson(lines.join("\n")).slowest).toEqual([
      { name: "host-docker", op: "create", seconds: 150 },
      { name: "host-swap", op: "update", seconds: 8 },
    ]);
  });

  it("says so when there is nothing to report", () => {
    expect(errorText({ stdout: "", stderr: "" })).toBe("(no error output)");
    expect(errorText({ stdout: "", stderr: "error: unknown flag: --x" })).toBe("error: unknown flag: --x");
  });
});

describe("unwrapSecrets", () => {
  it("turns the checkpoint's {sig, plaintext} objects back into values, at any depth", () => {
    const secret = (v: unknown) => ({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      plaintext: JSON.stringify(v),
    });
    expect(
      unwrapSecrets([{ outputs: { key: secret("-----BEGIN\n"), list: [secret({ a: 1 })], plain: 2 } }]),
    ).toEqual([{ outputs: { key: "-----BEGIN\n", list: [{ a: 1 }], plain: 2 } }]);
  });
});

describe("parseDockerEvents", () => {
  it("reads tab-separated events: actions with a space, kill signals, exec_ events dropped", () => {
    const out = [
      "1000000000\tkill\tapi\t15",
      "1500000000\tkill\tapi\t9",
      "2000000000\texec_start: sh\tapi\t",
      "3000000000\thealth_status: healthy\tapi\t",
      "",
    ].join("\n");
    expect(parseDockerEvents(out)).toEqual([
      { at: 1000, action: "kill 15", name: "api" },
      { at: 1500, action: "kill 9", name: "api" },
      { at: 3000, action: "health_status: healthy", name: "api" },
    ]);
  });
});

describe("downtimeByName", () => {
  const ev = (s: number, action: string, name: string) => ({ at: s * 1000, action, name });
  it("counts from the stop signal to running, or to healthy for a healthchecked container", () => {
    const events = [
      ev(10, "kill 15", "api"),
      ev(10.1, "kill 9", "api"),
      ev(11, "die", "api"),
      ev(12, "start", "api"),
      ev(30, "health_status: healthy", "api"),
      ev(10, "kill 15", "bot"),
      ev(10.5, "die", "bot"),
      ev(13, "start", "bot"),
    ];
    expect(downtimeByName(events, new Set(["api"]))).toEqual({ api: 20, bot: 3 });
  });
  it("marks a container that never came back", () => {
    expect(
      downtimeByName([ev(1, "kill", "worker-image-1"), ev(2, "die", "worker-image-1")], new Set()),
    ).toEqual({ "worker-image-1": "not back" });
  });
});

describe("reportMarkdown", () => {
  it("lists operations, findings and checks as they are, failures included", () => {
    const r = new Results();
    r.check("a check that failed", false, "why");
    r.finding("3 (SIGKILL)", true, "2 of 6 jobs lost");
    r.operation({
      step: "up (image bump)",
      command: "pulumi up",
      ok: false,
      seconds: 12.5,
      changes: { replace: 3 },
      steps: { replace: ["app-api"] },
      stepOrder: [{ op: "replace", name: "app-api" }],
      slowest: [{ name: "app-api", op: "replace", seconds: 61 }],
      error: "e",
    });
    r.operation({
      step: "up (the app)",
      command: "pulumi up",
      ok: true,
      seconds: 90,
      changes: { create: 2 },
      steps: { create: ["app-redis", "app-api"] },
      stepOrder: [],
      slowest: [
        { name: "app-api", op: "create", seconds: 70 },
        { name: "app-redis", op: "create", seconds: 12 },
      ],
    });
    const md = reportMarkdown(r, "2026-11-26T00:00:00Z");
    expect(md).toContain("FAILED");
    expect(md).toContain("| up (image bump) | **failed** | 12.5 |");
    expect(md).toContain("- up (the app): app-api (create) 70 s, app-redis (create) 12 s");
    expect(md).not.toContain("- up (image bump):");
    expect(md).toContain("**reproduced** — finding 3 (SIGKILL): 2 of 6 jobs lost");
    expect(md).toContain("- ❌ a check that failed — why");
  });
});

describe("renames: the state as a stack deployed before the rename holds it", () => {
  const cmd = "command:remote:Command";
  const hostUrn = (name: string) => `urn:pulumi:lab::app-infra::app-infra:index:Host$${cmd}::${name}`;
  it("derives old and new names from the plan's host steps", () => {
    const plan = {
      host: {
        steps: [
          { name: "ready", formerNames: ["host-ready"] },
          { name: "swap", formerNames: [] },
        ],
      },
    } as unknown as Parameters<typeof plannedRenames>[0]["plan"];
    expect(plannedRenames({ plan })).toEqual([{ from: "host-host-ready", to: "host-ready" }]);
  });
  it("rewrites the resource's own URN and every reference to it, and nothing else", () => {
    const checkpoint = JSON.stringify({
      resources: [
        { urn: hostUrn("host-ready") },
        { urn: hostUrn("host-swap"), dependencies: [hostUrn("host-ready")] },
        { urn: hostUrn("host-ready-extra") },
      ],
    });
    const out = JSON.parse(toOldNames(checkpoint, [{ from: "host-host-ready", to: "host-ready" }]));
    expect(out.resources[0].urn).toBe(hostUrn("host-host-ready"));
    expect(out.resources[1].urn).toBe(hostUrn("host-swap"));
    expect(out.resources[1].dependencies).toEqual([hostUrn("host-host-ready")]);
    expect(out.resources[2].urn).toBe(hostUrn("host-ready-extra"));
  });
});

describe("the lab's kamal-proxy image", () => {
  it("is one COPY of a tree on the base, which has the user and the program's state path", () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-proxy-ctx-"));
    try {
      const binary = join(dir, "bin");
      writeFileSync(binary, "#!/bin/sh\n");
      writeProxyContext(join(dir, "ctx"), { binary, frontCaPem: "PEM", frontUrl: "http://x:1", base: "b" });
      const dockerfile = readFileSync(join(dir, "ctx", "Dockerfile"), "utf8");
      expect(dockerfile).not.toMatch(/^RUN /m);
      expect(dockerfile).toContain("COPY rootfs/ /");
      expect(statSync(join(dir, "ctx", "rootfs", "usr", "local", "bin", "kamal-proxy")).mode & 0o777).toBe(
        0o755,
      );
      expect(readFileSync(join(dir, "ctx", "rootfs", "etc", "app-infra-lab", "front-ca.pem"), "utf8")).toBe(
        "PEM",
      );
      // The base (build-image.sh) makes the directory the program mounts the proxy's state on.
      const script = readFileSync(join(__dirname, "..", "lab", "build-image.sh"), "utf8");
      expect(script).toContain(`mkdir -p "$root${PROXY_STATE_PATH}"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("expectedRestarts", () => {
  it("counts the exits after --max-jobs that must be over once the last job is done", () => {
    expect([15, 16, 30, 31, 45, 46].map((n) => expectedRestarts(n, 15))).toEqual([0, 1, 1, 2, 2, 3]);
  });
});
