/**
 * A walk through the exchange as its four users, over the public HTTP API only:
 *   owner      signs up, uploads a CSV (streaming PUT), declares a privacy policy, publishes a
 *              bilingual listing, approves a buyer's request, sees earnings and asks for a payout;
 *   buyer      signs up, finds the listing by a Chinese word, requests access, gets credit,
 *              quotes and runs an aggregate query, then submits analysis code which the
 *              owner reviews and approves, and quotes and runs it;
 *   admin      grants the buyer credit (the offline gateway) and a regulator its role;
 *   regulator  exports the signed audit log and verifies it offline against the checkpoint.
 *
 *   ./nodew node examples/walkthrough.ts http://127.0.0.1:4000 <admin API key>
 * (the demo seed prints an admin key on first start). tests/e2e/walkthrough.test.ts runs it.
 */
import { randomBytes } from "node:crypto";
import { verifyExport } from "../src/audit/verify-export.ts";

type Json = any;

export interface WalkthroughResult {
  listingId: string;
  answerGroups: number;
  charged: { amount: number; currency: string };
  analysis: { outputs: Array<{ name: string; value: number }>; charged: { amount: number; currency: string } };
  payout: { amount: number; status: string };
  auditEntries: number;
  verified: boolean;
  /** The regulator's trade report: trades settled and their total, in minor units. */
  trades: { count: number; amountMinor: number; platformFeeMinor: number; payoutsMinor: number };
  /** The admin's reconciliation: the ledger against itself and against the log's trades. */
  reconciled: { balanced: boolean; logAgrees: boolean };
  /** What the owner earned (after the platform's fee). */
  earned: number;
}

export async function runWalkthrough(base: string, adminKey: string, say: (line: string) => void = console.log): Promise<WalkthroughResult> {
  const tag = randomBytes(4).toString("hex");
  const gql = async (token: string | null, query: string, variables: Json = {}): Promise<Json> => {
    const res = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Json;
    if (body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  /** Unwraps a `…Success { data }` result, or throws with the domain error it returned. */
  const ok = (result: Json, what: string): Json => {
    if (!result?.__typename?.endsWith("Success")) throw new Error(`${what} failed: ${JSON.stringify(result)}`);
    return result.data;
  };
  const signUp = async (who: string, roles: string[]) =>
    ok(
      (
        await gql(
          null,
          `mutation ($i: SignUpInput!) { signUp(input: $i) { __typename ... on MutationSignUpSuccess { data { token account { id } } } ... on DomainError { code message } } }`,
          {
            i: { email: `${who}-${tag}@walkthrough.example`, password: "Correct-Horse-42", roles },
          },
        )
      ).signUp,
      `${who} sign-up`,
    ) as { token: string; account: { id: string } };

  // ── Owner: upload, policy, listing ────────────────────────────────────────────────────────
  const owner = await signUp("owner", ["OWNER"]);
  say("owner signed up");
  const dataset = ok(
    (
      await gql(
        owner.token,
        `mutation { createDataset(input: {name: "出租车行程 taxi trips"}) { __typename ... on MutationCreateDatasetSuccess { data { id } } ... on DomainError { message } } }`,
      )
    ).createDataset,
    "createDataset",
  );
  const datasetRawId = Buffer.from(dataset.id, "base64").toString("utf8").split(":")[1]!;
  const districts = ["浦东新区", "黄浦区", "徐汇区"];
  const csv = ["vehicle_id,district,hour,fare"];
  for (let i = 0; i < 600; i++) csv.push(`沪A${String(i % 60).padStart(5, "0")},${districts[i % 3]},${i % 24},${(12 + ((i * 37) % 180)).toFixed(2)}`);
  const upload = await fetch(`${base}/datasets/${encodeURIComponent(datasetRawId)}/versions?format=csv&filename=trips.csv`, {
    method: "PUT",
    headers: { authorization: `Bearer ${owner.token}`, "content-type": "text/csv" },
    body: csv.join("\n") + "\n",
  });
  if (upload.status >= 300) throw new Error(`upload failed: ${upload.status} ${await upload.text()}`);
  say(`owner uploaded ${csv.length - 1} rows`);
  ok(
    (
      await gql(
        owner.token,
        `mutation ($i: DeclarePrivacyPolicyInput!) { declarePrivacyPolicy(input: $i) { __typename ... on DomainError { message } ... on InvalidInput { issues { path message } } } }`,
        {
          i: {
            datasetId: dataset.id,
            privacyUnit: "vehicle_id",
            dimensions: [
              { column: "district", keys: districts },
              { column: "hour", edges: [0, 7, 10, 24] },
            ],
            measures: [{ column: "fare", lo: 0, hi: 300 }],
            aggregates: ["COUNT_UNITS", "COUNT_ROWS", "SUM", "AVG"],
            epsilonPerQuery: 0.5,
            buyerEpsilonBudget: 2,
            datasetEpsilonBudget: 10,
          },
        },
      )
    ).declarePrivacyPolicy,
    "declarePrivacyPolicy",
  );
  const listing = ok(
    (
      await gql(
        owner.token,
        `mutation ($i: CreateListingInput!) { createListing(input: $i) { __typename ... on MutationCreateListingSuccess { data { id } } ... on DomainError { message } ... on InvalidInput { issues { path message } } } }`,
        {
          i: {
            datasetId: dataset.id,
            title: { zh: `上海出租车行程 ${tag}`, en: `Shanghai taxi trips ${tag}` },
            description: { zh: "按区和小时统计的出租车行程", en: "Taxi trips by district and hour" },
            category: "TRANSPORT",
            licence: "CC BY-NC 4.0",
            permittedUse: "交通规划研究 / transport planning research",
            tags: ["交通", "taxi"],
            pricePlan: { perQueryFee: 15_000, pricePerEpsilon: 0 },
          },
        },
      )
    ).createListing,
    "createListing",
  );
  ok(
    (await gql(owner.token, `mutation ($id: ID!) { publishListing(id: $id) { __typename ... on DomainError { message } } }`, { id: listing.id }))
      .publishListing,
    "publishListing",
  );
  say("owner published a listing");

  // ── Buyer: find, request access ───────────────────────────────────────────────────────────
  const buyer = await signUp("buyer", ["BUYER"]);
  const found = await gql(null, `query ($q: String!) { searchListings(query: $q, first: 5) { edges { node { id } } } }`, { q: `出租车 ${tag}` });
  if (!found.searchListings.edges.some((e: Json) => e.node.id === listing.id)) throw new Error("the listing was not found by its Chinese title");
  say("buyer found the listing by searching 出租车");
  const request = ok(
    (
      await gql(
        buyer.token,
        `mutation ($i: RequestAccessInput!) { requestAccess(input: $i) { __typename ... on MutationRequestAccessSuccess { data { id status } } ... on DomainError { message } } }`,
        {
          i: { listingId: listing.id, purpose: "研究早高峰各区出行需求 morning-peak demand research" },
        },
      )
    ).requestAccess,
    "requestAccess",
  );

  // ── Owner approves ────────────────────────────────────────────────────────────────────────
  ok(
    (
      await gql(
        owner.token,
        `mutation ($i: DecideAccessRequestInput!) { decideAccessRequest(input: $i) { __typename ... on DomainError { message } } }`,
        {
          i: { requestId: request.id, decision: "APPROVE", reason: "research use fits the licence" },
        },
      )
    ).decideAccessRequest,
    "decideAccessRequest",
  );
  say("owner approved the request");

  // ── Admin: credit for the buyer (offline gateway), a regulator ────────────────────────────
  ok(
    (
      await gql(adminKey, `mutation ($i: GrantCreditInput!) { grantCredit(input: $i) { __typename ... on DomainError { message } } }`, {
        i: { accountId: buyer.account.id, amount: 100_000, idempotencyKey: `walkthrough-${tag}` },
      })
    ).grantCredit,
    "grantCredit",
  );
  const regulator = await signUp("regulator", ["BUYER"]);
  ok(
    (await gql(adminKey, `mutation ($id: ID!) { grantRole(accountId: $id, role: REGULATOR) { __typename } }`, { id: regulator.account.id }))
      .grantRole,
    "grantRole",
  );
  say("admin granted credit and a regulator role");

  // ── Buyer: quote, run ─────────────────────────────────────────────────────────────────────
  const query = {
    listingId: listing.id,
    filters: [{ column: "hour", gte: 7, lt: 10 }],
    groupBy: ["district"],
    aggregates: [{ kind: "COUNT_UNITS" }, { kind: "AVG", column: "fare" }],
    epsilon: "0.5",
  };
  const quote = ok(
    (
      await gql(
        buyer.token,
        `query ($i: QueryInput!) { quoteQuery(input: $i) { __typename ... on QueryQuoteQuerySuccess { data { epsilon price { amount currency } statistics { kind expectedStdDev } } } ... on DomainError { message } } }`,
        { i: query },
      )
    ).quoteQuery,
    "quoteQuery",
  );
  say(`buyer got a quote: ε ${quote.epsilon}, ${quote.price.amount} ${quote.price.currency}`);
  const answer = ok(
    (
      await gql(
        buyer.token,
        `mutation ($i: RunQueryInput!) { runQuery(input: $i) { __typename ... on MutationRunQuerySuccess { data { charged { amount currency } groups { key { value } values { kind value } } } } ... on DomainError { message } } }`,
        {
          i: { query, idempotencyKey: `walkthrough-${tag}`, maxPrice: quote.price.amount },
        },
      )
    ).runQuery,
    "runQuery",
  );
  say(`buyer ran the query: ${answer.groups.length} groups, charged ${answer.charged.amount} ${answer.charged.currency}`);

  // ── Buyer: analysis code; owner reviews and approves it; buyer runs it ─────────────────────
  const source = "function map(rows) {\n  let fares = 0;\n  for (const r of rows) fares += r.fare;\n  return [rows.length, fares];\n}\n";
  const submitted = ok(
    (
      await gql(
        buyer.token,
        `mutation ($i: SubmitAnalysisInput!) { submitAnalysis(input: $i) { __typename ... on MutationSubmitAnalysisSuccess { data { id status } } ... on DomainError { message } ... on InvalidInput { issues { path message } } } }`,
        {
          i: {
            listingId: listing.id,
            title: "trips and fares per vehicle",
            source,
            columns: ["fare"],
            outputs: [
              { name: "trips", lo: 0, hi: 50 },
              { name: "fares", lo: 0, hi: 5000 },
            ],
          },
        },
      )
    ).submitAnalysis,
    "submitAnalysis",
  );
  say(`buyer submitted analysis code (${submitted.status})`);
  const pending = (await gql(owner.token, `{ analysesForMyListings(status: PENDING_REVIEW) { edges { node { id latest { codeHash source } } } } }`))
    .analysesForMyListings.edges;
  const review = pending.find((e: Json) => e.node.id === submitted.id)?.node;
  if (!review) throw new Error("the owner does not see the analysis to review");
  ok(
    (
      await gql(owner.token, `mutation ($i: DecideAnalysisInput!) { decideAnalysis(input: $i) { __typename ... on DomainError { message } } }`, {
        i: { analysisId: review.id, codeHash: review.latest.codeHash, decision: "APPROVE", reason: "reads fares only, bounded outputs" },
      })
    ).decideAnalysis,
    "decideAnalysis",
  );
  say("owner read the code and approved its hash");
  const analysisQuote = ok(
    (
      await gql(
        buyer.token,
        `query ($i: QuoteAnalysisInput!) { quoteAnalysis(input: $i) { __typename ... on QueryQuoteAnalysisSuccess { data { epsilon releaseAfterMs price { amount } outputs { name expectedStdDev } } } ... on DomainError { message } } }`,
        { i: { analysisId: submitted.id, epsilon: "0.5" } },
      )
    ).quoteAnalysis,
    "quoteAnalysis",
  );
  const analysisRun = ok(
    (
      await gql(
        buyer.token,
        `mutation ($i: RunAnalysisInput!) { runAnalysis(input: $i) { __typename ... on MutationRunAnalysisSuccess { data { outputs { name value } charged { amount currency } } } ... on DomainError { message } } }`,
        {
          i: { analysisId: submitted.id, epsilon: "0.5", idempotencyKey: `walkthrough-analysis-${tag}`, maxPrice: analysisQuote.price.amount },
        },
      )
    ).runAnalysis,
    "runAnalysis",
  );
  say(
    `buyer ran the approved analysis: ${analysisRun.outputs.map((o: Json) => `${o.name} ≈ ${Math.round(o.value)}`).join(", ")} (released after ${analysisQuote.releaseAfterMs} ms)`,
  );

  // ── Owner: earnings and payout ────────────────────────────────────────────────────────────
  const earnings = (await gql(owner.token, `{ earnings { earned payable canRequestPayout currency } }`)).earnings;
  ok(
    (await gql(owner.token, `mutation { startPayoutOnboarding { __typename ... on DomainError { code message } } }`)).startPayoutOnboarding,
    "startPayoutOnboarding",
  );
  const payout = ok(
    (
      await gql(
        owner.token,
        `mutation { requestPayout { __typename ... on MutationRequestPayoutSuccess { data { amount status } } ... on DomainError { code message } } }`,
      )
    ).requestPayout,
    "requestPayout",
  );
  say(`owner earned ${earnings.earned} ${earnings.currency} and was paid out ${payout.amount} (${payout.status})`);

  // ── Regulator: export the log and verify it offline ───────────────────────────────────────
  const exported = await fetch(`${base}/audit/export.ndjson`, { headers: { authorization: `Bearer ${regulator.token}` } });
  if (exported.status !== 200) throw new Error(`audit export failed: ${exported.status}`);
  const text = await exported.text();
  const checkpoint = Buffer.from(exported.headers.get("x-audit-checkpoint") ?? "", "base64").toString("utf8");
  const vkey = (await (await fetch(`${base}/audit/key`)).text()).trim();
  const lines = text.split("\n").filter((l) => l.length > 0);
  const report = await verifyExport(lines, checkpoint, vkey);
  say(`regulator exported ${report.entries} events and verified them offline: ${report.ok ? "OK" : "FAILED"}`);
  // The trade report sums the trade.settled events the run path logged with each charge.
  const trades = (
    await gql(
      regulator.token,
      `{ auditTradeReport(period: MONTH, groupBy: OWNER) { groupId currency trades amountMinor platformFeeMinor payoutsMinor } }`,
    )
  ).auditTradeReport as Array<{
    groupId: string;
    currency: string;
    trades: number;
    amountMinor: number;
    platformFeeMinor: number;
    payoutsMinor: number;
  }>;
  // The report names owners by their account id; on a fresh exchange every trade is this owner's.
  const ownerTrades = trades.reduce(
    (s, t) => ({
      trades: s.trades + t.trades,
      amountMinor: s.amountMinor + t.amountMinor,
      platformFeeMinor: s.platformFeeMinor + t.platformFeeMinor,
      payoutsMinor: s.payoutsMinor + t.payoutsMinor,
    }),
    { trades: 0, amountMinor: 0, platformFeeMinor: 0, payoutsMinor: 0 },
  );
  say(
    `regulator's trade report: ${ownerTrades.trades} trades, ${ownerTrades.amountMinor} ${earnings.currency} (platform fee ${ownerTrades.platformFeeMinor}), paid out ${ownerTrades.payoutsMinor}`,
  );
  // The admin's reconciliation: the book balances, and its sales, fees and payouts equal the log's.
  const rec = (await gql(adminKey, `{ reconciliation { balanced log { currency agrees } } }`)).reconciliation as {
    balanced: boolean;
    log: Array<{ agrees: boolean }> | null;
  };
  const reconciled = { balanced: rec.balanced, logAgrees: (rec.log ?? []).length > 0 && (rec.log ?? []).every((l) => l.agrees) };
  say(`admin's reconciliation: ${reconciled.balanced ? "balanced" : "NOT balanced"}, ledger and log ${reconciled.logAgrees ? "agree" : "DISAGREE"}`);
  return {
    trades: {
      count: ownerTrades.trades,
      amountMinor: ownerTrades.amountMinor,
      platformFeeMinor: ownerTrades.platformFeeMinor,
      payoutsMinor: ownerTrades.payoutsMinor,
    },
    reconciled,
    earned: earnings.earned,
    listingId: listing.id,
    answerGroups: answer.groups.length,
    charged: answer.charged,
    analysis: { outputs: analysisRun.outputs, charged: analysisRun.charged },
    payout: { amount: payout.amount, status: payout.status },
    auditEntries: report.entries,
    verified: report.ok,
  };
}

if (import.meta.main) {
  const [base, adminKey] = process.argv.slice(2);
  if (!base || !adminKey) {
    console.error("usage: node examples/walkthrough.ts <base URL, e.g. http://127.0.0.1:4000> <admin API key>");
    process.exit(2);
  }
  const result = await runWalkthrough(base, adminKey);
  console.log(JSON.stringify(result, null, 2));
}
