import { describe, expect, it } from "vitest";
import { goDuration, repositoryOf } from "../../components/app";

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

describe("healthcheck durations, written as Go prints them (the provider reads them back so)", () => {
  it.each([
    [0, "0s"],
    [5, "5s"],
    [59, "59s"],
    [60, "1m0s"],
    [90, "1m30s"],
    [3600, "1h0m0s"],
    [3725, "1h2m5s"],
  ])("%i s → %s", (s, text) => {
    expect(goDuration(s)).toBe(text);
  });
});
