/** Buyers submit and revise analyses; owners approve, deny or revoke them. */
import { builder } from "../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { PolicyViolation } from "../../queries/index.ts";
import { ANALYSIS_DECISIONS } from "../service.ts";
import { AnalysisConflict } from "../errors.ts";
import { AnalysisRef } from "./analysis.ts";

const AnalysisDecisionEnum = builder.enumType("AnalysisDecision", { values: ANALYSIS_DECISIONS });

const AnalysisOutputInput = builder.inputType("AnalysisOutputInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    lo: t.float({ required: true }),
    hi: t.float({ required: true }),
    default: t.float({ description: "What a unit whose code fails contributes; within [lo, hi]; default: 0 clamped into the range." }),
  }),
});

const SubmitAnalysisInput = builder.inputType("SubmitAnalysisInput", {
  fields: (t) => ({
    listingId: t.globalID({ required: true }),
    title: t.string({ required: true }),
    source: t.string({
      required: true,
      description: "JavaScript defining `function map(rows)` that returns an array of d numbers (at most 64 KiB).",
    }),
    columns: t.stringList({ required: true, description: "Columns each row gets: the policy's dimensions and measures only." }),
    outputs: t.field({ type: [AnalysisOutputInput], required: true, description: "The d outputs (1–32), in the order map returns them." }),
  }),
});

const ReviseAnalysisInput = builder.inputType("ReviseAnalysisInput", {
  description: "A new revision; fields left out stay as in the latest revision.",
  fields: (t) => ({
    analysisId: t.globalID({ required: true }),
    source: t.string(),
    columns: t.stringList(),
    outputs: t.field({ type: [AnalysisOutputInput] }),
  }),
});

const DecideAnalysisInput = builder.inputType("DecideAnalysisInput", {
  fields: (t) => ({
    analysisId: t.globalID({ required: true }),
    codeHash: t.string({ required: true, description: "The hash of the revision you reviewed (`latest.codeHash`)." }),
    decision: t.field({ type: AnalysisDecisionEnum, required: true }),
    reason: t.string({ description: "Why; required to DENY." }),
  }),
});

const RevokeAnalysisInput = builder.inputType("RevokeAnalysisApprovalInput", {
  fields: (t) => ({ analysisId: t.globalID({ required: true }), reason: t.string({ required: true }) }),
});

export function analysisId(id: { typename: string; id: string }): string {
  if (id.typename !== "Analysis") throw new NotFound("analysis");
  return id.id;
}

const outputs = (list: ReadonlyArray<{ name: string; lo: number; hi: number; default?: number | null }>) =>
  list.map((o) => ({ name: o.name, lo: o.lo, hi: o.hi, default: o.default ?? null }));

builder.mutationField("submitAnalysis", (t) =>
  t.field({
    type: AnalysisRef,
    description: "Submits analysis code for a listing you have access to; it runs once the listing's owner approves it.",
    authScopes: { buyer: true },
    errors: { types: [NotFound, InvalidInput, PolicyViolation] },
    args: { input: t.arg({ type: SubmitAnalysisInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.listingId.typename !== "Listing") throw new NotFound("listing");
      return ctx.services.analyses.submit(ctx.principal!.account._id, {
        listingId: input.listingId.id,
        title: input.title,
        source: input.source,
        columns: input.columns,
        outputs: outputs(input.outputs),
      });
    },
  }),
);

builder.mutationField("reviseAnalysis", (t) =>
  t.field({
    type: AnalysisRef,
    description: "Changes your analysis: a new revision that needs the owner's approval (runs keep using the approved one).",
    authScopes: { buyer: true },
    errors: { types: [NotFound, InvalidInput, AnalysisConflict] },
    args: { input: t.arg({ type: ReviseAnalysisInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.analyses.revise(ctx.principal!.account._id, {
        analysisId: analysisId(input.analysisId),
        ...(input.source != null ? { source: input.source } : {}),
        ...(input.columns != null ? { columns: input.columns } : {}),
        ...(input.outputs != null ? { outputs: outputs(input.outputs) } : {}),
      }),
  }),
);

builder.mutationField("decideAnalysis", (t) =>
  t.field({
    type: AnalysisRef,
    description: "Approves or denies the latest revision of an analysis on one of your listings, named by the hash you reviewed.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, AnalysisConflict] },
    args: { input: t.arg({ type: DecideAnalysisInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.analyses.decide(ctx.principal!.account._id, {
        analysisId: analysisId(input.analysisId),
        codeHash: input.codeHash,
        decision: input.decision,
        reason: input.reason ?? null,
      }),
  }),
);

builder.mutationField("revokeAnalysisApproval", (t) =>
  t.field({
    type: AnalysisRef,
    description: "Withdraws your approval of an analysis: it cannot run until a revision is approved again.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, AnalysisConflict] },
    args: { input: t.arg({ type: RevokeAnalysisInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.analyses.revoke(ctx.principal!.account._id, { analysisId: analysisId(input.analysisId), reason: input.reason }),
  }),
);
