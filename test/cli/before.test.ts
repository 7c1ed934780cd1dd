// `plan --before <file | git ref>`: the change-impact preview, end to end through the CLI. The base
// is either a plan JSON written by `--json` or a stack file at a git ref (a temporary repository).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPlanCli } from "../../src/cli/plan";
import { planFiles, ROOT as root } from "../support/plan-files";
import type { Change } from "../../src/plan/impact";

const { dir, write: base } = planFiles("app-infra-before-");

function changes(...args: string[]): { code: number; changes: Change[]; errors: string[] } {
  const r = runPlanCli([...args, "--json"], root);
  const j = JSON.parse(r.stdout);
  return { code: r.code, changes: j.changes, errors: j.errors };
}

describe("plan --before a plan JSON file", () => {
  const prod = base("prod", "--stack", "prod");

  it("a rescale: power off about 1–2 min, new tariff, disk kept", () => {
    const r = changes("--stack", "prod", "--set", "server.memoryGb=16", "--before", prod);
    expect(r.code).toBe(0);
    const c = r.changes.find((x) => x.kind === "rescale")!;
    expect(c.subject).toBe("server");
    expect(c.what).toBe("cx33 (4 vCPU, 8 GB) → cx43 (8 vCPU, 16 GB)");
    expect(c.consequence).toContain("powers the server off");
    expect(c.consequence).toContain("about 1–2 min");
    expect(c.consequence).toContain("New tariff: €8.49/month → €15.99/month");
    expect(c.consequence).toContain("The disk keeps its size");
    expect(c.refused).toBe(false);
  });

  it("a worker added: one new container, the others untouched", () => {
    const r = changes("--stack", "prod", "--set", "workers=3", "--before", prod);
    expect(r.code).toBe(0);
    expect(r.changes).toEqual([
      {
        kind: "add",
        subject: "worker-image-3",
        what: "new container (250 MB limit)",
        consequence: "a new worker starts consuming the queue; the running containers are not touched",
        refused: false,
      },
    ]);
  });

  it("an image bump recreates exactly the containers that run it, with their downtime", () => {
    const r = changes("--stack", "prod", "--set", "images.api=ghcr.io/acme/api:1.5.0", "--before", prod);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({
      kind: "recreate",
      subject: "api",
      what: "image ghcr.io/example/app:latest → ghcr.io/acme/api:1.5.0",
    });
    expect(r.changes[0]!.consequence).toContain("the new release starts beside the old one");
  });

  it("protection removed is shown, in capitals", () => {
    const r = changes("--stack", "prod", "--set", "server.protect=false", "--before", prod);
    expect(r.code).toBe(0);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({
      kind: "update",
      subject: "server",
      what: "server/protect true → false",
    });
    expect(r.changes[0]!.consequence).toContain("protection REMOVED");
    const text = runPlanCli(["--stack", "prod", "--set", "server.protect=false", "--before", prod], root);
    expect(text.stdout).toContain("~ server: server/protect true → false");
    const md = runPlanCli(
      ["--stack", "prod", "--set", "server.protect=false", "--markdown", "--before", prod],
      root,
    );
    expect(md.stdout).toContain("protection REMOVED");
    expect(md.stdout).toContain("| **server/protect** | true | **false** |");
  });

  it("a location change REPLACES THE SERVER, is refused, and is not deployable", () => {
    const r = changes("--stack", "prod", "--set", "location=nbg1", "--before", prod);
    expect(r.code).toBe(1);
    const c = r.changes[0]!;
    expect(c).toMatchObject({ kind: "replace-server", subject: "server", refused: true });
    expect(c.consequence).toContain("REPLACES THE SERVER — data on it is lost");
    expect(c.consequence).toContain("location fsn1 → nbg1");
    expect(r.errors.join("\n")).toContain("REPLACES THE SERVER");
  });

  it("an architecture change is a replacement too, not a reboot", () => {
    const r = changes("--stack", "prod", "--set", "server.architecture=arm", "--before", prod);
    expect(r.code).toBe(1);
    expect(r.changes[0]).toMatchObject({ kind: "replace-server", refused: true });
    expect(r.changes[0]!.consequence).toContain("architecture x86 → arm");
    expect(r.changes[0]!.consequence).not.toContain("reboot");
  });

  it("a stage change on the same server says it stays, why, and the next size up", () => {
    const r = changes("--stack", "prod", "--set", "stage=3", "--before", prod);
    expect(r.code).toBe(0);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({ kind: "no-op", subject: "server" });
    expect(r.changes[0]!.consequence).toBe(
      "the server stays cx33 (4 vCPU, 8 GB RAM, 80 GB disk): it already meets the new requirements " +
        "(≥4 vCPU, ≥6 GB RAM, ≥60 GB disk); only its requirements label is updated in place. " +
        "The next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €19.69/month incl. IPv4 and backups",
    );
  });

  it("no change: the text says the box stays as it is", () => {
    const r = runPlanCli(["--stack", "prod", "--before", prod], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Nothing: the box stays exactly as it is.");
  });

  it.each([
    ["a missing file", "does-not-exist.json", "is neither a file nor a git commit or branch here"],
    ["a JSON file that is not a plan", "package.json", "is JSON but not a plan document"],
  ])("%s is refused with exit 2, never ignored", (_, file, message) => {
    for (const format of [[], ["--markdown"], ["--json"]]) {
      const r = runPlanCli(["--stack", "dev", ...format, "--before", file], root);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it("a file with npm's banner in front is refused with the --silent fix", () => {
    const file = join(dir, "banner.json");
    writeFileSync(file, "\n> app-infra@0.1.0 plan\n> tsx src/cli/plan.ts --stack dev --json\n\n{}\n");
    const r = runPlanCli(["--stack", "dev", "--before", file], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`starts with npm's banner ("> app-infra@0.1.0 plan")`);
    expect(r.stderr).toContain("npm run --silent plan -- --stack <name> --json >");
  });
});

describe("plan --before a git ref", () => {
  // Made in beforeAll, not while the file is collected: a run that selects none of these tests
  // (Stryker runs one test at a time) skips the hooks, and would leave the directory behind.
  let repo = "";
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
      cwd: repo,
      encoding: "utf8",
    });
  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), "app-infra-git-"));
    git("init", "--quiet", "--initial-branch=main");
    writeFileSync(
      join(repo, "Pulumi.prod.yaml"),
      "config:\n  app-infra:stage: 2\n  app-infra:server:\n    protect: true\n",
    );
    git("add", "Pulumi.prod.yaml");
    git("commit", "--quiet", "-m", "base");
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it("plans the stack file at the ref: a refused location change", () => {
    writeFileSync(
      join(repo, "Pulumi.prod.yaml"),
      "config:\n  app-infra:stage: 2\n  app-infra:location: hel1\n  app-infra:server:\n    protect: true\n",
    );
    const r = runPlanCli(["--stack", "prod", "--json", "--before", "main"], repo);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.comparedWith.source).toMatch(/^git main \([0-9a-f]{7}\)$/);
    expect(j.changes[0]).toMatchObject({ kind: "replace-server", refused: true });
    expect(j.changes[0].consequence).toContain("REPLACES THE SERVER — data on it is lost");
  });

  it("a ref without the stack file says the stack would be new", () => {
    const r = runPlanCli(["--stack", "dev", "--before", "main"], repo);
    // No Pulumi.dev.yaml in the working tree either: a configuration error.
    expect(r.code).toBe(2);
    writeFileSync(join(repo, "Pulumi.dev.yaml"), "config:\n  app-infra:stage: 1\n");
    const ok = runPlanCli(["--stack", "dev", "--before", "main"], repo);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("Pulumi.dev.yaml does not exist at main: the whole stack would be new");
  });

  it("a ref that starts with - is not passed to git", () => {
    const r = runPlanCli(["--stack", "prod", "--before", "--output=x"], repo);
    expect(r.code).toBe(2);
  });
});
