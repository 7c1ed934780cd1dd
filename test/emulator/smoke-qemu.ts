// `tsx test/emulator/smoke-qemu.ts`: the emulator with the qemu backend, end to end over its HTTP
// API: an SSH key and a server from the lab image, root login on <server ip>:22 with that key, a
// change_type (power off, new -smp/-m, started again) seen from inside the guest, and a delete.
// Needs the lab's image cache (test/lab/README.md) and qemu; not part of `npm test`.
// Environment: EMU_ACCEL/LAB_ACCEL (kvm|tcg), EMU_MEMORY_CAP_MB, EMU_CORES_CAP (see README.md).
import { readFileSync } from "node:fs";
import { runSmoke, say, smokeClient } from "./smoke-support";

runSmoke(
  "smoke",
  {
    ...process.env,
    EMU_FORWARD_PORTS: process.env.EMU_FORWARD_PORTS ?? "",
  },
  true,
  async (emu, tmp, secs) => {
    const { api, wait, keyFile, sshRetry } = smokeClient(emu, tmp);

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
  },
);
