/**
 * Worker side: column sets loaded from transfer files, kept as SharedArrayBuffers under the
 * host's key and evicted least-recently-used past a byte budget. The host keys a set by what
 * it is (dataset version, chunk range, columns), so a key always names the same bytes.
 */
import type { BufferSpec } from "./protocol.ts";

export interface CachedColumns {
  specs: BufferSpec[];
  buffers: SharedArrayBuffer[];
  bytes: number;
}

export class ColumnCache {
  private readonly entries = new Map<string, CachedColumns>();
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** The entry, if held and laid out as the job expects; refreshes its recency. */
  get(key: string, specs: readonly BufferSpec[]): CachedColumns | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    const same = entry.specs.length === specs.length && entry.specs.every((s, i) => s.type === specs[i]!.type && s.length === specs[i]!.length);
    if (!same) return null;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  put(key: string, entry: CachedColumns): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes || k === key) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}
