/**
 * The GridFS blob store (MongoDB, or FerretDB 1.x): blob "a/b/c" is the newest GridFS file
 * named "a/b/c" in bucket `<bucketName>`.
 *
 * A put uploads a complete new file (chunks first, the files document last, so the file is
 * invisible until it is whole) and then deletes the older files of that name. Readers always
 * take the newest file by (uploadDate, _id), so they see the old blob or the new one, never a
 * torn one; a reader whose file is deleted under it starts again with the newest.
 * Of concurrent puts of one key the one that finished last wins; every put removes files older
 * than the newest it sees, so the newest file is never removed and stragglers are cleaned by
 * the next put or delete.
 *
 * The store borrows the MongoStore's Db: close() is a no-op, the MongoStore owns the client.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GridFSBucket, type Collection, type Db, type GridFSChunk, type GridFSFile, type ObjectId } from "mongodb";
import { assertBlobKey, assertCollectionName, StoreUsageError, type BlobStore } from "./port.ts";

/** How many ids go into one `$in` when deleting many files. */
const DELETE_BATCH = 500;
/** How often a get starts again when its file is replaced (deleted) while being read. */
const READ_ATTEMPTS = 5;

export function openGridFsBlobStore(db: Db, bucketName = "blobs"): BlobStore {
  assertCollectionName(bucketName);
  return new GridFsBlobStore(db, bucketName);
}

type FileRef = Pick<GridFSFile, "_id" | "filename" | "uploadDate" | "length">;

class GridFsBlobStore implements BlobStore {
  readonly kind = "gridfs" as const;
  readonly #bucket: GridFSBucket;
  readonly #files: Collection<GridFSFile>;
  readonly #chunks: Collection<GridFSChunk>;

  constructor(db: Db, bucketName: string) {
    this.#bucket = new GridFSBucket(db, { bucketName });
    this.#files = db.collection<GridFSFile>(`${bucketName}.files`);
    this.#chunks = db.collection<GridFSChunk>(`${bucketName}.chunks`);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    assertBlobKey(key);
    if (!(data instanceof Uint8Array)) throw new StoreUsageError(`blob ${key}: data must be a Uint8Array`);
    const upload = this.#bucket.openUploadStream(key);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      await pipeline(Readable.from([bytes]), upload);
    } catch (err) {
      await upload.abort().catch(() => {}); // removes the chunks written so far
      throw err;
    }
    await this.#removeOlder(key);
  }

  async get(key: string): Promise<Uint8Array | null> {
    assertBlobKey(key);
    for (let attempt = 1; ; attempt++) {
      const file = await this.#newest(key);
      if (!file) return null;
      try {
        return await this.#read(file);
      } catch (err) {
        // Replaced or deleted while we read it: read whatever is newest now.
        if (attempt < READ_ATTEMPTS && !(await this.#fileExists(file._id))) continue;
        throw err;
      }
    }
  }

  async exists(key: string): Promise<boolean> {
    assertBlobKey(key);
    return (await this.#files.findOne({ filename: key }, { projection: { _id: 1 } })) !== null;
  }

  async delete(key: string): Promise<boolean> {
    assertBlobKey(key);
    const files = await this.#files.find({ filename: key }, { projection: { _id: 1 } }).toArray();
    return (await this.#deleteFiles(files.map((f) => f._id))) > 0;
  }

  async list(prefix: string): Promise<string[]> {
    const files = await this.#withPrefix(prefix);
    return [...new Set(files.map((f) => f.filename))].sort(compareStrings);
  }

  async deletePrefix(prefix: string): Promise<number> {
    const files = await this.#withPrefix(prefix);
    let deleted = 0;
    const byName = new Map<string, ObjectId[]>();
    for (const f of files) byName.set(f.filename, [...(byName.get(f.filename) ?? []), f._id]);
    // Batches of whole keys, so that a key counts once however many versions it had.
    let batch: ObjectId[] = [];
    let batchKeys = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      if ((await this.#deleteFiles(batch)) > 0) deleted += batchKeys;
      batch = [];
      batchKeys = 0;
    };
    for (const ids of byName.values()) {
      batch.push(...ids);
      batchKeys++;
      if (batch.length >= DELETE_BATCH) await flush();
    }
    await flush();
    return deleted;
  }

  async close(): Promise<void> {}

  /** The files whose name starts with `prefix`: a range on filename, never a regex. */
  async #withPrefix(prefix: string): Promise<Array<Pick<GridFSFile, "_id" | "filename">>> {
    if (typeof prefix !== "string") throw new StoreUsageError("blob prefix must be a string");
    // Keys are ASCII, so every key starting with `prefix` sorts below prefix + U+FFFF.
    const range = prefix === "" ? {} : { filename: { $gte: prefix, $lt: `${prefix}\uffff` } };
    return this.#files.find(range, { projection: { _id: 1, filename: 1 } }).toArray();
  }

  async #newest(key: string): Promise<FileRef | null> {
    const [file] = await this.#files
      .find({ filename: key }, { projection: { _id: 1, filename: 1, uploadDate: 1, length: 1 } })
      .sort({ uploadDate: -1, _id: -1 })
      .limit(1)
      .toArray();
    return file ?? null;
  }

  async #read(file: FileRef): Promise<Uint8Array> {
    const out = new Uint8Array(file.length);
    let at = 0;
    for await (const chunk of this.#bucket.openDownloadStream(file._id)) {
      const bytes = chunk as Buffer;
      if (at + bytes.length > out.length) throw new Error(`blob ${file.filename}: more data than its length`);
      out.set(bytes, at);
      at += bytes.length;
    }
    if (at !== out.length) throw new Error(`blob ${file.filename}: read ${at} of ${out.length} bytes`);
    return out;
  }

  async #fileExists(id: ObjectId): Promise<boolean> {
    return (await this.#files.findOne({ _id: id }, { projection: { _id: 1 } })) !== null;
  }

  /** Deletes every file of `key` older than the newest one (by uploadDate, then _id). */
  async #removeOlder(key: string): Promise<void> {
    const files = await this.#files.find({ filename: key }, { projection: { _id: 1, uploadDate: 1 } }).toArray();
    if (files.length <= 1) return;
    files.sort(newestFirst);
    await this.#deleteFiles(files.slice(1).map((f) => f._id));
  }

  /**
   * Deletes files: their files documents first (readers stop seeing them), then their chunks.
   * Returns how many files documents were deleted.
   */
  async #deleteFiles(ids: ObjectId[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < ids.length; i += DELETE_BATCH) {
      const batch = ids.slice(i, i + DELETE_BATCH);
      deleted += (await this.#files.deleteMany({ _id: { $in: batch } })).deletedCount;
      await this.#chunks.deleteMany({ files_id: { $in: batch } });
    }
    return deleted;
  }
}

function newestFirst(a: Pick<GridFSFile, "_id" | "uploadDate">, b: Pick<GridFSFile, "_id" | "uploadDate">): number {
  const byDate = b.uploadDate.getTime() - a.uploadDate.getTime();
  return byDate !== 0 ? byDate : compareStrings(b._id.toHexString(), a._id.toHexString());
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
