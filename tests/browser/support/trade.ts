/**
 * Makes trades as the demo buyer through the typed client (web/client), so the regulator has
 * something to see: quote the taxi listing, then run each query at the quoted price. Six distinct
 * queries, because the listing's free tier (5 queries) settles no trade.
 */
import { createClient } from "../../../web/client/request.ts";
import { graphql } from "../../../web/client/graphql.ts";

const Find = graphql(`
  query FindTaxi { searchListings(query: "出租车", first: 1) { edges { node { id } } } }
`);
const Quote = graphql(`
  query QuoteTaxi($input: QueryInput!) {
    quoteQuery(input: $input) { __typename ... on QueryQuoteQuerySuccess { data { price { amount } } } ... on DomainError { message } }
  }
`);
const Run = graphql(`
  mutation RunTaxi($input: RunQueryInput!) {
    runQuery(input: $input) { __typename ... on MutationRunQuerySuccess { data { groups { key { value } } } } ... on DomainError { message } }
  }
`);

export async function makeTrade(baseUrl: string, buyerKey: string): Promise<void> {
  const gql = createClient({ baseUrl, token: buyerKey });
  const listingId = (await gql(Find)).searchListings.edges[0]?.node.id;
  if (!listingId) throw new Error("the demo taxi listing is missing");
  for (const [i, dimension] of ["payment", "pickup_district", "dropoff_district", "hour", "airport", "payment"].entries()) {
    const query = {
      listingId,
      groupBy: [dimension],
      aggregates: [{ kind: i === 5 ? ("COUNT_UNITS" as const) : ("COUNT_ROWS" as const) }],
      epsilon: "0.1",
    };
    const { quoteQuery } = await gql(Quote, { input: query });
    if (quoteQuery.__typename !== "QueryQuoteQuerySuccess") throw new Error(`quote refused: ${JSON.stringify(quoteQuery)}`);
    const maxPrice = quoteQuery.data.price?.amount ?? 0;
    const { runQuery } = await gql(Run, { input: { query, idempotencyKey: `browser-test-trade-${i}`, maxPrice } });
    if (runQuery.__typename !== "MutationRunQuerySuccess") throw new Error(`run refused: ${JSON.stringify(runQuery)}`);
  }
}
