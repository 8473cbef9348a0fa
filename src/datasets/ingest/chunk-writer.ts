/**
 * Writes chunk blobs while parsing goes on: puts run concurrently up to a byte budget, and the
 * converter awaits `room()` between input buffers, so memory stays bounded however large the
 * file. The first failed put stops the writer; `settle()` waits for every put and rethrows it.
 */
import type { BlobStore } from "../../store/port.ts";

/** Bytes of blobs in flight before the converter is made to wait. */
const MAX_IN_FLIGHT_BYTES = 24 * 1024 * 1024;
const MAX_IN_FLIGHT_PUTS = 32;

export class ChunkWriter {
  readonly #blobs: BlobStore;
  #inFlightBytes = 0;
  #inFlight = new Set<Promise<void>>();
  #failure: unknown = null;
  #waiters: Array<() => void> = [];
  /** Blobs and bytes written so far (for the benchmark and logs). */
  blobsWritten = 0;
  bytesWritten = 0;

  constructor(blobs: BlobStore) {
    this.#blobs = blobs;
  }

  /**
   * Starts writing one blob. `data` must not be modified afterwards, until `written` is called
   * (once the store has it; never after a failure): its buffer may then be reused.
   */
  put(key: string, data: Uint8Array, written?: () => void): void {
    if (this.#failure !== null) throw this.#failure;
    const size = data.byteLength;
    this.#inFlightBytes += size;
    const p: Promise<void> = this.#blobs
      .put(key, data)
      .then(
        () => {
          this.blobsWritten++;
          this.bytesWritten += size;
          written?.();
        },
        (err: unknown) => {
          this.#failure ??= err;
        },
      )
      .finally(() => {
        this.#inFlightBytes -= size;
        this.#inFlight.delete(p);
        for (const wake of this.#waiters.splice(0)) wake();
      });
    this.#inFlight.add(p);
  }

  /** Resolves once the in-flight budget has room again; rejects if a put failed. */
  async room(): Promise<void> {
    while (this.#failure === null && (this.#inFlightBytes > MAX_IN_FLIGHT_BYTES || this.#inFlight.size > MAX_IN_FLIGHT_PUTS)) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#failure !== null) throw this.#failure;
  }

  /** Waits for every put; rethrows the first failure. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    if (this.#failure !== null) throw this.#failure;
  }

  /** Waits for every put, ignoring failures (before deleting what was written). */
  async quiesce(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}
