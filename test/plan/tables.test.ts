// The plan's fixed tables and constants, written out by hand: the sizing note's stages (docs/
// explains each figure), the default service limits, the image, the key algorithm, the firewall's
// "everywhere", the backup's fixed paths and the files it writes. Each module is loaded afresh
// inside the test (vi.resetModules), so the code that builds these tables when the module loads
// runs inside a test, where mutation testing can score it.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { cfg } from "./fixtures";

beforeEach(() => {
  vi.resetModules();
});

describe("fixed tables", () => {
  it("the stages are the sizing note's requirements, not type names", async () => {
    const { STAGES } = await import("../../src/plan/stages");
    expect(STAGES).toEqual({
      1: {
        stage: 1,
        title: "current box",
        minCores: 3,
        minMemoryGb: 3,
        minDiskGb: 60,
        swapGb: 4,
        workers: 1,
        note: "3 cores, 3 GB RAM, 60 GB disk; swap 2–4 GB; one worker; monitor resources",
      },
      2: {
        stage: 2,
        title: "as load grows",
        minCores: 3,
        minMemoryGb: 4,
        minDiskGb: 60,
        swapGb: 2,
        workers: 2,
        note: "RAM 4–6 GB, second worker, swap as reserve",
      },
      3: {
        stage: 3,
        title: "at the limits",
        minCores: 4,
        minMemoryGb: 6,
        minDiskGb: 60,
        swapGb: 2,
        workers: 2,
        note: "RAM 6–8 GB, CPU 4–6 cores, consider horizontal scaling",
      },
      // The core node keeps stage 3's requirements (a stack moving 3 → 4 keeps its server); its
      // workers move to the worker nodes.
      4: {
        stage: 4,
        title: "beyond one box",
        minCores: 4,
        minMemoryGb: 6,
        minDiskGb: 60,
        swapGb: 2,
        workers: 0,
        note: "consider horizontal scaling: a core node plus worker nodes on a private network",
      },
    });
    const { WORKER_NODE, ONE_BOX_STAGES } = await import("../../src/plan/stages");
    expect(WORKER_NODE).toEqual({
      minCores: 2,
      minMemoryGb: 4,
      minDiskGb: 40,
      swapGb: 2,
      nodes: 1,
      workersPerNode: 2,
    });
    expect(ONE_BOX_STAGES).toEqual([1, 2, 3]);
  });

  it("default service limits (MB), the server image and the SSH key algorithm", async () => {
    const { SERVICE_DEFAULT_LIMITS } = await import("../../src/plan/service-defaults");
    expect(SERVICE_DEFAULT_LIMITS).toEqual({
      redis: { memoryMb: 256, reservationMb: 64 },
      proxy: { memoryMb: 64, reservationMb: 32 },
      api: { memoryMb: 200, reservationMb: 120 },
      bot: { memoryMb: 150, reservationMb: 100 },
      worker: { memoryMb: 250, reservationMb: 100 },
    });
    expect((await import("../../src/plan/hetzner")).SERVER_IMAGE).toBe("ubuntu-24.04");
    expect((await import("../../src/plan/cloud-init")).SSH_KEY_ALGORITHM).toBe("ED25519");
  });

  it("the local target's empty catalog", async () => {
    const { NO_CATALOG } = await import("../../src/plan/catalog");
    expect(NO_CATALOG).toEqual({ source: "none (local target)", takenAt: "", live: false, types: [] });
  });
});

describe("firewall rules", () => {
  it("SSH from adminCidrs, ping from everywhere, HTTP and HTTPS from everywhere when public; never the API's port", async () => {
    const { EVERYWHERE, firewallRules } = await import("../../src/plan/firewall");
    expect(EVERYWHERE).toEqual(["0.0.0.0/0", "::/0"]);
    const c = cfg({ adminCidrs: ["198.51.100.7/32"], services: { api: { port: 8443 } } });
    expect(firewallRules(c)).toEqual([
      {
        direction: "in",
        protocol: "tcp",
        port: "22",
        sourceIps: ["198.51.100.7/32"],
        description: "SSH from adminCidrs",
      },
      { direction: "in", protocol: "icmp", sourceIps: ["0.0.0.0/0", "::/0"], description: "ping" },
      {
        direction: "in",
        protocol: "tcp",
        port: "80",
        sourceIps: ["0.0.0.0/0", "::/0"],
        description: "HTTP",
      },
      {
        direction: "in",
        protocol: "tcp",
        port: "443",
        sourceIps: ["0.0.0.0/0", "::/0"],
        description: "HTTPS",
      },
    ]);
    const closed = cfg({ services: { api: { public: false } } });
    expect(firewallRules(closed).map((r) => r.description)).toEqual(["SSH from adminCidrs", "ping"]);
  });
});

describe("backup files", () => {
  it("fixed paths and the example repository the plan warns about", async () => {
    const b = await import("../../src/plan/backup");
    expect(b.BACKUP_STATE_DIR).toBe("/var/lib/app-infra");
    expect(b.EXAMPLE_BACKUP_REPOSITORY).toBe("s3:https://fsn1.your-objectstorage.com/CHANGE-ME/redis");
    expect(b.RESTIC_BUDGET_MB).toBe(96);
  });

  it("the settings file, the S3 keys file and the payload, byte for byte", async () => {
    const b = await import("../../src/plan/backup");
    const c = cfg(
      { backup: { enabled: true, repository: "s3:https://s3.example.org/b/r", keepDaily: 3, keepWeekly: 2 } },
      "shop",
    );
    expect(b.backupEnv(c)).toBe(
      "RESTIC_REPOSITORY=s3:https://s3.example.org/b/r\nKEEP_DAILY=3\nKEEP_WEEKLY=2\nSTACK=shop\n",
    );
    expect(() => b.backupEnv(cfg())).toThrow("internal: backups are on without backup/repository");
    expect(b.backupSecretsFile("ak", "sk")).toBe("AWS_ACCESS_KEY_ID=ak\nAWS_SECRET_ACCESS_KEY=sk\n");
    expect(() => b.backupSecretsFile("a\nk", "sk")).toThrow("backup: an S3 key cannot hold a line break");
    expect(() => b.backupSecretsFile("ak", "s\rk")).toThrow("backup: an S3 key cannot hold a line break");
    // base64: "hi" is aGk=, "" is empty, "pw\n" is cHcK
    expect(
      b.backupPayload({ backupScript: "hi", restoreScript: "", env: "hi", secrets: "", password: "pw" }),
    ).toBe(
      "BACKUP_SCRIPT_B64=aGk=\nRESTORE_SCRIPT_B64=\nBACKUP_ENV_B64=aGk=\nBACKUP_SECRETS_B64=\nBACKUP_PASSWORD_B64=cHcK\n",
    );
  });
});

describe("names and the user-data, loaded inside the test", () => {
  it("every name built from the project and the stack", async () => {
    const n = await import("../../src/plan/names");
    expect(n.serverName("shop")).toBe("app-infra-shop");
    expect(n.firewallName("shop")).toBe("app-infra-shop");
    expect(n.deployKeyName("shop")).toBe("app-infra-shop-deploy");
    expect(n.sshDirName("shop")).toBe("app-infra-ssh-shop");
    expect(n.STACK_LABEL).toBe("app-infra.stack");
    expect(n.ROLE_LABEL).toBe("app-infra.role");
    expect(n.SSH_USER).toBe("root");
    expect(n.dockerHostUrl("203.0.113.5")).toBe("ssh://root@203.0.113.5");
    expect(n.operatorKeyFile("shop")).toBe("~/.ssh/app-infra-shop");
    expect(n.STATUS_COMMAND).toBe("app-infra-status");
  });

  it("the cloud-config: only our host key, trimmed; no passwords; no package work; long lines unfolded", async () => {
    const { renderUserData } = await import("../../src/plan/cloud-init");
    const pub = `ssh-ed25519 ${"A".repeat(100)} host`;
    expect(
      renderUserData({
        privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nX\n-----END OPENSSH PRIVATE KEY-----\n\n",
        publicKeyOpenssh: `  ${pub}\n`,
      }),
    ).toBe(
      [
        "#cloud-config",
        "ssh_deletekeys: true",
        "ssh_keys:",
        "  ed25519_private: |",
        "    -----BEGIN OPENSSH PRIVATE KEY-----",
        "    X",
        "    -----END OPENSSH PRIVATE KEY-----",
        `  ed25519_public: ${pub}`,
        "ssh_pwauth: false",
        "disable_root: false",
        "package_update: false",
        "package_upgrade: false",
        "",
      ].join("\n"),
    );
  });

  it("the inline mark and the one form of a line that inlines a library", async () => {
    const { INLINE_MARK, inlineLibraries } = await import("../../src/plan/inline");
    expect(INLINE_MARK).toBe("# app-infra:inline");
    const read = (p: string) => (p === "lib/a-1.sh" ? "#!/usr/bin/env bash\nf() { :; }\n" : undefined);
    const ok = 'source "$(dirname "${BASH_SOURCE[0]}")/lib/a-1.sh" # app-infra:inline';
    expect(inlineLibraries("s.sh", ok, read)).toBe(
      "# --- scripts/lib/a-1.sh, inlined ---\nf() { :; }\n# --- end of scripts/lib/a-1.sh ---",
    );
    for (const bad of [
      `  ${ok}`,
      ok.replace("lib/a-1.sh", "lib/A.sh"),
      ok.replace("lib/a-1.sh", "lib/.sh"),
      ok.replace("lib/a-1.sh", "lib/a.bash"),
      ok.replace("lib/a-1.sh", "a-1.sh"),
      `${ok} x`,
    ])
      expect(() => inlineLibraries("s.sh", bad, read), bad).toThrow(
        "scripts/s.sh:1: a line marked '# app-infra:inline' should read:",
      );
  });
});
