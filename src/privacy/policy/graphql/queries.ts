/** An owner reads the policy of their own dataset, current or any earlier version. */
import { builder } from "../../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../../graphql/connections.ts";
import { encodeCursor } from "../../../store/cursor.ts";
import { NotFound } from "../../../errors.ts";
import { PrivacyPolicyRef } from "./policy.ts";

builder.queryField("privacyPolicy", (t) =>
  t.field({
    type: PrivacyPolicyRef,
    nullable: true,
    description: "The current policy of one of your datasets (or a given version); null when none is declared.",
    authScopes: { owner: true },
    errors: { types: [NotFound] },
    args: { datasetId: t.arg.globalID({ required: true }), version: t.arg.int() },
    resolve: async (_root, { datasetId, version }, ctx) => {
      if (datasetId.typename !== "Dataset") throw new NotFound("dataset");
      const policies = ctx.services.policies;
      await policies.assertOwner(ctx.principal!.account._id, datasetId.id);
      return version == null ? policies.current(datasetId.id) : policies.version(datasetId.id, version);
    },
  }),
);

builder.queryField("privacyPolicyHistory", (t) =>
  t.connection({
    type: PrivacyPolicyRef,
    description: "Every version of one of your datasets' policy, newest first (empty for a dataset that is not yours).",
    authScopes: { owner: true },
    args: { datasetId: t.arg.globalID({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const empty = { items: [], nextCursor: null };
      if (args.datasetId.typename !== "Dataset") return toConnection(empty, () => "", after);
      const policies = ctx.services.policies;
      try {
        await policies.assertOwner(ctx.principal!.account._id, args.datasetId.id);
      } catch (e) {
        if (e instanceof NotFound) return toConnection(empty, () => "", after);
        throw e;
      }
      const page = await policies.history(args.datasetId.id, first, after);
      return toConnection(page, (p) => encodeCursor([["version", -1]], p), after);
    },
  }),
);
