import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The VM lab is slow and needs KVM: it has its own script (`npm run lab`).
    exclude: ["test/lab/**", "node_modules/**"],
    // Each test file's own ssh key directory (APP_INFRA_SSH_DIR), removed after it.
    setupFiles: ["test/support/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Files run in separate workers so each mocked Pulumi program gets its own module state;
    // two workers fit the 2-core machine.
    pool: "forks",
    maxWorkers: 2,
  },
});
