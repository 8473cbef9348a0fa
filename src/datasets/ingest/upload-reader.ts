/**
 * The uploaded bytes, read once: counted against the size limit, hashed (SHA-256, for the
 * audit log), copied to the spool (spool.ts: so a second pass or a reader of whole files can
 * read them again) as they are handed on, in ~256 KiB buffers. The first bytes can be peeked
 * for format sniffing.
 */
import { createHash } from "node:crypto";
import { UploadRejected } from "../errors.ts";
import type { Spool } from "./spool.ts";

/** Bytes handed on at a time: enough to amortise per-call costs, small enough (~20-50 ms of
 * parsing) that other requests are not kept waiting while a large upload converts. */
const BATCH_BYTES = 256 * 1024;

export class UploadReader {
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #maxBytes: number;
  readonly #hash = createHash("sha256");
  readonly #spool: Spool;
  /** Read from the source but not yet handed on (the peeked head). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #ended = false;
  /** Bytes received so far. */
  bytesRead = 0;

  constructor(source: AsyncIterable<Uint8Array>, options: { maxBytes: number; spool: Spool }) {
    this.#it = source[Symbol.asyncIterator]();
    this.#maxBytes = options.maxBytes;
    this.#spool = options.spool;
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
    for (const buf of batch) await this.#spool.write(buf);
    while (!this.#ended) {
      const buf = await this.#pull();
      if (buf) {
        await this.#spool.write(buf);
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
   * `onBuffer` but keeping none: for readers of files on disk. When `onBuffer` returns an
   * offset ≥ 0, the spool's segment is cut there (spool.ts).
   */
  async drain(onBuffer: (buf: Buffer) => number): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const buf of pending) await this.#spoolOut(buf, onBuffer(buf));
    while (!this.#ended) {
      const buf = await this.#pull();
      if (buf) await this.#spoolOut(buf, onBuffer(buf));
    }
  }

  async #spoolOut(buf: Buffer, cut: number): Promise<void> {
    if (cut < 0 || cut > buf.length) return this.#spool.write(buf);
    await this.#spool.write(buf.subarray(0, cut));
    await this.#spool.cut();
    if (cut < buf.length) await this.#spool.write(buf.subarray(cut));
  }

  /** Hex SHA-256 of every byte received (complete once the upload has ended). */
  sha256(): string {
    return this.#hash.copy().digest("hex");
  }

  /**
   * Flushes and closes the spool; call once the upload has ended (or on failure, when it
   * also lets go of the source: an HTTP body is left for the route to answer and drain).
   */
  async close(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      await this.#it.return?.()?.catch(() => undefined);
    }
    await this.#spool.end();
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
    return buf;
  }
}
