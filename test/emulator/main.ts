// Runs the emulator standalone:
//   tsx test/emulator/main.ts --port 0 --backend fake|qemu --state-dir DIR [--token T] [--first-ip 127.0.0.2] [--verbose]
// Prints one JSON line on stdout: {"url": "http://127.0.0.1:PORT/v1", "token": "…", "control": "…/__emulator"}
// (the only stdout line starting with "{": a cold lab image build with --backend qemu logs there first).
// Stops every VM on SIGINT/SIGTERM. Environment for the qemu backend: see README.md.
import { existsSync, mkdirSync } from "node:fs";
import { FakeBackend, type MachineBackend } from "./backend";
import { startEmulator } from "./emulator";
import { QemuBackend, vmFiles } from "./qemu-backend";
import { ensureImage, imageFiles } from "../lab/image-cache";
import { probeAccel } from "../lab/accel";

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const known = ["--port", "--backend", "--state-dir", "--token", "--first-ip", "--verbose"];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!known.includes(a)) throw new Error(`unknown argument ${a} (known: ${known.join(" ")})`);
    if (a === "--verbose") out.verbose = "1";
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      out[a.slice(2)] = v;
    }
  }
  return out;
}

const numList = (s: string | undefined, dflt: number[]) =>
  s === undefined
    ? dflt
    : s
        .split(",")
        .filter(Boolean)
        .map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n < 1 || n > 65535)
            throw new Error(`EMU_FORWARD_PORTS: ${x} is not a port`);
          return n;
        });

/**
 * The machine backend for `--backend`. qemu: the lab's image (built under flock when missing, as
 * `npm run lab` does; EMU_IMAGE_DIR points at an already built one instead) and the lab's
 * accelerator choice (EMU_ACCEL, else LAB_ACCEL, else a KVM probe; test/lab/accel.ts).
 */
export async function backendFromEnv(
  kind: string,
  stateDir: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<MachineBackend> {
  if (kind === "fake") return new FakeBackend({ delayMs: Number(env.EMU_FAKE_DELAY_MS ?? 200) });
  if (kind !== "qemu") throw new Error(`--backend: should be fake or qemu (got ${kind})`);
  if (!stateDir) throw new Error("--state-dir is required with --backend qemu");
  mkdirSync(stateDir, { recursive: true });
  const image = env.EMU_IMAGE_DIR ? imageFiles(env.EMU_IMAGE_DIR, false) : await ensureImage();
  for (const f of [image.kernel, image.initrd, image.rootDisk])
    if (!existsSync(f)) throw new Error(`EMU_IMAGE_DIR: ${f} is missing`);
  // probeAccel, not vm.ts chooseAccel: that one logs to stdout, which carries our JSON line.
  const decision = await probeAccel({
    env: { ...env, LAB_ACCEL: env.EMU_ACCEL ?? env.LAB_ACCEL },
    kernel: image.kernel,
  });
  process.stderr.write(`[hcloud-emulator] accelerator: ${decision.accel} (${decision.reason})\n`);
  const accel = decision.accel;
  return new QemuBackend({
    stateDir,
    files: vmFiles(image),
    accel,
    forwardPorts: numList(env.EMU_FORWARD_PORTS, [8000, 80, 443]),
    memoryCapMb: Number(env.EMU_MEMORY_CAP_MB ?? 3072),
    memoryScale: Number(env.EMU_MEMORY_SCALE ?? 1),
    coresCap: Number(env.EMU_CORES_CAP ?? 4),
    bootWait: env.EMU_BOOT_WAIT === "process" ? "process" : "ssh",
    bootTimeoutS: Number(env.EMU_BOOT_TIMEOUT_S ?? 600),
  });
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const stateDir = a["state-dir"];
  if (stateDir && existsSync(stateDir) === false) mkdirSync(stateDir, { recursive: true });
  const backend = await backendFromEnv(a.backend ?? "fake", stateDir, process.env);
  const emu = await startEmulator({
    backend,
    port: Number(a.port ?? 0),
    token: a.token,
    firstIp: a["first-ip"],
    verbose: a.verbose === "1",
    changeTypeStartsServer: process.env.EMU_CHANGE_TYPE_STARTS !== "0",
  });
  process.stdout.write(
    `${JSON.stringify({ url: emu.url, token: emu.token, control: emu.url.replace(/\/v1$/, "/__emulator"), backend: backend.kind })}\n`,
  );
  let stopping = false;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      void emu.stop().then(() => process.exit(0));
    });
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`hcloud-emulator: ${(e as Error).message}\n`);
    process.exit(2);
  });
}
