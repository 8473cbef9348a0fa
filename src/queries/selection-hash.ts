/**
 * Which rows and groups a unit contributes, defined once for every engine: a keyed hash that
 * Spark computes with its built-in `hash(...)` (Murmur3 x86 32-bit, seed 42, arguments chained
 * left to right), so the in-process kernel and the cluster engine choose the same rows and
 * groups for the same per-run seeds (issue #18).
 *
 *   groupRank(seed, unit, g) = hash(seed INT, unit BIGINT, g INT) as unsigned 32 bits
 *                               — a unit keeps its MG groups of smallest (rank, g);
 *   rowRank(seed, row)       = hash(seed INT, row INT) as unsigned 32 bits
 *                               — a (unit, group) cell keeps its R rows of smallest (rank, row),
 *                                 `row` being the row's index in the dataset version (file order).
 *
 * The seeds are fresh from node:crypto each run, so the choice is random to anyone who does not
 * see them, and it depends only on the unit's own rows (the sensitivity bound holds).
 *
 * The functions are source text because the kernels that call them are generated code run in an
 * isolate; the host gets the same text evaluated once (tests, the cluster engine's checks).
 */
export const SELECTION_HASH_SOURCE = [
  "function mixK1(k) { k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); return Math.imul(k, 0x1b873593); }",
  "function mixH1(h, k) { h ^= k; h = (h << 13) | (h >>> 19); return (Math.imul(h, 5) + 0xe6546b64) | 0; }",
  "function fmix(h, n) { h ^= n; h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); return h ^ (h >>> 16); }",
  "function hashInt(x, seed) { return fmix(mixH1(seed, mixK1(x | 0)), 4); }",
  // x: an integer within ±2^53 (a dictionary code or an integer unit value); its 64-bit words.
  "function hashLong(x, seed) { return fmix(mixH1(mixH1(seed, mixK1(x | 0)), mixK1(Math.floor(x / 4294967296) | 0)), 8); }",
  "function groupRank(seed, u, g) { return hashInt(g, hashLong(u, hashInt(seed, 42))) >>> 0; }",
  "function rowRank(seed, row) { return hashInt(row, hashInt(seed, 42)) >>> 0; }",
].join("\n");

interface SelectionHash {
  groupRank(seed: number, unit: number, group: number): number;
  rowRank(seed: number, row: number): number;
  /** Spark's `hash(x INT)` / `hash(x BIGINT)` (signed), for checking against the engine. */
  hashInt(x: number, seed: number): number;
  hashLong(x: number, seed: number): number;
}

/** The same functions on the host. */
export const selectionHash: SelectionHash = new Function(
  `${SELECTION_HASH_SOURCE}\nreturn { groupRank, rowRank, hashInt, hashLong };`,
)() as SelectionHash;
