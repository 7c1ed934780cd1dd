// The health-gated switch of a start-first service (the API, issue 14): after the new container
// exists, kamal-proxy health-checks it over the app's network, switches traffic to it, drains the
// old one and only then returns 0; the engine deletes the old container afterwards, in the update's
// post-steps (create-before-delete, docs/edge-proxy.md). If the new container never answers its
// health path within the deploy timeout, kamal-proxy exits 1 with the old target still serving
// (measured: test/real/edge-proxy.test.ts), and this command prints the new container's last log
// lines and exits 1 too: pulumi-command puts the combined output into the error
// (pulumi-command v1.2.1 provider/pkg/provider/remote/commandOutputs.go), so `pulumi up` fails
// with the logs, and the old container, only marked for deletion, keeps serving.
//
// A command line built here and tested as a string, as Kamal builds its own: every part is a
// validated config value or a plan constant, and each is shell-quoted anyway.
import type { StackConfig } from "../config/types";
import type { EdgePlan } from "./proxy";
import { shellQuote } from "./host";

/** How long the new API may take to answer its health path: its healthcheck's 20 s start period, three times. */
export const DEPLOY_TIMEOUT_S = 60;
/** How long in-flight requests may take on the old API: kamal-proxy's own default (30 s). */
export const DRAIN_TIMEOUT_S = 30;
/** The log lines of a new container that failed its health check that reach `pulumi up`'s error. */
export const FAILED_LOG_LINES = 50;

export interface GatePlan {
  /** Logical name suffix of the command resource. */
  resource: string;
  /** The proxy container's name (`docker exec` target). */
  proxyContainer: string;
  /** The container spec (by its base name) whose release-named container is the new target. */
  container: string;
  /** kamal-proxy's service name. */
  service: string;
  port: number;
  healthPath: string;
  host: string | undefined;
  tls: boolean;
  deployTimeoutS: number;
  drainTimeoutS: number;
}

export function planGate(
  cfg: StackConfig,
  edge: EdgePlan,
  proxyContainer: string,
  container: string,
): GatePlan {
  return {
    resource: `${container}-deploy`,
    proxyContainer,
    container,
    service: edge.service,
    port: cfg.services.api.port,
    healthPath: cfg.services.api.healthPath,
    host: edge.host,
    tls: edge.tls,
    deployTimeoutS: DEPLOY_TIMEOUT_S,
    drainTimeoutS: DRAIN_TIMEOUT_S,
  };
}

/**
 * kamal-proxy's deploy of `target` (a container's or, on stage 4, a Swarm service's name), as the
 * proxy's own CLI takes it inside its container: health-check, switch, drain.
 */
export function kamalDeploy(g: GatePlan, target: string): string[] {
  return [
    "kamal-proxy",
    "deploy",
    g.service,
    "--target",
    `${target}:${g.port}`,
    ...(g.host ? ["--host", g.host] : []),
    ...(g.tls ? ["--tls"] : []),
    "--health-check-path",
    g.healthPath,
    "--deploy-timeout",
    `${g.deployTimeoutS}s`,
    "--drain-timeout",
    `${g.drainTimeoutS}s`,
  ];
}

/** The shell line that switches the proxy to `target` (the new container's name), or fails with its logs. */
export function gateCommand(g: GatePlan, target: string): string {
  const q = shellQuote;
  const deploy = ["docker", "exec", g.proxyContainer, ...kamalDeploy(g, target)].map(q);
  const why = `app-infra: ${target} did not become healthy on ${g.healthPath} within ${g.deployTimeoutS}s; the running release keeps serving. Its last ${FAILED_LOG_LINES} log lines:`;
  return (
    `${deploy.join(" ")} || ` +
    `{ echo ${q(why)} >&2; docker logs --tail ${FAILED_LOG_LINES} ${q(target)} 2>&1; exit 1; }`
  );
}
