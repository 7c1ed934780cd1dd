// Pins the capacity report that CI posts on pull requests (`npm run plan -- --markdown [--before]`), so
// any change to its wording or layout shows up in review. The "before" file is written the way the
// preview workflow writes it: `npm run plan -- --stack <s> --json` of the base branch.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPlanCli } from "../../src/cli/plan";

const root = join(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "app-infra-md-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function beforeFile(name: string, ...args: string[]): string {
  const r = runPlanCli([...args, "--json"], root);
  expect(r.code).toBe(0);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, r.stdout);
  return file;
}

describe("markdown capacity report (PR comment and job summary)", () => {
  it("dev stack, no base", () => {
    const r = runPlanCli(["--stack", "dev", "--markdown"], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatchInlineSnapshot(`
      "### app-infra plan: \`dev\` — stage 1 — ✅ deployable

      **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month)  
      **Swap:** 4 GB · **Workers:** 1

      #### Memory budget
      | item | MB | % of RAM |
      |---|---|---|
      | system reserve | 500 | 6% |
      | container limits (Σ) | 856 | 10% |
      | container reservations (Σ) | 384 | 5% |
      | users (projected) | 1800 | 22% |
      | total (reserve + limits + users) | 3156 | 39% |
      | RAM | 8192 | 100% |
      | swap on host | 4096 |  |
      | projected in swap | 0 | 0% of swap |

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | \`(image default)\` |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      #### Warnings
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)
      - ⚠️ users: 100 users × 18 MB = 1800 MB of per-user memory, but the containers that serve users (api, bot, workers) may use at most 600 MB together (their limits). The per-user memory cannot live inside them: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows. The total above counts it on top of the limits, as the note does.

      "
    `);
  });

  it("prod stack, no base", () => {
    const r = runPlanCli(["--stack", "prod", "--markdown"], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "### app-infra plan: \`prod\` — stage 2 — ✅ deployable

      **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month)  
      **Swap:** 2 GB · **Workers:** 2

      #### Memory budget
      | item | MB | % of RAM |
      |---|---|---|
      | system reserve | 500 | 6% |
      | container limits (Σ) | 1106 | 14% |
      | container reservations (Σ) | 484 | 6% |
      | users (projected) | 1800 | 22% |
      | total (reserve + limits + users) | 3406 | 42% |
      | RAM | 8192 | 100% |
      | swap on host | 2048 |  |
      | projected in swap | 0 | 0% of swap |

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | \`(image default)\` |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |
      | worker-image-2 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      #### Warnings
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)
      - ⚠️ users: 100 users × 18 MB = 1800 MB of per-user memory, but the containers that serve users (api, bot, workers) may use at most 850 MB together (their limits). The per-user memory cannot live inside them: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows. The total above counts it on top of the limits, as the note does.

      "
    `);
  });

  it("dev stage 1 → 3: swap shrinks and a second worker is added on the same server", () => {
    const before = beforeFile("dev-stage1", "--stack", "dev");
    const r = runPlanCli(["--stack", "dev", "--set", "stage=3", "--markdown", "--before", before], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "### app-infra plan: \`dev\` — stage 1 → **3** — ✅ deployable

      #### What this change does
      - **Swap:** 4 GB → 2 GB
      - **worker-image-2:** added (250 MB limit)

      **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month)  
      **Swap:** 2 GB · **Workers:** 2

      #### Memory budget
      | item | before MB | after MB | after % of RAM |
      |---|---|---|---|
      | system reserve | 500 | 500 | 6% |
      | container limits (Σ) | 856 | **1106** | 14% |
      | container reservations (Σ) | 384 | **484** | 6% |
      | users (projected) | 1800 | 1800 | 22% |
      | total (reserve + limits + users) | 3156 | **3406** | 42% |
      | RAM | 8192 | 8192 | 100% |
      | swap on host | 4096 | **2048** |  |
      | projected in swap | 0 | 0 | 0% of swap |

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | \`(image default)\` |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |
      | worker-image-2 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      #### Warnings
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)
      - ⚠️ users: 100 users × 18 MB = 1800 MB of per-user memory, but the containers that serve users (api, bot, workers) may use at most 850 MB together (their limits). The per-user memory cannot live inside them: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows. The total above counts it on top of the limits, as the note does.

      "
    `);
  });

  it("prod stage 2 → 3 with server.memoryGb=16: the server type changes (a reboot and a new price)", () => {
    const before = beforeFile("prod-stage2", "--stack", "prod");
    const r = runPlanCli(
      [
        "--stack",
        "prod",
        "--set",
        "stage=3",
        "--set",
        "server.memoryGb=16",
        "--markdown",
        "--before",
        before,
      ],
      root,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "### app-infra plan: \`prod\` — stage 2 → **3** — ✅ deployable

      #### What this change does
      - **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month) → cx43 (8 vCPU, 16 GB RAM, 160 GB disk, fsn1, €15.99/month)
        - A server type change powers the server off, rescales and boots it (a reboot, not a replacement; the disk is kept) and moves it to Hetzner's current price.

      **Server:** cx43 (8 vCPU, 16 GB RAM, 160 GB disk, fsn1, €15.99/month)  
      **Swap:** 2 GB · **Workers:** 2

      #### Memory budget
      | item | before MB | after MB | after % of RAM |
      |---|---|---|---|
      | system reserve | 500 | 500 | 3% |
      | container limits (Σ) | 1106 | 1106 | 7% |
      | container reservations (Σ) | 484 | 484 | 3% |
      | users (projected) | 1800 | 1800 | 11% |
      | total (reserve + limits + users) | 3406 | 3406 | 21% |
      | RAM | 8192 | **16384** | 100% |
      | swap on host | 2048 | 2048 |  |
      | projected in swap | 0 | 0 | 0% of swap |

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | \`(image default)\` |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |
      | worker-image-2 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      #### Warnings
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)
      - ⚠️ users: 100 users × 18 MB = 1800 MB of per-user memory, but the containers that serve users (api, bot, workers) may use at most 850 MB together (their limits). The per-user memory cannot live inside them: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows. The total above counts it on top of the limits, as the note does.

      "
    `);
  });

  it("a base whose plan failed (no services in its JSON) renders without a before column", () => {
    const file = join(dir, "failed.json");
    writeFileSync(
      file,
      JSON.stringify({
        stack: "dev",
        deployable: false,
        warnings: [],
        errors: ["stage: should be one of 1, 2, 3 (got 7)"],
      }),
    );
    const withBase = runPlanCli(["--stack", "dev", "--markdown", "--before", file], root);
    const without = runPlanCli(["--stack", "dev", "--markdown"], root);
    expect(withBase.stdout).toBe(without.stdout);
  });

  it("a plan that is not deployable still renders, lists its errors and exits 1", () => {
    // Limits above RAM + swap: the configuration parses, the budget refuses it.
    const r = runPlanCli(
      [
        "--stack",
        "dev",
        "--set",
        "workers=30",
        "--set",
        "swapGb=0",
        "--set",
        "server.type=cx23",
        "--set",
        "server.cores=2",
        "--set",
        "server.diskGb=40",
        "--set",
        "services.worker.swapMb=0",
        "--markdown",
      ],
      root,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("### app-infra plan: `dev` — stage 1 — ❌ not deployable");
    expect(r.stdout).toContain(
      "#### Errors\n- ❌ budget: container limits (8106 MB) + system reserve (500 MB) = 8606 MB exceed RAM + swap (4096 + 0 MB)",
    );
  });

  it("escapes placeholders such as <image> that GitHub would drop as HTML tags", () => {
    const r = runPlanCli(["--stack", "dev", "--markdown"], root);
    expect(r.stdout).toContain("(pulumi config set --path images.api &lt;image&gt;)");
    expect(r.stdout).not.toContain("<image>");
  });
});
