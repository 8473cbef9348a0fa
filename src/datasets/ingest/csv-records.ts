/**
 * Record ends of a CSV file as its bytes arrive, without parsing fields: a line feed outside
 * quotes ends a record (a quote toggles "inside quotes"; a doubled quote toggles twice). It
 * counts the rows received (progress from the first second of an upload) and tells where the
 * spool may be cut into segments a reader can take on its own (spool.ts).
 *
 * The toggle differs from RFC 4180 only after a quote inside an unquoted field, which both
 * readers refuse wherever it falls; so a cut it chooses never splits a record of a file that is
 * stored. Buffers without a quote (most) are counted by the native `indexOf`.
 */
const LF = 10;
const CR = 13;
const QUOTE = 34;

export class CsvRecords {
  #inQuotes = false;
  /** Line feeds outside quotes so far. */
  ends = 0;
  /** Bytes seen so far; whether the last byte seen ended a record (nothing pending). */
  bytes = 0;
  #lastEnded = true;

  /** Records seen, the header included (a last record without its line feed counts too). */
  get records(): number {
    return this.ends + (this.#lastEnded ? 0 : 1);
  }

  /**
   * Scans the next bytes; returns the offset just after the last record end in `buf` that is
   * followed by a byte of the next record in `buf` itself (not a blank line), or -1.
   */
  scan(buf: Uint8Array): number {
    let cut = -1;
    const n = buf.length;
    let from = 0;
    while (from < n) {
      if (!this.#inQuotes) {
        const q = buf.indexOf(QUOTE, from);
        const stop = q < 0 ? n : q;
        // Line feeds before the next quote, natively.
        for (let i = buf.indexOf(LF, from); i >= 0 && i < stop; i = buf.indexOf(LF, i + 1)) {
          this.ends++;
          if (i + 1 < n && buf[i + 1] !== LF && buf[i + 1] !== CR) cut = i + 1;
        }
        if (q < 0) break;
        this.#inQuotes = true;
        from = q + 1;
      } else {
        const q = buf.indexOf(QUOTE, from);
        if (q < 0) break;
        this.#inQuotes = false;
        from = q + 1;
      }
    }
    if (n > 0) this.#lastEnded = !this.#inQuotes && buf[n - 1] === LF;
    this.bytes += n;
    return cut;
  }
}
