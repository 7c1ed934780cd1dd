// scripts/setup-swap.sh run for real (`bash -s -- ARGS`, script on stdin, as the program runs it
// over SSH) in a privileged throwaway container from the local base image.
//
// Careful: swapon and vm.* sysctls are not namespaced, they change the HOST. So:
// - the swap file lives in a fresh host directory under /var/tmp (ext4: swap files do not work on
//   the container's overlayfs), bind-mounted at /swap;
// - the host's vm.swappiness and vm.overcommit_memory are recorded first and restored in
//   afterAll, and the test swap file is swapped off there even when a test failed.
// The cases run in order and build on each other's state, like successive deploys.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScript } from "../../components/host";
import {
  BASE_IMAGE_TIMEOUT_MS,
  type Container,
  type RunResult,
  run,
  runOk,
  startContainer,
} from "./support/docker";

// The shipped text, as the program sends it.
const SCRIPT = readScript("setup-swap.sh");
const GIB = 1024 ** 3;
const SWAPFILE = "/swap/swapfile";
const FSTAB = "/etc/fstab"; // the script's defaults, inside the container
const SYSCTL_FILE = "/etc/sysctl.d/60-app-infra.conf";
// Lines a real fstab has, which the script must keep as they are.
const FSTAB_BEFORE = [
  "# /etc/fstab: static file system information.",
  "UUID=0a1b2c3d / ext4 discard,errors=remount-ro 0 1",
  `# ${SWAPFILE} none swap sw 0 0   (a comment, not an entry)`,
  "",
].join("\n");

const VM_KEYS = ["swappiness", "overcommit_memory"] as const;
const readVm = (key: (typeof VM_KEYS)[number]) => readFileSync(`/proc/sys/vm/${key}`, "utf8").trim();
const writeVm = (key: (typeof VM_KEYS)[number], value: string) =>
  writeFileSync(`/proc/sys/vm/${key}`, `${value}\n`);

let c: Container | undefined;
let hostDir = "";
const savedVm = new Map<string, string>();

function container(): Container {
  if (!c) throw new Error("container did not start (see beforeAll)");
  return c;
}

/** Runs setup-swap.sh in the container with SWAPFILE pointing into the bind mount. */
function setupSwap(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return container().runScript(SCRIPT, args, { env: { SWAPFILE, ...env }, timeoutMs: 60_000 });
}

/** A shell command in the container that must succeed; returns its trimmed stdout. */
async function sh(cmd: string): Promise<string> {
  const res = await container().exec(["bash", "-euo", "pipefail", "-c", cmd]);
  if (res.code !== 0) throw new Error(`${cmd} exited ${res.code}: ${res.stderr}`);
  return res.stdout.trim();
}

function expectOk(res: RunResult): void {
  expect(res.code, `setup-swap.sh failed\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`).toBe(0);
}

const fileSize = async () => Number(await sh(`stat -c %s ${SWAPFILE}`));
const inode = () => sh(`stat -c %i ${SWAPFILE}`);
const exists = async () => (await container().exec(["test", "-e", SWAPFILE])).code === 0;
/** Size in KiB of the active swap area on SWAPFILE per /proc/swaps, or undefined if inactive. */
async function activeSwapKb(): Promise<number | undefined> {
  const out = await sh(`awk -v f=${SWAPFILE} 'NR > 1 && $1 == f { print $3 }' /proc/swaps`);
  return out === "" ? undefined : Number(out);
}
const fstabSwapLines = async () =>
  (await sh(`cat ${FSTAB}`)).split("\n").filter((l) => l.split(/\s+/)[0] === SWAPFILE);

beforeAll(async () => {
  for (const key of VM_KEYS) savedVm.set(key, readVm(key));
  mkdirSync("/var/tmp", { recursive: true });
  hostDir = mkdtempSync("/var/tmp/app-infra-swap-test-");
  const fsType = (await runOk("stat", ["-f", "-c", "%T", hostDir])).stdout.trim();
  if (!["ext2/ext3", "xfs"].includes(fsType)) {
    throw new Error(`${hostDir} is on ${fsType}; the swap test needs ext4 or xfs under /var/tmp`);
  }
  c = await startContainer({ privileged: true, mounts: [{ host: hostDir, container: "/swap" }] });
  // Known starting values, so the test sees the script change them.
  writeVm("swappiness", "60");
  writeVm("overcommit_memory", "0");
  await container().exec(["bash", "-c", `cat > ${FSTAB}`], { input: FSTAB_BEFORE });
}, BASE_IMAGE_TIMEOUT_MS);

afterAll(async () => {
  // swapoff by the host path: the kernel matches the inode, so this works whatever the
  // container's state (the host's /proc/swaps shows the container-side path, not ours). It
  // fails harmlessly with EINVAL when the file is not an active swap area.
  let leftover = "";
  try {
    const hostSwap = hostDir ? join(hostDir, "swapfile") : "";
    if (hostSwap && existsSync(hostSwap)) await run("swapoff", [hostSwap]);
    if (c) leftover = (await c.exec(["awk", `$1 == "${SWAPFILE}"`, "/proc/swaps"])).stdout.trim();
  } finally {
    await c?.remove();
    for (const [key, value] of savedVm) writeVm(key as (typeof VM_KEYS)[number], value);
    // A deleted file that is still an active swap area could not be swapped off by any path
    // until the next boot: keep the directory then.
    if (hostDir && !leftover) rmSync(hostDir, { recursive: true, force: true });
  }
  // Tell loudly if the host was left with our swap on: later tests and the developer's box care.
  if (leftover) {
    throw new Error(
      `test swap still active on the host (${leftover}): run \`swapoff ${join(hostDir, "swapfile")}\``,
    );
  }
}, 60_000);

describe("setup-swap.sh rejects bad arguments before changing anything", () => {
  it.each([
    [["-1", "10"], "SIZE_GB: should be an integer between 0 and 64 (got '-1')"],
    [["abc", "10"], "SIZE_GB: should be an integer between 0 and 64 (got 'abc')"],
    [["65", "10"], "SIZE_GB: should be an integer between 0 and 64 (got '65')"],
    [["1.5", "10"], "SIZE_GB: should be an integer between 0 and 64 (got '1.5')"],
    [["1", "101"], "SWAPPINESS: should be an integer between 0 and 100 (got '101')"],
    [["1", "-5"], "SWAPPINESS: should be an integer between 0 and 100 (got '-5')"],
    [["1"], "usage: setup-swap.sh SIZE_GB SWAPPINESS (got 1 arguments)"],
  ])("%j -> %s", async (args, message) => {
    const res = await setupSwap(args);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toBe(`setup-swap: ${message}`);
    expect(await exists()).toBe(false);
    expect(await sh(`test -e ${SYSCTL_FILE} && echo yes || echo no`)).toBe("no");
  });
});

describe("setup-swap.sh converges swap and sysctls", () => {
  it("creates a 1 GB swap file, active, mode 600, one fstab line, sysctls persisted and applied", async () => {
    const res = await setupSwap(["1", "13"]);
    expectOk(res);
    expect(res.stdout).toContain(`swap: created ${SWAPFILE} (1 GB), active`);
    expect(await fileSize()).toBe(1 * GIB);
    expect(await sh(`stat -c %a ${SWAPFILE}`)).toBe("600");
    // The kernel reports the area less its 4 KiB header page.
    expect(await activeSwapKb()).toBe((1 * GIB) / 1024 - 4);
    expect(await fstabSwapLines()).toEqual([`${SWAPFILE} none swap sw 0 0`]);
    expect(await sh(`cat ${FSTAB}`)).toBe(`${FSTAB_BEFORE}${SWAPFILE} none swap sw 0 0`);
    const dropIn = await sh(`cat ${SYSCTL_FILE}`);
    expect(dropIn).toMatch(/^vm\.swappiness = 13$/m);
    expect(dropIn).toMatch(/^vm\.overcommit_memory = 1$/m);
    expect(readVm("swappiness")).toBe("13");
    expect(readVm("overcommit_memory")).toBe("1");
    expect(res.stdout).toContain("sysctl: vm.swappiness 60 -> 13");
    expect(res.stdout).toContain("sysctl: vm.overcommit_memory 0 -> 1");
  });

  it("a second run with the same arguments changes nothing and says so", async () => {
    const inodeBefore = await inode();
    const fstabBefore = await sh(`cat ${FSTAB}`);
    const dropInMtime = await sh(`stat -c %Y.%y ${SYSCTL_FILE}`);
    const res = await setupSwap(["1", "13"]);
    expectOk(res);
    expect(res.stdout).toContain(`swap: ${SWAPFILE} already 1 GB, active`);
    expect(res.stdout).not.toMatch(/created|resizing|wrote|fstab:|->/);
    expect(await inode()).toBe(inodeBefore);
    expect(await sh(`cat ${FSTAB}`)).toBe(fstabBefore);
    expect(await sh(`stat -c %Y.%y ${SYSCTL_FILE}`)).toBe(dropInMtime);
    expect(await activeSwapKb()).toBe((1 * GIB) / 1024 - 4);
  });

  it("resizes up 1 -> 2 GB: swapoff, recreate, swapon, still one fstab line", async () => {
    const res = await setupSwap(["2", "13"]);
    expectOk(res);
    expect(res.stdout).toContain(`swap: resizing ${SWAPFILE} from 1024 MB to 2 GB`);
    expect(res.stdout).toContain(`swap: swapoff ${SWAPFILE}`);
    expect(await fileSize()).toBe(2 * GIB);
    expect(await activeSwapKb()).toBe((2 * GIB) / 1024 - 4);
    expect(await fstabSwapLines()).toHaveLength(1);
  });

  it("resizes down 2 -> 1 GB", async () => {
    const res = await setupSwap(["1", "13"]);
    expectOk(res);
    expect(res.stdout).toContain(`swap: resizing ${SWAPFILE} from 2048 MB to 1 GB`);
    expect(await fileSize()).toBe(1 * GIB);
    expect(await activeSwapKb()).toBe((1 * GIB) / 1024 - 4);
    expect(await fstabSwapLines()).toHaveLength(1);
  });

  it("refuses to swapoff when RAM cannot take the swapped pages back, and leaves swap as it was", async () => {
    await sh(`printf 'MemTotal: 2000000 kB\\nMemAvailable: 100000 kB\\n' > /swap/meminfo`);
    const inodeBefore = await inode();
    const res = await setupSwap(["2", "13"], { MEMINFO: "/swap/meminfo" });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      new RegExp(
        `setup-swap: refusing to swapoff ${SWAPFILE}: 0 MB of it is in use and only 97 MB of RAM is available`,
      ),
    );
    expect(await inode()).toBe(inodeBefore);
    expect(await activeSwapKb()).toBe((1 * GIB) / 1024 - 4);
  });

  it("collapses duplicate fstab lines for the swap file into one, keeping the other lines", async () => {
    await sh(
      `printf '%s\\n' '${SWAPFILE} none swap defaults 0 0' '${SWAPFILE}\tnone\tswap\tsw\t0\t0' >> ${FSTAB}`,
    );
    expect(await fstabSwapLines()).toHaveLength(3);
    const res = await setupSwap(["1", "13"]);
    expectOk(res);
    expect(res.stdout).toContain(`fstab: ${FSTAB} now has one line for ${SWAPFILE}`);
    expect(await sh(`cat ${FSTAB}`)).toBe(`${FSTAB_BEFORE}${SWAPFILE} none swap sw 0 0`);
  });

  it("re-activates a right-sized swap file that is not active", async () => {
    await sh(`swapoff ${SWAPFILE}`);
    expect(await activeSwapKb()).toBeUndefined();
    const res = await setupSwap(["1", "13"]);
    expectOk(res);
    expect(res.stdout).toContain(`swap: ${SWAPFILE} is 1 GB but inactive, recreating`);
    expect(await activeSwapKb()).toBe((1 * GIB) / 1024 - 4);
  });

  it("changes vm.swappiness in the drop-in and live, and re-applies values changed by hand", async () => {
    writeVm("overcommit_memory", "2"); // as if someone changed it by hand since the last deploy
    const res = await setupSwap(["1", "42"]);
    expectOk(res);
    expect(res.stdout).toContain(`sysctl: wrote ${SYSCTL_FILE}`);
    expect(res.stdout).toContain("sysctl: vm.swappiness 13 -> 42");
    expect(res.stdout).toContain("sysctl: vm.overcommit_memory 2 -> 1");
    expect(await sh(`grep -c . ${SYSCTL_FILE}`)).toBe("3"); // comment + two settings, no duplicates
    expect(await sh(`grep '^vm' ${SYSCTL_FILE}`)).toBe("vm.swappiness = 42\nvm.overcommit_memory = 1");
    expect(readVm("swappiness")).toBe("42");
    expect(readVm("overcommit_memory")).toBe("1");
  });

  it("size 0 swaps off and removes the file and its fstab line; a second run has nothing to do", async () => {
    const res = await setupSwap(["0", "42"]);
    expectOk(res);
    expect(res.stdout).toContain(`swap: removed ${SWAPFILE}`);
    expect(res.stdout).toContain(`fstab: removed the ${SWAPFILE} line from ${FSTAB}`);
    expect(await exists()).toBe(false);
    expect(await activeSwapKb()).toBeUndefined();
    expect(await fstabSwapLines()).toEqual([]);
    expect(await sh(`cat ${FSTAB}`)).toBe(FSTAB_BEFORE.trimEnd());
    expect(readVm("overcommit_memory")).toBe("1"); // Redis still needs it without swap

    const again = await setupSwap(["0", "42"]);
    expectOk(again);
    expect(again.stdout).toContain(`swap: none at ${SWAPFILE}, nothing to remove`);
    expect(again.stdout).not.toContain("fstab:");
  });

  it("falls back to dd when fallocate fails", async () => {
    await sh(
      "mkdir -p /fake-bin && printf '#!/bin/sh\\necho fallocate: not supported >&2\\nexit 1\\n' > /fake-bin/fallocate && chmod +x /fake-bin/fallocate",
    );
    const res = await setupSwap(["1", "42"], {
      PATH: "/fake-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    });
    expectOk(res);
    expect(res.stdout).toContain("swap: fallocate failed, writing 1 GB of zeros with dd");
    expect(res.stdout).toContain(`swap: created ${SWAPFILE} (1 GB), active`);
    expect(await fileSize()).toBe(1 * GIB);
    expect(await activeSwapKb()).toBe((1 * GIB) / 1024 - 4);
  });
});
