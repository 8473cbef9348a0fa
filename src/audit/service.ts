/**
 * The audit log: an append-only, gap-free sequence of canonical-JSON events under an RFC 6962
 * Merkle tree with Ed25519-signed checkpoints.
 *
 * Sequence allocation is the insert itself: an entry's `_id` is its zero-padded position, so the
 * atomic unique insert both claims position n and writes the entry. There is no counter to bump
 * first, so a writer that dies cannot leave a hole: a position is either fully written or free.
 * Concurrent writers (in this process: queued; across processes: racing) that lose a position get
 * DuplicateKeyError and take the next one. Holds on SQLite, MongoDB and FerretDB alike.
 */
import type { KeyObject } from "node:crypto";
import { DuplicateKeyError, type Collection, type DocumentStore, type Filter, type JsonValue, type Page, type Stored } from "../store/port.ts";
import type { Logger } from "../logger.ts";
import { newId } from "../ids.ts";
import type { AuditEventInput, AuditRecorder, RecordedEvent } from "../audit-trail.ts";
import { canonicalJson } from "./canonical.ts";
import { leafHash, toHex } from "./hashing.ts";
import {
  AUDIT_COLLECTIONS as C,
  seqId,
  type AuditCheckpointDoc,
  type AuditCosignatureDoc,
  type AuditEntry,
  type AuditEntryDoc,
  type AuditIntentDoc,
  type AuditNodeDoc,
  type AuditSignerDoc,
  type AuditTreeDoc,
} from "./model.ts";
import { AuditEventConflict, AuditIntegrityError, ProofUnavailable } from "./errors.ts";
import { Mutex } from "./mutex.ts";
import { CompactRange, verifyConsistency } from "./merkle.ts";
import { TreeStore, type TreeHead } from "./tree-store.ts";
import { formatCheckpointText, parseVerifierKey, signNote, verifierKeyString, type VerifierKey } from "./signed-note.ts";
import { acceptCosignatures, parseWitnessKeys } from "./witness.ts";
import { DriftGuard } from "./drift.ts";

export interface AuditLogOptions {
  /** The checkpoint origin line and signing key name, e.g. "exchange.example.com/audit". */
  origin: string;
  signingKey: KeyObject;
  now?: () => Date;
  log?: Logger;
  /** Background checkpoints are signed at most this often; checkpoint() always signs the latest. */
  checkpointEveryMs?: number;
  /** Verifier keys (cosignature/v1) of witnesses whose cosignatures are accepted. */
  witnessKeys?: string[];
  /** Advance the tree and sign checkpoints in the background after appends (default true). */
  syncInBackground?: boolean;
}

const MAX_EVENT_BYTES = 64 * 1024;
const ACTOR = /^[A-Za-z0-9_.:-]{1,100}$/;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const SUBJECT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,40}$/;
const EVENT_ID = /^[A-Za-z0-9_.:+/=-]{1,200}$/;
/** Data keys that would mean content, not evidence, went into the log: refused outright. */
const FORBIDDEN_DATA_KEYS = new Set([
  "password",
  "passwordhash",
  "secret",
  "token",
  "apikey",
  "email",
  "rows",
  "row",
  "values",
  "result",
  "results",
  "answer",
]);

export interface InclusionBundle {
  index: number;
  treeSize: number;
  entry: string;
  leafHash: string;
  /** Sibling hashes, hex, bottom-up (RFC 9162 order). */
  proof: string[];
  checkpoint: Stored<AuditCheckpointDoc>;
}

export interface ConsistencyBundle {
  first: number;
  second: number;
  firstRoot: string;
  secondRoot: string;
  proof: string[];
  checkpoint: Stored<AuditCheckpointDoc>;
}

export class AuditLog implements AuditRecorder {
  readonly origin: string;
  /** The C2SP verifier key of the signing key: `<origin>+<key id>+<base64 key>`. */
  readonly verifierKey: string;
  readonly drift: DriftGuard;
  private readonly entries: Collection<AuditEntryDoc>;
  private readonly checkpoints: Collection<AuditCheckpointDoc>;
  private readonly cosignatures: Collection<AuditCosignatureDoc>;
  private readonly tree: TreeStore;
  private readonly signingKey: KeyObject;
  private readonly now: () => Date;
  private readonly log: Logger | undefined;
  private readonly checkpointEveryMs: number;
  private readonly witnesses: VerifierKey[];
  private readonly appendMutex = new Mutex();
  private readonly signMutex = new Mutex();
  /** The store's group commit (`DocumentStore.sync`). */
  private readonly durable: () => Promise<void>;
  /** Next position to try; a hint only (the unique insert decides). */
  private nextSeq: number | null = null;
  private syncQueued = false;
  private readonly syncInBackground: boolean;
  private background: Promise<void> = Promise.resolve();
  private closed = false;
  /** Why the log stopped appending (its stored history does not match what it signed); null while healthy. */
  private haltedFor: string | null = null;
  private lastSelfCheck = 0;

  private constructor(
    cols: {
      entries: Collection<AuditEntryDoc>;
      nodes: Collection<AuditNodeDoc>;
      tree: Collection<AuditTreeDoc>;
      checkpoints: Collection<AuditCheckpointDoc>;
      intents: Collection<AuditIntentDoc>;
      cosignatures: Collection<AuditCosignatureDoc>;
    },
    options: AuditLogOptions,
    durable: () => Promise<void>,
  ) {
    this.durable = durable;
    this.origin = options.origin;
    this.signingKey = options.signingKey;
    this.verifierKey = verifierKeyString(options.origin, options.signingKey);
    this.now = options.now ?? (() => new Date());
    this.log = options.log;
    this.checkpointEveryMs = options.checkpointEveryMs ?? 1000;
    this.witnesses = parseWitnessKeys(options.witnessKeys ?? []);
    this.syncInBackground = options.syncInBackground ?? true;
    this.entries = cols.entries;
    this.checkpoints = cols.checkpoints;
    this.cosignatures = cols.cosignatures;
    this.tree = new TreeStore(cols, this.now);
    this.drift = new DriftGuard(cols.intents, this, this.now, this.log);
  }

  static async open(store: DocumentStore, options: AuditLogOptions): Promise<AuditLog> {
    const open = <T extends object>(c: { name: string; indexes: Parameters<DocumentStore["collection"]>[1] }) =>
      store.collection<T>(c.name, c.indexes);
    const log = new AuditLog(
      {
        entries: await open<AuditEntryDoc>(C.entries),
        nodes: await open<AuditNodeDoc>(C.nodes),
        tree: await open<AuditTreeDoc>(C.tree),
        checkpoints: await open<AuditCheckpointDoc>(C.checkpoints),
        intents: await open<AuditIntentDoc>(C.intents),
        cosignatures: await open<AuditCosignatureDoc>(C.cosignatures),
      },
      options,
      () => store.sync(),
    );
    await log.checkSigner(await open<AuditSignerDoc>(C.meta));
    return log;
  }

  /** One log, one key: refuse to sign with a different key than the one this store's log began with. */
  private async checkSigner(meta: Collection<AuditSignerDoc>): Promise<void> {
    const mine = { origin: this.origin, verifierKey: this.verifierKey };
    try {
      await meta.insert({ _id: "signer", ...mine });
      return;
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
    const first = await meta.get("signer");
    if (first && (first.origin !== mine.origin || first.verifierKey !== mine.verifierKey)) {
      throw new Error(
        `the audit log in this store is signed by ${first.verifierKey}, but this process has ${mine.verifierKey}: ` +
          "point AUDIT_SIGNING_KEY_FILE at the log's key (every process must share it) and keep AUDIT_ORIGIN unchanged",
      );
    }
  }

  // ── Appending ────────────────────────────────────────────────────────────────────────────

  async record(input: AuditEventInput): Promise<RecordedEvent> {
    if (this.haltedFor) throw new AuditIntegrityError(`the audit log is halted and appends nothing: ${this.haltedFor}`);
    const event = validate(input);
    const recorded = await this.appendMutex.run(() => this.append(event));
    this.scheduleSync();
    return recorded;
  }

  private async append(event: Required<AuditEventInput>): Promise<RecordedEvent> {
    let clashes = 0;
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const seq = this.nextSeq ?? (await this.readNextSeq());
      const entry: AuditEntry = { v: 1, seq, eventId: event.eventId, time: this.now().toISOString(), ...pick(event) };
      const text = canonicalJson(entry as unknown as JsonValue);
      const leaf = toHex(leafHash(text));
      try {
        await this.entries.insert({
          _id: seqId(seq),
          seq,
          eventId: event.eventId,
          time: entry.time,
          actor: event.actor,
          action: event.action,
          subject: event.subject,
          subjectIds: [...new Set(Object.values(event.subject))],
          entry: text,
          leafHash: leaf,
        });
        this.nextSeq = seq + 1;
        return { seq, leafHash: leaf, eventId: event.eventId };
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
        // A clash on the position alone needs no lookup; an event id clash shows up at the free end.
        const positionOnly = e.fields.length > 0 && e.fields.every((f) => f === "_id" || f === "seq");
        const same = positionOnly ? null : await this.entries.findOne({ eventId: event.eventId });
        if (same) {
          if (sameContent(same.entry, event)) return { seq: same.seq, leafHash: same.leafHash, eventId: same.eventId };
          throw new AuditEventConflict(event.eventId);
        }
        // Someone else took this position: try the next one (an insert is the cheapest probe on
        // every backend); after a run of clashes, read the end again instead.
        clashes++;
        this.nextSeq = clashes % 8 === 0 ? null : seq + 1;
      }
    }
    throw new Error("could not find a free audit log position after 10000 attempts");
  }

  /** The next free position: past the last entry, and never below what the tree or a checkpoint already covers (positions are never reused). */
  private async readNextSeq(): Promise<number> {
    const [last, head, signed] = await Promise.all([
      this.entries.findOne({}, { sort: [["seq", -1]] }),
      this.tree.storedHead(),
      this.latestCheckpoint(),
    ]);
    return Math.max(last ? last.seq + 1 : 0, head.size, signed?.size ?? 0);
  }

  // ── Defending the stored log ─────────────────────────────────────────────────────────────

  /** Why the log halted, or null while its stored history matches its latest signed checkpoint. */
  get halted(): string | null {
    return this.haltedFor;
  }

  /**
   * Recomputes the tree of the latest signed checkpoint from the stored entries (every position
   * present, every entry hashing to its recorded leaf, the root equal to the signed one). On a
   * mismatch the log halts: it appends and signs nothing more, /ready reports why, and the log
   * says so loudly. At start and then at most every `maxAgeMs`.
   */
  async selfCheck(options: { maxAgeMs?: number } = {}): Promise<string | null> {
    if (this.haltedFor) return this.haltedFor;
    const now = Date.now();
    if (options.maxAgeMs !== undefined && now - this.lastSelfCheck < options.maxAgeMs) return null;
    this.lastSelfCheck = now;
    const cp = await this.latestCheckpoint();
    if (!cp) return null;
    const range = new CompactRange();
    let problem: string | null = null;
    for await (const doc of this.entriesUpTo(cp.size)) {
      if (doc.seq !== range.size) {
        problem = `audit entry ${range.size} is missing from the stored log (the signed checkpoint of ${cp.size} covers it)`;
        break;
      }
      if (toHex(leafHash(doc.entry)) !== doc.leafHash) {
        problem = `audit entry ${doc.seq} no longer hashes to the leaf recorded when it was appended: it was altered`;
        break;
      }
      range.append(leafHash(doc.entry));
    }
    if (!problem && range.size < cp.size) problem = `the stored log ends after ${range.size} entries but its signed checkpoint covers ${cp.size}`;
    if (!problem && toHex(range.root()) !== cp.root)
      problem = `the stored entries do not hash to the root signed at size ${cp.size}: history was rewritten`;
    if (problem) {
      this.haltedFor = problem;
      this.log?.fatal(
        { problem, checkpointSize: cp.size },
        "AUDIT LOG INTEGRITY FAILURE: the log is halted and appends nothing until an operator restores it",
      );
    }
    return problem;
  }

  /** The entry recorded under this event id, if any. */
  async findByEventId(eventId: string): Promise<Stored<AuditEntryDoc> | null> {
    return this.entries.findOne({ eventId });
  }

  // ── Tree heads and checkpoints ───────────────────────────────────────────────────────────

  private scheduleSync(): void {
    if (this.syncQueued || this.closed || !this.syncInBackground) return;
    this.syncQueued = true;
    setImmediate(() => {
      this.syncQueued = false;
      if (this.closed) return;
      this.background = this.background.then(() => this.backgroundSync());
    });
  }

  private async backgroundSync(): Promise<void> {
    try {
      const head = await this.tree.advance();
      const latest = await this.latestCheckpoint();
      const age = latest ? this.now().getTime() - Date.parse(latest.signedAt) : Infinity;
      if ((!latest || latest.size < head.size) && age >= this.checkpointEveryMs) await this.signHead(head);
    } catch (e) {
      if (this.closed) return;
      this.log?.warn({ err: e }, e instanceof AuditIntegrityError ? "AUDIT LOG INTEGRITY FAILURE" : "audit background sync failed");
    }
  }

  /** Stops background work (the tree can always be advanced later; nothing is lost). */
  async close(): Promise<void> {
    this.closed = true;
    this.drift.stopSweeping();
    await this.background;
  }

  /** Brings the tree up to every recorded entry and signs a checkpoint of it (if not yet signed). */
  async checkpoint(): Promise<Stored<AuditCheckpointDoc>> {
    const head = await this.tree.advance();
    return this.signHead(head);
  }

  private signHead(head: TreeHead): Promise<Stored<AuditCheckpointDoc>> {
    return this.signMutex.run(async () => {
      if (this.haltedFor) throw new AuditIntegrityError(`the audit log is halted and signs nothing: ${this.haltedFor}`);
      const existing = await this.checkpoints.get(seqId(head.size));
      if (existing) return this.sameRoot(existing, head);
      // Never sign a tree that does not extend the signed one before it (a rewritten history)…
      const before = await this.checkpoints.findOne({ size: { $lt: head.size } }, { sort: [["size", -1]] });
      if (before && !(await this.extends(before, head))) {
        throw new AuditIntegrityError(`the log no longer extends its signed checkpoint of size ${before.size}: history was rewritten`);
      }
      // …nor one smaller than a signed one, unless it is merely a stale read (the stored tree is ahead).
      const after = await this.checkpoints.findOne({ size: { $gt: head.size } }, { sort: [["size", 1]] });
      if (after && (await this.tree.storedHead()).size < after.size) {
        throw new AuditIntegrityError(`the log's tree holds ${head.size} entries but a checkpoint of ${after.size} was signed: entries were removed`);
      }
      const text = formatCheckpointText({ origin: this.origin, size: head.size, root: head.root, extensions: [] });
      // What a checkpoint covers must outlive a power loss before anyone can see it signed:
      // otherwise a restarted log could sign a different history at the same size.
      await this.durable();
      try {
        return await this.checkpoints.insert({
          _id: seqId(head.size),
          size: head.size,
          root: toHex(head.root),
          note: signNote(text, this.origin, this.signingKey),
          signedAt: this.now().toISOString(),
        });
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
        const other = await this.checkpoints.get(seqId(head.size));
        if (!other) throw e;
        return this.sameRoot(other, head);
      }
    });
  }

  /** Whether `head` provably extends the signed checkpoint (an RFC 9162 consistency proof checks out). */
  private async extends(cp: AuditCheckpointDoc, head: TreeHead): Promise<boolean> {
    const proof = await this.tree.consistency(cp.size, head.size, head);
    return verifyConsistency(cp.size, head.size, Buffer.from(cp.root, "hex"), head.root, proof);
  }

  private sameRoot(cp: Stored<AuditCheckpointDoc>, head: TreeHead): Stored<AuditCheckpointDoc> {
    if (cp.root !== toHex(head.root)) {
      throw new AuditIntegrityError(`a checkpoint of size ${cp.size} was signed with a different root: the stored log was rewritten`);
    }
    return cp;
  }

  /** Accepts a witness's cosignature on one of our checkpoints; returns the witnesses accepted. */
  addCosignatures(note: string): Promise<string[]> {
    return acceptCosignatures(note, {
      logKey: parseVerifierKey(this.verifierKey),
      witnesses: this.witnesses,
      checkpointAt: (size) => this.checkpointAt(size),
      cosignatures: this.cosignatures,
      now: this.now,
    });
  }

  /** The checkpoint note with every accepted witness cosignature line appended. */
  async cosignedNote(cp: AuditCheckpointDoc): Promise<string> {
    const page = await this.cosignatures.find({ size: cp.size }, { limit: 100 });
    return cp.note + page.items.map((c) => c.line).join("");
  }

  async latestCheckpoint(): Promise<Stored<AuditCheckpointDoc> | null> {
    return this.checkpoints.findOne({}, { sort: [["size", -1]] });
  }

  async checkpointAt(size: number): Promise<Stored<AuditCheckpointDoc> | null> {
    return this.checkpoints.get(seqId(size));
  }

  listCheckpoints(first: number, after?: string | null): Promise<Page<Stored<AuditCheckpointDoc>>> {
    return this.checkpoints.find({}, { sort: [["size", -1]], limit: first, ...(after ? { after } : {}) });
  }

  /** A signed checkpoint of at least `size` entries (signing a fresh one if needed). */
  private async checkpointCovering(size: number): Promise<{ cp: Stored<AuditCheckpointDoc>; head: TreeHead }> {
    const cp = await this.checkpoint();
    if (size > cp.size) throw new ProofUnavailable(`tree size ${size} is beyond the log's signed size ${cp.size}`);
    return { cp, head: { size: cp.size, root: Buffer.from(cp.root, "hex") } };
  }

  // ── Proofs ───────────────────────────────────────────────────────────────────────────────

  /**
   * Proof that entry `index` is in the tree of `treeSize` entries (default: the latest signed
   * checkpoint). The bundle is enough to check offline with the public key.
   */
  async inclusionProof(index: number, treeSize?: number | null): Promise<InclusionBundle> {
    return unprovable(() => this.inclusionProofOf(index, treeSize));
  }

  private async inclusionProofOf(index: number, treeSize?: number | null): Promise<InclusionBundle> {
    const { cp, head } = await this.checkpointCovering(treeSize ?? 0);
    const size = treeSize ?? cp.size;
    const signed = size === cp.size ? cp : await this.checkpointAt(size);
    if (!signed) throw new ProofUnavailable(`no checkpoint was signed at tree size ${size}; ask for one of the listed checkpoints or the latest`);
    const proof = await this.tree.inclusion(index, size, head);
    const doc = await this.entries.get(seqId(index));
    if (!doc) throw new AuditIntegrityError(`audit entry ${index} is missing`);
    return { index, treeSize: size, entry: doc.entry, leafHash: doc.leafHash, proof: proof.map(toHex), checkpoint: signed };
  }

  /** The inclusion path of entry `index` in the tree of an already signed checkpoint (hex, bottom-up). */
  async inclusionPath(index: number, checkpoint: AuditCheckpointDoc): Promise<string[]> {
    const head = { size: checkpoint.size, root: Buffer.from(checkpoint.root, "hex") };
    return (await this.tree.inclusion(index, checkpoint.size, head)).map(toHex);
  }

  /** Proof that the tree of `first` entries is a prefix of the tree of `second` (default: latest). */
  async consistencyProof(first: number, second?: number | null): Promise<ConsistencyBundle> {
    return unprovable(() => this.consistencyProofOf(first, second));
  }

  private async consistencyProofOf(first: number, second?: number | null): Promise<ConsistencyBundle> {
    const { cp, head } = await this.checkpointCovering(Math.max(first, second ?? 0));
    const to = second ?? cp.size;
    const signed = to === cp.size ? cp : await this.checkpointAt(to);
    if (!signed) throw new ProofUnavailable(`no checkpoint was signed at tree size ${to}; ask for one of the listed checkpoints or the latest`);
    const proof = await this.tree.consistency(first, to, head);
    const firstRoot = await this.tree.rootAt(first, head);
    return { first, second: to, firstRoot: toHex(firstRoot), secondRoot: signed.root, proof: proof.map(toHex), checkpoint: signed };
  }

  // ── Reading entries ──────────────────────────────────────────────────────────────────────

  getEntry(seq: number): Promise<Stored<AuditEntryDoc> | null> {
    return this.entries.get(seqId(seq));
  }

  findEntries(filter: Filter, first: number, after?: string | null, direction: 1 | -1 = 1): Promise<Page<Stored<AuditEntryDoc>>> {
    return this.entries.find(filter, { sort: [["seq", direction]], limit: first, ...(after ? { after } : {}) });
  }

  /** Entries [0, size) in order, in pages (for exports and reports). */
  async *entriesUpTo(size: number, filter: Filter = {}, pageSize = 1000): AsyncGenerator<Stored<AuditEntryDoc>> {
    let after: string | null = null;
    for (;;) {
      const page: Page<Stored<AuditEntryDoc>> = await this.entries.find(
        { $and: [filter, { seq: { $lt: size } }] },
        { sort: [["seq", 1]], limit: pageSize, ...(after ? { after } : {}) },
      );
      for (const doc of page.items) yield doc;
      if (!page.nextCursor) return;
      after = page.nextCursor;
    }
  }
}

/** A proof over a damaged stored log cannot be given: say so (PROOF_UNAVAILABLE), not as an internal fault. */
async function unprovable<T>(prove: () => Promise<T>): Promise<T> {
  try {
    return await prove();
  } catch (e) {
    if (e instanceof AuditIntegrityError) throw new ProofUnavailable(`the log cannot prove this: ${e.message}`);
    throw e;
  }
}

function pick(e: Required<AuditEventInput>): Pick<AuditEntry, "actor" | "action" | "subject" | "data"> {
  return { actor: e.actor, action: e.action, subject: e.subject, data: e.data };
}

function sameContent(storedEntry: string, e: Required<AuditEventInput>): boolean {
  const stored = JSON.parse(storedEntry) as AuditEntry;
  return canonicalJson(pick(stored as never) as unknown as JsonValue) === canonicalJson(pick(e) as unknown as JsonValue);
}

/** Programming errors in an event are thrown as plain errors: a module sent something wrong. */
function validate(input: AuditEventInput): Required<AuditEventInput> {
  const problems: string[] = [];
  if (typeof input.actor !== "string" || !ACTOR.test(input.actor)) problems.push('actor must be an account id or "system" (never an email)');
  if (typeof input.action !== "string" || !ACTION.test(input.action))
    problems.push('action must be a dotted lower-case verb like "dataset.version_created"');
  const subject = input.subject ?? {};
  for (const [k, v] of Object.entries(subject)) {
    if (!SUBJECT_KEY.test(k)) problems.push(`subject key ${JSON.stringify(k)} must be an identifier`);
    if (typeof v !== "string" || v.length === 0 || v.length > 200) problems.push(`subject.${k} must be an id string of 1-200 characters`);
  }
  const eventId = input.eventId ?? newId("evt");
  if (!EVENT_ID.test(eventId)) problems.push("eventId must be 1-200 characters of [A-Za-z0-9_.:+/=-]");
  const data = input.data ?? {};
  const forbidden = forbiddenKeys(data);
  if (forbidden.length > 0)
    problems.push(`data must not carry ${forbidden.join(", ")}: log ids, numbers and hashes, never rows, results, emails or secrets`);
  if (problems.length === 0) {
    const size = Buffer.byteLength(canonicalJson(data as JsonValue));
    if (size > MAX_EVENT_BYTES) problems.push(`data is ${size} bytes of canonical JSON; at most ${MAX_EVENT_BYTES} (store hashes, not content)`);
  }
  if (problems.length > 0) throw new Error(`invalid audit event ${JSON.stringify(input.action)}: ${problems.join("; ")}`);
  return { actor: input.actor, action: input.action, subject: { ...subject }, data: { ...data }, eventId };
}

function forbiddenKeys(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => forbiddenKeys(v, found));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (FORBIDDEN_DATA_KEYS.has(k.toLowerCase())) found.push(k);
      forbiddenKeys(v, found);
    }
  }
  return found;
}
