/** The privacy budget ledger: what other modules use. */
export { PrivacyBudgetService } from "./service.ts";
export type { AnswerRequest, Answered, BuyerBudgetView, CachedAnswer, CapView, Debited, DebitRequest, RecoveryReport } from "./service.ts";
export { BudgetDebitConflict, BudgetExhausted, QueryInProgress } from "./errors.ts";
export { BUDGET_ACTIONS } from "./ledger.ts";
export { policyCaps, policyEpsilonMicro, type BudgetCaps, type BudgetDirectory } from "./directory.ts";
export { canonicalQueryHash } from "./query-hash.ts";
export { formatMicro, microToEpsilon, toMicro } from "./micro.ts";

import type { PrivacyBudgetService as PrivacyBudgetServiceType } from "./service.ts";

declare module "../../graphql/context.ts" {
  interface ExchangeServices {
    privacyBudget: PrivacyBudgetServiceType;
  }
}
