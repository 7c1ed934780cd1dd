import { describe, expect, it } from "vitest";
import {
  deployKeyName,
  dockerHostUrl,
  firewallName,
  serverName,
  sshCommand,
  stackResourceName,
  statusCommand,
} from "../../src/plan/names";

describe("names built from the stack", () => {
  it("app-infra-<stack>[-suffix]", () => {
    expect(stackResourceName("prod")).toBe("app-infra-prod");
    expect(stackResourceName("prod", "deploy")).toBe("app-infra-prod-deploy");
    expect([serverName("a"), firewallName("a"), deployKeyName("a")]).toEqual([
      "app-infra-a",
      "app-infra-a",
      "app-infra-a-deploy",
    ]);
  });
  it("the operator's commands and the URLs", () => {
    expect(sshCommand("dev", "192.0.2.1")).toBe(
      "pulumi stack output --show-secrets deployPrivateKey > ~/.ssh/app-infra-dev && chmod 600 ~/.ssh/app-infra-dev && ssh -i ~/.ssh/app-infra-dev root@192.0.2.1",
    );
    expect(statusCommand("dev", "192.0.2.1")).toBe(
      "ssh -i ~/.ssh/app-infra-dev root@192.0.2.1 app-infra-status",
    );
    expect(dockerHostUrl("192.0.2.1")).toBe("ssh://root@192.0.2.1");
  });
});
