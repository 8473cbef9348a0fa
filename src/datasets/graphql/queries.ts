import { builder } from "../../graphql/builder.ts";
import { NotFound } from "../../errors.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { encodeCursor } from "../../store/cursor.ts";
import { DatasetRef, UploadJobRef } from "./refs.ts";

builder.queryField("dataset", (t) =>
  t.field({
    type: DatasetRef,
    description: "One of your datasets.",
    authScopes: { owner: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      if (id.typename !== "Dataset") throw new NotFound("dataset");
      return ctx.services.datasets.getOwnedDataset(ctx.principal!.account._id, id.id);
    },
  }),
);

builder.queryField("datasets", (t) =>
  t.connection({
    type: DatasetRef,
    description: "Your datasets, newest first.",
    authScopes: { owner: true },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const page = await ctx.services.datasets.listDatasets(ctx.principal!.account._id, first, after);
      return toConnection(page, (d) => encodeCursor([["createdAt", -1]], d), after);
    },
  }),
);

builder.queryField("uploadJob", (t) =>
  t.field({
    type: UploadJobRef,
    description: "One of your uploads: its state, rows and bytes done, and the error if it failed.",
    authScopes: { owner: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      if (id.typename !== "UploadJob") throw new NotFound("upload job");
      return ctx.services.datasets.getOwnedUploadJob(ctx.principal!.account._id, id.id);
    },
  }),
);
