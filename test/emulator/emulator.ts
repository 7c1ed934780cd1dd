// A local stand-in for the Hetzner Cloud API (as LocalStack is for AWS): Hetzner's paths under
// /v1, a control API for tests and labs under /__emulator, loopback only. See README.md.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MachineBackend } from "./backend";
import { ApiError, invalidField } from "./errors";
import { catalogRoutes } from "./routes-catalog";
import { firewallJson, firewallRoutes } from "./routes-firewalls";
import { networkJson, networkRoutes } from "./routes-networks";
import { serverJson, serverRoutes } from "./routes-servers";
import { sshKeyRoutes } from "./routes-ssh-keys";
import { makeReq, World, type Handler, type Res } from "./world";

export interface EmulatorOptions {
  backend: MachineBackend;
  /** 0 (default): any free port. */
  port?: number;
  /**
   * Default: 64 random hex characters. Clients send `Authorization: Bearer <token>`. The provider's
   * SDKv2 half refuses a token that is not exactly 64 characters long
   * (terraform-provider-hcloud v1.59.0 hcloud/provider.go, per tools/engine/provider-hcloud/API-CALLS.md).
   */
  token?: string;
  /** The first server address (default 127.0.0.2); later servers count up from it. */
  firstIp?: string;
  /** Log every request to stderr (rejections are always logged). */
  verbose?: boolean;
  /**
   * Whether change_type boots the server again (default true: the API reference says "This copies
   * the content of its disk, and starts it again"); false leaves it off, for a lab to try both.
   */
  changeTypeStartsServer?: boolean;
}

export interface RequestRecord {
  at: string;
  method: string;
  path: string;
  status: number;
  error?: string;
}

export interface Control {
  /** A stock-out (false) or its end (true) of a server type in a location. */
  setAvailable(serverType: string, location: string, available: boolean): void;
  /** A new monthly net price (EUR) for a server type in a location. */
  setPrice(serverType: string, location: string, monthlyNetEur: number): void;
  /** The next action with this command (e.g. "change_server_type") ends in `error` with this message. */
  failNextAction(command: string, message: string): void;
  /** Every request so far, and the rejected ones (unknown endpoint, parameter or field). */
  requests(): RequestRecord[];
  rejected(): RequestRecord[];
  /** Servers as the API shows them, with what their machines really got. */
  state(): { servers: unknown[]; sshKeys: number; firewalls: unknown[]; networks: unknown[] };
  readonly world: World;
}

export interface Emulator {
  url: string;
  token: string;
  control: Control;
  stop(): Promise<void>;
}

const API = "/v1";

/** A request the emulator has no rule for: an unknown endpoint, method, query parameter or field. */
const isRejection = (r: RequestRecord) =>
  /unknown endpoint|unknown field|unknown query parameter|not implemented by the emulator/.test(
    r.error ?? "",
  );
const CONTROL = "/__emulator";

function compile(routes: [string, string, Handler][]) {
  return routes.map(([method, pattern, handler]) => {
    const names: string[] = [];
    const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, n: string) => (names.push(n), "([^/]+)"))}$`);
    return { method, pattern, re, names, handler };
  });
}

export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const token = opts.token ?? randomBytes(32).toString("hex");
  const world = new World(opts.backend, opts.firstIp);
  world.changeTypeStartsServer = opts.changeTypeStartsServer ?? true;
  const log: RequestRecord[] = [];
  const say = (msg: string) => process.stderr.write(`[hcloud-emulator] ${msg}\n`);

  const api = compile([
    ...catalogRoutes(world),
    ...sshKeyRoutes(world),
    ...firewallRoutes(world),
    ...networkRoutes(world),
    ...serverRoutes(world),
  ]);

  const control: Control = {
    world,
    setAvailable: (t, l, a) => world.catalog.setAvailable(t, l, a),
    setPrice: (t, l, p) => world.catalog.setPrice(t, l, p),
    failNextAction: (c, m) => void world.actions.failNext.set(c, m),
    requests: () => [...log],
    rejected: () => log.filter(isRejection),
    state: () => ({
      servers: [...world.servers.values()].map((s) => ({
        ...serverJson(world, s),
        machine: world.backend.info(s.id) ?? null,
      })),
      sshKeys: world.sshKeys.size,
      firewalls: [...world.firewalls.values()].map((f) => firewallJson(world, f)),
      networks: [...world.networks.values()].map((n) => networkJson(world, n)),
    }),
  };

  const controlRoutes = compile([
    ["GET", "/state", () => ({ status: 200, body: control.state() })],
    [
      "GET",
      "/requests",
      () => ({ status: 200, body: { requests: control.requests(), rejected: control.rejected() } }),
    ],
    [
      "POST",
      "/availability",
      (r) => {
        const b = r.body({
          serverType: { type: "string", required: true },
          location: { type: "string", required: true },
          available: { type: "boolean", required: true },
        });
        try {
          control.setAvailable(b.serverType, b.location, b.available);
        } catch (e) {
          throw invalidField("serverType", (e as Error).message);
        }
        return { status: 200, body: { ok: true } };
      },
    ],
    [
      "POST",
      "/price",
      (r) => {
        const b = r.body({
          serverType: { type: "string", required: true },
          location: { type: "string", required: true },
          monthlyNetEur: { type: "number", required: true },
        });
        try {
          control.setPrice(b.serverType, b.location, b.monthlyNetEur);
        } catch (e) {
          throw invalidField("monthlyNetEur", (e as Error).message);
        }
        return { status: 200, body: { ok: true } };
      },
    ],
    [
      "POST",
      "/fail-next-action",
      (r) => {
        const b = r.body({
          command: { type: "string", required: true },
          message: { type: "string", required: true },
        });
        control.failNextAction(b.command, b.message);
        return { status: 200, body: { ok: true } };
      },
    ],
  ]);

  async function handle(req: IncomingMessage, raw: string): Promise<Res> {
    const auth = req.headers.authorization ?? "";
    if (auth !== `Bearer ${token}`)
      throw new ApiError(
        "unauthorized",
        "unable to authenticate: send Authorization: Bearer <the emulator's token>",
      );
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    let table: typeof api;
    let path: string;
    if (url.pathname.startsWith(`${API}/`)) {
      table = api;
      path = url.pathname.slice(API.length);
    } else if (url.pathname.startsWith(`${CONTROL}/`)) {
      table = controlRoutes;
      path = url.pathname.slice(CONTROL.length);
    } else {
      throw new ApiError(
        "not_found",
        `unknown endpoint ${method} ${url.pathname}: Hetzner's paths are under ${API}/, the emulator's control API under ${CONTROL}/`,
      );
    }
    let pathMatched = false;
    for (const r of table) {
      const m = path.match(r.re);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      return r.handler(makeReq(method, path, params, url.searchParams, raw));
    }
    if (pathMatched)
      throw new ApiError(
        "method_not_allowed",
        `unknown endpoint ${method} ${url.pathname}: the emulator implements other methods on this path`,
      );
    throw new ApiError(
      "not_found",
      `unknown endpoint ${method} ${url.pathname} (not implemented by the emulator; see test/emulator/README.md)`,
    );
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (raw += d));
    req.on("end", () => {
      void (async () => {
        let out: Res;
        let error: string | undefined;
        try {
          out = await handle(req, raw);
        } catch (e) {
          const err =
            e instanceof ApiError
              ? e
              : new ApiError("server_error", `emulator bug: ${(e as Error).stack ?? e}`);
          out = { status: err.status, body: err.body() };
          error = `${err.code}: ${err.message}`;
        }
        const rec: RequestRecord = {
          at: new Date().toISOString(),
          method: req.method ?? "",
          path: req.url ?? "",
          status: out.status,
          error,
        };
        log.push(rec);
        if (error && (out.status >= 500 || isRejection(rec)))
          say(`REJECTED ${rec.method} ${rec.path} → ${out.status} ${error}`);
        else if (opts.verbose) say(`${rec.method} ${rec.path} → ${out.status}${error ? ` ${error}` : ""}`);
        if (out.body === undefined) {
          res.writeHead(out.status).end();
        } else {
          const json = JSON.stringify(out.body);
          res
            .writeHead(out.status, {
              "Content-Type": "application/json",
              "Content-Length": Buffer.byteLength(json),
            })
            .end(json);
        }
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${API}`,
    token,
    control,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await opts.backend.stopAll();
      await world.actions.settle();
    },
  };
}
