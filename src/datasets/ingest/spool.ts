/**
 * The upload's copy on disk, in segments: the bytes are appended to the current segment file,
 * and `cut()` closes it and opens the next, so a reader of whole files (DuckDB) can read the
 * first segments while the rest still arrives (CSV: cut at record ends, csv-records.ts). A
 * file never cut is one segment at `basePath` itself (Parquet, small files). `read()` gives
 * the concatenation, for the JS path's passes over the whole file.
 */
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { once } from "node:events";

export class Spool {
  readonly #base: string;
  #stream: WriteStream | null = null;
  #error: unknown = null;
  /** Closed segments, in order. */
  readonly #closed: string[] = [];
  #ended = false;
  #removed = false;
  #failure: unknown = null;
  #waiters: Array<() => void> = [];

  constructor(basePath: string) {
    this.#base = basePath;
    this.#open();
  }

  /** Every segment written, closed or not (for cleanup). */
  get #count(): number {
    return this.#closed.length + (this.#stream ? 1 : 0);
  }

  #pathOf(i: number): string {
    return i === 0 ? this.#base : `${this.#base}.${i}`;
  }

  #open(): void {
    const s = createWriteStream(this.#pathOf(this.#closed.length), { flags: "wx", mode: 0o600 });
    s.on("error", (err) => (this.#error ??= err));
    this.#stream = s;
  }

  /** Appends to the current segment (waits when the disk is behind). */
  async write(buf: Uint8Array): Promise<void> {
    if (this.#error) throw this.#error;
    const s = this.#stream;
    if (s === null || this.#removed) return;
    if (!s.write(buf)) await once(s, "drain");
  }

  /** Closes the current segment (readable once this resolves) and starts the next. */
  async cut(): Promise<void> {
    await this.#closeCurrent();
    if (!this.#removed && !this.#ended) this.#open();
  }

  /** The upload ended: closes the last segment. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#closeCurrent();
    this.#wake();
  }

  /** The upload failed: whoever waits for a segment gets `err`. */
  fail(err: unknown): void {
    this.#failure ??= err;
    this.#wake();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Closed segments so far. */
  get paths(): readonly string[] {
    return this.#closed;
  }

  /** Each segment's path once it is closed, in order, until the last; throws the upload's failure. */
  async *segments(): AsyncGenerator<string> {
    for (let i = 0; ; i++) {
      while (i >= this.#closed.length && !this.#ended && this.#failure === null) {
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
      if (this.#failure !== null) throw this.#failure;
      if (i >= this.#closed.length) return;
      yield this.#closed[i]!;
    }
  }

  /** The whole file again, segment after segment (after `end()`). */
  async *read(highWaterMark: number): AsyncGenerator<Buffer> {
    for (const path of this.#closed) {
      for await (const buf of createReadStream(path, { highWaterMark })) yield buf as Buffer;
    }
  }

  /** Deletes every segment; later writes and cuts do nothing. */
  async remove(): Promise<void> {
    const n = this.#count;
    this.#removed = true;
    this.fail(new Error("the spool was removed"));
    const s = this.#stream;
    this.#stream = null;
    if (s && !s.closed) {
      const done = once(s, "close").catch(() => undefined);
      s.end();
      await done;
    }
    await Promise.all(Array.from({ length: n }, (_, i) => rm(this.#pathOf(i), { force: true }).catch(() => undefined)));
  }

  async #closeCurrent(): Promise<void> {
    const s = this.#stream;
    if (s === null) return;
    this.#stream = null;
    if (!s.closed) {
      const done = once(s, "close").catch(() => undefined);
      s.end();
      await done;
    }
    if (this.#error) throw this.#error;
    if (!this.#removed) this.#closed.push(s.path as string);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
