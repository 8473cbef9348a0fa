/**
 * Module boundaries, checked by `npm run lint` (scripts/lint.ts). The layers, low to high:
 *   sandbox/, spark-connect/, pricing/  libraries: import nothing from src/
  *   src/*.ts (not main, config), store/ foundation: config, errors, ids, logger, metrics, viewer, the audit port
 *   src/graphql/, src/http/             the edges' building blocks: import no module
 *   src/<module>/                       accounts, audit, datasets, privacy/*, catalog, access, billing, queries, analysis
 *   src/runs/                           cross-module flows (quote → reserve → compute → release → settle → log)
 *   src/server/                         assembles the schema and the Koa app from each module
 *   src/exchange/, config.ts, main.ts   the composition root, its settings and the entry point
 */
const MODULES = "(accounts|audit|datasets|privacy/policy|privacy/budget|privacy/mechanism|catalog|access|billing|queries|analysis)";

module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", comment: "no import cycles", from: { path: "^(src|sandbox|spark-connect|pricing)/" }, to: { circular: true } },
    {
      name: "console-talks-http-only",
      severity: "error",
      comment: "web/ (the console) reaches the service over HTTP through its typed client, never by importing server code",
      from: { path: "^web/" },
      to: { path: "^(src|sandbox|spark-connect|pricing|seed)/" },
    },
    { name: "libraries-stand-alone", severity: "error", comment: "sandbox/, spark-connect/ and pricing/ import nothing from src/", from: { path: "^(sandbox|spark-connect|pricing)/" }, to: { path: "^src/" } },
    {
      name: "edges-import-no-module",
      severity: "error",
      comment: "graphql/ and http/ (builder, plugins, scalars, middleware) import no module, flow or assembly",
      from: { path: "^src/(graphql|http)/" },
      to: { path: `^src/(${MODULES.slice(1, -1)}|runs|server|exchange)/` },
    },
    {
      name: "foundation-imports-nothing-above",
      severity: "error",
      from: { path: "^src/([a-z-]+\\.ts|store/)", pathNot: "^src/(main|config)\\.ts$" },
      to: { path: `^src/(graphql|http|${MODULES.slice(1, -1)}|runs|server|exchange)/` },
    },
    {
      name: "modules-through-index",
      severity: "error",
      comment: "a module imports another only through its index.ts (or graphql/index.ts for GraphQL refs)",
      from: { path: `^src/${MODULES}/` },
      to: { path: `^src/${MODULES}/`, pathNot: ["^src/$1/", `^src/${MODULES}/(graphql/)?index\\.ts$`] },
    },
    {
      name: "modules-below-flows",
      severity: "error",
      comment: "modules never import the run path, the assembly or the composition root",
      from: { path: `^src/${MODULES}/` },
      to: { path: "^src/(runs|server|exchange)/" },
    },
    {
      name: "composition-root-only-from-entry-points",
      severity: "error",
      comment: "only entry points (main.ts, seed, bench, scripts, tests) import src/exchange/",
      from: { path: "^src/", pathNot: "^src/(main\\.ts|exchange/)" },
      to: { path: "^src/exchange/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js"] },
  },
};
