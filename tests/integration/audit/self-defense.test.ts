/**
 * A log that defends itself: when its stored entries no longer match its latest signed
 * checkpoint (an entry deleted, altered, or the tail cut off), the log halts — it appends and
 * signs nothing, never reuses a position, and answers proofs with PROOF_UNAVAILABLE — and the
 * offline verifier refuses a one-entry bundle whose entry was deleted.
 */
import { describe, expect, it } from "vitest";
import { documentStoreFactories } from "../../support/stores.ts";
import { newSigningKey, openTestAuditLog } from "../../support/audit.ts";
import { AUDIT_COLLECTIONS, seqId, type AuditEntryDoc } from "../../../src/audit/model.ts";
import { AuditIntegrityError, ProofUnavailable } from "../../../src/audit/errors.ts";
import { ndjsonExport, prepareExport } from "../../../src/audit/export.ts";
import { parseEventFilter } from "../../../src/audit/search.ts";
import { verifyExport } from "../../../src/audit/verify-export.ts";
import type { DocumentStore } from "../../../src/store/port.ts";

const ev = (i: number) => ({ actor: "acc_test", action: "test.happened", subject: { thingId: `t_${i}` }, data: { i } });

async function entries(store: DocumentStore) {
  return store.collection<AuditEntryDoc>(AUDIT_COLLECTIONS.entries.name, AUDIT_COLLECTIONS.entries.indexes);
}

async function collect(gen: AsyncGenerator<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of gen) out.push(...chunk.split("\n").filter(Boolean));
  return out;
}

describe.each(documentStoreFactories())("a log that defends itself on $name", (factory) => {
  // Each test gets a fresh store: a log belongs to one key and starts at 0.
  let current: DocumentStore | null = null;
  const store = () => current!;
  const fresh = (fn: () => Promise<void>) => async () => {
    const opened = await factory.open();
    current = opened.store;
    try {
      await fn();
    } finally {
      await opened.cleanup();
    }
  };

  it(
    "halts when an entry under its signed checkpoint is deleted: no appends, no signing, proofs unavailable",
    fresh(async () => {
      const key = newSigningKey();
      const log = await openTestAuditLog(store(), { key, syncInBackground: false });
      for (let i = 0; i < 6; i++) await log.record(ev(i));
      const cp = await log.checkpoint();
      expect(await log.selfCheck()).toBeNull();
      const bundleBefore = await collect(ndjsonExport(log, await prepareExport(log, parseEventFilter({ seq: "3" }, "query"))));
      expect((await verifyExport(bundleBefore, cp.note, log.verifierKey)).ok).toBe(true);

      await (await entries(store())).delete(seqId(3));
      // A process opening the log now finds the damage before it appends.
      const reopened = await openTestAuditLog(store(), { key, syncInBackground: false });
      const problem = await reopened.selfCheck();
      expect(problem).toMatch(/entry 3 is missing/);
      expect(reopened.halted).toBe(problem);
      await expect(reopened.record(ev(99))).rejects.toBeInstanceOf(AuditIntegrityError);
      await expect(reopened.checkpoint()).rejects.toBeInstanceOf(AuditIntegrityError);
      await expect(reopened.inclusionProof(3)).rejects.toBeInstanceOf(ProofUnavailable);
      // Position 3 was not reused.
      expect(await (await entries(store())).get(seqId(3))).toBeNull();

      // The same one-entry bundle, served without its entry, fails offline.
      const withheld = bundleBefore.slice(0, 1);
      const report = await verifyExport(withheld, cp.note, log.verifierKey);
      expect(report.ok).toBe(false);
      expect(report.failures[0]!.reason).toMatch(/entry 3 is covered by the signed checkpoint of 6 but missing/);
    }),
  );

  it(
    "halts when an entry is altered, and when the tail under the checkpoint is cut off; never reuses those positions",
    fresh(async () => {
      const key = newSigningKey();
      const log = await openTestAuditLog(store(), { key, syncInBackground: false });
      for (let i = 0; i < 5; i++) await log.record(ev(i));
      await log.checkpoint();
      const col = await entries(store());
      const two = (await col.get(seqId(2)))!;
      await col.updateOne({ _id: seqId(2) }, { $set: { entry: two.entry.replace('"i":2', '"i":7') } });
      const altered = await openTestAuditLog(store(), { key, syncInBackground: false });
      expect(await altered.selfCheck()).toMatch(/entry 2 no longer hashes/);

      await col.updateOne({ _id: seqId(2) }, { $set: { entry: two.entry } });
      await col.delete(seqId(4));
      await col.delete(seqId(3));
      const cut = await openTestAuditLog(store(), { key, syncInBackground: false });
      expect(await cut.selfCheck()).toMatch(/ends after 3 entries but its signed checkpoint covers 5/);
      await expect(cut.record(ev(5))).rejects.toBeInstanceOf(AuditIntegrityError);
      expect(await col.get(seqId(3))).toBeNull();
    }),
  );
});
