/**
 * Streaming UTF-8 validation that can say where a file went wrong. Buffers are checked with
 * Node's native `isUtf8`; a multi-byte character split across two buffers is carried over; only
 * on failure does a JS scan find the first bad byte, and the line is the count of "\n" before it.
 */
import { isUtf8 } from "node:buffer";
import { UploadRejected } from "../errors.ts";

export class Utf8Checker {
  #carry: Buffer | null = null;
  /** Bytes validated so far. */
  #offset = 0;
  /** Line at the current position (1-based). */
  #line = 1;

  /** Line ends ("\n") validated so far. */
  get lines(): number {
    return this.#line - 1;
  }

  /** Validates the next bytes; returns the prefix that ends on a character boundary (carry kept). */
  check(buf: Buffer): Buffer {
    const data = this.#carry ? Buffer.concat([this.#carry, buf]) : buf;
    const cut = completeLength(data);
    const body = data.subarray(0, cut);
    if (!isUtf8(body)) this.#fail(body, firstInvalid(body));
    this.#line += countNewlines(body, body.length);
    this.#offset += cut;
    this.#carry = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
    return body;
  }

  /** The input ended: a character cut off at the end is invalid too. */
  end(): void {
    if (this.#carry) this.#fail(this.#carry, 0);
  }

  #fail(body: Buffer, at: number): never {
    const line = this.#line + countNewlines(body, at);
    throw new UploadRejected(
      "invalid_utf8",
      `line ${line}: the file is not valid UTF-8 (byte ${this.#offset + at + 1}); save or export it as UTF-8`,
      { line },
    );
  }
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  let i = buf.indexOf(10);
  while (i !== -1 && i < end) {
    n++;
    i = buf.indexOf(10, i + 1);
  }
  return n;
}

/** Length of `buf` without a trailing, possibly incomplete multi-byte sequence. */
function completeLength(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = buf[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Index of the first byte that starts an invalid sequence (RFC 3629), or buf.length. */
export function firstInvalid(buf: Uint8Array): number {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // no overlongs
      if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f; // ≤ U+10FFFF
    } else return i;
    if (i + need >= n) return i; // truncated sequence
    const second = buf[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = buf[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return n;
}
