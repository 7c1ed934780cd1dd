// The weekly prune's program (scripts/lib/prune-images.sh, installed by install-docker.sh) against
// a real dockerd: a private one, started here with its own data root and socket in a temp dir, so
// the prune cannot touch the images other tests use, and in a network namespace of its own: a
// dockerd started with --bridge=none deletes the interface docker0 (moby daemon_unix.go,
// removeDefaultBridgeInterface), which in the host's namespace is the shared engine's bridge (a CI
// run saw the watchdog test's `docker run` fail with "could not find bridge docker0"). Its images are imported from tiny tars (no
// registry): one unused and old enough, one the kept-images list names, one a stopped container
// uses, a dangling one (its tag moved), one with two tags, and a locally built base whose child
// image the list names.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDocker, run, runOk, type RunResult } from "./support/docker";

const LIB = join(__dirname, "..", "..", "scripts", "lib", "prune-images.sh");
const dir = mkdtempSync(join(tmpdir(), "prune-images-"));
const socket = join(dir, "docker.sock");
const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
let dockerd: ChildProcess | undefined;

const docker = (args: readonly string[], input?: string) =>
  runOk("docker", args, { env, ...(input === undefined ? {} : { input }) });

/** Imports a one-file image whose content is `marker`, tagged `tag`; returns its ID. */
async function importImage(tag: string, marker: string): Promise<string> {
  const src = mkdtempSync(join(dir, "img-"));
  writeFileSync(join(src, "marker"), marker);
  const tar = join(dir, `${marker}.tar`);
  await runOk("tar", ["-C", src, "-cf", tar, "marker"]);
  await runOk("docker", ["import", tar, tag], { env });
  return (await docker(["image", "inspect", "--format", "{{.Id}}", tag])).stdout.trim();
}

/** Every image ID and its tags, sorted. */
async function images(): Promise<string[]> {
  const out = await docker(["image", "ls", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]);
  return out.stdout.trim().split("\n").filter(Boolean).sort();
}

function prune(keptFile: string, maxAgeS: string, extraEnv: NodeJS.ProcessEnv = env): Promise<RunResult> {
  return run(
    "bash",
    ["-euo", "pipefail", "-c", `source "${LIB}"; prune_images "$@"`, "prune", keptFile, maxAgeS],
    {
      env: extraEnv,
    },
  );
}

const ids: Record<string, string> = {};
const keptFile = join(dir, "kept-images");

/** Whether the host's namespace has the shared engine's bridge (checked before and after). */
const hostBridge = async () => (await run("ip", ["link", "show", "docker0"])).code === 0;
let bridgeBefore: boolean;

beforeAll(async () => {
  await ensureDocker(); // the binaries are there (and the shared engine runs, untouched here)
  bridgeBefore = await hostBridge();
  dockerd = spawn(
    "unshare",
    [
      "--net",
      "dockerd",
      `--data-root=${join(dir, "data")}`,
      `--exec-root=${join(dir, "exec")}`,
      `--pidfile=${join(dir, "dockerd.pid")}`,
      `--host=unix://${socket}`,
      "--bridge=none",
      "--iptables=false",
      "--storage-driver=vfs",
    ],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 60_000;
  while ((await run("docker", ["info"], { env, timeoutMs: 10_000 })).code !== 0) {
    if (Date.now() > deadline) throw new Error(`the private dockerd did not answer on ${socket} within 60 s`);
    await new Promise((r) => setTimeout(r, 300));
  }
  ids.old = await importImage("app/old:1", "old");
  ids.kept = await importImage("app/kept:1", "kept");
  ids.used = await importImage("app/used:1", "used");
  ids.dangling = await importImage("app/moving:1", "moving-a");
  ids.moving = await importImage("app/moving:1", "moving-b"); // the tag moves: moving-a dangles
  ids.multi = await importImage("app/multi:1", "multi");
  await docker(["tag", "app/multi:1", "app/multi:2"]);
  ids.parent = await importImage("app/parent:1", "parent");
  // Built on app/parent:1 (a LABEL runs no container): the parent has a dependent child.
  await docker(["build", "-q", "-t", "app/child:1", "-"], "FROM app/parent:1\nLABEL release=1\n");
  ids.child = (await docker(["image", "inspect", "--format", "{{.Id}}", "app/child:1"])).stdout.trim();
  // A stopped container: `docker image prune -a` spares its image, and so must we.
  await docker(["create", "--name", "stopped", "app/used:1", "/marker"]);
  // The kept list as the program writes it, plus a line for an image that is not here.
  writeFileSync(keptFile, "app/gone:7\napp/kept:1\napp/moving:1\napp/child:1\n");
}, 120_000);

afterAll(async () => {
  dockerd?.kill("SIGTERM");
  if (dockerd && dockerd.exitCode === null)
    await new Promise((r) => {
      dockerd!.once("exit", r);
      setTimeout(r, 15_000);
    });
  rmSync(dir, { recursive: true, force: true });
});

describe("prune_images on a real dockerd", () => {
  it("the private dockerd runs in its own network namespace: the host's docker0 is left as it was", async () => {
    expect(await hostBridge()).toBe(bridgeBefore);
    const inside = await run("docker", ["info", "--format", "{{.Name}}"], { env });
    expect(inside.code, inside.stderr).toBe(0);
  });

  it("removes nothing younger than the age limit, and says when the kept list is missing", async () => {
    const before = await images();
    const res = await prune(join(dir, "no-such-file"), "604800");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split("\n")).toEqual([
      `app-infra-prune-images: no ${join(dir, "no-such-file")} (pulumi up writes it); sparing only the images in use`,
      "app-infra-prune-images: removed 0 image(s); kept 1 in use, 0 of the last releases, 7 younger than 604800 s, 0 with child images",
    ]);
    expect(await images()).toEqual(before);
  });

  it("refuses an age that is not a whole number of seconds, before touching anything", async () => {
    const res = await prune(keptFile, "7d");
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(
      "app-infra-prune-images: MAX_AGE_S must be a whole number of seconds, got '7d'",
    );
  });

  it("stops before removing anything when Docker does not answer", async () => {
    const res = await prune(keptFile, "0", {
      ...process.env,
      DOCKER_HOST: `unix://${join(dir, "nothing.sock")}`,
    });
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toContain("removed");
    expect((await images()).length).toBeGreaterThan(0);
  });

  it("with age 0 removes the unused, the dangling and the twice-tagged image, and spares the kept, the used and a kept image's base", async () => {
    const res = await prune(keptFile, "0");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe(
      "app-infra-prune-images: removed 3 image(s); kept 1 in use, 3 of the last releases, 0 younger than 0 s, 1 with child images",
    );
    expect(await images()).toEqual(
      [
        `${ids.kept} app/kept:1`,
        `${ids.moving} app/moving:1`,
        `${ids.used} app/used:1`,
        `${ids.child} app/child:1`,
        `${ids.parent} app/parent:1`,
      ].sort(),
    );
    // The stopped container still has its image.
    expect((await docker(["container", "inspect", "--format", "{{.Image}}", "stopped"])).stdout.trim()).toBe(
      ids.used,
    );
  });
});
