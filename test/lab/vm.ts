// The lab's VM: qemu with the cached Debian image (copy-on-write overlay per run), a NoCloud seed,
// SSH and the API forwarded to 127.0.0.1 only, and an ssh client that pins the program's host key.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { accelArgs, probeAccel, probeKernel, type Accel, type AccelDecision } from "./accel";

export type { Accel } from "./accel";

export const log = (msg: string) =>
  process.stdout.write(`[lab ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/**
 * LAB_ACCEL=kvm|tcg if set; else KVM only when a short boot of KERNEL under KVM prints the kernel's
 * banner, and TCG otherwise (no /dev/kvm, qemu failing on it, or a silent guest). See accel.ts.
 * KERNEL is the lab image's (so call this after ensureImage()); it is needed only for the probe.
 */
export async function chooseAccel(env: NodeJS.ProcessEnv, kernel?: string): Promise<AccelDecision> {
  const d = await probeAccel({ env, kernel: kernel ?? probeKernel() });
  log(
    `accelerator: ${d.accel} (${d.reason})${d.accel === "tcg" ? "; software emulation is several times slower" : ""}`,
  );
  return d;
}

// The lab's phases import it from here.
export { freePort } from "../support/net";

export interface VmFiles {
  kernel: string;
  initrd: string;
  baseDisk: string;
  /** Extra read-only disks, by serial (seen in the guest as /dev/disk/by-id/virtio-SERIAL). */
  extraDisks: Record<string, string>;
}

export interface VmOptions {
  accel: Accel;
  dir: string;
  files: VmFiles;
  userData: string;
  metaData: string;
  sshPort: number;
  apiPort: number;
  guestApiPort: number;
}

export class Vm {
  proc?: ChildProcess;
  readonly console: string;
  startedAt = 0;

  constructor(readonly o: VmOptions) {
    this.console = join(o.dir, "console.log");
  }

  start() {
    const { dir, files } = this.o;
    const overlay = join(dir, "root.qcow2");
    run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", files.baseDisk, overlay]);
    // NoCloud seed: the program's user-data, and meta-data standing in for Hetzner's metadata.
    writeFileSync(join(dir, "user-data"), this.o.userData, { mode: 0o600 });
    writeFileSync(join(dir, "meta-data"), this.o.metaData, { mode: 0o600 });
    run("cloud-localds", [join(dir, "seed.img"), join(dir, "user-data"), join(dir, "meta-data")]);
    const accel = accelArgs(this.o.accel);
    const args = [
      "-name",
      "app-infra-lab",
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-vga",
      "none",
      ...accel,
      "-smp",
      "3",
      "-m",
      "3072",
      "-kernel",
      files.kernel,
      "-initrd",
      files.initrd,
      "-append",
      "root=LABEL=lab-root rw console=ttyS0 loglevel=4",
      "-drive",
      `file=${overlay},if=virtio,format=qcow2`,
      "-drive",
      `file=${join(dir, "seed.img")},if=virtio,format=raw,readonly=on`,
      ...Object.entries(files.extraDisks).flatMap(([serial, f]) => [
        "-drive",
        `file=${f},if=none,id=${serial},format=raw,readonly=on`,
        "-device",
        `virtio-blk-pci,drive=${serial},serial=${serial}`,
      ]),
      // 127.0.0.1 only: nothing on the machine's network can reach the VM.
      "-netdev",
      `user,id=n0,hostfwd=tcp:127.0.0.1:${this.o.sshPort}-:22,hostfwd=tcp:127.0.0.1:${this.o.apiPort}-:${this.o.guestApiPort}`,
      "-device",
      "virtio-net-pci,netdev=n0",
      "-device",
      "virtio-rng-pci",
      "-serial",
      `file:${this.console}`,
    ];
    this.startedAt = Date.now();
    this.proc = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    this.proc.stderr!.on("data", (d) => (err += String(d)));
    this.proc.on("exit", (code, sig) => {
      if (!this.stopping) log(`qemu exited (${code ?? sig}) ${err.trim().slice(0, 500)}`);
      this.exited = true;
    });
  }

  stopping = false;
  exited = false;

  async stop() {
    this.stopping = true;
    const p = this.proc;
    if (!p || this.exited || p.pid === undefined) return;
    p.kill("SIGTERM");
    for (let i = 0; i < 50 && !this.exited; i++) await sleep(100);
    if (!this.exited) p.kill("SIGKILL");
  }
}

export function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.slice(0, 3).join(" ")}… failed (${r.status ?? r.error}): ${(r.stderr || "").trim().slice(-800)}`,
    );
  return r.stdout;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** ssh as root with the deploy key, the program's pinned host key and nothing else (no TOFU). */
export class Ssh {
  readonly knownHosts: string;
  private readonly control: string;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly keyFile: string,
    hostKey: string,
    readonly host = "127.0.0.1",
  ) {
    this.knownHosts = join(dir, `known_hosts-${host}-${port}`);
    this.control = join(dir, `ssh-control-${host}-${port}`);
    // known_hosts names a host on port 22 bare, any other port as [host]:port (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
    writeFileSync(this.knownHosts, `${port === 22 ? host : `[${host}]:${port}`} ${hostKey.trim()}\n`, {
      mode: 0o600,
    });
  }

  args(extra: string[] = []): string[] {
    return [
      "-F",
      "/dev/null",
      "-i",
      this.keyFile,
      "-p",
      String(this.port),
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${this.knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "ConnectTimeout=20",
      "-o",
      "ServerAliveInterval=15",
      "-o",
      "ServerAliveCountMax=8",
      // One TCP/SSH session reused by every command (a handshake costs seconds under TCG); the
      // master is started by master() with its stdio closed, since a ControlPersist master that
      // an exec() started would keep that exec's stderr pipe open. No master: a direct connection.
      "-o",
      `ControlPath=${this.control}`,
      ...extra,
      `root@${this.host}`,
    ];
  }

  /** Starts the shared connection if it is not running (after a boot or a reboot). */
  master() {
    if (spawnSync("ssh", this.args(["-O", "check"]), { stdio: "ignore" }).status === 0) return;
    spawnSync("ssh", this.args(["-o", "ControlMaster=yes", "-o", "ControlPersist=600", "-f", "-N"]), {
      stdio: "ignore",
      timeout: 45_000,
    });
  }

  /** Runs one remote command line; stdin is a string or a file to stream. */
  exec(
    command: string,
    opts: { stdin?: string | { file: string }; timeoutS?: number } = {},
  ): Promise<SshResult> {
    this.master();
    return new Promise((resolve) => {
      const p = spawn("ssh", [...this.args(["-o", "ControlMaster=no"]), command], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d) => (stdout += String(d)));
      p.stderr.on("data", (d) => (stderr += String(d)));
      const timer = opts.timeoutS
        ? setTimeout(() => {
            stderr += `\n[lab] timed out after ${opts.timeoutS} s`;
            p.kill("SIGKILL");
          }, opts.timeoutS * 1000)
        : undefined;
      p.on("close", (code) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? 255, stdout, stderr });
      });
      p.stdin.on("error", () => undefined);
      if (opts.stdin === undefined) p.stdin.end();
      else if (typeof opts.stdin === "string") p.stdin.end(opts.stdin);
      else {
        const f = spawn("cat", [opts.stdin.file], { stdio: ["ignore", "pipe", "ignore"] });
        f.stdout.pipe(p.stdin);
      }
    });
  }

  /** Like exec, but a non-zero exit is an error naming the step. */
  async must(
    what: string,
    command: string,
    opts: { stdin?: string | { file: string }; timeoutS?: number } = {},
  ): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0)
      throw new Error(`${what}: exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-1500)}`);
    return r.stdout;
  }

  closeMaster() {
    spawnSync("ssh", [...this.args(["-O", "exit"])], { stdio: "ignore" });
  }
}
