/**
 * The authorization matrix: for EVERY root query and mutation in the schema, who may call it.
 * The test enumerates the schema, so a new field without a rule below fails it. Each field is
 * called over real HTTP by every persona with type-correct placeholder arguments; everyone not
 * allowed must get the same NOT_AUTHORIZED error and change nothing (no audit event appended).
 * Object-level rules ("only the owner of this listing") are tested in each module's suite.
 */
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSchema } from "../../src/server/schema.ts";
import { startTestExchange, type TestExchange } from "../support/exchange.ts";

type Persona = "anonymous" | "buyer" | "owner" | "regulator" | "admin";
const ALL: Persona[] = ["anonymous", "buyer", "owner", "regulator", "admin"];
const SIGNED_IN: Persona[] = ["buyer", "owner", "regulator", "admin"];

/** The specification. Keys are "Query.field" / "Mutation.field". */
const RULES: Record<string, Persona[]> = {
  "Query.quoteQuery": ["buyer"],
  "Mutation.runQuery": ["buyer"],
  // owner-approved analyses (src/analysis/graphql)
  "Query.analysis": SIGNED_IN,
  "Query.myAnalyses": ["buyer"],
  "Query.analysesForMyListings": ["owner"],
  "Query.quoteAnalysis": ["buyer"],
  "Mutation.submitAnalysis": ["buyer"],
  "Mutation.reviseAnalysis": ["buyer"],
  "Mutation.runAnalysis": ["buyer"],
  "Mutation.decideAnalysis": ["owner"],
  "Mutation.revokeAnalysisApproval": ["owner"],
  // billing (src/billing/graphql)
  "Query.credit": ["buyer"],
  "Query.queryHolds": ["buyer"],
  "Query.receipts": ["buyer"],
  "Query.topUps": ["buyer"],
  "Query.listingSubscriptions": ["buyer"],
  "Query.earnings": ["owner"],
  "Query.sales": ["owner"],
  "Query.payouts": ["owner"],
  "Query.payoutAccount": ["owner"],
  "Query.reconciliation": ["admin"],
  "Mutation.topUpCredit": ["buyer"],
  "Mutation.subscribeToListing": ["buyer"],
  "Mutation.grantCredit": ["admin"],
  "Mutation.startPayoutOnboarding": ["owner"],
  "Mutation.requestPayout": ["owner"],
  "Mutation.runPayouts": ["admin"],
  "Mutation.recoverBilling": ["admin"],
  "Query.viewer": ALL,
  "Query.accounts": ["admin"],
  "Query.listing": ALL,
  "Query.searchListings": ALL,
  "Query.myListings": ["owner"],
  "Query.privacyPolicy": ["owner"],
  "Query.privacyPolicyHistory": ["owner"],
  "Query.privacyBudget": ["buyer"],
  "Query.datasetPrivacyBudget": ["owner"],
  "Query.accessRequest": SIGNED_IN,
  "Query.myAccessRequests": ["buyer"],
  "Query.accessRequestsForMyListings": ["owner"],
  "Mutation.signUp": ALL,
  "Mutation.signIn": ALL,
  "Mutation.signOut": SIGNED_IN,
  "Mutation.createApiKey": SIGNED_IN,
  "Mutation.revokeApiKey": SIGNED_IN,
  "Mutation.grantRole": ["admin"],
  "Mutation.revokeRole": ["admin"],
  "Mutation.createListing": ["owner"],
  "Mutation.updateListing": ["owner"],
  "Mutation.publishListing": ["owner", "admin"],
  "Mutation.suspendListing": ["owner", "admin"],
  "Mutation.declarePrivacyPolicy": ["owner"],
  "Mutation.suggestPolicyBounds": ["owner"],
  "Mutation.requestAccess": ["buyer"],
  "Mutation.decideAccessRequest": ["owner"],
  "Mutation.revokeAccess": ["owner"],
  // datasets and uploads (src/datasets/graphql): owners only, object-level checks in the module
  "Query.dataset": ["owner"],
  "Query.datasets": ["owner"],
  "Query.uploadJob": ["owner"],
  "Mutation.createDataset": ["owner"],
  "Mutation.uploadDatasetVersion": ["owner"],
  // audit log (src/audit/graphql): read-only; public key and checkpoint for anyone
  "Query.auditLog": ALL,
  "Query.auditEvents": ["regulator", "admin"],
  "Query.auditEvent": ["regulator", "admin"],
  "Query.auditCheckpoints": ["regulator", "admin"],
  "Query.auditInclusionProof": ["regulator", "admin"],
  "Query.auditConsistencyProof": ["regulator", "admin"],
  "Query.auditTradeReport": ["regulator", "admin"],
  "Query.auditEpsilonReport": ["regulator", "admin"],
  "Query.auditAccessDecisions": ["regulator", "admin"],
};

/** How many events the audit log holds (every change the exchange makes appends one). */
async function auditSize(ex: TestExchange): Promise<number> {
  const last = await ex.services.audit.findEntries({}, 1, null, -1);
  return last.items[0] ? last.items[0].seq + 1 : 0;
}

const schema = buildSchema();
const roots = [schema.getQueryType()!, schema.getMutationType()!];
const fields = roots.flatMap((t) => Object.values(t.getFields()).map((f) => ({ root: t.name, field: f as GraphQLField<unknown, unknown> })));

/** A type-correct GraphQL literal for an input type (required parts only). */
function placeholder(type: GraphQLInputType): string {
  const inner = getNullableType(type) as GraphQLInputType;
  if (isListType(inner)) return `[${placeholder(inner.ofType as GraphQLInputType)}]`;
  if (isEnumType(inner)) return inner.getValues()[0]!.name;
  if (isInputObjectType(inner)) {
    const parts = Object.values(inner.getFields())
      .filter((f) => isNonNullType(f.type))
      .map((f) => `${f.name}: ${placeholder(f.type)}`);
    return `{ ${parts.join(", ")} }`;
  }
  if (isScalarType(inner)) {
    switch (inner.name) {
      case "ID":
        return JSON.stringify(Buffer.from("Nothing:none").toString("base64"));
      case "Int":
        return "1";
      case "Float":
        return "1.5";
      case "Boolean":
        return "false";
      case "DateTime":
        return JSON.stringify("2026-01-01T00:00:00.000Z");
      default:
        return JSON.stringify("x");
    }
  }
  throw new Error(`no placeholder for ${String(inner)}`);
}

function operationFor(root: string, field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a) => isNonNullType(a.type)).map((a) => `${a.name}: ${placeholder(a.type)}`);
  const named = getNamedType(field.type);
  const selection = isScalarType(named) || isEnumType(named) ? "" : " { __typename }";
  const call = `${field.name}${args.length ? `(${args.join(", ")})` : ""}${selection}`;
  return `${root === "Mutation" ? "mutation" : "query"} { ${call} }`;
}

describe("authorization matrix", () => {
  it("declares a rule for every root field of the schema", () => {
    const missing = fields.map(({ root, field }) => `${root}.${field.name}`).filter((k) => !(k in RULES));
    expect(missing, "add these fields to RULES in tests/e2e/authorization-matrix.test.ts").toEqual([]);
    const stale = Object.keys(RULES).filter((k) => !fields.some(({ root, field }) => `${root}.${field.name}` === k));
    expect(stale, "these rules name fields that no longer exist").toEqual([]);
  });

  let ex: TestExchange;
  const tokens: Partial<Record<Persona, string>> = {};
  beforeAll(async () => {
    ex = await startTestExchange("sqlite");
    const roles: Record<Exclude<Persona, "anonymous">, "BUYER" | "OWNER" | "REGULATOR" | "ADMIN"> = {
      buyer: "BUYER",
      owner: "OWNER",
      regulator: "REGULATOR",
      admin: "ADMIN",
    };
    for (const [persona, role] of Object.entries(roles)) {
      const account = await ex.services.accounts.createAccount(`${persona}@matrix.test`, "Correct-Horse-42", [role]);
      tokens[persona as Persona] = (await ex.services.accounts.createApiKey(account._id, persona)).secret;
    }
  });
  afterAll(async () => {
    await ex?.stop();
  });

  for (const { root, field } of fields) {
    const key = `${root}.${field.name}`;
    it(`${key}: allowed for ${(RULES[key] ?? []).join(", ") || "nobody"}; NOT_AUTHORIZED for the rest`, async () => {
      const allowed = RULES[key];
      expect(allowed, `no rule for ${key}`).toBeDefined();
      const op = operationFor(root, field);
      for (const persona of ALL) {
        // Each call is a fresh persona call; mutations that succeed for allowed personas may
        // change state, which is fine: the check here is who gets through the door.
        const before = await auditSize(ex);
        const res = await ex.gql(op, {}, persona === "anonymous" ? undefined : tokens[persona]);
        const denied = (res.body.errors ?? []).some(
          (e: { path?: string[]; extensions?: { code?: string } }) => e.extensions?.code === "NOT_AUTHORIZED" && e.path?.[0] === field.name,
        );
        if (allowed!.includes(persona)) {
          expect(denied, `${persona} should be allowed to call ${key}: ${JSON.stringify(res.body.errors)}`).toBe(false);
        } else {
          expect(denied, `${persona} must get NOT_AUTHORIZED for ${key}: ${JSON.stringify(res.body)}`).toBe(true);
          expect(res.body.errors.find((e: { path?: string[] }) => e.path?.[0] === field.name).message).toBe("not authorized");
          expect(await auditSize(ex), `${persona}'s refused ${key} appended an audit event`).toBe(before);
        }
      }
    });
  }
});
