import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { runProgram } from "../support/mocks";

describe("plan errors and missing secrets stop the program before anything is declared", () => {
  it("names the missing bot token and the capacity error together", async () => {
    const err = await runProgram("dev", { stage: "1", services: { redis: { maxmemoryMb: 512 } } }, [], {
      rootStack: false,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      "botToken: is required, and pulumi up refuses to run without it (pulumi config set --secret botToken <token from @BotFather>)",
      "services/redis/maxmemoryMb: should be below the container limit services/redis/memoryMb (256) (got 512); about half of it (128) leaves room for the AOF rewrite's fork",
    ]);
    expect((err as { recorded: { type: string }[] }).recorded.map((r) => r.type)).toEqual([]);
  });
});
