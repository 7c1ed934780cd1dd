// Mutation testing (issue 12): `npm run mutate`, or a subset with
// `npm run mutate -- --mutate 'src/plan/**/*.ts'`. docs/mutation.md has the scores and the
// survivors that are equivalent. Reports and the incremental file live in reports/mutation/
// (git-ignored), so a second run re-tests only mutants whose code or covering tests changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ["src/**/*.ts", "components/**/*.ts", "index.ts"],
  testRunner: "vitest",
  vitest: {
    // Its pool is forks, as in npm test: each test file gets a fresh process, so each mocked Pulumi
    // program has its own runtime state.
    configFile: "vitest.stryker.config.mts",
  },
  // Per-test coverage: a mutant runs only the tests that reach it.
  coverageAnalysis: "perTest",
  // Other jobs share this 2-core machine.
  concurrency: 2,
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: "reports/mutation/.stryker-tmp",
  cleanTempDir: true,
  // Static mutants (code that runs when a module loads, such as the key table in
  // src/config/keys.ts) have no per-test coverage, so each one would rerun every test file: about
  // 30 s apiece here, hours for a folder. They are counted apart (docs/mutation.md).
  ignoreStatic: true,
  timeoutMS: 10000,
  thresholds: { high: 90, low: 80, break: null },
  // What the sandbox copy leaves out: the real-tool layers, the lab and the engine's Go sources
  // are never run here.
  ignorePatterns: ["reports", "test/lab/out", ".lab-cache", "tools/engine", "test/emulator/hcloud-go-check"],
};
