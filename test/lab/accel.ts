// Which accelerator the lab's VM gets: KVM only when a guest really runs under it, else TCG.
//
// /dev/kvm being there is not enough. On the 2-core CI machine it exists but belongs to a
// "kvm-pvm" module (dmesg: "kvm-pvm: loaded"): `qemu -enable-kvm -cpu host` aborts at once
// ("failed to set MSR 0x10a", an assertion in target/i386/kvm/kvm.c, qemu 7.2), and with
// `-cpu qemu64` the guest prints the kernel's real-mode "Probing EDD ... ok" and then nothing.
// The lab used to wait 300 s for SSH there. So the probe boots the lab's kernel with the lab's
// KVM flags for a few seconds and looks for the kernel's first line, "Linux version".
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Accel = "kvm" | "tcg";

/** qemu's flags for each accelerator; the lab's VM and the probe use the same ones. */
export function accelArgs(accel: Accel): string[] {
  return accel === "kvm" ? ["-enable-kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "max"];
}

export interface AccelDecision {
  accel: Accel;
  /** One line for the log: why this accelerator. */
  reason: string;
}

/** LAB_ACCEL=kvm|tcg forces the accelerator (no probe); unset or empty means "probe". */
export function forcedAccel(env: NodeJS.ProcessEnv): Accel | undefined {
  const want = env.LAB_ACCEL;
  if (want === undefined || want === "") return undefined;
  if (want !== "kvm" && want !== "tcg") throw new Error(`LAB_ACCEL: should be kvm or tcg (got ${want})`);
  return want;
}

export type KvmDevice = "absent" | "no-access" | "present";

export interface ProbeObservation {
  kvmDevice: KvmDevice;
  /** What the guest wrote to its serial console during the probe ("" if it was not run). */
  consoleText: string;
  /** How qemu ended: undefined when it was still running at the deadline (and then killed). */
  qemuExit?: { code: number | null; signal: string | null; stderr: string };
  /** How long the probe waited for the kernel, for the reason line. */
  waitedMs?: number;
}

/** The kernel's first console line (init/main.c prints linux_banner first thing). */
const KERNEL_BANNER = /Linux version \S+/;

const oneLine = (s: string, max = 300) => s.replace(/\s+/g, " ").trim().slice(0, max);

/** Pure: the accelerator for what the probe saw. */
export function decideAccel(o: ProbeObservation): AccelDecision {
  if (o.kvmDevice === "absent") return { accel: "tcg", reason: "no /dev/kvm on this machine" };
  if (o.kvmDevice === "no-access")
    return { accel: "tcg", reason: "/dev/kvm is not readable and writable by this user" };
  const banner = KERNEL_BANNER.exec(o.consoleText);
  if (banner) return { accel: "kvm", reason: `a KVM guest booted: its console printed "${banner[0]}"` };
  const said = o.consoleText.trim() ? ` (its console only said: "${oneLine(o.consoleText, 120)}")` : "";
  if (o.qemuExit) {
    const how = o.qemuExit.code !== null ? `exit ${o.qemuExit.code}` : `signal ${o.qemuExit.signal}`;
    const err = oneLine(o.qemuExit.stderr) || "no message";
    return {
      accel: "tcg",
      reason: `qemu -enable-kvm failed before the kernel started (${how}: ${err})${said}`,
    };
  }
  const secs = o.waitedMs !== undefined ? `${Math.round(o.waitedMs / 1000)} s` : "the probe's time";
  return {
    accel: "tcg",
    reason: `/dev/kvm is there but a KVM guest printed no kernel line in ${secs}${said}`,
  };
}

export function kvmDevice(path = "/dev/kvm"): KvmDevice {
  if (!existsSync(path)) return "absent";
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return "present";
  } catch {
    return "no-access";
  }
}

/**
 * A kernel to probe with: the lab image's (IMAGE_DIR/vmlinuz, built by build-image.sh), else the
 * host's newest /boot/vmlinuz-*. Undefined when there is neither.
 */
export function probeKernel(imageDir?: string, boot = "/boot"): string | undefined {
  if (imageDir && existsSync(join(imageDir, "vmlinuz"))) return join(imageDir, "vmlinuz");
  let names: string[] = [];
  try {
    names = readdirSync(boot).filter((n) => n.startsWith("vmlinuz-"));
  } catch {
    return undefined;
  }
  names.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
  return names.length ? join(boot, names[0]) : undefined;
}

export interface ProbeOptions {
  env?: NodeJS.ProcessEnv;
  /** The kernel to boot; needed only when /dev/kvm is usable and LAB_ACCEL does not force. */
  kernel?: string;
  /** How long to wait for "Linux version" (under KVM it comes in about a second). */
  timeoutMs?: number;
  /** The flags under test; the lab's KVM flags unless a test of the probe itself says otherwise. */
  qemuAccelArgs?: string[];
  device?: string;
}

/** LAB_ACCEL if set, else boot KERNEL under KVM for a few seconds and decide from its console. */
export async function probeAccel(opts: ProbeOptions = {}): Promise<AccelDecision> {
  const forced = forcedAccel(opts.env ?? process.env);
  if (forced) return { accel: forced, reason: `LAB_ACCEL=${forced}` };
  const device = kvmDevice(opts.device);
  if (device !== "present") return decideAccel({ kvmDevice: device, consoleText: "" });
  if (!opts.kernel)
    throw new Error("probeAccel: no kernel to boot (build the lab image first, or have a /boot/vmlinuz-*)");
  return decideAccel(
    await bootBriefly(opts.kernel, opts.qemuAccelArgs ?? accelArgs("kvm"), opts.timeoutMs ?? 8000),
  );
}

/** Boots KERNEL alone (no disk, no initrd) until its banner appears, qemu exits, or the deadline. */
async function bootBriefly(kernel: string, accel: string[], timeoutMs: number): Promise<ProbeObservation> {
  const dir = mkdtempSync(join(tmpdir(), "lab-accel-probe-"));
  const consoleFile = join(dir, "console.log");
  const readConsole = () => (existsSync(consoleFile) ? readFileSync(consoleFile, "latin1") : "");
  const args = [
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-vga",
    "none",
    "-no-reboot",
    ...accel,
    "-smp",
    "1",
    "-m",
    "256",
    "-kernel",
    kernel,
    // earlyprintk: the banner goes out before the serial console driver is up. panic=-1 with
    // -no-reboot: with no root disk the kernel panics and qemu exits instead of waiting.
    "-append",
    "console=ttyS0 earlyprintk=serial panic=-1",
    "-serial",
    `file:${consoleFile}`,
  ];
  const started = Date.now();
  try {
    const p = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += String(d)));
    let exit: ProbeObservation["qemuExit"];
    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      // Not a verdict on KVM: without qemu the lab cannot run at all.
      p.on("error", (e) => {
        spawnError = e;
        resolve();
      });
      // "close", not "exit": by then qemu's stderr has been read to its end.
      p.on("close", (code, signal) => {
        exit ??= { code, signal, stderr };
        resolve();
      });
    });
    while (!exit && !spawnError && Date.now() - started < timeoutMs && !KERNEL_BANNER.test(readConsole())) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
    }
    if (spawnError)
      throw new Error(
        `cannot run qemu-system-x86_64 (Debian package qemu-system-x86): ${spawnError.message}`,
      );
    const waitedMs = Date.now() - started;
    const consoleText = readConsole();
    if (exit) return { kvmDevice: "present", consoleText, waitedMs, qemuExit: exit };
    p.kill("SIGKILL");
    await exited;
    return { kvmDevice: "present", consoleText, waitedMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `tsx test/lab/accel.ts [IMAGE_DIR]`: print the decision (for .ci/run's log and by hand).
if (require.main === module) {
  probeAccel({ kernel: probeKernel(process.argv[2]) }).then(
    (d) => console.log(`lab accel: ${d.accel} — ${d.reason}`),
    (e: Error) => {
      console.error(`lab accel: ${e.message}`);
      process.exit(2);
    },
  );
}
