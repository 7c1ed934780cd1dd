// The off-box Redis backup (issue 15): what the `backup` host step installs, as text. Pure: the
// scripts' contents and the secrets are passed in, so the payload is testable as a string. The host
// side is scripts/install-backup.sh (reads the payload), backup-redis.sh and restore-redis.sh.
import type { StackConfig } from "../config/types";

/** The README's example repository; a stack that still has it is warned, like the example images. */
export const EXAMPLE_BACKUP_REPOSITORY = "s3:https://fsn1.your-objectstorage.com/CHANGE-ME/redis";

/**
 * restic's memory, counted as a line of the budget while backups are on. test/real/backup.test.ts
 * measured restic 0.14's peak RSS (GNU time's "Maximum resident set size", 3,000 queued jobs, a
 * 247 KB dump): 87 MB for `init` (its key derivation, once per repository), 59 MB for `backup` and
 * 55 MB for `forget --prune`; one runs at a time. 96 MB is the peak plus headroom for a larger
 * index. (The systemd unit's MemoryMax=384M in install-backup.sh stops a runaway; it is not this.)
 */
export const RESTIC_BUDGET_MB = 96;

/** Where backup-redis.sh leaves backup-last-ok and backup-last-run for the watchdog. */
export const BACKUP_STATE_DIR = "/var/lib/app-infra";

/** The settings file (/etc/app-infra/backup.env): no secret in it. */
export function backupEnv(cfg: StackConfig): string {
  const repository = cfg.backup.repository;
  if (repository === undefined) throw new Error("internal: backups are on without backup/repository");
  return (
    [
      `RESTIC_REPOSITORY=${repository}`,
      `KEEP_DAILY=${cfg.backup.keepDaily}`,
      `KEEP_WEEKLY=${cfg.backup.keepWeekly}`,
      // restic's --host: the stack, so a rebuilt server's snapshots stay in one series.
      `STACK=${cfg.stack}`,
    ].join("\n") + "\n"
  );
}

/** The S3 keys file (/etc/app-infra/backup.secrets); values are single-line secrets. */
export function backupSecretsFile(accessKeyId: string, secretAccessKey: string): string {
  for (const v of [accessKeyId, secretAccessKey])
    if (/[\r\n]/.test(v)) throw new Error("backup: an S3 key cannot hold a line break");
  return `AWS_ACCESS_KEY_ID=${accessKeyId}\nAWS_SECRET_ACCESS_KEY=${secretAccessKey}\n`;
}

export interface BackupPayloadInput {
  backupScript: string;
  restoreScript: string;
  env: string;
  secrets: string;
  password: string;
}

/**
 * install-backup.sh's stdin payload, appended after the script as the watchdog's is: one
 * KEY=base64 line each, all five required, so no value is in any command line.
 */
export function backupPayload(p: BackupPayloadInput): string {
  if (/[\r\n]/.test(p.password)) throw new Error("backup/password: cannot hold a line break");
  const b64 = (t: string) => Buffer.from(t, "utf8").toString("base64");
  return (
    [
      `BACKUP_SCRIPT_B64=${b64(p.backupScript)}`,
      `RESTORE_SCRIPT_B64=${b64(p.restoreScript)}`,
      `BACKUP_ENV_B64=${b64(p.env)}`,
      `BACKUP_SECRETS_B64=${b64(p.secrets)}`,
      `BACKUP_PASSWORD_B64=${b64(`${p.password}\n`)}`,
    ].join("\n") + "\n"
  );
}

/** The secrets `pulumi up` needs when backups are on (the offline plan cannot see them). */
export const BACKUP_SECRET_PATHS = [
  "backup/password",
  "backup/accessKeyId",
  "backup/secretAccessKey",
] as const;
