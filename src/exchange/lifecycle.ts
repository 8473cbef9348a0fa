/**
 * One owner of everything a running exchange starts. Each part that starts something (a
 * sweeper, a worker pool, a store, the HTTP server) registers how to stop it right after it
 * starts; `close()` stops them in reverse order, once, even if some fail, and every later
 * `close()` returns the same promise.
 */
export class ExchangeClosed extends Error {
  constructor() {
    super("the exchange is closed: it takes no new work");
    this.name = "ExchangeClosed";
  }
}

export class Lifecycle {
  readonly #stops: Array<{ name: string; stop: () => unknown }> = [];
  #closing: Promise<void> | null = null;

  get closed(): boolean {
    return this.#closing !== null;
  }

  /** Registers how to stop something that was just started. Refused once closing began. */
  onClose(name: string, stop: () => unknown): void {
    this.assertOpen();
    this.#stops.push({ name, stop });
  }

  /** Throws ExchangeClosed once closing began. */
  assertOpen(): void {
    if (this.#closing) throw new ExchangeClosed();
  }

  /** Stops everything in reverse order of start; reports (does not throw) the parts that failed. */
  close(onError: (name: string, error: unknown) => void = () => undefined): Promise<void> {
    this.#closing ??= (async () => {
      for (const { name, stop } of this.#stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (e) {
          onError(name, e);
        }
      }
    })();
    return this.#closing;
  }
}
