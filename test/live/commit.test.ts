// src/live/commit.ts: the commit a release records.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gitCommit } from "../../src/live/commit";

const dir = mkdtempSync(join(tmpdir(), "app-infra-commit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("gitCommit", () => {
  it("is GITHUB_SHA when CI sets it", () => {
    expect(gitCommit({ GITHUB_SHA: "abc123" }, dir)).toBe("abc123");
  });

  it("else HEAD of the repository the program runs from", () => {
    const repo = join(dir, "repo");
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
        encoding: "utf8",
      }).trim();
    execFileSync("git", ["init", "-q", repo]);
    writeFileSync(join(repo, "f"), "x");
    git("add", "f");
    git("commit", "-qm", "one");
    expect(gitCommit({ PATH: process.env.PATH }, repo)).toBe(git("rev-parse", "HEAD"));
    expect(gitCommit({ PATH: process.env.PATH, GITHUB_SHA: "" }, repo)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('else "unknown" (no repository), never an error', () => {
    const plain = mkdtempSync(join(dir, "plain-"));
    // The ceiling keeps git from finding a repository above the temporary directory.
    expect(gitCommit({ ...process.env, GITHUB_SHA: "", GIT_CEILING_DIRECTORIES: dir }, plain)).toBe(
      "unknown",
    );
  });
});
