/**
 * Worker side: each kernel part gets its own copy of the columns, so no kernel can write a
 * cached column (a later job always reads the bytes the host sent) and no two parts share
 * writable memory (which could serve as a counter, i.e. a timer, between parallel isolates).
 *
 * A buffer with one element per row of the job (its length is the job's row count, the largest
 * part end) is copied for the part's own row range only, into a fresh buffer of the same length
 * that keeps row indices absolute: rows outside the range read 0, and the pages never written
 * are never touched (the allocator zero-fills lazily), so a job copies each per-row byte once in
 * all. Any other buffer (a lookup table, a bitmap) is copied whole.
 */
import type { BufferSpec } from "./protocol.ts";
import { TYPED_ARRAY_TYPES } from "./typed-arrays.ts";

export function partCopies(
  cached: readonly SharedArrayBuffer[],
  specs: readonly BufferSpec[],
  part: { rowStart: number; rowEnd: number },
  jobRows: number,
): SharedArrayBuffer[] {
  return cached.map((source, i) => {
    const spec = specs[i]!;
    const copy = new SharedArrayBuffer(source.byteLength);
    const width = TYPED_ARRAY_TYPES[spec.type].BYTES_PER_ELEMENT;
    const perRow = spec.length === jobRows;
    const from = perRow ? Math.min(part.rowStart, spec.length) * width : 0;
    const to = perRow ? Math.min(part.rowEnd, spec.length) * width : source.byteLength;
    if (to > from) new Uint8Array(copy, from, to - from).set(new Uint8Array(source, from, to - from));
    return copy;
  });
}
