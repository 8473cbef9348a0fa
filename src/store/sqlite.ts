/**
 * The embedded SQLite adapter of the storage port (see port.ts).
 *
 * One database file, one table per collection (`id TEXT PRIMARY KEY, doc TEXT NOT NULL`,
 * the document as JSON text with `_id` and `_v` inside it too). Index specs become
 * expression indexes on `json_extract(doc, '$.path')`, so SQLite itself enforces
 * uniqueness. The filter language is translated to SQL with MongoDB's semantics for
 * missing fields, nulls and types (see `compileFilter`). Single-document updates run in a
 * `BEGIN IMMEDIATE` transaction: match, apply in JS, write back — so two connections on
 * the same file can never both win a conditional update.
 *
 * Identifiers (table and index names) are validated and double-quoted; JSON paths are
 * validated field paths written as SQL string literals (so that queries match the
 * expression indexes); every value is a bound parameter.
 */
import { mkdirSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { afterCursorFilter, encodeCursor, withIdTieBreak } from "./cursor.ts";
import { GroupSync } from "./group-sync.ts";
import {
  assertCollectionName,
  assertFieldPath,
  DuplicateKeyError,
  StoreUsageError,
  type Collection,
  type DocumentStore,
  type FieldCondition,
  type Filter,
  type FindOptions,
  type IndexSpec,
  type JsonValue,
  type NewDocument,
  type Page,
  type Scalar,
  type Sort,
  type Stored,
  type Update,
} from "./port.ts";

type Db = Database.Database;
type Param = string | number;

/** A compiled SQL fragment and its bound parameters, in order. */
interface Sql {
  text: string;
  params: Param[];
}

const TABLE_ALIAS = "t";

export async function openSqliteStore(file: string): Promise<DocumentStore> {
  if (file !== ":memory:" && file !== "") mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db, file === ":memory:" || file === "" ? null : file);
}

/**
 * WAL with synchronous=NORMAL: every commit is atomic and survives the process dying (it is in
 * the WAL file, in the OS's cache) without an fsync each. Durability against power loss comes
 * from `sync()`: one fdatasync of the WAL file, shared by every caller waiting at that moment
 * (the run path asks once per run). SQLite syncs the WAL before each checkpoint and the database
 * after it, so frames that a checkpoint moved are durable already. The WAL keeps its inode while
 * the database is open, so its handle is opened once (opening it per flush cost ~1 ms of the API
 * thread); the first flush also syncs the directory, which holds the WAL's name.
 */
class WalFlusher {
  readonly #file: string;
  #wal: FileHandle | null = null;
  #directorySynced = false;

  constructor(file: string) {
    this.#file = file;
  }

  async flush(): Promise<void> {
    if (!this.#wal) {
      try {
        this.#wal = await open(`${this.#file}-wal`, "r");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        return syncPath(this.#file); // nothing written since the WAL went away: the database holds it all
      }
    }
    await this.#wal.datasync();
    if (!this.#directorySynced) {
      await syncPath(dirname(this.#file));
      this.#directorySynced = true;
    }
  }

  async close(): Promise<void> {
    const wal = this.#wal;
    this.#wal = null;
    await wal?.close();
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

class SqliteStore implements DocumentStore {
  readonly kind = "sqlite" as const;
  readonly #db: Db;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #durable: GroupSync | null;
  readonly #wal: WalFlusher | null;

  constructor(db: Db, file: string | null) {
    this.#db = db;
    this.#wal = file === null ? null : new WalFlusher(file);
    const wal = this.#wal;
    this.#durable = wal === null ? null : new GroupSync(() => wal.flush());
  }

  async sync(): Promise<void> {
    if (this.#durable && this.#db.open) await this.#durable.sync();
  }

  get flushes(): number {
    return this.#durable?.flushes ?? 0;
  }

  async collection<T extends object>(name: string, indexes: IndexSpec[] = []): Promise<Collection<T>> {
    assertCollectionName(name);
    if (/^sqlite_/i.test(name)) throw new StoreUsageError(`invalid collection name ${JSON.stringify(name)}`);
    if (!Array.isArray(indexes)) throw new StoreUsageError("indexes must be an array");
    const ddl: string[] = [`CREATE TABLE IF NOT EXISTS ${quoteIdent(name)} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`];
    for (const spec of indexes) {
      if (!spec || !Array.isArray(spec.fields) || spec.fields.length === 0) {
        throw new StoreUsageError(`index on ${name} needs at least one field`);
      }
      spec.fields.forEach(assertFieldPath);
      if (new Set(spec.fields).size !== spec.fields.length) {
        throw new StoreUsageError(`index on ${name} repeats a field: ${spec.fields.join(", ")}`);
      }
      const unique = spec.unique === true;
      const columns = spec.fields.map((f) => fieldExpr(f)).join(", ");
      ddl.push(
        `CREATE ${unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${quoteIdent(indexName(name, spec.fields, unique))} ` +
          `ON ${quoteIdent(name)} (${columns})`,
      );
    }
    this.#db
      .transaction(() => {
        for (const stmt of ddl) this.#db.exec(stmt);
      })
      .immediate();
    return new SqliteCollection<T>(this, name);
  }

  async ping(): Promise<void> {
    this.#db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    this.#statements.clear();
    await this.#wal?.close();
    if (this.#db.open) this.#db.close();
  }

  /** A prepared statement for `sql`, cached (filters with long `$in` lists vary in shape). */
  statement(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      if (this.#statements.size >= 500) this.#statements.clear();
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs `fn` inside BEGIN IMMEDIATE … COMMIT (rolled back if it throws). */
  immediate<R>(fn: () => R): R {
    return this.#db.transaction(fn).immediate();
  }
}

interface Row {
  id: string;
  doc: string;
}

class SqliteCollection<T extends object> implements Collection<T> {
  readonly name: string;
  readonly #store: SqliteStore;
  readonly #table: string;

  constructor(store: SqliteStore, name: string) {
    this.#store = store;
    this.name = name;
    this.#table = quoteIdent(name);
  }

  async insert(doc: NewDocument<T>): Promise<Stored<T>> {
    if (!isPlainObject(doc)) throw new StoreUsageError(`insert into ${this.name}: document must be a plain object`);
    const id = (doc as { _id?: unknown })._id;
    if (typeof id !== "string") throw new StoreUsageError(`insert into ${this.name}: _id must be a string`);
    assertJson(doc, "");
    const stored = { ...(doc as object), _id: id, _v: 1 };
    const text = JSON.stringify(stored);
    try {
      this.#store.statement(`INSERT INTO ${this.#table} (id, doc) VALUES (?, ?)`).run(id, text);
    } catch (err) {
      throw this.#mapError(err);
    }
    return JSON.parse(text) as Stored<T>;
  }

  async get(id: string): Promise<Stored<T> | null> {
    if (typeof id !== "string") throw new StoreUsageError(`get from ${this.name}: id must be a string`);
    const row = this.#store.statement(`SELECT doc FROM ${this.#table} WHERE id = ?`).get(id) as Pick<Row, "doc"> | undefined;
    return row ? (JSON.parse(row.doc) as Stored<T>) : null;
  }

  async findOne(filter: Filter, options: { sort?: Sort } = {}): Promise<Stored<T> | null> {
    const where = compileFilter(filter);
    const order = compileSort(options.sort);
    const row = this.#store
      .statement(`SELECT ${TABLE_ALIAS}.doc FROM ${this.#table} AS ${TABLE_ALIAS} WHERE ${where.text} ORDER BY ${order} LIMIT 1`)
      .get(...where.params) as Pick<Row, "doc"> | undefined;
    return row ? (JSON.parse(row.doc) as Stored<T>) : null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Page<Stored<T>>> {
    const { sort = [], limit, after } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new StoreUsageError(`find limit must be an integer ≥ 1, got ${String(limit)}`);
    }
    const order = compileSort(sort);
    let effective: Filter = filter;
    if (after !== undefined) {
      if (typeof after !== "string") throw new StoreUsageError("find cursor must be a string");
      effective = { $and: [filter, afterCursorFilter(sort, after)] };
    }
    const where = compileFilter(effective);
    let sql = `SELECT ${TABLE_ALIAS}.doc FROM ${this.#table} AS ${TABLE_ALIAS} WHERE ${where.text} ORDER BY ${order}`;
    const params: Param[] = [...where.params];
    if (limit !== undefined) {
      sql += " LIMIT ?";
      params.push(limit + 1);
    }
    const rows = this.#store.statement(sql).all(...params) as Array<Pick<Row, "doc">>;
    const more = limit !== undefined && rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map((r) => JSON.parse(r.doc) as Stored<T>);
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? encodeCursor(sort, last) : null };
  }

  async count(filter: Filter = {}): Promise<number> {
    const where = compileFilter(filter);
    const row = this.#store.statement(`SELECT count(*) AS n FROM ${this.#table} AS ${TABLE_ALIAS} WHERE ${where.text}`).get(...where.params) as {
      n: number;
    };
    return row.n;
  }

  async updateOne(filter: Filter, update: Update): Promise<Stored<T> | null> {
    const where = compileFilter(filter);
    const ops = checkUpdate(update);
    const select = this.#store.statement(
      `SELECT ${TABLE_ALIAS}.id AS id, ${TABLE_ALIAS}.doc AS doc FROM ${this.#table} AS ${TABLE_ALIAS} ` +
        `WHERE ${where.text} ORDER BY ${TABLE_ALIAS}.id LIMIT 1`,
    );
    const write = this.#store.statement(`UPDATE ${this.#table} SET doc = ? WHERE id = ?`);
    try {
      return this.#store.immediate(() => {
        const row = select.get(...where.params) as Row | undefined;
        if (!row) return null;
        const doc = JSON.parse(row.doc) as Record<string, JsonValue>;
        applyUpdate(doc, ops);
        const version = doc._v;
        doc._v = (typeof version === "number" ? version : 0) + 1;
        doc._id = row.id;
        const text = JSON.stringify(doc);
        write.run(text, row.id);
        return JSON.parse(text) as Stored<T>;
      });
    } catch (err) {
      throw this.#mapError(err);
    }
  }

  async updateVersion(id: string, version: number, update: Update): Promise<Stored<T> | null> {
    if (typeof id !== "string") throw new StoreUsageError(`updateVersion on ${this.name}: id must be a string`);
    if (!Number.isInteger(version)) throw new StoreUsageError(`updateVersion on ${this.name}: version must be an integer`);
    return this.updateOne({ _id: id, _v: version }, update);
  }

  async delete(id: string): Promise<boolean> {
    if (typeof id !== "string") throw new StoreUsageError(`delete from ${this.name}: id must be a string`);
    return this.#store.statement(`DELETE FROM ${this.#table} WHERE id = ?`).run(id).changes > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const where = compileFilter(filter);
    return this.#store.statement(`DELETE FROM ${this.#table} AS ${TABLE_ALIAS} WHERE ${where.text}`).run(...where.params).changes;
  }

  /** SQLite unique violations → DuplicateKeyError with the clashing index's fields. */
  #mapError(err: unknown): unknown {
    if (!(err instanceof Database.SqliteError)) return err;
    if (err.code === "SQLITE_CONSTRAINT_PRIMARYKEY") return new DuplicateKeyError(this.name, ["_id"]);
    if (err.code === "SQLITE_CONSTRAINT_UNIQUE") {
      const fields = fieldsFromIndexName(err.message);
      if (fields) return new DuplicateKeyError(this.name, fields);
      if (/\.id$/.test(err.message)) return new DuplicateKeyError(this.name, ["_id"]);
    }
    return err;
  }
}

// ─── identifiers and paths ──────────────────────────────────────────────────────────────

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Index names carry their fields so that any connection can map a violation back to them. */
function indexName(collection: string, fields: string[], unique: boolean): string {
  return `${unique ? "ux" : "ix"}:${collection}:${fields.join(",")}`;
}

/**
 * Parses "UNIQUE constraint failed: index 'ux:coll:a,b.c'" back into ["a", "b.c"]. The
 * violation came from this collection's table, so the collection part is not compared
 * (SQLite table names are case-insensitive; the index may carry another spelling).
 */
function fieldsFromIndexName(message: string): string[] | null {
  const m = /index 'ux:[A-Za-z0-9_]+:([A-Za-z0-9_.,]+)'/.exec(message);
  return m?.[1] ? m[1].split(",") : null;
}

/** A validated field path as a JSON path SQL literal, e.g. '$.a.b'. */
function jsonPath(path: string): string {
  assertFieldPath(path);
  return `'$.${path.replace(/'/g, "''")}'`;
}

/** The expression for a field's value; `_id` is the primary-key column. Also used in DDL. */
function fieldExpr(path: string, alias?: string): string {
  const col = alias ? `${alias}.` : "";
  if (path === "_id") return `${col}id`;
  return `json_extract(${col}doc, ${jsonPath(path)})`;
}

/** json_type of a field: NULL when missing, 'null', 'true', 'false', 'integer', 'real', 'text', 'array', 'object'. */
function typeExpr(path: string, alias: string): string {
  if (path === "_id") return `'text'`;
  return `json_type(${alias}.doc, ${jsonPath(path)})`;
}

// ─── filters ────────────────────────────────────────────────────────────────────────────

const OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$contains"]);

/**
 * Translates a port filter into a WHERE clause over table alias `t`.
 *
 * MongoDB semantics kept: equality with null matches a missing or null field; `$ne` and
 * `$nin` match missing fields; comparisons never match missing or null, and compare only
 * within a type (a number bound matches JSON numbers, a string bound JSON text); `true`
 * is not `1`. Every generated predicate is two-valued (0/1), never NULL, so negation and
 * nesting are safe.
 */
export function compileFilter(filter: Filter): Sql {
  const params: Param[] = [];
  const text = filterSql(filter, params);
  return { text, params };
}

function filterSql(filter: Filter, params: Param[]): string {
  if (!isPlainObject(filter)) throw new StoreUsageError("a filter must be a plain object");
  const parts: string[] = [];
  for (const key of Object.keys(filter)) {
    const value = (filter as Record<string, unknown>)[key];
    // JSON semantics (as in the MongoDB adapter): an undefined property is absent.
    if (value === undefined) continue;
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value)) throw new StoreUsageError(`${key} needs an array of filters`);
      // An empty conjunction matches everything, an empty disjunction nothing.
      if (value.length === 0) {
        parts.push(key === "$and" ? "1" : "0");
        continue;
      }
      const subs = value.map((f: unknown) => `(${filterSql(f as Filter, params)})`);
      parts.push(`(${subs.join(key === "$and" ? " AND " : " OR ")})`);
    } else if (key.startsWith("$")) {
      throw new StoreUsageError(`unknown filter operator ${key}`);
    } else {
      assertFieldPath(key);
      parts.push(conditionSql(key, value, params));
    }
  }
  return parts.length === 0 ? "1" : parts.join(" AND ");
}

function conditionSql(path: string, cond: unknown, params: Param[]): string {
  if (Array.isArray(cond)) {
    throw new StoreUsageError(`equality with an array on ${path} is not supported (use $contains)`);
  }
  if (!isPlainObject(cond)) {
    return eqSql(path, scalarOperand(path, "equality", cond), params);
  }
  const ops = cond as Exclude<FieldCondition, Scalar>;
  const keys = Object.keys(ops).filter((k) => (ops as Record<string, unknown>)[k] !== undefined);
  for (const op of keys) {
    if (!OPERATORS.has(op)) throw new StoreUsageError(`unknown operator ${op} on ${path}`);
  }
  if (keys.length === 0) throw new StoreUsageError(`empty condition on ${path}`);
  const parts: string[] = [];
  for (const op of keys) {
    const operand = (ops as Record<string, unknown>)[op];
    switch (op) {
      case "$eq":
        parts.push(eqSql(path, scalarOperand(path, op, operand), params));
        break;
      case "$ne":
        parts.push(`NOT ${eqSql(path, scalarOperand(path, op, operand), params)}`);
        break;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        parts.push(compareSql(path, op, operand, params));
        break;
      case "$in":
        parts.push(inSql(path, listOperand(path, op, operand), params));
        break;
      case "$nin":
        parts.push(`NOT ${inSql(path, listOperand(path, op, operand), params)}`);
        break;
      case "$exists":
        if (typeof operand !== "boolean") throw new StoreUsageError(`$exists on ${path} needs true or false`);
        parts.push(`(${typeExpr(path, TABLE_ALIAS)} IS ${operand ? "NOT NULL" : "NULL"})`);
        break;
      case "$contains":
        parts.push(containsSql(path, scalarOperand(path, op, operand), params));
        break;
    }
  }
  return parts.join(" AND ");
}

/** A two-valued predicate: the field equals `value` (null: missing or null). */
function eqSql(path: string, value: Scalar, params: Param[]): string {
  const x = fieldExpr(path, TABLE_ALIAS);
  const t = typeExpr(path, TABLE_ALIAS);
  if (value === null) return `(${x} IS NULL)`;
  // `IS` instead of `=` keeps the result 0/1 when the field is missing (json_type NULL).
  if (value === true) return `(${x} IS 1 AND ${t} IS 'true')`;
  if (value === false) return `(${x} IS 0 AND ${t} IS 'false')`;
  params.push(value);
  if (typeof value === "number") return `(${x} IS ? AND ${isNumber(t)})`;
  return `(${x} IS ? AND ${t} IS 'text')`;
}

/** Two-valued "is a JSON number" (json_type NULL for a missing field gives 0, not NULL). */
function isNumber(t: string): string {
  return `(${t} IS 'integer' OR ${t} IS 'real')`;
}

function compareSql(path: string, op: string, operand: unknown, params: Param[]): string {
  const sqlOp = op === "$gt" ? ">" : op === "$gte" ? ">=" : op === "$lt" ? "<" : "<=";
  const x = fieldExpr(path, TABLE_ALIAS);
  const t = typeExpr(path, TABLE_ALIAS);
  if (typeof operand === "number") {
    if (!Number.isFinite(operand)) throw new StoreUsageError(`${op} on ${path} needs a finite number`);
    params.push(operand);
    return `(${isNumber(t)} AND ${x} ${sqlOp} ?)`;
  }
  if (typeof operand === "string") {
    params.push(operand);
    return `(${t} IS 'text' AND ${x} ${sqlOp} ?)`;
  }
  throw new StoreUsageError(`${op} on ${path} needs a number or a string`);
}

/** Membership, grouped by type so that each group can use an index; empty → matches nothing. */
function inSql(path: string, values: Scalar[], params: Param[]): string {
  if (values.length === 0) return "(0)";
  const x = fieldExpr(path, TABLE_ALIAS);
  const t = typeExpr(path, TABLE_ALIAS);
  const strings = [...new Set(values.filter((v): v is string => typeof v === "string"))];
  const numbers = [...new Set(values.filter((v): v is number => typeof v === "number"))];
  const branches: string[] = [];
  if (strings.length > 0) {
    branches.push(`(${t} IS 'text' AND ${x} IN (${strings.map(() => "?").join(", ")}))`);
    params.push(...strings);
  }
  if (numbers.length > 0) {
    branches.push(`(${isNumber(t)} AND ${x} IN (${numbers.map(() => "?").join(", ")}))`);
    params.push(...numbers);
  }
  if (values.includes(true)) branches.push(eqSql(path, true, params));
  if (values.includes(false)) branches.push(eqSql(path, false, params));
  if (values.includes(null)) branches.push(eqSql(path, null, params));
  // Each branch checks the type first, so `x IN (…)` is only reached with a non-null x.
  return `(${branches.join(" OR ")})`;
}

/** The field is an array holding `value` (compared with the same type care as equality). */
function containsSql(path: string, value: Scalar, params: Param[]): string {
  const p = jsonPath(path);
  let elem: string;
  if (value === null) elem = `je.type = 'null'`;
  else if (value === true) elem = `je.type = 'true'`;
  else if (value === false) elem = `je.type = 'false'`;
  else {
    params.push(value);
    elem = typeof value === "number" ? `je.type IN ('integer', 'real') AND je.value = ?` : `je.type = 'text' AND je.value = ?`;
  }
  return `(json_type(${TABLE_ALIAS}.doc, ${p}) IS 'array' AND ` + `EXISTS (SELECT 1 FROM json_each(${TABLE_ALIAS}.doc, ${p}) AS je WHERE ${elem}))`;
}

function scalarOperand(path: string, op: string, value: unknown): Scalar {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new StoreUsageError(`${op} on ${path} needs a finite number`);
    return value;
  }
  throw new StoreUsageError(`${op} on ${path} needs a string, number, boolean or null`);
}

function listOperand(path: string, op: string, value: unknown): Scalar[] {
  if (!Array.isArray(value)) throw new StoreUsageError(`${op} on ${path} needs an array`);
  return value.map((v: unknown) => scalarOperand(path, op, v));
}

function compileSort(sort: Sort | undefined): string {
  if (sort !== undefined && !Array.isArray(sort)) throw new StoreUsageError("sort must be an array of [path, 1 | -1]");
  const seen = new Set<string>();
  return withIdTieBreak(sort ?? [])
    .map((entry) => {
      if (!Array.isArray(entry) || entry.length !== 2) throw new StoreUsageError("sort must be an array of [path, 1 | -1]");
      const [path, dir] = entry;
      assertFieldPath(path);
      if (dir !== 1 && dir !== -1) throw new StoreUsageError(`sort direction on ${path} must be 1 or -1`);
      if (seen.has(path)) throw new StoreUsageError(`sort lists ${path} twice`);
      seen.add(path);
      return `${fieldExpr(path, TABLE_ALIAS)} ${dir === 1 ? "ASC" : "DESC"}`;
    })
    .join(", ");
}

// ─── documents and updates ──────────────────────────────────────────────────────────────

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Throws StoreUsageError unless `value` is plain JSON: strings, finite numbers, booleans,
 * null, arrays (no holes or undefined) and plain objects (undefined properties are dropped,
 * as JSON.stringify does). Like the MongoDB adapter, keys may not be empty, start with "$"
 * or contain "." or NUL, and nesting is limited (BSON allows 100 levels).
 */
function assertJson(value: unknown, path: string, seen: Set<object> = new Set()): void {
  const where = path === "" ? "document" : path;
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new StoreUsageError(`${where}: ${String(value)} is not a finite number`);
      return;
    case "object":
      break;
    default:
      throw new StoreUsageError(`${where}: a ${typeof value} is not JSON`);
  }
  if (value === null) return;
  if (seen.has(value)) throw new StoreUsageError(`${where}: circular reference`);
  if (seen.size > 90) throw new StoreUsageError(`${where}: nested too deeply`);
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new StoreUsageError(`${path}[${i}]: undefined is not JSON`);
      assertJson(item, `${path}[${i}]`, seen);
    }
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const at = path === "" ? k : `${path}.${k}`;
      if (k === "" || k.startsWith("$") || k.includes(".") || k.includes("\u0000")) {
        throw new StoreUsageError(`${at}: key ${JSON.stringify(k)} is empty, starts with "$" or contains "."`);
      }
      if (v !== undefined) assertJson(v, at, seen);
    }
  } else {
    const kind = (value as object).constructor?.name ?? "object";
    throw new StoreUsageError(`${where}: a ${kind} is not plain JSON`);
  }
  seen.delete(value);
}

interface UpdateOps {
  set: Array<[string, JsonValue]>;
  unset: string[];
  inc: Array<[string, number]>;
  push: Array<[string, JsonValue]>;
}

const UPDATE_KEYS = new Set(["$set", "$unset", "$inc", "$push"]);

/** Validates an update up front (operators, paths, values, conflicts) before any I/O. */
function checkUpdate(update: Update): UpdateOps {
  if (!isPlainObject(update)) throw new StoreUsageError("an update must be a plain object");
  for (const key of Object.keys(update)) {
    if ((update as Record<string, unknown>)[key] === undefined) continue;
    if (!UPDATE_KEYS.has(key)) throw new StoreUsageError(`unknown update operator ${key}`);
  }
  const ops: UpdateOps = { set: [], unset: [], inc: [], push: [] };
  const paths: string[] = [];
  const usePath = (op: string, path: string): void => {
    assertFieldPath(path);
    const head = path.split(".")[0];
    if (head === "_id" || head === "_v") throw new StoreUsageError(`${op} cannot change ${path}`);
    paths.push(path);
  };
  // Undefined values are skipped (JSON semantics, as in the MongoDB adapter).
  const entries = (op: string, value: unknown): Array<[string, unknown]> => {
    if (value === undefined) return [];
    if (!isPlainObject(value)) throw new StoreUsageError(`${op} needs an object of paths`);
    return Object.entries(value).filter(([, v]) => v !== undefined);
  };
  for (const [path, value] of entries("$set", update.$set)) {
    usePath("$set", path);
    assertJson(value, path);
    ops.set.push([path, value as JsonValue]);
  }
  if (update.$unset !== undefined) {
    if (!Array.isArray(update.$unset)) throw new StoreUsageError("$unset needs an array of paths");
    for (const path of update.$unset as unknown[]) {
      if (typeof path !== "string") throw new StoreUsageError("$unset needs an array of paths");
      usePath("$unset", path);
      ops.unset.push(path);
    }
  }
  for (const [path, value] of entries("$inc", update.$inc)) {
    usePath("$inc", path);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new StoreUsageError(`$inc.${path} needs a finite number`);
    }
    ops.inc.push([path, value]);
  }
  for (const [path, value] of entries("$push", update.$push)) {
    usePath("$push", path);
    assertJson(value, path);
    ops.push.push([path, value as JsonValue]);
  }
  // Like MongoDB: one update may not touch the same path twice, or a path and its parent.
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a === b || b.startsWith(`${a}.`)) throw new StoreUsageError(`update paths conflict: ${a} and ${b}`);
  }
  return ops;
}

type JsonObject = { [key: string]: JsonValue };

function ownGet(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Assigns an own property even for keys like "__proto__". */
function ownSet(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** The object holding the last segment of `path`, creating missing parents when asked. */
function parentOf(doc: JsonObject, path: string, create: boolean): [JsonObject, string] | null {
  const parts = path.split(".");
  const last = parts.pop()!;
  let obj = doc;
  for (const part of parts) {
    const next = ownGet(obj, part);
    if (next === undefined) {
      if (!create) return null;
      const fresh: JsonObject = {};
      ownSet(obj, part, fresh);
      obj = fresh;
    } else if (isPlainObject(next)) {
      obj = next as JsonObject;
    } else {
      if (!create) return null;
      throw new StoreUsageError(`cannot create ${path}: ${part} is not an object`);
    }
  }
  return [obj, last];
}

function clone(value: JsonValue): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function applyUpdate(doc: JsonObject, ops: UpdateOps): void {
  for (const [path, value] of ops.set) {
    const [obj, key] = parentOf(doc, path, true)!;
    ownSet(obj, key, clone(value));
  }
  for (const path of ops.unset) {
    const found = parentOf(doc, path, false);
    if (found) delete found[0][found[1]];
  }
  for (const [path, by] of ops.inc) {
    const [obj, key] = parentOf(doc, path, true)!;
    const current = ownGet(obj, key);
    if (current !== undefined && typeof current !== "number") {
      throw new StoreUsageError(`$inc.${path}: the field is not a number`);
    }
    const next = (current ?? 0) + by;
    if (!Number.isFinite(next)) throw new StoreUsageError(`$inc.${path}: the result is not a finite number`);
    ownSet(obj, key, next);
  }
  for (const [path, value] of ops.push) {
    const [obj, key] = parentOf(doc, path, true)!;
    const current = ownGet(obj, key);
    if (current === undefined) ownSet(obj, key, [clone(value)]);
    else if (Array.isArray(current)) current.push(clone(value));
    else throw new StoreUsageError(`$push.${path}: the field is not an array`);
  }
}
