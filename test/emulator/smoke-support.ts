// What the qemu smoke runs (smoke-qemu.ts, smoke-private-net.ts) share: the emulator's HTTP API,
// waiting for its actions, and root logins on the VMs with a throwaway key.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "./emulator";
import { backendFromEnv } from "./main";

export const say = (m: string) =>
  process.stdout.write(`[smoke ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

export function smokeClient(emu: Emulator, tmp: string) {
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${emu.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${emu.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const j = (r.status === 204 ? {} : await r.json()) as any;
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };
  const wait = async (actions: { id: number }[], what: string) => {
    for (;;) {
      const r = await api("GET", `/actions?${actions.map((a) => `id=${a.id}`).join("&")}`);
      const bad = r.actions.find((a: any) => a.status === "error");
      if (bad) throw new Error(`${what}: action ${bad.command} failed: ${bad.error.message}`);
      if (r.actions.every((a: any) => a.status === "success")) return;
      await new Promise((res) => setTimeout(res, 1000));
    }
  };
  const keyFile = join(tmp, "id");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "smoke", "-f", keyFile], {
    stdio: "inherit",
  });
  const ssh = (ip: string, cmd: string) => {
    const r = spawnSync(
      "ssh",
      [
        ...["-F", "/dev/null", "-i", keyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        ...["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20", `root@${ip}`, cmd],
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    return { code: r.status, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() };
  };
  const sshRetry = async (ip: string, cmd: string, tries = 30) => {
    for (let i = 0; ; i++) {
      const r = ssh(ip, cmd);
      if (r.code === 0) return r.out;
      if (i >= tries) throw new Error(`ssh root@${ip} ${cmd}: exit ${r.code}: ${r.err}`);
      await new Promise((res) => setTimeout(res, 3000));
    }
  };
  return { api, wait, keyFile, ssh, sshRetry };
}

/**
 * One smoke run: the emulator with the qemu backend (`env` as backendFromEnv reads it) in a temp
 * dir of its own, `body`, then every VM stopped and the dir removed; PASS or FAIL and the exit code.
 * SMOKE_HOLD_S keeps the VMs up that long after a failure, for a look inside
 * (`ssh -i <tmp>/id root@<ip>`).
 */
export function runSmoke(
  name: string,
  env: NodeJS.ProcessEnv,
  verbose: boolean,
  body: (emu: Emulator, tmp: string, secs: () => number) => Promise<void>,
): void {
  const main = async () => {
    const tmp = mkdtempSync(join(tmpdir(), `hcloud-emu-${name}-`));
    const emu = await startEmulator({
      backend: await backendFromEnv("qemu", join(tmp, "state"), env),
      verbose,
    });
    const t0 = Date.now();
    const secs = () => Math.round((Date.now() - t0) / 100) / 10;
    let ok = false;
    try {
      await body(emu, tmp, secs);
      ok = true;
    } finally {
      if (!ok && process.env.SMOKE_HOLD_S) {
        say(`holding the VMs for ${process.env.SMOKE_HOLD_S} s; key ${join(tmp, "id")}`);
        await new Promise((r) => setTimeout(r, Number(process.env.SMOKE_HOLD_S) * 1000));
      }
      await emu.stop();
      rmSync(tmp, { recursive: true, force: true });
      say(ok ? `PASS in ${secs()} s` : "FAIL");
    }
  };
  main().catch((e) => {
    process.stderr.write(`smoke: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
