// Runs the program once under the recording mocks of test/support/mocks.ts, with two differences
// the lab needs so that what it boots is consistent:
//  - `tls:index/privateKey:PrivateKey` returns REAL ed25519 keys (made by ssh-keygen, read from
//    KEYS_DIR/<logical name> and <logical name>.pub), so the user-data's host key, the remote
//    commands' `hostKey` and the deploy key are the ones the VM and the lab's ssh really use;
//  - `docker:index/remoteImage:RemoteImage` returns the image's name as its `imageId`, so a
//    container's `image` input names a local image the VM's Docker can resolve (the real provider
//    returns the pulled image's id; the lab builds images locally under the same names).
// Everything else is the shared recording mocks. Writes {resources, options, outputs} as JSON to
// OUT_FILE (0600: it holds the keys and the secrets).
// Usage: tsx test/lab/record-real.ts <stack> '<config JSON>' '<secret keys JSON>' KEYS_DIR OUT_FILE
import * as pulumi from "@pulumi/pulumi";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { recordingMocks, type Recorded, type RecordedOptions } from "../support/mocks";

const nameOf = (r: unknown) => (r as { __name?: string } | undefined)?.__name;

function labMocks(resources: Recorded[], keysDir: string): pulumi.runtime.Mocks {
  const base = recordingMocks(resources);
  return {
    call: (args) => base.call(args),
    async newResource(args) {
      const res = await base.newResource(args);
      if (args.type === "tls:index/privateKey:PrivateKey") {
        // Logical names are `keys-deploy` and `keys-host` (components/keys.ts).
        const file = join(keysDir, args.name);
        res.state = {
          ...res.state,
          privateKeyOpenssh: readFileSync(file, "utf8"),
          publicKeyOpenssh: readFileSync(`${file}.pub`, "utf8"),
        };
      }
      if (args.type === "docker:index/remoteImage:RemoteImage") {
        res.state = { ...res.state, imageId: String(args.inputs.name) };
      }
      return res;
    },
  };
}

async function main() {
  const [stack, configJson, secretsJson, keysDir, outFile] = process.argv.slice(2);
  if (!stack || !keysDir || !outFile) throw new Error("usage: record-real.ts <stack> <config JSON> <secret keys JSON> KEYS_DIR OUT_FILE");
  const config = JSON.parse(configJson ?? "{}") as Record<string, unknown>;
  const secretKeys = JSON.parse(secretsJson ?? "[]") as string[];
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) all[k.includes(":") ? k : `app-infra:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(all, secretKeys.map((k) => (k.includes(":") ? k : `app-infra:${k}`)));
  const resources: Recorded[] = [];
  await pulumi.runtime.setMocks(labMocks(resources, keysDir), "app-infra", stack, false);

  // dependsOn as the program passed it: the lab runs the remote commands in this order.
  const options: Record<string, Pick<RecordedOptions, "type" | "parent" | "dependsOn">> = {};
  let raw: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const deps = args.opts.dependsOn;
      const list = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps];
      options[args.name] = { type: args.type, parent: nameOf(args.opts.parent), dependsOn: list.map((d) => nameOf(d) ?? "?") };
      return undefined;
    });
    const mod = await import("../../index");
    const program = ((mod as any).default ?? mod) as () => Promise<Record<string, unknown>>;
    raw = await program();
    return raw;
  });
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    outputs[k] = pulumi.Output.isInstance(v) ? await new Promise((r) => (v as pulumi.Output<unknown>).apply((x) => { r(x); return x; })) : v;
  }
  // Let every registration settle.
  await new Promise((r) => setTimeout(r, 100));
  writeFileSync(outFile, JSON.stringify({ resources, options, outputs }), { mode: 0o600 });
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
