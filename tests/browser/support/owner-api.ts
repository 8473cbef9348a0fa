/**
 * What the buyer does through the API (the typed client) for the owner's browser test to see:
 * ask for access to the owner's new listing, and revise the demo analysis so that a revision
 * waits for review with a diff against the approved one.
 */
import { createClient } from "../../../web/client/request.ts";
import { graphql } from "../../../web/client/graphql.ts";

const OwnerListings = graphql(`
  query TestOwnerListings { myListings(first: 50) { edges { node { id status title { en zh } } } } }
`);
const AskAccess = graphql(`
  mutation TestRequestAccess($input: RequestAccessInput!) {
    requestAccess(input: $input) { __typename ... on MutationRequestAccessSuccess { data { status } } ... on DomainError { message } }
  }
`);
const MyAnalyses = graphql(`
  query TestMyAnalyses { myAnalyses(first: 5) { edges { node { id latest { source } } } } }
`);
const Revise = graphql(`
  mutation TestReviseAnalysis($input: ReviseAnalysisInput!) {
    reviseAnalysis(input: $input) { __typename ... on MutationReviseAnalysisSuccess { data { status } } ... on DomainError { message } }
  }
`);

/** The buyer asks for access to the owner's published listing titled `title` (English). */
export async function buyerRequestsAccess(baseUrl: string, ownerKey: string, buyerKey: string, title: string, purpose: string): Promise<void> {
  const owner = createClient({ baseUrl, token: ownerKey });
  const listing = (await owner(OwnerListings)).myListings.edges.find((e) => e.node.title.en === title)?.node;
  if (!listing || listing.status !== "PUBLISHED") throw new Error(`no published listing titled ${title}`);
  const buyer = createClient({ baseUrl, token: buyerKey });
  const { requestAccess } = await buyer(AskAccess, { input: { listingId: listing.id, purpose } });
  if (requestAccess.__typename !== "MutationRequestAccessSuccess") throw new Error(`access refused: ${JSON.stringify(requestAccess)}`);
  if (requestAccess.data.status !== "PENDING") throw new Error(`expected a pending request, got ${requestAccess.data.status}`);
}

/** The buyer changes the approved demo analysis: one line added, so the owner has a revision to review. */
export async function buyerRevisesAnalysis(baseUrl: string, buyerKey: string, addedLine: string): Promise<void> {
  const buyer = createClient({ baseUrl, token: buyerKey });
  const analysis = (await buyer(MyAnalyses)).myAnalyses.edges[0]?.node;
  if (!analysis) throw new Error("the demo analysis is missing");
  const source = analysis.latest.source.replace("function map(rows) {", `function map(rows) {\n  ${addedLine}`);
  const { reviseAnalysis } = await buyer(Revise, { input: { analysisId: analysis.id, source } });
  if (reviseAnalysis.__typename !== "MutationReviseAnalysisSuccess") throw new Error(`revision refused: ${JSON.stringify(reviseAnalysis)}`);
}
