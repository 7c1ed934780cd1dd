// The watchdog's thresholds file (/etc/app-infra/watchdog.env): the sizing note's alert levels from
// stack config, and what to watch on this box. Pure and secret-free; secrets go in a separate file.
import type { StackConfig } from "../config/types";
import type { Plan } from "./plan";

export function watchdogEnv(cfg: StackConfig, plan: Plan): string {
  const a = cfg.alerts;
  const vars: [string, string | number][] = [
    ["STACK", cfg.stack],
    ["STAGE", plan.stage],
    ["MEMORY_PERCENT", a.memoryPercent],
    ["SWAP_PERCENT", a.swapPercent],
    ["CPU_PERCENT", a.cpuPercent],
    ["QUEUE_LENGTH", a.queueLength],
    ["API_LATENCY_MS", a.apiLatencyMs],
    ["REDIS_MEMORY_PERCENT", a.redisMemoryPercent],
    ["FOR_MINUTES", a.forMinutes],
    ["REPEAT_MINUTES", a.repeatMinutes],
    ["QUEUE_NAME", cfg.services.worker.queue],
    // The API is published on the host, so the watchdog measures what users get.
    ["API_HEALTH_URL", `http://127.0.0.1:${cfg.services.api.port}${cfg.services.api.healthPath}`],
    ["WORKERS", plan.workers],
    ["INTERVAL_S", a.intervalS],
    // `name=service` so an OOM alert names the config key to raise (services/worker/memoryMb).
    ["CONTAINERS", plan.services.map((s) => `${s.name}=${s.role}`).join(" ")],
    ["TELEGRAM_CHAT_ID", a.telegramChatId ?? ""],
  ];
  // Values are validated (numbers, names, paths); quoting keeps spaces in CONTAINERS literal.
  return vars.map(([k, v]) => `${k}='${String(v)}'`).join("\n") + "\n";
}

/**
 * The installer's stdin payload, appended after install-watchdog.sh: bash reads the script up to
 * its last line, then the installer reads these lines itself, so no value is in any command line.
 */
export function watchdogPayload(watchdogScript: string, envFile: string, secretsFile: string): string {
  const b64 = (t: string) => Buffer.from(t, "utf8").toString("base64");
  return (
    [
      `WATCHDOG_SCRIPT_B64=${b64(watchdogScript)}`,
      `WATCHDOG_ENV_B64=${b64(envFile)}`,
      `WATCHDOG_SECRETS_B64=${b64(secretsFile)}`,
    ].join("\n") + "\n"
  );
}

/** The secrets file: only what is set; values are single-line secrets. */
export function watchdogSecretsFile(botToken: string | undefined, webhookUrl: string | undefined): string {
  const lines: string[] = [];
  if (botToken) lines.push(`TELEGRAM_BOT_TOKEN=${botToken}`);
  if (webhookUrl) lines.push(`WEBHOOK_URL=${webhookUrl}`);
  return lines.length ? lines.join("\n") + "\n" : "";
}
