/**
 * The console's build: React without a plugin (esbuild's automatic JSX is enough for a build-only
 * app), two pages (the console and GraphiQL), and GraphiQL's prebuilt bundle copied in beside them
 * so that nothing is ever fetched from a CDN. Output: web/dist, served by src/server/app.ts.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig, type Plugin } from "vite";

const here = import.meta.dirname;
const require = createRequire(import.meta.url);

/** Emits @graphql-yoga/graphiql's prebuilt UMD bundle, CSS and Monaco workers under graphiql/. */
function graphiqlAssets(): Plugin {
  return {
    name: "exchange-graphiql-assets",
    apply: "build",
    generateBundle() {
      const dist = join(dirname(require.resolve("@graphql-yoga/graphiql/package.json")), "dist");
      const files = ["yoga-graphiql.umd.js", "graphiql.css", ...readdirSync(join(dist, "monacoeditorwork")).map((f) => `monacoeditorwork/${f}`)];
      for (const file of files) this.emitFile({ type: "asset", fileName: `graphiql/${file}`, source: readFileSync(join(dist, file)) });
    },
  };
}

export default defineConfig({
  root: here,
  base: "/",
  publicDir: false,
  esbuild: { jsx: "automatic" },
  plugins: [graphiqlAssets()],
  build: {
    outDir: join(here, "dist"),
    emptyOutDir: true,
    // Keep every asset a file: the CSP allows images only from 'self' and data: (Pico's icons).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
    rollupOptions: { input: { console: join(here, "index.html"), graphiql: join(here, "graphiql.html") } },
  },
});
