/** The PrivacyPolicy type: public wherever the listing it belongs to is (it holds only declarations). */
import { builder } from "../../../graphql/builder.ts";
import { LiteralScalar } from "../../../graphql/literal-scalar.ts";
import type { Stored } from "../../../store/port.ts";
import { AGGREGATES, POLICY_DEFAULTS, type DimensionPolicy, type MeasurePolicy, type PrivacyPolicy } from "../model.ts";
import { ColumnTypeEnum } from "../../../datasets/graphql/index.ts";

export { ColumnTypeEnum };
import { PolicyProfileRef } from "./profile.ts";
import { SIZE_BUCKET_NAMES, publicFactsOf, publicMaxRows, publicMinRows, type PublicColumnFact, type PublicFacts } from "../public-facts.ts";

export const SizeBucketEnum = builder.enumType("SizeBucket", {
  description: "A declared size range: up to the named number of rows (and above the next smaller bucket).",
  values: SIZE_BUCKET_NAMES,
});

const PublicColumnRef = builder.objectRef<PublicColumnFact>("PublicColumn").implement({
  description: "A column as its owner declared it for buyers.",
  fields: (t) => ({
    name: t.exposeString("name"),
    type: t.field({ type: ColumnTypeEnum, resolve: (c) => c.type }),
    nullable: t.exposeBoolean("nullable"),
    description: t.exposeString("description"),
  }),
});

export const PublicSizeRef = builder.objectRef<PublicFacts>("PublicSize").implement({
  description: "The size the owner declared public: exact, or a bucket. Buyers never see another size figure.",
  fields: (t) => ({
    exactRows: t.int({ nullable: true, resolve: (f) => f.size?.exactRows ?? null }),
    bucket: t.field({ type: SizeBucketEnum, nullable: true, resolve: (f) => f.size?.bucket ?? null }),
    minRows: t.int({ description: "The smallest size the declaration allows.", resolve: (f) => publicMinRows(f) ?? 0 }),
    maxRows: t.int({
      description: "The largest size the declaration allows: what prices per million rows use.",
      resolve: (f) => publicMaxRows(f) ?? 0,
    }),
  }),
});

const PublicFactsRef = builder.objectRef<PublicFacts>("PublicFacts").implement({
  fields: (t) => ({
    columns: t.field({ type: [PublicColumnRef], resolve: (f) => f.columns }),
    size: t.field({ type: PublicSizeRef, nullable: true, resolve: (f) => (f.size ? f : null) }),
  }),
});

export const PrivacyAggregateEnum = builder.enumType("PrivacyAggregate", {
  description: "Aggregates a policy may allow. SUM, AVG and HISTOGRAM work on measure columns (clamped to their bounds).",
  values: AGGREGATES,
});

export const DimensionKindEnum = builder.enumType("PolicyDimensionKind", {
  values: {
    KEYS: { description: "Grouped by an owner-declared public key set." },
    BUCKETS: { description: "Grouped into owner-declared number buckets [e_i, e_{i+1})." },
    DATE_BUCKETS: { description: "Grouped into owner-declared date/time buckets [e_i, e_{i+1})." },
    DERIVED_KEYS: { description: "Grouped by the values found in the data; only groups that pass the k and noisy τ thresholds are released." },
  },
});

const PolicyDimensionRef = builder.objectRef<DimensionPolicy>("PolicyDimension").implement({
  description: "A column buyers may group or filter on, and the group keys they may see. Values outside them fall in no group.",
  fields: (t) => ({
    column: t.exposeString("column"),
    kind: t.field({
      type: DimensionKindEnum,
      resolve: (d) => (d.keys ? "KEYS" : d.edges ? "BUCKETS" : d.dateEdges ? "DATE_BUCKETS" : "DERIVED_KEYS"),
    }),
    derivedKeys: t.boolean({
      description: "True when group keys come from the data (released only above the thresholds), not from a declared set.",
      resolve: (d) => d.derivedKeys === true,
    }),
    keys: t.stringList({
      nullable: true,
      description: "The public key set, as text (ints and booleans written out).",
      resolve: (d) => d.keys?.map(String) ?? null,
    }),
    typedKeys: t.field({
      type: [LiteralScalar],
      nullable: true,
      description: "The public key set typed like its column (an int month is a number, as in answers); give these in `in` filters.",
      resolve: (d) => d.keys,
    }),
    edges: t.floatList({ nullable: true, resolve: (d) => d.edges }),
    dateEdges: t.stringList({ nullable: true, resolve: (d) => d.dateEdges }),
  }),
});

const PolicyMeasureRef = builder.objectRef<MeasurePolicy>("PolicyMeasure").implement({
  description: "A numeric column buyers may aggregate; every value is clamped to [lo, hi] declared by the owner.",
  fields: (t) => ({
    column: t.exposeString("column"),
    lo: t.exposeFloat("lo"),
    hi: t.exposeFloat("hi"),
  }),
});

export const PrivacyPolicyRef = builder.objectRef<Stored<PrivacyPolicy>>("PrivacyPolicy");

PrivacyPolicyRef.implement({
  description: "One version of a dataset's privacy policy, as declared by its owner. Nothing in it is read off the data.",
  fields: (t) => ({
    id: t.globalID({ resolve: (p) => ({ type: "PrivacyPolicy", id: p._id }) }),
    datasetId: t.globalID({ resolve: (p) => ({ type: "Dataset", id: p.datasetId }) }),
    version: t.exposeInt("version", { description: "1, 2, 3… Each change is a new version." }),
    checkedAgainstVersion: t.exposeInt("checkedAgainstVersion", { description: "The dataset version whose schema it was checked against." }),
    privacyUnit: t.exposeString("privacyUnit", { description: "The column identifying one person or entity." }),
    dimensions: t.field({ type: [PolicyDimensionRef], resolve: (p) => p.dimensions }),
    measures: t.field({ type: [PolicyMeasureRef], resolve: (p) => p.measures }),
    aggregates: t.field({ type: [PrivacyAggregateEnum], resolve: (p) => p.aggregates }),
    minGroupSize: t.exposeInt("minGroupSize", { description: "Groups with fewer privacy units are never released (k)." }),
    epsilonPerQuery: t.expose("epsilonPerQuery", { type: "Epsilon", description: "The most ε one query may spend." }),
    buyerEpsilonBudget: t.expose("buyerEpsilonBudget", { type: "Epsilon", description: "Total ε one buyer may spend on the dataset." }),
    datasetEpsilonBudget: t.expose("datasetEpsilonBudget", { type: "Epsilon", description: "Total ε all buyers together may spend." }),
    maxGroupsPerUnit: t.exposeInt("maxGroupsPerUnit", { description: "How many groups one unit may contribute to per query." }),
    maxRowsPerUnit: t.int({
      description: "How many of one unit's rows count in one group per query.",
      resolve: (p) => p.maxRowsPerUnit ?? POLICY_DEFAULTS.maxRowsPerUnit,
    }),
    note: t.string({
      nullable: true,
      description: "The owner's note on the change; only the owner sees it.",
      resolve: (p, _args, ctx) => (ctx.principal?.account._id === p.ownerId ? p.note : null),
    }),
    publicFacts: t.field({
      type: PublicFactsRef,
      description: "What the owner declared public besides the rules: column types and descriptions, and optionally the size.",
      resolve: (p) => publicFactsOf(p),
    }),
    contributionProfile: t.field({
      type: PolicyProfileRef,
      nullable: true,
      description: "The DP contribution profile kept with this version (see suggestPolicyBounds), or null.",
      resolve: (p) => p.contributionProfile ?? null,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
