// The backup step and its settings as the plan decides them (src/plan/backup.ts, host.ts).
import { describe, expect, it } from "vitest";
import { parseConfig, type RawConfig } from "../../src/config/parse";
import { nestedValue } from "../../src/config/pulumi-config";
import { backupPayload, backupSecretsFile, EXAMPLE_BACKUP_REPOSITORY } from "../../src/plan/backup";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";

const REPO = "s3:https://s3.example.org/bucket/redis";
const on = (extra: Record<string, unknown> = {}): RawConfig => ({
  stage: 1,
  backup: { enabled: true, repository: REPO, ...extra },
});
const plan = (raw: RawConfig, forDeploy = false) =>
  makePlan(parseConfig("dev", raw), snapshotCatalog(), undefined, { forDeploy });

describe("backup step", () => {
  it("is absent by default: no step, no budget line, BACKUP_MAX_AGE_H 0", () => {
    const p = plan({ stage: 1 });
    expect(p.host!.steps.map((s) => s.name)).toEqual(["ready", "admin-keys", "swap", "docker", "watchdog"]);
    expect(p.host!.backup).toBeUndefined();
    expect(p.budget!.backupMb).toBeUndefined();
    expect(p.host!.watchdog.env).toContain("BACKUP_MAX_AGE_H='0'\n");
  });

  it("runs after Docker with the schedule and the settings' hash; restic's 96 MB is in the budget", () => {
    const off = plan({ stage: 1 });
    const p = plan(on({ schedule: "daily", keepDaily: 3, keepWeekly: 0, maxAgeHours: 30 }));
    const step = p.host!.steps.find((s) => s.name === "backup")!;
    expect(step).toMatchObject({ script: "install-backup.sh", after: ["docker"], payload: "backup" });
    expect(step.args[0]).toBe("daily");
    expect(step.args[1]).toMatch(/^[0-9a-f]{16}$/);
    expect(p.host!.backup!.env).toBe(`RESTIC_REPOSITORY=${REPO}\nKEEP_DAILY=3\nKEEP_WEEKLY=0\nSTACK=dev\n`);
    expect(p.budget!.backupMb).toBe(96);
    expect(p.budget!.totalMb - off.budget!.totalMb).toBe(96);
    expect(p.host!.watchdog.env).toContain("BACKUP_MAX_AGE_H='30'\n");
  });

  it("a schedule change changes only the backup step's arguments; retention changes its hash", () => {
    const a = plan(on());
    const b = plan(on({ schedule: "*-*-* 04:00:00" }));
    const c = plan(on({ keepDaily: 9 }));
    const others = (p: ReturnType<typeof plan>) => p.host!.steps.filter((s) => s.name !== "backup");
    expect(others(b)).toEqual(others(a));
    expect(b.host!.watchdog).toEqual(a.host!.watchdog);
    const args = (p: ReturnType<typeof plan>) => p.host!.steps.find((s) => s.name === "backup")!.args;
    expect(args(a)).toEqual(["*-*-* 03:15:00", args(a)[1]]);
    expect(args(b)).toEqual(["*-*-* 04:00:00", args(a)[1]]);
    expect(args(c)[1]).not.toBe(args(a)[1]);
    expect(b.app).toEqual(a.app);
    expect(b.hetzner).toEqual(a.hetzner);
  });

  it("pulumi up refuses missing backup secrets; the offline plan does not", () => {
    expect(plan(on()).errors).toEqual([]);
    expect(plan({ ...on(), botToken: "x" }, true).errors).toEqual([
      "backup/password: is required when backup/enabled is true, and pulumi up refuses to run without it (pulumi config set --secret --path backup.password <value>)",
      "backup/accessKeyId: is required when backup/enabled is true, and pulumi up refuses to run without it (pulumi config set --secret --path backup.accessKeyId <value>)",
      "backup/secretAccessKey: is required when backup/enabled is true, and pulumi up refuses to run without it (pulumi config set --secret --path backup.secretAccessKey <value>)",
    ]);
    const all = on({ password: "p", accessKeyId: "a", secretAccessKey: "s" });
    expect(plan({ ...all, botToken: "x" }, true).errors).toEqual([]);
  });

  it("warns while the repository is still the README's example, like the example images", () => {
    const w = plan({ stage: 1, backup: { enabled: true, repository: EXAMPLE_BACKUP_REPOSITORY } }).warnings;
    expect(w).toContain(
      `backup/repository: still the example repository ${EXAMPLE_BACKUP_REPOSITORY}: set your own (pulumi config set --path backup.repository s3:https://<endpoint>/<bucket>/redis)`,
    );
    expect(plan(on()).warnings.some((x) => x.startsWith("backup/"))).toBe(false);
  });

  it("the payload carries five base64 lines in the installer's order", () => {
    const text = backupPayload({
      backupScript: "B",
      restoreScript: "R",
      env: "E\n",
      secrets: backupSecretsFile("ak", "sk"),
      password: "pw",
    });
    const lines = text.trim().split("\n");
    expect(lines.map((l) => l.split("=")[0])).toEqual([
      "BACKUP_SCRIPT_B64",
      "RESTORE_SCRIPT_B64",
      "BACKUP_ENV_B64",
      "BACKUP_SECRETS_B64",
      "BACKUP_PASSWORD_B64",
    ]);
    const decoded = lines.map((l) => Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString("utf8"));
    expect(decoded).toEqual(["B", "R", "E\n", "AWS_ACCESS_KEY_ID=ak\nAWS_SECRET_ACCESS_KEY=sk\n", "pw\n"]);
    expect(() =>
      backupPayload({ backupScript: "", restoreScript: "", env: "", secrets: "", password: "a\nb" }),
    ).toThrow("backup/password: cannot hold a line break");
    expect(() =>
      backupPayload({ backupScript: "", restoreScript: "", env: "", secrets: "", password: "a\rb" }),
    ).toThrow("backup/password: cannot hold a line break");
  });
});

describe("backup config", () => {
  it("requires a repository when enabled, and refuses a malformed one or schedule", () => {
    expect(() => parseConfig("dev", { stage: 1, backup: { enabled: true } })).toThrow(
      "backup/repository: is required when backup/enabled is true (pulumi config set --path backup.repository s3:https://fsn1.your-objectstorage.com/<bucket>/redis)",
    );
    expect(() => parseConfig("dev", on({ repository: "s3:bucket" }))).toThrow(
      'backup/repository: should be a restic S3 repository such as s3:https://fsn1.your-objectstorage.com/<bucket>/redis (got "s3:bucket")',
    );
    expect(() => parseConfig("dev", on({ schedule: "daily; rm -rf /" }))).toThrow(
      "backup/schedule: should be",
    );
    expect(() => parseConfig("dev", on({ keepDaily: 0 }))).toThrow(
      "backup/keepDaily: should be an integer between 1 and 365",
    );
    expect(() => parseConfig("dev", { stage: 1, alerts: { diskPercent: 40 } })).toThrow(
      "alerts/diskPercent: should be an integer between 50 and 99 (got 40)",
    );
  });

  it("reads nested secrets from a stack file (secure leaves) and refuses them in plain text with the --path command", () => {
    const cfg = parseConfig(
      "prod",
      { stage: 2, backup: { enabled: true, repository: REPO, password: { secure: "v1:abc" } } },
      { fromStackFile: true },
    );
    expect(cfg.secrets["backup/password"]).toBe(true);
    expect(cfg.secrets["backup/accessKeyId"]).toBe(false);
    expect(() =>
      parseConfig(
        "prod",
        { stage: 2, backup: { enabled: true, repository: REPO, password: "plain" } },
        { fromStackFile: true },
      ),
    ).toThrow(
      "backup/password: must be stored encrypted: pulumi config set --secret --path backup.password <value>",
    );
    expect(() =>
      parseConfig("prod", { stage: 2, alerts: { heartbeatUrl: { secure: "" } } }, { fromStackFile: true }),
    ).toThrow(
      "alerts/heartbeatUrl: its encrypted value is empty (pulumi config set --secret --path alerts.heartbeatUrl <value>)",
    );
  });

  it("reads nested secrets at run time from the structured value Pulumi passes (JSON), digits as text", () => {
    const cfg = parseConfig("dev", {
      stage: 1,
      backup: JSON.stringify({ enabled: true, repository: REPO, password: 12345678901234567890 }),
    });
    expect(cfg.secrets["backup/password"]).toBe(true);
    expect(nestedValue('{"enabled":true,"password":12345678901234567890}', ["password"])).toBe(
      "12345678901234567890",
    );
    expect(nestedValue('{"password":"pw"}', ["password"])).toBe("pw");
    expect(() => nestedValue('{"enabled":true}', ["password"])).toThrow();
  });
});
