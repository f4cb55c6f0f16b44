import { defineConfig } from "vitest/config";

const exclude = ["**/node_modules/**", "**/dist/**", "**/.data/**"];

// Three projects: unit (in-process, PGlite / in-memory), integration (real Postgres/Redis when
// DATABASE_URL / REDIS_URL are set; loud failure in CI when missing), e2e (real processes).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{apps,packages}/*/src/**/*.test.ts"],
          exclude: [...exclude, "**/*.int.test.ts", "**/*.e2e.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["{apps,packages}/*/src/**/*.int.test.ts"],
          exclude,
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["{apps,packages}/*/{src,test}/**/*.e2e.test.ts"],
          exclude,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
