// Servers as qemu VMs booted from the lab's cached Debian image (test/lab/build-image.sh), one per
// server, each reachable on its own loopback address as a Hetzner server is on its public IPv4:
// qemu's user network forwards <ip>:22 and the app's ports (same numbers) to the guest.
//
// Why not test/lab/vm.ts's Vm: it fixes -smp 3 -m 3072, forwards only 127.0.0.1:<free port>, and
// re-creates the overlay disk on every start, while a server here needs its type's cores and
// memory, its own address with fixed ports, and a disk that survives power cycles and change_type.
// The qemu arguments below follow Vm.start() (direct kernel boot, root by label, NoCloud seed,
// virtio, serial console to a file); the accelerator flags (accel.ts), `run` (vm.ts) and the image
// (image-cache.ts) are the lab's.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accelArgs } from "../lab/accel";
import type { LabImage } from "../lab/image-cache";
import { run, type Accel, type VmFiles } from "../lab/vm";
import type { MachineBackend, MachineInfo, MachineShape, MachineSpec, PrivateNic } from "./backend";
import { PrivateFabric } from "./private-net";

export interface QemuBackendOptions {
  /** Per-server directories (overlay disk, seed, console log) go under <stateDir>/machines/<id>. */
  stateDir: string;
  files: VmFiles;
  accel: Accel;
  /** Guest ports forwarded from <server ip>:<same port>, besides 22. */
  forwardPorts?: number[];
  /** Real guest memory = min(type's memory × memoryScale, memoryCapMb). */
  memoryCapMb?: number;
  memoryScale?: number;
  /** Real vCPUs = min(type's cores, coresCap). */
  coresCap?: number;
  /** When a boot counts as done: the guest's sshd answers on <ip>:22 ("ssh"), or qemu runs ("process"). */
  bootWait?: "ssh" | "process";
  bootTimeoutS?: number;
  log?: (msg: string) => void;
}

interface Machine {
  spec: MachineSpec;
  shape: MachineShape;
  dir: string;
  monitor: string;
  proc?: ChildProcess;
  exited: boolean;
  expectExit: boolean;
  boots: number;
  stderr: string;
  actual: { cores: number; memoryMb: number };
  /** Its private NICs: the network's switch port and the NIC's own UDP port, both on 127.0.0.1. */
  nics: { nic: PrivateNic; hub: number; local: number }[];
}

/** A UDP port free on 127.0.0.1 now (bound and released): a private NIC's own end. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** qemu's -netdev and -device for a private NIC; ids by network, so each is named on unplug. */
function nicArgs(n: Machine["nics"][number]): { netdev: string; device: string } {
  const id = n.nic.network;
  return {
    netdev: `socket,id=pn${id},udp=127.0.0.1:${n.hub},localaddr=127.0.0.1:${n.local}`,
    device: `virtio-net-pci,netdev=pn${id},mac=${n.nic.mac},id=pd${id}`,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lab's cached image (test/lab/image-cache.ts) as qemu files; lab-base.tar as serial labbase, as the lab attaches it. */
export function vmFiles(image: LabImage): VmFiles {
  return {
    kernel: image.kernel,
    initrd: image.initrd,
    baseDisk: image.rootDisk,
    extraDisks: existsSync(image.baseTar) ? { labbase: image.baseTar } : {},
  };
}

/** True when something on ip:port answers with an SSH banner within timeoutMs. */
export function sshBanner(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port });
    let data = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on("data", (d) => {
      data += String(d);
      if (data.startsWith("SSH-")) done(true);
    });
    sock.on("error", () => done(false));
    sock.on("close", () => done(data.startsWith("SSH-")));
  });
}

export class QemuBackend implements MachineBackend {
  readonly kind = "qemu";
  private machines = new Map<number, Machine>();
  private stoppedCbs: ((id: number) => void)[] = [];
  private readonly sockDir: string;
  private readonly log: (msg: string) => void;
  /** The private networks' switches (and DHCP), shared by every machine. */
  readonly fabric: PrivateFabric;

  constructor(readonly o: QemuBackendOptions) {
    mkdirSync(join(o.stateDir, "machines"), { recursive: true });
    // Monitor sockets in a short path: a unix socket path is limited to 107 bytes.
    this.sockDir = mkdtempSync(join(tmpdir(), "hemu-"));
    this.log = o.log ?? ((m) => process.stderr.write(`[hcloud-emulator qemu] ${m}\n`));
    this.fabric = new PrivateFabric((m) => this.log(m));
  }

  private m(id: number): Machine {
    const m = this.machines.get(id);
    if (!m) throw new Error(`no machine for server ${id}`);
    return m;
  }

  private actual(shape: MachineShape) {
    const memoryMb = Math.min(
      this.o.memoryCapMb ?? 3072,
      Math.round(shape.memoryGb * 1024 * (this.o.memoryScale ?? 1)),
    );
    return { cores: Math.min(shape.cores, this.o.coresCap ?? 4), memoryMb };
  }

  async createMachine(spec: MachineSpec) {
    const dir = join(this.o.stateDir, "machines", String(spec.id));
    mkdirSync(dir, { recursive: true });
    // The server's disk: a copy-on-write overlay of the lab image, kept until the server is deleted.
    run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-F",
      "raw",
      "-b",
      this.o.files.baseDisk,
      join(dir, "root.qcow2"),
    ]);
    writeFileSync(join(dir, "user-data"), spec.userData, { mode: 0o600 });
    // Stand-in for Hetzner's metadata service: instance-id is the server ID (stable across boots
    // and type changes, so cloud-init runs once), the hostname its name, and the public keys of
    // its `ssh_keys`, which Hetzner installs for root. NoCloud's public-keys installs them; the
    // vendor-data lets them serve root (cloud-init's default disable_root would refuse root
    // logins), and user-data can still override it, as on Hetzner's images.
    const keys = spec.sshPublicKeys.map((k) => `  - ${JSON.stringify(k.trim())}\n`).join("");
    writeFileSync(
      join(dir, "meta-data"),
      `instance-id: hcloud-${spec.id}\nlocal-hostname: ${spec.name}\n${keys ? `public-keys:\n${keys}` : ""}`,
      { mode: 0o600 },
    );
    writeFileSync(join(dir, "vendor-data"), "#cloud-config\ndisable_root: false\n");
    run("cloud-localds", [
      "-V",
      join(dir, "vendor-data"),
      join(dir, "seed.img"),
      join(dir, "user-data"),
      join(dir, "meta-data"),
    ]);
    const shape = { cores: spec.cores, memoryGb: spec.memoryGb, diskGb: spec.diskGb };
    this.machines.set(spec.id, {
      spec,
      shape,
      dir,
      monitor: join(this.sockDir, `${spec.id}.sock`),
      exited: true,
      expectExit: false,
      boots: 0,
      stderr: "",
      actual: this.actual(shape),
      nics: [],
    });
  }

  private args(m: Machine): string[] {
    const { files } = this.o;
    const accel = accelArgs(this.o.accel);
    const ip = m.spec.ip;
    const fwd = ip
      ? [22, ...(this.o.forwardPorts ?? [])].map((p) => `,hostfwd=tcp:${ip}:${p}-:${p}`).join("")
      : "";
    return [
      "-name",
      `hcloud-emulator-${m.spec.id}`,
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-vga",
      "none",
      ...accel,
      "-smp",
      String(m.actual.cores),
      "-m",
      String(m.actual.memoryMb),
      "-kernel",
      files.kernel,
      "-initrd",
      files.initrd,
      "-append",
      "root=LABEL=lab-root rw console=ttyS0 loglevel=4",
      "-drive",
      `file=${join(m.dir, "root.qcow2")},if=virtio,format=qcow2`,
      "-drive",
      `file=${join(m.dir, "seed.img")},if=virtio,format=raw,readonly=on`,
      ...Object.entries(files.extraDisks).flatMap(([serial, f]) => [
        "-drive",
        `file=${f},if=none,id=${serial},format=raw,readonly=on`,
        "-device",
        `virtio-blk-pci,drive=${serial},serial=${serial}`,
      ]),
      // Only the server's own loopback address: nothing off this machine can reach the guest.
      "-netdev",
      `user,id=n0${fwd}`,
      "-device",
      "virtio-net-pci,netdev=n0",
      // The private networks' NICs, after the public one (the guest's second NIC and on).
      ...m.nics.flatMap((n) => {
        const a = nicArgs(n);
        return ["-netdev", a.netdev, "-device", a.device];
      }),
      "-device",
      "virtio-rng-pci",
      "-monitor",
      `unix:${m.monitor},server=on,wait=off`,
      "-serial",
      `file:${join(m.dir, `console-${m.boots + 1}.log`)}`,
    ];
  }

  async powerOn(id: number) {
    const m = this.m(id);
    if (!m.exited) return;
    m.actual = this.actual(m.shape);
    const args = this.args(m);
    m.boots++;
    m.exited = false;
    m.expectExit = false;
    m.stderr = "";
    const started = Date.now();
    this.log(
      `server ${id}: qemu -smp ${m.actual.cores} -m ${m.actual.memoryMb} (type: ${m.shape.cores} cores, ${m.shape.memoryGb} GB) on ${m.spec.ip || "no address"}`,
    );
    const p = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    m.proc = p;
    p.stderr!.on("data", (d) => (m.stderr += String(d)));
    p.on("exit", (code, sig) => {
      m.exited = true;
      if (!m.expectExit) {
        this.log(`server ${id}: qemu exited (${code ?? sig}) ${m.stderr.trim().slice(0, 300)}`);
        for (const cb of this.stoppedCbs) cb(id);
      }
    });
    const deadline = started + (this.o.bootTimeoutS ?? 600) * 1000;
    const failed = () =>
      new Error(
        `qemu for server ${id} exited during boot: ${m.stderr.trim().slice(-800) || "(no stderr)"}; console: ${this.consoleTail(m)}`,
      );
    if ((this.o.bootWait ?? "ssh") === "process" || !m.spec.ip) {
      await sleep(1000);
      if (m.exited) throw failed();
      return;
    }
    for (;;) {
      if (m.exited) throw failed();
      if (await sshBanner(m.spec.ip, 22, 5000)) break;
      if (Date.now() > deadline)
        throw new Error(
          `server ${id}: no SSH banner on ${m.spec.ip}:22 after ${this.o.bootTimeoutS ?? 600} s; console: ${this.consoleTail(m)}`,
        );
      await sleep(2000);
    }
    this.log(
      `server ${id}: sshd answers on ${m.spec.ip}:22 ${Math.round((Date.now() - started) / 1000)} s after qemu started`,
    );
  }

  private consoleTail(m: Machine): string {
    const f = join(m.dir, `console-${m.boots}.log`);
    return existsSync(f) ? readFileSync(f, "utf8").slice(-1500) : "(none)";
  }

  private async kill(m: Machine) {
    const p = m.proc;
    if (!p || m.exited) return;
    m.expectExit = true;
    p.kill("SIGTERM");
    for (let i = 0; i < 50 && !m.exited; i++) await sleep(100);
    if (!m.exited) p.kill("SIGKILL");
    for (let i = 0; i < 50 && !m.exited; i++) await sleep(100);
  }

  /** Runs HMP commands in order; resolves with what the monitor printed. */
  private monitorCommand(m: Machine, ...cmds: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(m.monitor);
      let out = "";
      s.on("data", (d) => (out += String(d)));
      s.on("error", (e) => reject(new Error(`qemu monitor of server ${m.spec.id}: ${e.message}`)));
      s.on("connect", () => {
        for (const c of cmds) s.write(`${c}\n`);
        setTimeout(() => {
          s.end();
          resolve(out);
        }, 300 * cmds.length);
      });
    });
  }

  async attachNic(id: number, nic: PrivateNic) {
    const m = this.m(id);
    const n = { nic, hub: await this.fabric.port(nic.network), local: await freeUdpPort() };
    this.fabric.lease(nic.network, nic);
    m.nics.push(n);
    if (m.exited) return;
    // Hot-plugged, as Hetzner plugs a running server's private interface in; the guest's
    // systemd-networkd asks for its address by DHCP.
    const a = nicArgs(n);
    const out = await this.monitorCommand(m, `netdev_add ${a.netdev}`, `device_add ${a.device}`);
    if (/error|could not|invalid/i.test(out))
      throw new Error(`server ${id}: qemu refused the private NIC: ${out.replace(/\s+/g, " ").slice(-400)}`);
    this.log(`server ${id}: NIC ${nic.mac} plugged into network ${nic.network} (${nic.ip})`);
  }

  async detachNic(id: number, network: number) {
    const m = this.m(id);
    const n = m.nics.find((x) => x.nic.network === network);
    if (!n) return;
    m.nics = m.nics.filter((x) => x !== n);
    this.fabric.release(network, n.nic.mac);
    if (m.exited) return;
    await this.monitorCommand(m, `device_del pd${network}`);
    // The guest acknowledges the unplug (ACPI) before the backend can go.
    await sleep(2000);
    await this.monitorCommand(m, `netdev_del pn${network}`);
  }

  async powerOff(id: number) {
    await this.kill(this.m(id));
  }

  async shutdown(id: number) {
    const m = this.m(id);
    if (m.exited) return;
    // The ACPI power button: the guest's systemd shuts down and qemu exits (→ onStopped).
    await this.monitorCommand(m, "system_powerdown");
  }

  async reboot(id: number) {
    const m = this.m(id);
    if (m.exited) throw new Error(`server ${id} is not running`);
    // A hard reset: qemu has no ACPI reboot button (Hetzner's reboot is a soft one).
    await this.monitorCommand(m, "system_reset");
  }

  async resize(id: number, shape: MachineShape) {
    const m = this.m(id);
    if (!m.exited) throw new Error(`server ${id} is running; a resize needs it stopped`);
    // New -smp/-m from the next boot; the overlay disk (the server's data) is kept. The disk is
    // not grown: the guest keeps the lab image's size whatever the type's disk says.
    m.shape = { ...shape };
  }

  async destroy(id: number) {
    const m = this.machines.get(id);
    if (!m) return;
    await this.kill(m);
    for (const n of m.nics) this.fabric.release(n.nic.network, n.nic.mac);
    this.machines.delete(id);
    rmSync(m.dir, { recursive: true, force: true });
  }

  onStopped(cb: (id: number) => void) {
    this.stoppedCbs.push(cb);
  }

  info(id: number): MachineInfo | undefined {
    const m = this.machines.get(id);
    if (!m) return undefined;
    return {
      running: !m.exited,
      requested: m.shape,
      actual: m.actual,
      boots: m.boots,
      detail: {
        dir: m.dir,
        pid: m.proc?.pid,
        accel: this.o.accel,
        forwards: m.spec.ip ? [22, ...(this.o.forwardPorts ?? [])].map((p) => `${m.spec.ip}:${p}`) : [],
      },
    };
  }

  async stopAll() {
    await Promise.all([...this.machines.values()].map((m) => this.kill(m)));
    this.fabric.close();
    rmSync(this.sockDir, { recursive: true, force: true });
  }
}
