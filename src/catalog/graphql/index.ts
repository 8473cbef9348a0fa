/** Registers the catalog's GraphQL types and fields. */
import "./errors.ts";
import "./price-plan.ts";
import "./listing.ts";
import "./mutations.ts";
import "./queries.ts";
export { ListingRef } from "./listing.ts";
