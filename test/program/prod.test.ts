import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe } from "vitest";
import { parse } from "yaml";
import { runProgram, type ProgramRun } from "../support/mocks";
import { hetznerStackPolicies } from "./hetzner-stack";

let run: ProgramRun;
beforeAll(async () => {
  // The prod stack file as committed, plus the secrets a user would set.
  const file = parse(readFileSync(join(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8")).config as Record<
    string,
    unknown
  >;
  run = await runProgram(
    "prod",
    {
      ...file,
      botToken: "123:bot-token-secret",
      falKey: "fal-secret",
      alerts: { telegramChatId: "-100123", cpuPercent: 85 },
      alertWebhookUrl: "https://hooks.example/T0/secret-hook",
      // The committed file turns backups on; pulumi up needs their three secrets.
      backup: {
        ...(file["app-infra:backup"] as Record<string, unknown>),
        password: "restic-pw",
        accessKeyId: "ak",
        secretAccessKey: "sk",
      },
    },
    ["botToken", "falKey", "alertWebhookUrl", "backup"],
  );
});

describe("prod stack (Pulumi.prod.yaml: stage 2, protected, backups)", () => {
  hetznerStackPolicies(() => run, {
    stage: 2,
    serverType: "cx33",
    swapGb: 2,
    workers: 2,
    protect: true,
    backups: true,
    cpuPercent: 85,
    secretsFile:
      "TELEGRAM_BOT_TOKEN=123:bot-token-secret\nWEBHOOK_URL=https://hooks.example/T0/secret-hook\n",
  });
});
