/**
 * The durable record of one run (a query or an analysis), written before each step that has an
 * external effect, so that after a crash recovery knows exactly what happened:
 *
 *   started ─► held ─► debited ─► staged ─► released        (the answer is out, paid and logged)
 *      └────────┴─────────┴──────────► failed               (hold voided; ε stays debited)
 *
 * "staged" holds the noised answer and the exact usage to charge; it is never shown to a buyer.
 * From "staged" a run only goes forward (post, log, release are idempotent); before it, a run
 * whose lease ran out is compensated. A live run renews its lease; every move is a conditional
 * update on the state it expects, so a run compensated by recovery can never be released.
 */
import type { Collection, DocumentStore, IndexSpec, JsonValue, Stored } from "../store/port.ts";

export type RunState = "started" | "held" | "debited" | "staged" | "released" | "failed";
export type RunKind = "query" | "analysis";

export interface StagedResult {
  answer: JsonValue;
  /** What the charge is computed from: fixed at staging, so a replayed post charges the same. */
  usage: { epsilon: number; rowsScanned: number; cpuMs: number };
  /** The audit facts of the `query.executed` event (canonical IR or code hash), never values. */
  event: { ir: JsonValue; epsilon: number; rowsScanned: number };
}

export interface RunRecord {
  kind: RunKind;
  buyerId: string;
  ownerId: string;
  listingId: string;
  datasetId: string;
  versionId: string;
  /** Canonical hash of what is computed (the answer cache key with buyer and version). */
  queryHash: string;
  /** The quote this run was priced by. */
  quoteId: string;
  /** Fingerprint of the request: the same run id with other content is a conflict. */
  fingerprint: string;
  epsilonMicro: number;
  /** The hold's id, fixed before it is opened (derived from the run id); null when nothing is charged. */
  holdId: string | null;
  state: RunState;
  /** A live run renews this; recovery takes over a run whose lease has passed. */
  leaseUntil: string;
  staged: StagedResult | null;
  /** True when the answer came from the cache (no ε, no charge). */
  cached: boolean;
  charged: { amount: number; currency: string; platformFee: number } | null;
  failure: string | null;
  createdAt: string;
  updatedAt: string;
}

export const RUNS_COLLECTION: { name: string; indexes: IndexSpec[] } = {
  name: "runs",
  indexes: [{ fields: ["state", "leaseUntil"] }, { fields: ["buyerId", "createdAt"] }],
};

export const OPEN_STATES: readonly RunState[] = ["started", "held", "debited", "staged"];

export class RunRecords {
  readonly docs: Collection<RunRecord>;
  private readonly now: () => Date;

  private constructor(docs: Collection<RunRecord>, now: () => Date) {
    this.docs = docs;
    this.now = now;
  }

  static async open(store: DocumentStore, now: () => Date = () => new Date()): Promise<RunRecords> {
    return new RunRecords(await store.collection<RunRecord>(RUNS_COLLECTION.name, RUNS_COLLECTION.indexes), now);
  }

  get(runId: string): Promise<Stored<RunRecord> | null> {
    return this.docs.get(runId);
  }

  insert(runId: string, record: RunRecord): Promise<Stored<RunRecord>> {
    return this.docs.insert({ _id: runId, ...record });
  }

  /** Moves a run from one of `from` to `to` (with `set`); null if it was not in one of `from`. */
  move(runId: string, from: readonly RunState[], to: RunState, set: Partial<RunRecord> = {}): Promise<Stored<RunRecord> | null> {
    return this.docs.updateOne(
      { _id: runId, state: { $in: [...from] } },
      { $set: { ...set, state: to, updatedAt: this.now().toISOString() } as never },
    );
  }

  /** Renews a live run's lease. */
  async renew(runId: string, leaseMs: number): Promise<void> {
    await this.docs.updateOne(
      { _id: runId, state: { $in: [...OPEN_STATES] } },
      { $set: { leaseUntil: new Date(this.now().getTime() + leaseMs).toISOString() } },
    );
  }

  /** Open runs whose lease has passed: the recovery's work list. */
  async *abandoned(): AsyncGenerator<Stored<RunRecord>> {
    const now = this.now().toISOString();
    let after: string | null = null;
    do {
      const page: { items: Stored<RunRecord>[]; nextCursor: string | null } = await this.docs.find(
        { state: { $in: [...OPEN_STATES] }, leaseUntil: { $lt: now } },
        { sort: [["leaseUntil", 1]], limit: 100, ...(after ? { after } : {}) },
      );
      yield* page.items;
      after = page.nextCursor;
    } while (after);
  }
}
