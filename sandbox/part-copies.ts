/**
 * Worker side: each kernel part gets its own copy of the columns, so no kernel can write a
 * cached column (a later job always reads the bytes the host sent) and no two parts share
 * writable memory (which could serve as a counter, i.e. a timer, between parallel isolates).
 *
 * The copies go into scratch buffers the worker keeps per cached buffer and part slot between
 * jobs: a fresh 120 MB SharedArrayBuffer costs its page faults on every job (measured: the
 * 10M-row sandbox kernel went from ~50 ms to 160–490 ms), a reused one only the memcpy. A buffer
 * with one element per row of the job (its length is the job's row count) is copied for the
 * part's own row range only, so a job copies each per-row byte once in all; any other buffer (a
 * lookup table, a bitmap) is copied whole. Row indices stay absolute. Outside its range a part's
 * scratch holds only bytes of the same cached buffer (scratch is keyed by it), never another
 * column's or dataset's, and generated kernels read their own range only. Scratch is dropped
 * after a failed job (an isolate past its deadline may still be running on it).
 */
import type { BufferSpec } from "./protocol.ts";
import { TYPED_ARRAY_TYPES } from "./typed-arrays.ts";

/** Per cached buffer, its scratch copy for each part slot; gone when the cache drops the buffer. */
let scratch = new WeakMap<SharedArrayBuffer, SharedArrayBuffer[]>();

export function partCopies(
  cached: readonly SharedArrayBuffer[],
  specs: readonly BufferSpec[],
  part: { rowStart: number; rowEnd: number },
  partIndex: number,
  jobRows: number,
): SharedArrayBuffer[] {
  return cached.map((source, i) => {
    const spec = specs[i]!;
    let slots = scratch.get(source);
    if (slots === undefined) scratch.set(source, (slots = []));
    let copy = slots[partIndex];
    if (copy === undefined) slots[partIndex] = copy = new SharedArrayBuffer(source.byteLength);
    const width = TYPED_ARRAY_TYPES[spec.type].BYTES_PER_ELEMENT;
    const perRow = spec.length === jobRows;
    const from = perRow ? Math.min(part.rowStart, spec.length) * width : 0;
    const to = perRow ? Math.min(part.rowEnd, spec.length) * width : source.byteLength;
    if (to > from) new Uint8Array(copy, from, to - from).set(new Uint8Array(source, from, to - from));
    return copy;
  });
}

/** After a failed job: no scratch survives (an isolate past its deadline may still write it). */
export function dropScratch(): void {
  scratch = new WeakMap();
}
