/**
 * Leaky buckets of cost per caller (API key, session or client address). A request adds its
 * cost; the bucket drains at a steady rate; a request that would overflow it is refused and
 * told when to retry. In memory, per process: run behind one process per key, or accept that
 * N processes allow N times the rate.
 */
export interface BucketDecision {
  allowed: boolean;
  /** Room left after this request (or now, when refused). */
  remaining: number;
  capacity: number;
  /** When refused: milliseconds until the request would fit. */
  retryAfterMs: number;
}

export class LeakyBuckets {
  private readonly levels = new Map<string, { level: number; at: number }>();
  private readonly capacity: number;
  private readonly drainPerMs: number;
  private readonly now: () => number;

  constructor(options: { capacity: number; drainPerSecond: number; now?: () => number }) {
    this.capacity = options.capacity;
    this.drainPerMs = options.drainPerSecond / 1000;
    this.now = options.now ?? (() => performance.now());
  }

  take(key: string, cost: number): BucketDecision {
    const t = this.now();
    const prev = this.levels.get(key);
    const level = prev ? Math.max(0, prev.level - (t - prev.at) * this.drainPerMs) : 0;
    if (level + cost > this.capacity) {
      this.levels.set(key, { level, at: t });
      const retryAfterMs = cost > this.capacity ? Infinity : Math.ceil((level + cost - this.capacity) / this.drainPerMs);
      return { allowed: false, remaining: Math.floor(this.capacity - level), capacity: this.capacity, retryAfterMs };
    }
    this.levels.set(key, { level: level + cost, at: t });
    if (this.levels.size > 100_000) this.evictDrained(t);
    return { allowed: true, remaining: Math.floor(this.capacity - level - cost), capacity: this.capacity, retryAfterMs: 0 };
  }

  private evictDrained(t: number): void {
    for (const [key, b] of this.levels) if (b.level - (t - b.at) * this.drainPerMs <= 0) this.levels.delete(key);
  }
}
