/** The Epsilon scalar: what it accepts (in variables and literals), what it refuses, how it prints. */
import { describe, expect, it } from "vitest";
import { getNamedType, graphql, isScalarType, GraphQLObjectType, GraphQLSchema, GraphQLFloat } from "graphql";
import { EPSILON_MAX, EpsilonScalar, parseEpsilonInput } from "../../src/privacy/mechanism/graphql/epsilon-scalar.ts";
import { buildSchema } from "../../src/server/schema.ts";

// The scalar as the real schema registers it.
const scalar = buildSchema().getType("Epsilon") as typeof EpsilonScalar & import("graphql").GraphQLScalarType;

/** A schema with one field echoing its ε argument, to run literals and variables through. */
const echo = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: { echo: { type: GraphQLFloat, args: { e: { type: scalar } }, resolve: (_r, a: { e: number }) => a.e } },
  }),
});

describe("Epsilon", () => {
  it("is one scalar used by every ε field of the schema", () => {
    const sdl = buildSchema();
    const offenders: string[] = [];
    for (const type of Object.values(sdl.getTypeMap())) {
      if (type.name.startsWith("__") || !("getFields" in type)) continue;
      for (const f of Object.values((type as import("graphql").GraphQLObjectType).getFields())) {
        if (!isScalarType(getNamedType(f.type))) continue;
        const named = getNamedType(f.type).name;
        // Allowances of a price plan count ε but 0 means "none" and is the default: Float (see the report).
        const allowance = /^Price(Allowance|Subscription)(Input)?$/.test(type.name);
        if (/epsilon/i.test(f.name) && !/^pricePerEpsilon$/.test(f.name) && !allowance && named !== "Epsilon")
          offenders.push(`${type.name}.${f.name}: ${named}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it.each([
    [0.1, 0.1],
    ["0.1", 0.1],
    ["0.10", 0.1],
    [1, 1],
    ["0.000001", 0.000001],
    [EPSILON_MAX, EPSILON_MAX],
    ["2.5", 2.5],
  ])("accepts %j as %j", (input, expected) => {
    expect(parseEpsilonInput(input)).toBe(expected);
  });

  it.each([
    [0, "positive"],
    ["0", "greater than 0"],
    [-0.1, "positive"],
    ["-0.1", "positive decimal"],
    [Number.NaN, "positive"],
    [Number.POSITIVE_INFINITY, "positive"],
    ["0.0000001", "6 decimal places"],
    [0.1234567, "6 decimal places"],
    [EPSILON_MAX + 1, `at most ${EPSILON_MAX}`],
    [" 0.1", "without spaces"],
    ["0.1 ", "without spaces"],
    ["1e-3", "positive decimal"],
    ["abc", "positive decimal"],
    [true, "a number or a decimal string"],
    [null, "a number or a decimal string"],
  ])("refuses %j, saying why", (input, why) => {
    expect(() => parseEpsilonInput(input)).toThrow(why);
  });

  it("reads literals (int, float, string) and variables alike, and refuses a bad literal at validation", async () => {
    for (const lit of ["0.25", '"0.25"']) expect((await graphql({ schema: echo, source: `{ echo(e: ${lit}) }` })).data).toEqual({ echo: 0.25 });
    expect((await graphql({ schema: echo, source: "{ echo(e: 2) }" })).data).toEqual({ echo: 2 });
    expect((await graphql({ schema: echo, source: "query($e: Epsilon) { echo(e: $e) }", variableValues: { e: "0.5" } })).data).toEqual({ echo: 0.5 });
    const bad = await graphql({ schema: echo, source: "{ echo(e: -1) }" });
    expect(bad.errors?.[0]?.message).toMatch(/ε/);
    const badVar = await graphql({ schema: echo, source: "query($e: Epsilon) { echo(e: $e) }", variableValues: { e: "0.1234567" } });
    expect(badVar.errors?.[0]?.message).toMatch(/6 decimal places/);
  });

  it("prints a number, 0 included (ε spent or left), and refuses what is not an amount", () => {
    expect(scalar.serialize(0.5)).toBe(0.5);
    expect(scalar.serialize("0.125")).toBe(0.125);
    expect(scalar.serialize(0)).toBe(0);
    for (const bad of [-1, Number.NaN, "x", null]) expect(() => scalar.serialize(bad)).toThrow();
  });
});
