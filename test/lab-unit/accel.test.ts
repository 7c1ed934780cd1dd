// The lab's choice of accelerator (test/lab/accel.ts): the decision over what the probe saw is pure
// and runs here; the probe's qemu boot itself runs in `npm run lab`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { accelArgs, decideAccel, forcedAccel, kvmDevice, probeAccel, probeKernel } from "../lab/accel";

const dir = mkdtempSync(join(tmpdir(), "lab-accel-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The first console lines of Debian 12's cloud kernel booted with earlyprintk=serial.
const BOOTED =
  "Probing EDD (edd=off to disable)... ok\nLinux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2\nCommand line: console=ttyS0 earlyprintk=serial panic=-1\n";
// What qemu 7.2 says on a host whose /dev/kvm is a kvm-pvm module (this CI machine), with -cpu host.
const MSR_ABORT =
  "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n";

describe("decideAccel", () => {
  it("no /dev/kvm: TCG", () => {
    expect(decideAccel({ kvmDevice: "absent", consoleText: "" })).toEqual({
      accel: "tcg",
      reason: "no /dev/kvm on this machine",
    });
  });

  it("/dev/kvm not usable by this user: TCG", () => {
    const d = decideAccel({ kvmDevice: "no-access", consoleText: "" });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toMatch(/not readable and writable/);
  });

  it("the kernel's banner on the console: KVM, naming the kernel", () => {
    const d = decideAccel({ kvmDevice: "present", consoleText: BOOTED, waitedMs: 900 });
    expect(d).toEqual({
      accel: "kvm",
      reason: 'a KVM guest booted: its console printed "Linux version 6.1.0-56-cloud-amd64"',
    });
  });

  it("the banner counts even when qemu has exited since (the kernel panicked without a root disk)", () => {
    expect(
      decideAccel({
        kvmDevice: "present",
        consoleText: `${BOOTED}Kernel panic - not syncing: VFS`,
        qemuExit: { code: 0, signal: null, stderr: "" },
      }).accel,
    ).toBe("kvm");
  });

  it("an empty console at the deadline: TCG, saying how long it waited", () => {
    const d = decideAccel({ kvmDevice: "present", consoleText: "", waitedMs: 8040 });
    expect(d).toEqual({
      accel: "tcg",
      reason: "/dev/kvm is there but a KVM guest printed no kernel line in 8 s",
    });
  });

  it("only the real-mode setup's line and then silence (the guest hung entering the kernel): TCG", () => {
    const d = decideAccel({
      kvmDevice: "present",
      consoleText: "Probing EDD (edd=off to disable)... ok\n",
      waitedMs: 8000,
    });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toContain('its console only said: "Probing EDD (edd=off to disable)... ok"');
  });

  it("qemu failing to open /dev/kvm: TCG, with qemu's message", () => {
    const stderr =
      "Could not access KVM kernel module: Permission denied\nqemu-system-x86_64: failed to initialize kvm: Permission denied\n";
    const d = decideAccel({
      kvmDevice: "present",
      consoleText: "",
      qemuExit: { code: 1, signal: null, stderr },
    });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toBe(
      "qemu -enable-kvm failed before the kernel started (exit 1: Could not access KVM kernel module: Permission denied qemu-system-x86_64: failed to initialize kvm: Permission denied)",
    );
  });

  it("qemu aborting under -cpu host: TCG, with the signal and the message", () => {
    const d = decideAccel({
      kvmDevice: "present",
      consoleText: "",
      qemuExit: { code: null, signal: "SIGABRT", stderr: MSR_ABORT },
    });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toMatch(
      /^qemu -enable-kvm failed before the kernel started \(signal SIGABRT: qemu-system-x86_64: error: failed to set MSR 0x10a/,
    );
  });

  it("a console line that merely mentions Linux is not the banner", () => {
    expect(
      decideAccel({ kvmDevice: "present", consoleText: "SeaBIOS: booting Linux version\n", waitedMs: 8000 })
        .accel,
    ).toBe("tcg");
  });
});

describe("forcedAccel", () => {
  it("LAB_ACCEL=kvm or tcg forces; unset or empty probes; anything else is an error", () => {
    expect(forcedAccel({ LAB_ACCEL: "kvm" })).toBe("kvm");
    expect(forcedAccel({ LAB_ACCEL: "tcg" })).toBe("tcg");
    expect(forcedAccel({})).toBeUndefined();
    expect(forcedAccel({ LAB_ACCEL: "" })).toBeUndefined();
    expect(() => forcedAccel({ LAB_ACCEL: "KVM" })).toThrow(/LAB_ACCEL: should be kvm or tcg \(got KVM\)/);
  });
});

describe("probeAccel without booting anything", () => {
  it("LAB_ACCEL wins over the probe (no kernel needed)", async () => {
    await expect(probeAccel({ env: { LAB_ACCEL: "tcg" } })).resolves.toEqual({
      accel: "tcg",
      reason: "LAB_ACCEL=tcg",
    });
    await expect(probeAccel({ env: { LAB_ACCEL: "kvm" }, device: join(dir, "absent") })).resolves.toEqual({
      accel: "kvm",
      reason: "LAB_ACCEL=kvm",
    });
  });

  it("no KVM device: TCG without a kernel or qemu", async () => {
    await expect(probeAccel({ env: {}, device: join(dir, "absent") })).resolves.toEqual({
      accel: "tcg",
      reason: "no /dev/kvm on this machine",
    });
  });

  it("a usable device but no kernel to boot is an error, not a guess", async () => {
    const dev = join(dir, "kvm");
    writeFileSync(dev, "");
    await expect(probeAccel({ env: {}, device: dev })).rejects.toThrow(/no kernel to boot/);
  });
});

describe("kvmDevice, probeKernel, accelArgs", () => {
  it("tells absent from present", () => {
    expect(kvmDevice(join(dir, "nope"))).toBe("absent");
    const f = join(dir, "dev-rw");
    writeFileSync(f, "");
    chmodSync(f, 0o600);
    expect(kvmDevice(f)).toBe("present");
  });

  it("prefers the lab image's kernel, else the host's newest /boot/vmlinuz-*", () => {
    const image = join(dir, "image");
    const boot = join(dir, "boot");
    mkdirSync(image);
    mkdirSync(boot);
    expect(probeKernel(image, boot)).toBeUndefined();
    for (const v of ["6.1.0-9-amd64", "6.1.0-28-amd64", "6.1.0-10-amd64"])
      writeFileSync(join(boot, `vmlinuz-${v}`), "");
    writeFileSync(join(boot, "config-6.1.0-99-amd64"), "");
    expect(probeKernel(image, boot)).toBe(join(boot, "vmlinuz-6.1.0-28-amd64"));
    expect(probeKernel(undefined, boot)).toBe(join(boot, "vmlinuz-6.1.0-28-amd64"));
    writeFileSync(join(image, "vmlinuz"), "");
    expect(probeKernel(image, boot)).toBe(join(image, "vmlinuz"));
    expect(probeKernel(undefined, join(dir, "no-boot"))).toBeUndefined();
  });

  it("the probe tests the lab's own KVM flags", () => {
    expect(accelArgs("kvm")).toEqual(["-enable-kvm", "-cpu", "host"]);
    expect(accelArgs("tcg")).toEqual(["-accel", "tcg,thread=multi", "-cpu", "max"]);
  });
});
