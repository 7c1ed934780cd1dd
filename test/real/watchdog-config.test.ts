// The thresholds file the program writes (src/plan/watchdog.ts) is read by the real watchdog
// script without a single complaint, and every value lands where the plan meant it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { watchdogEnv, watchdogSecretsFile } from "../../src/plan/watchdog";

const dir = mkdtempSync(join(tmpdir(), "wd-cfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function status(raw: Record<string, unknown>, secrets = "") {
  const cfg = parseConfig("dev", { stage: 2, ...raw });
  writeFileSync(join(dir, "watchdog.env"), watchdogEnv(cfg, makePlan(cfg, snapshotCatalog())));
  writeFileSync(join(dir, "watchdog.secrets"), secrets);
  const r = spawnSync("bash", [join(__dirname, "..", "..", "scripts", "watchdog.sh"), "--status"], {
    encoding: "utf8",
    env: {
      ...process.env,
      WATCHDOG_ENV: join(dir, "watchdog.env"),
      WATCHDOG_SECRETS: join(dir, "watchdog.secrets"),
      PROC_ROOT: join(dir, "no-proc"),
      STATE_DIR: join(dir, "state"),
      REDIS_CLI: "false",
      CPU_SAMPLE_S: "0",
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("the program's watchdog config on the real watchdog script", () => {
  it("is accepted without warnings and shows the plan's thresholds", () => {
    const r = status({ alerts: { queueLength: 42, swapPercent: 60, telegramChatId: "-100123" } });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("stack dev, stage 2");
    expect(r.out).toMatch(/queue img_queue .* 42 jobs/);
    expect(r.out).toMatch(/swap .* 60 %/);
    // The fixed names; the API (`@api=api`) is listed by label at each run, so without a Docker
    // engine here it has no row, and its entry drew no warning (stderr is empty).
    for (const c of ["redis", "proxy", "bot", "worker-image-1", "worker-image-2"])
      expect(r.out).toContain(`container ${c}`);
    expect(r.out).not.toContain("container api");
    expect(r.out).toContain("alerts fire after 5 min, repeat every 60 min");
    // No domain: plain HTTP through the proxy, no certificate to read.
    expect(r.out).not.toContain("certificate");
  });

  it("with a domain the API is checked over https through loopback, and the certificate has a row", () => {
    const r = status({ domain: "api.wdtest.example", alerts: { certMinDays: 21 } });
    expect(r.err).toBe("");
    expect(r.out).toMatch(/\ncertificate\s+not read\s+21 days\s+n\/a\n/);
  });

  it("the secrets file turns delivery on, and --status never prints a secret", () => {
    const r = status(
      { alerts: { telegramChatId: "-100123" } },
      watchdogSecretsFile("123:tok-secret", "https://hooks.example/x-secret"),
    );
    expect(r.err).toBe("");
    expect(r.out).not.toMatch(/tok-secret|x-secret/);
    expect(r.out).toMatch(/telegram: on/);
    expect(r.out).toMatch(/webhook: on/);
  });
});
