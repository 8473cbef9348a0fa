/**
 * No library message reaches a caller: every zod check without a message of its own is worded by
 * src/input-wording.ts, with the field's path, and a schema's own message still wins.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InvalidInput, invalidInputFromZod } from "../../src/errors.ts";
import { createListingSchema } from "../../src/catalog/listing-input.ts";
import { parsePolicyInput } from "../../src/privacy/policy/validate.ts";

/** zod's own English, as its locale words each issue kind. */
const ZOD_ENGLISH = /^(Invalid|Too (small|big)|Unrecognized key)|expected .*, received|nonoptional/;

function issues(schema: z.ZodType, input: unknown): Array<{ path: string; message: string }> {
  const r = schema.safeParse(input);
  if (r.success) throw new Error("expected the input to be refused");
  return invalidInputFromZod(r.error).issues;
}

describe("input wording", () => {
  const cases: Array<[string, z.ZodType, unknown, string, string]> = [
    ["missing field", z.object({ name: z.string() }), {}, "input.name", "is required"],
    ["wrong type", z.object({ n: z.number() }), { n: "1" }, "input.n", "must be a number"],
    ["not finite", z.object({ n: z.number() }), { n: Infinity }, "input.n", "must be a finite number"],
    ["empty text", z.object({ s: z.string().min(1) }), { s: "" }, "input.s", "must not be empty"],
    ["short list", z.object({ l: z.array(z.number()).min(2) }), { l: [1] }, "input.l", "must have at least 2 items"],
    ["too big", z.object({ n: z.number().max(5) }), { n: 6 }, "input.n", "must be at most 5"],
    ["exclusive", z.object({ n: z.number().gt(0) }), { n: 0 }, "input.n", "must be more than 0"],
    ["not whole", z.object({ n: z.number().int() }), { n: 1.5 }, "input.n", "must be a whole number"],
    ["enum", z.object({ e: z.enum(["A", "B"]) }), { e: "C" }, "input.e", 'must be one of "A", "B"'],
    ["format", z.object({ m: z.string().email() }), { m: "x" }, "input.m", "is not in the expected format"],
    ["unknown key", z.strictObject({ a: z.number() }), { a: 1, b: 2 }, "input", "has unknown field b"],
    ["union", z.object({ u: z.union([z.number(), z.boolean()]) }), { u: "x" }, "input.u", "does not match any accepted form"],
    ["nested path", z.object({ xs: z.array(z.object({ hi: z.number() })) }), { xs: [{ hi: 1 }, {}] }, "input.xs.1.hi", "is required"],
  ];
  for (const [name, schema, input, path, message] of cases) {
    it(`${name}: "${path}: ${message}"`, () => {
      const [issue] = issues(schema, input);
      expect(issue).toEqual({ path, message });
      expect(issue!.message).not.toMatch(ZOD_ENGLISH);
    });
  }

  it("a schema's own message still wins", () => {
    expect(issues(z.object({ s: z.string().max(2, "must be at most 2 characters, please") }), { s: "abc" })[0]!.message).toBe(
      "must be at most 2 characters, please",
    );
  });

  it("createListing without a price plan is not refused (free when omitted)", () => {
    const parsed = createListingSchema.safeParse({
      datasetId: "ds_1",
      title: { en: "t" },
      description: { en: "d" },
      category: "TRANSPORT",
      licence: "CC0",
      permittedUse: "any",
    });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it("a policy with wrong types names each field in our words", () => {
    let error: unknown;
    try {
      parsePolicyInput({ privacyUnit: 7, dimensions: "x", measures: [], aggregates: ["COUNT_UNITS"], epsilonPerQuery: "0.1" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInput);
    const got = (error as InvalidInput).issues;
    expect(got.map((i) => i.path).sort()).toEqual(["input.dimensions", "input.epsilonPerQuery", "input.privacyUnit"]);
    for (const i of got) expect(i.message).not.toMatch(ZOD_ENGLISH);
  });
});
