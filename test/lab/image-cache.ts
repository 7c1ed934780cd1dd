// The lab's VM image and container base, built once per recipe by build-image.sh and cached.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { log } from "./vm";

export interface LabImage {
  dir: string;
  kernel: string;
  initrd: string;
  rootDisk: string;
  /** The containers' Debian base as a tarball, for `docker import` in the VM. */
  baseTar: string;
  built: boolean;
}

function recipeHash(): string {
  const h = createHash("sha256");
  h.update(readFileSync(join(__dirname, "build-image.sh")));
  h.update(process.env.LAB_MIRROR ?? "");
  return h.digest("hex").slice(0, 16);
}

export function imageFiles(dir: string, built: boolean): LabImage {
  return {
    dir,
    kernel: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.img"),
    rootDisk: join(dir, "root.raw"),
    baseTar: join(dir, "lab-base.tar"),
    built,
  };
}

/** The cached image for this recipe; builds it under flock when missing (two labs build once). */
export async function ensureImage(): Promise<LabImage> {
  const cache = process.env.LAB_CACHE_DIR ?? "/var/cache/app-infra-lab";
  const hash = recipeHash();
  const dir = join(cache, hash);
  mkdirSync(cache, { recursive: true });
  const already = existsSync(join(dir, "recipe.sha256"));
  if (!already) log(`building the VM image into ${dir} (cold cache; minutes)`);
  await new Promise<void>((resolve, reject) => {
    const p = spawn(
      "flock",
      [
        join(cache, ".lock"),
        "bash",
        "-c",
        `[ -f "$1/recipe.sha256" ] || bash "$2" "$1" "$3"`,
        "_",
        dir,
        join(__dirname, "build-image.sh"),
        hash,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    p.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`build-image.sh failed (exit ${code})`)),
    );
  });
  return imageFiles(dir, !already);
}
