// What the lab builds before it deploys, built ahead of it, so that on a fresh machine the long
// cold builds overlap other work instead of following it (`.ci/run` runs the engine's build and
// this in the background while npm test runs). Everything is cached (by content, or in Go's
// caches), so the lab then reuses it.
//   npx tsx test/lab/prepare.ts          the engine, the VM image, gofakes3 and kamal-proxy
//   npx tsx test/lab/prepare.ts tools    all but the engine (.ci/run builds that one itself)
// Exit 0 when all of it was built.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEngine, ROOT } from "./engine";
import { ensureImage } from "./image-cache";
import { buildGofakes3 } from "./s3";
import { log } from "./vm";

const took = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

async function main(args: string[]) {
  if (args.some((a) => a !== "tools"))
    throw new Error(`takes no argument or "tools" (got ${args.join(" ")})`);
  const t0 = Date.now();
  // debootstrap is mostly downloads and dpkg, the Go builds mostly compiling: side by side. The
  // image builds in a child process, so it goes on while the synchronous builds below block.
  const image = ensureImage().then((i) =>
    log(`prepare: VM image ${i.built ? "built" : "cached"} (${took(t0)})`),
  );
  if (!args.includes("tools")) {
    const t = Date.now();
    buildEngine();
    log(`prepare: engine (${took(t)})`);
  }
  const t = Date.now();
  const bin = mkdtempSync(join(tmpdir(), "lab-prepare-"));
  try {
    buildGofakes3(bin);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
  const proxy = spawnSync("bash", [join(ROOT, "tools", "kamal-proxy", "build.sh")], { encoding: "utf8" });
  if (proxy.status !== 0) throw new Error(`tools/kamal-proxy/build.sh failed: ${proxy.stderr.slice(-1500)}`);
  log(`prepare: gofakes3 and kamal-proxy (${took(t)})`);
  await image;
  log(`prepare: done in ${took(t0)}`);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`prepare: ${(e as Error).message ?? e}\n`);
  process.exit(1);
});
