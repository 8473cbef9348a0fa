/** Buyers see their analyses; owners see the analyses submitted for their listings. */
import { builder } from "../../graphql/builder.ts";
import { pageRequest, toConnection } from "../../graphql/connections.ts";
import { NotFound } from "../../errors.ts";
import { AnalysisRef, AnalysisStatusEnum } from "./analysis.ts";
import { analysisId } from "./mutations.ts";

builder.queryField("analysis", (t) =>
  t.field({
    type: AnalysisRef,
    description: "One analysis: yours as its author, or one submitted for your listing.",
    authScopes: { signedIn: true },
    errors: { types: [NotFound] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.analyses.get(analysisId(id), ctx.principal!.account._id),
  }),
);

builder.queryField("myAnalyses", (t) =>
  t.connection({
    type: AnalysisRef,
    description: "Your analyses, most recently changed first.",
    authScopes: { buyer: true },
    args: { status: t.arg({ type: AnalysisStatusEnum }) },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const analyses = ctx.services.analyses;
      const page = await analyses.listForBuyer(ctx.principal!.account._id, args.status ?? null, first, after);
      return toConnection(page, (a) => analyses.cursorOf(a), after);
    },
  }),
);

builder.queryField("analysesForMyListings", (t) =>
  t.connection({
    type: AnalysisRef,
    description: "Analyses submitted for your listings, most recently changed first; PENDING_REVIEW ones wait for you.",
    authScopes: { owner: true },
    args: { status: t.arg({ type: AnalysisStatusEnum }) },
    resolve: async (_root, args, ctx) => {
      const { first, after } = pageRequest(args);
      const analyses = ctx.services.analyses;
      const page = await analyses.listForOwner(ctx.principal!.account._id, args.status ?? null, first, after);
      return toConnection(page, (a) => analyses.cursorOf(a), after);
    },
  }),
);
