// The backup target of the lab: an S3-compatible server on the host's loopback, which the VM
// reaches as 10.0.2.2 (qemu's user network maps it to the host's 127.0.0.1), like the receiver.
// gofakes3 (github.com/johannesboyne/gofakes3, MIT) v1.2.0 from the Go module proxy, with its bolt
// backend, as test/real/backup.test.ts uses it (that file says why this one): built into the
// lab's own temp dir, its data there too. It checks no S3 signature: the keys are tested for
// secrecy only.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { GUEST_HOST } from "./receiver";
import { freePort, log, sleep } from "./vm";

const GOFAKES3 = "github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0";
export const S3_BUCKET = "backups";

export interface S3Server {
  port: number;
  /** The restic repository the VM uses: s3:http://10.0.2.2:<port>/<bucket>/redis. */
  guestRepository: string;
  stop(): Promise<void>;
}

/** `go install`s gofakes3 into bin. Go's module and build caches are its own (they persist on the machine). */
export function buildGofakes3(bin: string): void {
  mkdirSync(bin, { recursive: true });
  const built = spawnSync("go", ["install", GOFAKES3], {
    env: { ...process.env, GOBIN: bin },
    encoding: "utf8",
    timeout: 600_000,
  });
  if (built.status !== 0) throw new Error(`go install ${GOFAKES3} failed: ${built.stderr || built.error}`);
}

export async function startS3(dir: string): Promise<S3Server> {
  const bin = join(dir, "bin");
  buildGofakes3(bin);
  const port = await freePort();
  const proc: ChildProcess = spawn(
    join(bin, "gofakes3"),
    [
      "-backend",
      "bolt",
      "-bolt.db",
      join(dir, "s3.db"),
      "-host",
      `127.0.0.1:${port}`,
      "-initialbucket",
      S3_BUCKET,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-4000)));
  for (let i = 0; !err.includes("using port"); i++) {
    if (proc.exitCode !== null || i > 300) {
      proc.kill("SIGKILL");
      throw new Error(`gofakes3 did not start: ${err}`);
    }
    await sleep(100);
  }
  log(`s3: gofakes3 on 127.0.0.1:${port} (the VM: ${GUEST_HOST}:${port}), bucket ${S3_BUCKET}`);
  return {
    port,
    guestRepository: `s3:http://${GUEST_HOST}:${port}/${S3_BUCKET}/redis`,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    },
  };
}
