/**
 * Host side: the absolute end time of a per-unit call (epoch ms, as the run path fixes its
 * release moment). Everything that waits in the call waits through this, so the call returns by
 * the deadline whatever the workers do; without a deadline every method is a pass-through.
 */
export class DeadlineClock {
  readonly at: number | null;

  constructor(at: number | null) {
    this.at = at;
  }

  /** Time left, ms (Infinity without a deadline). */
  left(): number {
    return this.at === null ? Infinity : this.at - Date.now();
  }

  /** Whether something taking `spanMs` can still end before the deadline. */
  allows(spanMs: number): boolean {
    return this.left() > spanMs;
  }

  /** A host wait capped at the time left (so a stuck worker is killed by the deadline). */
  cap(ms: number): number {
    return Math.max(1, Math.min(ms, Math.ceil(this.left())));
  }

  /** The deadline the worker gets: `marginMs` earlier, so its answer arrives in time. */
  workerDeadline(marginMs: number): number | null {
    return this.at === null ? null : this.at - marginMs;
  }

  /** Resolves when `p` settles or the deadline comes, whichever is first; never rejects. */
  async race(p: Promise<unknown>): Promise<void> {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    if (this.at === null) return settled;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, this.left()));
    });
    await Promise.race([settled, expired]);
    clearTimeout(timer);
  }

  sleep(ms: number): Promise<void> {
    return this.race(new Promise((resolve) => setTimeout(resolve, Math.min(ms, Math.max(0, this.left())))));
  }
}
