import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILE, currentSdl } from "../../src/server/print-schema.ts";

describe("schema.graphql", () => {
  it("is the committed SDL of the current schema (run ./nodew npm run schema when this fails)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(currentSdl());
  });
});
