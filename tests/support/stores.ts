/**
 * Every storage adapter this run can reach, as factories for the contract suites (and for
 * any other suite that wants to run "on every adapter available").
 *
 *   SQLite       always: a fresh database file in its own temp dir under os.tmpdir(),
 *                removed on cleanup.
 *   MongoDB      only when MONGODB_URI is set: a unique database per open
 *                (`contract_<pid>_<random>`), dropped on cleanup.
 *   files blobs  always: a fresh temp dir, removed on cleanup.
 *   GridFS blobs only when MONGODB_URI is set: a bucket in a MongoDB store opened as above.
 *
 * Adapter modules are imported lazily inside `open()`, so a broken (or missing) adapter
 * fails only the suites that use it, and the MongoDB driver is not loaded without a server.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import type { BlobStore, DocumentStore } from "../../src/store/port.ts";
import type { StoreLocation } from "./store-location.ts";
import type { WorkerJob, WorkerResult } from "./store-worker.ts";

export type { StoreLocation } from "./store-location.ts";
export { openAt } from "./store-location.ts";

export interface OpenedStore<S> {
  store: S;
  /** Closes the store and removes everything the open created (files, database). */
  cleanup(): Promise<void>;
  /** Document stores: where the data lives, for opening a second handle or process on it. */
  location?: StoreLocation;
}

export interface StoreFactory<S, K extends string> {
  /** Human-readable adapter name, used as the describe title. */
  name: string;
  /** The `kind` the opened store must report. */
  kind: K;
  open(): Promise<OpenedStore<S>>;
}

export type DocumentStoreFactory = StoreFactory<DocumentStore, DocumentStore["kind"]>;
export type BlobStoreFactory = StoreFactory<BlobStore, BlobStore["kind"]>;

/** The MongoDB-wire server to use, or undefined when the MongoDB adapters are not available. */
export function mongoUri(): string | undefined {
  const uri = process.env.MONGODB_URI;
  return uri && uri.trim() !== "" ? uri : undefined;
}

function uniqueDbName(): string {
  return `contract_${process.pid}_${randomBytes(5).toString("hex")}`;
}

async function tempDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `contract-${label}-`));
}

/** Runs every step even if some fail; rethrows the first failure. */
async function runAll(steps: Array<() => Promise<unknown>>): Promise<void> {
  let first: unknown;
  let failed = false;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      if (!failed) first = err;
      failed = true;
    }
  }
  if (failed) throw first;
}

const sqliteFactory: DocumentStoreFactory = {
  name: "sqlite",
  kind: "sqlite",
  async open() {
    const { openSqliteStore } = await import("../../src/store/sqlite.ts");
    const dir = await tempDir("sqlite");
    const file = path.join(dir, "store.db");
    let store: DocumentStore;
    try {
      store = await openSqliteStore(file);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      store,
      location: { kind: "sqlite", file },
      cleanup: () => runAll([() => store.close(), () => rm(dir, { recursive: true, force: true })]),
    };
  },
};

function mongoFactory(uri: string): DocumentStoreFactory {
  return {
    name: "mongodb",
    kind: "mongodb",
    async open() {
      const { openMongoStore } = await import("../../src/store/mongo.ts");
      const dbName = uniqueDbName();
      const store = await openMongoStore(uri, dbName);
      return {
        store,
        location: { kind: "mongodb", uri, dbName },
        cleanup: () => runAll([() => store.db.dropDatabase(), () => store.close()]),
      };
    },
  };
}

const filesFactory: BlobStoreFactory = {
  name: "files",
  kind: "files",
  async open() {
    const { openFileBlobStore } = await import("../../src/store/blob-files.ts");
    const dir = await tempDir("blobs");
    let store: BlobStore;
    try {
      store = await openFileBlobStore(dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      store,
      cleanup: () => runAll([() => store.close(), () => rm(dir, { recursive: true, force: true })]),
    };
  },
};

function gridFsFactory(uri: string): BlobStoreFactory {
  return {
    name: "gridfs",
    kind: "gridfs",
    async open() {
      const [{ openMongoStore }, { openGridFsBlobStore }] = await Promise.all([
        import("../../src/store/mongo.ts"),
        import("../../src/store/blob-gridfs.ts"),
      ]);
      const docs = await openMongoStore(uri, uniqueDbName());
      let store: BlobStore;
      try {
        store = openGridFsBlobStore(docs.db, "contract");
      } catch (err) {
        await runAll([() => docs.db.dropDatabase(), () => docs.close()]);
        throw err;
      }
      return {
        store,
        // The blob store borrows the document store's Db: close it first, then drop the
        // database through the (still open) document store, then close that.
        cleanup: () => runAll([() => store.close(), () => docs.db.dropDatabase(), () => docs.close()]),
      };
    },
  };
}

/** Document-store adapters available in this run: SQLite always, MongoDB with MONGODB_URI. */
export function documentStoreFactories(): DocumentStoreFactory[] {
  const uri = mongoUri();
  return uri ? [sqliteFactory, mongoFactory(uri)] : [sqliteFactory];
}

/** Blob-store adapters available in this run: files always, GridFS with MONGODB_URI. */
export function blobStoreFactories(): BlobStoreFactory[] {
  const uri = mongoUri();
  return uri ? [filesFactory, gridFsFactory(uri)] : [filesFactory];
}

/** Every adapter available in this run, for suites that want to run on all of them. */
export function everyAdapter(): { documentStores: DocumentStoreFactory[]; blobStores: BlobStoreFactory[] } {
  return { documentStores: documentStoreFactories(), blobStores: blobStoreFactories() };
}

/**
 * Opens a store from `factory` before the enclosing describe's tests and cleans it up
 * after them. Call inside a describe; read the opened store through the returned getter.
 *
 *   describe.each(documentStoreFactories())("$name", (factory) => {
 *     const opened = useOpened(factory);
 *     it("…", async () => { const c = await opened().store.collection("x"); … });
 *   });
 */
export function useOpened<S, K extends string>(factory: StoreFactory<S, K>): () => OpenedStore<S> {
  let opened: OpenedStore<S> | undefined;
  beforeAll(async () => {
    opened = await factory.open();
  });
  afterAll(async () => {
    const o = opened;
    opened = undefined;
    if (o) await o.cleanup();
  });
  return () => {
    if (!opened) throw new Error(`${factory.name} store is not open (did its open() fail?)`);
    return opened;
  };
}

/** Like useOpened, but the getter returns the store itself. */
export function useStore<S, K extends string>(factory: StoreFactory<S, K>): () => S {
  const opened = useOpened(factory);
  return () => opened().store;
}

export interface Worker {
  /** Resolves once the child has opened its own store handle and its collection. */
  ready: Promise<void>;
  /** Tells the child to fire its operations. */
  go(): void;
  /** The child's tally, once it has finished and closed its store. */
  result: Promise<WorkerResult>;
}

const WORKER = fileURLToPath(new URL("./store-worker.ts", import.meta.url));

/** Starts a child process that runs `job` against its own handle on `job.location`. */
export function startWorker(job: WorkerJob): Worker {
  const child = spawn(process.execPath, ["--no-node-snapshot", WORKER, JSON.stringify(job)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
  const nthLine = (n: number): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = lines[n];
        if (line !== undefined) resolve(line);
        else waiters.push(check);
      };
      check();
      exited.then((code) => {
        if (lines[n] === undefined) reject(new Error(`store worker exited (${String(code)}) early:\n${stderr}`));
      }, reject);
    });
  const ready = nthLine(0).then((line) => {
    if (line !== "ready") throw new Error(`store worker said ${JSON.stringify(line)}:\n${stderr}`);
  });
  const result = nthLine(1).then(async (line) => {
    await exited;
    return JSON.parse(line) as WorkerResult;
  });
  // Avoid unhandled rejections if the caller awaits only one of them.
  ready.catch(() => {});
  result.catch(() => {});
  return {
    ready,
    go: () => {
      child.stdin.end("go\n");
    },
    result,
  };
}
