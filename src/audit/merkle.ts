/**
 * RFC 9162 (RFC 6962 bis) Merkle tree algorithms over leaf hashes: tree hashes, inclusion and
 * consistency proofs (generation over any async source of subtree hashes) and their
 * verification. Sizes are plain numbers (exact up to 2^53), so no 32-bit bit operations.
 */
import { emptyRoot, nodeHash } from "./hashing.ts";

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
}

/** The Merkle tree hash of a list of leaf hashes, from the leaves up (O(n) hashing). */
export function rootFromLeaves(leaves: readonly Uint8Array[]): Buffer {
  const range = new CompactRange();
  for (const leaf of leaves) range.append(leaf);
  return range.root();
}

/**
 * A compact range [0, size): the roots of the perfect subtrees that make up the tree, one per
 * 1-bit of size, largest first. Appending is O(log n) amortised O(1); the root needs no leaves.
 */
export class CompactRange {
  size: number;
  readonly hashes: Buffer[];

  constructor(size = 0, hashes: Uint8Array[] = []) {
    if (countBits(size) !== hashes.length) throw new Error(`a compact range of size ${size} has ${countBits(size)} hashes, got ${hashes.length}`);
    this.size = size;
    this.hashes = hashes.map((h) => Buffer.from(h));
  }

  /**
   * Appends a leaf hash; `onNode(level, index, hash)` is told of every perfect subtree this
   * completes (level ≥ 1), so a caller can store the ones it wants for proofs later.
   */
  append(leaf: Uint8Array, onNode?: (level: number, index: number, hash: Buffer) => void): void {
    let h: Buffer = Buffer.from(leaf);
    let level = 0;
    let s = this.size;
    while (s % 2 === 1) {
      h = nodeHash(this.hashes.pop()!, h);
      level++;
      s = Math.floor(s / 2);
      onNode?.(level, Math.floor(this.size / 2 ** level), h);
    }
    this.hashes.push(h);
    this.size++;
  }

  root(): Buffer {
    if (this.hashes.length === 0) return emptyRoot();
    let r = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) r = nodeHash(this.hashes[i]!, r);
    return r;
  }
}

function countBits(n: number): number {
  let c = 0;
  for (let s = n; s > 0; s = Math.floor(s / 2)) c += s % 2;
  return c;
}

/** Source of perfect-subtree hashes: the subtree of 2^level leaves starting at index·2^level. */
export type PerfectHash = (level: number, index: number) => Promise<Buffer>;

/** MTH(D[lo:hi]) built from perfect subtrees (the right edge may be ragged). */
export async function rangeHash(lo: number, hi: number, perfect: PerfectHash): Promise<Buffer> {
  const n = hi - lo;
  if (n <= 0) throw new Error(`empty range [${lo}, ${hi})`);
  if (isPowerOfTwo(n) && lo % n === 0) return perfect(Math.log2(n), lo / n);
  const k = splitPoint(n);
  return nodeHash(await rangeHash(lo, lo + k, perfect), await rangeHash(lo + k, hi, perfect));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[0:n]): the audit path for leaf m in the tree of size n. */
export async function inclusionProof(m: number, n: number, perfect: PerfectHash): Promise<Buffer[]> {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m < n)) {
    throw new RangeError(`leaf index ${m} is not in a tree of size ${n}`);
  }
  const out: Buffer[] = [];
  // Walk down from the root; siblings are collected top-down, the proof lists them bottom-up.
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < lo + k) {
      out.push(await rangeHash(lo + k, hi, perfect));
      hi = lo + k;
    } else {
      out.push(await rangeHash(lo, lo + k, perfect));
      lo = lo + k;
    }
  }
  return out.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]): proves the tree of size m is a prefix of the tree of size n. */
export async function consistencyProof(m: number, n: number, perfect: PerfectHash): Promise<Buffer[]> {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m <= n)) {
    throw new RangeError(`cannot prove size ${m} against size ${n}`);
  }
  if (m === 0 || m === n) return [];
  const out: Buffer[] = [];
  let lo = 0;
  let hi = n;
  let mm = m;
  let b = true;
  for (;;) {
    const size = hi - lo;
    if (mm === size) {
      if (!b) out.push(await rangeHash(lo, hi, perfect));
      break;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      out.push(await rangeHash(lo + k, hi, perfect));
      hi = lo + k;
    } else {
      out.push(await rangeHash(lo, lo + k, perfect));
      lo = lo + k;
      mm -= k;
      b = false;
    }
  }
  return out.reverse();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` with hash `leaf` is in the tree (size, root)? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (first, firstRoot) is a prefix of (second, secondRoot)? */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(second)) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}
