// The alert receiver on the host: the watchdog in the VM posts to 10.0.2.2 (qemu's user network
// maps it to the host's loopback), so listening on 127.0.0.1 suffices. Requests under /heartbeat
// are the watchdog's push heartbeat (alerts/heartbeatUrl: a GET after each run, `<url>/fail` after
// a failed one), recorded apart from the alerts.
import { createServer, type Server } from "node:http";
import { log } from "./vm";

/** The host as the guest reaches it: qemu's user network maps it to the host's 127.0.0.1. */
export const GUEST_HOST = "10.0.2.2";

export interface Alert {
  path: string;
  body: Record<string, string>;
  at: number;
}

export interface Ping {
  method: string;
  path: string;
  at: number;
}

export interface Receiver {
  server: Server;
  port: number;
  alerts: Alert[];
  pings: Ping[];
  /** The URL the VM uses for alerts. */
  guestUrl: string;
  /** The heartbeat URL the VM uses (a failed run pings `<it>/fail`). */
  guestHeartbeatUrl: string;
}

const HEARTBEAT = "/heartbeat/lab";

export function startReceiver(): Promise<Receiver> {
  const alerts: Alert[] = [];
  const pings: Ping[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += String(d)));
    req.on("end", () => {
      const path = req.url ?? "";
      if (path.startsWith(HEARTBEAT)) {
        pings.push({ method: req.method ?? "?", path, at: Date.now() });
        res.writeHead(200).end("OK");
        return;
      }
      let body: Record<string, string> = {};
      try {
        body = JSON.parse(data);
      } catch {
        body = { raw: data.slice(0, 200) };
      }
      alerts.push({ path, body, at: Date.now() });
      log(`receiver: ${body.alert ?? "?"} ${body.state ?? ""}: ${body.text ?? ""}`);
      res.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        server,
        port,
        alerts,
        pings,
        guestUrl: `http://${GUEST_HOST}:${port}/alert`,
        guestHeartbeatUrl: `http://${GUEST_HOST}:${port}${HEARTBEAT}`,
      });
    }),
  );
}
