/** Expected failures of policy declaration, returned to clients as typed results. */
import { DomainError } from "../../errors.ts";

/** A policy change would set a budget below the ε already spent against it. Changes nothing. */
export class BudgetBelowSpent extends DomainError {
  readonly code = "BUDGET_BELOW_SPENT";
  /** "buyerEpsilonBudget" or "datasetEpsilonBudget". */
  readonly field: string;
  readonly requested: number;
  readonly spent: number;
  constructor(field: string, requested: number, spent: number) {
    super(`${field} ${requested} is below the ε already spent (${spent}); a budget can never drop below what was spent`);
    this.name = "BudgetBelowSpent";
    this.field = field;
    this.requested = requested;
    this.spent = spent;
  }
}

/** The dataset has no committed version yet, so there is no schema to check a policy against. */
export class DatasetNotReady extends DomainError {
  readonly code = "DATASET_NOT_READY";
  constructor(message = "the dataset has no uploaded version yet; upload data before declaring a policy") {
    super(message);
    this.name = "DatasetNotReady";
  }
}
