/** For budget tests that never read the budget's GraphQL side: a directory that refuses every call. */
import type { BudgetDirectory } from "../../src/privacy/budget/index.ts";

const refuse = async (): Promise<never> => {
  throw new Error("this test wires no budget read side (caps, owners, listings)");
};

export const NO_READ_SIDE: BudgetDirectory = { caps: refuse, assertOwner: refuse, datasetOfListing: refuse, onSale: refuse };
