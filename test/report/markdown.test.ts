// Pins the capacity report that CI posts on pull requests (`npm run plan -- --markdown [--before]`), so
// any change to its wording or layout shows up in review. The "before" file is written the way the
// preview workflow writes it: `npm run plan -- --stack <s> --json` of the base branch.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runPlanCli } from "../../src/cli/plan";
import { planFiles, ROOT as root } from "../support/plan-files";

const { dir, write: beforeFile } = planFiles("app-infra-md-");

describe("markdown capacity report (PR comment and job summary)", () => {
  it("dev stack, no base", () => {
    const r = runPlanCli(["--stack", "dev", "--markdown"], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatchInlineSnapshot(`
      "### app-infra plan: \`dev\` — stage 1 — ✅ deployable

      **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month)  
      **Monthly:** €8.49 server + €0.50 primary IPv4 = €8.99/month, net of VAT  
      **Swap:** 4 GB · **Workers:** 1

      - stages with this stack's settings: 1 → cx33, swap 4 GB, 1 worker · 2 → cx33, swap 2 GB, 2 workers · 3 → cx33, swap 2 GB, 2 workers
      - stage 2 would keep cx33: it already meets stage 2's requirements
      - next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4
      - swap: 4 GB: stage 1 is the note's 3 GB box, which it runs at 92–102 % of RAM, so it takes the top of the note's "swap 2–4 GB"; from stage 2 on there is more RAM and swap is only a reserve (2 GB)

      #### Memory budget
      | item | MB | % of RAM |
      |---|---|---|
      | system reserve | 500 | 6% |
      | container limits (Σ) | 920 | 11% |
      | deploy headroom (2nd api during a switch) | 200 | 2% |
      | container reservations (Σ) | 416 | 5% |
      | users (projected) | 1800 | 22% |
      | total (reserve + limits + headroom + users) | 3420 | 42% |
      | RAM | 8192 | 100% |
      | swap on host | 4096 |  |
      | projected in swap | 0 | 0% of swap |

      - ℹ️ users: 100 users × 18 MB = 1800 MB of per-user memory is counted on top of the container limits, as the note does, so the total is an upper bound (42% of RAM). The containers that serve users (api, bot, workers) may use at most 600 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows.

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | proxy | basecamp/kamal-proxy:v0.9.2 | 64 | 32 | none | unless-stopped | \`kamal-proxy run\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | (image default) |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      <details><summary>Firewall</summary>

      | rule | protocol/port | from |
      |---|---|---|
      | SSH from adminCidrs | tcp/22 | 0.0.0.0/0, ::/0 |
      | ping | icmp | 0.0.0.0/0, ::/0 |
      | HTTP | tcp/80 | 0.0.0.0/0, ::/0 |
      | HTTPS | tcp/443 | 0.0.0.0/0, ::/0 |

      </details>

      <details><summary>Settings (every key, resolved)</summary>

      | key | value |
      |---|---|
      | stage | 1 |
      | target | hetzner |
      | location | fsn1 |
      | server/type | cx33 |
      | server/cores | 3 |
      | server/memoryGb | 3 |
      | server/diskGb | 60 |
      | server/architecture | x86 |
      | server/keepDisk | true |
      | server/backups | false |
      | server/protect | false |
      | swapGb | 4 |
      | swappiness | 10 |
      | systemReserveMb | 500 |
      | workers | 1 |
      | users | 100 |
      | perUserMb | 18 |
      | images/api | ghcr.io/example/app:latest |
      | images/bot | ghcr.io/example/app:latest |
      | images/worker | ghcr.io/example/app:latest |
      | images/redis | redis:7.4.6-alpine |
      | images/proxy | basecamp/kamal-proxy:v0.9.2 |
      | imageDigests | registry |
      | services/redis/memoryMb | 256 |
      | services/redis/reservationMb | 64 |
      | services/redis/swapMb | 0 |
      | services/redis/maxmemoryMb | 128 |
      | services/redis/maxmemoryPolicy | noeviction |
      | services/redis/appendonly | true |
      | services/proxy/memoryMb | 64 |
      | services/proxy/reservationMb | 32 |
      | services/proxy/swapMb | 0 |
      | services/api/memoryMb | 200 |
      | services/api/reservationMb | 120 |
      | services/api/swapMb | 0 |
      | services/api/workers | 2 |
      | services/api/limitConcurrency | 150 |
      | services/api/port | 8000 |
      | services/api/public | true |
      | services/api/healthPath | /health |
      | domain | unset |
      | tls | unset |
      | services/bot/memoryMb | 150 |
      | services/bot/reservationMb | 100 |
      | services/bot/swapMb | 0 |
      | services/worker/memoryMb | 250 |
      | services/worker/reservationMb | 100 |
      | services/worker/swapMb | 250 |
      | services/worker/queue | img_queue |
      | services/worker/maxJobs | 15 |
      | release | unset |
      | releases/keep | 5 |
      | adminCidrs | [0.0.0.0/0, ::/0] |
      | adminSshKeys | [] |
      | registry/server | unset |
      | registry/username | unset |
      | alerts/memoryPercent | 95 |
      | alerts/swapPercent | 50 |
      | alerts/cpuPercent | 90 |
      | alerts/queueLength | 100 |
      | alerts/apiLatencyMs | 2000 |
      | alerts/redisMemoryPercent | 90 |
      | alerts/forMinutes | 5 |
      | alerts/repeatMinutes | 60 |
      | alerts/intervalS | 60 |
      | alerts/telegramChatId | unset |
      | alerts/diskPercent | 85 |
      | alerts/certMinDays | 14 |
      | alerts/heartbeatUrl | unset |
      | backup/enabled | false |
      | backup/repository | unset |
      | backup/schedule | *-*-* 03:15:00 |
      | backup/keepDaily | 7 |
      | backup/keepWeekly | 4 |
      | backup/maxAgeHours | 26 |
      | backup/password | unset |
      | backup/accessKeyId | unset |
      | backup/secretAccessKey | unset |
      | botToken | unset |
      | falKey | unset |
      | env | unset |
      | registryPassword | unset |
      | alertWebhookUrl | unset |
      | deployPrivateKey | unset |

      </details>

      #### Warnings
      - ⚠️ domain: not set, so the edge proxy serves the API over plain HTTP on port 80, for any host name: tokens and user data cross in clear text. Point a DNS name at the server and set it (pulumi config set domain api.example.com) for HTTPS with a Let's Encrypt certificate
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)

      "
    `);
  });

  it("prod stack, no base", () => {
    const r = runPlanCli(["--stack", "prod", "--markdown"], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "### app-infra plan: \`prod\` — stage 2 — ✅ deployable

      **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month)  
      **Monthly:** €8.49 server + €0.50 primary IPv4 + €1.70 backups (20 %) = €10.69/month, net of VAT  
      **Swap:** 2 GB · **Workers:** 2

      - stages with this stack's settings: 1 → cx33, swap 4 GB, 1 worker · 2 → cx33, swap 2 GB, 2 workers · 3 → cx33, swap 2 GB, 2 workers
      - stage 3 would keep cx33: it already meets stage 3's requirements, and stage 3 changes nothing else here
      - next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €19.69/month incl. IPv4 and backups
      - swap: 2 GB: from stage 2 on the note asks for more RAM and keeps swap "as reserve", so the swapfile shrinks from stage 1's 4 GB (which served a box at 92–102 % of its RAM); raise swapGb to keep more

      #### Memory budget
      | item | MB | % of RAM |
      |---|---|---|
      | system reserve | 500 | 6% |
      | backup (restic) | 96 | 1% |
      | container limits (Σ) | 1170 | 14% |
      | deploy headroom (2nd api during a switch) | 200 | 2% |
      | container reservations (Σ) | 516 | 6% |
      | users (projected) | 1800 | 22% |
      | total (reserve + backup + limits + headroom + users) | 3766 | 46% |
      | RAM | 8192 | 100% |
      | swap on host | 2048 |  |
      | projected in swap | 0 | 0% of swap |

      - ℹ️ users: 100 users × 18 MB = 1800 MB of per-user memory is counted on top of the container limits, as the note does, so the total is an upper bound (46% of RAM). The containers that serve users (api, bot, workers) may use at most 850 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows.

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | proxy | basecamp/kamal-proxy:v0.9.2 | 64 | 32 | none | unless-stopped | \`kamal-proxy run\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | (image default) |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |
      | worker-image-2 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      <details><summary>Firewall</summary>

      | rule | protocol/port | from |
      |---|---|---|
      | SSH from adminCidrs | tcp/22 | 0.0.0.0/0, ::/0 |
      | ping | icmp | 0.0.0.0/0, ::/0 |
      | HTTP | tcp/80 | 0.0.0.0/0, ::/0 |
      | HTTPS | tcp/443 | 0.0.0.0/0, ::/0 |

      </details>

      <details><summary>Settings (every key, resolved)</summary>

      | key | value |
      |---|---|
      | stage | 2 |
      | target | hetzner |
      | location | fsn1 |
      | server/type | cx33 |
      | server/cores | 3 |
      | server/memoryGb | 4 |
      | server/diskGb | 60 |
      | server/architecture | x86 |
      | server/keepDisk | true |
      | server/backups | true |
      | server/protect | true |
      | swapGb | 2 |
      | swappiness | 10 |
      | systemReserveMb | 500 |
      | workers | 2 |
      | users | 100 |
      | perUserMb | 18 |
      | images/api | ghcr.io/example/app:latest |
      | images/bot | ghcr.io/example/app:latest |
      | images/worker | ghcr.io/example/app:latest |
      | images/redis | redis:7.4.6-alpine |
      | images/proxy | basecamp/kamal-proxy:v0.9.2 |
      | imageDigests | registry |
      | services/redis/memoryMb | 256 |
      | services/redis/reservationMb | 64 |
      | services/redis/swapMb | 0 |
      | services/redis/maxmemoryMb | 128 |
      | services/redis/maxmemoryPolicy | noeviction |
      | services/redis/appendonly | true |
      | services/proxy/memoryMb | 64 |
      | services/proxy/reservationMb | 32 |
      | services/proxy/swapMb | 0 |
      | services/api/memoryMb | 200 |
      | services/api/reservationMb | 120 |
      | services/api/swapMb | 0 |
      | services/api/workers | 2 |
      | services/api/limitConcurrency | 150 |
      | services/api/port | 8000 |
      | services/api/public | true |
      | services/api/healthPath | /health |
      | domain | unset |
      | tls | unset |
      | services/bot/memoryMb | 150 |
      | services/bot/reservationMb | 100 |
      | services/bot/swapMb | 0 |
      | services/worker/memoryMb | 250 |
      | services/worker/reservationMb | 100 |
      | services/worker/swapMb | 250 |
      | services/worker/queue | img_queue |
      | services/worker/maxJobs | 15 |
      | release | unset |
      | releases/keep | 5 |
      | adminCidrs | [0.0.0.0/0, ::/0] |
      | adminSshKeys | [] |
      | registry/server | unset |
      | registry/username | unset |
      | alerts/memoryPercent | 95 |
      | alerts/swapPercent | 50 |
      | alerts/cpuPercent | 90 |
      | alerts/queueLength | 100 |
      | alerts/apiLatencyMs | 2000 |
      | alerts/redisMemoryPercent | 90 |
      | alerts/forMinutes | 5 |
      | alerts/repeatMinutes | 60 |
      | alerts/intervalS | 60 |
      | alerts/telegramChatId | unset |
      | alerts/diskPercent | 85 |
      | alerts/certMinDays | 14 |
      | alerts/heartbeatUrl | unset |
      | backup/enabled | true |
      | backup/repository | s3:https://fsn1.your-objectstorage.com/CHANGE-ME/redis |
      | backup/schedule | *-*-* 03:15:00 |
      | backup/keepDaily | 7 |
      | backup/keepWeekly | 4 |
      | backup/maxAgeHours | 26 |
      | backup/password | unset |
      | backup/accessKeyId | unset |
      | backup/secretAccessKey | unset |
      | botToken | unset |
      | falKey | unset |
      | env | unset |
      | registryPassword | unset |
      | alertWebhookUrl | unset |
      | deployPrivateKey | unset |

      </details>

      #### Warnings
      - ⚠️ domain: not set, so the edge proxy serves the API over plain HTTP on port 80, for any host name: tokens and user data cross in clear text. Point a DNS name at the server and set it (pulumi config set domain api.example.com) for HTTPS with a Let's Encrypt certificate
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)
      - ⚠️ backup/repository: still the example repository s3:https://fsn1.your-objectstorage.com/CHANGE-ME/redis: set your own (pulumi config set --path backup.repository s3:https://&lt;endpoint&gt;/&lt;bucket&gt;/redis)

      "
    `);
  });

  it("dev stage 1 → 3: swap shrinks and a second worker is added on the same server", () => {
    const before = beforeFile("dev-stage1", "--stack", "dev");
    const r = runPlanCli(["--stack", "dev", "--set", "stage=3", "--markdown", "--before", before], root);
    expect(r.code).toBe(0);
    expect(r.stdout.replaceAll(dir, "<tmp>")).toMatchInlineSnapshot(`
      "### app-infra plan: \`dev\` — stage 1 → **3** — ✅ deployable

      #### What this change does (compared with <tmp>/dev-stage1.json)
      - \`+ worker-image-2\`: new container (250 MB limit)  
        a new worker starts consuming the queue; the running containers are not touched
      - \`~ swap\`: 4 GB → 2 GB  
        the swapfile is resized in place (no reboot, nothing restarts)
      - \`= server\`: stage 1 → 3, server/cores 3 → 4, server/memoryGb 3 → 6  
        the server stays cx33 (4 vCPU, 8 GB RAM, 80 GB disk): it already meets the new requirements (≥4 vCPU, ≥6 GB RAM, ≥60 GB disk); only its requirements label is updated in place. The next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4

      Changes: 1 to add, 1 to change in place, 0 to replace, 0 to destroy.

      **Server:** cx33 (4 vCPU, 8 GB RAM, 80 GB disk, fsn1, €8.49/month)  
      **Monthly:** €8.49 server + €0.50 primary IPv4 = €8.99/month, net of VAT  
      **Swap:** 2 GB · **Workers:** 2

      - stages with this stack's settings: 1 → cx33, swap 4 GB, 1 worker · 2 → cx33, swap 2 GB, 2 workers · 3 → cx33, swap 2 GB, 2 workers
      - next size up: server/memoryGb 16 → cx43 (8 vCPU, 16 GB RAM), €16.49/month incl. IPv4
      - swap: 2 GB: from stage 2 on the note asks for more RAM and keeps swap "as reserve", so the swapfile shrinks from stage 1's 4 GB (which served a box at 92–102 % of its RAM); raise swapGb to keep more

      #### Memory budget
      | item | before MB | after MB | after % of RAM |
      |---|---|---|---|
      | system reserve | 500 | 500 | 6% |
      | container limits (Σ) | 920 | **1170** | 14% |
      | deploy headroom (2nd api during a switch) | 200 | 200 | 2% |
      | container reservations (Σ) | 416 | **516** | 6% |
      | users (projected) | 1800 | 1800 | 22% |
      | total (reserve + limits + headroom + users) | 3420 | **3670** | 45% |
      | RAM | 8192 | 8192 | 100% |
      | swap on host | 4096 | **2048** |  |
      | projected in swap | 0 | 0 | 0% of swap |

      - ℹ️ users: 100 users × 18 MB = 1800 MB of per-user memory is counted on top of the container limits, as the note does, so the total is an upper bound (45% of RAM). The containers that serve users (api, bot, workers) may use at most 850 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows.

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | proxy | basecamp/kamal-proxy:v0.9.2 | 64 | 32 | none | unless-stopped | \`kamal-proxy run\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | (image default) |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |
      | worker-image-2 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      <details><summary>Firewall</summary>

      | rule | protocol/port | from |
      |---|---|---|
      | SSH from adminCidrs | tcp/22 | 0.0.0.0/0, ::/0 |
      | ping | icmp | 0.0.0.0/0, ::/0 |
      | HTTP | tcp/80 | 0.0.0.0/0, ::/0 |
      | HTTPS | tcp/443 | 0.0.0.0/0, ::/0 |

      </details>

      <details><summary>Settings (every key, resolved; changed ones in bold)</summary>

      | key | before (if changed) | after |
      |---|---|---|
      | **stage** | 1 | **3** |
      | target |  | hetzner |
      | location |  | fsn1 |
      | server/type |  | cx33 |
      | **server/cores** | 3 | **4** |
      | **server/memoryGb** | 3 | **6** |
      | server/diskGb |  | 60 |
      | server/architecture |  | x86 |
      | server/keepDisk |  | true |
      | server/backups |  | false |
      | server/protect |  | false |
      | **swapGb** | 4 | **2** |
      | swappiness |  | 10 |
      | systemReserveMb |  | 500 |
      | **workers** | 1 | **2** |
      | users |  | 100 |
      | perUserMb |  | 18 |
      | images/api |  | ghcr.io/example/app:latest |
      | images/bot |  | ghcr.io/example/app:latest |
      | images/worker |  | ghcr.io/example/app:latest |
      | images/redis |  | redis:7.4.6-alpine |
      | images/proxy |  | basecamp/kamal-proxy:v0.9.2 |
      | imageDigests |  | registry |
      | services/redis/memoryMb |  | 256 |
      | services/redis/reservationMb |  | 64 |
      | services/redis/swapMb |  | 0 |
      | services/redis/maxmemoryMb |  | 128 |
      | services/redis/maxmemoryPolicy |  | noeviction |
      | services/redis/appendonly |  | true |
      | services/proxy/memoryMb |  | 64 |
      | services/proxy/reservationMb |  | 32 |
      | services/proxy/swapMb |  | 0 |
      | services/api/memoryMb |  | 200 |
      | services/api/reservationMb |  | 120 |
      | services/api/swapMb |  | 0 |
      | services/api/workers |  | 2 |
      | services/api/limitConcurrency |  | 150 |
      | services/api/port |  | 8000 |
      | services/api/public |  | true |
      | services/api/healthPath |  | /health |
      | domain |  | unset |
      | tls |  | unset |
      | services/bot/memoryMb |  | 150 |
      | services/bot/reservationMb |  | 100 |
      | services/bot/swapMb |  | 0 |
      | services/worker/memoryMb |  | 250 |
      | services/worker/reservationMb |  | 100 |
      | services/worker/swapMb |  | 250 |
      | services/worker/queue |  | img_queue |
      | services/worker/maxJobs |  | 15 |
      | release |  | unset |
      | releases/keep |  | 5 |
      | adminCidrs |  | [0.0.0.0/0, ::/0] |
      | adminSshKeys |  | [] |
      | registry/server |  | unset |
      | registry/username |  | unset |
      | alerts/memoryPercent |  | 95 |
      | alerts/swapPercent |  | 50 |
      | alerts/cpuPercent |  | 90 |
      | alerts/queueLength |  | 100 |
      | alerts/apiLatencyMs |  | 2000 |
      | alerts/redisMemoryPercent |  | 90 |
      | alerts/forMinutes |  | 5 |
      | alerts/repeatMinutes |  | 60 |
      | alerts/intervalS |  | 60 |
      | alerts/telegramChatId |  | unset |
      | alerts/diskPercent |  | 85 |
      | alerts/certMinDays |  | 14 |
      | alerts/heartbeatUrl |  | unset |
      | backup/enabled |  | false |
      | backup/repository |  | unset |
      | backup/schedule |  | *-*-* 03:15:00 |
      | backup/keepDaily |  | 7 |
      | backup/keepWeekly |  | 4 |
      | backup/maxAgeHours |  | 26 |
      | backup/password |  | unset |
      | backup/accessKeyId |  | unset |
      | backup/secretAccessKey |  | unset |
      | botToken |  | unset |
      | falKey |  | unset |
      | env |  | unset |
      | registryPassword |  | unset |
      | alertWebhookUrl |  | unset |
      | deployPrivateKey |  | unset |

      </details>

      #### Warnings
      - ⚠️ domain: not set, so the edge proxy serves the API over plain HTTP on port 80, for any host name: tokens and user data cross in clear text. Point a DNS name at the server and set it (pulumi config set domain api.example.com) for HTTPS with a Let's Encrypt certificate
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)

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
    expect(r.stdout.replaceAll(dir, "<tmp>")).toMatchInlineSnapshot(`
      "### app-infra plan: \`prod\` — stage 2 → **3** — ✅ deployable

      #### What this change does (compared with <tmp>/prod-stage2.json)
      - \`~ server\`: cx33 (4 vCPU, 8 GB) → cx43 (8 vCPU, 16 GB)  
        rescale: Hetzner powers the server off, changes its type and boots it — every service is down for about 1–2 min; the server, its IP and its data stay. The disk keeps its size (server/keepDisk), so a later downgrade stays possible. New tariff: €8.49/month → €15.99/month (any rescale moves the server to Hetzner's current price)

      Changes: 0 to add, 1 to change in place, 0 to replace, 0 to destroy.

      **Server:** cx43 (8 vCPU, 16 GB RAM, 160 GB disk, fsn1, €15.99/month)  
      **Monthly:** €15.99 server + €0.50 primary IPv4 + €3.20 backups (20 %) = €19.69/month, net of VAT  
      **Swap:** 2 GB · **Workers:** 2

      - stages with this stack's settings: 1 → cx43, swap 4 GB, 1 worker · 2 → cx43, swap 2 GB, 2 workers · 3 → cx43, swap 2 GB, 2 workers
      - next size up: server/memoryGb 24 → cx53 (16 vCPU, 32 GB RAM), €35.89/month incl. IPv4 and backups
      - swap: 2 GB: from stage 2 on the note asks for more RAM and keeps swap "as reserve", so the swapfile shrinks from stage 1's 4 GB (which served a box at 92–102 % of its RAM); raise swapGb to keep more

      #### Memory budget
      | item | before MB | after MB | after % of RAM |
      |---|---|---|---|
      | system reserve | 500 | 500 | 3% |
      | backup (restic) | 96 | 96 | 1% |
      | container limits (Σ) | 1170 | 1170 | 7% |
      | deploy headroom (2nd api during a switch) | 200 | 200 | 1% |
      | container reservations (Σ) | 516 | 516 | 3% |
      | users (projected) | 1800 | 1800 | 11% |
      | total (reserve + backup + limits + headroom + users) | 3766 | 3766 | 23% |
      | RAM | 8192 | **16384** | 100% |
      | swap on host | 2048 | 2048 |  |
      | projected in swap | 0 | 0 | 0% of swap |

      - ℹ️ users: 100 users × 18 MB = 1800 MB of per-user memory is counted on top of the container limits, as the note does, so the total is an upper bound (23% of RAM). The containers that serve users (api, bot, workers) may use at most 850 MB together: if it is real, they will be OOM-killed as users grow — raise services/*/memoryMb; if it is not, lower perUserMb to what \`docker stats\` shows.

      <details><summary>Services</summary>

      | service | image | limit MB | reserve MB | swap MB | restart | command |
      |---|---|---|---|---|---|---|
      | redis | redis:7.4.6-alpine | 256 | 64 | none | unless-stopped | \`redis-server --appendonly yes --save --dir /data --maxmemory 128mb --maxmemory-policy noeviction --protected-mode no\` |
      | proxy | basecamp/kamal-proxy:v0.9.2 | 64 | 32 | none | unless-stopped | \`kamal-proxy run\` |
      | api | ghcr.io/example/app:latest | 200 | 120 | none | unless-stopped | \`uvicorn app.web.api:app --host 0.0.0.0 --port 8000 --workers 2 --limit-concurrency 150\` |
      | bot | ghcr.io/example/app:latest | 150 | 100 | none | unless-stopped | (image default) |
      | worker-image-1 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |
      | worker-image-2 | ghcr.io/example/app:latest | 250 | 100 | 250 | unless-stopped | \`rq worker --url redis://redis:6379/0 --max-jobs 15 img_queue\` |

      </details>

      <details><summary>Firewall</summary>

      | rule | protocol/port | from |
      |---|---|---|
      | SSH from adminCidrs | tcp/22 | 0.0.0.0/0, ::/0 |
      | ping | icmp | 0.0.0.0/0, ::/0 |
      | HTTP | tcp/80 | 0.0.0.0/0, ::/0 |
      | HTTPS | tcp/443 | 0.0.0.0/0, ::/0 |

      </details>

      <details><summary>Settings (every key, resolved; changed ones in bold)</summary>

      | key | before (if changed) | after |
      |---|---|---|
      | **stage** | 2 | **3** |
      | target |  | hetzner |
      | location |  | fsn1 |
      | **server/type** | cx33 | **cx43** |
      | **server/cores** | 3 | **4** |
      | **server/memoryGb** | 4 | **16** |
      | server/diskGb |  | 60 |
      | server/architecture |  | x86 |
      | server/keepDisk |  | true |
      | server/backups |  | true |
      | server/protect |  | true |
      | swapGb |  | 2 |
      | swappiness |  | 10 |
      | systemReserveMb |  | 500 |
      | workers |  | 2 |
      | users |  | 100 |
      | perUserMb |  | 18 |
      | images/api |  | ghcr.io/example/app:latest |
      | images/bot |  | ghcr.io/example/app:latest |
      | images/worker |  | ghcr.io/example/app:latest |
      | images/redis |  | redis:7.4.6-alpine |
      | images/proxy |  | basecamp/kamal-proxy:v0.9.2 |
      | imageDigests |  | registry |
      | services/redis/memoryMb |  | 256 |
      | services/redis/reservationMb |  | 64 |
      | services/redis/swapMb |  | 0 |
      | services/redis/maxmemoryMb |  | 128 |
      | services/redis/maxmemoryPolicy |  | noeviction |
      | services/redis/appendonly |  | true |
      | services/proxy/memoryMb |  | 64 |
      | services/proxy/reservationMb |  | 32 |
      | services/proxy/swapMb |  | 0 |
      | services/api/memoryMb |  | 200 |
      | services/api/reservationMb |  | 120 |
      | services/api/swapMb |  | 0 |
      | services/api/workers |  | 2 |
      | services/api/limitConcurrency |  | 150 |
      | services/api/port |  | 8000 |
      | services/api/public |  | true |
      | services/api/healthPath |  | /health |
      | domain |  | unset |
      | tls |  | unset |
      | services/bot/memoryMb |  | 150 |
      | services/bot/reservationMb |  | 100 |
      | services/bot/swapMb |  | 0 |
      | services/worker/memoryMb |  | 250 |
      | services/worker/reservationMb |  | 100 |
      | services/worker/swapMb |  | 250 |
      | services/worker/queue |  | img_queue |
      | services/worker/maxJobs |  | 15 |
      | release |  | unset |
      | releases/keep |  | 5 |
      | adminCidrs |  | [0.0.0.0/0, ::/0] |
      | adminSshKeys |  | [] |
      | registry/server |  | unset |
      | registry/username |  | unset |
      | alerts/memoryPercent |  | 95 |
      | alerts/swapPercent |  | 50 |
      | alerts/cpuPercent |  | 90 |
      | alerts/queueLength |  | 100 |
      | alerts/apiLatencyMs |  | 2000 |
      | alerts/redisMemoryPercent |  | 90 |
      | alerts/forMinutes |  | 5 |
      | alerts/repeatMinutes |  | 60 |
      | alerts/intervalS |  | 60 |
      | alerts/telegramChatId |  | unset |
      | alerts/diskPercent |  | 85 |
      | alerts/certMinDays |  | 14 |
      | alerts/heartbeatUrl |  | unset |
      | backup/enabled |  | true |
      | backup/repository |  | s3:https://fsn1.your-objectstorage.com/CHANGE-ME/redis |
      | backup/schedule |  | *-*-* 03:15:00 |
      | backup/keepDaily |  | 7 |
      | backup/keepWeekly |  | 4 |
      | backup/maxAgeHours |  | 26 |
      | backup/password |  | unset |
      | backup/accessKeyId |  | unset |
      | backup/secretAccessKey |  | unset |
      | botToken |  | unset |
      | falKey |  | unset |
      | env |  | unset |
      | registryPassword |  | unset |
      | alertWebhookUrl |  | unset |
      | deployPrivateKey |  | unset |

      </details>

      #### Warnings
      - ⚠️ domain: not set, so the edge proxy serves the API over plain HTTP on port 80, for any host name: tokens and user data cross in clear text. Point a DNS name at the server and set it (pulumi config set domain api.example.com) for HTTPS with a Let's Encrypt certificate
      - ⚠️ images/api: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.api &lt;image&gt;)
      - ⚠️ images/bot: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.bot &lt;image&gt;)
      - ⚠️ images/worker: still the example image ghcr.io/example/app:latest: set your own (pulumi config set --path images.worker &lt;image&gt;)
      - ⚠️ backup/repository: still the example repository s3:https://fsn1.your-objectstorage.com/CHANGE-ME/redis: set your own (pulumi config set --path backup.repository s3:https://&lt;endpoint&gt;/&lt;bucket&gt;/redis)

      "
    `);
  });

  it("a base whose plan failed (no services in its JSON) renders without a before column, and says why", () => {
    const file = join(dir, "failed.json");
    writeFileSync(
      file,
      JSON.stringify({
        stack: "dev",
        deployable: false,
        warnings: [],
        errors: ["stage: should be one of 1, 2, 3, 4 (got 7)"],
      }),
    );
    const withBase = runPlanCli(["--stack", "dev", "--markdown", "--before", file], root);
    // A refused base is named, not silently dropped, and is no reason to fail the report.
    expect(withBase.code).toBe(0);
    const without = runPlanCli(["--stack", "dev", "--markdown"], root);
    const note = [
      `#### What this change does (compared with ${file})`,
      `The base (${file}) has no plan to compare with: stage: should be one of 1, 2, 3, 4 (got 7)`,
      "",
      "",
    ].join("\n");
    expect(withBase.stdout).toBe(without.stdout.replace("\n\n", `\n\n${note}`));
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
      "#### Errors\n- ❌ budget: container limits (8170 MB) + deploy headroom (200 MB) + system reserve (500 MB) = 8870 MB exceed RAM + swap (4096 + 0 MB)",
    );
  });

  it("escapes placeholders such as <image> that GitHub would drop as HTML tags", () => {
    const r = runPlanCli(["--stack", "dev", "--markdown"], root);
    expect(r.stdout).toContain("(pulumi config set --path images.api &lt;image&gt;)");
    expect(r.stdout).not.toContain("<image>");
  });
});
