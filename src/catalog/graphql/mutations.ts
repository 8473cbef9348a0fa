/** Owners create, edit, publish and suspend their listings; admins suspend and reinstate any. */
import { builder } from "../../graphql/builder.ts";
import { hasRole } from "../../graphql/context.ts";
import { InvalidInput, NotFound } from "../../errors.ts";
import { dropNulls } from "../../privacy/policy/graphql/index.ts";
import { ListingStatusConflict, PolicyRequired } from "../errors.ts";
import { ListingCategoryEnum, ListingRef } from "./listing.ts";
import { PricePlanInput } from "./price-plan.ts";
import type { CreateListingInput as CreateListingInputShape, UpdateListingInput as UpdateListingInputShape } from "../listing-input.ts";

const LocalizedTextInput = builder.inputType("LocalizedTextInput", {
  description: "Chinese (zh) and/or English (en); at least one.",
  fields: (t) => ({ zh: t.string(), en: t.string() }),
});

const CreateListingInput = builder.inputType("CreateListingInput", {
  fields: (t) => ({
    datasetId: t.globalID({ required: true }),
    datasetVersion: t.int({ description: "The dataset version to list; the latest when omitted." }),
    title: t.field({ type: LocalizedTextInput, required: true, description: "Up to 120 characters per language." }),
    description: t.field({ type: LocalizedTextInput, required: true, description: "Up to 5000 characters per language." }),
    tags: t.stringList({ description: "Up to 20; stored lower-cased." }),
    category: t.field({ type: ListingCategoryEnum, required: true }),
    licence: t.string({ required: true, description: 'e.g. "CC BY-NC 4.0" or your own terms.' }),
    permittedUse: t.string({ required: true, description: "What buyers may use the answers for." }),
    pricePlan: t.field({ type: PricePlanInput, description: "Free when omitted." }),
    instantAccess: t.boolean({ description: "Approve access requests at once (default false)." }),
  }),
});

const UpdateListingInput = builder.inputType("UpdateListingInput", {
  description: "Only the fields given change.",
  fields: (t) => ({
    datasetVersion: t.int({ description: "Move the listing to another version of its dataset." }),
    title: t.field({ type: LocalizedTextInput }),
    description: t.field({ type: LocalizedTextInput }),
    tags: t.stringList(),
    category: t.field({ type: ListingCategoryEnum }),
    licence: t.string(),
    permittedUse: t.string(),
    pricePlan: t.field({ type: PricePlanInput, description: "Replaces the whole plan." }),
    instantAccess: t.boolean(),
  }),
});

function listingId(id: { typename: string; id: string }): string {
  if (id.typename !== "Listing") throw new NotFound("listing");
  return id.id;
}

builder.mutationField("createListing", (t) =>
  t.field({
    type: ListingRef,
    description: "Creates a DRAFT listing of one of your datasets.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput] },
    args: { input: t.arg({ type: CreateListingInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.datasetId.typename !== "Dataset") throw new NotFound("dataset");
      const { datasetId, ...rest } = dropNulls(input);
      // Shapes and ranges are checked by the service (zod); nulls mean "not given".
      return ctx.services.catalog.createListing(ctx.principal!.account._id, { ...rest, datasetId: datasetId.id } as CreateListingInputShape);
    },
  }),
);

builder.mutationField("updateListing", (t) =>
  t.field({
    type: ListingRef,
    description: "Edits one of your listings.",
    authScopes: { owner: true },
    errors: { types: [NotFound, InvalidInput, PolicyRequired] },
    args: { id: t.arg.globalID({ required: true }), input: t.arg({ type: UpdateListingInput, required: true }) },
    resolve: (_root, { id, input }, ctx) =>
      ctx.services.catalog.updateListing(ctx.principal!.account._id, listingId(id), dropNulls(input) as UpdateListingInputShape),
  }),
);

builder.mutationField("publishListing", (t) =>
  t.field({
    type: ListingRef,
    description:
      "Publishes your draft listing (its dataset needs a privacy policy that fits the listed version), or reinstates a " +
      "suspended one (an admin's suspension only an admin lifts).",
    authScopes: { $any: { owner: true, admin: true } },
    errors: { types: [NotFound, InvalidInput, PolicyRequired, ListingStatusConflict] },
    args: { id: t.arg.globalID({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.catalog.publish(ctx.principal!.account._id, listingId(id), hasRole(ctx, "ADMIN")),
  }),
);

builder.mutationField("suspendListing", (t) =>
  t.field({
    type: ListingRef,
    description: "Takes a published listing off the catalog, with a reason. Its owner or an admin.",
    authScopes: { $any: { owner: true, admin: true } },
    errors: { types: [NotFound, InvalidInput, ListingStatusConflict] },
    args: { id: t.arg.globalID({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: (_root, { id, reason }, ctx) => ctx.services.catalog.suspend(ctx.principal!.account._id, listingId(id), reason, hasRole(ctx, "ADMIN")),
  }),
);
