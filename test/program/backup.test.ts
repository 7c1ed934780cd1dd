// Backups on (issue 15): the backup step is installed after Docker, and its secrets (the restic
// password, both S3 keys) and the heartbeat URL reach the host only inside a secret stdin, never in
// a command line, a trigger or an environment. Every secret has a distinct value, so an assertion
// can tell which one reached which place. Backups off by default is pinned in dev-stage1.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { readScript } from "../../components/host";
import { runProgram, type ProgramRun } from "../support/mocks";
import { diffRecordings, record } from "../support/record";
import { T } from "./hetzner-stack";

const PASSWORD = "restic-pw-prog-7a1c";
const ACCESS_KEY = "AKID-prog-2b9e";
const SECRET_KEY = "s3-secret-prog-5d3f";
const HEARTBEAT = "https://hc-ping.example.org/hb-prog-8e4a";
const SECRETS = [PASSWORD, ACCESS_KEY, SECRET_KEY, HEARTBEAT];
const REPO = "s3:https://s3.example.org/acme-backups/redis";

let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram(
    "qa",
    {
      stage: "1",
      images: { api: "ghcr.io/acme/api:1", bot: "ghcr.io/acme/bot:1", worker: "ghcr.io/acme/worker:1" },
      botToken: "123:bot",
      // As `pulumi config set --secret --path backup.password …` leaves it: one structured value
      // under `app-infra:backup`, secret as a whole.
      backup: {
        enabled: true,
        repository: REPO,
        schedule: "Mon..Fri 02:30",
        keepDaily: 5,
        keepWeekly: 3,
        maxAgeHours: 30,
        password: PASSWORD,
        accessKeyId: ACCESS_KEY,
        secretAccessKey: SECRET_KEY,
      },
      alerts: { heartbeatUrl: HEARTBEAT, diskPercent: 80 },
    },
    ["botToken", "backup", "alerts"],
  );
});

// The shipped text (scripts/lib inlined), as index.ts sends it.
const script = (f: string) => readScript(f);
const payloadOf = (stdin: string, installer: string) =>
  Object.fromEntries(
    stdin
      .slice(script(installer).length)
      .trim()
      .split("\n")
      .map((l) => [l.split("=")[0]!, Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString("utf8")]),
  );

describe("backups on", () => {
  it("installs the backup step after Docker with the schedule and the settings' hash as its only arguments", () => {
    const b = run.one(T.command, "host-backup");
    expect(run.options["host-backup"]!.dependsOn).toEqual(["server-vm", "host-docker"]);
    expect(b.inputs.create).toMatch(/^bash -s -- 'Mon\.\.Fri 02:30' [0-9a-f]{16}$/);
    expect(b.inputs.logging).toBe("none");
    expect(b.secretInputs).toContain("stdin");
    expect(run.options["host-backup"]!.additionalSecretOutputs).toEqual(
      expect.arrayContaining(["stdout", "stderr"]),
    );
  });

  it("sends the scripts, settings and each secret in its own payload line, on stdin only", () => {
    const stdin: string = run.one(T.command, "host-backup").inputs.stdin;
    expect(stdin.startsWith(script("install-backup.sh"))).toBe(true);
    const p = payloadOf(stdin, "install-backup.sh");
    expect(Object.keys(p)).toEqual([
      "BACKUP_SCRIPT_B64",
      "RESTORE_SCRIPT_B64",
      "BACKUP_ENV_B64",
      "BACKUP_SECRETS_B64",
      "BACKUP_PASSWORD_B64",
    ]);
    expect(p.BACKUP_SCRIPT_B64).toBe(script("backup-redis.sh"));
    expect(p.RESTORE_SCRIPT_B64).toBe(script("restore-redis.sh"));
    expect(p.BACKUP_ENV_B64).toBe(`RESTIC_REPOSITORY=${REPO}\nKEEP_DAILY=5\nKEEP_WEEKLY=3\nSTACK=qa\n`);
    expect(p.BACKUP_SECRETS_B64).toBe(
      `AWS_ACCESS_KEY_ID=${ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY=${SECRET_KEY}\n`,
    );
    expect(p.BACKUP_PASSWORD_B64).toBe(`${PASSWORD}\n`);
  });

  it("puts the heartbeat URL in the watchdog's secrets and the backup's age and disk level in its settings", () => {
    const p = payloadOf(run.one(T.command, "host-watchdog").inputs.stdin, "install-watchdog.sh");
    // No telegramChatId: the bot token stays off the box; the heartbeat URL is the only secret.
    expect(p.WATCHDOG_SECRETS_B64).toBe(`HEARTBEAT_URL=${HEARTBEAT}\n`);
    expect(p.WATCHDOG_ENV_B64).toContain("BACKUP_MAX_AGE_H='30'\n");
    expect(p.WATCHDOG_ENV_B64).toContain("DISK_PERCENT='80'\n");
    expect(p.WATCHDOG_ENV_B64).not.toContain(HEARTBEAT);
  });

  it("no secret is in any command line, trigger, environment or non-stdin input of any resource", () => {
    for (const r of run.resources) {
      const { stdin: _, ...rest } = r.inputs as Record<string, unknown>;
      const text = JSON.stringify(rest);
      for (const s of SECRETS) expect(text, `${r.type} ${r.name}`).not.toContain(s);
    }
    const commands = run.byType(T.command);
    for (const c of commands) {
      if (c.name === "host-backup" || c.name === "host-watchdog") continue;
      for (const s of SECRETS) expect(String(c.inputs.stdin ?? ""), c.name).not.toContain(s);
    }
  });

  it("counts restic's 96 MB as a budget line", () => {
    expect(run.outputs.capacity.budget.backupMb).toBe(96);
  });
});

describe("a schedule change", () => {
  it("re-installs only the backup step: two recorded programs differ in host-backup's inputs alone", async () => {
    const config = (schedule: string) => ({
      stage: "1",
      images: { api: "ghcr.io/acme/api:1", bot: "ghcr.io/acme/bot:1", worker: "ghcr.io/acme/worker:1" },
      botToken: "123:bot",
      backup: {
        enabled: true,
        repository: REPO,
        schedule,
        password: PASSWORD,
        accessKeyId: ACCESS_KEY,
        secretAccessKey: SECRET_KEY,
      },
    });
    // One program per process (Pulumi's runtime state): each configuration in its own child.
    const [a, b] = await Promise.all([
      record("qa", config("*-*-* 03:15:00"), ["botToken", "backup"]),
      record("qa", config("Mon..Fri 02:30"), ["botToken", "backup"]),
    ]);
    expect(diffRecordings(a.resources, b.resources)).toEqual({
      changed: ["host-backup"],
      added: [],
      removed: [],
    });
    const create = (r: typeof a) => r.resources.find((x) => x.name === "host-backup")!.inputs.create;
    expect(create(a)).toMatch(/^bash -s -- '\*-\*-\* 03:15:00' [0-9a-f]{16}$/);
    expect(create(b)).toMatch(/^bash -s -- 'Mon\.\.Fri 02:30' [0-9a-f]{16}$/);
  });
});
