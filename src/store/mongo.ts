/**
 * DocumentStore on any MongoDB-wire server: MongoDB itself, or FerretDB 1.x (SQLite backend).
 *
 * FerretDB 1.24 differences this adapter absorbs (each checked against a live 1.24.2):
 *  - findAndModify / update are NOT atomic there: the server queries, computes the new document
 *    and then writes it back by `_id` with no compare-and-set, so concurrent updates lose writes
 *    and two conditional updates with the same filter can both "succeed" (measured: 50
 *    concurrent $inc gave 4). The only atomic primitive is an insert against a unique key, so on
 *    FerretDB every update takes a per-document lease lock made of such inserts (`FerretLocks`),
 *    which holds across processes and connections;
 *  - arrays directly inside arrays are refused ("nested arrays are not supported"): they are
 *    stored encoded (`encodeNestedArrays`) and decoded on reading;
 *  - a duplicate key on insert is reported as code 11000 with only
 *    "E11000 duplicate key error collection: db.coll" (no keyPattern, no index name), so the
 *    clashing index is found by probing (`_id` first, then each unique index);
 *  - a duplicate key on findAndModify is reported as code 1 (InternalError) whose message holds
 *    the SQLite error "UNIQUE constraint failed: index '<table>_<index name>'";
 *  - unique indexes are SQLite expression indexes, so documents *missing* a unique field never
 *    clash there, while MongoDB treats a missing field as null (two such documents clash);
 *  - no read or write uses an index: the server filters `{_id: "<string>"}` with the SQL
 *    expression `_ferretdb_sjson->'$._id'` while its `_id` index is on `_ferretdb_sjson->"_id"`,
 *    which SQLite does not take for the same expression, and every other filter is evaluated in
 *    Go over the whole table. Measured on 1.24.2 (7 kB documents): a find, update or delete by
 *    `_id` costs 1–3 ms in a collection of 20 and 12–28 ms in one of 1,000, and grows with the
 *    collection. Only inserts stay constant (~1.4 ms). Figures measured on FerretDB therefore
 *    say little about MongoDB, whose `_id` index serves all of these.
 */
import { randomInt, randomUUID } from "node:crypto";
import { MongoClient, MongoError, type Collection as MongoCollection, type Db, type Document } from "mongodb";
import { afterCursorFilter, encodeCursor, withIdTieBreak } from "./cursor.ts";
import { GroupSync } from "./group-sync.ts";
import {
  DuplicateKeyError,
  StoreUsageError,
  assertCollectionName,
  assertFieldPath,
  type Collection,
  type DocumentStore,
  type Filter,
  type FindOptions,
  type IndexSpec,
  type NewDocument,
  type Page,
  type Sort,
  type Stored,
  type Update,
} from "./port.ts";

export interface MongoStore extends DocumentStore {
  readonly db: Db;
}

/** Documents as this adapter keeps them: the caller's string `_id`, never an ObjectId. */
type RawDoc = { _id: string; [field: string]: unknown };

const SERVER_SELECTION_TIMEOUT_MS = 5000;

export async function openMongoStore(uri: string, dbName: string): Promise<MongoStore> {
  if (typeof dbName !== "string" || !/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) {
    throw new StoreUsageError(`invalid database name ${JSON.stringify(dbName)}`);
  }
  const where = `${redact(uri)} (database ${dbName})`;
  let client: MongoClient;
  try {
    client = new MongoClient(uri, {
      serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
      connectTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
      // JSON semantics: an undefined property is absent, never stored as null.
      ignoreUndefined: true,
      appName: "data-exchange",
    });
  } catch (e) {
    throw new Error(`invalid MongoDB connection string ${redact(uri)}: ${messageOf(e)}`, { cause: e });
  }
  let ferret = false;
  try {
    await client.connect();
    const info = await client.db(dbName).admin().command({ buildInfo: 1 });
    ferret = typeof info["ferretdbVersion"] === "string" || info["ferretdbFeatures"] !== undefined;
  } catch (e) {
    await client.close().catch(() => {});
    throw new Error(`cannot reach a MongoDB-wire server at ${where} within ${SERVER_SELECTION_TIMEOUT_MS} ms: ${messageOf(e)}`, { cause: e });
  }
  return new MongoDocumentStore(client, client.db(dbName), ferret, `${uri}\u0000${dbName}`);
}

class MongoDocumentStore implements MongoStore {
  readonly kind = "mongodb" as const;
  readonly db: Db;
  readonly #client: MongoClient;
  readonly #lockPrefix: string;
  readonly #locks: FerretLocks | null;
  readonly #opened = new Map<string, Promise<Collection<object>>>();
  #closed = false;

  constructor(client: MongoClient, db: Db, ferret: boolean, lockPrefix: string) {
    this.#client = client;
    this.db = db;
    this.#lockPrefix = lockPrefix;
    this.#locks = ferret ? new FerretLocks(db.collection<LockDoc>(LOCKS_COLLECTION)) : null;
  }

  collection<T extends object>(name: string, indexes: IndexSpec[] = []): Promise<Collection<T>> {
    assertCollectionName(name);
    const specs = indexes.map(normaliseIndexSpec);
    const cacheKey = `${name}\u0000${JSON.stringify(specs)}`;
    let opened = this.#opened.get(cacheKey);
    if (!opened) {
      opened = this.#open(name, specs);
      this.#opened.set(cacheKey, opened);
      opened.catch(() => this.#opened.delete(cacheKey));
    }
    return opened as unknown as Promise<Collection<T>>;
  }

  async #open(name: string, specs: NormalisedIndex[]): Promise<Collection<object>> {
    try {
      await this.db.createCollection(name);
    } catch (e) {
      if (!(e instanceof MongoError && (e.code === 48 || (e as { codeName?: string }).codeName === "NamespaceExists"))) {
        throw e;
      }
    }
    const coll = this.db.collection<RawDoc>(name);
    for (const spec of specs) {
      if (spec.fields.length === 1 && spec.fields[0] === "_id") continue; // always unique already
      const keys: Record<string, 1> = {};
      for (const f of spec.fields) keys[f] = 1;
      await coll.createIndex(keys, { name: spec.name, unique: spec.unique });
    }
    return new MongoCollectionAdapter<object>(name, coll, this.#locks, `${this.#lockPrefix}\u0000${name}`);
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  /**
   * One write acknowledged only once it is in the journal of a majority: MongoDB's journal is
   * sequential, so every write this client had acknowledged before is durable too. Concurrent
   * callers share it. (FerretDB accepts the write concern and syncs as its SQLite settings do.)
   */
  sync(): Promise<void> {
    return this.#durable.sync();
  }

  get flushes(): number {
    return this.#durable.flushes;
  }

  readonly #durable = new GroupSync(async () => {
    await this.db
      .collection<{ _id: string; n: number }>(SYNC_COLLECTION)
      .updateOne({ _id: "sync" }, { $inc: { n: 1 } }, { upsert: true, writeConcern: { w: "majority", journal: true } });
  });

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }
}

class MongoCollectionAdapter<T extends object> implements Collection<T> {
  readonly name: string;
  readonly #coll: MongoCollection<RawDoc>;
  /** The server is FerretDB 1.x: lock around updates, encode nested arrays. */
  readonly #ferret: boolean;
  /** FerretDB only: the per-document update locks. */
  readonly #locks: FerretLocks | null;
  /** Prefix of the in-process queue keys of this collection's documents. */
  readonly #queuePrefix: string;

  constructor(name: string, coll: MongoCollection<RawDoc>, locks: FerretLocks | null, queuePrefix: string) {
    this.name = name;
    this.#coll = coll;
    this.#ferret = locks !== null;
    this.#locks = locks;
    this.#queuePrefix = queuePrefix;
  }

  async insert(doc: NewDocument<T>): Promise<Stored<T>> {
    if (!isPlainObject(doc)) throw new StoreUsageError(`${this.name}: a document must be a plain object`);
    if (typeof doc._id !== "string") throw new StoreUsageError(`${this.name}: _id must be a string`);
    const stored: RawDoc = { ...(toJsonValue(doc, "document") as RawDoc), _v: 1 };
    const written = this.#ferret ? (encodeNestedArrays(stored, false, "document") as RawDoc) : stored;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#coll.insertOne({ ...written });
        return stored as unknown as Stored<T>;
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
        const fields = await this.#duplicateFields(e, written);
        if (fields) throw new DuplicateKeyError(this.name, fields);
        // The server gave no index and the probe found no clashing document: it was deleted in
        // between, so the insert may now succeed. Try again a couple of times, then give up.
        if (attempt >= 2) throw new DuplicateKeyError(this.name, []);
      }
    }
  }

  async get(id: string): Promise<Stored<T> | null> {
    if (typeof id !== "string") throw new StoreUsageError(`${this.name}: id must be a string`);
    return this.#out(await this.#coll.findOne({ _id: id })); // plain: FerretDB's primary-key lookup
  }

  async findOne(filter: Filter, options: { sort?: Sort } = {}): Promise<Stored<T> | null> {
    const query = translateFilter(filter, "filter");
    const sort = toMongoSort(options.sort);
    const [doc] = await this.#coll.find(query, { sort, limit: 1 }).toArray();
    return this.#out(doc ?? null);
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Page<Stored<T>>> {
    const { limit, after } = options;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
      throw new StoreUsageError(`limit must be an integer ≥ 1, got ${String(limit)}`);
    }
    const sortKeys = options.sort ?? [];
    const mongoSort = toMongoSort(sortKeys);
    let portFilter: Filter = filter;
    if (after !== undefined) {
      if (typeof after !== "string") throw new StoreUsageError("after must be a cursor string");
      portFilter = { $and: [filter, afterCursorFilter(sortKeys, after)] };
    }
    const query = translateFilter(portFilter, "filter");
    const docs = await this.#coll.find(query, limit === undefined ? { sort: mongoSort } : { sort: mongoSort, limit: limit + 1 }).toArray();
    const more = limit !== undefined && docs.length > limit;
    const items = (more ? docs.slice(0, limit) : docs).map((d) => toPlain(d, this.#ferret) as Stored<T>);
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? encodeCursor(sortKeys, last) : null };
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.#coll.countDocuments(translateFilter(filter, "filter"));
  }

  async updateOne(filter: Filter, update: Update): Promise<Stored<T> | null> {
    const query = translateFilter(filter, "filter");
    const change = translateUpdate(update, this.#ferret);
    const locks = this.#locks;
    if (locks === null) return this.#findOneAndUpdate(query, change); // MongoDB: atomic as is

    // FerretDB: pick the document, lock it, then update it if it still matches. Every update
    // of a document holds its lock, so the server's read-then-write cannot interleave.
    const fixedId = idEquality(query);
    for (;;) {
      let id = fixedId;
      if (id === null) {
        const target = await this.#coll.findOne(query, { sort: { _id: 1 }, projection: { _id: 1 } });
        if (target === null) return null;
        id = target._id;
      }
      const scoped = fixedId !== null ? query : withId(query, id);
      const lockKey = `${this.name}/${id}`;
      // Queue in-process first, so that only other processes make us poll the lock.
      const doc = await serialise(`${this.#queuePrefix}\u0000${id}`, () => locks.withLock(lockKey, () => this.#findOneAndUpdate(scoped, change)));
      // Null with a free choice of document: it stopped matching before we held it; look again.
      if (doc !== null || fixedId !== null) return doc;
    }
  }

  async #findOneAndUpdate(query: Document, change: Document): Promise<Stored<T> | null> {
    try {
      const doc = await this.#coll.findOneAndUpdate(query, change, {
        sort: { _id: 1 },
        returnDocument: "after",
      });
      return this.#out(doc);
    } catch (e) {
      if (isDuplicateKeyError(e)) {
        throw new DuplicateKeyError(this.name, (await this.#duplicateFields(e, null)) ?? []);
      }
      // The update does not fit the document ($inc on a string, $push on a non-array, a
      // path through a scalar, an infinite result): a programming error, as in SQLite.
      if (e instanceof MongoError && typeof e.code === "number" && UPDATE_MISFIT_CODES.has(e.code)) {
        throw new StoreUsageError(`update on ${this.name}: ${e.message}`);
      }
      throw e;
    }
  }

  updateVersion(id: string, version: number, update: Update): Promise<Stored<T> | null> {
    if (typeof id !== "string") throw new StoreUsageError(`${this.name}: id must be a string`);
    if (!Number.isInteger(version)) throw new StoreUsageError(`${this.name}: version must be an integer`);
    return this.updateOne({ _id: id, _v: version }, update);
  }

  async delete(id: string): Promise<boolean> {
    if (typeof id !== "string") throw new StoreUsageError(`${this.name}: id must be a string`);
    const res = await this.#coll.deleteOne({ _id: id });
    return res.deletedCount > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const res = await this.#coll.deleteMany(translateFilter(filter, "filter"));
    return res.deletedCount;
  }

  #out(doc: Document | null): Stored<T> | null {
    return doc === null ? null : (toPlain(doc, this.#ferret) as Stored<T>);
  }

  /**
   * The fields of the unique index a duplicate-key error is about, or null when it cannot be
   * told. MongoDB names it (keyPattern, or the index name in errmsg); FerretDB names it only for
   * updates (the SQLite index name), so for an insert the clash is found by looking for it.
   */
  async #duplicateFields(err: unknown, inserted: Record<string, unknown> | null): Promise<string[] | null> {
    const e = err as { keyPattern?: unknown; errorResponse?: { keyPattern?: unknown }; message?: unknown };
    const keyPattern = e.keyPattern ?? e.errorResponse?.keyPattern;
    if (isPlainObject(keyPattern) && Object.keys(keyPattern).length > 0) return Object.keys(keyPattern);

    const message = typeof e.message === "string" ? e.message : "";
    const indexes = await this.#coll
      .listIndexes()
      .toArray()
      .catch(() => [] as Document[]);
    const fieldsOf = (ix: Document): string[] => Object.keys((ix["key"] ?? {}) as object);

    const mongoName = /index: (\S+) dup key/.exec(message)?.[1];
    if (mongoName !== undefined) {
      if (mongoName === "_id_") return ["_id"];
      const ix = indexes.find((i) => i["name"] === mongoName);
      if (ix) return fieldsOf(ix);
      const parsed = fieldsFromIndexName(mongoName);
      if (parsed) return parsed;
    }

    const sqliteName = /UNIQUE constraint failed: index '([^']+)'/.exec(message)?.[1];
    if (sqliteName !== undefined) {
      // FerretDB names the SQLite index "<table>_<index name>"; take the longest matching name.
      const match = indexes
        .filter((i) => typeof i["name"] === "string" && sqliteName.endsWith(`_${i["name"] as string}`))
        .sort((a, b) => (b["name"] as string).length - (a["name"] as string).length)[0];
      if (match) return fieldsOf(match);
    }

    if (inserted === null) return null;
    const exists = async (probe: Document): Promise<boolean> => (await this.#coll.findOne(probe, { projection: { _id: 1 } })) !== null;
    if (await exists({ _id: inserted["_id"] as string })) return ["_id"];
    probing: for (const ix of indexes) {
      if (ix["unique"] !== true || ix["name"] === "_id_") continue;
      const fields = fieldsOf(ix);
      const probe: Document = {};
      for (const f of fields) {
        const v = valueAt(inserted, f);
        // Only FerretDB gets here, and there a missing field never clashes (SQLite NULL).
        if (v === undefined) continue probing;
        probe[f] = v === null ? { $eq: null, $exists: true } : { $eq: v };
      }
      if (await exists(probe)) return fields;
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// FerretDB: per-document update locks.

/** The lock documents; user collection names start with a letter, so this name cannot clash. */
const LOCKS_COLLECTION = "_store_locks";
/** The one document `sync()` writes with a journaled write concern (also cannot clash). */
const SYNC_COLLECTION = "_store_sync";
/** A lock is held for one findAndModify (milliseconds); a holder that died is overtaken after this. */
const LEASE_MS = 15_000;
/**
 * A holder does not write, nor release, within this much of its lease's end: the tolerance for
 * clock skew between processes (leases are compared with each process's own clock) and pauses.
 */
const LEASE_MARGIN_MS = 5_000;
/** How long an update waits for a lock before failing. */
const LOCK_WAIT_MS = 30_000;

interface LockDoc {
  _id: string;
  owner: string;
  expiresAt: number;
}

/**
 * Lease locks built from the one operation FerretDB 1.24 does atomically: an insert against a
 * unique `_id`. Acquire = insert `{_id: key, owner, expiresAt}`; release = delete it. A lock whose
 * lease ran out (its holder died) is overtaken; to keep two overtakers from deleting each
 * other's fresh lock (a FerretDB delete is also "query, then delete by _id"), overtaking first
 * inserts a token unique to the expired owner, so only one process overtakes a given lock.
 */
class FerretLocks {
  readonly #locks: MongoCollection<LockDoc>;

  constructor(locks: MongoCollection<LockDoc>) {
    this.#locks = locks;
  }

  async withLock<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const owner = randomUUID();
      const expiresAt = Date.now() + LEASE_MS;
      if (await this.#tryInsert({ _id: key, owner, expiresAt })) {
        try {
          // Never write on a lease that may already be overtaken.
          if (Date.now() < expiresAt - LEASE_MARGIN_MS) return await fn();
        } finally {
          // A lease near its end is left to expire rather than risk deleting an overtaker's lock.
          if (Date.now() < expiresAt - LEASE_MARGIN_MS) {
            await this.#locks.deleteOne({ _id: key, owner }).catch(() => {});
          }
        }
        continue; // the lease ran short before we could write: start again
      }
      const held = await this.#locks.findOne({ _id: key });
      if (held !== null && held.expiresAt < Date.now()) {
        await this.#overtake(key, held.owner);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${LOCK_WAIT_MS} ms waiting for the update lock on ${key}`);
      }
      await sleep(1 + randomInt(0, Math.min(50, 2 ** attempt) + 1));
    }
  }

  async #overtake(key: string, expiredOwner: string): Promise<void> {
    // Lock keys start with a collection name (a letter), so a token never clashes with one.
    const token = `~overtake/${expiredOwner}/${key}`;
    if (!(await this.#tryInsert({ _id: token, owner: expiredOwner, expiresAt: Date.now() + LEASE_MS }))) {
      // Someone is overtaking it now; if that someone died too, clear its token for the next try.
      const stale = await this.#locks.findOne({ _id: token });
      if (stale !== null && stale.expiresAt < Date.now()) await this.#locks.deleteOne({ _id: token });
      return;
    }
    try {
      await this.#locks.deleteOne({ _id: key, owner: expiredOwner });
    } finally {
      await this.#locks.deleteOne({ _id: token }).catch(() => {});
    }
  }

  async #tryInsert(doc: LockDoc): Promise<boolean> {
    try {
      await this.#locks.insertOne(doc);
      return true;
    } catch (e) {
      if (e instanceof MongoError && (e.code === 11000 || e.code === 11001)) return false;
      throw e;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `_id` a translated filter pins with a plain equality, or null. */
function idEquality(query: Document): string | null {
  const cond: unknown = query["_id"];
  return typeof cond === "string" ? cond : null;
}

/** `query` narrowed to the document `id`. */
function withId(query: Document, id: string): Document {
  return Object.hasOwn(query, "_id") ? { $and: [query, { _id: id }] } : { ...query, _id: id };
}

const queues = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier call with the same key (in this process) has finished. */
async function serialise<R>(key: string, fn: () => Promise<R>): Promise<R> {
  const previous = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  queues.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Indexes

interface NormalisedIndex {
  fields: string[];
  unique: boolean;
  name: string;
}

function normaliseIndexSpec(spec: IndexSpec): NormalisedIndex {
  if (!isPlainObject(spec) || !Array.isArray(spec.fields) || spec.fields.length === 0) {
    throw new StoreUsageError("an index needs a non-empty list of fields");
  }
  for (const f of spec.fields) assertFieldPath(f);
  if (new Set(spec.fields).size !== spec.fields.length) {
    throw new StoreUsageError(`index lists a field twice: ${spec.fields.join(", ")}`);
  }
  if (spec.unique !== undefined && typeof spec.unique !== "boolean") {
    throw new StoreUsageError("index unique must be a boolean");
  }
  const unique = spec.unique === true;
  return { fields: [...spec.fields], unique, name: indexName(spec.fields, unique) };
}

/** Deterministic index name, e.g. "ux:email" or "ix:orgId,createdAt". */
function indexName(fields: string[], unique: boolean): string {
  return `${unique ? "ux" : "ix"}:${fields.join(",")}`;
}

function fieldsFromIndexName(name: string): string[] | null {
  const m = /^[ui]x:(.+)$/.exec(name);
  return m?.[1] ? m[1].split(",") : null;
}

// ---------------------------------------------------------------------------------------------
// Filters

const COMPARISONS = new Set(["$gt", "$gte", "$lt", "$lte"]);

/** Fields that are never arrays, so need no guard against MongoDB's array-element matching. */
const NEVER_ARRAY = new Set(["_id", "_v"]);

/**
 * Translates a port filter to a MongoDB query with the port's (and the SQLite adapter's)
 * semantics. MongoDB lets equality, membership and comparisons match an *element* of an array
 * field ({tags: "a"} matches tags ["a", "b"]); the port keeps that for $contains only, so those
 * conditions also require the field not to be an array, and $ne / $nin match every array.
 * Simple conditions stay in one object (FerretDB pushes `_id` equality down only from there);
 * the extra disjunctions for $ne / $nin go into a top-level $and.
 */
function translateFilter(filter: Filter, where: string): Document {
  if (!isPlainObject(filter)) throw new StoreUsageError(`${where}: a filter must be a plain object`);
  const out: Document = {};
  const extra: Document[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value) || value.length === 0) {
        throw new StoreUsageError(`${where}.${key} needs a non-empty array of filters`);
      }
      const parts = value.map((f: unknown, i) => translateFilter(f as Filter, `${where}.${key}[${i}]`));
      if (key === "$and") extra.push(...parts);
      else out["$or"] = parts;
      continue;
    }
    if (key.startsWith("$")) throw new StoreUsageError(`${where}: unsupported operator ${key}`);
    assertFieldPath(key);
    const id = key === "_id" ? stringEquality(value) : null;
    if (id !== null) {
      // A plain string: the one filter FerretDB 1.24 turns into SQL, {_id: "<string>"} (not
      // {$eq}); every other filter is evaluated in Go over the whole collection there.
      out["_id"] = id;
      continue;
    }
    const { condition, clauses } = translateCondition(key, value, `${where}.${key}`);
    if (Object.keys(condition).length > 0) out[key] = condition;
    extra.push(...clauses);
  }
  if (extra.length > 0) out["$and"] = extra;
  return out;
}

function stringEquality(cond: unknown): string | null {
  if (typeof cond === "string") return cond;
  if (!isPlainObject(cond)) return null;
  const keys = Object.keys(cond);
  return keys.length === 1 && keys[0] === "$eq" && typeof cond["$eq"] === "string" ? cond["$eq"] : null;
}

function translateCondition(path: string, cond: unknown, where: string): { condition: Document; clauses: Document[] } {
  if (cond === undefined) throw new StoreUsageError(`${where}: condition is undefined`);
  const guard = !NEVER_ARRAY.has(path);
  const notArray = { $not: { $type: "array" } };
  const anyArray = { [path]: { $type: "array" } };
  if (!isPlainObject(cond)) {
    if (Array.isArray(cond)) {
      throw new StoreUsageError(`${where}: equality with an array is not supported (use $contains)`);
    }
    return { condition: { $eq: scalar(cond, where), ...(guard ? notArray : {}) }, clauses: [] };
  }
  const ops = Object.keys(cond);
  if (ops.length === 0) throw new StoreUsageError(`${where}: empty condition`);
  const condition: Document = {};
  const clauses: Document[] = [];
  let guarded = false;
  for (const op of ops) {
    const v = cond[op];
    const at = `${where}.${op}`;
    if (v === undefined) throw new StoreUsageError(`${at}: operand is undefined`);
    if (op === "$eq") {
      condition[op] = scalar(v, at);
      guarded = guard;
    } else if (COMPARISONS.has(op)) {
      if (typeof v !== "string" && typeof v !== "number") {
        throw new StoreUsageError(`${at}: comparisons take a string or a number`);
      }
      condition[op] = scalar(v, at);
      guarded = guard;
    } else if (op === "$in") {
      condition[op] = scalarList(v, at);
      guarded = guard;
    } else if (op === "$ne") {
      const operand = scalar(v, at);
      if (guard) clauses.push({ $or: [anyArray, { [path]: { $ne: operand } }] });
      else condition[op] = operand;
    } else if (op === "$nin") {
      const operand = scalarList(v, at);
      if (guard) clauses.push({ $or: [anyArray, { [path]: { $nin: operand } }] });
      else condition[op] = operand;
    } else if (op === "$exists") {
      if (typeof v !== "boolean") throw new StoreUsageError(`${at}: expected true or false`);
      condition[op] = v;
    } else if (op === "$contains") {
      // $elemMatch (not $all): only an array holding the value matches, never a scalar field.
      condition["$elemMatch"] = { $eq: scalar(v, at) };
    } else {
      throw new StoreUsageError(`${where}: unsupported operator ${op}`);
    }
  }
  if (guarded) Object.assign(condition, notArray);
  return { condition, clauses };
}

function scalarList(v: unknown, where: string): Array<string | number | boolean | null> {
  if (!Array.isArray(v)) throw new StoreUsageError(`${where}: expected an array of values`);
  return v.map((x: unknown, i) => scalar(x, `${where}[${i}]`));
}

function scalar(v: unknown, where: string): string | number | boolean | null {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new StoreUsageError(`${where}: number is not finite`);
    return v;
  }
  throw new StoreUsageError(`${where}: expected a string, number, boolean or null`);
}

function toMongoSort(sort: Sort | undefined): Record<string, 1 | -1> {
  if (sort !== undefined && !Array.isArray(sort)) throw new StoreUsageError("sort must be an array of [path, 1 | -1]");
  const out: Record<string, 1 | -1> = {};
  for (const entry of withIdTieBreak(sort ?? [])) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new StoreUsageError("sort must be an array of [path, 1 | -1]");
    const [path, dir] = entry;
    assertFieldPath(path);
    if (dir !== 1 && dir !== -1) throw new StoreUsageError(`sort direction for ${path} must be 1 or -1`);
    if (Object.hasOwn(out, path)) throw new StoreUsageError(`sort lists ${path} twice`);
    out[path] = dir;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Updates

const UPDATE_OPERATORS = new Set(["$set", "$unset", "$inc", "$push"]);

/** BadValue, TypeMismatch, PathNotViable, ConflictingUpdateOperators. */
const UPDATE_MISFIT_CODES = new Set([2, 14, 28, 40]);

function translateUpdate(update: Update, ferret: boolean): Document {
  if (!isPlainObject(update)) throw new StoreUsageError("an update must be a plain object");
  const paths: string[] = [];
  const claim = (path: string, where: string): void => {
    assertFieldPath(path);
    const root = path.split(".")[0];
    if (root === "_id" || root === "_v") throw new StoreUsageError(`${where}: ${path} cannot be updated`);
    for (const p of paths) {
      if (p === path || p.startsWith(`${path}.`) || path.startsWith(`${p}.`)) {
        throw new StoreUsageError(`update touches ${path} and ${p} in one change`);
      }
    }
    paths.push(path);
  };
  const out: Document = {};
  for (const [op, body] of Object.entries(update)) {
    if (body === undefined) continue;
    if (!UPDATE_OPERATORS.has(op)) throw new StoreUsageError(`unsupported update operator ${op}`);
    if (op === "$unset") {
      if (!Array.isArray(body)) throw new StoreUsageError("$unset takes an array of paths");
      const unset: Record<string, ""> = {};
      for (const p of body) {
        if (typeof p !== "string") throw new StoreUsageError("$unset takes an array of paths");
        claim(p, "$unset");
        unset[p] = "";
      }
      if (body.length > 0) out["$unset"] = unset;
      continue;
    }
    if (!isPlainObject(body)) throw new StoreUsageError(`${op} takes an object of path: value`);
    const part: Record<string, unknown> = {};
    for (const [path, value] of Object.entries(body)) {
      claim(path, op);
      if (value === undefined) throw new StoreUsageError(`${op}.${path}: undefined is not a JSON value (use $unset)`);
      if (op === "$inc") {
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new StoreUsageError(`$inc.${path}: expected a finite number`);
        }
        part[path] = value;
      } else {
        // $set and $push: any JSON value. $push without $each appends exactly this one value
        // (an array value becomes one element); keys starting with "$" are rejected anyway.
        const json = toJsonValue(value, `${op}.${path}`);
        part[path] = ferret ? encodeNestedArrays(json, op === "$push", `${op}.${path}`) : json;
      }
    }
    if (Object.keys(part).length > 0) out[op] = part;
  }
  out["$inc"] = { ...((out["$inc"] as Record<string, number> | undefined) ?? {}), _v: 1 };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `value` is plain JSON and returns a deep copy of it (undefined object properties
 * dropped, as JSON does). Rejects what MongoDB would store as something else or refuse.
 */
function toJsonValue(value: unknown, path: string, ancestors: object[] = []): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new StoreUsageError(`${path}: number ${value} is not finite`);
    return value;
  }
  if (value === undefined) throw new StoreUsageError(`${path}: undefined is not a JSON value`);
  if (typeof value !== "object") throw new StoreUsageError(`${path}: a ${typeof value} is not a JSON value`);
  if (ancestors.includes(value)) throw new StoreUsageError(`${path}: circular reference`);
  if (ancestors.length > 90) throw new StoreUsageError(`${path}: nested too deeply`);
  const inner = [...ancestors, value];
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new StoreUsageError(`${path}[${i}]: sparse arrays are not JSON`);
      out.push(toJsonValue(value[i], `${path}[${i}]`, inner));
    }
    return out;
  }
  if (!isPlainObject(value)) {
    const kind =
      value instanceof Date
        ? "a Date (store an ISO-8601 string)"
        : ArrayBuffer.isView(value) || value instanceof ArrayBuffer
          ? "binary data (use the blob store)"
          : `a ${(value as { constructor?: { name?: string } }).constructor?.name ?? "non-plain"} object`;
    throw new StoreUsageError(`${path}: ${kind} is not a JSON value`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const at = `${path}.${k}`;
    if (k.startsWith("$") || k.includes(".") || k.includes("\u0000")) {
      throw new StoreUsageError(`${at}: key ${JSON.stringify(k)} starts with "$" or contains "." or NUL`);
    }
    if (v === undefined) continue;
    setOwn(out, k, toJsonValue(v, at, inner));
  }
  return out;
}

/** A driver document as plain JSON data: plain objects and arrays, no BSON classes. */
function toPlain(value: unknown, ferret: boolean): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => toPlain(v, ferret));
  if (value instanceof Date) return value.toISOString();
  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bsonType === "string") {
    switch (bsonType) {
      case "ObjectId":
        return (value as { toHexString(): string }).toHexString();
      case "Long":
      case "Int32":
      case "Double":
      case "Decimal128":
        return Number(String(value));
      case "Binary":
        return (value as { toString(encoding: "base64"): string }).toString("base64");
      default:
        return String(value);
    }
  }
  if (ferret) {
    const keys = Object.keys(value);
    const items = (value as Record<string, unknown>)[NESTED_ARRAY];
    if (keys.length === 1 && keys[0] === NESTED_ARRAY && Array.isArray(items)) return toPlain(items, ferret);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setOwn(out, k, toPlain(v, ferret));
  return out;
}

/**
 * FerretDB 1.x refuses arrays directly inside arrays ("nested arrays are not supported"), so
 * there an inner array is stored as `{ [NESTED_ARRAY]: [...] }` and turned back on reading.
 * No filter of the port can look inside an array element, so queries are unaffected.
 */
const NESTED_ARRAY = "__nested_array__";

function encodeNestedArrays(value: unknown, inArray: boolean, path: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v, i) => encodeNestedArrays(v, true, `${path}[${i}]`));
    return inArray ? { [NESTED_ARRAY]: items } : items;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === NESTED_ARRAY) throw new StoreUsageError(`${path}.${k}: this key is reserved by the FerretDB adapter`);
    setOwn(out, k, encodeNestedArrays(v, false, `${path}.${k}`));
  }
  return out;
}

/** Defines an own property, even for "__proto__" (plain assignment would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Errors

function isDuplicateKeyError(e: unknown): boolean {
  if (!(e instanceof MongoError)) return false;
  if (e.code === 11000 || e.code === 11001) return true;
  // FerretDB 1.x reports a unique-index clash during an update as an internal error.
  return /UNIQUE constraint failed/.test(e.message);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, "//***@");
}
