/**
 * sandbox/ is a library: it imports nothing from src/ (DESIGN.md: arrows point one way), and its
 * host-side modules do not load isolated-vm (only the worker process does).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const sandboxDir = join(root, "sandbox");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier: static imports and re-exports, dynamic import(), require(). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const re of [
    /\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']/g,
    /\brequire\s*\(\s*["']([^"']+)["']/g,
  ]) {
    for (const m of text.matchAll(re)) out.push(m[1]!);
  }
  return out;
}

function localImports(file: string): string[] {
  return specifiers(readFileSync(file, "utf8"))
    .filter((s) => s.startsWith("."))
    .map((s) => resolve(dirname(file), s));
}

describe("sandbox/ boundaries", () => {
  const files = sources(sandboxDir);

  it("has sources to check", () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it("imports nothing outside sandbox/ except node: built-ins and isolated-vm", () => {
    const offenders: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const ok =
          spec.startsWith("node:") || spec === "isolated-vm" || (spec.startsWith(".") && resolve(dirname(file), spec).startsWith(sandboxDir + "/"));
        if (!ok) offenders.push(`${relative(root, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("keeps isolated-vm out of the host process: only worker-side modules load it", () => {
    const loads = new Set<string>();
    const visit = (file: string, seen: Set<string>) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (specifiers(readFileSync(file, "utf8")).includes("isolated-vm")) loads.add(relative(sandboxDir, file));
      for (const dep of localImports(file)) visit(dep, seen);
    };
    const hostSeen = new Set<string>();
    visit(join(sandboxDir, "index.ts"), hostSeen);
    const hostLoads = [...hostSeen].filter((f) => loads.has(relative(sandboxDir, f))).map((f) => relative(sandboxDir, f));
    expect(hostLoads).toEqual([]);
  });
});
