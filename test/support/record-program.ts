// Runs the program once under recording mocks and prints what it registered as JSON, so one test
// can compare several configurations (Pulumi's runtime state allows one program per process).
// Usage: tsx test/support/record-program.ts <stack> '<config JSON>' '<secret keys JSON>' ['<runProgram options JSON>']
import { runProgram } from "./mocks";

async function main() {
  const [stack, config, secrets, options] = process.argv.slice(2);
  const run = await runProgram(
    stack!,
    JSON.parse(config ?? "{}"),
    JSON.parse(secrets ?? "[]"),
    JSON.parse(options ?? "{}"),
  );
  process.stdout.write(
    JSON.stringify({ resources: run.resources, options: run.options, outputs: run.outputs }),
  );
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
