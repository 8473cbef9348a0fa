/**
 * Builds the web console (web/dist) when it is missing or older than its sources, so the browser
 * tests always run against what the service would serve. Called once per run from vitest's globalSetup.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..", "..");

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const name of readdirSync(path)) if (name !== "dist") max = Math.max(max, newest(join(path, name)));
  return max;
}

export function ensureConsoleBuilt(): void {
  const index = join(root, "web", "dist", "index.html");
  const sources = Math.max(newest(join(root, "web")), statSync(join(root, "package-lock.json")).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  console.log("[console] building web/ (npm run build:web)");
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "web/vite.config.ts", "--logLevel", "warn"],
    {
      cwd: root,
      stdio: "inherit",
      // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
      env: { ...process.env, NODE_ENV: "production" },
    },
  );
}
