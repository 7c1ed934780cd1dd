// Every host script is shellcheck-clean (house rule 7). The list is a glob, so a new
// scripts/*.sh or scripts/lib/*.sh is checked without touching this file. Needs Debian's
// `shellcheck`. The raw files are checked, with -x so a script's `source`d library is followed
// (its functions and variables are known); shellcheck reports findings only in the files it is
// given, so each library is checked on its own too.
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "./support/docker";

const SCRIPTS_DIR = resolve(__dirname, "../../scripts");
const scripts = [
  ...readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".sh")),
  ...readdirSync(resolve(SCRIPTS_DIR, "lib"))
    .filter((f) => f.endsWith(".sh"))
    .map((f) => `lib/${f}`),
].sort();

describe("scripts/*.sh pass shellcheck", () => {
  it("finds the host scripts", () => {
    expect(scripts).toEqual(
      expect.arrayContaining(["install-docker.sh", "setup-swap.sh", "wait-host-ready.sh", "lib/apt.sh"]),
    );
  });

  it.each(scripts)("%s has no shellcheck findings", async (script) => {
    // -x follows `source`d files; cwd = scripts/ so relative sources resolve as on the host.
    const res = await run("shellcheck", ["-x", "--format=gcc", script], { cwd: SCRIPTS_DIR }).catch(
      (err: NodeJS.ErrnoException) => {
        throw err.code === "ENOENT" ? new Error("shellcheck not found: apt-get install -y shellcheck") : err;
      },
    );
    expect(res.stdout + res.stderr, `shellcheck findings in scripts/${script}`).toBe("");
    expect(res.code).toBe(0);
  });
});
