/** Buyers read their own budget on a dataset (by dataset or listing); owners their dataset's global one. */
import { builder } from "../../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../../errors.ts";
import { DatasetPrivacyBudgetRef, PrivacyBudgetRef } from "./budget.ts";

builder.queryField("privacyBudget", (t) =>
  t.field({
    type: PrivacyBudgetRef,
    description: "Your remaining ε on a dataset, given by its id or by a listing of it (exactly one).",
    authScopes: { buyer: true },
    errors: { types: [NotFound, InvalidInput] },
    args: { datasetId: t.arg.globalID(), listingId: t.arg.globalID() },
    resolve: async (_root, { datasetId, listingId }, ctx) => {
      if ((datasetId == null) === (listingId == null)) {
        throw new InvalidInput([{ path: "datasetId", message: "give exactly one of datasetId and listingId" }]);
      }
      const budget = ctx.services.privacyBudget;
      const directory = budget.requireDirectory();
      const buyerId = ctx.principal!.account._id;
      let dataset: string;
      if (listingId) {
        if (listingId.typename !== "Listing") throw new NotFound("listing");
        dataset = await directory.datasetOfListing(listingId.id);
      } else {
        if (datasetId!.typename !== "Dataset") throw new NotFound("dataset");
        dataset = datasetId!.id;
        // A dataset not on sale shows nothing, unless this buyer has spent on it before.
        const spent = await budget.spent({ buyerId, datasetId: dataset });
        if (spent.buyer.debits === 0 && !(await directory.onSale(dataset))) throw new NotFound("dataset");
      }
      return { ...(await budget.remaining({ buyerId, datasetId: dataset })), buyerId };
    },
  }),
);

builder.queryField("datasetPrivacyBudget", (t) =>
  t.field({
    type: DatasetPrivacyBudgetRef,
    description: "The global ε budget of one of your datasets: spent by all buyers together, and what is left.",
    authScopes: { owner: true },
    errors: { types: [NotFound] },
    args: { datasetId: t.arg.globalID({ required: true }) },
    resolve: async (_root, { datasetId }, ctx) => {
      if (datasetId.typename !== "Dataset") throw new NotFound("dataset");
      const budget = ctx.services.privacyBudget;
      const ownerId = ctx.principal!.account._id;
      await budget.requireDirectory().assertOwner(ownerId, datasetId.id);
      return { ...(await budget.globalRemaining(datasetId.id, null, ownerId)), datasetId: datasetId.id, ownerId };
    },
  }),
);
