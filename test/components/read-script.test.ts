// What is shipped of a host script: readScript (components/host.ts) inlines the scripts/lib/*.sh a
// script sources, through inlineLibraries (src/plan/inline.ts), because a script travels alone on
// the SSH stdin or is installed on the host as one file. Pinned here: the inlining rules and their
// errors, and for every script that the shipped text sources nothing, carries each library's
// functions once and parses; then the shipped text run alone, away from scripts/lib.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { readScript, SCRIPTS_DIR } from "../../components/host";
import { INLINE_MARK, inlineLibraries, inlineLine } from "../../src/plan/inline";

const libs = (files: Record<string, string>) => (path: string) => files[path];
const MARKED_A = 'source "$(dirname "${BASH_SOURCE[0]}")/lib/a-1.sh" # app-infra:inline';

describe("inlineLibraries", () => {
  it("replaces a marked line with the library's text without its shebang, between comments naming it", () => {
    const text = [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      MARKED_A,
      "main() { f; }",
      'main "$@"',
      "",
    ].join("\n");
    expect(
      inlineLibraries("x.sh", text, libs({ "lib/a-1.sh": "#!/usr/bin/env bash\n# a\nf() { :; }\n" })),
    ).toBe(
      [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        "# --- scripts/lib/a-1.sh, inlined ---",
        "# a",
        "f() { :; }",
        "# --- end of scripts/lib/a-1.sh ---",
        "main() { f; }",
        'main "$@"',
        "",
      ].join("\n"),
    );
  });

  it("keeps a library without a shebang or a final newline whole, and only a first-line shebang is dropped", () => {
    const out = (lib: string) => inlineLibraries("x.sh", `${MARKED_A}\n`, libs({ "lib/a-1.sh": lib }));
    expect(out("f() { :; }")).toBe(
      "# --- scripts/lib/a-1.sh, inlined ---\nf() { :; }\n# --- end of scripts/lib/a-1.sh ---\n",
    );
    expect(out("# x\n#!not-first\n")).toBe(
      "# --- scripts/lib/a-1.sh, inlined ---\n# x\n#!not-first\n# --- end of scripts/lib/a-1.sh ---\n",
    );
  });

  it("leaves a text without marked lines as it is, and two libraries in one script each once", () => {
    const plain = "#!/bin/bash\nsource ./x.sh\n";
    expect(inlineLibraries("x.sh", plain, () => undefined)).toBe(plain);
    const two = `${inlineLine("lib/a.sh")}\n${inlineLine("lib/b.sh")}`;
    expect(inlineLibraries("x.sh", two, libs({ "lib/a.sh": "A\n", "lib/b.sh": "B\n" }))).toBe(
      [
        "# --- scripts/lib/a.sh, inlined ---",
        "A",
        "# --- end of scripts/lib/a.sh ---",
        "# --- scripts/lib/b.sh, inlined ---",
        "B",
        "# --- end of scripts/lib/b.sh ---",
      ].join("\n"),
    );
  });

  it("inlineLine writes the line inlineLibraries accepts, ending with the mark", () => {
    expect(inlineLine("lib/a-1.sh")).toBe(MARKED_A);
    expect(MARKED_A.endsWith(` ${INLINE_MARK}`)).toBe(true);
  });

  it.each([
    [
      "a marked line of another form",
      `x\nsource lib/a.sh ${INLINE_MARK}`,
      'scripts/x.sh:2: a line marked \'# app-infra:inline\' should read: source "$(dirname "${BASH_SOURCE[0]}")/lib/NAME.sh" # app-infra:inline',
    ],
    ["an indented one", `  ${inlineLine("lib/a.sh")}`, "scripts/x.sh:1: a line marked"],
    ["one reaching out of lib/", inlineLine("lib/../a.sh"), "scripts/x.sh:1: a line marked"],
    ["one outside lib/", inlineLine("a.sh"), "scripts/x.sh:1: a line marked"],
    ["one with more after the mark", `${inlineLine("lib/a.sh")} x`, "scripts/x.sh:1: a line marked"],
    ["one with a capital letter", inlineLine("lib/A.sh"), "scripts/x.sh:1: a line marked"],
    [
      "a library that does not exist",
      `\n\n${inlineLine("lib/none.sh")}`,
      "scripts/x.sh:3: scripts/lib/none.sh: no such library",
    ],
    [
      "a library inlined twice",
      `${inlineLine("lib/a.sh")}\n${inlineLine("lib/a.sh")}`,
      "scripts/x.sh:2: scripts/lib/a.sh is inlined a second time",
    ],
    [
      "a library that inlines another",
      `#\n${inlineLine("lib/nested.sh")}`,
      "scripts/x.sh:2: scripts/lib/nested.sh:3 is marked '# app-infra:inline'; a library cannot inline another",
    ],
    [
      "one whose first line inlines",
      inlineLine("lib/first.sh"),
      "scripts/x.sh:1: scripts/lib/first.sh:1 is marked",
    ],
  ])("refuses %s, naming the file and line", (_what, text, message) => {
    const read = libs({
      "lib/a.sh": "A\n",
      "lib/nested.sh": `#!/bin/bash\n# n\n${inlineLine("lib/a.sh")}\n`,
      "lib/first.sh": `${inlineLine("lib/a.sh")}\n`,
    });
    expect(() => inlineLibraries("x.sh", text, read)).toThrow(message);
  });
});

// Which libraries each script inlines; a new use is added here on purpose.
const USES: Record<string, string[]> = {
  "install-docker.sh": ["lib/apt.sh", "lib/prune-images.sh"],
  "install-backup.sh": ["lib/apt.sh", "lib/installer.sh", "lib/backup-settings.sh"],
  "install-watchdog.sh": ["lib/installer.sh"],
  "backup-redis.sh": ["lib/backup-settings.sh"],
  "restore-redis.sh": ["lib/backup-settings.sh"],
  "swarm-firewall.sh": ["lib/apt.sh"],
  "swarm-init.sh": ["lib/swarm.sh"],
  "swarm-join.sh": ["lib/swarm.sh"],
  "swarm-node.sh": ["lib/swarm.sh"],
};
const scripts = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".sh"));
const raw = (f: string) => readFileSync(join(SCRIPTS_DIR, f), "utf8");
const functionsOf = (text: string) =>
  [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{/gm)].map((m) => m[1]);

describe("readScript: the shipped text of every script", () => {
  it("the libraries are the ones the scripts use, each used", () => {
    const inLib = readdirSync(join(SCRIPTS_DIR, "lib")).map((f) => `lib/${f}`);
    expect([...new Set(Object.values(USES).flat())].sort()).toEqual(inLib.sort());
    for (const f of scripts) {
      const used = [...raw(f).matchAll(/\/(lib\/[^"]+)" # app-infra:inline$/gm)].map((m) => m[1]);
      expect(used, f).toEqual(USES[f] ?? []);
    }
  });

  it.each(scripts)("%s: sources nothing, holds each library function once, and bash -n parses it", (f) => {
    const shipped = readScript(f);
    expect(shipped.split("\n").filter((l) => /^\s*(source|\.)\s/.test(l))).toEqual([]);
    expect(shipped).not.toContain(INLINE_MARK);
    const defined = functionsOf(shipped);
    for (const lib of USES[f] ?? []) {
      const fns = functionsOf(raw(lib));
      expect(fns.length, lib).toBeGreaterThan(0);
      for (const fn of fns)
        expect(
          defined.filter((d) => d === fn),
          `${f}: ${fn}()`,
        ).toHaveLength(1);
    }
    expect(new Set(defined).size, `${f}: a function defined twice`).toBe(defined.length);
    const r = spawnSync("bash", ["-n"], { input: shipped, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("a script without libraries is shipped as it is", () => {
    expect(readScript("setup-swap.sh")).toBe(raw("setup-swap.sh"));
  });

  it("a script naming a library that is not there fails, naming the script and line", () => {
    const dir = mkdtempSync(join(tmpdir(), "read-script-"));
    try {
      writeFileSync(join(dir, "x.sh"), `#!/bin/bash\n${inlineLine("lib/gone.sh")}\n`);
      expect(() => readScript("x.sh", dir)).toThrow("scripts/x.sh:2: scripts/lib/gone.sh: no such library");
      mkdirSync(join(dir, "lib"));
      writeFileSync(join(dir, "lib", "gone.sh"), "#!/bin/bash\ng() { :; }\n");
      expect(readScript("x.sh", dir)).toContain("\ng() { :; }\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The shipped text run where no scripts/lib is next to it (as on the host), on the first check
// the libraries' load_file makes: the messages are pinned, and backup-redis.sh still records its
// failure for the watchdog (its die records, and load_file dies).
describe("the shipped backup scripts run alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "shipped-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = join(dir, "backup.env");
  writeFileSync(env, "RESTIC_REPOSITORY=s3:http://127.0.0.1:1/b\nPASSWORD=x\n");
  const runShipped = (f: string, args: string[]) => {
    const path = join(dir, f);
    writeFileSync(path, readScript(f));
    return spawnSync("bash", [path, ...args], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        BACKUP_ENV: env,
        STATE_DIR: join(dir, "state"),
        LOCK_FILE: join(dir, "lock"),
      },
    });
  };

  it("restore-redis.sh names the unknown key and the allowed ones", () => {
    const r = runShipped("restore-redis.sh", ["--list"]);
    expect(r.stderr).toBe(
      `app-infra-restore: ${env}:2: PASSWORD: unknown key (allowed: RESTIC_REPOSITORY KEEP_DAILY KEEP_WEEKLY STACK)\n`,
    );
    expect(r.status).toBe(1);
  });

  it("from a checkout the raw file sources its library, by any path", () => {
    const opts = (cwd: string) => ({
      cwd,
      encoding: "utf8" as const,
      env: { PATH: process.env.PATH, BACKUP_ENV: env },
    });
    const fromRoot = spawnSync("bash", [join(SCRIPTS_DIR, "restore-redis.sh"), "--list"], opts(dir));
    const fromScripts = spawnSync("bash", ["restore-redis.sh", "--list"], opts(SCRIPTS_DIR));
    for (const r of [fromRoot, fromScripts]) {
      expect(r.stderr).toContain(": PASSWORD: unknown key (allowed: ");
      expect(r.status).toBe(1);
    }
  });

  it("backup-redis.sh says the same and records the failure", () => {
    const r = runShipped("backup-redis.sh", []);
    const message = `${env}:2: PASSWORD: unknown key (allowed: RESTIC_REPOSITORY KEEP_DAILY KEEP_WEEKLY STACK)`;
    expect(r.stderr).toBe(`app-infra-backup: ${message}\n`);
    expect(r.status).toBe(1);
    expect(readFileSync(join(dir, "state", "backup-last-run"), "utf8")).toMatch(
      new RegExp(`^\\d+ failed ${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n$`),
    );
  });
});

describe("SCRIPTS_DIR", () => {
  it("is the repository's scripts/ folder (loaded inside the test, so mutation testing scores it)", async () => {
    vi.resetModules();
    const fresh = await import("../../components/host");
    expect(fresh.SCRIPTS_DIR).toBe(join(__dirname, "..", "..", "scripts"));
  });
});
