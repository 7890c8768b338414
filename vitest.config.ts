import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // forks, not worker threads: the native addon is loaded once per process
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
