// `npm run docs`: regenerates Pulumi.yaml and the README's config table from src/config/keys.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { injectReadme, renderPulumiYaml } from "../report/docs";

writeFileSync("Pulumi.yaml", renderPulumiYaml());
writeFileSync("README.md", injectReadme(readFileSync("README.md", "utf8")));
console.log("wrote Pulumi.yaml and README.md's config table");
