// Reboot survival, memory at rest, and the stack's end of life from a fresh working copy — what a
// CI runner (or a new laptop) has: the program, the stack's config file and the state, nothing else.
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sshFilePaths } from "../../../src/live/ssh-files";
import type { Deployed } from "../context";
import { Pulumi } from "../engine";
import { checkHost, memoryAtRest, waitHealthy } from "../remote";
import { secs, type Results } from "../results";
import { sleep } from "../vm";
import { apiRequest, checkMetadataBlocked } from "./checks";

/** `systemctl reboot`: swap, containers, the watchdog timer and Redis' data must come back. */
export async function reboot(d: Deployed, r: Results) {
  const { ssh } = d;
  const nonce = Math.random().toString(36).slice(2, 12);
  await ssh.must("redis set", `docker exec redis redis-cli SET lab:persist ${nonce}`);
  const done = (await ssh.must("redis get", "docker exec redis redis-cli GET app:jobs_done")).trim();
  await sleep(2000); // appendfsync everysec
  const bootId = (await ssh.must("boot id", "cat /proc/sys/kernel/random/boot_id")).trim();
  const certBefore = (await apiRequest(d, d.cfg.services.api.healthPath)).serial;
  const issuedBefore = d.acme.issued();
  const s = Date.now();
  await ssh.exec("systemctl reboot", { timeoutS: 30 });
  ssh.closeMaster();
  const deadline = Date.now() + 600_000 * d.slow;
  for (;;) {
    if (Date.now() > deadline) throw new Error("the VM did not come back after reboot");
    await sleep(5000);
    const res = await ssh.exec("cat /proc/sys/kernel/random/boot_id", { timeoutS: 40 });
    if (/Host key verification failed/.test(res.stderr))
      throw new Error("after reboot the VM presented another host key");
    if (res.code === 0 && res.stdout.trim() !== bootId) break;
  }
  r.figure("rebootToSshS", secs(Date.now() - s));
  const h = await waitHealthy(
    ssh,
    d.plan.services.map((x) => x.name),
    600 * d.slow,
  );
  r.figure("rebootToAllHealthyS", secs(Date.now() - s));
  r.check("after reboot every container is running and healthy (restart: unless-stopped)", h.ok, h.detail);
  await checkHost(ssh, r, d.plan, "after reboot");
  // The kernel's tables are empty after a boot: the docker.service drop-in restores the rule.
  await checkMetadataBlocked(d, r, "after reboot");
  const got = (await ssh.must("redis get", "docker exec redis redis-cli GET lab:persist")).trim();
  const doneAfter = (await ssh.must("redis get", "docker exec redis redis-cli GET app:jobs_done")).trim();
  r.check(
    "after reboot Redis still has its data (AOF on the volume)",
    got === nonce && doneAfter === done,
    `lab:persist ${got === nonce ? "kept" : `lost (${got})`}, app:jobs_done ${done} → ${doneAfter}`,
  );
  const timer = await ssh.exec("systemctl is-active app-infra-watchdog.timer");
  r.check("after reboot the watchdog timer is active", timer.stdout.trim() === "active", timer.stdout.trim());
  const health = await apiRequest(d, d.cfg.services.api.healthPath);
  r.check("after reboot the API answers through the edge proxy", health.status === 200, `${health.status}`);
  if (d.plan.edge.tls)
    r.check(
      "after reboot the edge proxy serves the same certificate from its volume: none re-issued",
      !!certBefore && health.serial === certBefore && d.acme.issued() === issuedBefore,
      `serial ${certBefore} → ${health.serial}; certificates the ACME server issued: ${issuedBefore} → ${d.acme.issued()}`,
    );
}

export async function memory(d: Deployed, r: Results) {
  await sleep(30_000);
  r.figure("memoryAtRest", await memoryAtRest(d.ssh));
}

/**
 * refresh, the drift check and destroy from a fresh working copy, as a CI runner runs them: the
 * program, Pulumi.<stack>.yaml and the state — and none of the files an earlier run of the program
 * left on the machine that ran it (the Docker provider's key file is removed before each step).
 * The commands are the README's ("Refresh, drift and destroy").
 */
export async function freshCopy(d: Deployed, r: Results, serversLeft: () => number) {
  const p = Pulumi.workingCopy(d.pulumi.o, join(d.tmp, "fresh-copy"));
  copyFileSync(d.pulumi.stackFile, p.stackFile);
  // A new checkout has no selected stack (the selection lives in PULUMI_HOME per project path):
  // select it, as a CI runner does (pulumi/actions' stack-name).
  await p.must(["stack", "select", d.stack]);
  const freshRunner = () => rmSync(sshFilePaths(d.stack).dir, { recursive: true, force: true });

  // Why the README says --run-program: without it the engine refreshes with the provider settings
  // stored in the state, whose key file a fresh runner does not have.
  freshRunner();
  const plain = await p.op(
    r,
    "refresh without --run-program (fresh copy)",
    ["refresh", "--yes", "--skip-preview"],
    900 * d.slow,
  );
  r.finding(
    "2 (a refresh without --run-program on a fresh runner cannot reach Docker; the README and workflows run the program)",
    !plain.ok,
    plain.ok ? JSON.stringify(plain.changes) : (plain.error ?? "").split("\n").slice(-3).join(" "),
  );

  freshRunner();
  const refresh = await p.op(
    r,
    "refresh --run-program (fresh copy)",
    ["refresh", "--yes", "--skip-preview", "--run-program"],
    900 * d.slow,
  );
  // A refresh may record read-back outputs that moved without any input changing (after the
  // reboot above, e.g. a container's address on the app network): that is not drift. Drift is what
  // the drift check below measures — a diff between the refreshed state and the program.
  r.check(
    "`pulumi refresh --run-program` from a fresh working copy succeeds",
    refresh.ok,
    refresh.ok ? JSON.stringify(refresh.changes) : (refresh.error ?? ""),
  );

  // The daily drift check exactly as deploy.yml runs it: preview with refresh, no changes expected,
  // PULUMI_RUN_PROGRAM=true in the environment (pulumi/actions has no run-program input).
  freshRunner();
  const drift = await p.op(
    r,
    "drift check: PULUMI_RUN_PROGRAM=true preview --refresh --expect-no-changes (fresh copy)",
    ["preview", "--refresh", "--expect-no-changes"],
    900 * d.slow,
    { PULUMI_RUN_PROGRAM: "true" },
  );
  r.check(
    "the drift check (preview --refresh --expect-no-changes, PULUMI_RUN_PROGRAM=true) passes on a fresh working copy",
    drift.ok,
    drift.ok ? JSON.stringify(drift.changes) : `${JSON.stringify(drift.steps)} ${drift.error ?? ""}`,
  );

  freshRunner();
  const destroy = await p.op(
    r,
    "destroy --run-program (fresh copy)",
    ["destroy", "--yes", "--skip-preview", "--run-program"],
    1800 * d.slow,
  );
  r.check(
    "`pulumi destroy --run-program` from a fresh working copy removes the stack",
    destroy.ok,
    destroy.ok ? JSON.stringify(destroy.changes) : (destroy.error ?? ""),
  );
  const left = serversLeft();
  r.check("after destroy the emulator has no server left", left === 0, `${left} servers`);
  freshRunner();
}
