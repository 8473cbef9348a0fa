/**
 * The narrow ports one module gives another, built here from their public services so that no
 * module imports the other's internals. Each is handed over at construction.
 */
import { NotFound } from "../errors.ts";
import type { CatalogService } from "../catalog/index.ts";
import type { PrivacyPolicyService } from "../privacy/policy/index.ts";
import { policyCaps, type BudgetDirectory } from "../privacy/budget/index.ts";
import type { ListingPriceLookup } from "../billing/index.ts";

/** The privacy budget's read side: caps from the current policy, ownership, what is on sale. */
export function budgetDirectory(policies: () => PrivacyPolicyService, catalog: () => CatalogService): BudgetDirectory {
  return {
    async caps(datasetId) {
      const policy = await policies().current(datasetId);
      return policy ? policyCaps(policy) : null;
    },
    assertOwner: (accountId, datasetId) => policies().assertOwner(accountId, datasetId),
    async datasetOfListing(listingId) {
      const listing = await catalog().findListing(listingId);
      if (!listing || listing.status !== "PUBLISHED") throw new NotFound("listing");
      return listing.datasetId;
    },
    async onSale(datasetId) {
      return (await catalog().publishedListingsOf(datasetId)).length > 0;
    },
  };
}

/** For the policy module: the dataset versions that published listings sell. */
export function versionsInUse(catalog: () => CatalogService): (datasetId: string) => Promise<number[]> {
  return async (datasetId) => [...new Set((await catalog().publishedListingsOf(datasetId)).map((l) => l.datasetVersion))];
}

/** For billing (subscriptions): a listing's owner, price plan and whether it is published. */
export function listingPrices(catalog: CatalogService): ListingPriceLookup {
  return async (listingId) => {
    const l = await catalog.findListing(listingId);
    return l ? { ownerId: l.ownerId, datasetId: l.datasetId, plan: l.pricePlan, published: l.status === "PUBLISHED" } : null;
  };
}
