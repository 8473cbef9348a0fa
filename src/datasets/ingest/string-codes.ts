/**
 * Dictionary codes for a DuckDB VARCHAR vector without making a JS string per value. DuckDB
 * hands strings as 16-byte `string_t`s: a u32 length, then for up to 12 bytes the bytes
 * themselves (zero-padded), else a 4-byte prefix and a pointer. A short string's 16 bytes are
 * therefore the string: they key an open-addressing table of u32 words directly. Longer strings
 * are read through the pointer and decoded, keyed in a Map (what the JS path does per value).
 * Codes are assigned in order of first appearance, as column-builder.ts assigns them, and the
 * dictionary keeps each entry's UTF-8 bytes (DuckDB has validated them).
 */
import bindings from "@duckdb/node-bindings";
import { DictionaryFull } from "./column-builder.ts";

const INLINE_BYTES = 12;
const decoder = new TextDecoder("utf-8");

/** A 32-bit mix of a string_t's four words (murmur-style finaliser steps). */
function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w1 ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ w2 ^ (h >>> 13), 0x27d4eb2f);
  h = Math.imul(h ^ w3 ^ (h >>> 16), 0x165667b1);
  return h ^ (h >>> 15);
}

export class StringCodes {
  /** 4 u32 words per slot (the string_t), and the slot's code (-1 when empty). */
  #keys: Uint32Array;
  #codes: Int32Array;
  #mask: number;
  #used = 0;
  readonly #long = new Map<string, number>();
  readonly #maxDistinct: number;
  /** UTF-8 bytes of every entry, by code. */
  readonly entries: Uint8Array[] = [];
  utf8Bytes = 0;

  constructor(maxDistinct: number) {
    this.#maxDistinct = maxDistinct;
    this.#mask = 1023;
    this.#keys = new Uint32Array(4 * 1024);
    this.#codes = new Int32Array(1024).fill(-1);
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Codes of `n` strings (`data`: their string_t's, 4-byte aligned, rows [from, from+n) of a
   * vector) into `out[at…]`; rows whose bit in `valid` (the vector's validity, LSB first) is 0
   * get -1.
   */
  encode(data: Uint8Array, n: number, valid: Uint8Array | null, from: number, out: Int32Array, at: number): void {
    const words = new Uint32Array(data.buffer, data.byteOffset, 4 * n);
    for (let i = 0; i < n; i++) {
      const r = from + i;
      if (valid !== null && (valid[r >>> 3]! & (1 << (r & 7))) === 0) {
        out[at + i] = -1;
        continue;
      }
      const w = 4 * i;
      const len = words[w]!;
      out[at + i] = len <= INLINE_BYTES ? this.#short(words, w, data, len) : this.#longCode(data, 16 * i, len);
    }
  }

  #short(words: Uint32Array, w: number, data: Uint8Array, len: number): number {
    const w0 = words[w]!;
    const w1 = words[w + 1]!;
    const w2 = words[w + 2]!;
    const w3 = words[w + 3]!;
    const keys = this.#keys;
    const mask = this.#mask;
    for (let slot = hashWords(w0, w1, w2, w3) & mask; ; slot = (slot + 1) & mask) {
      const code = this.#codes[slot]!;
      if (code < 0) {
        const next = this.#add(data.slice(4 * w + 4, 4 * w + 4 + len));
        keys[4 * slot] = w0;
        keys[4 * slot + 1] = w1;
        keys[4 * slot + 2] = w2;
        keys[4 * slot + 3] = w3;
        this.#codes[slot] = next;
        if (++this.#used * 2 > mask) this.#grow();
        return next;
      }
      const k = 4 * slot;
      if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return code;
    }
  }

  #longCode(data: Uint8Array, offset: number, len: number): number {
    const bytes = bindings.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + offset + 8, len);
    const text = decoder.decode(bytes);
    const known = this.#long.get(text);
    if (known !== undefined) return known;
    const code = this.#add(Uint8Array.from(bytes));
    this.#long.set(text, code);
    return code;
  }

  #add(bytes: Uint8Array): number {
    const code = this.entries.length;
    if (code >= this.#maxDistinct) throw new DictionaryFull();
    this.entries.push(bytes);
    this.utf8Bytes += bytes.length;
    return code;
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldCodes = this.#codes;
    const size = 2 * (this.#mask + 1);
    this.#mask = size - 1;
    this.#keys = new Uint32Array(4 * size);
    this.#codes = new Int32Array(size).fill(-1);
    for (let s = 0; s < oldCodes.length; s++) {
      const code = oldCodes[s]!;
      if (code < 0) continue;
      const k = 4 * s;
      const w0 = oldKeys[k]!;
      const w1 = oldKeys[k + 1]!;
      const w2 = oldKeys[k + 2]!;
      const w3 = oldKeys[k + 3]!;
      let slot = hashWords(w0, w1, w2, w3) & this.#mask;
      while (this.#codes[slot]! >= 0) slot = (slot + 1) & this.#mask;
      this.#keys.set(oldKeys.subarray(k, k + 4), 4 * slot);
      this.#codes[slot] = code;
    }
  }

  /** The dictionary blob (chunk-format.ts layout: u32 count, u32 offsets[count+1], bytes). */
  dictionaryBlob(): Uint8Array {
    const count = this.entries.length;
    const header = 4 * (count + 2);
    const out = new Uint8Array(header + this.utf8Bytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, count, true);
    let at = 0;
    for (let i = 0; i < count; i++) {
      view.setUint32(4 + 4 * i, at, true);
      out.set(this.entries[i]!, header + at);
      at += this.entries[i]!.length;
    }
    view.setUint32(4 + 4 * count, at, true);
    return out;
  }
}
