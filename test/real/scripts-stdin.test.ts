// The host scripts arrive on stdin (`bash -s`, components/host.ts), and bash reads such a script only
// as far as the command it runs next. A child that reads stdin (dpkg's conffile prompt, a
// maintainer script) would swallow the rest, and bash would exit 0 with half the work undone
// (review-noble F6, reproduced: "start", then nothing, rc 0). Two rules keep that from happening,
// checked here on the shipped text of every scripts/*.sh (readScript: scripts/lib/*.sh inlined in
// place of the marked `source` lines, so the library's code is checked where it runs) so a new
// script is covered without touching this file:
//   1. all the work is in functions; the last line calls `main "$@"`, so bash has read the whole
//      file before anything runs;
//   2. apt-get and dpkg get </dev/null, dpkg's conffile choices and needrestart held off.
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { readScript } from "../../components/host";

const SCRIPTS_DIR = resolve(__dirname, "../../scripts");
const scripts = readdirSync(SCRIPTS_DIR)
  .filter((f) => f.endsWith(".sh"))
  .sort();
// Installed as a file by install-watchdog.sh (base64 in its payload) and run from that file by
// systemd, never read from stdin; its top level fills tables at start-up, which is fine there.
const NOT_FROM_STDIN = new Set(["watchdog.sh"]);
const fromStdin = scripts.filter((f) => !NOT_FROM_STDIN.has(f));
const text = (f: string) => readScript(f);

/**
 * The lines bash runs at the top level, outside function bodies and here-documents: a function
 * starts with `name() {` at column 0 and ends with `}` at column 0 (the house layout, which shfmt
 * keeps); a here-document ends at its delimiter.
 */
function topLevelLines(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let heredocEnd: string | undefined;
  for (const line of source.split("\n")) {
    if (heredocEnd !== undefined) {
      if (line.trim() === heredocEnd) heredocEnd = undefined;
      continue;
    }
    const here = /<<-?\s*(['"]?)([A-Za-z_]+)\1/.exec(line.replace(/<<</g, ""));
    if (here) heredocEnd = here[2];
    if (depth === 0 && /^[A-Za-z_][A-Za-z0-9_]*\(\)\s*\{/.test(line)) {
      // `f() { ...; }` on one line defines and ends; `f() {` or `f() { # note` opens a body.
      if (!/\{\s*(#.*)?$/.test(line)) continue;
      depth++;
      continue;
    }
    if (depth > 0) {
      if (line === "}") depth--;
      continue;
    }
    out.push(line);
  }
  return out;
}

/** Joins backslash-continued lines, drops comments and blank lines. */
function commands(source: string): string[] {
  return source
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The command word of a line: after `if`, `!`, `then`, `do`, `elif` and VAR=value prefixes. */
function commandWord(line: string): string {
  let rest = line;
  for (;;) {
    const m = /^(?:if|then|do|elif|while|until|!|[A-Za-z_][A-Za-z0-9_]*=\S*)\s+/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
  }
  return rest.split(/\s/)[0] ?? "";
}

// The shell options, variables set without running anything (no command substitution, no
// redirection, no second command), and the call of main: nothing that can read stdin.
const ALLOWED_TOP_LEVEL = [
  /^#/,
  /^$/,
  /^set -euo pipefail$/,
  /^umask [0-7]+$/,
  /^(?:readonly |declare -[aAr]+ |export )?[A-Za-z_][A-Za-z0-9_]*=(?!.*(?:\$\(|`|[;&|<>]|\)\s*\S))\S.*$|^(?:readonly |declare -[aAr]+ )?[A-Za-z_][A-Za-z0-9_]*=$/,
  /^main "\$@"$/,
];

describe("host scripts survive arriving on stdin", () => {
  it("finds the scripts the program runs as `bash -s`", () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        "wait-host-ready.sh",
        "install-admin-keys.sh",
        "setup-swap.sh",
        "install-docker.sh",
        "install-watchdog.sh",
        "status.sh",
      ]),
    );
  });

  it.each(scripts)('%s: the last non-empty line is `main "$@"`, and main is defined once', (f) => {
    const lines = text(f)
      .split("\n")
      .filter((l) => l.trim() !== "");
    expect(lines.at(-1)).toBe('main "$@"');
    expect(lines.filter((l) => /^main\(\)\s*\{/.test(l))).toHaveLength(1);
  });

  it.each(fromStdin)("%s: nothing but constants and function definitions runs before main", (f) => {
    const stray = topLevelLines(text(f)).filter((l) => !ALLOWED_TOP_LEVEL.some((re) => re.test(l)));
    expect(stray, `top-level commands in scripts/${f} (move them into main)`).toEqual([]);
  });

  it.each(scripts)(
    "%s: every apt-get or dpkg reads /dev/null, keeps local conffiles and holds needrestart off",
    (f) => {
      for (const line of commands(text(f))) {
        const word = commandWord(line);
        if (word !== "apt-get" && word !== "apt" && word !== "dpkg") continue;
        expect(line, `scripts/${f}: ${word} must not read the script's stdin`).toMatch(/<\s*\/dev\/null/);
        if (word === "dpkg") continue;
        expect(line, `scripts/${f}: conffile prompts read stdin`).toContain(
          "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold",
        );
        expect(line, `scripts/${f}: debconf`).toContain("DEBIAN_FRONTEND=noninteractive");
        expect(line, `scripts/${f}: needrestart's apt hook`).toContain("NEEDRESTART_SUSPEND=1");
      }
    },
  );

  it("install-docker.sh calls apt-get (so the rule above is exercised)", () => {
    expect(commands(text("install-docker.sh")).filter((l) => commandWord(l) === "apt-get")).toHaveLength(1);
  });

  // The checks above are only as good as their parser: they must catch the shapes they target.
  it("the checks catch a script with a top-level command, a missing main call or a bare apt-get", () => {
    const bad = [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      "X=$(cat)",
      "apt-get update",
      "Y=1; cat",
      "say() { echo; }",
      "main() {",
      "  echo hi",
      "}",
      'main "$@"',
      "",
    ].join("\n");
    expect(topLevelLines(bad).filter((l) => !ALLOWED_TOP_LEVEL.some((re) => re.test(l)))).toEqual([
      "X=$(cat)",
      "apt-get update",
      "Y=1; cat",
    ]);
    const heredoc = ["f() {", "  cat <<'EOF'", "}", "EOF", "}", "X=1"].join("\n");
    expect(topLevelLines(heredoc)).toEqual(["X=1"]);
    expect(commandWord("if DEBIAN_FRONTEND=noninteractive A=1 apt-get -q update </dev/null; then")).toBe(
      "apt-get",
    );
  });

  // What rule 1 buys, shown with bash itself: a child that drains stdin ends a plain script early
  // with exit 0, but not one whose work is in main.
  it("bash -s: a stdin-reading child truncates a plain script silently, not a main-wrapped one", () => {
    const plain = 'echo start\ncat >/dev/null\necho "after child"\nexit 7\n';
    const wrapped = 'main() {\necho start\ncat >/dev/null\necho "after child"\nexit 7\n}\nmain "$@"\n';
    const runIt = (s: string) => spawnSync("bash", ["-s"], { input: s, encoding: "utf8" });
    expect([runIt(plain).stdout, runIt(plain).status]).toEqual(["start\n", 0]);
    expect([runIt(wrapped).stdout, runIt(wrapped).status]).toEqual(["start\nafter child\n", 7]);
  });
});
