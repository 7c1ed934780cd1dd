// The stack's server as the Hetzner API reports it, for the sticky server type (src/plan/server.ts).
// Read through the hcloud provider's `getServers` data source, so it uses the provider's own token
// and endpoint (`hcloud:endpoint`, the lab's emulator) and is mocked in the unit tests like every
// other provider call. Selected by the labels components/server.ts sets.
import * as hcloud from "@pulumi/hcloud";
// The names and labels are the plan's (src/plan/names.ts), set by components/server.ts.
import { serverLabels, serverName } from "../plan/names";
import { REQUIREMENTS_LABEL, type DeployedServer } from "../plan/server";

export function serverSelector(stack: string): string {
  return Object.entries(serverLabels(stack))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Picks the stack's server out of a getServers answer: by name, since names are unique per project. */
export function pickDeployed(
  stack: string,
  servers: readonly hcloud.types.output.GetServersServer[],
): DeployedServer | undefined {
  const s = servers.find((x) => x.name === serverName(stack));
  if (!s) return undefined;
  return {
    name: s.name,
    type: s.serverType,
    location: s.location,
    requirements: s.labels?.[REQUIREMENTS_LABEL],
  };
}

export async function loadDeployedServer(stack: string): Promise<DeployedServer | undefined> {
  const res = await hcloud.getServers({ withSelector: serverSelector(stack) });
  return pickDeployed(stack, res.servers ?? []);
}
