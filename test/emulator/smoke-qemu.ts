// `tsx test/emulator/smoke-qemu.ts`: the emulator with the qemu backend, end to end over its HTTP
// API: an SSH key and a server from the lab image, root login on <server ip>:22 with that key, a
// change_type (power off, new -smp/-m, started again) seen from inside the guest, and a delete.
// Needs the lab's image cache (test/lab/README.md) and qemu; not part of `npm test`.
// Environment: EMU_ACCEL/LAB_ACCEL (kvm|tcg), EMU_MEMORY_CAP_MB, EMU_CORES_CAP (see README.md).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "./emulator";
import { backendFromEnv } from "./main";

const say = (m: string) => process.stdout.write(`[smoke ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), "hcloud-emu-smoke-"));
  const backend = await backendFromEnv("qemu", join(tmp, "state"), {
    ...process.env,
    EMU_FORWARD_PORTS: process.env.EMU_FORWARD_PORTS ?? "",
  });
  const emu = await startEmulator({ backend, verbose: true });
  const t0 = Date.now();
  const secs = () => Math.round((Date.now() - t0) / 100) / 10;
  let ok = false;
  try {
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${emu.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${emu.token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const j = (await r.json()) as any;
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
          "-F",
          "/dev/null",
          "-i",
          keyFile,
          "-o",
          "IdentitiesOnly=yes",
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "LogLevel=ERROR",
          "-o",
          "ConnectTimeout=20",
          `root@${ip}`,
          cmd,
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

    const key = (
      await api("POST", "/ssh_keys", { name: "smoke", public_key: readFileSync(`${keyFile}.pub`, "utf8") })
    ).ssh_key;
    const created = await api("POST", "/servers", {
      name: "smoke-1",
      server_type: "cx23",
      image: "ubuntu-24.04",
      location: "nbg1",
      ssh_keys: [key.id],
      user_data: "#cloud-config\n",
    });
    const ip = created.server.public_net.ipv4.ip as string;
    say(`server ${created.server.id} on ${ip}: waiting for create_server + start_server`);
    await wait([created.action, ...created.next_actions], "create");
    say(`running at ${secs()} s (sshd answers on ${ip}:22)`);
    const before = await sshRetry(ip, "nproc; awk '/MemTotal/ {print $2}' /proc/meminfo; hostname");
    say(`root@${ip}: nproc/MemTotal kB/hostname = ${before.replace(/\n/g, " / ")} at ${secs()} s`);

    await wait([(await api("POST", `/servers/${created.server.id}/actions/poweroff`)).action], "poweroff");
    const ct = await api("POST", `/servers/${created.server.id}/actions/change_type`, {
      server_type: "cx33",
      upgrade_disk: false,
    });
    await wait([ct.action], "change_type");
    const after = await sshRetry(ip, "nproc; awk '/MemTotal/ {print $2}' /proc/meminfo; hostname");
    say(`after change_type to cx33: ${after.replace(/\n/g, " / ")} at ${secs()} s`);
    const state = emu.control.state().servers[0] as any;
    say(`machine: ${JSON.stringify(state.machine)}`);
    const [cores] = after.split("\n");
    if (Number(cores) !== state.machine.actual.cores)
      throw new Error(`guest has ${cores} CPUs, expected ${state.machine.actual.cores}`);

    await wait([(await api("DELETE", `/servers/${created.server.id}`)).action], "delete");
    say(`deleted at ${secs()} s`);
    ok = true;
  } finally {
    await emu.stop();
    rmSync(tmp, { recursive: true, force: true });
    say(ok ? `PASS in ${secs()} s` : "FAIL");
  }
}

main().catch((e) => {
  process.stderr.write(`smoke: ${(e as Error).message}\n`);
  process.exit(1);
});
