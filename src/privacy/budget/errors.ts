/** Expected failures of the privacy budget ledger, returned to clients as typed results. */
import { DomainError } from "../../errors.ts";
import type { CapKind } from "./model.ts";
import { formatMicro } from "./micro.ts";

/**
 * The query would take a budget past its cap. Says which cap (the buyer's own on this dataset, or
 * the dataset's global one shared by every buyer) and how much is left. Nothing was charged.
 */
export class BudgetExhausted extends DomainError {
  readonly code = "BUDGET_EXHAUSTED";
  readonly cap: CapKind;
  readonly requestedMicro: number;
  readonly remainingMicro: number;
  /** `what` names the spend in the message ("this query", "the profile"). */
  constructor(cap: CapKind, requestedMicro: number, remainingMicro: number, what = "this query") {
    const whose = cap === "BUYER" ? "your privacy budget on this dataset" : "this dataset's global privacy budget (shared by all buyers)";
    super(`${whose} has ε ${formatMicro(remainingMicro)} left; ${what} needs ε ${formatMicro(requestedMicro)}`);
    this.name = "BudgetExhausted";
    this.cap = cap;
    this.requestedMicro = requestedMicro;
    this.remainingMicro = remainingMicro;
  }
}

/** The query id was already used for a different debit (another dataset or another ε). Nothing charged. */
export class BudgetDebitConflict extends DomainError {
  readonly code = "BUDGET_DEBIT_CONFLICT";
  readonly queryId: string;
  constructor(queryId: string) {
    super(`query id ${queryId} was already used for a different privacy budget debit`);
    this.name = "BudgetDebitConflict";
    this.queryId = queryId;
  }
}

/**
 * The same query (same id, or the same canonical query on the same dataset version) is being
 * answered right now and did not finish within the wait. Nothing was charged; ask again shortly.
 */
export class QueryInProgress extends DomainError {
  readonly code = "QUERY_IN_PROGRESS";
  constructor(message = "the same query is being answered right now; ask again in a few seconds") {
    super(message);
    this.name = "QueryInProgress";
  }
}
