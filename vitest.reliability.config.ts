import { defineConfig } from "vitest/config";

// npm run test:reliability: property-based tests, a soak, faults under load and security checks.
// Run one file at a time: the soak and fault tests measure a server process and must not share
// the two cores with each other.
export default defineConfig({
  test: {
    include: ["reliability/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
