/**
 * Lets a regulator filter the audit log by what people know — a listing's title, an account's
 * email — or by the global ids the API shows, instead of internal ids. The log itself holds ids
 * only (never emails or titles), so names are resolved here, at query time, through the catalog's
 * search and the account list, into the ids the events carry.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import type { Filter } from "../../store/port.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import { codedError } from "../../graphql/coded-error.ts";

export interface NameFilter {
  /** A listing title (Chinese or English words, as searchListings matches them). */
  listing?: string | null;
  /** An email, or part of one (case-insensitive). */
  account?: string | null;
  /** A listing's global id (as the API shows it). */
  listingId?: string | null;
  /** An account's global id. */
  accountId?: string | null;
}

/** How many listings a title may match, and accounts a scan may read, before we ask for a narrower name. */
const MAX_LISTINGS = 50;
const MAX_ACCOUNTS_SCANNED = 10_000;
const NOTHING: Filter = { seq: -1 };

function rawFrom(globalId: string, typename: string, field: string): string {
  try {
    const decoded = decodeGlobalID(globalId);
    if (decoded.typename === typename && decoded.id) return decoded.id;
  } catch {
    // fall through to the error below
  }
  throw codedError("BAD_USER_INPUT", `filter.${field} must be a ${typename} id as the API shows it`);
}

/** Listings whose title matches: their ids and their datasets' ids (uploads and policies are about the dataset). */
async function listingSubjects(ctx: GraphQLContext, name: string): Promise<string[]> {
  const found = await ctx.services.catalog.search({ query: name, first: MAX_LISTINGS });
  return found.hits.flatMap((h) => [h.listing._id, h.listing.datasetId]);
}

/** Accounts whose email holds the text. The account list is scanned: emails are not indexed for search. */
async function accountIds(ctx: GraphQLContext, text: string): Promise<string[]> {
  const needle = text.trim().toLowerCase();
  const ids: string[] = [];
  let after: string | null = null;
  for (let scanned = 0; scanned < MAX_ACCOUNTS_SCANNED; ) {
    const page = await ctx.services.accounts.listAccounts(100, after);
    for (const a of page.items) if (a.email.toLowerCase().includes(needle)) ids.push(a._id);
    scanned += page.items.length;
    if (!page.nextCursor) return ids;
    after = page.nextCursor;
  }
  throw codedError("BAD_USER_INPUT", "filter.account: too many accounts to scan; give the account's id (filter.accountId)");
}

/** The store conditions for the name and global-id filters, or null when none is set. */
export async function nameConditions(ctx: GraphQLContext, f: NameFilter | null | undefined): Promise<Filter | null> {
  if (!f) return null;
  const and: Filter[] = [];
  const listing = f.listing?.trim();
  if (listing) {
    const ids = await listingSubjects(ctx, listing.slice(0, 200));
    and.push(ids.length === 0 ? NOTHING : { $or: ids.map((id) => ({ subjectIds: { $contains: id } })) });
  }
  if (f.listingId) {
    const id = rawFrom(f.listingId, "Listing", "listingId");
    and.push({ subjectIds: { $contains: id } });
  }
  const account = f.account?.trim();
  if (account) {
    const ids = await accountIds(ctx, account.slice(0, 320));
    and.push(ids.length === 0 ? NOTHING : { $or: [{ actor: { $in: ids } }, ...ids.map((id) => ({ subjectIds: { $contains: id } }))] });
  }
  if (f.accountId) {
    const id = rawFrom(f.accountId, "Account", "accountId");
    and.push({ $or: [{ actor: id }, { subjectIds: { $contains: id } }] });
  }
  return and.length === 0 ? null : { $and: and };
}
