/**
 * `npm run schema` writes the SDL to schema.graphql (committed, for developers and codegen);
 * `npm run schema -- --check` exits 1 when the committed file is out of date.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { printSchema } from "graphql";
import { buildSchema } from "./schema.ts";

export const SCHEMA_FILE = join(import.meta.dirname, "..", "..", "schema.graphql");

export function currentSdl(): string {
  return printSchema(buildSchema()) + "\n";
}

if (import.meta.main) {
  const sdl = currentSdl();
  if (process.argv.includes("--check")) {
    const committed = existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, "utf8") : "";
    if (committed !== sdl) {
      console.error("schema.graphql is out of date: run ./nodew npm run schema");
      process.exit(1);
    }
    console.log("schema.graphql is up to date");
  } else {
    writeFileSync(SCHEMA_FILE, sdl);
    console.log(`wrote ${SCHEMA_FILE}`);
  }
}
