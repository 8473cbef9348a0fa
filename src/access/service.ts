/**
 * Access requests and entitlements. Every state change is one conditional single-document
 * update (PENDING → APPROVED/DENIED, APPROVED → REVOKED), so a request is decided at most once
 * even when two decisions race; one open request per buyer and listing is held by a unique index.
 * Every decision keeps who/when/why on the request and goes to the audit log.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { DuplicateKeyError, type Collection, type DocumentStore, type Filter, type Page, type Stored } from "../store/port.ts";
import { encodeCursor } from "../store/cursor.ts";
import { InvalidInput, NotFound, invalidInputFromZod } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AuditEventInput, AuditTrail } from "../audit-trail.ts";
import { ACTIONS, SYSTEM_ACTOR, auditEvent } from "../audit-actions.ts";
import type { CatalogService } from "../catalog/index.ts";
import { ACCESS_COLLECTION, openKeyOf, type AccessRequest, type AccessStatus } from "./model.ts";
import { AccessRequestConflict } from "./errors.ts";

const requestInput = z.object({
  listingId: z.string().min(1, "is required"),
  purpose: z
    .string()
    .trim()
    .min(10, "say in a sentence what you will use the answers for (at least 10 characters)")
    .max(2000, "must be at most 2000 characters"),
});

const reason = z.string().trim().max(500, "must be at most 500 characters");

export const ACCESS_DECISIONS = ["APPROVE", "DENY"] as const;
export type AccessDecision = (typeof ACCESS_DECISIONS)[number];

export interface AccessServiceDeps {
  catalog: CatalogService;
  audit: AuditTrail;
  now?: () => Date;
}

const LIST_SORT: Array<[string, 1 | -1]> = [["createdAt", -1]];

export class AccessService {
  private readonly requests: Collection<AccessRequest>;
  private readonly catalog: CatalogService;
  private readonly audit: AuditTrail;
  private readonly now: () => Date;

  private constructor(requests: Collection<AccessRequest>, deps: AccessServiceDeps) {
    this.requests = requests;
    this.catalog = deps.catalog;
    this.audit = deps.audit;
    this.now = deps.now ?? (() => new Date());
    // Every change stores its event id on the request in the same write.
    const landed = async (e: { eventId: string; subject: Record<string, string> }) =>
      ((await this.requests.get(e.subject.requestId ?? ""))?.auditEventIds ?? []).includes(e.eventId);
    this.audit.drift.registerFactCheck(ACTIONS.accessRequested, landed);
    this.audit.drift.registerFactCheck(ACTIONS.accessDecided, landed);
  }

  static async open(store: DocumentStore, deps: AccessServiceDeps): Promise<AccessService> {
    return new AccessService(await store.collection<AccessRequest>(ACCESS_COLLECTION.name, ACCESS_COLLECTION.indexes), deps);
  }

  /**
   * A buyer asks for access to a published listing. On an instant-access listing the request is
   * approved at once (by "system"); otherwise it waits for the owner.
   */
  async request(buyerId: string, input: { listingId: string; purpose: string }): Promise<Stored<AccessRequest>> {
    const parsed = requestInput.safeParse(input);
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const listing = await this.catalog.findListing(parsed.data.listingId);
    if (!listing || listing.status !== "PUBLISHED") throw new NotFound("listing");
    if (listing.ownerId === buyerId)
      throw new InvalidInput([{ path: "input.listingId", message: "this is your own listing; you need no access to it" }]);
    const now = this.now().toISOString();
    const id = newId("acr");
    const purpose = parsed.data.purpose;
    const purposeSha256 = sha256(purpose);
    const instant = listing.instantAccess;
    const subject = { requestId: id, datasetId: listing.datasetId, ownerId: listing.ownerId, buyerId, listingId: listing._id };
    const requested = withId(
      auditEvent(ACTIONS.accessRequested, {
        actor: buyerId,
        subject,
        data: { purpose: `sha256:${purposeSha256}` },
        eventId: `${ACTIONS.accessRequested}:${id}`,
      }),
    );
    const approved = instant
      ? withId(
          auditEvent(ACTIONS.accessDecided, {
            actor: SYSTEM_ACTOR,
            subject,
            data: { decision: "approved", purpose: `sha256:${purposeSha256}`, reason: `sha256:${sha256(INSTANT_REASON)}` },
            eventId: `${ACTIONS.accessDecided}:${id}:approved`,
          }),
        )
      : null;
    const insert = () =>
      this.requests.insert({
        _id: id,
        listingId: listing._id,
        datasetId: listing.datasetId,
        ownerId: listing.ownerId,
        buyerId,
        purpose,
        purposeSha256,
        status: instant ? "APPROVED" : "PENDING",
        openKey: openKeyOf(buyerId, listing._id),
        createdAt: now,
        decision: instant ? { by: SYSTEM_ACTOR, at: now, reason: INSTANT_REASON } : null,
        revocation: null,
        auditEventIds: approved ? [requested.eventId, approved.eventId] : [requested.eventId],
      });
    try {
      // An instant approval is a second event about the same write: the outer intent covers it.
      return approved
        ? await this.audit.drift.withEvent(approved, () => this.audit.drift.withEvent(requested, insert))
        : await this.audit.drift.withEvent(requested, insert);
    } catch (e) {
      if (e instanceof DuplicateKeyError && e.fields.includes("openKey")) {
        const open = await this.requests.findOne({ openKey: openKeyOf(buyerId, listing._id) });
        const status = open?.status ?? "PENDING";
        throw new AccessRequestConflict(
          status,
          status === "APPROVED" ? "you already have access to this listing" : "you already have a pending request for this listing",
        );
      }
      throw e;
    }
  }

  /** The listing's owner approves or denies a pending request; a denial needs a reason. */
  async decide(ownerId: string, input: { requestId: string; decision: AccessDecision; reason?: string | null }): Promise<Stored<AccessRequest>> {
    const why = reason.safeParse(input.reason ?? "");
    if (!why.success) throw invalidInputFromZod(why.error, "input.reason");
    const approve = input.decision === "APPROVE";
    if (!approve && why.data.length === 0) throw new InvalidInput([{ path: "input.reason", message: "give the buyer a reason for the denial" }]);
    const req = await this.ownedRequest(ownerId, input.requestId);
    if (req.status !== "PENDING") throw new AccessRequestConflict(req.status, `this request was already decided (${req.status})`);
    const at = this.now().toISOString();
    const decision = { by: ownerId, at, reason: why.data || "approved" };
    const event = this.decisionEvent(ownerId, req, approve ? "approved" : "rejected", decision.reason);
    const set: Record<string, string | typeof decision> = { status: approve ? "APPROVED" : "DENIED", decision };
    if (!approve) set["openKey"] = `closed:${req._id}`;
    const updated = await this.conditionally(event, { _id: req._id, status: "PENDING" }, set);
    if (!updated) {
      const now = await this.requests.get(req._id);
      throw new AccessRequestConflict(now?.status ?? req.status, `this request was already decided (${now?.status ?? req.status})`);
    }
    return updated;
  }

  /** The owner withdraws an approved access, with a reason; the buyer may request again later. */
  async revoke(ownerId: string, input: { requestId: string; reason: string }): Promise<Stored<AccessRequest>> {
    const why = reason.min(1, "give the buyer a reason").safeParse(input.reason);
    if (!why.success) throw invalidInputFromZod(why.error, "input.reason");
    const req = await this.ownedRequest(ownerId, input.requestId);
    if (req.status !== "APPROVED") throw new AccessRequestConflict(req.status, `only approved access can be revoked; this request is ${req.status}`);
    const revocation = { by: ownerId, at: this.now().toISOString(), reason: why.data };
    const event = this.decisionEvent(ownerId, req, "revoked", why.data);
    const updated = await this.conditionally(
      event,
      { _id: req._id, status: "APPROVED" },
      { status: "REVOKED", openKey: `closed:${req._id}`, revocation },
    );
    if (!updated) throw new AccessRequestConflict("REVOKED", "this access was already revoked");
    return updated;
  }

  /** One conditional update carrying its audit event; null when the condition no longer holds. */
  private async conditionally(
    event: AuditEventInput & { eventId: string },
    filter: Filter,
    set: Record<string, unknown>,
  ): Promise<Stored<AccessRequest> | null> {
    return this.audit.drift
      .withEvent(event, async () => {
        const done = await this.requests.updateOne(filter, { $set: set as never, $push: { auditEventIds: event.eventId } });
        if (!done) throw new StateChanged();
        return done;
      })
      .catch((e: unknown) => {
        if (e instanceof StateChanged) return null;
        throw e;
      });
  }

  private decisionEvent(actor: string, req: Stored<AccessRequest>, decision: "approved" | "rejected" | "revoked", why: string) {
    return withId(
      auditEvent(ACTIONS.accessDecided, {
        actor,
        subject: { requestId: req._id, datasetId: req.datasetId, ownerId: req.ownerId, buyerId: req.buyerId, listingId: req.listingId },
        data: { decision, purpose: `sha256:${req.purposeSha256}`, reason: `sha256:${sha256(why)}` },
        eventId: `${ACTIONS.accessDecided}:${req._id}:${decision}`,
      }),
    );
  }

  private async ownedRequest(ownerId: string, requestId: string): Promise<Stored<AccessRequest>> {
    const req = await this.requests.get(requestId);
    if (!req || req.ownerId !== ownerId) throw new NotFound("access request");
    return req;
  }

  /**
   * Whether the buyer may query now: an APPROVED request for the listing (or for any listing of
   * the dataset) whose listing is still published. The query engine's entitlement check.
   */
  async hasEntitlement(buyerId: string, target: { listingId: string } | { datasetId: string }): Promise<boolean> {
    return (await this.entitlement(buyerId, target)) !== null;
  }

  /** The approved request that entitles the buyer, or null. */
  async entitlement(buyerId: string, target: { listingId: string } | { datasetId: string }): Promise<Stored<AccessRequest> | null> {
    if ("listingId" in target) {
      const req = await this.requests.findOne({ openKey: openKeyOf(buyerId, target.listingId), status: "APPROVED" });
      if (!req) return null;
      const listing = await this.catalog.findListing(req.listingId);
      return listing?.status === "PUBLISHED" ? req : null;
    }
    const approved = await this.requests.find({ buyerId, datasetId: target.datasetId, status: "APPROVED" }, { limit: 100 });
    for (const req of approved.items) {
      const listing = await this.catalog.findListing(req.listingId);
      if (listing?.status === "PUBLISHED") return req;
    }
    return null;
  }

  /** A request as its buyer or the listing's owner may see it; NotFound for anyone else. */
  async getForViewer(requestId: string, accountId: string): Promise<Stored<AccessRequest>> {
    const req = await this.requests.get(requestId);
    if (!req || (req.buyerId !== accountId && req.ownerId !== accountId)) throw new NotFound("access request");
    return req;
  }

  /** The buyer's latest request for a listing (any status), or null. */
  latestFor(buyerId: string, listingId: string): Promise<Stored<AccessRequest> | null> {
    return this.requests.findOne({ buyerId, listingId }, { sort: LIST_SORT });
  }

  listForBuyer(buyerId: string, status: AccessStatus | null, first: number, after?: string | null): Promise<Page<Stored<AccessRequest>>> {
    const filter: Filter = status ? { buyerId, status } : { buyerId };
    return this.requests.find(filter, { sort: LIST_SORT, limit: first, ...(after ? { after } : {}) });
  }

  listForOwner(
    ownerId: string,
    opts: { status?: AccessStatus | null; listingId?: string | null },
    first: number,
    after?: string | null,
  ): Promise<Page<Stored<AccessRequest>>> {
    const filter: Filter = { ownerId };
    if (opts.status) filter["status"] = opts.status;
    if (opts.listingId) filter["listingId"] = opts.listingId;
    return this.requests.find(filter, { sort: LIST_SORT, limit: first, ...(after ? { after } : {}) });
  }

  cursorOf(req: Stored<AccessRequest>): string {
    return encodeCursor(LIST_SORT, req);
  }
}

const INSTANT_REASON = "instant-access listing";

/** The request changed under us (decided or revoked meanwhile). */
class StateChanged extends Error {}

function withId(event: AuditEventInput): AuditEventInput & { eventId: string } {
  return { ...event, eventId: event.eventId! };
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
