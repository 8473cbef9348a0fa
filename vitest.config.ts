import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for
    // graphql-yoga; make our sources get the same copy, or `instanceof GraphQLError` fails.
    alias: { graphql: require.resolve("graphql") },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    // Forks, not threads: the sandbox needs `--no-node-snapshot`, which worker threads refuse.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/support/global-setup.ts", "tests/browser/support/global-setup.ts"],
    reporters: ["default", "./tests/support/summary-reporter.ts"],
  },
});
