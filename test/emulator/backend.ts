// What stands behind a Hetzner server: a machine that can be created, booted, stopped, resized
// and destroyed. The API layer (api.ts) owns the Hetzner semantics (status, actions, locks); a
// backend only does the machine work and says when it is done (its promise) or failed (a rejection,
// which becomes the action's error).

export interface MachineSpec {
  id: number;
  name: string;
  /** The server's public IPv4 (a loopback address for the qemu backend); "" when it has none. */
  ip: string;
  cores: number;
  memoryGb: number;
  diskGb: number;
  /** Passed verbatim as the NoCloud user-data. */
  userData: string;
  /** The public keys of the server's `ssh_keys`, installed for root. */
  sshPublicKeys: string[];
}

export interface MachineShape {
  cores: number;
  memoryGb: number;
  diskGb: number;
}

/** A server's NIC on one private network (attach_to_network), with the address Hetzner gives it. */
export interface PrivateNic {
  network: number;
  /** The network's range (10.0.0.0/16). */
  ipRange: string;
  ip: string;
  mac: string;
}

/** What the machine really got (the qemu backend caps memory and cores), for reports. */
export interface MachineInfo {
  running: boolean;
  requested: MachineShape;
  actual: { cores: number; memoryMb: number };
  boots: number;
  detail?: Record<string, unknown>;
}

export interface MachineBackend {
  readonly kind: string;
  /** Prepares the machine (disk, seed) without starting it. */
  createMachine(spec: MachineSpec): Promise<void>;
  /** Boots it; resolves when it is up (the qemu backend: its sshd answers, or qemu started). */
  powerOn(id: number): Promise<void>;
  /** Cuts the power (no guest shutdown). */
  powerOff(id: number): Promise<void>;
  /** Sends an ACPI power-button press; resolves when sent. The machine stops later, or never. */
  shutdown(id: number): Promise<void>;
  /** Restarts a running machine. */
  reboot(id: number): Promise<void>;
  /** New cores/memory for a stopped machine, used from its next boot; the disk is kept. */
  resize(id: number, shape: MachineShape): Promise<void>;
  destroy(id: number): Promise<void>;
  /** Plugs a NIC on a private network in: at once if the machine runs (hot-plug), else at its next boot. */
  attachNic(id: number, nic: PrivateNic): Promise<void>;
  /** Unplugs the machine's NIC on private network `network`. */
  detachNic(id: number, network: number): Promise<void>;
  /** Called when a machine stops by itself (guest shutdown, ACPI, crash). */
  onStopped(cb: (id: number) => void): void;
  info(id: number): MachineInfo | undefined;
  /** Stops every machine (the emulator's stop()). */
  stopAll(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FakeMachine {
  spec: MachineSpec;
  shape: MachineShape;
  running: boolean;
  boots: number;
  nics: PrivateNic[];
}

/**
 * In-memory machines for unit tests: every operation takes `delayMs`, a shutdown stops the machine
 * `delayMs` later (unless `ignoreAcpi`), and `failNext(op, message)` makes the next such call fail.
 */
export class FakeBackend implements MachineBackend {
  readonly kind = "fake";
  readonly machines = new Map<number, FakeMachine>();
  readonly calls: string[] = [];
  private stoppedCbs: ((id: number) => void)[] = [];
  private failures = new Map<string, string>();

  constructor(readonly opts: { delayMs?: number; ignoreAcpi?: boolean } = {}) {}

  failNext(
    op:
      | "createMachine"
      | "powerOn"
      | "powerOff"
      | "shutdown"
      | "reboot"
      | "resize"
      | "destroy"
      | "attachNic"
      | "detachNic",
    message: string,
  ) {
    this.failures.set(op, message);
  }

  private async step(op: string, id: number): Promise<FakeMachine> {
    this.calls.push(`${op} ${id}`);
    await sleep(this.opts.delayMs ?? 20);
    const f = this.failures.get(op);
    if (f !== undefined) {
      this.failures.delete(op);
      throw new Error(f);
    }
    const m = this.machines.get(id);
    if (!m && op !== "createMachine") throw new Error(`no machine ${id}`);
    return m!;
  }

  async createMachine(spec: MachineSpec) {
    await this.step("createMachine", spec.id);
    this.machines.set(spec.id, {
      spec,
      shape: { cores: spec.cores, memoryGb: spec.memoryGb, diskGb: spec.diskGb },
      running: false,
      boots: 0,
      nics: [],
    });
  }
  async powerOn(id: number) {
    const m = await this.step("powerOn", id);
    if (!m.running) m.boots++;
    m.running = true;
  }
  async powerOff(id: number) {
    const m = await this.step("powerOff", id);
    m.running = false;
  }
  async shutdown(id: number) {
    const m = await this.step("shutdown", id);
    if (this.opts.ignoreAcpi) return;
    setTimeout(() => {
      if (!m.running) return;
      m.running = false;
      for (const cb of this.stoppedCbs) cb(id);
    }, this.opts.delayMs ?? 20);
  }
  async reboot(id: number) {
    const m = await this.step("reboot", id);
    m.boots++;
  }
  async resize(id: number, shape: MachineShape) {
    const m = await this.step("resize", id);
    if (m.running) throw new Error(`machine ${id} is running; resize needs it stopped`);
    m.shape = { ...shape };
  }
  async destroy(id: number) {
    await this.step("destroy", id);
    this.machines.delete(id);
  }
  async attachNic(id: number, nic: PrivateNic) {
    const m = await this.step("attachNic", id);
    m.nics.push(nic);
  }
  async detachNic(id: number, network: number) {
    const m = await this.step("detachNic", id);
    m.nics = m.nics.filter((n) => n.network !== network);
  }
  onStopped(cb: (id: number) => void) {
    this.stoppedCbs.push(cb);
  }
  info(id: number): MachineInfo | undefined {
    const m = this.machines.get(id);
    return (
      m && {
        running: m.running,
        requested: m.shape,
        actual: { cores: m.shape.cores, memoryMb: m.shape.memoryGb * 1024 },
        boots: m.boots,
      }
    );
  }
  async stopAll() {
    for (const m of this.machines.values()) m.running = false;
  }
}
