/**
 * Listings: created and edited by the owner of the dataset they sell, published once the
 * dataset's privacy policy fits the listed version, suspended by the owner or an admin (an
 * admin's suspension only an admin lifts). Published listings are public; drafts and suspended
 * listings are visible to their owner and admins only, and anyone else gets the same NotFound
 * as for a listing that does not exist. Status changes are conditional single-document updates,
 * so two concurrent changes cannot both apply; each is kept in the listing's history and audited.
 */
import { z } from "zod";
import type { Collection, DocumentStore, Filter, JsonValue, Page, Stored } from "../store/port.ts";
import { encodeCursor } from "../store/cursor.ts";
import { InvalidInput, NotFound, invalidInputFromZod } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AuditEventInput, AuditTrail } from "../audit-trail.ts";
import { ACTIONS, auditEvent } from "../audit-actions.ts";
import type { DatasetVersion } from "../datasets/index.ts";
import {
  publicColumns,
  publicFactsOf,
  publicMaxRows,
  sampleSchema,
  type DatasetCatalogSource,
  type PrivacyPolicy,
  type PrivacyPolicyService,
  type PublicColumnView,
  type PublicFacts,
} from "../privacy/policy/index.ts";
import { LISTING_COLLECTION, type Listing, type ListingStatus, type PublishBounds, type StatusChange } from "./model.ts";
import { buildPricePlan, hasFreeTier, indicativeQueryPrice, isFree, type PricePlan, type PricePlanInput } from "./price-plan.ts";
import { createListingSchema, reasonSchema, updateListingSchema, type CreateListingInput, type UpdateListingInput } from "./listing-input.ts";
import { listingTerms } from "./search-terms.ts";
import {
  CANDIDATE_LIMIT,
  pageRanked,
  parseQuery,
  rankKey,
  scoreListing,
  storeFilter,
  storeSort,
  type Scored,
  type SearchFilters,
  type SearchSort,
} from "./search.ts";
import { ListingStatusConflict, PolicyRequired } from "./errors.ts";
import { syntheticRows, type SampleRow } from "./synthetic-samples.ts";

/** Who is looking: an account id (or null) and whether it is an admin. */
export interface Viewer {
  accountId: string | null;
  admin: boolean;
}

export interface SearchRequest extends SearchFilters {
  query?: string | null;
  sort?: SearchSort | null;
  first: number;
  after?: string | null;
}

export interface SearchHit {
  listing: Stored<Listing>;
  /** Relevance score (0 without a text query). */
  score: number;
  cursor: string;
}

export interface SearchResult {
  hits: SearchHit[];
  hasNextPage: boolean;
  /** Matching listings (for a text query: among the ranked candidates). */
  totalCount: number;
}

/** What a buyer may read of a listing's data: only what its owner declared, and synthetic samples. */
export interface BuyerView {
  policy: Stored<PrivacyPolicy> | null;
  columns: PublicColumnView[];
  /** The owner's public facts (the size a listing shows comes from here only). */
  facts: PublicFacts;
  sampleRows: SampleRow[];
}

/** Everything the query engine needs to run a query against a listing. */
export interface QueryableListing {
  listing: Stored<Listing>;
  version: Stored<DatasetVersion>;
  policy: Stored<PrivacyPolicy>;
  /** The size the owner declared public (a bucket's bound); null when none: what prices and release moments use. */
  publicRows: number | null;
}

export interface CatalogServiceDeps {
  datasets: DatasetCatalogSource;
  policies: PrivacyPolicyService;
  audit: AuditTrail;
  /** The exchange's cut of every charge, written into each price plan (owners cannot set it). */
  platformFeeBasisPoints?: number;
  /** Chooses contribution bounds when an owner first publishes (issue #16); none when omitted. */
  boundsAtPublish?: PublishBounds | null;
  now?: () => Date;
}

export class CatalogService {
  private readonly listings: Collection<Listing>;
  private readonly datasets: DatasetCatalogSource;
  private readonly policies: PrivacyPolicyService;
  private readonly boundsAtPublish: PublishBounds | null;
  private readonly audit: AuditTrail;
  private readonly platformFeeBasisPoints: number;
  private readonly now: () => Date;
  private readonly published: Array<(listing: Stored<Listing>) => void> = [];

  private constructor(listings: Collection<Listing>, deps: CatalogServiceDeps) {
    this.listings = listings;
    this.platformFeeBasisPoints = deps.platformFeeBasisPoints ?? 0;
    this.datasets = deps.datasets;
    this.policies = deps.policies;
    this.audit = deps.audit;
    this.boundsAtPublish = deps.boundsAtPublish ?? null;
    this.now = deps.now ?? (() => new Date());
    // Every listing change stores its event id on the listing in the same write.
    this.audit.drift.registerFactCheck(ACTIONS.listingStateChanged, async (e) =>
      ((await this.listings.get(e.subject.listingId ?? ""))?.auditEventIds ?? []).includes(e.eventId),
    );
  }

  static async open(store: DocumentStore, deps: CatalogServiceDeps): Promise<CatalogService> {
    return new CatalogService(await store.collection<Listing>(LISTING_COLLECTION.name, LISTING_COLLECTION.indexes), deps);
  }

  /** Creates a DRAFT listing of one of the actor's datasets (the latest version unless given). */
  async createListing(actorId: string, input: CreateListingInput): Promise<Stored<Listing>> {
    const parsed = createListingSchema.safeParse(input);
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const p = parsed.data;
    const dataset = await this.datasets.getDataset(p.datasetId);
    if (!dataset || dataset.ownerId !== actorId) throw new NotFound("dataset");
    const versionNo = p.datasetVersion ?? dataset.latestVersion;
    const version = await this.datasets.getVersion(dataset._id, versionNo);
    if (!version) throw new InvalidInput([{ path: "input.datasetVersion", message: `dataset has no version ${versionNo} (upload data first)` }]);
    const now = this.now().toISOString();
    const pricePlan = buildPricePlan(p.pricePlan as PricePlanInput | undefined, this.platformFeeBasisPoints);
    const prices = derivedPrices(pricePlan, await this.publicRows(dataset._id));
    const id = newId("lst");
    const event = stateEvent(
      actorId,
      { _id: id, datasetId: dataset._id, ownerId: actorId },
      null,
      "DRAFT",
      prices.indicativeQueryPrice,
      pricePlan.currency,
    );
    return this.audit.drift.withEvent(event, () =>
      this.listings.insert({
        _id: id,
        ownerId: actorId,
        datasetId: dataset._id,
        datasetVersion: version.version,
        title: p.title,
        description: p.description,
        tags: p.tags,
        category: p.category,
        licence: p.licence,
        permittedUse: p.permittedUse,
        pricePlan,
        ...prices,
        instantAccess: p.instantAccess,
        status: "DRAFT",
        statusHistory: [],
        searchTerms: termsOf(p),
        auditEventIds: [event.eventId],
        createdAt: now,
        updatedAt: now,
        publishedAt: "",
      }),
    );
  }

  /** Edits a listing the actor owns. Moving a published listing to another version needs the policy to fit it. */
  async updateListing(actorId: string, listingId: string, input: UpdateListingInput): Promise<Stored<Listing>> {
    const parsed = updateListingSchema.safeParse(input);
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const patch = parsed.data;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.ownedListing(actorId, listingId);
      const next: Listing = {
        ...current,
        ...(patch.title ? { title: patch.title } : {}),
        ...(patch.description ? { description: patch.description } : {}),
        ...(patch.tags ? { tags: patch.tags } : {}),
        ...(patch.category ? { category: patch.category } : {}),
        ...(patch.licence ? { licence: patch.licence } : {}),
        ...(patch.permittedUse ? { permittedUse: patch.permittedUse } : {}),
        ...(patch.instantAccess != null ? { instantAccess: patch.instantAccess } : {}),
      };
      if (patch.pricePlan != null) next.pricePlan = buildPricePlan(patch.pricePlan as PricePlanInput, this.platformFeeBasisPoints);
      if (patch.datasetVersion != null && patch.datasetVersion !== current.datasetVersion) {
        const version = await this.datasets.getVersion(current.datasetId, patch.datasetVersion);
        if (!version) throw new InvalidInput([{ path: "input.datasetVersion", message: `dataset has no version ${patch.datasetVersion}` }]);
        if (current.status === "PUBLISHED") await this.assertPolicyFits(current.datasetId, version, "owner");
        next.datasetVersion = version.version;
      }
      if (patch.pricePlan != null || next.datasetVersion !== current.datasetVersion) {
        Object.assign(next, derivedPrices(next.pricePlan, await this.publicRows(next.datasetId)));
      }
      next.searchTerms = termsOf(next);
      next.updatedAt = this.now().toISOString();
      // A change of price is a change of the listing's terms: it goes to the audit log.
      const priceChanged =
        next.indicativeQueryPrice !== current.indicativeQueryPrice || JSON.stringify(next.pricePlan) !== JSON.stringify(current.pricePlan);
      const event = priceChanged
        ? stateEvent(actorId, current, current.status, current.status, next.indicativeQueryPrice, next.pricePlan.currency)
        : null;
      if (event) next.auditEventIds = [...current.auditEventIds, event.eventId];
      const { _id, _v, ...fields } = next as Stored<Listing>;
      const write = async () => {
        const done = await this.listings.updateVersion(current._id, current._v, { $set: { ...fields } as never });
        if (!done) throw new VersionConflict();
        return done;
      };
      try {
        return event ? await this.audit.drift.withEvent(event, write) : await write();
      } catch (e) {
        if (e instanceof VersionConflict) continue;
        throw e;
      }
    }
    throw new Error(`listing ${listingId} kept changing under the update`);
  }

  /**
   * DRAFT → PUBLISHED by its owner (needs a policy that fits the listed version);
   * SUSPENDED → PUBLISHED by the owner if the owner suspended it, by an admin otherwise.
   */
  async publish(actorId: string, listingId: string, actorIsAdmin: boolean): Promise<Stored<Listing>> {
    const listing = await this.listings.get(listingId);
    const isOwner = listing?.ownerId === actorId;
    if (!listing || (!isOwner && !(actorIsAdmin && listing.status !== "DRAFT"))) throw new NotFound("listing");
    if (listing.status === "PUBLISHED") return listing;
    let as: "OWNER" | "ADMIN" = "OWNER";
    if (listing.status === "SUSPENDED") {
      const adminSuspended = lastSuspender(listing) === "ADMIN";
      if (adminSuspended && !actorIsAdmin) {
        throw new ListingStatusConflict(listing.status, "an admin suspended this listing; only an admin can reinstate it");
      }
      if (actorIsAdmin && (adminSuspended || !isOwner)) as = "ADMIN";
    }
    const version = await this.datasets.getVersion(listing.datasetId, listing.datasetVersion);
    if (!version) throw new InvalidInput([{ path: "listing.datasetVersion", message: `dataset version ${listing.datasetVersion} no longer exists` }]);
    await this.assertPolicyFits(listing.datasetId, version, "owner");
    const reason = listing.status === "DRAFT" ? "published" : "reinstated";
    // First publication by the owner: bounds left at their defaults are chosen from a DP profile.
    const bounds =
      listing.status === "DRAFT" && isOwner && this.boundsAtPublish
        ? await this.boundsAtPublish(actorId, listing.datasetId, listing.datasetVersion)
        : null;
    const published = await this.changeStatus(listing, "PUBLISHED", actorId, as, reason, bounds ? { boundsAtPublish: bounds } : {});
    for (const listener of this.published) listener(published);
    return published;
  }

  /**
   * Steps other modules take once a listing is published (the cluster engine writes its copy),
   * started after the status change and never awaited: the listener owns its failures.
   */
  onPublished(listener: (listing: Stored<Listing>) => void): void {
    this.published.push(listener);
  }

  /** PUBLISHED → SUSPENDED, by its owner or an admin, with a reason. */
  async suspend(actorId: string, listingId: string, reason: string, actorIsAdmin: boolean): Promise<Stored<Listing>> {
    const why = reasonSchema.safeParse(reason);
    if (!why.success) throw invalidInputFromZod(why.error, "reason");
    const listing = await this.listings.get(listingId);
    const isOwner = listing?.ownerId === actorId;
    const adminMayAct = actorIsAdmin && listing !== null && listing.status !== "DRAFT";
    if (!listing || (!isOwner && !adminMayAct)) throw new NotFound("listing");
    if (listing.status !== "PUBLISHED") {
      throw new ListingStatusConflict(listing.status, `only a published listing can be suspended; this one is ${listing.status}`);
    }
    return this.changeStatus(listing, "SUSPENDED", actorId, isOwner ? "OWNER" : "ADMIN", why.data);
  }

  private async changeStatus(
    listing: Stored<Listing>,
    to: ListingStatus,
    actorId: string,
    as: "OWNER" | "ADMIN",
    reason: string,
    extra: Partial<Pick<Listing, "boundsAtPublish">> = {},
  ): Promise<Stored<Listing>> {
    const at = this.now().toISOString();
    const change: StatusChange = { from: listing.status, to, at, by: actorId, as, reason };
    const set: Record<string, JsonValue> = { status: to, updatedAt: at, ...(extra as Record<string, JsonValue>) };
    if (to === "PUBLISHED" && listing.publishedAt === "") set["publishedAt"] = at;
    const event = stateEvent(actorId, listing, listing.status, to, listing.indicativeQueryPrice, listing.pricePlan.currency);
    // Conditional on the status we read: a concurrent change makes this one fail, not double-apply.
    const updated = await this.audit.drift
      .withEvent(event, async () => {
        const done = await this.listings.updateOne(
          { _id: listing._id, status: listing.status },
          { $set: set, $push: { statusHistory: change as never, auditEventIds: event.eventId } },
        );
        if (!done) throw new VersionConflict();
        return done;
      })
      .catch((e: unknown) => {
        if (e instanceof VersionConflict) return null;
        throw e;
      });
    if (!updated) {
      const now = await this.listings.get(listing._id);
      throw new ListingStatusConflict(now?.status ?? listing.status, "the listing's status changed meanwhile; reload and try again");
    }
    return updated;
  }

  /** `owner`: the caller owns the data (or is an admin), so issues read off its statistics may be named. */
  private async assertPolicyFits(
    datasetId: string,
    version: Stored<DatasetVersion>,
    as: "owner" | "buyer" = "buyer",
  ): Promise<Stored<PrivacyPolicy>> {
    const policy = await this.policies.current(datasetId);
    if (!policy) throw new PolicyRequired();
    const issues =
      as === "owner" ? this.policies.ownerIssuesAgainst(policy, version) : this.policies.issuesAgainst(policy, version.schema, version.version);
    if (issues.length > 0) throw new InvalidInput(issues);
    return policy;
  }

  private async ownedListing(actorId: string, listingId: string): Promise<Stored<Listing>> {
    const listing = await this.listings.get(listingId);
    if (!listing || listing.ownerId !== actorId) throw new NotFound("listing");
    return listing;
  }

  /** A listing as `viewer` may see it: published ones for anyone, others for the owner and admins. */
  async getListing(listingId: string, viewer: Viewer): Promise<Stored<Listing>> {
    const listing = await this.listings.get(listingId);
    if (!listing || !canSee(listing, viewer)) throw new NotFound("listing");
    return listing;
  }

  /** The listing if it exists, whatever its status: for other services (access, queries). */
  findListing(listingId: string): Promise<Stored<Listing> | null> {
    return this.listings.get(listingId);
  }

  /** Published listings of a dataset (for entitlement checks by dataset). */
  async publishedListingsOf(datasetId: string): Promise<Stored<Listing>[]> {
    return (await this.listings.find({ datasetId, status: "PUBLISHED" }, { limit: 100 })).items;
  }

  /** The owner's listings, newest first. */
  listOwned(ownerId: string, first: number, after?: string | null): Promise<Page<Stored<Listing>>> {
    return this.listings.find({ ownerId }, { sort: OWNED_SORT, limit: first, ...(after ? { after } : {}) });
  }

  ownedCursor(listing: Stored<Listing>): string {
    return encodeCursor(OWNED_SORT, listing);
  }

  /** The rows prices per million rows use: the size the current policy declares public, else 0. */
  private async publicRows(datasetId: string): Promise<number> {
    return publicMaxRows(publicFactsOf(await this.policies.current(datasetId))) ?? 0;
  }

  /** The buyer's view of a listing's data: the policy, the declared schema, synthetic samples. */
  async buyerView(listing: Stored<Listing>): Promise<BuyerView> {
    const [version, policy] = await Promise.all([
      this.datasets.getVersion(listing.datasetId, listing.datasetVersion),
      this.policies.current(listing.datasetId),
    ]);
    return {
      policy,
      columns: publicColumns(version?.schema ?? null, policy),
      facts: publicFactsOf(policy),
      sampleRows: version ? syntheticRows(sampleSchema(version.schema, policy), policy) : [],
    };
  }

  /**
   * For the query engine: the published listing, its dataset version and the current policy,
   * which must fit that version. Throws NotFound (not published / gone), PolicyRequired, or
   * InvalidInput (the policy no longer fits the listed version).
   */
  async queryable(listingId: string): Promise<QueryableListing> {
    const listing = await this.listings.get(listingId);
    if (!listing || listing.status !== "PUBLISHED") throw new NotFound("listing");
    const version = await this.datasets.getVersion(listing.datasetId, listing.datasetVersion);
    if (!version) throw new NotFound("dataset version");
    const policy = await this.assertPolicyFits(listing.datasetId, version);
    return { listing, version, policy, publicRows: publicMaxRows(publicFactsOf(policy)) };
  }

  /** Searches published listings; see search.ts for how and its limits. */
  async search(req: SearchRequest): Promise<SearchResult> {
    const sort: SearchSort = req.sort ?? (req.query?.trim() ? "RELEVANCE" : "NEWEST");
    const filter = storeFilter(req);
    const q = req.query?.trim() ? parseQuery(req.query) : null;
    if (!q || q.terms.length === 0) {
      if (q && q.terms.length === 0 && req.query!.trim().length > 0) return { hits: [], hasNextPage: false, totalCount: 0 };
      return this.browse(filter, sort, req.first, req.after ?? null);
    }
    const afterKey = req.after ? decodeSearchCursor(req.after, "r", sort) : null;
    const candidates = await this.listings.find(
      { $and: [filter, { $or: q.terms.map((t) => ({ searchTerms: { $contains: t } })) }] },
      { sort: [["publishedAt", -1]], limit: CANDIDATE_LIMIT },
    );
    const scored = candidates.items.map((l) => scoreListing(l, q)).filter((s): s is Scored => s !== null);
    const page = pageRanked(scored, sort, req.first, afterKey as Array<string | number> | null);
    return {
      hits: page.items.map((s) => ({ listing: s.listing, score: s.score, cursor: encodeSearchCursor("r", sort, rankKey(s, sort)) })),
      hasNextPage: page.hasNext,
      totalCount: scored.length,
    };
  }

  private async browse(filter: Filter, sort: SearchSort, first: number, after: string | null): Promise<SearchResult> {
    const storeOrder = storeSort(sort);
    const inner = after ? decodeSearchCursor(after, "s", sort) : null;
    const storeAfter = inner ? encodeStoreCursor(storeOrder, inner) : null;
    const [page, totalCount] = await Promise.all([
      this.listings.find(filter, { sort: storeOrder, limit: first, ...(storeAfter ? { after: storeAfter } : {}) }),
      this.listings.count(filter),
    ]);
    return {
      hits: page.items.map((l) => ({
        listing: l,
        score: 0,
        cursor: encodeSearchCursor("s", sort, [...storeOrder.map(([path]) => l[path as "publishedAt"]), l._id]),
      })),
      hasNextPage: page.nextCursor !== null,
      totalCount,
    };
  }
}

/** Another change won the optimistic race; the caller retries or reports a conflict. */
class VersionConflict extends Error {}

/** The "listing.state_changed" event of a change, with a fresh id stored on the listing by the same write. */
function stateEvent(
  actorId: string,
  listing: { _id: string; datasetId: string; ownerId: string },
  from: ListingStatus | null,
  to: ListingStatus,
  priceMinor: number,
  currency: string,
): AuditEventInput & { eventId: string } {
  const eventId = `${ACTIONS.listingStateChanged}:${listing._id}:${newId("chg")}`;
  const event = auditEvent(ACTIONS.listingStateChanged, {
    actor: actorId,
    subject: { listingId: listing._id, datasetId: listing.datasetId, ownerId: listing.ownerId },
    data: { from, to, priceMinor, currency },
    eventId,
  });
  return { ...event, eventId };
}

function derivedPrices(plan: PricePlan, rowCount: number): Pick<Listing, "indicativeQueryPrice" | "free" | "hasFreeTier"> {
  return { indicativeQueryPrice: indicativeQueryPrice(plan, rowCount), free: isFree(plan), hasFreeTier: hasFreeTier(plan) };
}

const OWNED_SORT: Array<[string, 1 | -1]> = [["createdAt", -1]];

function termsOf(l: { title: { zh: string; en: string }; description: { zh: string; en: string }; tags: string[] }): string[] {
  return listingTerms({ titles: [l.title.zh, l.title.en], tags: l.tags, descriptions: [l.description.zh, l.description.en] });
}

function lastSuspender(listing: Listing): "OWNER" | "ADMIN" | null {
  const last = [...listing.statusHistory].reverse().find((c) => c.to === "SUSPENDED");
  return last?.as ?? null;
}

export function canSee(listing: Listing, viewer: Viewer): boolean {
  return listing.status === "PUBLISHED" || viewer.admin || (viewer.accountId !== null && viewer.accountId === listing.ownerId);
}

/**
 * Search cursors say which mode made them ("r" ranked in memory, "s" store keyset) and for which
 * sort, so a cursor from another search is refused instead of silently misread.
 */
const cursorShape = z.object({
  m: z.enum(["r", "s"]),
  s: z.string(),
  k: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .max(4),
});

function encodeSearchCursor(mode: "r" | "s", sort: SearchSort, key: Array<string | number>): string {
  return Buffer.from(JSON.stringify({ m: mode, s: sort, k: key }), "utf8").toString("base64url");
}

function decodeSearchCursor(cursor: string, mode: "r" | "s", sort: SearchSort): Array<string | number> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    raw = null;
  }
  const parsed = cursorShape.safeParse(raw);
  if (!parsed.success || parsed.data.m !== mode || parsed.data.s !== sort) {
    throw new InvalidInput([
      { path: "after", message: "this cursor belongs to another search (query, filters or sort changed); start again without it" },
    ]);
  }
  return parsed.data.k;
}

/** Turns a search cursor's sort values back into the store's own keyset cursor. */
function encodeStoreCursor(sort: Array<[string, 1 | -1]>, key: Array<string | number>): string {
  const paths = [...sort.map(([p]) => p), "_id"];
  if (key.length !== paths.length) {
    throw new InvalidInput([{ path: "after", message: "this cursor belongs to another search; start again without it" }]);
  }
  return encodeCursor(sort, Object.fromEntries(paths.map((p, i) => [p, key[i]])));
}
