/**
 * Where a document store's data lives, as plain JSON, so that a second handle, or a second
 * process, can open the very same data (a store opened by a factory in stores.ts carries
 * one). Kept free of vitest imports so child processes can load it.
 */
import type { DocumentStore } from "../../src/store/port.ts";

export type StoreLocation = { kind: "sqlite"; file: string } | { kind: "mongodb"; uri: string; dbName: string };

/** Opens another, independent handle on the data at `location`. */
export async function openAt(location: StoreLocation): Promise<DocumentStore> {
  if (location.kind === "sqlite") {
    const { openSqliteStore } = await import("../../src/store/sqlite.ts");
    return openSqliteStore(location.file);
  }
  const { openMongoStore } = await import("../../src/store/mongo.ts");
  return openMongoStore(location.uri, location.dbName);
}
