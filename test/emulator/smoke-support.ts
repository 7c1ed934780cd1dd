// What the qemu smoke runs (smoke-qemu.ts, smoke-private-net.ts) share: the emulator's HTTP API,
// waiting for its actions, and root logins on the VMs with a throwaway key.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Emulator } from "./emulator";

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
