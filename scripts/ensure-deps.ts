/**
 * Installs node_modules with `npm ci` when they are missing or older than package-lock.json,
 * so the README's commands work on a fresh clone and stay fast on the second run.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const lock = readFileSync(join(root, "package-lock.json"));
const want = `${createHash("sha256").update(lock).digest("hex")} node-${process.versions.node}\n`;
const stamp = join(root, "node_modules", ".exchange-install-stamp");

if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== want) {
  console.error("deps: running npm ci (package-lock.json changed or node_modules missing)");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, want);
}
