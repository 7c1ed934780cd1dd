// Every name built from the project and the stack, in one place: the server, its firewall and deploy
// key on Hetzner, the labels that find them again, the operator's key file and the status command.
// A name that embeds the stack is spelled here once, so the program, the live lookup
// (src/live/deployed.ts) and the outputs cannot disagree.
import { PROJECT } from "../config/parse";

/** `app-infra-<stack>[-<suffix>]`: the Hetzner names of the stack's server, firewall and deploy key. */
export function stackResourceName(stack: string, suffix?: string): string {
  return suffix ? `${PROJECT}-${stack}-${suffix}` : `${PROJECT}-${stack}`;
}

/** The server's name, which is also its host name (hence the RFC 1123 check on the stack name). */
export const serverName = (stack: string): string => stackResourceName(stack);
export const firewallName = (stack: string): string => stackResourceName(stack);
export const deployKeyName = (stack: string): string => stackResourceName(stack, "deploy");

/**
 * The directory of the operator's deploy key file (src/live/ssh-files.ts). Its path reaches the
 * Docker provider's ssh options, so renaming it would show the provider as changed on every stack.
 */
export const sshDirName = (stack: string): string => `${PROJECT}-ssh-${stack}`;

/** The labels every Hetzner resource of this program carries; the live lookup selects on them. */
export function serverLabels(stack: string): Record<string, string> {
  return { app: PROJECT, stack, role: "app" };
}

/** Docker labels on the app's network, volume and containers. */
export const STACK_LABEL = `${PROJECT}.stack`;
export const ROLE_LABEL = `${PROJECT}.role`;

/** Who the program logs in as over SSH: host steps, the Docker provider and the operator's commands. */
export const SSH_USER = "root";

/** The Docker provider's host: the engine on the server, over SSH. */
export const dockerHostUrl = (ip: string): string => `ssh://${SSH_USER}@${ip}`;

/** Where the sshCommand output tells the operator to keep the deploy key. */
export const operatorKeyFile = (stack: string): string => `~/.ssh/${stackResourceName(stack)}`;

/** Installed by scripts/install-watchdog.sh (its STATUS_BIN). */
export const STATUS_COMMAND = `${PROJECT}-status`;

/** The stack outputs an operator copies: how to log in, how to see the watchdog's table, the API. */
export function sshCommand(stack: string, ip: string): string {
  const key = operatorKeyFile(stack);
  return `pulumi stack output --show-secrets deployPrivateKey > ${key} && chmod 600 ${key} && ssh -i ${key} ${SSH_USER}@${ip}`;
}

export function statusCommand(stack: string, ip: string): string {
  return `ssh -i ${operatorKeyFile(stack)} ${SSH_USER}@${ip} ${STATUS_COMMAND}`;
}
