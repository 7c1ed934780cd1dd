// Runs every `npm run … plan` command in the README's shell blocks exactly as written, in order
// (one writes base.json, a later one reads it), in a scratch git repository that holds the shipped
// stack files: each must exit 0, and each `--json` must leave exactly one JSON document.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(__dirname, "..", "..");

export function readmePlanCommands(readme: string): string[] {
  const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.split("\n")).filter((l) => /^npm run\b.*\bplan\b/.test(l.trim()));
}

describe("the README's plan commands", () => {
  const commands = readmePlanCommands(readFileSync(join(root, "README.md"), "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "app-infra-readme-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ["package.json", "tsconfig.json", "node_modules", "src"])
    symlinkSync(join(root, f), join(dir, f));
  for (const f of readdirSync(root).filter((x) => /^Pulumi\..*\.yaml$/.test(x)))
    copyFileSync(join(root, f), join(dir, f));
  const git = (...args: string[]) =>
    spawnSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir });
  git("init", "--quiet");
  git("add", "--", ...readdirSync(dir).filter((x) => /^Pulumi\./.test(x)));
  git("commit", "--quiet", "-m", "stacks");

  it("are there (the Plan offline section lists at least five)", () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
  });

  it.each(commands.map((c) => [c]))("%s", (command) => {
    const r = spawnSync("bash", ["-c", command], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    if (command.includes("--json")) {
      const redirect = /> *(\S+)/.exec(command.replace(/#.*$/, ""));
      const text = redirect ? readFileSync(join(dir, redirect[1]!), "utf8") : r.stdout;
      expect(() => JSON.parse(text)).not.toThrow();
      expect(JSON.parse(text).deployable).toBe(true);
    } else {
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });
});
