// Small HTTP tools for real-tool tests of a proxy: named upstream servers on loopback and a paced
// request stream that counts failures and records latencies. Node's http only: nothing to install.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  status: number;
  body: string;
  ms: number;
  /** Set when the request got no HTTP answer at all (refused, reset, timed out). */
  error?: string;
}

/** One GET; resolves with the status and body, or with `error` (never rejects). */
export function get(
  url: string,
  opts: { agent?: http.Agent; timeoutMs?: number; headers?: http.OutgoingHttpHeaders } = {},
): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (r: Omit<Reply, "ms">) => resolve({ ...r, ms: performance.now() - started });
    // Without an agent, a fresh connection per request: no pooled socket from before a restart.
    const req = http.get(url, { agent: opts.agent ?? false, headers: opts.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
      res.on("error", (err) => done({ status: 0, body, error: String(err) }));
    });
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error("timed out")));
    req.on("error", (err) => done({ status: 0, body: "", error: String(err) }));
  });
}

export interface Upstream {
  name: string;
  port: number;
  /** Requests seen, by path (health checks included, under `/up`). */
  hits: Map<string, number>;
  /** When this server began each /slow answer (performance.now()), i.e. after its delay. */
  slowEnds: number[];
  close(): Promise<void>;
}

/**
 * An upstream that answers every path with its own name, `/up` with 200 (or 503 when `healthy` is
 * false: a broken release), and `/slow` with its name after `slowMs`.
 */
export async function startUpstream(name: string, opts: { healthy?: boolean; slowMs?: number } = {}) {
  const hits = new Map<string, number>();
  const slowEnds: number[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === "/up") {
      res.writeHead(opts.healthy === false ? 503 : 200).end(opts.healthy === false ? "down" : "up");
    } else if (path === "/slow") {
      setTimeout(() => {
        // Taken before the write, so "later than this" cannot be satisfied by an early answer.
        slowEnds.push(performance.now());
        res.end(name);
      }, opts.slowMs ?? 2000);
    } else {
      res.end(name);
    }
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", done);
  });
  const upstream: Upstream = {
    name,
    port: (server.address() as AddressInfo).port,
    hits,
    slowEnds,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  return upstream;
}

/**
 * Requests `url` every `1000 / perSecond` ms until stopped, each on its own schedule (a slow answer
 * does not delay the next request), over one keep-alive agent.
 */
export function startLoad(url: string, perSecond: number) {
  const agent = new http.Agent({ keepAlive: true });
  const pending = new Set<Promise<void>>();
  const replies: Reply[] = [];
  const timer = setInterval(() => {
    const p = get(url, { agent }).then((r) => {
      replies.push(r);
      pending.delete(p);
    });
    pending.add(p);
  }, 1000 / perSecond);
  return {
    replies,
    /** Stops sending, waits for the answers still due, and returns all of them in arrival order. */
    async stop(): Promise<Reply[]> {
      clearInterval(timer);
      await Promise.all([...pending]);
      agent.destroy();
      return replies;
    },
  };
}

export const failed = (r: Reply) => r.error !== undefined || r.status !== 200;

/** The q-quantile (0..1) of `values`, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** "n sent, f failed, p50 x ms, p99 y ms, by body {A: n, B: m}" for the test's log. */
export function summary(replies: readonly Reply[]): string {
  const byBody: Record<string, number> = {};
  for (const r of replies) byBody[r.error ?? r.body] = (byBody[r.error ?? r.body] ?? 0) + 1;
  const ms = replies.map((r) => r.ms);
  return (
    `${replies.length} sent, ${replies.filter(failed).length} failed, ` +
    `p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms, ` +
    `by answer ${JSON.stringify(byBody)}`
  );
}
