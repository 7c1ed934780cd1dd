// The program pinned to docs/provider-contract.md: what each provider does with what we pass.
import { existsSync, readFileSync, statSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { SSH_DIR_ENV } from "../../src/live/ssh-files";
import { mockDigest, runProgram, type ProgramRun } from "../support/mocks";
import { T } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", { stage: "2", workers: "2", botToken: "123:bot-token-secret" }, ["botToken"]);
});

/** How long each role needs after SIGTERM: RQ's warm shutdown finishes the current image job. */
const STOP_NEEDED_S: Record<string, number> = { worker: 120, redis: 10, proxy: 10, api: 10, bot: 10 };

describe("the provider contract, as the program sets it", () => {
  it("every container is stopped gracefully by Pulumi: destroyGraceSeconds ≥ its stop time and ≥ what its role needs", () => {
    const containers = run.byType(T.container);
    expect(containers.length).toBeGreaterThanOrEqual(5);
    for (const c of containers) {
      const role = c.inputs.labels.find((l: { label: string }) => l.label === "app-infra.role")
        .value as string;
      // kreuzwerker's delete stops with destroy_grace_seconds; 0 (unset) is an instant SIGKILL.
      expect(c.inputs.destroyGraceSeconds, c.name).toBeGreaterThan(0);
      expect(c.inputs.destroyGraceSeconds, c.name).toBeGreaterThanOrEqual(c.inputs.stopTimeout);
      expect(c.inputs.destroyGraceSeconds, c.name).toBeGreaterThanOrEqual(STOP_NEEDED_S[role]!);
    }
  });

  it("a healthcheck change replaces the container (the provider's update would ignore it)", () => {
    for (const c of run.byType(T.container).filter((x) => x.inputs.healthcheck)) {
      expect(run.options[c.name]!.replaceOnChanges, c.name).toContain("healthcheck");
      // Start-first for the API (its name is its release), stop-first for the rest.
      expect(run.options[c.name]!.deleteBeforeReplace, c.name).toBe(c.name !== "app-api");
    }
  });

  it("a container that is restarting at refresh time is not drift (mustRun ignored after create)", () => {
    for (const c of run.byType(T.container)) {
      expect(c.inputs.mustRun, c.name).toBe(true);
      expect(run.options[c.name]!.ignoreChanges, c.name).toContain("mustRun");
    }
  });

  it("a host step with a secret payload keeps its output secret", () => {
    // (the SDK adds "connection" itself)
    expect(run.options["host-watchdog"]!.additionalSecretOutputs).toEqual(
      expect.arrayContaining(["stdout", "stderr"]),
    );
    expect(run.options["host-swap"]!.additionalSecretOutputs ?? []).not.toContain("stdout");
  });

  it("first-boot-only server inputs never replace the server", () => {
    expect(run.options["server-vm"]!.ignoreChanges).toEqual(expect.arrayContaining(["userData", "sshKeys"]));
  });

  it("a replaced server gets every Docker resource recreated on it (replacementTrigger: the server's ID)", () => {
    for (const type of [T.container, T.image, T.network, T.volume]) {
      const rs = run.byType(type);
      expect(rs.length, type).toBeGreaterThan(0);
      for (const res of rs) expect(run.options[res.name]!.replacementTrigger, res.name).toBe(true);
    }
  });

  it("the deploy key is replaced delete-first (key names are unique per project)", () => {
    expect(run.options["server-deploy-key"]!.deleteBeforeReplace).toBe(true);
  });

  it("a re-pushed tag redeploys: each image is pulled by the registry's current digest, asked through a registry-only provider", () => {
    const images = run.byType(T.image);
    expect(images).toHaveLength(5);
    for (const img of images) {
      // The digest is in the name: a new digest is a new name, which the provider pulls.
      expect(img.inputs.name, img.name).toMatch(/^[^:@]+(:\d+)?[^:@]*@sha256:[0-9a-f]{64}$/);
      expect(img.inputs.pullTriggers, img.name).toBeUndefined();
    }
    expect(run.one(T.image, "app-image-redis").inputs.name).toBe(`redis@${mockDigest("redis:7.4.6-alpine")}`);
    const providers = run
      .byType(T.dockerProvider)
      .map((p) => p.name)
      .sort();
    expect(providers).toEqual(["app-docker", "app-registry"]);
    expect(run.one(T.dockerProvider, "app-registry").inputs.host).toBeUndefined();
  });

  it("a rescale re-runs the ready step, which checks over SSH that the box came back", () => {
    const c = run.one(T.command, "host-ready").inputs;
    expect(c.triggers).toContain(run.outputs.serverType);
    expect(c.create).toContain(run.outputs.serverType);
  });

  it("the Docker provider's ssh: the key file this run wrote, the host key inline, no ~/.ssh", () => {
    const p = run.one(T.dockerProvider, "app-docker").inputs;
    // Provider inputs reach the engine JSON-encoded.
    const opts: string[] = typeof p.sshOpts === "string" ? JSON.parse(p.sshOpts) : p.sshOpts;
    const keyFile = opts[opts.indexOf("-i") + 1]!;
    expect(keyFile.startsWith(process.env[SSH_DIR_ENV]!)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8")).toContain("OPENSSH PRIVATE KEY");
    expect(opts).toContain(
      `KnownHostsCommand=/bin/echo %H ${String(run.outputs.hostKey).trim().split(/\s+/).slice(0, 2).join(" ")}`,
    );
    expect(opts.join(" ")).not.toMatch(/\.ssh|known_hosts/);
    expect(existsSync(`${process.env[SSH_DIR_ENV]}/app-infra-ssh-dev/known_hosts`)).toBe(false);
  });
});
