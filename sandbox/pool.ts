/**
 * Host side: a pool of sandbox worker processes. The API process never runs job code; whatever
 * a job does to its worker (crash, hang, run out of memory), the host answers with a code and
 * the next job gets a fresh worker.
 *
 * - one job per worker at a time; at most `size` workers; a bounded queue (QUEUE_FULL beyond);
 * - a host-side wall deadline per job: past it the worker is SIGKILLed and the job gets TIMEOUT
 *   (isolated-vm's own timeout fails on some payloads, e.g. a huge Array#fill, see README);
 * - a worker that dies mid-job gives SANDBOX_CRASHED; workers are replaced after a crash, after
 *   a memory-limit disposal they report, and after `maxJobsPerWorker` jobs;
 * - workers are spawned explicitly with --no-node-snapshot (isolated-vm needs it; vitest's
 *   threads refuse it in NODE_OPTIONS), with an empty environment (no secrets to find) and
 *   their output discarded (V8's fatal-error reports can print guest values).
 */
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { SandboxError } from "./errors.ts";
import { createTransferDir, removeTransferDir } from "./column-transfer.ts";
import type { WorkerRequest, WorkerResponse } from "./protocol.ts";

const WORKER_PATH = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** A request without its id (the pool numbers requests). */
export type JobRequest = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, "id"> : never) : never;
export type SuccessResponse = Extract<WorkerResponse, { ok: true }>;

export interface PoolJob {
  /** Builds the request for a worker that holds these column keys (called again with none if the worker lacks them). */
  request(cachedKeys: ReadonlySet<string>): Promise<JobRequest>;
  /** Host wall deadline from sending the request. */
  deadlineMs: number;
  /** Prefer an idle worker holding this column set. */
  affinityKey?: string | null;
}

export interface SandboxPoolOptions {
  /** Worker processes (default: available parallelism). */
  size?: number;
  /** Jobs waiting for a worker before QUEUE_FULL (default 64). */
  maxQueue?: number;
  /** Jobs a worker runs before it is replaced (default 500). */
  maxJobsPerWorker?: number;
  /** Column cache per worker, bytes (default 1 GiB). */
  cacheBytesPerWorker?: number;
  /** "inherit" shows worker stderr (development only: V8 fatal reports can print guest data). */
  workerStderr?: "ignore" | "inherit";
}

export interface SandboxPoolStats {
  size: number;
  workers: number;
  busy: number;
  queued: number;
  spawned: number;
  crashed: number;
  timedOut: number;
  recycled: number;
  /** Milliseconds from spawn to ready of the last worker started (null before any). */
  lastSpawnMs: number | null;
}

interface InFlight {
  id: number;
  resolve: (r: WorkerResponse) => void;
  reject: (e: SandboxError) => void;
  timer: NodeJS.Timeout;
}

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  dead: boolean;
  jobs: number;
  cached: Set<string>;
  current: InFlight | null;
  /** Fails `ready` (a worker killed or dead before it said ready). */
  failReady: (code: "SANDBOX_CRASHED" | "TIMEOUT" | "POOL_CLOSED") => void;
}

interface Queued {
  job: PoolJob;
  resolve: (r: SuccessResponse) => void;
  reject: (e: unknown) => void;
}

export class SandboxPool {
  readonly size: number;
  private readonly maxQueue: number;
  private readonly maxJobsPerWorker: number;
  private readonly cacheBytes: number;
  private readonly stderr: "ignore" | "inherit";
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private nextId = 1;
  private closed = false;
  private counters = { spawned: 0, crashed: 0, timedOut: 0, recycled: 0 };
  private lastSpawnMs: number | null = null;
  private dir: string | null = null;

  constructor(options: SandboxPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    this.maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 64));
    this.maxJobsPerWorker = Math.max(1, Math.floor(options.maxJobsPerWorker ?? 500));
    this.cacheBytes = Math.max(0, Math.floor(options.cacheBytesPerWorker ?? 1024 * 1024 * 1024));
    this.stderr = options.workerStderr ?? "ignore";
  }

  /** Runs a job on some worker; resolves with its successful response or rejects with a SandboxError. */
  run(job: PoolJob): Promise<SuccessResponse> {
    if (this.closed) return Promise.reject(new SandboxError("POOL_CLOSED"));
    if (this.queue.length >= this.maxQueue && this.idleOrSpawnable() === 0) {
      return Promise.reject(new SandboxError("QUEUE_FULL"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  /** Starts every worker now and waits until they are ready (so the first jobs do not pay for it). */
  async warm(): Promise<void> {
    while (!this.closed && this.slots.length < this.size) this.spawn();
    await Promise.all(this.slots.map((s) => s.ready.catch(() => undefined)));
  }

  /** Private directory (0700) for column transfer files; created on first use, removed on close. */
  get transferDir(): string {
    if (this.closed) throw new SandboxError("POOL_CLOSED");
    this.dir ??= createTransferDir();
    return this.dir;
  }

  stats(): SandboxPoolStats {
    return {
      size: this.size,
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      queued: this.queue.length,
      ...this.counters,
      lastSpawnMs: this.lastSpawnMs,
    };
  }

  /** Process ids of the live workers (for operations and tests). */
  workerPids(): number[] {
    return this.slots.map((s) => s.child.pid).filter((p): p is number => p !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new SandboxError("POOL_CLOSED"));
    const exits = this.slots.map(
      (s) => new Promise<void>((r) => (s.child.exitCode !== null || s.child.signalCode !== null ? r() : s.child.once("exit", () => r()))),
    );
    for (const s of [...this.slots]) this.kill(s, "POOL_CLOSED");
    await Promise.all(exits);
    if (this.dir !== null) removeTransferDir(this.dir);
    this.dir = null;
  }

  private idleOrSpawnable(): number {
    return this.slots.filter((s) => !s.busy).length + (this.size - this.slots.length);
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      const key = this.queue[0]!.job.affinityKey ?? null;
      const idle = this.slots.filter((s) => !s.busy && !s.dead);
      const slot =
        (key !== null ? idle.find((s) => s.cached.has(key)) : undefined) ?? idle[0] ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (slot === undefined) return;
      const queued = this.queue.shift()!;
      slot.busy = true;
      void this.execute(slot, queued);
    }
  }

  private async execute(slot: Slot, { job, resolve, reject }: Queued): Promise<void> {
    try {
      try {
        await slot.ready;
      } catch (err) {
        // the worker died before it ran anything: a fault of the machine, not of any job's data
        throw err instanceof SandboxError && err.code === "SANDBOX_CRASHED" ? new SandboxError("SANDBOX_UNAVAILABLE") : err;
      }
      let response = await this.exchange(slot, await job.request(slot.cached), job.deadlineMs);
      if (!response.ok && response.code === "COLUMNS_MISSING") {
        response = await this.exchange(slot, await job.request(new Set()), job.deadlineMs);
      }
      slot.cached = new Set(response.cachedKeys);
      slot.jobs++;
      if (response.recycle || slot.jobs >= this.maxJobsPerWorker) {
        this.counters.recycled++;
        this.kill(slot, null);
      }
      if (response.ok) resolve(response);
      else reject(new SandboxError(response.code === "COLUMNS_MISSING" ? "SANDBOX_ERROR" : response.code));
    } catch (err) {
      reject(err);
    } finally {
      slot.busy = false;
      this.pump();
    }
  }

  private exchange(slot: Slot, request: JobRequest, deadlineMs: number): Promise<WorkerResponse> {
    if (slot.dead) return Promise.reject(new SandboxError("SANDBOX_CRASHED"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.counters.timedOut++;
        this.kill(slot, "TIMEOUT");
      }, deadlineMs);
      slot.current = { id, resolve, reject, timer };
      slot.child.send({ ...request, id } as WorkerRequest, (err) => {
        if (err && slot.current?.id === id) {
          // the request could not be serialised or the channel is gone
          this.settle(
            slot,
            new SandboxError(slot.dead ? "SANDBOX_CRASHED" : "INVALID_REQUEST", slot.dead ? null : "the request could not be sent to the worker"),
          );
        }
      });
    });
  }

  /** Ends the in-flight exchange of a slot with a response or an error. */
  private settle(slot: Slot, outcome: WorkerResponse | SandboxError): void {
    const current = slot.current;
    if (current === null) return;
    slot.current = null;
    clearTimeout(current.timer);
    if (outcome instanceof SandboxError) current.reject(outcome);
    else current.resolve(outcome);
  }

  private spawn(): Slot {
    const started = performance.now();
    const child = fork(WORKER_PATH, [], {
      execArgv: ["--no-node-snapshot", "--disable-warning=ExperimentalWarning"],
      serialization: "advanced",
      stdio: ["ignore", "ignore", this.stderr, "ipc"],
      env: { SANDBOX_CACHE_BYTES: String(this.cacheBytes) },
    });
    this.counters.spawned++;
    let markReady: () => void = () => undefined;
    let markFailed: (e: SandboxError) => void = () => undefined;
    const ready = new Promise<void>((res, rej) => {
      markReady = res;
      markFailed = rej;
    });
    ready.catch(() => undefined);
    const slot: Slot = {
      child,
      ready,
      busy: false,
      dead: false,
      jobs: 0,
      cached: new Set(),
      current: null,
      failReady: (code) => markFailed(new SandboxError(code)),
    };
    this.slots.push(slot);
    child.on("message", (message: WorkerResponse | { ready: true }) => {
      if ("ready" in message) {
        this.lastSpawnMs = performance.now() - started;
        markReady();
        return;
      }
      if (slot.current !== null && message.id === slot.current.id) this.settle(slot, message);
    });
    const onGone = () => {
      if (slot.dead) return;
      slot.dead = true;
      // Any worker we did not kill ourselves counts, busy or idle: its exit can race the job's start.
      this.counters.crashed++;
      this.remove(slot);
      slot.failReady("SANDBOX_CRASHED");
      this.settle(slot, new SandboxError("SANDBOX_CRASHED"));
      this.pump();
    };
    child.on("exit", onGone);
    child.on("error", onGone);
    return slot;
  }

  /** Kills a worker; an in-flight job gets `code` (or SANDBOX_CRASHED when null). */
  private kill(slot: Slot, code: "TIMEOUT" | "POOL_CLOSED" | null): void {
    if (!slot.dead) {
      slot.dead = true;
      this.remove(slot);
      slot.failReady(code ?? "SANDBOX_CRASHED");
      this.settle(slot, new SandboxError(code ?? "SANDBOX_CRASHED"));
    }
    slot.child.kill("SIGKILL");
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }
}
