/**
 * Catalog search: filters and orders published listings, on both store adapters.
 *
 * Without a text query, filtering, sorting and paging are done by the store itself (keyset
 * cursors over indexed sort fields), so they scale with the store.
 *
 * With a text query, the store finds candidates that hold ANY query term (`$or` of `$contains`
 * on the listing's `searchTerms`, plus the filters), newest first, at most CANDIDATE_LIMIT of
 * them; the service then keeps those holding enough of the terms, scores them (title > tags >
 * description, whole-phrase bonus) and pages through them with its own keyset cursor. Limits:
 * only the newest CANDIDATE_LIMIT matching listings are ranked (narrow with filters beyond
 * that); on SQLite `$contains` scans the published listings' term arrays (fine to tens of
 * thousands of listings); on MongoDB it is a scan too unless a multikey index on searchTerms
 * is added.
 */
import type { Filter, Sort, Stored } from "../store/port.ts";
import type { Category, Listing } from "./model.ts";
import { compact, indexTerms, queryTerms } from "./search-terms.ts";

export const SEARCH_SORTS = ["RELEVANCE", "NEWEST", "PRICE_ASC", "PRICE_DESC"] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];

export const CANDIDATE_LIMIT = 500;
export const MAX_QUERY_LENGTH = 200;

export interface SearchFilters {
  category?: Category | null;
  /** Every one of these tags. */
  tags?: string[] | null;
  /** Bounds on the indicative query price (minor units), inclusive. */
  minPrice?: number | null;
  maxPrice?: number | null;
  /** The currency prices are compared in (ISO 4217, e.g. "cny"); "cny" when a price bound is given without one. */
  currency?: string | null;
  /** Only listings that cost nothing. */
  freeOnly?: boolean | null;
  /** Only listings with a free tier. */
  withFreeTier?: boolean | null;
}

/** The store filter for published listings matching `f`. */
export function storeFilter(f: SearchFilters): Filter {
  const and: Filter[] = [{ status: "PUBLISHED" }];
  if (f.category) and.push({ category: f.category });
  for (const tag of f.tags ?? []) and.push({ tags: { $contains: normaliseTag(tag) } });
  if (f.minPrice != null || f.maxPrice != null) {
    and.push({ "pricePlan.currency": (f.currency ?? "cny").toLowerCase() });
    const range: { $gte?: number; $lte?: number } = {};
    if (f.minPrice != null) range.$gte = f.minPrice;
    if (f.maxPrice != null) range.$lte = f.maxPrice;
    and.push({ indicativeQueryPrice: range });
  } else if (f.currency) {
    and.push({ "pricePlan.currency": f.currency.toLowerCase() });
  }
  if (f.freeOnly) and.push({ free: true });
  if (f.withFreeTier) and.push({ hasFreeTier: true });
  return { $and: and };
}

export function normaliseTag(tag: string): string {
  return tag.normalize("NFKC").trim().toLowerCase();
}

/** Store sort for browsing without a text query. */
export function storeSort(sort: SearchSort): Sort {
  switch (sort) {
    case "PRICE_ASC":
      return [
        ["indicativeQueryPrice", 1],
        ["publishedAt", -1],
      ];
    case "PRICE_DESC":
      return [
        ["indicativeQueryPrice", -1],
        ["publishedAt", -1],
      ];
    default:
      return [["publishedAt", -1]];
  }
}

/** A text query's terms, and how many of them a listing must hold to match. */
export function parseQuery(query: string): { terms: string[]; phrase: string; mustMatch: number } {
  const terms = queryTerms(query.slice(0, MAX_QUERY_LENGTH));
  // Short queries need every term; longer ones 60% of them, so one odd pair does not sink a hit.
  const mustMatch = terms.length <= 2 ? terms.length : Math.ceil(terms.length * 0.6);
  return { terms, phrase: compact(query.slice(0, MAX_QUERY_LENGTH)), mustMatch };
}

export interface Scored {
  listing: Stored<Listing>;
  score: number;
}

/** Scores one candidate, or null when it holds too few of the terms. */
export function scoreListing(listing: Stored<Listing>, q: ReturnType<typeof parseQuery>): Scored | null {
  const title = `${listing.title.zh} ${listing.title.en}`;
  const description = `${listing.description.zh} ${listing.description.en}`;
  const inTitle = new Set(indexTerms(title));
  const inTags = new Set(indexTerms(listing.tags.join(" ")));
  const inDescription = new Set(indexTerms(description));
  let matched = 0;
  let score = 0;
  for (const t of q.terms) {
    const w = inTitle.has(t) ? 3 : inTags.has(t) ? 2 : inDescription.has(t) ? 1 : 0;
    if (w > 0) matched++;
    score += w;
  }
  if (matched < q.mustMatch || matched === 0) return null;
  if (q.phrase.length > 0) {
    if (compact(title).includes(q.phrase)) score += 5;
    else if (compact(description).includes(q.phrase)) score += 1;
  }
  return { listing, score };
}

type Key = Array<string | number>;

/** The total order of ranked results for a sort: always ends in `_id` so it is strict. */
export function rankKey(s: Scored, sort: SearchSort): Key {
  const l = s.listing;
  switch (sort) {
    case "NEWEST":
      return [l.publishedAt, l._id];
    case "PRICE_ASC":
    case "PRICE_DESC":
      return [l.indicativeQueryPrice, l.publishedAt, l._id];
    default:
      return [s.score, l.publishedAt, l._id];
  }
}

/** Direction of each rank key component: 1 ascending, -1 descending. */
function directions(sort: SearchSort): Array<1 | -1> {
  switch (sort) {
    case "NEWEST":
      return [-1, 1];
    case "PRICE_ASC":
      return [1, -1, 1];
    case "PRICE_DESC":
      return [-1, -1, 1];
    default:
      return [-1, -1, 1];
  }
}

export function compareKeys(a: Key, b: Key, sort: SearchSort): number {
  const dirs = directions(sort);
  for (let i = 0; i < dirs.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -dirs[i]!;
    if (x > y) return dirs[i]!;
  }
  return 0;
}

/** Orders ranked results and returns the page after `afterKey`. */
export function pageRanked(results: Scored[], sort: SearchSort, first: number, afterKey: Key | null): { items: Scored[]; hasNext: boolean } {
  const ordered = [...results].sort((a, b) => compareKeys(rankKey(a, sort), rankKey(b, sort), sort));
  const rest = afterKey ? ordered.filter((r) => compareKeys(rankKey(r, sort), afterKey, sort) > 0) : ordered;
  return { items: rest.slice(0, first), hasNext: rest.length > first };
}
