// The `releases` stack output (components/releases.ts, src/plan/releases.ts): the stack's own
// previous list, read through a StackReference to itself, plus this deploy's images. Each run is
// its own process (record), with the previous output the mocked self-reference answers.
import { beforeAll, describe, expect, it } from "vitest";
import { KEPT_IMAGES_FILE, keptImagesFile } from "../../src/plan/releases";
import { mockDigest } from "../support/mocks";
import { record, type Recording } from "../support/record";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const secrets = { botToken: "123:bot-token-secret" };
const images = { api: "ghcr.io/acme/api:1.0", bot: "ghcr.io/acme/bot:1.0", worker: "ghcr.io/acme/api:1.0" };
const base = { stage: 1, images, ...secrets };
const self = "organization/app-infra/dev";
const pinned = (ref: string) => `${ref.split(":")[0]}@${mockDigest(ref)}`;

const older = {
  date: "2026-11-01T00:00:00.000Z",
  commit: "f".repeat(40),
  images: Object.fromEntries(
    Object.keys(images).map((s) => [
      s,
      {
        reference: "ghcr.io/acme/api:0.9",
        image: `ghcr.io/acme/api@sha256:${"9".repeat(64)}`,
        digest: `sha256:${"9".repeat(64)}`,
      },
    ]),
  ),
};

const runs: Record<string, Recording> = {};
const run = (k: string, config: Record<string, unknown>, previous?: unknown[], stack = "dev") =>
  record(stack, config, ["botToken"], {
    stackOutputs: previous ? { [`organization/app-infra/${stack}`]: { releases: previous } } : undefined,
    env: { GITHUB_SHA: SHA },
  }).then((r) => (runs[k] = r));

beforeAll(async () => {
  await run("first", base);
  await Promise.all([
    run("again", base, runs.first!.outputs.releases),
    run("older", base, [older]),
    run("keep1", { ...base, releases: { keep: 1 } }, [older]),
    run("off", { ...base, imageDigests: "off" }),
    run("local", { ...base, target: "local" }, undefined, "local"),
  ]);
}, 120_000);

describe("the releases output", () => {
  it("reads the stack's own previous outputs through a StackReference named organization/app-infra/<stack>", () => {
    const refs = runs.first!.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
    expect(refs.map((r) => [r.name, r.inputs.name])).toEqual([["releases", self]]);
  });

  it("on a first deploy (no outputs yet) records one release: api, bot and worker by digest, the date and GITHUB_SHA", () => {
    const [r, ...rest] = runs.first!.outputs.releases;
    expect(rest).toEqual([]);
    expect(r.commit).toBe(SHA);
    expect(Date.parse(r.date)).not.toBeNaN();
    expect(Object.keys(r.images)).toEqual(["api", "bot", "worker"]);
    expect(r.images.bot).toEqual({
      reference: images.bot,
      image: pinned(images.bot),
      digest: mockDigest(images.bot),
    });
  });

  it("is unchanged, date included, when the deploy runs the same images (a no-change preview shows no diff)", () => {
    expect(runs.again!.outputs.releases).toEqual(runs.first!.outputs.releases);
  });

  it("prepends the new release to the previous ones, and keeps releases/keep of them", () => {
    const list = runs.older!.outputs.releases;
    expect(list).toHaveLength(2);
    expect(list[1]).toEqual(older);
    expect(list[0].images.api.image).toBe(pinned(images.api));
    expect(runs.keep1!.outputs.releases.map((r: { commit: string }) => r.commit)).toEqual([SHA]);
  });

  it("with imageDigests off records the references as given, without a digest", () => {
    expect(runs.off!.outputs.releases[0].images.api).toEqual({
      reference: images.api,
      image: images.api,
      digest: null,
    });
  });

  it("is recorded on the local target too", () => {
    expect(runs.local!.outputs.releases[0].images.worker.image).toBe(pinned(images.worker));
  });
});

describe("the kept-images list on the server (the weekly prune spares what it names)", () => {
  const kept = (k: string) => runs[k]!.resources.find((r) => r.name === "kept-images");

  it("writes every recorded release's pulled images, one per line, to KEPT_IMAGES_FILE over the pinned SSH login", () => {
    const c = kept("older")!;
    expect(c.type).toBe("command:remote:Command");
    expect(c.inputs.create).toBe(`install -D -m 0644 /dev/stdin ${KEPT_IMAGES_FILE}`);
    expect(c.inputs.stdin).toBe(keptImagesFile(runs.older!.outputs.releases));
    // The new release's images and the older release's one.
    expect(c.inputs.stdin).toBe(
      [pinned(images.api), pinned(images.bot), older.images.api.image].sort().join("\n") + "\n",
    );
    expect(c.inputs.connection.hostKey).toMatch(/^ssh-ed25519 /);
    expect(c.inputs.addPreviousOutputInEnv).toBe(false);
  });

  it("follows releases/keep: with keep 1 only this release's images", () => {
    expect(kept("keep1")!.inputs.stdin).toBe(
      [pinned(images.api), pinned(images.bot)].sort().join("\n") + "\n",
    );
  });

  it("runs after Docker is installed; the local target has no server and no list", () => {
    expect(runs.older!.options["kept-images"]!.dependsOn).toEqual(["host-docker"]);
    expect(kept("local")).toBeUndefined();
  });
});
