/** The multipart cap on GraphQL uploads (graphql-yoga holds uploaded files in memory). */
import { describe, expect, it } from "vitest";
import { createSchema, createYoga } from "graphql-yoga";
import { useUploadLimits } from "../../../src/datasets/graphql/upload-limits.ts";

describe("GraphQL upload limits", () => {
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: "scalar File type Query { ok: Boolean } type Mutation { size(file: File!): Int }",
      resolvers: { Mutation: { size: (_: unknown, { file }: { file: File }) => file.size } },
    }),
    plugins: [useUploadLimits(1000)],
    logging: false,
  });

  async function upload(bytes: number) {
    const form = new FormData();
    form.set("operations", JSON.stringify({ query: "mutation ($f: File!) { size(file: $f) }", variables: { f: null } }));
    form.set("map", JSON.stringify({ "0": ["variables.f"] }));
    form.set("0", new Blob([Buffer.alloc(bytes, 97)]), "x.csv");
    const res = await yoga.fetch("http://localhost/graphql", { method: "POST", body: form });
    return { status: res.status, body: (await res.json()) as any };
  }

  it("lets a file within the cap through", async () => {
    const r = await upload(900);
    expect(r.body.data.size).toBe(900);
  });

  it("refuses a larger file with 413, pointing to the streaming route", async () => {
    const r = await upload(5000);
    expect(r.status).toBe(413);
    expect(r.body.errors[0].message).toMatch("PUT /datasets/{id}/versions");
  });
});
