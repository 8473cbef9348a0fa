/** Validation of what an owner writes into a listing; every rule names its field. */
import { z } from "zod";
import { CATEGORIES } from "./model.ts";
import { normaliseTag } from "./search.ts";

const bilingual = (max: number, what: string) =>
  z
    .object({
      zh: z.string().trim().max(max, `must be at most ${max} characters`).default(""),
      en: z.string().trim().max(max, `must be at most ${max} characters`).default(""),
    })
    .refine((t) => t.zh.length > 0 || t.en.length > 0, `give the ${what} in Chinese (zh), English (en) or both`);

const tags = z
  .array(z.string().transform(normaliseTag).pipe(z.string().min(1, "a tag must not be empty").max(40, "a tag must be at most 40 characters")))
  .max(20, "at most 20 tags")
  .transform((ts) => [...new Set(ts)]);

export const listingFields = {
  title: bilingual(120, "title"),
  description: bilingual(5000, "description"),
  tags,
  category: z.enum(CATEGORIES),
  licence: z.string().trim().min(1, 'is required (e.g. "CC BY-NC 4.0" or your own terms)').max(200, "must be at most 200 characters"),
  permittedUse: z.string().trim().min(1, "is required: say what buyers may use answers for").max(2000, "must be at most 2000 characters"),
  // Checked by buildPricePlan (the pricing library's rules), which needs the platform fee.
  pricePlan: z.unknown(),
  instantAccess: z.boolean(),
};

export const createListingSchema = z.object({
  datasetId: z.string().min(1, "is required"),
  datasetVersion: z.number().int("must be a whole number").min(1, "must be at least 1").nullish(),
  ...listingFields,
  // Omitted: a free plan (buildPricePlan fills in the zeros), as the GraphQL input says.
  pricePlan: listingFields.pricePlan.optional(),
  tags: listingFields.tags.default([]),
  instantAccess: listingFields.instantAccess.default(false),
});

export const updateListingSchema = z.object({
  datasetVersion: z.number().int("must be a whole number").min(1, "must be at least 1").nullish(),
  title: listingFields.title.nullish(),
  description: listingFields.description.nullish(),
  tags: listingFields.tags.nullish(),
  category: listingFields.category.nullish(),
  licence: listingFields.licence.nullish(),
  permittedUse: listingFields.permittedUse.nullish(),
  pricePlan: listingFields.pricePlan.nullish(),
  instantAccess: listingFields.instantAccess.nullish(),
});

export type CreateListingInput = z.input<typeof createListingSchema>;
export type UpdateListingInput = z.input<typeof updateListingSchema>;

export const reasonSchema = z.string().trim().min(1, "give a reason").max(500, "must be at most 500 characters");
