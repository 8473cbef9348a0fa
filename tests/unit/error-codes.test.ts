/**
 * One closed error vocabulary (src/error-codes.ts): README's table, the GraphQL enum and every
 * code written in the source are the same set.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { isEnumType } from "graphql";
import { ERROR_CODES, isErrorCode } from "../../src/error-codes.ts";
import { buildSchema } from "../../src/server/schema.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** The backticked codes in the first column of the table under "## Errors and limits". */
export function readmeErrorCodes(readme: string): string[] {
  const start = readme.indexOf("## Errors and limits");
  if (start < 0) throw new Error('README has no "## Errors and limits" section');
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const codes: string[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|");
    if (!line.startsWith("|") || cells.length < 3) continue;
    for (const m of cells[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) codes.push(m[1]!);
  }
  return codes;
}

describe("error codes", () => {
  it("README's error table lists exactly the ErrorCode set, each code once", () => {
    const listed = readmeErrorCodes(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(listed.length).toBeGreaterThan(0);
    expect(new Set(listed).size, "a code listed twice").toBe(listed.length);
    expect(
      listed.filter((c) => !isErrorCode(c)),
      "in README but not in ERROR_CODES",
    ).toEqual([]);
    expect(
      ERROR_CODES.filter((c) => !listed.includes(c)),
      "in ERROR_CODES but not in README",
    ).toEqual([]);
  });

  it("reads the table it claims to read (a code missing from it is noticed)", () => {
    const fake = "## Errors and limits\n\n| code | where |\n|---|---|\n| `NOT_FOUND`, `EMAIL_TAKEN` | x |\n\n## Next\n| `RATE_LIMITED` | y |\n";
    expect(readmeErrorCodes(fake)).toEqual(["NOT_FOUND", "EMAIL_TAKEN"]);
  });

  it("the GraphQL enum ErrorCode is the same set, and DomainError.code is typed by it", () => {
    const schema = buildSchema();
    const en = schema.getType("ErrorCode");
    if (!isEnumType(en)) throw new Error("ErrorCode is not an enum");
    expect(
      en
        .getValues()
        .map((v) => v.name)
        .sort(),
    ).toEqual([...ERROR_CODES].sort());
    const iface = schema.getType("DomainError") as import("graphql").GraphQLInterfaceType;
    expect(String(iface.getFields()["code"]!.type)).toBe("ErrorCode!");
  });

  it("every error code written in the source is in the set", () => {
    // Known deviations (none left); each listed one must still exist, so the list only shrinks.
    const known = new Map<string, string>();
    // A hold's stored rejection reason, never returned to a caller: not an error code.
    const notErrors = new Set(["src/billing/holds.ts:ABANDONED"]);
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith(".ts")) {
          const text = readFileSync(p, "utf8");
          const patterns = [
            /\b(?:code|error)\s*[:=]\s*"([A-Z][A-Z0-9_]+)"/g,
            /\bcodedError\(\s*"([A-Z][A-Z0-9_]+)"/g,
            /\bdeny\(\s*\d+\s*,\s*"([A-Z][A-Z0-9_]+)"/g,
          ];
          for (const re of patterns) for (const m of text.matchAll(re)) found.push(`${relative(ROOT, p)}:${m[1]}`);
        }
      }
    };
    walk(join(ROOT, "src"));
    expect(found.length).toBeGreaterThan(30);
    const outside = found.filter((f) => !isErrorCode(f.split(":")[1]) && !known.has(f) && !notErrors.has(f));
    expect(outside).toEqual([]);
    for (const k of [...known.keys(), ...notErrors]) expect(found, `${k} is gone: drop it from the list`).toContain(k);
  });
});
