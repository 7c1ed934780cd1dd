// Looking at the VM over the pinned SSH connection: container state, host state, memory at rest.
// Every expected value comes from the program's plan (lab-config.ts), never typed in here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/plan/host";
import type { Plan } from "../../src/plan/plan";
import { ROLE_LABEL } from "../../src/plan/names";
import { NETWORK_NAME, type ServicePlan } from "../../src/plan/services";
import { APP_IMAGE } from "./lab-config";
import type { Results } from "./results";
import { sleep, type Ssh } from "./vm";

export const shellJoin = (argv: readonly string[]) => argv.map(shellQuote).join(" ");

export interface ContainerInfo {
  /** The service or container name it was asked for (not Docker's). */
  service: string;
  Name: string;
  Id: string;
  Image: string;
  RestartCount: number;
  State: {
    Status: string;
    StartedAt: string;
    FinishedAt: string;
    ExitCode: number;
    Health?: { Status: string };
  };
  HostConfig: {
    Memory: number;
    MemoryReservation: number;
    MemorySwap: number;
    RestartPolicy: { Name: string };
  };
  Config: { Healthcheck?: { Test: string[] }; Labels: Record<string, string>; StopTimeout?: number };
}

/**
 * The containers of the named services, in the order asked, each tagged with the name it was
 * asked by. A name that is no container's is looked up by the role label: a start-first service
 * (the API, issue 14) runs as `api-<release>`, and during a switch as two containers.
 */
export async function inspect(ssh: Ssh, names: readonly string[]): Promise<ContainerInfo[]> {
  const json = shellJoin(["--type", "container", "--format", "{{json .}}"]);
  const script =
    `for n in ${shellJoin(names)}; do { docker inspect ${json} "$n" 2>/dev/null || ` +
    `docker ps -aq --filter "label=${ROLE_LABEL}=$n" | xargs -r docker inspect ${json} 2>/dev/null; } | ` +
    `while IFS= read -r line; do printf '%s\\t%s\\n' "$n" "$line"; done; done`;
  const r = await ssh.exec(script, { timeoutS: 120 });
  const out: ContainerInfo[] = [];
  for (const line of r.stdout.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    try {
      out.push({ ...(JSON.parse(line.slice(tab + 1)) as ContainerInfo), service: line.slice(0, tab) });
    } catch {
      /* a line cut short: the container went away while being inspected */
    }
  }
  return out;
}

/** Waits until every named container runs and, where it has a healthcheck, is healthy; ok false after timeoutS. */
export async function waitHealthy(
  ssh: Ssh,
  names: readonly string[],
  timeoutS: number,
): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timeoutS * 1000;
  let last = "";
  const ready = (i: ContainerInfo) =>
    i.State.Status === "running" && (!i.State.Health || i.State.Health.Status === "healthy");
  while (Date.now() < deadline) {
    const info = await inspect(ssh, names);
    const of = (n: string) => info.filter((i) => i.service === n);
    last = names
      .map((n) =>
        of(n).length
          ? of(n)
              .map(
                (i) =>
                  `${i.Name.slice(1)}=${i.State.Status}${i.State.Health ? `/${i.State.Health.Status}` : ""}`,
              )
              .join(" ")
          : `${n}=missing`,
      )
      .join(" ");
    if (names.every((n) => of(n).length > 0 && of(n).every(ready))) return { ok: true, detail: last };
    await sleep(3000);
  }
  return { ok: false, detail: `not all running and healthy after ${timeoutS} s: ${last}` };
}

/** Swap file, its fstab line and the sysctls, as the plan says. */
export async function checkHost(ssh: Ssh, r: Results, plan: Plan, when: string) {
  const out = await ssh.must(
    "host state",
    "stat -c %s /swapfile 2>/dev/null || echo none; swapon --show=NAME --noheadings; echo ---; grep -c '^/swapfile ' /etc/fstab || true; echo ---; sysctl -n vm.swappiness vm.overcommit_memory",
  );
  const [swap, fstab, sysctl] = out.split("---\n").map((s) => s.trim());
  const want = plan.swapGb * 1024 ** 3;
  r.check(
    `${when}: swap is the plan's ${plan.swapGb} GB, active, one fstab line`,
    swap === `${want}\n/swapfile` && fstab === "1",
    `${swap!.replace("\n", " bytes, active: ")} | fstab lines: ${fstab}`,
  );
  r.check(
    `${when}: vm.swappiness=${plan.swappiness}, vm.overcommit_memory=1`,
    sysctl === `${plan.swappiness}\n1`,
    sysctl!.replace("\n", ", "),
  );
}

const MB = 1024 * 1024;

/** Every planned container runs with the planned limit, reservation, swap and restart policy. */
export async function checkContainers(ssh: Ssh, r: Results, services: readonly ServicePlan[], when: string) {
  const info = await inspect(
    ssh,
    services.map((s) => s.name),
  );
  const bad: string[] = [];
  for (const s of services) {
    const i = info.find((x) => x.service === s.name);
    const want = {
      Memory: s.memoryMb * MB,
      MemoryReservation: s.memoryReservationMb * MB,
      MemorySwap: s.memorySwapMb * MB,
      RestartPolicy: s.restart,
    };
    const got = i && {
      Memory: i.HostConfig.Memory,
      MemoryReservation: i.HostConfig.MemoryReservation,
      MemorySwap: i.HostConfig.MemorySwap,
      RestartPolicy: i.HostConfig.RestartPolicy.Name,
    };
    if (!i || i.State.Status !== "running" || JSON.stringify(got) !== JSON.stringify(want))
      bad.push(
        `${s.name}: ${i?.State.Status ?? "missing"} ${JSON.stringify(got)} want ${JSON.stringify(want)}`,
      );
  }
  r.check(
    `${when}: every container runs with the planned memory limit, reservation, swap and restart policy`,
    bad.length === 0,
    bad.join("; ") ||
      services.map((s) => `${s.name} ${s.memoryMb}/${s.memoryReservationMb}/${s.memorySwapMb} MB`).join(", "),
  );
}

export interface MemoryAtRest {
  memTotalMb: number;
  memAvailableMb: number;
  usedMb: number;
  appContainersAnonMb: number;
  nonAppUsedMb: number;
  kernelMb: number;
  swapUsedMb: number;
  containers: { name: string; currentMb: number; anonMb: number; fileMb: number }[];
  rssMbOfHostProcesses: Record<string, number>;
}

/** Memory at rest: what the app's containers charge, and everything else (kernel, systemd, dockerd, …). */
export async function memoryAtRest(ssh: Ssh): Promise<MemoryAtRest> {
  const out = await ssh.must("memory at rest", "bash -s", {
    stdin: readFileSync(join(__dirname, "scripts", "memory-at-rest.sh"), "utf8"),
    timeoutS: 120,
  });
  const [meminfo, cg, ps] = out.split("---\n");
  const m = Object.fromEntries(
    meminfo!
      .trim()
      .split("\n")
      .map((l) => l.split(/:\s+/))
      .map(([k, v]) => [k, Number.parseInt(v ?? "0", 10)]),
  );
  const kb = (k: string) => m[k] ?? 0;
  const containers = cg!
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name, cur, anon, file] = l.split(" ");
      return {
        name: name!.slice(1),
        currentMb: Math.round(Number(cur) / MB),
        anonMb: Math.round(Number(anon) / MB),
        fileMb: Math.round(Number(file) / MB),
      };
    });
  const rss = Object.fromEntries(
    ps!
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .map(([k, v]) => [k!, Math.round(Number(v) / 1024)]),
  );
  const usedMb = Math.round((kb("MemTotal") - kb("MemAvailable")) / 1024);
  // MemTotal − MemAvailable counts no reclaimable cache; the containers' share of it is their
  // anonymous memory (their page cache is reclaimable, so already outside "used").
  const appContainersAnonMb = containers.reduce((a, c) => a + c.anonMb, 0);
  const hostProcs = [
    "systemd",
    "systemd-journal",
    "systemd-udevd",
    "systemd-network",
    "systemd-logind",
    "dbus-daemon",
    "sshd",
    "dockerd",
    "containerd",
    "containerd-shim",
    "cron",
  ];
  return {
    memTotalMb: Math.round(kb("MemTotal") / 1024),
    memAvailableMb: Math.round(kb("MemAvailable") / 1024),
    usedMb,
    appContainersAnonMb,
    nonAppUsedMb: usedMb - appContainersAnonMb,
    kernelMb: Math.round((kb("SUnreclaim") + kb("KernelStack") + kb("PageTables")) / 1024),
    swapUsedMb: Math.round((kb("SwapTotal") - kb("SwapFree")) / 1024),
    containers,
    rssMbOfHostProcesses: Object.fromEntries(
      hostProcs.filter((n) => rss[n] !== undefined).map((n) => [n, rss[n]!]),
    ),
  };
}

export function fetchText(
  url: string,
  method = "GET",
  timeoutMs = 120_000,
): Promise<{ status: number; body: string; ms: number }> {
  const s = Date.now();
  return fetch(url, { method, signal: AbortSignal.timeout(timeoutMs) })
    .then(async (res) => ({ status: res.status, body: (await res.text()).slice(0, 500), ms: Date.now() - s }))
    .catch((e) => ({ status: 0, body: String(e?.cause?.code ?? e), ms: Date.now() - s }));
}

/**
 * `docker run --rm` of the app's first image on the app's network, as a shell command line: a
 * one-off process that reaches Redis by name as the app does. `options` go before the image (e.g.
 * `-e K=V`, `--env-file f`); `command` after it (none: the image's own).
 */
export function appRun(options: string[], command: string[] = []): string {
  return shellJoin([
    "docker",
    "run",
    "--rm",
    "--network",
    NETWORK_NAME,
    ...options,
    APP_IMAGE(1),
    ...command,
  ]);
}
