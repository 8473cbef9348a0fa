/** The public face of src/billing: other modules import from here only. */
export { IdempotencyConflict, InsufficientCredit, PriceChanged } from "./errors.ts";

export { BillingService } from "./service.ts";
export type { HoldForQueryInput } from "./holds.ts";
export { DEFAULT_BILLING_CONFIG } from "./config.ts";
import type { BillingService as BillingServiceType } from "./service.ts";

declare module "../graphql/context.ts" {
  interface ExchangeServices {
    billing: BillingServiceType;
  }
}
export type { ListingPriceLookup } from "./service.ts";
export type { LoggedTradeTotals, TradeLogTotals } from "./log-reconciliation.ts";
