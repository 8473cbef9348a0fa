/**
 * The Merkle tree over the stored entries. The tree head (size, compact range, root) lives in one
 * document and advances by folding new entries into the compact range, so a checkpoint never
 * rehashes the log. Perfect subtrees at levels 4, 8, 12… are stored as they complete; any other
 * subtree hash needed by a proof is folded from at most 8 stored nodes (or leaves).
 *
 * Advancing is idempotent and crash-safe: nodes are immutable (a second insert of the same node is
 * a no-op) and the head moves by an optimistic-concurrency update, so concurrent advancers in
 * several processes agree, and one that dies half-way leaves nothing wrong behind.
 */
import { LRUCache } from "lru-cache";
import { DuplicateKeyError, type Collection, type Stored } from "../store/port.ts";
import { fromHex, leafHash, nodeHash, toHex } from "./hashing.ts";
import { CompactRange, consistencyProof, inclusionProof, rangeHash, type PerfectHash } from "./merkle.ts";
import { STORED_LEVEL_STEP, seqId, type AuditEntryDoc, type AuditNodeDoc, type AuditTreeDoc } from "./model.ts";
import { AuditIntegrityError, ProofUnavailable } from "./errors.ts";
import { Mutex } from "./mutex.ts";

const HEAD_ID = "head";
const BATCH = 1000;
const CACHE_LIMIT = 100_000;

export interface TreeHead {
  size: number;
  root: Buffer;
}

export class TreeStore {
  private readonly entries: Collection<AuditEntryDoc>;
  private readonly nodes: Collection<AuditNodeDoc>;
  private readonly tree: Collection<AuditTreeDoc>;
  private readonly now: () => Date;
  private readonly mutex = new Mutex();
  /** Perfect-subtree hashes never change once complete: cache them freely. */
  private readonly cache = new LRUCache<string, Buffer>({ max: CACHE_LIMIT });

  constructor(cols: { entries: Collection<AuditEntryDoc>; nodes: Collection<AuditNodeDoc>; tree: Collection<AuditTreeDoc> }, now: () => Date) {
    this.entries = cols.entries;
    this.nodes = cols.nodes;
    this.tree = cols.tree;
    this.now = now;
  }

  /** The head as stored (may lag the entries until advance()). */
  async storedHead(): Promise<TreeHead> {
    const doc = await this.tree.get(HEAD_ID);
    if (!doc) return { size: 0, root: new CompactRange().root() };
    return { size: doc.size, root: fromHex(doc.root) };
  }

  /** Folds every entry not yet in the tree into it; returns the new head. */
  advance(): Promise<TreeHead> {
    return this.mutex.run(() => this.advanceNow());
  }

  private async advanceNow(): Promise<TreeHead> {
    for (;;) {
      const doc = await this.tree.get(HEAD_ID);
      const range = new CompactRange(doc?.size ?? 0, (doc?.frontier ?? []).map(fromHex));
      const batch = await this.entries.find({ seq: { $gte: range.size } }, { sort: [["seq", 1]], limit: BATCH });
      if (batch.items.length === 0) return { size: range.size, root: range.root() };
      const completed: AuditNodeDoc[] = [];
      for (const entry of batch.items) {
        if (entry.seq !== range.size) {
          throw new AuditIntegrityError(`audit entry ${range.size} is missing (the next stored entry is ${entry.seq})`);
        }
        const leaf = leafHash(entry.entry);
        if (toHex(leaf) !== entry.leafHash) {
          throw new AuditIntegrityError(`audit entry ${entry.seq} no longer hashes to the leaf hash recorded when it was appended`);
        }
        range.append(leaf, (level, index, hash) => {
          if (level % STORED_LEVEL_STEP === 0) completed.push({ level, index, hash: toHex(hash) });
        });
      }
      for (const node of completed) await this.putNode(node);
      const next = {
        size: range.size,
        frontier: range.hashes.map(toHex),
        root: toHex(range.root()),
        updatedAt: this.now().toISOString(),
      };
      const written = doc
        ? await this.tree.updateVersion(HEAD_ID, doc._v, { $set: next })
        : await this.tree.insert({ _id: HEAD_ID, ...next }).catch((e) => {
            if (e instanceof DuplicateKeyError) return null;
            throw e;
          });
      // null: another process moved the head first; go again from where it is now.
      if (written && batch.nextCursor === null) return { size: range.size, root: range.root() };
    }
  }

  private async putNode(node: AuditNodeDoc): Promise<void> {
    try {
      await this.nodes.insert({ _id: `${node.level}:${node.index}`, ...node });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      const existing = await this.nodes.get(`${node.level}:${node.index}`);
      if (existing && existing.hash !== node.hash) {
        throw new AuditIntegrityError(`stored Merkle node ${node.level}:${node.index} disagrees with the entries under it`);
      }
    }
  }

  /** Hash of the perfect subtree (level, index); it must lie inside the advanced tree. */
  readonly perfect: PerfectHash = async (level, index) => {
    const key = `${level}:${index}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let hash: Buffer;
    if (level === 0) {
      const doc = await this.entries.get(seqId(index));
      if (!doc) throw new AuditIntegrityError(`audit entry ${index} is missing`);
      hash = fromHex(doc.leafHash);
    } else if (level % STORED_LEVEL_STEP === 0) {
      const doc = await this.nodes.get(key);
      if (!doc) throw new AuditIntegrityError(`Merkle node ${key} is missing`);
      hash = fromHex(doc.hash);
    } else {
      const base = level - (level % STORED_LEVEL_STEP);
      const width = 2 ** (level - base);
      const lo = index * width;
      const children = await this.storedRow(base, lo, lo + width);
      hash = foldRow(children);
    }
    this.cache.set(key, hash);
    return hash;
  };

  /** Stored hashes at `level` (0 = leaves) for indexes [lo, hi), which must all exist. */
  private async storedRow(level: number, lo: number, hi: number): Promise<Buffer[]> {
    const docs: Array<Stored<AuditEntryDoc> | Stored<AuditNodeDoc>> =
      level === 0
        ? (await this.entries.find({ seq: { $gte: lo, $lt: hi } }, { sort: [["seq", 1]], limit: hi - lo })).items
        : (await this.nodes.find({ level, index: { $gte: lo, $lt: hi } }, { sort: [["index", 1]], limit: hi - lo })).items;
    if (docs.length !== hi - lo) throw new AuditIntegrityError(`Merkle level ${level} is missing hashes in [${lo}, ${hi})`);
    return docs.map((d) => fromHex("leafHash" in d ? d.leafHash : d.hash));
  }

  /** Root of the tree of any size up to the advanced head. */
  async rootAt(size: number, head: TreeHead): Promise<Buffer> {
    this.checkSize(size, head, "tree size");
    if (size === head.size) return head.root;
    if (size === 0) return new CompactRange().root();
    return rangeHash(0, size, this.perfect);
  }

  async inclusion(index: number, size: number, head: TreeHead): Promise<Buffer[]> {
    this.checkSize(size, head, "treeSize");
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new ProofUnavailable(`entry ${index} is not in the tree of size ${size}`);
    }
    return inclusionProof(index, size, this.perfect);
  }

  async consistency(first: number, second: number, head: TreeHead): Promise<Buffer[]> {
    this.checkSize(second, head, "second");
    if (!Number.isSafeInteger(first) || first < 0 || first > second) {
      throw new ProofUnavailable(`first size ${first} must be between 0 and the second size ${second}`);
    }
    return consistencyProof(first, second, this.perfect);
  }

  private checkSize(size: number, head: TreeHead, name: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > head.size) {
      throw new ProofUnavailable(`${name} ${size} is beyond the log's signed size ${head.size}`);
    }
  }
}

/** Folds a power-of-two row of sibling hashes up to their one root. */
function foldRow(row: Buffer[]): Buffer {
  let level = row;
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}
