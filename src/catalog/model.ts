/**
 * Listings: what a buyer can find, read and buy access to. A listing points at one dataset
 * version; its privacy rules come from the dataset's current policy (src/privacy/policy); its
 * price plan is plain data the pricing library and billing read.
 */
import type { IndexSpec } from "../store/port.ts";
import type { PricePlan } from "./price-plan.ts";

export const LISTING_STATUSES = ["DRAFT", "PUBLISHED", "SUSPENDED"] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

export const CATEGORIES = ["TRANSPORT", "ENVIRONMENT", "HEALTH", "FINANCE", "RETAIL", "ENERGY", "GOVERNMENT", "OTHER"] as const;
export type Category = (typeof CATEGORIES)[number];

/** Text in both languages the exchange serves; either may be empty, not both. */
export interface Bilingual {
  zh: string;
  en: string;
}

export interface StatusChange {
  from: ListingStatus;
  to: ListingStatus;
  at: string;
  /** The account that changed it. */
  by: string;
  /** Whether the actor acted as the owner or as an admin (an admin's suspension binds the owner). */
  as: "OWNER" | "ADMIN";
  reason: string;
}

/** `_id` is "lst_…". */
export interface Listing {
  ownerId: string;
  datasetId: string;
  datasetVersion: number;
  title: Bilingual;
  description: Bilingual;
  /** Normalised (trimmed, lower-cased), distinct. */
  tags: string[];
  category: Category;
  licence: string;
  permittedUse: string;
  pricePlan: PricePlan;
  /** List price of one query at ε 0.1 over the whole version (minor units): what price filters and sorting use. */
  indicativeQueryPrice: number;
  /** Costs nothing at all (no fee, no ε or rows price, no subscription). */
  free: boolean;
  /** Offers a monthly free allowance. */
  hasFreeTier: boolean;
  /** Buyers get access on request, without the owner's approval. */
  instantAccess: boolean;
  status: ListingStatus;
  statusHistory: StatusChange[];
  /** Terms of titles, descriptions and tags for full-text search (see search-terms.ts). */
  searchTerms: string[];
  /** Ids of the audit events of this listing's changes: how the audit repair sees a change landed. */
  auditEventIds: string[];
  createdAt: string;
  updatedAt: string;
  /** When it was first published; "" while it never was (sort fields must be present). */
  publishedAt: string;
  /** How contribution bounds were chosen when it was first published (owner-only; absent: nothing was chosen). */
  boundsAtPublish?: BoundsAtPublish | null;
}

/**
 * Issue #16: publishing a listing whose policy has no DP contribution profile of the listed
 * version and left the bound fields at their defaults chooses the bounds the way a suggestion
 * does (a profile at the configured ε, then its suggested caps declared as the next policy
 * version) — or, when the dataset's budget cannot cover the profile, keeps the fixed defaults.
 */
export interface BoundsAtPublish {
  outcome: "PROFILED" | "DEFAULTS";
  maxGroupsPerUnit: number;
  maxRowsPerUnit: number;
  /** ε the profile spent; null when none was made. */
  epsilonSpent: number | null;
  /** The policy version in force after publishing. */
  policyVersion: number;
  /** In words: what was chosen and why. */
  note: string;
}

/** Chooses bounds at publish (the composition root hands it over; null when nothing was done). */
export type PublishBounds = (ownerId: string, datasetId: string, datasetVersion: number) => Promise<BoundsAtPublish | null>;

export const LISTING_COLLECTION: { name: string; indexes: IndexSpec[] } = {
  name: "listings",
  indexes: [
    { fields: ["ownerId", "createdAt"] },
    { fields: ["datasetId"] },
    { fields: ["status", "publishedAt"] },
    { fields: ["status", "indicativeQueryPrice"] },
  ],
};
