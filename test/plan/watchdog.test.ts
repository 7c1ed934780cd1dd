// The watchdog's keys and defaults are the plan's: the settings block in scripts/watchdog.sh is the
// text src/plan/watchdog.ts generates, and the program writes every key the script reads.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KEY_BY_PATH } from "../../src/config/keys";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import {
  SCRIPT_SETTINGS_BEGIN,
  SCRIPT_SETTINGS_END,
  WATCHDOG_SETTINGS,
  watchdogEnv,
  watchdogScriptSettings,
  watchdogSecretsFile,
} from "../../src/plan/watchdog";
import { cfg } from "./fixtures";

const script = (f: string) => readFileSync(join(__dirname, "..", "..", "scripts", f), "utf8");

describe("scripts/watchdog.sh takes its keys and defaults from the plan", () => {
  it("its settings block is exactly the generated one (paste watchdogScriptSettings() between the markers)", () => {
    const text = script("watchdog.sh");
    const from = text.indexOf(SCRIPT_SETTINGS_BEGIN);
    const to = text.indexOf(SCRIPT_SETTINGS_END);
    expect(from, "BEGIN marker").toBeGreaterThan(0);
    expect(to, "END marker").toBeGreaterThan(from);
    expect(text.slice(from, to + SCRIPT_SETTINGS_END.length)).toBe(watchdogScriptSettings());
    // Only once: no second, hand-written table.
    expect(text.match(/declare -A DEFAULTS/g)).toHaveLength(1);
  });

  it("the generated defaults are the config keys' own defaults (written out by hand here)", () => {
    const d = Object.fromEntries(WATCHDOG_SETTINGS.map((s) => [s.key, s.default]));
    expect(d).toMatchObject({
      MEMORY_PERCENT: 95,
      SWAP_PERCENT: 50,
      CPU_PERCENT: 90,
      QUEUE_LENGTH: 100,
      API_LATENCY_MS: 2000,
      REDIS_MEMORY_PERCENT: 90,
      FOR_MINUTES: 5,
      REPEAT_MINUTES: 60,
      QUEUE_NAME: "img_queue",
      INTERVAL_S: 60,
    });
    expect(watchdogScriptSettings()).toContain('[SWAP_PERCENT]="50"');
    expect(watchdogScriptSettings()).toContain('readonly SECRET_KEYS=" TELEGRAM_BOT_TOKEN WEBHOOK_URL "');
  });

  it("the program writes every key the script would otherwise default, except the hand/test-only ones", () => {
    const c = cfg({ stage: 2, alerts: { telegramChatId: "-100" } });
    const env = watchdogEnv(c, makePlan(c, snapshotCatalog()));
    const written = env
      .trim()
      .split("\n")
      .map((l) => l.split("=")[0]);
    expect(written).toEqual(
      WATCHDOG_SETTINGS.map((s) => s.key).filter((k) => k !== "TELEGRAM_API_BASE" && k !== "REDIS_CLI"),
    );
    expect(env).toContain(
      "CONTAINERS='redis=redis api=api bot=bot worker-image-1=worker worker-image-2=worker'\n",
    );
    expect(env).toContain("TELEGRAM_CHAT_ID='-100'\n");
  });

  it("the secrets file uses only the keys the script accepts there", () => {
    const keys = watchdogSecretsFile("t", "u")
      .trim()
      .split("\n")
      .map((l) => l.split("=")[0]);
    expect(keys).toEqual(["TELEGRAM_BOT_TOKEN", "WEBHOOK_URL"]);
    expect(watchdogSecretsFile(undefined, undefined)).toBe("");
  });

  it("install-watchdog.sh's interval range and default are alerts/intervalS's", () => {
    const spec = KEY_BY_PATH.get("alerts/intervalS")!;
    expect(spec.kind).toMatchObject({ type: "int", min: 10, max: 3600 });
    const text = script("install-watchdog.sh");
    expect(text).toContain("between 10 and 3600");
    expect(text).toContain("INTERVAL_S < 10 || INTERVAL_S > 3600");
    expect(text).toContain(`\${INTERVAL_S:-${String(spec.default)}}`);
  });
});
