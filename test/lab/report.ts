// The lab's report (test/lab/out/report.{json,md}): pure rendering of the results.
import type { MemoryAtRest } from "./remote";
import type { Results } from "./results";

const cell = (s: unknown) =>
  String(s ?? "—")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");

export function reportJson(r: Results, at: string) {
  return {
    at,
    passed: r.failed.length === 0,
    figures: r.figures,
    timingsS: r.timings,
    operations: r.operations,
    findings: r.findings,
    checks: r.checks,
  };
}

export function reportMarkdown(r: Results, at: string): string {
  const f = r.figures;
  const m = f.memoryAtRest as MemoryAtRest | undefined;
  const bump = f.imageBump as Record<string, any> | undefined;
  const redis = f.redisReplace as Record<string, any> | undefined;
  const backup = f.backup as Record<string, any> | undefined;
  const restore = f.restore as Record<string, any> | undefined;
  const disk = f.diskAlert as Record<string, any> | undefined;
  return [
    `# app-infra VM lab, real engine — ${r.failed.length === 0 ? "passed" : "FAILED"} (${at})`,
    "",
    `Accelerator: **${f.accel ?? "?"}** (${f.accelReason ?? ""}). Image cache: ${f.imageCache ?? "?"}. Engine: ${f.engine ?? "?"}.`,
    "",
    "## Real Pulumi operations",
    "",
    "| step | result | seconds | Pulumi's summary | replaced / updated |",
    "|---|---|---|---|---|",
    ...r.operations.map(
      (o) =>
        `| ${cell(o.step)} | ${o.ok ? "ok" : "**failed**"} | ${o.seconds} | ${cell(JSON.stringify(o.changes))} | ${cell(
          Object.entries(o.steps)
            .map(([k, v]) => `${k}: ${v.join(", ")}`)
            .join("; "),
        )} |`,
    ),
    "",
    "Slowest steps of each operation over a minute (from the engine's event timestamps):",
    "",
    ...r.operations
      .filter((o) => o.seconds > 60 && o.slowest?.length)
      .map(
        (o) => `- ${cell(o.step)}: ${o.slowest!.map((s) => `${s.name} (${s.op}) ${s.seconds} s`).join(", ")}`,
      ),
    "",
    ...(bump
      ? [
          "## Image bump (api, bot, workers :1 → :2) while long jobs run",
          "",
          `Jobs enqueued ${bump.jobsEnqueued}, in flight at deploy ${bump.jobsInFlightAtDeploy}, finished ${bump.jobsFinished}: **jobs lost ${bump.jobsLost}**.`,
          `API from outside, through the edge proxy at a steady stream: ${bump.api?.requests} requests, **${bump.api?.failed} failed**, longest outage ${bump.api?.longestOutageS} s, p50 ${bump.api?.p50Ms} ms, p99 ${bump.api?.p99Ms} ms.`,
          `The bot's gap (stop-first: Telegram allows one poller): **${cell(JSON.stringify(bump.botGapS))} s**.`,
          `Downtime per service (s, from the stop signal to running/healthy): ${cell(JSON.stringify(bump.downtimeS))}.`,
          `Stop signals Docker saw: ${cell((bump.stopSignals ?? []).join("; "))}.`,
          "",
        ]
      : []),
    ...(redis
      ? [
          "## Redis replacement while a client writes",
          "",
          `Acknowledged writes: ${redis.writer?.acked}; **lost: ${redis.writer?.lost}**; client errors during the switch: ${redis.writer?.errors}. Redis down ${cell(redis.downtimeS)} s; stop signals: ${cell((redis.redisStopSignals ?? []).join(", "))}.`,
          "",
        ]
      : []),
    ...(backup
      ? [
          "## Backup, volume lost, restore (issue 15)",
          "",
          `Backup (app-infra-backup.service, restic to the S3 server on the host): **${backup.backupS} s** (unit), ${backup.backupWallS} s wall clock; ${cell(backup.lastRun)}.`,
          `restic peak RSS: **${cell(backup.resticPeakRssMb)} MB** (${cell((backup.resticPeakRssByCommandMb ?? []).map((p: any) => `${p.command} ${p.mb}`).join(", "))}); the unit's cgroup memory.peak ${cell(backup.unitMemoryPeakMb)} MB. Method: ${cell(backup.rssMethod)}.`,
          ...(restore
            ? [
                `Restore (\`app-infra-restore-redis latest\`): **${restore.restoreWallS} s**; --force: ${cell(restore.forced)}.`,
                `DBSIZE ${restore.before?.dbsize} → ${restore.after?.dbsize}, queue length ${restore.before?.llen} → ${restore.after?.llen}, app:jobs_done ${cell(restore.before?.jobsDone)} → ${cell(restore.after?.jobsDone)}.`,
              ]
            : []),
          ...(disk
            ? [
                `Disk alert: / at ${cell(disk.usePercent?.filled)} (threshold ${disk.threshold} %): fired after ${cell(disk.firedAfterS)} s, resolved ${cell(disk.resolvedAfterS)} s after the file was removed.`,
              ]
            : []),
          "",
        ]
      : []),
    "## Review findings, as the real engine showed them",
    "",
    ...(r.findings.length
      ? r.findings.map(
          (x) =>
            `- **${x.reproduced ? "reproduced" : "not reproduced"}** — finding ${x.id}: ${cell(x.detail)}`,
        )
      : ["- (none reached)"]),
    "",
    ...(m
      ? [
          "## Memory at rest (after the reboot, all containers up, queue empty)",
          "",
          `Used (MemTotal − MemAvailable): **${m.usedMb} MB** of ${m.memTotalMb} MB; the app's containers (anonymous memory): ${m.appContainersAnonMb} MB; everything that is not the app: **${m.nonAppUsedMb} MB** (kernel slab/stacks/page tables ${m.kernelMb} MB). Swap used: ${m.swapUsedMb} MB.`,
          "",
          "| container | charged MB | anon MB |",
          "|---|---|---|",
          ...m.containers.map((c) => `| ${c.name} | ${c.currentMb} | ${c.anonMb} |`),
          "",
        ]
      : []),
    "## Timings",
    "",
    Object.entries(r.timings)
      .map(([k, v]) => `${k} ${v} s`)
      .join("; "),
    "",
    "Figures: " +
      cell(
        JSON.stringify(
          Object.fromEntries(
            Object.entries(f).filter(
              ([k]) =>
                !["memoryAtRest", "imageBump", "redisReplace", "backup", "restore", "diskAlert"].includes(k),
            ),
          ),
        ),
      ),
    "",
    "## Checks",
    "",
    ...r.checks.map((c) => `- ${c.ok ? "✅" : "❌"} ${c.name}${c.detail ? ` — ${cell(c.detail)}` : ""}`),
    "",
  ].join("\n");
}
