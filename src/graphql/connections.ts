/** Forward-only Relay connections over store pages (keyset cursors from the storage port). */
import type { Page } from "../store/port.ts";
import type { GraphQLError } from "graphql";
import { codedError } from "./coded-error.ts";

export const MAX_PAGE_SIZE = 100;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Validates paging arguments: `first` between 1 and 100 (default 20), no backward paging. */
export function pageRequest(args: ConnectionArgs, defaultSize = 20): { first: number; after: string | null } {
  if (args.last != null || args.before != null) {
    throw badPaging("last/before: backward pagination is not supported; use first/after");
  }
  const first = args.first ?? defaultSize;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badPaging(`first: must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  const after = args.after ?? null;
  if (after !== null && !isCursor(after)) throw badPaging("after: is not a cursor this API gave out (use an edge's cursor or pageInfo.endCursor)");
  return { first, after };
}

/** A keyset cursor as the storage port writes it: base64url of a JSON list of strings and numbers. */
function isCursor(text: string): boolean {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(text)) return false;
  try {
    const values: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    return Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === "string" || typeof v === "number");
  } catch {
    return false;
  }
}

export function toConnection<T>(page: Page<T>, cursorOf: (item: T) => string, after: string | null) {
  const edges = page.items.map((node) => ({ node, cursor: cursorOf(node) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.nextCursor !== null,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

function badPaging(message: string): GraphQLError {
  return codedError("BAD_USER_INPUT", message);
}
