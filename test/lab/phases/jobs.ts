// The queue under load: jobs through the API, `--max-jobs` restarts, and the watchdog's queue
// alert delivered from the VM to the receiver on the host.
import type { Deployed } from "../context";
import { inspect } from "../remote";
import { secs, type Results } from "../results";
import { sleep } from "../vm";
import { apiRequest } from "./checks";

export interface QueueStats {
  queued: number;
  done: number;
  started: number;
  failed: number;
}

export async function queueStats(d: Deployed): Promise<QueueStats | undefined> {
  const res = await apiRequest(d, "/stats", "GET", 30_000);
  return res.status === 200 ? (JSON.parse(res.body) as QueueStats) : undefined;
}

export async function enqueue(d: Deployed, count: number, sizeMb: number, holdS = 0) {
  return apiRequest(d, `/enqueue?count=${count}&size_mb=${sizeMb}&hold_s=${holdS}`, "POST");
}

const logStats = (s: QueueStats | undefined) => process.stdout.write(`[lab] jobs: ${JSON.stringify(s)}\n`);

/**
 * Polls /stats until `done` reaches `doneTarget` with an empty queue and nothing started, or — once
 * the queue is empty — until `done` has not moved for `stallS` (jobs a killed worker held stay
 * "started" until RQ's registry cleanup, minutes later: they are lost, not pending), or the deadline.
 */
export async function drain(
  d: Deployed,
  doneTarget: number,
  timeoutS: number,
  stallS = timeoutS,
): Promise<QueueStats | undefined> {
  const deadline = Date.now() + timeoutS * 1000;
  let stats: QueueStats | undefined;
  let lastLog = 0;
  let lastDone = -1;
  let movedAt = Date.now();
  while (Date.now() < deadline) {
    stats = (await queueStats(d)) ?? stats;
    if (stats && stats.done >= doneTarget && stats.queued === 0 && stats.started === 0) break;
    if (stats && stats.done !== lastDone) {
      lastDone = stats.done;
      movedAt = Date.now();
    }
    if (stats && stats.queued === 0 && Date.now() - movedAt > stallS * 1000) break;
    if (Date.now() - lastLog > 60_000) {
      logStats(stats);
      lastLog = Date.now();
    }
    await sleep(5000);
  }
  return stats;
}

/**
 * The exits after --max-jobs that must have happened once `jobs` jobs are done: one per full
 * --max-jobs before the last job (after the last one the worker may be exiting still). 16 jobs
 * with --max-jobs 15: 1; 30: 1; 31: 2; 15 or fewer: none, and the check proves nothing.
 */
export function expectedRestarts(jobs: number, maxJobs: number): number {
  return Math.floor((jobs - 1) / maxJobs);
}

export async function jobsAndAlerts(d: Deployed, r: Results, jobs: number, jobMb: number) {
  const worker = d.plan.services.find((s) => s.role === "worker")!;
  const maxJobs = Number(worker.command![worker.command!.indexOf("--max-jobs") + 1]);
  const before = (await inspect(d.ssh, [worker.name]))[0]?.RestartCount ?? 0;
  const start = (await queueStats(d))?.done ?? 0;
  const s = Date.now();
  const enq = await enqueue(d, jobs, jobMb);
  r.check(`${jobs} jobs enqueued through the API`, enq.status === 200, enq.body);
  const stats = await drain(d, start + jobs, 60 * Math.max(10, jobs / 10) * d.slow);
  r.figure("jobsS", secs(Date.now() - s));
  r.check(
    `all ${jobs} jobs processed`,
    stats?.done === start + jobs && stats.queued === 0,
    `${JSON.stringify(stats)} in ${secs(Date.now() - s)} s`,
  );
  // The worker may be exiting after its last job right now (when the count is a multiple of
  // --max-jobs). Its restart policy must bring it back; give that a minute, as the watchdog would.
  let w = (await inspect(d.ssh, [worker.name]))[0];
  for (const until = Date.now() + 60_000 * d.slow; w?.State.Status !== "running" && Date.now() < until;) {
    await sleep(2000);
    w = (await inspect(d.ssh, [worker.name]))[0];
  }
  const restarts = (w?.RestartCount ?? 0) - before;
  r.check(
    `the worker exits after --max-jobs ${maxJobs} and comes back by its restart policy`,
    // Fewer jobs than --max-jobs + 1 would prove nothing: a failure, not a pass (LAB_JOBS).
    expectedRestarts(jobs, maxJobs) >= 1 &&
      restarts >= expectedRestarts(jobs, maxJobs) &&
      w?.State.Status === "running",
    `${restarts} restarts for ${jobs} jobs (at least ${expectedRestarts(jobs, maxJobs)} expected), now ${w?.State.Status}`,
  );
  const alerts = d.receiver.alerts;
  const fired = alerts.find((a) => a.body.alert === "queue" && a.body.state === "firing" && a.at >= s);
  r.check(
    "the watchdog alerted on the queue to the receiver on the host",
    !!fired,
    fired
      ? `${fired.body.text} (+${secs(fired.at - s)} s after enqueue)`
      : `received: ${alerts.map((a) => `${a.body.alert}/${a.body.state}`).join(", ") || "nothing"}`,
  );
  const until = Date.now() + 120_000 * d.slow;
  const resolved = () =>
    alerts.some((a) => a.body.alert === "queue" && a.body.state === "resolved" && a.at >= s);
  while (Date.now() < until && !resolved()) await sleep(3000);
  r.check("the queue alert resolves once the queue drained", resolved(), "");
  r.check(
    "no alert carried a secret",
    !alerts.some((a) =>
      Object.values(d.config.secrets).some(
        (v) => v.length > 8 && !v.startsWith("http") && JSON.stringify(a.body).includes(v),
      ),
    ),
    `${alerts.length} alerts`,
  );
}
