import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { injectReadme, renderPulumiYaml } from "../../src/report/docs";
import { KEYS } from "../../src/config/keys";
import { parseConfig } from "../../src/config/parse";
import { readStackFile } from "../../src/config/stack-file";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";

const root = join(__dirname, "..", "..");
const stacks = readdirSync(root)
  .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
  .map((f) => f.split(".")[1]!);

describe("every Pulumi.<stack>.yaml", () => {
  it("dev, prod and local exist", () => {
    expect(stacks).toEqual(expect.arrayContaining(["dev", "prod", "local"]));
  });
  for (const stack of stacks) {
    it(`${stack}: parses, plans, and is deployable`, () => {
      const cfg = parseConfig(stack, readStackFile(root, stack), { fromStackFile: true });
      const plan = makePlan(cfg, snapshotCatalog());
      expect(plan.errors).toEqual([]);
    });
  }
  it("dev is stage 1 and prod is stage 2", () => {
    expect(parseConfig("dev", readStackFile(root, "dev")).stage).toBe(1);
    expect(parseConfig("prod", readStackFile(root, "prod")).stage).toBe(2);
  });
});

describe("generated docs are in step with the key table", () => {
  it("Pulumi.yaml is what `npm run docs` writes", () => {
    expect(readFileSync(join(root, "Pulumi.yaml"), "utf8")).toBe(renderPulumiYaml());
  });
  it("Pulumi.yaml follows Pulumi's project schema rules for config", () => {
    const doc = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8"));
    expect(doc.name).toBe("app-infra");
    expect(doc.runtime.name).toBe("nodejs");
    for (const [key, decl] of Object.entries(
      doc.config as Record<string, { type: string; items?: unknown; default?: unknown }>,
    )) {
      expect(["string", "integer", "boolean", "array"], key).toContain(decl.type);
      if (decl.type === "array") expect(decl.items, key).toBeDefined();
      // A declared key without a default is required by the CLI: only `stage` may be.
      if (decl.default === undefined) expect(key).toBe("stage");
    }
  });
  it("README's config table is what `npm run docs` writes, and names every key", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toBe(injectReadme(readme));
    for (const k of KEYS) expect(readme).toContain(`\`${k.path}\``);
  });
});
