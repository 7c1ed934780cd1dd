import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { runProgram } from "../support/mocks";

describe("bad config fails before any resource is registered", () => {
  it("reports every problem at once and registers nothing", async () => {
    const err = await runProgram("dev", { stage: "5", swapGb: "-1", bogus: "x" }, [], {
      rootStack: false,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'stage: should be one of 1, 2, 3, 4 (got "5")',
      'swapGb: should be an integer between 0 and 64 (got "-1")',
      "bogus: unknown key (known: stage, target, location, server, swapGb, swappiness, systemReserveMb, workers, workerNodes, workersPerNode, workerNode, users, perUserMb, images, imageDigests, services, domain, tls, release, releases, adminCidrs, adminSshKeys, registry, alerts, backup, botToken, falKey, env, registryPassword, alertWebhookUrl, deployPrivateKey)",
    ]);
    expect((err as { recorded: { type: string }[] }).recorded.map((r) => r.type)).toEqual([]);
  });
});
