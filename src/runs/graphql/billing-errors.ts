/** Billing failures a query run can return (their GraphQL types are registered by src/billing/graphql). */
import { IdempotencyConflict, InsufficientCredit, PriceChanged } from "../../billing/index.ts";

export const BILLING_QUERY_ERRORS = [InsufficientCredit, PriceChanged, IdempotencyConflict] as const;
