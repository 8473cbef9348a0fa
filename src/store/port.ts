/**
 * The storage port: the only way the service touches its document database.
 *
 * It is deliberately narrow so that it holds on SQLite (embedded default) and on any
 * MongoDB-wire server, including FerretDB 1.x: no multi-document transactions, no joins,
 * no aggregation pipeline. Every invariant the service keeps (money, budgets, the audit
 * sequence) is built from single-document atomic updates and unique indexes.
 *
 * Documents are plain JSON: strings, finite numbers, booleans, null, arrays and objects.
 * Times are ISO-8601 strings (they sort correctly as text); money is integer minor units.
 * Every document has a string `_id` chosen by the caller and a version `_v` that the
 * store sets to 1 on insert and increments on every update.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Scalar = string | number | boolean | null;

export interface StoredFields {
  _id: string;
  _v: number;
}

/** A document as stored: the caller's fields plus `_id` and `_v`. */
export type Stored<T extends object> = T & StoredFields;

/** What a caller inserts: `_v` is assigned by the store. */
export type NewDocument<T extends object> = T & { _id: string };

/**
 * The filter language. A filter is an object whose keys are field paths (dots for nested
 * fields) or `$and` / `$or`; a plain value means equality.
 *   { email: "a@b.c" }                      equality (null matches missing or null)
 *   { amount: { $gte: 10, $lt: 20 } }       comparisons on numbers or strings
 *   { status: { $in: ["draft", "live"] } }  membership ($nin for the opposite)
 *   { status: { $ne: "deleted" } }          inequality (matches missing fields)
 *   { revokedAt: { $exists: false } }       presence
 *   { tags: { $contains: "税务" } }          array field holds this element
 *   { $or: [ {...}, {...} ] }, { $and: [...] }
 * Comparisons ($gt, $gte, $lt, $lte) never match a missing or null field, and only match
 * values of the operand's type (numbers with numbers, strings with strings).
 * Array fields are queried with `$contains` only: equality, `$in` and comparisons look at a
 * field's value as a whole and never match an array (unlike MongoDB's implicit element match),
 * so both adapters agree.
 */
export type FieldCondition =
  | Scalar
  | {
      $eq?: Scalar;
      $ne?: Scalar;
      $gt?: string | number;
      $gte?: string | number;
      $lt?: string | number;
      $lte?: string | number;
      $in?: Scalar[];
      $nin?: Scalar[];
      $exists?: boolean;
      $contains?: Scalar;
    };

export interface Filter {
  $and?: Filter[];
  $or?: Filter[];
  [path: string]: FieldCondition | Filter[] | undefined;
}

export type SortDirection = 1 | -1;
/** Sort keys in priority order; `_id` ascending is always the final tie-breaker. */
export type Sort = Array<[path: string, direction: SortDirection]>;

export interface FindOptions {
  sort?: Sort;
  /** At most this many documents (required to be ≥ 1 when given). */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`; the sort must be the same. */
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** Cursor that continues after the last item, or null when there is nothing more. */
  nextCursor: string | null;
}

/**
 * A change applied atomically to one document.
 *   $set:   fields (paths) to set
 *   $unset: fields (paths) to remove
 *   $inc:   numeric fields to add to (a missing field counts as 0)
 *   $push:  values appended to array fields (a missing field becomes a one-element array)
 * `_id` and `_v` cannot be changed; `_v` is incremented by the store.
 */
export interface Update {
  $set?: Record<string, JsonValue>;
  $unset?: string[];
  $inc?: Record<string, number>;
  $push?: Record<string, JsonValue>;
}

export interface IndexSpec {
  /** Field paths, in order. */
  fields: string[];
  /**
   * Unique indexes must cover fields present and non-null on every document: backends differ
   * on whether missing or null values clash (SQLite: never; MongoDB: missing = null, clash).
   */
  unique?: boolean;
}

export interface Collection<T extends object> {
  readonly name: string;
  /** Inserts a new document; throws DuplicateKeyError when `_id` or a unique index clashes. */
  insert(doc: NewDocument<T>): Promise<Stored<T>>;
  get(id: string): Promise<Stored<T> | null>;
  findOne(filter: Filter, options?: { sort?: Sort }): Promise<Stored<T> | null>;
  find(filter: Filter, options?: FindOptions): Promise<Page<Stored<T>>>;
  count(filter?: Filter): Promise<number>;
  /**
   * Applies `update` to the one document that matches `filter` (the first by `_id` if
   * several do), atomically: matching and writing happen as one step, so two concurrent
   * calls with the same conditional filter cannot both succeed. Returns the document as
   * updated, or null when nothing matched. Throws DuplicateKeyError if the change would
   * break a unique index (and then changes nothing).
   */
  updateOne(filter: Filter, update: Update): Promise<Stored<T> | null>;
  /** Optimistic concurrency: updates document `id` only if its `_v` is still `version`. */
  updateVersion(id: string, version: number, update: Update): Promise<Stored<T> | null>;
  /** Deletes one document by id; returns whether it existed. */
  delete(id: string): Promise<boolean>;
  /** Deletes every document matching the filter; returns how many. */
  deleteMany(filter: Filter): Promise<number>;
}

export interface DocumentStore {
  readonly kind: "sqlite" | "mongodb";
  /** Opens (creating if needed) a collection with its indexes. Idempotent. */
  collection<T extends object>(name: string, indexes?: IndexSpec[]): Promise<Collection<T>>;
  /** Resolves when the store answers a trivial request; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Makes every write this store has acknowledged so far durable against power loss, not only
   * against the process dying (which an acknowledged write always survives). Concurrent callers
   * share one flush (group commit). The run path calls it once per run, before the answer can be
   * read; the audit log before it signs a checkpoint.
   */
  sync(): Promise<void>;
  /** Durable flushes `sync()` has made so far (one serves every caller waiting at the time). */
  readonly flushes: number;
  close(): Promise<void>;
}

/** The one error both adapters raise when a unique index (or `_id`) would be duplicated. */
export class DuplicateKeyError extends Error {
  readonly collection: string;
  /** The clashing index's fields, e.g. ["email"], or ["_id"]. */
  readonly fields: string[];
  constructor(collection: string, fields: string[]) {
    super(`duplicate key in ${collection} on (${fields.join(", ")})`);
    this.name = "DuplicateKeyError";
    this.collection = collection;
    this.fields = fields;
  }
}

/** Raised for a filter, update or option the port does not support: a programming error. */
export class StoreUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUsageError";
  }
}

/**
 * Blob store: large binary chunks (dataset columns), addressed by slash-separated keys.
 * A key must not also be the "folder" of another key (`a/b` and `a/b/c` cannot both exist
 * on the file store): name chunks as leaves, e.g. `datasets/ds_1/v1/chunk-000.bin`.
 */
export interface BlobStore {
  readonly kind: "files" | "gridfs";
  /** Writes the whole blob; replaces an existing blob of the same key atomically. */
  put(key: string, data: Uint8Array): Promise<void>;
  /** The whole blob, or null if absent. */
  get(key: string): Promise<Uint8Array | null>;
  exists(key: string): Promise<boolean>;
  /** Returns whether it existed. */
  delete(key: string): Promise<boolean>;
  /** Keys that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every blob whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

/** Blob keys: segments of [A-Za-z0-9._-] separated by "/", no empty or dot-only segment. */
export function assertBlobKey(key: string): void {
  const ok = key.length > 0 && key.length <= 512 && key.split("/").every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== "." && s !== "..");
  if (!ok) throw new StoreUsageError(`invalid blob key ${JSON.stringify(key)}`);
}

/** Collection names: a letter then letters, digits or underscores. */
export function assertCollectionName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new StoreUsageError(`invalid collection name ${JSON.stringify(name)}`);
  }
}

/** Field paths: dot-separated identifiers (no `$`, no empty segments). */
export function assertFieldPath(path: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) {
    throw new StoreUsageError(`invalid field path ${JSON.stringify(path)}`);
  }
}
