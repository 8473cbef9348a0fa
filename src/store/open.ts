/** Opens the configured stores: SQLite + files under DATA_DIR by default, MongoDB + GridFS when MONGODB_URI is set. */
import { join } from "node:path";
import type { BlobStore, DocumentStore } from "./port.ts";
import { openSqliteStore } from "./sqlite.ts";
import { openFileBlobStore } from "./blob-files.ts";
import { openMongoStore } from "./mongo.ts";
import { openGridFsBlobStore } from "./blob-gridfs.ts";

export interface Stores {
  store: DocumentStore;
  blobs: BlobStore;
}

/** Where the stores live: a data directory, or a MongoDB deployment when `mongo` is set. */
export interface StoreLocation {
  dataDir: string;
  mongo: { uri: string; db: string } | null;
}

export async function openStores(config: StoreLocation): Promise<Stores> {
  if (config.mongo) {
    const store = await openMongoStore(config.mongo.uri, config.mongo.db);
    return { store, blobs: openGridFsBlobStore(store.db) };
  }
  return {
    store: await openSqliteStore(join(config.dataDir, "exchange.sqlite")),
    blobs: await openFileBlobStore(join(config.dataDir, "blobs")),
  };
}
