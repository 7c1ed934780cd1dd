// Translates the inputs the program gives `docker.Container`, `docker.Network` and `docker.Volume`
// (as recorded by the mocks) into docker CLI arguments, so test/real/containers.test.ts can start the planned
// containers on a real Docker engine without the Pulumi engine. Pure: strings in, argv out.
//
// Every input the program sets is either translated or listed in IGNORED with the reason; an input
// this file does not know is an error, so a new container setting cannot silently go untested.
// Secrets: the environment goes to an --env-file (written 0600 by the caller), never into argv.

export interface ContainerInputs {
  name: string;
  image: string;
  hostname?: string;
  command?: string[];
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  restart?: string;
  stopTimeout?: number;
  destroyGraceSeconds?: number;
  networksAdvanced?: { name: string; aliases?: string[] }[];
  volumes?: { volumeName?: string; hostPath?: string; containerPath: string; readOnly?: boolean }[];
  ports?: { internal: number; external?: number; ip?: string; protocol?: string }[];
  envs?: string[];
  healthcheck?: {
    tests: string[];
    interval?: string;
    timeout?: string;
    retries?: number;
    startPeriod?: string;
  };
  logDriver?: string;
  logOpts?: Record<string, string>;
  labels?: { label: string; value: string }[];
  wait?: boolean;
  waitTimeout?: number;
  mustRun?: boolean;
}

/** Inputs the CLI has no flag for, and what the lab does instead. */
export const IGNORED: Readonly<Record<string, string>> = {
  wait: "the lab waits for `healthy` itself after `docker run` (the provider's wait: true)",
  waitTimeout: "the lab's own timeout, longer under TCG",
  mustRun: "`docker run -d` starts the container; the lab checks it is running",
  destroyGraceSeconds:
    "a delete-time setting: the provider's delete is `docker stop -t <destroyGraceSeconds>` (docs/provider-contract.md)",
};

const TRANSLATED = new Set([
  "name",
  "image",
  "hostname",
  "command",
  "memory",
  "memoryReservation",
  "memorySwap",
  "restart",
  "stopTimeout",
  "networksAdvanced",
  "volumes",
  "ports",
  "envs",
  "healthcheck",
  "logDriver",
  "logOpts",
  "labels",
]);

export class TranslationError extends Error {}

/** Docker's memory flags take a unit; the provider's inputs are MB. */
const mb = (n: number) => `${n}m`;

// POSIX shell quoting of one word (for a command line that goes through `ssh`): the program's own.
import { shellQuote } from "../../../src/plan/host";
export { shellQuote };

export const shellJoin = (argv: readonly string[]) => argv.map(shellQuote).join(" ");

/** The --env-file content: one KEY=VALUE a line, taken literally by docker (no quotes, no $). */
export function envFileContent(envs: readonly string[] = []): string {
  for (const e of envs) {
    const key = e.split("=", 1)[0]!;
    if (!e.includes("=") || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new TranslationError(
        `envs: should be KEY=VALUE (got a value starting ${JSON.stringify(key.slice(0, 20))})`,
      );
    if (/[\r\n]/.test(e))
      throw new TranslationError(`envs/${key}: a value with a line break cannot go into an --env-file`);
  }
  return envs.length ? envs.join("\n") + "\n" : "";
}

/** `docker run -d ...` argv (without the leading `docker`). `envFile` is the path on the engine's host. */
export function dockerRunArgs(c: ContainerInputs, opts: { envFile?: string } = {}): string[] {
  const unknown = Object.keys(c).filter(
    (k) =>
      (c as unknown as Record<string, unknown>)[k] !== undefined && !TRANSLATED.has(k) && !(k in IGNORED),
  );
  if (unknown.length)
    throw new TranslationError(
      `container ${c.name}: no docker run translation for ${unknown.sort().join(", ")}`,
    );
  if (!c.name) throw new TranslationError("container: name is required");
  if (!c.image) throw new TranslationError(`container ${c.name}: image is required`);
  const a: string[] = ["run", "-d", "--name", c.name];
  if (c.hostname) a.push("--hostname", c.hostname);
  if (c.memory !== undefined) a.push("--memory", mb(c.memory));
  if (c.memoryReservation !== undefined) a.push("--memory-reservation", mb(c.memoryReservation));
  if (c.memorySwap !== undefined) a.push("--memory-swap", mb(c.memorySwap));
  if (c.restart) a.push("--restart", c.restart);
  if (c.stopTimeout !== undefined) a.push("--stop-timeout", String(c.stopTimeout));
  const nets = c.networksAdvanced ?? [];
  // `docker run` attaches one network; more would need `docker network connect` afterwards.
  if (nets.length > 1)
    throw new TranslationError(
      `container ${c.name}: networksAdvanced: only one network is supported (got ${nets.length})`,
    );
  for (const n of nets) {
    a.push("--network", n.name);
    for (const alias of n.aliases ?? []) a.push("--network-alias", alias);
  }
  for (const v of c.volumes ?? []) {
    const src = v.volumeName ?? v.hostPath;
    if (!src) throw new TranslationError(`container ${c.name}: volumes: needs volumeName or hostPath`);
    a.push("-v", `${src}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);
  }
  for (const p of c.ports ?? []) {
    const proto = p.protocol && p.protocol !== "tcp" ? `/${p.protocol}` : "";
    const host =
      p.external !== undefined ? `${p.ip && p.ip !== "0.0.0.0" ? `${p.ip}:` : ""}${p.external}:` : "";
    a.push("-p", `${host}${p.internal}${proto}`);
  }
  if (c.envs && c.envs.length) {
    if (!opts.envFile)
      throw new TranslationError(
        `container ${c.name}: envs need an envFile (values are never put on the command line)`,
      );
    a.push("--env-file", opts.envFile);
  }
  const h = c.healthcheck;
  if (h) {
    const [kind, ...rest] = h.tests;
    if (kind === "NONE") a.push("--no-healthcheck");
    else {
      // The CLI has no exec form: CMD's words are shell-quoted into one CMD-SHELL string, which
      // runs them unchanged through the image's /bin/sh.
      if (kind === "CMD") a.push("--health-cmd", shellJoin(rest));
      else if (kind === "CMD-SHELL") a.push("--health-cmd", rest.join(" "));
      else
        throw new TranslationError(
          `container ${c.name}: healthcheck/tests: should start with CMD, CMD-SHELL or NONE (got ${kind})`,
        );
      if (h.interval) a.push("--health-interval", h.interval);
      if (h.timeout) a.push("--health-timeout", h.timeout);
      if (h.retries !== undefined) a.push("--health-retries", String(h.retries));
      if (h.startPeriod) a.push("--health-start-period", h.startPeriod);
    }
  }
  if (c.logDriver) a.push("--log-driver", c.logDriver);
  for (const [k, v] of Object.entries(c.logOpts ?? {}).sort()) a.push("--log-opt", `${k}=${v}`);
  for (const l of c.labels ?? []) a.push("--label", `${l.label}=${l.value}`);
  a.push(c.image, ...(c.command ?? []));
  return a;
}

export function networkCreateArgs(n: {
  name: string;
  driver?: string;
  labels?: { label: string; value: string }[];
}): string[] {
  return [
    "network",
    "create",
    ...(n.driver ? ["--driver", n.driver] : []),
    ...(n.labels ?? []).flatMap((l) => ["--label", `${l.label}=${l.value}`]),
    n.name,
  ];
}

export function volumeCreateArgs(v: {
  name: string;
  driver?: string;
  labels?: { label: string; value: string }[];
}): string[] {
  return [
    "volume",
    "create",
    ...(v.driver ? ["--driver", v.driver] : []),
    ...(v.labels ?? []).flatMap((l) => ["--label", `${l.label}=${l.value}`]),
    v.name,
  ];
}

/** What `docker inspect` must show for a container started from these inputs (bytes, as docker reports). */
export function expectedHostConfig(c: ContainerInputs) {
  const bytes = (n?: number) => (n === undefined ? 0 : n * 1024 * 1024);
  return {
    Memory: bytes(c.memory),
    MemoryReservation: bytes(c.memoryReservation),
    MemorySwap: bytes(c.memorySwap),
    RestartPolicy: c.restart ?? "no",
  };
}

// Which resources a new configuration changes: the same diff the scaling tests use.
