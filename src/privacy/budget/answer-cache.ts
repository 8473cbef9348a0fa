/**
 * Released answers, cached per (buyer, dataset version, canonical query hash), so asking the same
 * thing again costs no ε and returns the very same noisy answer (a fresh draw would let a buyer
 * average the noise away for free).
 *
 * Concurrent identical queries must debit once. The first asker inserts a claim document for the
 * key (insert-once); the others wait for the answer to appear. A claimer that gives up (refused,
 * or its run failed) reopens the claim for the next asker; a claimer that died is overtaken once
 * its claim is older than the claim TTL. Answers are inserted once: if two runs ever race (an
 * overtaken claimer that was only slow), the first stored answer is the one everyone gets.
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { DuplicateKeyError, type Collection, type Stored } from "../../store/port.ts";
import type { AnswerClaim, ReleasedAnswer } from "./model.ts";
import { QueryInProgress } from "./errors.ts";
import { backoffMs, sleep } from "./backoff.ts";

export interface AnswerKeyParts {
  buyerId: string;
  datasetVersionId: string;
  queryHash: string;
}

export type ClaimOutcome = { kind: "cached"; answer: Stored<ReleasedAnswer> } | { kind: "claimed"; key: string };

export function answerKey(parts: AnswerKeyParts): string {
  return createHash("sha256").update(`${parts.buyerId}\n${parts.datasetVersionId}\n${parts.queryHash}`, "utf8").digest("hex");
}

export class AnswerCache {
  readonly answers: Collection<ReleasedAnswer>;
  readonly claims: Collection<AnswerClaim>;
  private readonly now: () => Date;
  private readonly claimTtlMs: number;

  constructor(cols: { answers: Collection<ReleasedAnswer>; claims: Collection<AnswerClaim> }, now: () => Date, claimTtlMs: number) {
    this.answers = cols.answers;
    this.claims = cols.claims;
    this.now = now;
    this.claimTtlMs = claimTtlMs;
  }

  get(parts: AnswerKeyParts): Promise<Stored<ReleasedAnswer> | null> {
    return this.answers.get(answerKey(parts));
  }

  /** Inserts the answer once; if one is already stored for the key, that one is returned instead. */
  async store(answer: ReleasedAnswer): Promise<Stored<ReleasedAnswer>> {
    const key = answerKey(answer);
    let stored: Stored<ReleasedAnswer>;
    try {
      stored = await this.answers.insert({ _id: key, ...answer });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      const first = await this.answers.get(key);
      if (!first) throw new Error(`cached answer ${key} clashed on insert but cannot be read`);
      stored = first;
    }
    // The answer now speaks for the key; the claim has done its job.
    await this.claims.delete(key);
    return stored;
  }

  /**
   * The cached answer, or the right to compute it (`claimed`). Waits up to `waitMs` while another
   * query holds the claim; then throws QueryInProgress (nothing charged).
   */
  async claim(parts: AnswerKeyParts & { queryId: string }, waitMs: number): Promise<ClaimOutcome> {
    const key = answerKey(parts);
    const deadline = performance.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      const cached = await this.answers.get(key);
      if (cached) return { kind: "cached", answer: cached };
      const taken = await this.take(key, parts);
      if (taken) {
        // An answer stored just before we claimed (its claim then deleted) must win over a rerun.
        const late = await this.answers.get(key);
        if (late) {
          await this.release(key, parts.queryId);
          return { kind: "cached", answer: late };
        }
        return { kind: "claimed", key };
      }
      if (performance.now() > deadline) throw new QueryInProgress();
      await sleep(backoffMs(attempt));
    }
  }

  /** Gives the claim back (the claimer will not store an answer): the next asker may take it. */
  async release(key: string, queryId: string): Promise<void> {
    await this.claims.updateOne({ _id: key, queryId, state: "claimed" }, { $set: { state: "open" } });
  }

  /** Inserts the claim, or takes an open / dead one, or re-enters our own (a retry). */
  private async take(key: string, parts: AnswerKeyParts & { queryId: string }): Promise<boolean> {
    const mine: AnswerClaim = {
      buyerId: parts.buyerId,
      datasetVersionId: parts.datasetVersionId,
      queryHash: parts.queryHash,
      queryId: parts.queryId,
      state: "claimed",
      claimedAt: this.now().toISOString(),
    };
    try {
      await this.claims.insert({ _id: key, ...mine });
      return true;
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
    const held = await this.claims.get(key);
    if (!held) return false; // deleted in between (an answer was stored): look again
    if (held.state === "claimed" && held.queryId === parts.queryId) return true;
    const dead = Date.parse(held.claimedAt) <= this.now().getTime() - this.claimTtlMs;
    if (held.state === "open" || dead) {
      return (await this.claims.updateVersion(key, held._v, { $set: { ...mine } })) !== null;
    }
    return false;
  }
}
