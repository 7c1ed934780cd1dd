// The git commit of the program that deploys, for the `releases` output (src/plan/releases.ts).
// CI checks out a commit and says which (GITHUB_SHA); by hand, the repository the program runs
// from. A program outside git (a copied directory, no git installed) records "unknown" rather
// than failing the deploy.
import { execFileSync } from "node:child_process";

export const UNKNOWN_COMMIT = "unknown";

export function gitCommit(env: NodeJS.ProcessEnv, dir: string): string {
  const fromCi = env.GITHUB_SHA?.trim();
  if (fromCi) return fromCi;
  try {
    const out = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: dir,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : UNKNOWN_COMMIT;
  } catch {
    return UNKNOWN_COMMIT;
  }
}
