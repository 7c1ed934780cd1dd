// Issue 15 on the VM: the backup step that `pulumi up` installed, a drill (enqueue, back up, lose
// the redis-data volume, recreate it by `pulumi up`, restore, compare), the watchdog's heartbeat
// seen to stop and resume, and the disk alert fired and resolved by a full `/`.
import { REDIS_VOLUME } from "../../../src/plan/services";
import type { Deployed } from "../context";
import { appRun, shellJoin, waitHealthy } from "../remote";
import { secs, type Results } from "../results";
import { sleep } from "../vm";

const WATCHDOG = "app-infra-watchdog";
const BACKUP_UNIT = "app-infra-backup.service";
/**
 * The drill's jobs go to a logical database of their own, in the queue of a name no worker
 * consumes: database 0's DBSIZE moves by itself (finished jobs expire after RQ's result_ttl, the
 * workers register and unregister, the bot renews its lock), so only a database that holds the
 * drill's jobs alone can be compared exactly. The backup is the whole RDB, every database.
 */
const DRILL_DB = 1;
const DRILL_QUEUE = "lab-backup-drill";
const DRILL_JOBS = 300;
/** Written by the measuring drop-in below (runtime, under /run: gone after the drill or a reboot). */
const TIME_LOG = "/run/app-infra-lab-restic-time.log";
const PEAK_FILE = "/run/app-infra-lab-backup-memory-peak";
const DROP_IN = `/run/systemd/system/${BACKUP_UNIT}.d/lab-measure.conf`;

const cli = (db: number, ...args: string[]) =>
  shellJoin(["docker", "exec", "redis", "redis-cli", "-n", String(db), ...args]);

async function counts(d: Deployed) {
  const out = await d.ssh.must(
    "redis counts",
    [
      cli(DRILL_DB, "DBSIZE"),
      cli(DRILL_DB, "LLEN", `rq:queue:${DRILL_QUEUE}`),
      cli(0, "GET", "app:jobs_done"),
      cli(0, "DBSIZE"),
    ].join("; "),
  );
  const [dbsize, llen, jobsDone, db0size] = out.trim().split("\n");
  return {
    dbsize: Number(dbsize),
    llen: Number(llen),
    jobsDone: jobsDone ?? "",
    db0Dbsize: Number(db0size),
  };
}

/** restic's peak RSS per command from `/usr/bin/time -v -a` blocks. */
export function resticPeaks(log: string): { command: string; mb: number }[] {
  return log
    .split(/\n(?=\s*Command being timed)/)
    .map((block) => ({
      command: /Command being timed: "restic .*?--password-file \S+ ([a-z]+)/.exec(block)?.[1] ?? "?",
      kb: Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(block)?.[1] ?? NaN),
    }))
    .filter((x) => !Number.isNaN(x.kb))
    .map((x) => ({ command: x.command, mb: Math.round(x.kb / 102.4) / 10 }));
}

/**
 * Fills `/` (the root file system, which also holds /var/lib/docker in the VM) past
 * alerts/diskPercent with fallocate — blocks reserved, nothing written, so the host's disk image
 * does not grow — waits for the watchdog's "disk" alert, removes the file and waits for the
 * resolution. Runs beside the jobs phase: both only wait for the watchdog.
 */
export async function diskAlert(d: Deployed, r: Results) {
  const threshold = d.cfg.alerts.diskPercent;
  const file = "/var/tmp/app-infra-lab-disk-fill";
  const df = async () =>
    (await d.ssh.must("df", "df -P -B1 / | awk 'NR==2 {print $2, $3, $4, $5}'")).trim().split(" ");
  const [size, used, avail, pctBefore] = await df();
  // df's Use% is used / (used + available), rounded up; aim 4 points past the threshold.
  const target = Math.min(99, threshold + 4);
  const need = Math.ceil(((Number(used) + Number(avail)) * target) / 100) - Number(used);
  if (!(need > 0)) throw new Error(`/ is already ${pctBefore} full: the disk alert cannot be tested`);
  const s = Date.now();
  await d.ssh.must("fill /", `fallocate -l ${need} ${file}`);
  const [, , , pctFull] = await df();
  const alerts = d.receiver.alerts;
  const waitFor = async (state: string) => {
    const until = Date.now() + (4 * d.cfg.alerts.intervalS + 120) * 1000 * d.slow;
    for (;;) {
      const a = alerts.find((x) => x.body.alert === "disk" && x.body.state === state && x.at >= s);
      if (a || Date.now() > until) return a;
      await sleep(2000);
    }
  };
  const fired = await waitFor("firing");
  await d.ssh.must("unfill /", `rm -f ${file}`);
  const freedAt = Date.now();
  const resolved = fired ? await waitFor("resolved") : undefined;
  const [, , , pctAfter] = await df();
  r.figure("diskAlert", {
    rootBytes: Number(size),
    usePercent: { before: pctBefore, filled: pctFull, after: pctAfter },
    threshold,
    firedAfterS: fired ? secs(fired.at - s) : null,
    resolvedAfterS: resolved ? secs(resolved.at - freedAt) : null,
  });
  r.check(
    `/ filled past alerts/diskPercent ${threshold} % (${pctFull}): the watchdog's "disk" alert reaches the receiver`,
    !!fired,
    fired
      ? `${fired.body.text} (+${secs(fired.at - s)} s)`
      : `received: ${alerts.map((a) => `${a.body.alert}/${a.body.state}`).join(", ") || "nothing"}`,
  );
  r.check(
    `the disk alert resolves once the file is removed (${pctAfter})`,
    !!resolved,
    resolved ? `${resolved.body.text ?? ""} (+${secs(resolved.at - freedAt)} s)` : "no resolution received",
  );
}

/** Pings recorded since `t` (the heartbeat, not its `/fail`). */
const okPings = (d: Deployed, t: number) =>
  d.receiver.pings.filter((p) => p.at > t && !p.path.endsWith("/fail"));

/**
 * The drill. The watchdog timer is stopped for its length (the heartbeat must stop: the part an
 * outside service relies on), then started again; `heartbeatsResumed` checks the pings come back.
 * Returns the time the timer was started again.
 */
export async function backupDrill(d: Deployed, r: Results): Promise<number> {
  const { ssh, slow } = d;
  const intervalS = d.cfg.alerts.intervalS;
  const pings = d.receiver.pings;
  const fails = pings.filter((p) => p.path.endsWith("/fail"));
  const recent = okPings(d, Date.now() - 4 * intervalS * 1000 * slow);
  r.check(
    "the watchdog pings alerts/heartbeatUrl while it runs (the receiver's heartbeat path)",
    recent.length > 0,
    `${okPings(d, 0).length} pings since the deploy, ${recent.length} in the last ${4 * intervalS * slow} s; ${fails.length} to /fail`,
  );

  await ssh.must(
    "stop the watchdog",
    // A oneshot run in progress is "activating" (is-active exits non-zero for it too): wait for
    // the run to end, so its own last ping is not counted as one sent with the timer stopped.
    `systemctl stop ${WATCHDOG}.timer && for _ in $(seq 600); do case $(systemctl is-active ${WATCHDOG}.service) in inactive | failed) exit 0 ;; esac; sleep 1; done; exit 1`,
    { timeoutS: 700 },
  );
  const stoppedAt = Date.now();
  let restartedAt = 0;
  const restartWatchdog = async () => {
    // Silent for at least three intervals, or the check below proves nothing.
    const wait = 3 * intervalS * 1000 - (Date.now() - stoppedAt);
    if (wait > 0) await sleep(wait);
    const during = pings.filter((p) => p.at > stoppedAt);
    r.check(
      "with the watchdog timer stopped, the heartbeat stops (what an outside service alerts on)",
      during.length === 0,
      `${during.length} pings in ${secs(Date.now() - stoppedAt)} s with the timer stopped (interval ${intervalS} s)${during.length ? `: at +${during.map((p) => secs(p.at - stoppedAt)).join(", +")} s` : ""}`,
    );
    await ssh.must("start the watchdog", `systemctl start ${WATCHDOG}.timer`);
    restartedAt = Date.now();
  };

  try {
    await drill(d, r);
  } finally {
    await restartWatchdog();
  }
  return restartedAt;
}

async function drill(d: Deployed, r: Results) {
  const { ssh, slow } = d;
  const timer = await ssh.exec(
    "systemctl is-enabled app-infra-backup.timer; systemctl is-active app-infra-backup.timer; command -v restic",
  );
  r.check(
    "`pulumi up` installed the backup: restic from the distribution, app-infra-backup.timer enabled and active",
    /^enabled\nactive\n\/usr\/bin\/restic$/.test(timer.stdout.trim()),
    timer.stdout.trim().replace(/\n/g, ", ") || timer.stderr.trim(),
  );

  // Jobs that stay queued, enqueued by RQ itself (the workers' library, from the app's image).
  const enqueue = [
    "import os, redis, rq",
    "r = redis.Redis.from_url(os.environ['REDIS_URL'])",
    "q = rq.Queue(os.environ['QUEUE'], connection=r)",
    "for i in range(int(os.environ['JOBS'])): q.enqueue('app.jobs.lab_never_runs', i, job_id='lab-drill-%d' % i)",
  ].join("\n");
  await ssh.must(
    "enqueue the drill's jobs",
    appRun(
      [
        "-e",
        `REDIS_URL=redis://redis:6379/${DRILL_DB}`,
        "-e",
        `QUEUE=${DRILL_QUEUE}`,
        "-e",
        `JOBS=${DRILL_JOBS}`,
      ],
      ["python3", "-c", enqueue],
    ),
    { timeoutS: 300 * slow },
  );
  const before = await counts(d);
  r.check(
    `${DRILL_JOBS} jobs queued in rq:queue:${DRILL_QUEUE} (database ${DRILL_DB}), no worker consumes them`,
    before.llen === DRILL_JOBS && before.dbsize >= DRILL_JOBS,
    JSON.stringify(before),
  );

  // Peak memory, two ways: restic's own peak RSS per command (/usr/bin/time -v around restic, by
  // backup-redis.sh's RESTIC variable) and the unit's cgroup v2 memory.peak, read by ExecStopPost
  // while the cgroup still exists (it includes page cache; systemd 252 has no MemoryPeak property).
  const t = Date.now();
  const timeInstalled = await ssh.exec(
    "command -v /usr/bin/time >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q --no-install-recommends time || { apt-get update -q && apt-get install -y -q --no-install-recommends time; }; } >/dev/null 2>&1; command -v /usr/bin/time",
    { timeoutS: 600 * slow },
  );
  const haveTime = timeInstalled.code === 0;
  r.figure("timeInstallS", secs(Date.now() - t));
  const dropIn = [
    "[Service]",
    ...(haveTime ? [`Environment="RESTIC=/usr/bin/time -v -a -o ${TIME_LOG} restic"`] : []),
    `ExecStopPost=/bin/sh -c 'cat /sys/fs/cgroup/system.slice/${BACKUP_UNIT}/memory.peak > ${PEAK_FILE}'`,
    "",
  ].join("\n");
  await ssh.must(
    "measuring drop-in",
    `rm -f ${TIME_LOG} ${PEAK_FILE}; mkdir -p ${DROP_IN.replace(/\/[^/]+$/, "")} && cat > ${DROP_IN} && systemctl daemon-reload`,
    { stdin: dropIn },
  );
  const bs = Date.now();
  const run = await ssh.exec(`systemctl start ${BACKUP_UNIT}`, { timeoutS: 1200 * slow });
  const backupWallS = secs(Date.now() - bs);
  const info = await ssh.exec(
    [
      `systemctl show -p Result -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic ${BACKUP_UNIT}`,
      "echo ---",
      "cat /var/lib/app-infra/backup-last-run 2>&1",
      "echo ---",
      `cat ${PEAK_FILE} 2>&1`,
      "echo ---",
      `cat ${TIME_LOG} 2>/dev/null`,
      "echo ---",
      `journalctl -u ${BACKUP_UNIT} -n 15 --no-pager -o cat 2>&1`,
    ].join("; "),
  );
  await ssh.exec(`rm -f ${DROP_IN} ${TIME_LOG} ${PEAK_FILE}; systemctl daemon-reload`);
  const [show = "", lastRun = "", peak = "", timeLog = "", journal = ""] = info.stdout.split("---\n");
  const props = Object.fromEntries(
    show
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const unitS =
    Math.round(
      (Number(props.ExecMainExitTimestampMonotonic) - Number(props.ExecMainStartTimestampMonotonic)) / 1e5,
    ) / 10;
  const peaks = resticPeaks(timeLog);
  const peakMb = Number(peak.trim()) / 1024 / 1024;
  const backupFigures = {
    backupS: unitS,
    backupWallS,
    resticPeakRssMb: peaks.length ? Math.max(...peaks.map((p) => p.mb)) : null,
    resticPeakRssByCommandMb: peaks,
    unitMemoryPeakMb: Number.isFinite(peakMb) && peakMb > 0 ? Math.round(peakMb * 10) / 10 : peak.trim(),
    rssMethod: haveTime
      ? "/usr/bin/time -v around each restic command (RESTIC=, a runtime drop-in); memory.peak of the unit's cgroup v2 (ExecStopPost)"
      : "memory.peak of the unit's cgroup v2 only (ExecStopPost): /usr/bin/time could not be installed",
    lastRun: lastRun.trim(),
  };
  r.figure("backup", backupFigures);
  const ok = r.check(
    "`systemctl start app-infra-backup.service` backs up Redis to the S3 server on the host, and records ok",
    run.code === 0 && props.Result === "success" && /^\d+ ok /.test(lastRun.trim()),
    `exit ${run.code}, Result=${props.Result}, ${unitS} s; ${lastRun.trim()}${run.code ? `; ${journal.trim().split("\n").slice(-6).join(" | ")}` : ""}`,
  );
  r.check(
    "the backup's peak memory was measured (restic peak RSS per command, the unit's memory.peak)",
    (!haveTime || peaks.some((p) => p.command === "backup")) &&
      typeof backupFigures.unitMemoryPeakMb === "number",
    `restic: ${peaks.map((p) => `${p.command} ${p.mb} MB`).join(", ") || "none"}; unit memory.peak ${backupFigures.unitMemoryPeakMb} MB`,
  );
  if (!ok) return; // nothing to restore from: leave the volume alone, so the rest of the lab runs

  const list = await ssh.exec("app-infra-restore-redis --list", { timeoutS: 300 * slow });
  r.check(
    "`app-infra-restore-redis --list` shows the snapshot",
    list.code === 0 && list.stdout.includes("/redis/dump.rdb"),
    (list.stdout.trim().split("\n").slice(-3).join(" | ") || list.stderr.trim()).slice(0, 400),
  );

  // The volume lost: Redis stopped and removed, the volume removed.
  await ssh.must(
    "destroy redis-data",
    `docker stop redis >/dev/null && docker rm redis >/dev/null && docker volume rm ${REDIS_VOLUME} >/dev/null`,
    { timeoutS: 300 * slow },
  );
  const gone = await ssh.exec(`docker volume inspect ${REDIS_VOLUME} >/dev/null 2>&1 || echo gone`);
  r.check(
    `the ${REDIS_VOLUME} volume and the redis container are removed`,
    gone.stdout.trim() === "gone",
    gone.stdout.trim(),
  );

  // What does the program do about it? A plain preview compares the program with the state, which
  // still lists both: the engine reads nothing back without --refresh.
  const plain = await d.pulumi.op(
    r,
    "preview after the volume is lost (no refresh)",
    ["preview", "--json"],
    900 * slow,
  );
  const volumeUrnName = `app-${d.plan.app.volume.resource}`;
  r.figure("volumeLostPlainPreview", { ok: plain.ok, changes: plain.changes, steps: plain.steps });
  // The README's reconcile command (`pulumi up --refresh --run-program`): the refresh finds both
  // gone (the Docker provider drops a volume or container it cannot find from the state), the up
  // creates them again.
  const up = await d.pulumi.op(
    r,
    "up --refresh after the volume is lost",
    ["up", "--yes", "--skip-preview", "--refresh", "--run-program"],
    1800 * slow,
  );
  const created = up.steps.create ?? [];
  r.check(
    "`pulumi up --refresh --run-program` recreates the lost volume and the redis container",
    up.ok && created.includes(volumeUrnName) && created.includes("app-redis"),
    up.ok ? `created: ${created.join(", ")}; ${JSON.stringify(up.changes)}` : (up.error ?? ""),
  );
  const h = await waitHealthy(ssh, ["redis"], 300 * slow);
  const empty = await counts(d);
  r.check(
    "the recreated Redis starts empty (the volume really was lost)",
    h.ok && empty.dbsize === 0 && empty.llen === 0,
    `${h.detail}; ${JSON.stringify(empty)}`,
  );

  // Restore; --force only when the script refuses (it then says why: what the running apps wrote).
  const rs = Date.now();
  let restore = await ssh.exec("app-infra-restore-redis latest", { timeoutS: 900 * slow });
  let forced = "";
  if (restore.code !== 0 && /holds data/.test(restore.stderr)) {
    const keys = await ssh.exec(`${cli(0, "--scan")} | head -8`);
    forced = `refused without --force: ${restore.stderr.trim().split("\n").pop()}; keys the running apps had written: ${keys.stdout.trim().replace(/\n/g, ", ")}`;
    restore = await ssh.exec("app-infra-restore-redis latest --force", { timeoutS: 900 * slow });
  }
  const restoreWallS = secs(Date.now() - rs);
  r.check(
    `\`app-infra-restore-redis latest${forced ? " --force" : ""}\` restores the snapshot`,
    restore.code === 0,
    `${restore.stdout.trim().split("\n").slice(-2).join(" | ")} ${restore.stderr.trim().split("\n").slice(-3).join(" | ")}`.trim(),
  );
  const healthy = await waitHealthy(
    ssh,
    d.plan.services.map((s) => s.name),
    300 * slow,
  );
  const after = await counts(d);
  r.figure("restore", { restoreWallS, forced: forced || "no (--force not needed)", before, after });
  r.check(
    `after the restore DBSIZE (database ${DRILL_DB}) and LLEN rq:queue:${DRILL_QUEUE} equal the values at the backup`,
    after.dbsize === before.dbsize && after.llen === before.llen,
    `DBSIZE ${before.dbsize} → ${after.dbsize}, LLEN ${before.llen} → ${after.llen}`,
  );
  r.check(
    "after the restore database 0 has its data back (app:jobs_done), and every container is healthy",
    after.jobsDone === before.jobsDone && before.jobsDone !== "" && healthy.ok,
    `app:jobs_done ${before.jobsDone} → ${after.jobsDone}; ${healthy.detail}`,
  );
  await ssh.exec(cli(DRILL_DB, "FLUSHDB"));
}

/** The heartbeat comes back after the watchdog timer is started again (checked a phase later, so nobody waits for it). */
export async function heartbeatsResumed(d: Deployed, r: Results, since: number) {
  const until = since + (4 * d.cfg.alerts.intervalS + 120) * 1000 * d.slow;
  while (okPings(d, since).length === 0 && Date.now() < until) await sleep(2000);
  const first = okPings(d, since)[0];
  r.check(
    "with the watchdog timer started again, the heartbeat resumes",
    !!first,
    first ? `first ping ${secs(first.at - since)} s after the restart` : "no ping",
  );
}
