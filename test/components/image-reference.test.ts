import { describe, expect, it } from "vitest";
import { repositoryOf } from "../../components/app";

describe("the repository of an image reference (the digest replaces its tag)", () => {
  it.each([
    ["redis:7.4.6-alpine", "redis"],
    ["ghcr.io/acme/app:1.4.2", "ghcr.io/acme/app"],
    ["registry.example:5000/team/app:latest", "registry.example:5000/team/app"],
    ["registry.example:5000/team/app", "registry.example:5000/team/app"],
    ["ghcr.io/acme/app:1.4.2@sha256:abc", "ghcr.io/acme/app"],
    ["app", "app"],
  ])("%s → %s", (ref, repo) => {
    expect(repositoryOf(ref)).toBe(repo);
  });
});
