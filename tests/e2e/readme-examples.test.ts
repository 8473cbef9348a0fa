/**
 * Every ```graphql example in README.md runs against the real server over HTTP, on the demo seed,
 * as the account its first line names ("# as owner@demo.exchange"), with the variables it declares
 * filled in from the seed. An example passes only if it parses, validates and executes with no
 * GraphQL error and no DomainError anywhere in its answer (a NotFound would pass a weaker check).
 * Also here, on the same server: no library's message reaches a caller.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kind, parse, type OperationDefinitionNode } from "graphql";
import { startTestExchange, type TestExchange } from "../support/exchange.ts";
import { seedDemo, type DemoCredential } from "../../seed/demo.ts";

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** The body of every fenced block tagged graphql, with the line it starts on. */
export function graphqlExamples(markdown: string): Array<{ line: number; source: string }> {
  const out: Array<{ line: number; source: string }> = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```graphql") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== "```") end++;
    out.push({ line: start + 1, source: lines.slice(start, end).join("\n") });
    i = end;
  }
  return out;
}

/** Every object in a JSON answer that looks like a domain error (it carries a `code`). */
function domainErrors(value: unknown, path = "data"): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => domainErrors(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  const o = value as Record<string, unknown>;
  const here = "code" in o ? [`${path}: ${String(o["code"])} ${String(o["message"] ?? "")}`] : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => domainErrors(v, `${path}.${k}`))];
}

const EXAMPLES = graphqlExamples(README);

describe("README GraphQL examples", () => {
  let ex: TestExchange;
  let credentials: DemoCredential[] = [];
  const vars: Record<string, unknown> = {};
  const keyOf = (email: string): string => {
    const c = credentials.find((x) => x.email === email);
    if (!c) throw new Error(`no demo account ${email}`);
    return c.apiKey;
  };

  beforeAll(async () => {
    ex = await startTestExchange(
      "sqlite",
      {},
      {
        beforeListen: async (services) => {
          credentials =
            (await seedDemo(services, {
              dataDir: join(process.env.TMPDIR ?? "/tmp", `readme-${process.pid}`),
              production: false,
              print: () => undefined,
            })) ?? [];
        },
      },
    );
    const owner = keyOf("owner@demo.exchange");
    const datasets = await ex.gql(`{ datasets(first: 20) { edges { node { id name uploads(first: 1) { id } } } } }`, {}, owner);
    const taxi = datasets.body.data.datasets.edges
      .map((e: { node: { id: string; name: string; uploads: Array<{ id: string }> } }) => e.node)
      .find((d: { name: string }) => /taxi/i.test(d.name));
    vars["datasetId"] = taxi.id;
    vars["jobId"] = taxi.uploads[0].id;
    const listings = await ex.gql(`{ myListings(first: 20) { edges { node { id datasetId } } } }`, {}, owner);
    vars["listingId"] = listings.body.data.myListings.edges.find((e: { node: { datasetId: string } }) => e.node.datasetId === taxi.id).node.id;
  });
  afterAll(async () => {
    await ex?.stop();
  });

  it("finds the examples (the reader sees several)", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(5);
  });

  for (const { line, source } of EXAMPLES) {
    const as = /^#\s*as\s+(\S+@\S+)/.exec(source.trim())?.[1];
    it(`README.md:${line} runs as ${as ?? "(no account named)"}`, async () => {
      expect(as, 'start the example with a comment naming the demo account, e.g. "# as buyer@demo.exchange"').toBeDefined();
      const doc = parse(source);
      const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      const variables: Record<string, unknown> = {};
      for (const v of op.variableDefinitions ?? []) {
        const name = v.variable.name.value;
        expect(vars, `the test has no value for $${name}`).toHaveProperty(name);
        variables[name] = vars[name];
      }
      const r = await ex.gql(source, variables, keyOf(as!));
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.body.data).toBeTruthy();
      expect(domainErrors(r.body.data)).toEqual([]);
    });
  }

  it("the upload-progress example as it used to be written (a union without fragments) is refused, so the check above can fail", async () => {
    const r = await ex.gql(
      `query ($datasetId: ID!) { dataset(id: $datasetId) { uploads { state phase rowsDone bytesDone } } }`,
      { datasetId: vars["datasetId"] },
      keyOf("owner@demo.exchange"),
    );
    expect(r.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("no library message reaches a caller: createListing without a price plan is a free draft, a bad one is refused in our words", async () => {
    const owner = keyOf("owner@demo.exchange");
    const CREATE = `mutation ($input: CreateListingInput!) { createListing(input: $input) { __typename
      ... on MutationCreateListingSuccess { data { status pricePlan { perQueryFee pricePerEpsilon } } }
      ... on InvalidInput { issues { path message } } } }`;
    const base = {
      datasetId: vars["datasetId"],
      title: { en: "Taxi, again" },
      description: { en: "A second listing" },
      category: "TRANSPORT",
      licence: "CC0",
      permittedUse: "research",
    };
    const free = await ex.gql(CREATE, { input: base }, owner);
    expect(free.body.data.createListing, JSON.stringify(free.body)).toMatchObject({
      __typename: "MutationCreateListingSuccess",
      data: { status: "DRAFT", pricePlan: { perQueryFee: 0, pricePerEpsilon: 0 } },
    });
    const bad = await ex.gql(CREATE, { input: { ...base, title: { en: "" }, licence: " " } }, owner);
    expect(bad.body.data.createListing.__typename).toBe("InvalidInput");
    const issues = bad.body.data.createListing.issues as Array<{ path: string; message: string }>;
    expect(issues.map((i) => i.path).sort()).toEqual(["input.licence", "input.title"]);
    for (const i of issues) expect(i.message).not.toMatch(/^(Invalid|Too (small|big)|Unrecognized)|expected .*, received|nonoptional/);
  });

  it("an ε with spaces around it is refused in our words, before anything runs", async () => {
    const r = await ex.gql(
      `query ($l: ID!, $e: Epsilon) { quoteQuery(input: { listingId: $l, aggregates: [{ kind: COUNT_UNITS }], epsilon: $e }) { __typename } }`,
      { l: vars["listingId"], e: " 0.1" },
      keyOf("buyer@demo.exchange"),
    );
    expect(r.body.errors?.[0]?.message).toMatch(/ε must be written without spaces/);
  });
});
