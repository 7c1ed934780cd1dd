// src/plan/releases.ts: the `releases` stack output, newest first, a new entry only for new images.
import { describe, expect, it } from "vitest";
import {
  currentImages,
  digestOf,
  keptImages,
  keptImagesFile,
  nextReleases,
  readReleases,
  RELEASE_SERVICES,
  type Release,
} from "../../src/plan/releases";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const pinned = (c: string) => ({
  api: `ghcr.io/acme/api@${d(c)}`,
  bot: `ghcr.io/acme/bot@${d(c)}`,
  worker: `ghcr.io/acme/api@${d(c)}`,
});
const tags = { api: "ghcr.io/acme/api:1.0", bot: "ghcr.io/acme/bot:1.0", worker: "ghcr.io/acme/api:1.0" };
const images = (c: string) => currentImages(tags, pinned(c));
const at = (n: number) => ({ date: `2026-11-2${n}T10:00:00.000Z`, commit: `c${n}` });

describe("digestOf", () => {
  it("is the sha256 digest of a pinned reference, null for a tag", () => {
    expect(digestOf(`ghcr.io/acme/api@${d("a")}`)).toBe(d("a"));
    expect(digestOf("ghcr.io/acme/api:1.0")).toBeNull();
    expect(digestOf("localhost:5000/api:sha256")).toBeNull();
    expect(digestOf("ghcr.io/acme/api@sha256:abc")).toBeNull();
  });
});

describe("currentImages", () => {
  it("records the configured reference, the pulled one and its digest for api, bot and worker", () => {
    expect(Object.keys(images("a"))).toEqual([...RELEASE_SERVICES]);
    expect(images("a").bot).toEqual({ reference: tags.bot, image: pinned("a").bot, digest: d("a") });
  });

  it("with imageDigests off, the reference as given and no digest", () => {
    expect(currentImages(tags, tags).api).toEqual({ reference: tags.api, image: tags.api, digest: null });
  });
});

describe("nextReleases", () => {
  it("starts the list on a first deploy (the stack has no output yet)", () => {
    expect(nextReleases(undefined, images("a"), at(1), 5)).toEqual([{ ...at(1), images: images("a") }]);
  });

  it("gives back the same list, date and commit included, when the images did not change", () => {
    const first = nextReleases(undefined, images("a"), at(1), 5);
    expect(nextReleases(first, images("a"), at(2), 5)).toEqual(first);
    // A new spelling of the same image (a tag pinned by hand to its digest) is no new release.
    expect(nextReleases(first, currentImages(pinned("a"), pinned("a")), at(2), 5)).toEqual(first);
  });

  it("prepends a release when any one service's image changes, and keeps the newest `keep`", () => {
    let list: Release[] = [];
    for (const [i, c] of ["a", "b", "c", "d"].entries()) list = nextReleases(list, images(c), at(i), 3);
    expect(list.map((r) => r.commit)).toEqual(["c3", "c2", "c1"]);
    const botOnly = { ...images("d"), bot: images("e").bot };
    expect(nextReleases(list, botOnly, at(9), 3).map((r) => r.commit)).toEqual(["c9", "c3", "c2"]);
    expect(nextReleases(list, images("d"), at(9), 1).map((r) => r.commit)).toEqual(["c3"]);
  });

  it("records a rollback to an older release as a new release (it is deployed again)", () => {
    const list = nextReleases(nextReleases(undefined, images("a"), at(1), 5), images("b"), at(2), 5);
    expect(nextReleases(list, images("a"), at(3), 5).map((r) => r.commit)).toEqual(["c3", "c2", "c1"]);
  });

  it("drops entries of another shape instead of failing the deploy", () => {
    const good = nextReleases(undefined, images("a"), at(1), 5);
    expect(readReleases([{ date: "x" }, ...good, 7, null])).toEqual(good);
    expect(readReleases({ releases: good })).toEqual([]);
    expect(readReleases([{ ...good[0], images: { api: good[0]!.images.api } }])).toEqual([]);
  });

  it("refuses a keep outside 1..20 (the config key's range)", () => {
    expect(() => nextReleases(undefined, images("a"), at(1), 0)).toThrow(/keep must be 1..20, got 0/);
    expect(() => nextReleases(undefined, images("a"), at(1), 21)).toThrow(/got 21/);
  });
});

describe("keptImages", () => {
  it("lists every release's pulled images once, sorted", () => {
    const list = nextReleases(nextReleases(undefined, images("a"), at(1), 5), images("b"), at(2), 5);
    expect(keptImages(list)).toEqual([
      `ghcr.io/acme/api@${d("a")}`,
      `ghcr.io/acme/api@${d("b")}`,
      `ghcr.io/acme/bot@${d("a")}`,
      `ghcr.io/acme/bot@${d("b")}`,
    ]);
  });

  it("the file the prune reads: one reference per line, each ended by a newline; no releases, no lines", () => {
    const list = nextReleases(nextReleases(undefined, images("a"), at(1), 5), images("b"), at(2), 5);
    expect(keptImagesFile(list)).toBe(keptImages(list).join("\n") + "\n");
    expect(keptImagesFile(list).split("\n")).toHaveLength(5);
    expect(keptImagesFile([])).toBe("");
  });
});
