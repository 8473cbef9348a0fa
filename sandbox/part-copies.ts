/**
 * Worker side: each kernel part reads its own copy of its own rows, so no kernel can write a
 * cached column (a later job always reads the bytes the host sent) and no two parts share
 * memory (which could serve as a counter, i.e. a timer, between parallel isolates).
 *
 * A part's copy holds exactly its rows, rebased: row `rowStart` of the column set is row 0 of the
 * part's views, and its null bitmaps are shifted to match, so a part cannot address, read or
 * write any other part's rows (there are none in its memory). The kernel is called with
 * [0, rowEnd − rowStart).
 *
 * The copies are kept per cached buffer and part slot between jobs (a fresh 120 MB buffer costs
 * its page faults on every job), and instead of being copied again before every job they are
 * VERIFIED after it: once the answer is on its way, `verifyParts` compares each copy used with
 * the cached bytes it was made from (memcmp, ~28 ms per 320 MB here against ~35 ms to copy) and
 * makes any copy that differs again, before the worker takes its next job. So a job always starts
 * on copies equal to the cached bytes, the check is off the answer's path (it overlaps the run
 * path's release wait), and an honest job, which writes nothing, costs no copy at all. Copies are
 * dropped after a failed job (an isolate past its deadline may still be running on them).
 */
import type { BufferSpec } from "./protocol.ts";
import { TYPED_ARRAY_TYPES } from "./typed-arrays.ts";

interface PartCopy {
  /** The part's copy: its rows of the cached buffer (values) or its bits of it (a null bitmap). */
  copy: SharedArrayBuffer;
  /** Elements of the cached buffer (rows or bits) it holds: [from, to). */
  from: number;
  to: number;
  bitmap: boolean;
  /** Bytes per element of the cached buffer (1 for a bitmap, whose elements are counted in bits). */
  width: number;
}

/** Per cached buffer, the copy held for each part slot; gone when the cache drops the buffer. */
let copies = new WeakMap<SharedArrayBuffer, Array<PartCopy | undefined>>();
/** Copies of cached buffers handed to the running job, to verify after it. */
let inUse = new Map<PartCopy, SharedArrayBuffer>();

/** How many rows each buffer's element covers: values buffers one per row, bitmaps eight. */
export interface PartSpec {
  rowStart: number;
  rowEnd: number;
}

/**
 * The part's buffers (one per cached buffer, same order): values buffers hold rows
 * [rowStart, rowEnd), null bitmaps the same rows' bits from bit 0. `bitmaps[i]` says which
 * buffers are null bitmaps. `kept`: the buffers stay cached (their copies are verified after
 * the job and reused); otherwise the copies serve this job only.
 */
export function partCopies(
  cached: readonly SharedArrayBuffer[],
  specs: readonly BufferSpec[],
  bitmaps: ReadonlySet<number>,
  part: PartSpec,
  slot: number,
  kept: boolean,
): SharedArrayBuffer[] {
  return cached.map((source, i) => {
    const bitmap = bitmaps.has(i);
    const spec = specs[i]!;
    const length = bitmap ? spec.length * 8 : spec.length;
    const from = Math.min(part.rowStart, length);
    const to = Math.min(part.rowEnd, length);
    let slots = copies.get(source);
    if (slots === undefined) copies.set(source, (slots = []));
    let held = slots[slot];
    if (held === undefined || held.from !== from || held.to !== to || held.bitmap !== bitmap) {
      const width = bitmap ? 1 : TYPED_ARRAY_TYPES[spec.type].BYTES_PER_ELEMENT;
      const bytes = bitmap ? Math.ceil((to - from) / 8) : (to - from) * width;
      held = { copy: new SharedArrayBuffer(Math.max(bytes, 0)), from, to, bitmap, width };
      fill(source, held);
      if (kept) slots[slot] = held;
    }
    if (kept) inUse.set(held, source);
    return held.copy;
  });
}

function fill(source: SharedArrayBuffer, part: PartCopy): void {
  const width = part.width;
  if (part.bitmap) {
    copyBits(new Uint8Array(source), part.from, new Uint8Array(part.copy), part.to - part.from);
    return;
  }
  const bytes = (part.to - part.from) * width;
  if (bytes > 0) new Uint8Array(part.copy).set(new Uint8Array(source, part.from * width, bytes));
}

/** Bits [from, from + n) of `src` into `dst` from bit 0 (the rest of dst's last byte stays 0). */
export function copyBits(src: Uint8Array, from: number, dst: Uint8Array, n: number): void {
  const shift = from & 7;
  const start = from >>> 3;
  const bytes = Math.ceil(n / 8);
  if (shift === 0) dst.set(src.subarray(start, start + bytes));
  else {
    for (let k = 0; k < bytes; k++) {
      const lo = src[start + k]! >>> shift;
      const hi = start + k + 1 < src.length ? (src[start + k + 1]! << (8 - shift)) & 0xff : 0;
      dst[k] = lo | hi;
    }
  }
  const tail = n & 7;
  if (tail !== 0 && bytes > 0) dst[bytes - 1]! &= (1 << tail) - 1;
}

/** Whether a held copy still equals its source's bytes. */
function intact(source: SharedArrayBuffer, part: PartCopy): boolean {
  const copy = Buffer.from(part.copy);
  if (part.bitmap) {
    const expected = new Uint8Array(part.copy.byteLength);
    copyBits(new Uint8Array(source), part.from, expected, part.to - part.from);
    return copy.equals(expected);
  }
  return copy.equals(Buffer.from(source, part.from * part.width, part.copy.byteLength));
}

/**
 * After a job that ended normally: every copy it was handed is compared with its cached bytes,
 * and one that differs (a kernel wrote it) is made again. Returns how many were remade.
 */
export function verifyParts(): number {
  const used = inUse;
  inUse = new Map();
  let remade = 0;
  for (const [part, source] of used) {
    if (intact(source, part)) continue;
    fill(source, part);
    remade++;
  }
  return remade;
}

/** After a failed job: no copy survives (an isolate past its deadline may still write one). */
export function dropScratch(): void {
  copies = new WeakMap();
  inUse = new Map();
}
