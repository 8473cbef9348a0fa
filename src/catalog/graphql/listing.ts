/**
 * The Listing type. Published listings are public; drafts and suspended ones only their owner
 * and admins see. What it shows of the data is the buyer view: what the owner declared public
 * (columns' types, a size), the policy and synthetic sample rows — never a figure read off the rows.
 */
import { builder } from "../../graphql/builder.ts";
import { BoundsAtPublishRef } from "./bounds-at-publish.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import { hasRole } from "../../graphql/context.ts";
import type { Stored } from "../../store/port.ts";
import { PrivacyPolicyRef, PublicSizeRef } from "../../privacy/policy/graphql/index.ts";
import { CATEGORIES, LISTING_STATUSES, type Bilingual, type Listing, type StatusChange } from "../model.ts";
import type { BuyerView } from "../service.ts";
import type { SampleRow } from "../synthetic-samples.ts";
import { PricePlanRef } from "./price-plan.ts";

export const ListingStatusEnum = builder.enumType("ListingStatus", { values: LISTING_STATUSES });
export const ListingCategoryEnum = builder.enumType("ListingCategory", { values: CATEGORIES });

const ColumnRoleEnum = builder.enumType("ListingColumnRole", {
  values: {
    PRIVACY_UNIT: { description: "Identifies a person or entity; contributions are bounded per unit. Never shown or grouped on." },
    DIMENSION: { description: "May be grouped or filtered on, by its declared keys or buckets." },
    MEASURE: { description: "May be aggregated, clamped to its declared bounds." },
    DIMENSION_AND_MEASURE: { description: "Both." },
    NOT_QUERYABLE: { description: "Not in the policy: cannot be used in queries." },
  },
});

const LocalizedTextRef = builder.objectRef<Bilingual>("LocalizedText").implement({
  description: "Text in Chinese (zh) and English (en); either may be empty.",
  fields: (t) => ({ zh: t.exposeString("zh"), en: t.exposeString("en") }),
});

interface ColumnView extends Omit<BuyerView["columns"][number], "role"> {
  role: "PRIVACY_UNIT" | "DIMENSION" | "MEASURE" | "DIMENSION_AND_MEASURE" | "NOT_QUERYABLE";
}

const ListingColumnRef = builder.objectRef<ColumnView>("ListingColumn").implement({
  description: "A column as its owner declared it: type, nullability and description are null where the owner declared none.",
  fields: (t) => ({
    name: t.exposeString("name"),
    type: t.string({
      nullable: true,
      description: "int, float, boolean, date, timestamp or string, as the owner declared it (null: not declared).",
      resolve: (c) => c.type,
    }),
    nullable: t.boolean({ nullable: true, resolve: (c) => c.nullable }),
    description: t.string({ nullable: true, resolve: (c) => c.description }),
    role: t.field({ type: ColumnRoleEnum, resolve: (c) => c.role }),
  }),
});

const SampleCellRef = builder.objectRef<SampleRow[number]>("SampleCell").implement({
  fields: (t) => ({
    column: t.exposeString("column"),
    value: t.string({
      nullable: true,
      description: "Null for columns not in the policy.",
      resolve: (c) => (c.value === null ? null : String(c.value)),
    }),
  }),
});

const SampleRowRef = builder.objectRef<SampleRow>("SampleRow").implement({
  description: "A SYNTHETIC row drawn from the policy's declared keys, buckets and bounds: never a row of the data.",
  fields: (t) => ({
    synthetic: t.boolean({ resolve: () => true }),
    cells: t.field({ type: [SampleCellRef], resolve: (r) => r }),
  }),
});

const StatusChangeRef = builder.objectRef<StatusChange>("ListingStatusChange").implement({
  fields: (t) => ({
    from: t.field({ type: ListingStatusEnum, resolve: (c) => c.from }),
    to: t.field({ type: ListingStatusEnum, resolve: (c) => c.to }),
    at: t.expose("at", { type: "DateTime" }),
    byAdmin: t.boolean({ resolve: (c) => c.as === "ADMIN" }),
    reason: t.exposeString("reason"),
  }),
});

export const ListingRef = builder.objectRef<Stored<Listing>>("Listing");

/** One buyer view per listing object per request: the fields below share it. */
const views = new WeakMap<object, Promise<BuyerView>>();
function viewOf(listing: Stored<Listing>, ctx: GraphQLContext): Promise<BuyerView> {
  let v = views.get(listing);
  if (!v) {
    v = ctx.services.catalog.buyerView(listing);
    views.set(listing, v);
  }
  return v;
}

function isOwnerOrAdmin(listing: Listing, ctx: GraphQLContext): boolean {
  return ctx.principal?.account._id === listing.ownerId || hasRole(ctx, "ADMIN");
}

ListingRef.implement({
  description: "A dataset offered on the exchange: what it is, how it is priced, and what a buyer may learn before buying.",
  authScopes: (l) => (l.status === "PUBLISHED" ? { public: true } : { $any: { self: l.ownerId, admin: true } }),
  fields: (t) => ({
    id: t.globalID({ resolve: (l) => ({ type: "Listing", id: l._id }) }),
    status: t.field({ type: ListingStatusEnum, resolve: (l) => l.status }),
    title: t.field({ type: LocalizedTextRef, resolve: (l) => l.title }),
    description: t.field({ type: LocalizedTextRef, resolve: (l) => l.description }),
    tags: t.exposeStringList("tags"),
    category: t.field({ type: ListingCategoryEnum, resolve: (l) => l.category }),
    licence: t.exposeString("licence"),
    permittedUse: t.exposeString("permittedUse"),
    pricePlan: t.field({ type: PricePlanRef, resolve: (l) => l.pricePlan }),
    indicativeQueryPrice: t.exposeInt("indicativeQueryPrice", {
      description:
        "List price (minor units) of one query at ε 0.1, its rows priced at the declared public size (0 rows when none), before free tier or subscription.",
    }),
    free: t.exposeBoolean("free", { description: "Costs nothing at all." }),
    instantAccess: t.exposeBoolean("instantAccess", { description: "Access requests are approved at once." }),
    datasetId: t.globalID({ resolve: (l) => ({ type: "Dataset", id: l.datasetId }) }),
    datasetVersion: t.exposeInt("datasetVersion"),
    ownerId: t.globalID({ resolve: (l) => ({ type: "Account", id: l.ownerId }) }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    publishedAt: t.field({ type: "DateTime", nullable: true, resolve: (l) => l.publishedAt || null }),
    boundsAtPublish: t.field({
      type: BoundsAtPublishRef,
      nullable: true,
      description: "How contribution bounds were chosen at first publication (owner and admins only; null when nothing was chosen).",
      resolve: (l, _args, ctx) => (isOwnerOrAdmin(l, ctx) ? (l.boundsAtPublish ?? null) : null),
    }),
    columns: t.field({
      type: [ListingColumnRef],
      description: "The dataset version's columns as the owner declared them, with each column's role in the policy.",
      resolve: async (l, _args, ctx) => {
        const { columns, policy } = await viewOf(l, ctx);
        return columns.map((c): ColumnView => {
          const dim = policy?.dimensions.some((d) => d.column === c.name) ?? false;
          const measure = policy?.measures.some((m) => m.column === c.name) ?? false;
          const role: ColumnView["role"] =
            policy?.privacyUnit === c.name
              ? "PRIVACY_UNIT"
              : dim && measure
                ? "DIMENSION_AND_MEASURE"
                : dim
                  ? "DIMENSION"
                  : measure
                    ? "MEASURE"
                    : "NOT_QUERYABLE";
          return { ...c, role };
        });
      },
    }),
    policy: t.field({
      type: PrivacyPolicyRef,
      nullable: true,
      description: "The dataset's current privacy policy (null while none is declared).",
      resolve: async (l, _args, ctx) => (await viewOf(l, ctx)).policy,
    }),
    publicSize: t.field({
      type: PublicSizeRef,
      nullable: true,
      description: "The size the owner declared public (exact or a bucket); null when the owner publishes none. No other size is shown.",
      resolve: async (l, _args, ctx) => {
        const { facts } = await viewOf(l, ctx);
        return facts.size ? facts : null;
      },
    }),
    sampleRows: t.field({
      type: [SampleRowRef],
      description: "A few synthetic rows drawn from the declared keys, buckets and bounds (never real rows), fresh on every request.",
      resolve: async (l, _args, ctx) => (await viewOf(l, ctx)).sampleRows,
    }),
    statusHistory: t.field({
      type: [StatusChangeRef],
      nullable: true,
      description: "Who changed the status, when and why: for the owner and admins (null for others).",
      resolve: (l, _args, ctx) => (isOwnerOrAdmin(l, ctx) ? l.statusHistory : null),
    }),
  }),
});
