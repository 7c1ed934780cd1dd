import { describe, expect, it } from "vitest";
import { imageReferenceProblem, parseImageReference, redisImageAdvice } from "../../src/config/image-ref";

const sha = (n: number) => "a".repeat(n);

describe("Docker image references, as distribution/reference parses them", () => {
  it.each([
    ["redis:7.4.6-alpine", { domain: "docker.io", path: "library/redis", tag: "7.4.6-alpine" }],
    ["ghcr.io/acme/app-api:1.4.2", { domain: "ghcr.io", path: "acme/app-api", tag: "1.4.2" }],
    ["acme/app", { domain: "docker.io", path: "acme/app", tag: undefined }],
    ["index.docker.io/acme/app:1", { domain: "docker.io", path: "acme/app", tag: "1" }],
    ["localhost/app:dev", { domain: "localhost", path: "app", tag: "dev" }],
    ["localhost:5000/team/app:v1", { domain: "localhost:5000", path: "team/app", tag: "v1" }],
    ["[2001:db8::1]:5000/app:1", { domain: "[2001:db8::1]:5000", path: "app", tag: "1" }],
    ["Registry.Example.com/app", { domain: "Registry.Example.com", path: "app", tag: undefined }],
    ["ghcr.io/a/b__c/d---e.f_g:T_1.x-2", { domain: "ghcr.io", path: "a/b__c/d---e.f_g", tag: "T_1.x-2" }],
  ])("%s is a reference", (text, ref) => {
    expect(parseImageReference(text)).toEqual({ ok: true, ref: { ...ref, digest: undefined } });
  });

  it("keeps a tag and a digest together", () => {
    const digest = `sha256:${sha(64)}`;
    expect(parseImageReference(`ghcr.io/acme/app:1.4@${digest}`)).toEqual({
      ok: true,
      ref: { domain: "ghcr.io", path: "acme/app", tag: "1.4", digest },
    });
  });

  it.each([
    ["", "it is empty"],
    ["ghcr.io/acme/app 1.4", "it contains white space"],
    ["ghcr.io/Acme/App:1.4", 'the repository path "Acme/App" must be lower case'],
    ["Redis:7", 'the repository path "Redis" must be lower case'],
    ["ghcr.io/acme/app:1.4:5", 'only one :tag may follow the repository name (got "app:1.4:5")'],
    [`app:${"x".repeat(129)}`, "the tag is longer than 128 characters"],
    ["ghcr.io//app", "it has an empty path component"],
    ["app/", "it has an empty path component"],
    ["app:-1", "it does not follow Docker's grammar name[:tag][@digest]"],
    ["ghcr.io/acme/-app", "it does not follow Docker's grammar name[:tag][@digest]"],
    ["ghcr.io/acme/app._x", "it does not follow Docker's grammar name[:tag][@digest]"],
    [sha(64), "a 64-character hex string is an image ID, which Docker refuses as a name"],
    [`acme/${"a".repeat(251)}`, "the repository path is 256 characters, more than 255"],
    [`app@md5:${sha(32)}`, 'digest algorithm "md5" is not one Docker knows (sha256, sha384, sha512)'],
    [`app@sha256:${sha(63)}`, "a sha256 digest is 64 lower-case hex digits"],
    [`app@sha256:${"A".repeat(64)}`, "a sha256 digest is 64 lower-case hex digits"],
  ])("%s is refused: %s", (text, why) => {
    expect(imageReferenceProblem(text)).toBe(why);
  });

  it("takes the longest allowed path and the sha512 digest", () => {
    expect(imageReferenceProblem(`acme/${"a".repeat(250)}`)).toBeUndefined();
    expect(imageReferenceProblem(`app@sha512:${sha(128)}`)).toBeUndefined();
    expect(imageReferenceProblem(`app@sha384:${sha(96)}`)).toBeUndefined();
  });

  it("answers quickly on a long near-miss (no catastrophic backtracking)", () => {
    const start = Date.now();
    imageReferenceProblem(`${"a-".repeat(5000)}!`);
    imageReferenceProblem(`${"a".repeat(5000)}.${"b-".repeat(5000)}/x!`);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});

describe("images/redis advice (row 38)", () => {
  it("is quiet for a 7.x tag or a digest", () => {
    expect(redisImageAdvice("redis:7.4.6-alpine")).toBeUndefined();
    expect(redisImageAdvice("redis:7")).toBeUndefined();
    expect(redisImageAdvice("mirror.example/redis:7.2")).toBeUndefined();
    expect(redisImageAdvice(`redis@sha256:${sha(64)}`)).toBeUndefined();
  });
  it("warns for latest, no tag, or another major", () => {
    expect(redisImageAdvice("redis:latest")).toBe(
      'images/redis: "redis:latest" is tagged "latest", not a Redis 7.x release: the program\'s Redis settings are written for 7.x and a moving tag changes Redis under a running queue; pin a 7.x tag such as redis:7.4.6-alpine',
    );
    expect(redisImageAdvice("redis")).toMatch(
      /^images\/redis: "redis" has no tag \(Docker pulls :latest\), not a Redis 7\.x release/,
    );
    expect(redisImageAdvice("redis:8.0")).toMatch(/is tagged "8\.0"/);
    expect(redisImageAdvice("redis:70")).toMatch(/is tagged "70"/);
  });
});
