/**
 * The Merkle code against the RFC 6962 test vectors published with transparency-dev/merkle
 * (proof/verify_test.go: leaves, roots of sizes 1-8, inclusion and consistency proofs), and against
 * a naive transcription of the RFC 9162 recursive definitions for random trees.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { emptyRoot, leafHash, nodeHash } from "../../../src/audit/hashing.ts";
import {
  CompactRange,
  consistencyProof,
  inclusionProof,
  rootFromLeaves,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type PerfectHash,
} from "../../../src/audit/merkle.ts";

const h = (hex: string) => Buffer.from(hex, "hex");

// transparency-dev/merkle proof/verify_test.go (copied vectors).
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(h);
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map(h);
/** [leaf index (0-based), tree size, proof] */
const INCLUSION: Array<[number, number, string[]]> = [
  [
    0,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    5,
    8,
    [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
  [
    1,
    5,
    [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  ],
];
const CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  ],
  [
    6,
    8,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
  [2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
  [
    6,
    7,
    [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  ],
];

/** Perfect-subtree hashes straight from an in-memory list of leaf hashes. */
function memoryPerfect(leaves: Buffer[]): PerfectHash {
  return async (level, index) => naiveMth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level));
}

/** RFC 9162 §2.1.1 MTH, transcribed literally. */
function naiveMth(d: Buffer[]): Buffer {
  if (d.length === 0) return createHash("sha256").digest();
  if (d.length === 1) return d[0]!;
  const k = splitPoint(d.length);
  return nodeHash(naiveMth(d.slice(0, k)), naiveMth(d.slice(k)));
}
/** RFC 9162 §2.1.3.1 PATH, transcribed literally. */
function naivePath(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = splitPoint(d.length);
  return m < k ? [...naivePath(m, d.slice(0, k)), naiveMth(d.slice(k))] : [...naivePath(m - k, d.slice(k)), naiveMth(d.slice(0, k))];
}
/** RFC 9162 §2.1.4.1 SUBPROOF, transcribed literally. */
function naiveSubproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [naiveMth(d)];
  const k = splitPoint(d.length);
  return m <= k
    ? [...naiveSubproof(m, d.slice(0, k), b), naiveMth(d.slice(k))]
    : [...naiveSubproof(m - k, d.slice(k), false), naiveMth(d.slice(0, k))];
}

const hashes = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => leafHash(`entry ${salt}:${i}`));

describe("RFC 6962 hashing and proofs (transparency-dev vectors)", () => {
  const leafHashes = LEAVES.map((l) => leafHash(l));

  it("computes the published roots for sizes 1-8 and the empty tree", () => {
    for (let n = 1; n <= 8; n++) expect(rootFromLeaves(leafHashes.slice(0, n)).toString("hex")).toBe(ROOTS[n - 1]!.toString("hex"));
    expect(rootFromLeaves([]).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(emptyRoot().toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("generates and verifies the published inclusion proofs; corrupted ones fail", async () => {
    for (const [index, size, expected] of INCLUSION) {
      const proof = await inclusionProof(index, size, memoryPerfect(leafHashes.slice(0, size)));
      expect(proof.map((p) => p.toString("hex"))).toEqual(expected);
      const root = ROOTS[size - 1]!;
      expect(verifyInclusion(index, size, leafHashes[index]!, proof, root)).toBe(true);
      expect(verifyInclusion(index + 1, size, leafHashes[index]!, proof, root)).toBe(false);
      expect(verifyInclusion(index, size * 2, leafHashes[index]!, proof, root)).toBe(false);
      expect(verifyInclusion(index, size, leafHash("wrong"), proof, root)).toBe(false);
      expect(verifyInclusion(index, size, leafHashes[index]!, [...proof, root], root)).toBe(false);
      expect(verifyInclusion(index, size, leafHashes[index]!, proof.slice(0, -1), root)).toBe(false);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 8;
        expect(verifyInclusion(index, size, leafHashes[index]!, bad, root)).toBe(false);
      }
    }
  });

  it("generates and verifies the published consistency proofs; corrupted ones fail", async () => {
    for (const [m, n, expected] of CONSISTENCY) {
      const proof = await consistencyProof(m, n, memoryPerfect(leafHashes.slice(0, n)));
      expect(proof.map((p) => p.toString("hex"))).toEqual(expected);
      const r1 = ROOTS[m - 1]!;
      const r2 = ROOTS[n - 1]!;
      expect(verifyConsistency(m, n, r1, r2, proof)).toBe(true);
      if (proof.length === 0) continue;
      expect(verifyConsistency(m, n, r2, r1, proof)).toBe(false);
      expect(verifyConsistency(m - 1, n, r1, r2, proof)).toBe(false);
      expect(verifyConsistency(m, n, r1, r2, [])).toBe(false);
      expect(verifyConsistency(m, n, r1, r2, [...proof, r2])).toBe(false);
      expect(verifyConsistency(m, n, r1, r2, [r1, ...proof])).toBe(false);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 16;
        expect(verifyConsistency(m, n, r1, r2, bad)).toBe(false);
      }
    }
  });
});

describe("Merkle code against the literal RFC 9162 definitions", () => {
  it("compact ranges give MTH for every size, and report each completed perfect subtree once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), (n) => {
        const leaves = hashes(n);
        const range = new CompactRange();
        const seen = new Map<string, Buffer>();
        for (const l of leaves) range.append(l, (level, index, hash) => seen.set(`${level}:${index}`, hash));
        expect(range.root().equals(naiveMth(leaves))).toBe(true);
        for (const [key, hash] of seen) {
          const [level, index] = key.split(":").map(Number) as [number, number];
          expect(hash.equals(naiveMth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)))).toBe(true);
        }
        // A compact range rebuilt from its stored hashes continues identically.
        const resumed = new CompactRange(range.size, range.hashes);
        resumed.append(leafHash("next"));
        expect(resumed.root().equals(naiveMth([...leaves, leafHash("next")]))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("inclusion and consistency proofs equal PATH and PROOF, and verify", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n }))),
        async ([n, m, first]) => {
          const leaves = hashes(n, n);
          const perfect = memoryPerfect(leaves);
          const root = naiveMth(leaves);
          const path = await inclusionProof(m, n, perfect);
          expect(path.map((p) => p.toString("hex"))).toEqual(naivePath(m, leaves).map((p) => p.toString("hex")));
          expect(verifyInclusion(m, n, leaves[m]!, path, root)).toBe(true);
          const cons = await consistencyProof(first, n, perfect);
          const expected = first === 0 || first === n ? [] : naiveSubproof(first, leaves, true);
          expect(cons.map((p) => p.toString("hex"))).toEqual(expected.map((p) => p.toString("hex")));
          expect(verifyConsistency(first, n, naiveMth(leaves.slice(0, first)), root, cons)).toBe(true);
          if (first > 0 && first < n) {
            // A fork: same size, one leaf different → the proof no longer holds.
            const forked = [...leaves];
            forked[first - 1] = leafHash("forged");
            expect(verifyConsistency(first, n, naiveMth(forked.slice(0, first)), root, cons)).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
