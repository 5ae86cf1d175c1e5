import { defineConfig } from "vitest/config";

// One project per testing layer (see README "Tests"). Isolation stays on: Pulumi
// config and runtime mocks would otherwise leak between files.
export default defineConfig({
  test: {
    // Layers whose code lands later have no files yet; an empty layer is not a failure.
    passWithNoTests: true,
    projects: [
      {
        test: {
          name: "unit",
          // Property tests run a hundred cases or more: on a busy 2-core machine some take longer than vitest's
          // 5 s default without anything being wrong. Speed is measured by `npm run bench`, never here.
          testTimeout: 30_000,
          include: [
            "core/**/*.test.ts",
            "adapters/**/*.test.ts",
            "handlers/**/*.test.ts",
            "runtime/**/*.test.ts",
            "jobs/**/*.test.ts",
            "cli/**/*.test.ts",
            "local/**/*.test.ts",
            "scripts/**/*.test.ts",
            "bench/**/*.test.ts",
          ],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["adapters/**/*.int.test.ts"],
          globalSetup: ["test/integration.global-setup.ts"],
        },
      },
      {
        test: {
          name: "infra",
          // Some tests run the whole Pulumi program under mocks (several seconds on a busy 2-core machine).
          testTimeout: 60_000,
          include: ["infra/**/*.test.ts", "policy/**/*.test.ts"],
          globalSetup: ["infra/testing/global-setup.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["e2e/**/*.test.ts"],
        },
      },
    ],
  },
});
