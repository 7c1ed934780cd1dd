// Shared helper for tests that need a real Docker engine (test/real/**).
//
// No container registry is reachable from these machines, so the base image is built locally:
// `debootstrap --variant=minbase` of Debian bookworm (Debian's mirror is reachable through apt),
// packed once per machine into a tarball under /var/cache/app-infra-test, then `docker import`ed.
// Needs root, `docker.io` (dockerd + CLI), `debootstrap` and `util-linux` (flock).
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, openSync, closeSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a command and resolves with its exit code and output; never rejects on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on("error", () => undefined); // the command may exit before reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** Like run(), but throws with the command's output when it exits non-zero. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`,
    );
  }
  return res;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DOCKERD_LOG = "/var/log/app-infra-test-dockerd.log";
const DOCKERD_START_TIMEOUT_MS = 60_000;

let dockerReady: Promise<void> | undefined;
/** The dockerd this process started, if it did (not one that was running, or another's). */
let startedDockerd: { pid: number } | undefined;

/**
 * Makes sure a Docker engine answers `docker info`: starts `dockerd` in the background (as root) if
 * it does not, and waits up to 60 s for it. Throws a clear error if Docker is not installed.
 */
export function ensureDocker(): Promise<void> {
  dockerReady ??= startDockerIfNeeded().catch((err) => {
    dockerReady = undefined; // let a later call try again
    throw err;
  });
  return dockerReady;
}

async function dockerInfoOk(): Promise<boolean> {
  try {
    return (await run("docker", ["info"], { timeoutMs: 10_000 })).code === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        "docker CLI not found: these tests need Docker Engine (Debian package docker.io: `apt-get install -y docker.io`)",
      );
    }
    throw err;
  }
}

async function startDockerIfNeeded(): Promise<void> {
  await startDockerdIfNeeded();
  await removeOrphans();
}

/** Removes containers left by test processes that died before their cleanup ran (e.g. killed). */
async function removeOrphans(): Promise<void> {
  const res = await run("docker", ["ps", "-a", "--filter", `label=${LABEL}`, "--format", "{{.Names}}"]);
  const orphans = res.stdout.split("\n").filter((name) => {
    const pid = Number(/^app-infra-test-(\d+)-/.exec(name)?.[1]);
    return pid > 0 && !existsSync(`/proc/${pid}`);
  });
  if (orphans.length > 0) await run("docker", ["rm", "-f", "-v", ...orphans]);
}

async function startDockerdIfNeeded(): Promise<void> {
  if (await dockerInfoOk()) return;
  if (process.getuid?.() !== 0) {
    throw new Error("docker is not running and only root can start dockerd: run these tests as root");
  }
  const logFd = openSync(DOCKERD_LOG, "a");
  try {
    const child = spawn("dockerd", [], { detached: true, stdio: ["ignore", logFd, logFd] });
    const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
    child.unref();
    // If another test process started dockerd at the same moment, ours exits (pid file taken)
    // and theirs answers below: either way we wait for `docker info`.
    const deadline = Date.now() + DOCKERD_START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const failed = await Promise.race([spawnError, sleep(500).then(() => undefined)]);
      if (failed) {
        throw new Error(
          (failed as NodeJS.ErrnoException).code === "ENOENT"
            ? "dockerd not found: these tests need Docker Engine (Debian package docker.io: `apt-get install -y docker.io`)"
            : `could not start dockerd: ${failed.message}`,
        );
      }
      if (await dockerInfoOk()) {
        // Ours, unless another process's dockerd answered and ours exited (pid file taken).
        if (child.pid !== undefined && child.exitCode === null && existsSync(`/proc/${child.pid}`))
          startedDockerd = { pid: child.pid };
        return;
      }
    }
  } finally {
    closeSync(logFd);
  }
  const tail = existsSync(DOCKERD_LOG)
    ? readFileSync(DOCKERD_LOG, "utf8").split("\n").slice(-30).join("\n")
    : "";
  throw new Error(`dockerd did not answer \`docker info\` within 60 s; end of ${DOCKERD_LOG}:\n${tail}`);
}

/**
 * Stops the dockerd this process started, and waits up to 30 s for it to exit. For a program that
 * is not a test run (the lab): npm test shares its dockerd across files, and .ci/run stops it.
 */
export async function stopDockerdWeStarted(): Promise<void> {
  const d = startedDockerd;
  if (!d) return;
  startedDockerd = undefined;
  dockerReady = undefined;
  try {
    process.kill(d.pid, "SIGTERM");
  } catch {
    return; // gone already
  }
  for (const until = Date.now() + 30_000; Date.now() < until && existsSync(`/proc/${d.pid}`);)
    await sleep(250);
}

// ---------------------------------------------------------------------------------------------
// Base image

const CACHE_DIR = process.env.APP_INFRA_TEST_CACHE ?? "/var/cache/app-infra-test";
/** The Debian mirror this machine's apt uses (read by the lab's build-image.sh), unless overridden. */
function debianMirror(): string {
  if (process.env.APP_INFRA_TEST_DEBIAN_MIRROR) return process.env.APP_INFRA_TEST_DEBIAN_MIRROR;
  const r = spawnSync("bash", [join(__dirname, "..", "..", "lab", "build-image.sh"), "--print-mirror"], {
    encoding: "utf8",
  });
  if (r.status !== 0)
    throw new Error(
      `no Debian mirror for debootstrap: ${r.stderr.trim()} (or set APP_INFRA_TEST_DEBIAN_MIRROR)`,
    );
  return r.stdout.trim();
}
const SUITE = "bookworm";
// What the host scripts under test call, and no more (minbase already has bash, coreutils, grep,
// sed, util-linux and mount, i.e. fallocate/mkswap/swapon, and mawk: Ubuntu's default awk too,
// so no gawk). No systemd: containers here
// do not run an init, so scripts that talk to systemctl are tested against stubs.
const BASE_PACKAGES = ["procps", "iproute2", "curl", "ca-certificates", "redis-tools"] as const;
/**
 * The flavours of the base image: `tools` for the host scripts; `app` adds what the reference app
 * (examples/reference-app: its workers and its API) and a Redis stand-in need, for tests that run
 * the app's own processes. Debian ships the `uvicorn` command apart from the python3-uvicorn module.
 */
const FLAVOURS = {
  tools: BASE_PACKAGES,
  app: [
    ...BASE_PACKAGES,
    "python3",
    "python3-rq",
    "python3-redis",
    "redis-server",
    "python3-fastapi",
    "python3-uvicorn",
    "uvicorn",
  ],
} as const;
export type BaseFlavour = keyof typeof FLAVOURS;
// Bump when the recipe below changes in a way the package list does not show.
const RECIPE_VERSION = 1;

const BUILD_TIMEOUT_MS = 15 * 60_000;
/**
 * For the beforeAll that calls ensureBaseImage(): a cold build took 76 s on an idle machine here
 * and 140 s with other tests running; a slow mirror can take longer than vitest's hook timeout.
 */
export const BASE_IMAGE_TIMEOUT_MS = BUILD_TIMEOUT_MS + 60_000;

/** The tag of the local base image; it changes whenever the recipe does, forcing a rebuild. */
export function baseImageTag(flavour: BaseFlavour = "tools"): string {
  // The tools flavour's hash is what it was before flavours existed, so its cached image stays valid.
  const packages = FLAVOURS[flavour];
  const hash = createHash("sha256")
    .update(JSON.stringify({ SUITE, BASE_PACKAGES: packages, RECIPE_VERSION }))
    .digest("hex")
    .slice(0, 10);
  return `app-infra-test-base:${SUITE}-${hash}`;
}

// Runs under `flock`, so concurrent test processes (vitest forks, two checkouts on one machine)
// build once and the others wait, then find the image.
const BUILD_SCRIPT = String.raw`
set -euo pipefail
if docker image inspect "$TAG" >/dev/null 2>&1; then exit 0; fi
if [ ! -s "$TARBALL" ]; then
  work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  start=$(date +%s)
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/rootfs" "$MIRROR" >"$work/log" 2>&1; then
    echo "debootstrap failed; last lines of its log:" >&2
    tail -n 40 "$work/log" >&2
    exit 1
  fi
  rm -f "$work"/rootfs/var/cache/apt/archives/*.deb
  rm -rf "$work"/rootfs/var/lib/apt/lists/*
  tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$TARBALL"
  echo "(debootstrap + tar: $(( $(date +%s) - start )) s)" >&2
fi
docker import --change 'CMD ["/bin/bash"]' "$TARBALL" "$TAG" >/dev/null
`;

const baseImages: Partial<Record<BaseFlavour, Promise<string>>> = {};

/**
 * Returns the tag of a small local Debian image (built without any registry), building it the
 * first time on a machine. A cold build takes a few minutes; call it from beforeAll with a hook
 * timeout to match.
 */
export function ensureBaseImage(flavour: BaseFlavour = "tools"): Promise<string> {
  baseImages[flavour] ??= buildBaseImage(flavour).catch((err) => {
    delete baseImages[flavour];
    throw err;
  });
  return baseImages[flavour];
}

async function buildBaseImage(flavour: BaseFlavour): Promise<string> {
  await ensureDocker();
  const tag = baseImageTag(flavour);
  if ((await run("docker", ["image", "inspect", tag])).code === 0) return tag;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = join(CACHE_DIR, `rootfs-${tag.split(":")[1]}.tar`);
  const started = Date.now();
  const res = await runOk(
    "flock",
    ["-w", String(BUILD_TIMEOUT_MS / 1000), join(CACHE_DIR, "build.lock"), "bash", "-c", BUILD_SCRIPT],
    {
      env: {
        ...process.env,
        TAG: tag,
        TARBALL: tarball,
        CACHE_DIR,
        PACKAGES: FLAVOURS[flavour].join(","),
        SUITE,
        MIRROR: debianMirror(),
      },
      timeoutMs: BUILD_TIMEOUT_MS,
    },
  );
  console.info(`${tag}: ready after ${((Date.now() - started) / 1000).toFixed(0)} s ${res.stderr.trim()}`);
  return tag;
}

// ---------------------------------------------------------------------------------------------
// Throwaway containers

export interface Mount {
  host: string;
  container: string;
  readOnly?: boolean;
}

export interface ContainerOptions {
  /** Defaults to the base image. */
  image?: string;
  /** As privileged as this machine allows: see privilegedFlags(). */
  privileged?: boolean;
  mounts?: readonly Mount[];
  env?: Readonly<Record<string, string>>;
  /** Docker network; "none" unless a test needs one. */
  network?: string;
}

export interface ExecOptions {
  input?: string;
  env?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}

export interface Container {
  readonly name: string;
  /** `docker exec -i` in the container; resolves with the exit code, never rejects on failure. */
  exec(command: readonly string[], opts?: ExecOptions): Promise<RunResult>;
  /** Runs a script the way the Pulumi program does over SSH: `bash -s -- ARGS`, script on stdin. */
  runScript(script: string, args: readonly string[], opts?: Omit<ExecOptions, "input">): Promise<RunResult>;
  /** Force-removes the container; safe to call twice. */
  remove(): Promise<void>;
}

const LABEL = "app-infra-test=1";

function envFlags(env: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
}

// Capability numbers as in <linux/capability.h>, named as Docker spells them.
const CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
] as const;

/** Capabilities Docker knows that are missing from this process's bounding set. */
export function missingCapabilities(): string[] {
  const line = readFileSync("/proc/self/status", "utf8").match(/^CapBnd:\s*([0-9a-f]+)$/m);
  if (!line) return [];
  const bounding = BigInt(`0x${line[1]}`);
  return CAPABILITIES.filter((_, bit) => (bounding & (1n << BigInt(bit))) === 0n);
}

/**
 * `--privileged`, or where this machine's sandbox withholds a capability (here: CAP_SYS_RESOURCE,
 * and runc then refuses `--privileged` with "unable to apply caps: operation not permitted"),
 * its nearest equivalent: every other capability, no seccomp or AppArmor filter and a writable
 * /proc/sys (which sysctl and swapon tests need). That fallback maps no host devices.
 */
function privilegedFlags(): string[] {
  const missing = missingCapabilities();
  if (missing.length === 0) return ["--privileged"];
  return [
    "--cap-add",
    "ALL",
    ...missing.flatMap((cap) => ["--cap-drop", cap]),
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
  ];
}

function containerFlags(opts: ContainerOptions): string[] {
  return [
    "--label",
    LABEL,
    "--network",
    opts.network ?? "none",
    ...(opts.privileged ? privilegedFlags() : []),
    ...(opts.mounts ?? []).flatMap((m) => ["-v", `${m.host}:${m.container}${m.readOnly ? ":ro" : ""}`]),
    ...envFlags(opts.env),
  ];
}

function uniqueName(): string {
  return `app-infra-test-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * Starts a long-lived container (`sleep infinity`) to exec into. The caller must call remove(),
 * typically in afterAll; prefer withContainer() where the container's life fits one function.
 */
export async function startContainer(opts: ContainerOptions = {}): Promise<Container> {
  const image = opts.image ?? (await ensureBaseImage());
  const name = uniqueName();
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await run("docker", ["rm", "-f", "-v", name]);
  };
  try {
    await runOk("docker", [
      "run",
      "-d",
      "--name",
      name,
      ...containerFlags(opts),
      "--init",
      image,
      "sleep",
      "infinity",
    ]);
  } catch (err) {
    await remove(); // `docker run` may have created it before failing
    throw err;
  }
  const exec = (command: readonly string[], e: ExecOptions = {}) =>
    run("docker", ["exec", "-i", ...envFlags(e.env), name, ...command], {
      input: e.input,
      timeoutMs: e.timeoutMs,
    });
  return {
    name,
    exec,
    runScript: (script, args, e = {}) => exec(["bash", "-s", "--", ...args], { ...e, input: script }),
    remove,
  };
}

/** Runs fn with a fresh container and always removes the container afterwards. */
export async function withContainer<T>(opts: ContainerOptions, fn: (c: Container) => Promise<T>): Promise<T> {
  const c = await startContainer(opts);
  try {
    return await fn(c);
  } finally {
    await c.remove();
  }
}

/** One command in a throwaway container (`docker run --rm`), removed even if the run times out. */
export async function runThrowaway(
  command: readonly string[],
  opts: ContainerOptions & { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const image = opts.image ?? (await ensureBaseImage());
  const name = uniqueName();
  try {
    return await run(
      "docker",
      ["run", "--rm", "-i", "--name", name, ...containerFlags(opts), image, ...command],
      {
        input: opts.input,
        timeoutMs: opts.timeoutMs,
      },
    );
  } finally {
    await run("docker", ["rm", "-f", "-v", name]); // no-op after a normal --rm exit
  }
}
