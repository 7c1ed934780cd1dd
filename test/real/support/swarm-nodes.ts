// Two Swarm nodes on real dockerds, each in a network namespace of its own, joined by a bridge at
// Hetzner's private-network MTU: what test/real/swarm.test.ts (the program's scripts) and the VM
// lab's Swarm-services phase (test/lab/swarm-services.ts: the program's docker.Service resources
// through the real engine) both start from. The script text runs after NETNS_PREAMBLE, under
// `unshare --pid --fork --mount-proc --net --mount`, so its end stops every daemon it started.
//
// It needs, in its environment: D (a directory for the nodes' sockets and data), LINK_MTU,
// FIREWALL_ARGS (the Swarm firewall step's arguments) and $D/swarm-firewall.sh.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import type { Plan } from "../../../src/plan/plan";
import { PROXY_STATE_PATH } from "../../../src/plan/proxy";
import { ensureBaseImage, run, runOk } from "./docker";

/**
 * Shell functions: `on NODE CMD…` runs CMD in that node's network namespace with DOCKER_HOST set to
 * its dockerd; `node NAME ADDRESS HOSTNAME` makes the namespace, its link on the bridge, the Swarm
 * firewall, and starts its dockerd (in the background; wait for `on NAME docker info`). The bridge
 * is made first. A node's dockerd listens on unix://$D/NAME/docker.sock, reachable from outside.
 */
export const SWARM_NODE_FUNCS = String.raw`
ip link add br0 type bridge && ip link set br0 mtu "$LINK_MTU" up
on() { local n=$1; shift; DOCKER_HOST="unix://$D/$n/docker.sock" nsenter --net="/run/netns/$n" "$@"; }
node() { # name address hostname
  local n=$1 a=$2 h=$3
  ip netns add "$n"
  ip link add "v$n" type veth peer name eth0 netns "$n"
  ip link set "v$n" mtu "$LINK_MTU" master br0 up
  ip -n "$n" link set lo up
  ip -n "$n" link set eth0 mtu "$LINK_MTU" up
  ip -n "$n" addr add "$a/24" dev eth0
  mkdir -p "$D/$n"
  # The Swarm firewall first, as on a node (its unit runs before docker.service).
  NFT_FILE="$D/$n/swarm.nft" SYSTEMD_UNIT_DIR=- on "$n" bash -s -- $FIREWALL_ARGS <"$D/swarm-firewall.sh" >/dev/null
  # nsenter, not ip netns exec: that remounts /sys, and dockerd needs the cgroup mount under it.
  # A UTS namespace each, with the server's name: Swarm names a node by its host name.
  on "$n" unshare --uts bash -c 'hostname "$1" && shift && exec "$@"' _ "$h" \
    dockerd --data-root="$D/$n/data" --exec-root="$D/$n/exec" --pidfile="$D/$n/dockerd.pid" \
    --host="unix://$D/$n/docker.sock" --storage-driver=overlay2 >"$D/$n/dockerd.log" 2>&1 &
}
`;

/** A step's arguments as the script text passes them on (`bash -s -- $ARGS`): plain words. */
const words = (a: readonly string[]) => a.join(" ");

/**
 * What SWARM_NODE_FUNCS and the Swarm steps read, from a stage-4 plan's core node and its first
 * worker node: $D, the link MTU, each node's address and host name (Swarm names a node by it), and
 * the arguments of the firewall, init, join and admit steps.
 */
export function swarmNodesEnv(plan: Plan, dir: string): Record<string, string> {
  const deploy = plan.clusterDeploy!;
  const worker = deploy.workers[0]!;
  return {
    D: dir,
    LINK_MTU: String(plan.cluster!.network.mtu),
    CORE_IP: deploy.core.privateIp,
    WORKER_IP: worker.privateIp,
    CORE_NAME: plan.hetzner!.server.name,
    WORKER_NAME: worker.server.name,
    FIREWALL_ARGS: words(worker.host.steps.find((s) => s.name === "swarm-firewall")!.args),
    INIT_ARGS: words(deploy.swarm.init.args),
    JOIN_ARGS: words(worker.join.args),
    ADMIT_ARGS: words(deploy.swarm.admit.args),
  };
}

/** Whether this kernel can do what Swarm's encrypted overlay needs: ESP with AES-GCM (rfc4106). */
export async function kernelHasEsp(): Promise<boolean> {
  const res = await run("unshare", [
    "--net",
    "ip",
    "xfrm",
    "state",
    "add",
    ...["src", "10.0.0.1", "dst", "10.0.0.2", "proto", "esp", "spi", "0x100", "mode", "transport"],
    ...["aead", "rfc4106(gcm(aes))", "0x0102030405060708090a0b0c0d0e0f1011121314", "128"],
  ]);
  return res.code === 0;
}

/**
 * Whether this kernel can give a Swarm service a virtual IP: IPVS, loaded (/proc/net/ip_vs) or a
 * module the kernel loads when dockerd asks for it. Without it (a kernel built with CONFIG_IP_VS
 * unset, as on some CI machines) a `vip` service's name leads nowhere; Hetzner's Ubuntu kernel has
 * the module.
 */
export function kernelHasIpvs(): boolean {
  if (existsSync("/proc/net/ip_vs")) return true;
  const dir = join("/lib/modules", release(), "kernel", "net", "netfilter", "ipvs");
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith("ip_vs.ko"));
}

export interface SwarmImages {
  /** Redis' stand-in: the `app` base image, which has redis-server (run with the plan's command). */
  redis: string;
  /** The reference app (examples/reference-app) on that base. */
  app: string;
  /** `releases` more builds of it, each differing by a label only: a new image ID, as a new release has. */
  releases: string[];
  /** The edge proxy's stand-in, when a kamal-proxy binary was given: laid out as the official image. */
  proxy?: string;
}

/**
 * The official kamal-proxy image's layout (user kamal-proxy, uid 1000, its state directory under
 * $HOME, `kamal-proxy run`) on the test base, with the binary tools/kamal-proxy/build.sh built.
 * Docker lets a non-root user bind 80/443 in a container (ip_unprivileged_port_start=0 since 20.10).
 */
function proxyDockerfile(base: string): string {
  return [
    `FROM ${base}`,
    "COPY kamal-proxy /usr/local/bin/kamal-proxy",
    `RUN useradd --create-home --uid 1000 kamal-proxy && mkdir -p ${PROXY_STATE_PATH} && chown -R kamal-proxy: /home/kamal-proxy`,
    "USER kamal-proxy",
    "EXPOSE 80 443",
    'CMD ["kamal-proxy", "run"]',
    "",
  ].join("\n");
}

/**
 * Builds the images on this machine's dockerd (no registry here) and saves them to
 * `dir`/images.tar, for each node's `docker load`.
 */
export async function saveSwarmImages(
  dir: string,
  releases = 0,
  opts: { kamalProxy?: string } = {},
): Promise<SwarmImages> {
  const base = await ensureBaseImage("app");
  const app = `app-infra-test-refapp:${base.split(":")[1]}`;
  const refapp = join(__dirname, "..", "..", "..", "examples", "reference-app");
  // Its Dockerfile, on this base instead of the lab's (the same packages).
  const dockerfile = readFileSync(join(refapp, "Dockerfile"), "utf8").replace(/^FROM .*$/m, `FROM ${base}`);
  const build = (tag: string, label: string[]) =>
    runOk("docker", ["build", "-q", ...label, "-t", tag, "-f", "-", refapp], {
      input: dockerfile,
      timeoutMs: 300_000,
    });
  await build(app, []);
  const more: string[] = [];
  for (let n = 1; n <= releases; n++) {
    more.push(`${app}-r${n}`);
    await build(more[n - 1]!, ["--label", `app-infra-test.release=${n}`]);
  }
  let proxy: string | undefined;
  if (opts.kamalProxy) {
    proxy = `app-infra-test-kamal-proxy:${base.split(":")[1]}`;
    const ctx = join(dir, "kamal-proxy-image");
    mkdirSync(ctx, { recursive: true });
    copyFileSync(opts.kamalProxy, join(ctx, "kamal-proxy"));
    writeFileSync(join(ctx, "Dockerfile"), proxyDockerfile(base));
    await runOk("docker", ["build", "-q", "-t", proxy, ctx], { timeoutMs: 300_000 });
    rmSync(ctx, { recursive: true, force: true });
  }
  await runOk(
    "docker",
    ["save", "-o", join(dir, "images.tar"), base, app, ...more, ...(proxy ? [proxy] : [])],
    {
      timeoutMs: 300_000,
    },
  );
  return { redis: base, app, releases: more, ...(proxy ? { proxy } : {}) };
}
