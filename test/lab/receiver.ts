// The alert receiver on the host: the watchdog in the VM posts to 10.0.2.2 (qemu's user network
// maps it to the host's loopback), so listening on 127.0.0.1 suffices.
import { createServer, type Server } from "node:http";
import { log } from "./vm";

export interface Alert {
  path: string;
  body: Record<string, string>;
  at: number;
}

export interface Receiver {
  server: Server;
  port: number;
  alerts: Alert[];
  /** The URL the VM uses. */
  guestUrl: string;
}

export function startReceiver(): Promise<Receiver> {
  const alerts: Alert[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += String(d)));
    req.on("end", () => {
      let body: Record<string, string> = {};
      try {
        body = JSON.parse(data);
      } catch {
        body = { raw: data.slice(0, 200) };
      }
      alerts.push({ path: req.url ?? "", body, at: Date.now() });
      log(`receiver: ${body.alert ?? "?"} ${body.state ?? ""}: ${body.text ?? ""}`);
      res.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({ server, port, alerts, guestUrl: `http://10.0.2.2:${port}/alert` });
    }),
  );
}
