/**
 * The uploaded bytes, read once: counted against the size limit, hashed (SHA-256, for the
 * audit log), copied to a spool file (so a second pass or a Parquet reader can read them
 * again) and handed on in ~256 KiB buffers. The first bytes can be peeked for format sniffing.
 */
import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { UploadRejected } from "../errors.ts";

/** Bytes handed on at a time: enough to amortise per-call costs, small enough (~20-50 ms of
 * parsing) that other requests are not kept waiting while a large upload converts. */
const BATCH_BYTES = 256 * 1024;

export class UploadReader {
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #maxBytes: number;
  readonly #hash = createHash("sha256");
  readonly #spool: WriteStream;
  #spoolError: unknown = null;
  /** Read from the source but not yet handed on (the peeked head). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #ended = false;
  /** Bytes received so far. */
  bytesRead = 0;

  constructor(source: AsyncIterable<Uint8Array>, options: { maxBytes: number; spoolPath: string }) {
    this.#it = source[Symbol.asyncIterator]();
    this.#maxBytes = options.maxBytes;
    this.#spool = createWriteStream(options.spoolPath, { flags: "wx", mode: 0o600 });
    this.#spool.on("error", (err) => (this.#spoolError ??= err));
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Up to `n` first bytes of the upload, without consuming them. */
  async head(n: number): Promise<Buffer> {
    while (!this.#ended && this.#pendingBytes < n) {
      const buf = await this.#pull();
      if (buf) {
        this.#pending.push(buf);
        this.#pendingBytes += buf.length;
      }
    }
    return Buffer.concat(this.#pending).subarray(0, n);
  }

  /** The whole upload (from the start, peeked bytes included) in ~1 MiB buffers. */
  async *chunks(): AsyncGenerator<Buffer> {
    let batch = this.#pending;
    let batchBytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    while (!this.#ended) {
      const buf = await this.#pull();
      if (buf) {
        batch.push(buf);
        batchBytes += buf.length;
      }
      if (batchBytes >= BATCH_BYTES) {
        yield batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batchBytes > 0) yield batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
  }

  /**
   * Reads the rest of the upload into the spool, showing each buffer (the peeked head first) to
   * `onBuffer` but keeping none: for readers that need the whole file on disk.
   */
  async drain(onBuffer: (buf: Buffer) => void): Promise<void> {
    for (const buf of this.#pending) onBuffer(buf);
    this.#pending = [];
    this.#pendingBytes = 0;
    while (!this.#ended) {
      const buf = await this.#pull();
      if (buf) onBuffer(buf);
    }
  }

  /** Hex SHA-256 of every byte received (complete once the upload has ended). */
  sha256(): string {
    return this.#hash.copy().digest("hex");
  }

  /**
   * Flushes and closes the spool file; call once the upload has ended (or on failure, when it
   * also lets go of the source: an HTTP body is left for the route to answer and drain).
   */
  async close(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      await this.#it.return?.()?.catch(() => undefined);
    }
    if (this.#spool.closed) return;
    const done = once(this.#spool, "close").catch(() => undefined);
    this.#spool.end();
    await done;
    if (this.#spoolError) throw this.#spoolError;
  }

  async #pull(): Promise<Buffer | null> {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await this.#it.next();
    } catch (cause) {
      const err = new UploadRejected("upload_aborted", "the upload ended before the whole file arrived (the connection was closed)");
      (err as { cause?: unknown }).cause = cause;
      throw err;
    }
    if (r.done) {
      this.#ended = true;
      return null;
    }
    const v = r.value;
    const buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    this.bytesRead += buf.length;
    if (this.bytesRead > this.#maxBytes) {
      // Stop reading the source: the rest is not wanted.
      void this.#it.return?.().catch(() => undefined);
      throw new UploadRejected("too_large", `the upload is larger than the limit of ${this.#maxBytes} bytes (UPLOAD_MAX_BYTES)`);
    }
    this.#hash.update(buf);
    if (this.#spoolError) throw this.#spoolError;
    if (!this.#spool.write(buf)) await once(this.#spool, "drain");
    return buf;
  }
}
