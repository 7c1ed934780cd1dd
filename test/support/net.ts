// A free TCP port on loopback, for the servers the tests and the lab start (redis-server, the S3
// server, kamal-proxy, pebble, receivers). The port is only free when asked: a server that loses
// the race fails to listen, which its test reports.
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
