/**
 * `npm run lint`: module boundaries (dependency-cruiser rules in .dependency-cruiser.cjs) and
 * formatting (Biome). Ends with two counts of the import graph:
 *   back_imports=N          imports that run up the layering (a lower layer importing a higher one)
 *   cross_domain_imports=N  imports from one module of src/ into another
 * and fails when a rule is broken or a count is over its goal.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { cruise, type ICruiseResult, type IModule } from "dependency-cruiser";

const root = join(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const GOALS = { back: 4, crossDomain: 30 };

/** Layer of a file, low to high; null for files outside the layering (node_modules, tests). */
export function layerOf(path: string): number | null {
  if (/^(sandbox|spark-connect|pricing)\//.test(path)) return 0;
  if (/^src\/(main|config)\.ts$/.test(path) || path.startsWith("src/exchange/")) return 6;
  if (/^src\/[a-z-]+\.ts$/.test(path) || path.startsWith("src/store/")) return 1;
  if (/^src\/(graphql|http)\//.test(path)) return 2;
  if (path.startsWith("src/runs/")) return 4;
  if (path.startsWith("src/server/")) return 5;
  if (path.startsWith("src/")) return 3;
  return null;
}

/** The module (domain) a file belongs to, for files of layer 3. */
export function moduleOf(path: string): string {
  const m = /^src\/(privacy\/[a-z]+|[a-z-]+)\//.exec(path);
  return m ? m[1]! : path;
}

process.chdir(root);
const ruleSet = require(join(root, ".dependency-cruiser.cjs"));
const result = (
  await cruise(["src", "sandbox", "spark-connect", "pricing", "web/src", "web/client"], { validate: true, ruleSet, ...ruleSet.options }, undefined, {
    tsConfig: require("typescript").readConfigFile("tsconfig.json", require("typescript").sys.readFile).config,
  })
).output as ICruiseResult;

let back = 0;
let crossDomain = 0;
const backList: string[] = [];
for (const mod of result.modules as IModule[]) {
  const from = layerOf(mod.source);
  if (from === null) continue;
  for (const dep of mod.dependencies) {
    const to = layerOf(dep.resolved);
    if (to === null) continue;
    if (to > from) {
      back++;
      backList.push(`${mod.source} → ${dep.resolved}`);
    }
    if (from === 3 && to === 3 && moduleOf(mod.source) !== moduleOf(dep.resolved)) crossDomain++;
  }
}

const violations = result.summary.violations;
for (const v of violations)
  console.log(`lint: ${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(" → ")})` : ""}`);
for (const b of backList) console.log(`lint: back import ${b}`);

let formatOk = true;
try {
  execFileSync(join(root, "node_modules", ".bin", "biome"), ["format", "."], { stdio: ["ignore", "pipe", "pipe"] });
} catch (e) {
  formatOk = false;
  const out = e as { stdout?: Buffer; stderr?: Buffer };
  console.log(
    `lint: formatting differs from Biome's; run ./nodew npx biome format --write .\n${String(out.stderr ?? "")
      .split("\n")
      .slice(-20)
      .join("\n")}`,
  );
}

const ok = violations.length === 0 && formatOk && back <= GOALS.back && crossDomain <= GOALS.crossDomain;
console.log(
  `lint: ${result.summary.totalCruised} files, ${result.summary.totalDependenciesCruised} imports, ${violations.length} rule violations, formatting ${formatOk ? "ok" : "differs"}`,
);
console.log(`back_imports=${back}`);
console.log(`cross_domain_imports=${crossDomain}`);
if (!ok) process.exit(1);
