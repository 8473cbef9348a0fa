/**
 * A quote's id: what was quoted (listing, version, query, ε, price, cached or not) in one
 * string, so a run can say which quote it accepts without the server keeping quotes. A run
 * that names a quote id re-quotes; if anything that sets the price changed, it gets
 * PRICE_CHANGED (with the quoted and the current amount) before anything is held or spent.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { PriceChanged } from "../billing/index.ts";
import { InvalidInput } from "../errors.ts";

export interface QuotedFacts {
  buyerId: string;
  listingId: string;
  versionId: string;
  queryHash: string;
  epsilon: string;
  amount: number;
  currency: string;
  cached: boolean;
}

export function quoteIdOf(f: QuotedFacts): string {
  const digest = createHash("sha256").update(canonicalize(f)!).digest("base64url").slice(0, 22);
  return `qt_${f.amount}_${digest}`;
}

/** Refuses a run whose named quote is not the quote it would get now. */
export function assertSameQuote(given: string | null | undefined, current: string): void {
  if (!given || given === current) return;
  const m = /^qt_(\d{1,16})_[A-Za-z0-9_-]{22}$/.exec(given);
  if (!m) throw new InvalidInput([{ path: "input.quoteId", message: "is not a quote id (ask quoteQuery or quoteAnalysis for one)" }]);
  throw new PriceChanged(Number(m[1]), Number(/^qt_(\d+)_/.exec(current)![1]));
}
