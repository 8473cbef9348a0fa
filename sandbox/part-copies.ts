/**
 * Worker side: each kernel part gets its own copy of the columns, so no kernel can write a
 * cached column (a later job always reads the bytes the host sent) and no two parts share
 * writable memory (which could serve as a counter, i.e. a timer, between parallel isolates).
 *
 * Every buffer is copied whole, per part and per job, so nothing a kernel wrote survives into
 * another job. The copies go into scratch buffers the worker keeps per part slot between jobs:
 * a fresh 120 MB SharedArrayBuffer costs its page faults on every job (measured: the 10M-row
 * sandbox kernel went from ~50 ms to 160–490 ms), a reused one only the memcpy. Scratch is
 * dropped after a failed job (an isolate past its deadline may still be running on it).
 */
import type { BufferSpec } from "./protocol.ts";

const scratch = new Map<string, SharedArrayBuffer>();

export function partCopies(cached: readonly SharedArrayBuffer[], specs: readonly BufferSpec[], partIndex: number): SharedArrayBuffer[] {
  return cached.map((source, i) => {
    const slot = `${partIndex}:${i}:${specs[i]!.type}:${source.byteLength}`;
    let copy = scratch.get(slot);
    if (copy === undefined) {
      copy = new SharedArrayBuffer(source.byteLength);
      scratch.set(slot, copy);
    }
    new Uint8Array(copy).set(new Uint8Array(source));
    return copy;
  });
}

/** Keeps scratch for the slots a job just used, and drops the rest (or all, after a failure). */
export function settleScratch(used: ReadonlySet<string> | null): void {
  for (const slot of [...scratch.keys()]) if (used === null || !used.has(slot)) scratch.delete(slot);
}

/** The slot names `partCopies` uses for a job, for `settleScratch`. */
export function scratchSlots(cached: readonly SharedArrayBuffer[], specs: readonly BufferSpec[], parts: number): Set<string> {
  const slots = new Set<string>();
  for (let p = 0; p < parts; p++) cached.forEach((b, i) => slots.add(`${p}:${i}:${specs[i]!.type}:${b.byteLength}`));
  return slots;
}
