/**
 * Keeps an upload job's document current while it runs: progress (rows, bytes, phase) at most
 * every PROGRESS_ROWS rows or second, and a heartbeat every few seconds even when the client
 * is slow, so the start-up cleanup can tell a live upload from one whose process died.
 * Writes are coalesced (one in flight, the latest values win) and conditional on the job
 * still running, so a late progress write never overwrites the final state.
 */
import type { Collection } from "../../store/port.ts";
import type { Logger } from "../../logger.ts";
import type { SourceFormat, UploadJob, UploadPhase } from "../model.ts";

export const PROGRESS_ROWS = 65_536;
export const PROGRESS_MS = 1000;
export const HEARTBEAT_MS = 5000;

export interface ProgressFields {
  phase?: UploadPhase;
  format?: SourceFormat;
  rowsDone?: number;
  bytesDone?: number;
}

export class UploadProgress {
  readonly #jobs: Collection<UploadJob>;
  readonly #jobId: string;
  readonly #now: () => Date;
  readonly #log: Logger | undefined;
  #pending: ProgressFields = {};
  #dirty = false;
  #writing: Promise<void> | null = null;
  #lastRows = 0;
  #lastAt = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(jobs: Collection<UploadJob>, jobId: string, now: () => Date, log?: Logger) {
    this.#jobs = jobs;
    this.#jobId = jobId;
    this.#now = now;
    this.#log = log;
  }

  start(): void {
    this.#timer = setInterval(() => this.#write(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Notes progress; writes it if enough rows or time have passed (or at once with `force`). */
  report(fields: ProgressFields, force = false): void {
    Object.assign(this.#pending, fields);
    this.#dirty = true;
    const rows = this.#pending.rowsDone ?? this.#lastRows;
    const now = Date.now();
    if (force || rows - this.#lastRows >= PROGRESS_ROWS || now - this.#lastAt >= PROGRESS_MS || rows < this.#lastRows) {
      this.#lastRows = rows;
      this.#lastAt = now;
      this.#write();
    }
  }

  /** Stops the heartbeat and waits for the last write. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    while (this.#writing) await this.#writing;
  }

  #write(): void {
    if (this.#writing) {
      this.#dirty = true;
      return;
    }
    const fields = this.#pending;
    this.#pending = {};
    this.#dirty = false;
    this.#writing = this.#jobs
      .updateOne({ _id: this.#jobId, state: "running" }, { $set: { ...fields, updatedAt: this.#now().toISOString() } })
      .then(
        () => undefined,
        (err: unknown) => this.#log?.warn({ err, jobId: this.#jobId }, "upload progress not saved"),
      )
      .finally(() => {
        this.#writing = null;
        if (this.#dirty && this.#timer) this.#write();
      });
  }
}
