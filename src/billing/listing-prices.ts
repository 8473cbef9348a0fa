/** Adapts the catalog's listing look-up to what billing needs (owner, price plan, published), without importing the catalog. */
import type { PricePlan } from "../../pricing/index.ts";
import type { ListingPriceLookup } from "./service.ts";

export function listingPricesFrom(catalog: {
  findListing(listingId: string): Promise<{ ownerId: string; pricePlan: PricePlan; status: string } | null>;
}): ListingPriceLookup {
  return async (listingId) => {
    const l = await catalog.findListing(listingId);
    return l ? { ownerId: l.ownerId, plan: l.pricePlan, published: l.status === "PUBLISHED" } : null;
  };
}
