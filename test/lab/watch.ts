// Watching a change as it happens: Docker's container events in the VM (over the pinned SSH) and
// the API from outside, so downtime is measured, not assumed.
import { spawn } from "node:child_process";
import { secs } from "./results";
import { sleep, type Ssh } from "./vm";

export interface DockerEvent {
  /** Unix time in ms. */
  at: number;
  action: string;
  name: string;
}

/** Streams `docker events` for containers until stop(); returns the events seen. */
export function watchDockerEvents(ssh: Ssh): { stop: () => Promise<DockerEvent[]> } {
  ssh.master();
  // Tab-separated: an action can hold a space ("health_status: healthy").
  const p = spawn(
    "ssh",
    [
      ...ssh.args(["-o", "ControlMaster=no"]),
      "docker events --filter type=container --format '{{.TimeNano}}\t{{.Action}}\t{{.Actor.Attributes.name}}\t{{.Actor.Attributes.signal}}'",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let out = "";
  p.stdout.on("data", (d) => (out += String(d)));
  return {
    stop: async () => {
      await sleep(1500);
      p.kill("SIGTERM");
      return parseDockerEvents(out);
    },
  };
}

/** `docker events` lines as watchDockerEvents formats them; a kill carries its signal ("kill 15", "kill 9"). */
export function parseDockerEvents(out: string): DockerEvent[] {
  return out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [ns, action, name, signal] = l.split("\t");
      return {
        at: Number(BigInt(ns!.trim()) / 1_000_000n),
        action: action === "kill" && signal ? `kill ${signal}` : action!,
        name: name ?? "",
      };
    })
    .filter((e) => !e.action.startsWith("exec_"));
}

/**
 * Per container name: how long no copy of it was serving, from the first `kill` (the stop signal)
 * to the next `start`, or to `health_status: healthy` when the container has a healthcheck.
 */
export function downtimeByName(
  events: readonly DockerEvent[],
  healthchecked: ReadonlySet<string>,
): Record<string, number | "not back"> {
  const out: Record<string, number | "not back"> = {};
  const downSince = new Map<string, number>();
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    const up = healthchecked.has(e.name) ? e.action === "health_status: healthy" : e.action === "start";
    if ((e.action.startsWith("kill") || e.action === "die") && !downSince.has(e.name))
      downSince.set(e.name, e.at);
    else if (up && downSince.has(e.name)) {
      const before = out[e.name];
      out[e.name] = secs((typeof before === "number" ? before * 1000 : 0) + (e.at - downSince.get(e.name)!));
      downSince.delete(e.name);
    }
  }
  for (const name of downSince.keys()) out[name] = "not back";
  return out;
}

export interface HttpProbe {
  requests: number;
  failed: number;
  /** The longest run of failed requests, in seconds. */
  longestOutageS: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A bounded, steady request stream: `request` every 1000/perSecond ms until stop(), each on its own
 * schedule (a slow answer does not delay the next one, as with real clients), so a stall shows as
 * failures rather than as fewer requests. A request fails when it gets no 200.
 */
export function probeHttp(
  request: () => Promise<{ status: number }>,
  perSecond: number,
): { stop: () => Promise<HttpProbe> } {
  const lat: number[] = [];
  const results: { at: number; end: number; ok: boolean }[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const at = Date.now();
    const p: Promise<void> = request()
      .then(
        (res) => res.status === 200,
        () => false,
      )
      .then((ok) => {
        const end = Date.now();
        results.push({ at, end, ok });
        if (ok) lat.push(end - at);
        pending.delete(p);
      });
    pending.add(p);
  }, 1000 / perSecond);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...pending]);
      // The longest run of failed requests in send order: from the first one's send to the
      // answer of the next request that succeeded (or the last failure's end).
      let longest = 0;
      let outageStart: number | undefined;
      let lastEnd = 0;
      for (const x of [...results].sort((a, b) => a.at - b.at)) {
        if (!x.ok) {
          outageStart ??= x.at;
          lastEnd = x.end;
        } else if (outageStart !== undefined) {
          longest = Math.max(longest, x.end - outageStart);
          outageStart = undefined;
        }
      }
      if (outageStart !== undefined) longest = Math.max(longest, lastEnd - outageStart);
      const sorted = [...lat].sort((a, b) => a - b);
      const q = (p: number) =>
        sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
      return {
        requests: results.length,
        failed: results.filter((x) => !x.ok).length,
        longestOutageS: secs(longest),
        p50Ms: q(0.5),
        p99Ms: q(0.99),
      };
    },
  };
}
