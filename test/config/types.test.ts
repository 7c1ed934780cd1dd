// StackConfig is derived from the key table: these tests pin the derivation rules (types.ts) and
// that every key's value lands at the field its path names, with no hand-written mapping between.
import { describe, expect, expectTypeOf, it } from "vitest";
import { KEYS, KEY_BY_PATH, type KeySpec } from "../../src/config/keys";
import { parseConfig, type RawConfig } from "../../src/config/parse";
import type { StackConfig, ValueAt } from "../../src/config/types";

/** A valid value for the key that differs from its default (written per kind, not by the parser). */
function nonDefault(k: KeySpec): unknown {
  const kind = k.kind;
  switch (kind.type) {
    case "int":
      return k.default === kind.min + 1 ? kind.min + 2 : kind.min + 1;
    case "bool":
      return k.default !== true;
    case "enum":
      return kind.allowed.find((a) => a !== k.default)!;
    case "stringList":
      return k.path === "adminCidrs" ? ["198.51.100.0/24"] : ["ssh-ed25519 AAAAC3Nza test@host"];
    case "stringMap":
      return { A: "b" };
    case "string": {
      const samples: Record<string, string> = {
        "server/type": "cx43",
        "workerNode/type": "cx33",
        "registry/server": "registry.example.com",
        "alerts/telegramChatId": "@ops_alerts",
        "services/api/healthPath": "/ready",
        domain: "api.example.com",
        "services/worker/queue": "other_queue",
        "backup/repository": "s3:https://s3.example.com/bucket/redis",
        "backup/schedule": "daily",
      };
      return (
        samples[k.path] ?? (k.path.startsWith("images/") ? `ghcr.io/acme/${k.path.slice(7)}:9.9.9` : "plain")
      );
    }
  }
}

const at = (obj: unknown, path: string) =>
  path.split("/").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], obj);

describe("StackConfig comes from the key table", () => {
  const raw: RawConfig = {};
  // Stage 4's keys are refused on stage 2 (and `workers` on stage 4): they get a config of their own.
  const skip = (k: KeySpec) => k.secret || k.path === "stage" || k.path === "target" || k.stage4Only;
  for (const k of KEYS) {
    if (skip(k)) continue;
    const parts = k.path.split("/");
    let node = raw as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = nonDefault(k);
  }
  const cfg = parseConfig("dev", { ...raw, stage: 2, registryPassword: "x" });

  it("every non-secret key lands, with its non-default value, at the field its path names", () => {
    for (const k of KEYS) {
      if (skip(k)) continue;
      expect(at(cfg, k.path), k.path).toEqual(nonDefault(k));
      expect(at(cfg, k.path), k.path).not.toEqual(k.default);
    }
    expect(cfg.stage).toBe(2);
    const stage4 = KEYS.filter((k) => k.stage4Only);
    expect(stage4.map((k) => k.path)).toEqual([
      "workerNodes",
      "workersPerNode",
      "workerNode/type",
      "workerNode/cores",
      "workerNode/memoryGb",
    ]);
    const raw4: Record<string, unknown> = { stage: 4 };
    for (const k of stage4) {
      const parts = k.path.split("/");
      let node = raw4;
      for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
      node[parts[parts.length - 1]!] = nonDefault(k);
    }
    const cfg4 = parseConfig("dev", raw4 as RawConfig);
    for (const k of stage4) expect(at(cfg4, k.path), k.path).toEqual(nonDefault(k));
  });

  it("a secret key only says whether it is set", () => {
    const secrets = KEYS.filter((k) => k.secret).map((k) => k.path);
    expect(Object.keys(cfg.secrets).sort()).toEqual([...secrets].sort());
    expect(cfg.secrets.registryPassword).toBe(true);
    expect(cfg.secrets.botToken).toBe(false);
  });

  it("registry appears only when both its keys are set", () => {
    expect(cfg.registry).toEqual({ server: "registry.example.com", username: "plain" });
    expect(parseConfig("dev", { stage: 1 }).registry).toBeUndefined();
  });

  it("a key without a default is absent until set, and a list default is a fresh copy", () => {
    const a = parseConfig("dev", { stage: 1 });
    expect(a.server.type).toBeUndefined();
    expect(a.workers).toBeUndefined();
    a.adminCidrs.push("203.0.113.7/32");
    expect(parseConfig("dev", { stage: 1 }).adminCidrs).toEqual(KEY_BY_PATH.get("adminCidrs")!.default);
  });

  it("types: kinds map to value types, optional when no default, enums are their allowed values", () => {
    expectTypeOf<StackConfig["stage"]>().toEqualTypeOf<1 | 2 | 3 | 4>();
    expectTypeOf<StackConfig["target"]>().toEqualTypeOf<"hetzner" | "local">();
    expectTypeOf<StackConfig["server"]["architecture"]>().toEqualTypeOf<"x86" | "arm">();
    expectTypeOf<StackConfig["workers"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<StackConfig["swappiness"]>().toEqualTypeOf<number>();
    expectTypeOf<StackConfig["server"]["keepDisk"]>().toEqualTypeOf<boolean>();
    expectTypeOf<StackConfig["adminCidrs"]>().toEqualTypeOf<string[]>();
    expectTypeOf<StackConfig["alerts"]["telegramChatId"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<StackConfig["services"]["bot"]>().toEqualTypeOf<{
      memoryMb?: number;
      reservationMb?: number;
      swapMb?: number;
    }>();
    expectTypeOf<StackConfig["registry"]>().toEqualTypeOf<{ server: string; username: string } | undefined>();
    expectTypeOf<StackConfig["secrets"]["env"]>().toEqualTypeOf<boolean>();
    // A nested secret is named by its path.
    expectTypeOf<StackConfig["secrets"]["backup/password"]>().toEqualTypeOf<boolean>();
    expectTypeOf<StackConfig["backup"]["repository"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<StackConfig["backup"]["enabled"]>().toEqualTypeOf<boolean>();
    expectTypeOf<ValueAt<"services/api/port">>().toEqualTypeOf<number>();
    // @ts-expect-error a secret's value never enters StackConfig
    expect(cfg.botToken).toBeUndefined();
  });
});
