/**
 * Group commit: many callers ask for "everything acknowledged so far is durable", one flush
 * serves them all. A caller that arrives while a flush is running waits for the next one (its
 * writes may have come after that flush began); every caller that arrives meanwhile shares that
 * next flush. So under load the flushes per second stay bounded by the flush's own time, not by
 * the number of runs.
 */
export class GroupSync {
  readonly #flush: () => Promise<void>;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;
  /** Flushes started (for tests and metrics). */
  flushes = 0;

  constructor(flush: () => Promise<void>) {
    this.#flush = flush;
  }

  sync(): Promise<void> {
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start();
    const next = this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    this.#next = next;
    return next;
  }

  #start(): Promise<void> {
    this.#next = null;
    this.flushes += 1;
    const running = this.#flush().finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }
}
