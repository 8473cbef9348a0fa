/**
 * Keyset pagination shared by both adapters: a cursor remembers the sort values of the
 * last item of a page, and the next page is "everything after it" expressed in the
 * port's own filter language. Sort fields must be present and non-null on every document
 * of the collection being paged (ids, times and numbers we always write).
 */
import { StoreUsageError, type Filter, type Scalar, type Sort } from "./port.ts";

/** The full sort order: the caller's keys, then `_id` ascending as the tie-breaker. */
export function withIdTieBreak(sort: Sort = []): Sort {
  return sort.some(([p]) => p === "_id") ? sort : [...sort, ["_id", 1]];
}

function valueAt(doc: object, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function encodeCursor(sort: Sort, doc: object): string {
  const values = withIdTieBreak(sort).map(([p]) => {
    const v = valueAt(doc, p);
    if (typeof v !== "string" && typeof v !== "number") {
      throw new StoreUsageError(`cannot page on ${p}: value is not a string or number`);
    }
    return v;
  });
  return Buffer.from(JSON.stringify(values), "utf8").toString("base64url");
}

export function decodeCursor(sort: Sort, cursor: string): Scalar[] {
  const keys = withIdTieBreak(sort);
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new StoreUsageError("malformed cursor");
  }
  if (!Array.isArray(values) || values.length !== keys.length || !values.every((v) => typeof v === "string" || typeof v === "number")) {
    throw new StoreUsageError("malformed cursor");
  }
  return values as Scalar[];
}

/** Filter matching the documents strictly after the cursor position in `sort` order. */
export function afterCursorFilter(sort: Sort, cursor: string): Filter {
  const keys = withIdTieBreak(sort);
  const values = decodeCursor(sort, cursor);
  const branches: Filter[] = keys.map(([path, dir], i) => {
    const clause: Filter = {};
    for (let j = 0; j < i; j++) clause[keys[j]![0]] = values[j]!;
    const v = values[i] as string | number;
    clause[path] = dir === 1 ? { $gt: v } : { $lt: v };
    return clause;
  });
  return { $or: branches };
}
