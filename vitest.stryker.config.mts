// The fast test layers only, for mutation testing (stryker.config.mjs). Stryker runs each mutant's
// covering tests many times, so the layers that start real tools (test/real: dockerd, redis,
// shellcheck), the Hetzner API emulator (test/emulator) and the VM lab (test/lab) stay out: they
// take minutes per run and would decide no mutant the fast layers cannot.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.mts";

// A spread, not mergeConfig: mergeConfig concatenates arrays, which would keep the base's
// test/**/*.test.ts (test/real included).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      "test/config/**/*.test.ts",
      "test/plan/**/*.test.ts",
      "test/components/**/*.test.ts",
      "test/program/**/*.test.ts",
      "test/cli/**/*.test.ts",
      "test/live/**/*.test.ts",
      "test/ci/**/*.test.ts",
      "test/stacks/**/*.test.ts",
    ],
  },
});
