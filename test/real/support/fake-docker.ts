// scripts/swarm-node.sh run by real bash against a fake `docker` first on PATH: the fake is a
// bash `case "$*"` (or `case "$1 $2"`) the test writes, which logs every call to $d/argv; $d is
// the fake's own directory (FAKE_DOCKER), for any files it reads or writes.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readScript } from "../../../components/host";

export interface SwarmNodeRun {
  code: number | null;
  out: string;
  err: string;
  /** The fake's calls, one line of arguments each. */
  argv: string[];
}

/**
 * A fresh fake under `tmp`: `body` is the fake's script after its logging line; `setup` may write
 * files into its directory first. Returns the directory and a runner of swarm-node.sh with ARGS.
 */
export function fakeDockerBox(tmp: string, body: string, setup: (dir: string) => void = () => undefined) {
  const d = mkdtempSync(join(tmp, "box-"));
  const bin = join(d, "bin");
  mkdirSync(bin);
  setup(d);
  writeFileSync(join(bin, "docker"), `#!/bin/bash\nd=\${FAKE_DOCKER:?}\necho "$*" >>"$d/argv"\n${body}`, {
    mode: 0o755,
  });
  return (...args: string[]): SwarmNodeRun => {
    const r = spawnSync("bash", ["-s", "--", ...args], {
      input: readScript("swarm-node.sh"),
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_DOCKER: d, SWARM_POLL_S: "0.1" },
      encoding: "utf8",
      timeout: 30_000,
    });
    let argv = "";
    try {
      argv = readFileSync(join(d, "argv"), "utf8");
    } catch {
      /* docker never ran */
    }
    return { code: r.status, out: r.stdout, err: r.stderr, argv: argv.trim().split("\n").filter(Boolean) };
  };
}
