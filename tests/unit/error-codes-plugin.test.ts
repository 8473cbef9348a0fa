/** useErrorCodes: errors that leave graphql-js without a code get BAD_USER_INPUT; coded ones keep theirs. */
import { describe, expect, it } from "vitest";
import { createYoga, createSchema } from "graphql-yoga";
import { GraphQLError } from "graphql";
import { useErrorCodes } from "../../src/graphql/plugins/error-codes.ts";
import { isErrorCode } from "../../src/error-codes.ts";

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      echo(n: Int!): Int!
      badId: Int
      refused: Int
    }
  `,
  resolvers: {
    Query: {
      echo: (_r: unknown, a: { n: number }) => a.n,
      // What Pothos relay throws for an argument that is not a global id.
      badId: () => {
        throw new GraphQLError("Invalid global ID: garbage");
      },
      refused: () => {
        throw new GraphQLError("not authorized", { extensions: { code: "NOT_AUTHORIZED" } });
      },
    },
  },
});

async function errorsOf(withPlugin: boolean, query: string, variables: Record<string, unknown> = {}) {
  const yoga = createYoga({ schema, plugins: withPlugin ? [useErrorCodes()] : [], logging: false });
  const res = await yoga.fetch("http://x/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return ((await res.json()) as { errors?: Array<{ message: string; path?: unknown; extensions?: { code?: string } }> }).errors ?? [];
}

describe("useErrorCodes", () => {
  it("without it, a bad variable and an argument error leave with no code (what it fixes)", async () => {
    expect((await errorsOf(false, "query($n: Int!) { echo(n: $n) }", { n: "x" }))[0]?.extensions?.code).toBeUndefined();
    expect((await errorsOf(false, "{ badId }"))[0]?.extensions?.code).toBeUndefined();
  });

  it("with it, they are BAD_USER_INPUT, messages and paths kept; a code from the set is kept", async () => {
    const [variable] = await errorsOf(true, "query($n: Int!) { echo(n: $n) }", { n: "x" });
    expect(variable).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    expect(variable!.message).toMatch(/\$n/);
    const [badId] = await errorsOf(true, "{ badId }");
    expect(badId).toMatchObject({ message: "Invalid global ID: garbage", path: ["badId"], extensions: { code: "BAD_USER_INPUT" } });
    const [refused] = await errorsOf(true, "{ refused }");
    expect(refused!.extensions!.code).toBe("NOT_AUTHORIZED");
    for (const e of [variable, badId, refused]) expect(isErrorCode(e!.extensions?.code)).toBe(true);
  });
});
