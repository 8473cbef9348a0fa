/** declarePrivacyPolicy: the dataset's owner declares (or changes) its policy; a new version each time. */
import { builder } from "../../../graphql/builder.ts";
import { InvalidInput, NotFound } from "../../../errors.ts";
import { BudgetBelowSpent, DatasetNotReady } from "../errors.ts";
import { ColumnTypeEnum, PrivacyAggregateEnum, PrivacyPolicyRef, SizeBucketEnum } from "./policy.ts";
import { dropNulls } from "./drop-nulls.ts";
import type { DeclarePolicyInput } from "../service.ts";

const PolicyDimensionInput = builder.inputType("PolicyDimensionInput", {
  description: "Give exactly one of keys, edges, dateEdges or derivedKeys: true.",
  fields: (t) => ({
    column: t.string({ required: true }),
    keys: t.stringList({ description: "Public key set (string, int or boolean columns), declared by you, never read off the data." }),
    edges: t.floatList({ description: "Bucket edges for int/float columns, strictly increasing: buckets [e_i, e_{i+1})." }),
    dateEdges: t.stringList({ description: "Bucket edges for date (2024-01-31) or timestamp (ISO-8601) columns, strictly increasing." }),
    derivedKeys: t.boolean({
      description:
        "String columns only: group keys are the values found in the data (at most 1000 distinct). A group is released only when it " +
        "has at least minGroupSize units and its noisy unit count passes a threshold τ (δ = 1e-7); the others are absent from answers.",
    }),
  }),
});

const PolicyMeasureInput = builder.inputType("PolicyMeasureInput", {
  fields: (t) => ({
    column: t.string({ required: true, description: "An int or float column." }),
    lo: t.float({ required: true, description: "Lower bound: smaller values count as lo." }),
    hi: t.float({ required: true, description: "Upper bound (greater than lo): larger values count as hi." }),
  }),
});

const PublicColumnInput = builder.inputType("PublicColumnInput", {
  description: "How buyers see one column: declared by you, checked against the dataset version (never inferred from the values).",
  fields: (t) => ({
    name: t.string({ required: true }),
    type: t.field({ type: ColumnTypeEnum, required: true, description: "Must be the type the column is stored as." }),
    nullable: t.boolean({ description: "Whether values may be empty; default true. false is refused if the version has an empty value." }),
    description: t.string({ description: "What the column means (at most 500 characters)." }),
  }),
});

const PublicSizeInput = builder.inputType("PublicSizeInput", {
  description: "Give exactly one: the exact number of rows, or a size bucket. Checked against the dataset version.",
  fields: (t) => ({
    exactRows: t.int(),
    bucket: t.field({ type: SizeBucketEnum }),
  }),
});

const PublicFactsInput = builder.inputType("PublicFactsInput", {
  description:
    "What you make public about the data besides the policy. Buyers see column types and a size only where you declare them; " +
    "prices per million rows use the declared size (its bucket's bound), and the answer's release moment is fixed from it.",
  fields: (t) => ({
    columns: t.field({ type: [PublicColumnInput] }),
    size: t.field({ type: PublicSizeInput, description: "Leave out to publish no size." }),
  }),
});

const DeclarePrivacyPolicyInput = builder.inputType("DeclarePrivacyPolicyInput", {
  fields: (t) => ({
    datasetId: t.globalID({ required: true }),
    checkAgainstVersion: t.int({ description: "Dataset version whose schema to check against; the latest when omitted." }),
    privacyUnit: t.string({ required: true, description: "The string or int column identifying one person or entity." }),
    dimensions: t.field({ type: [PolicyDimensionInput], required: true }),
    measures: t.field({ type: [PolicyMeasureInput], required: true }),
    aggregates: t.field({ type: [PrivacyAggregateEnum], required: true }),
    minGroupSize: t.int({ description: "k, at least 2; default 10." }),
    epsilonPerQuery: t.field({ type: "Epsilon", description: "Greater than 0, at most 1.0; default 0.1." }),
    buyerEpsilonBudget: t.field({ type: "Epsilon", description: "Default 2; at least epsilonPerQuery." }),
    datasetEpsilonBudget: t.field({ type: "Epsilon", description: "Default 10; at least buyerEpsilonBudget." }),
    maxGroupsPerUnit: t.int({ description: "Default 1." }),
    maxRowsPerUnit: t.int({ description: "Rows of one unit counted per group (1–10000); default 100." }),
    note: t.string({ description: "Why the policy changed (shown to you only)." }),
    publicFacts: t.field({ type: PublicFactsInput, description: "Declared schema and size buyers may see; none when omitted." }),
  }),
});

builder.mutationField("declarePrivacyPolicy", (t) =>
  t.field({
    type: PrivacyPolicyRef,
    description:
      "Declares or changes the privacy policy of one of your datasets. Each call makes a new version; " +
      "a budget can never go below the ε already spent. Bad input changes nothing.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, BudgetBelowSpent, DatasetNotReady] },
    args: { input: t.arg({ type: DeclarePrivacyPolicyInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.datasetId.typename !== "Dataset") throw new NotFound("dataset");
      const { datasetId, ...rest } = dropNulls(input);
      // Shapes and ranges are checked by the service (zod); nulls mean "use the default".
      return ctx.services.policies.declare(ctx.principal!.account._id, { ...rest, datasetId: datasetId.id } as DeclarePolicyInput);
    },
  }),
);
