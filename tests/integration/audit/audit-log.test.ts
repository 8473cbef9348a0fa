/** The audit log service on every store adapter: ordering, idempotency, tree heads, checkpoints, proofs. */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { documentStoreFactories, type DocumentStoreFactory, type StoreLocation } from "../../support/stores.ts";
import type { DocumentStore } from "../../../src/store/port.ts";
import { newSigningKey, openTestAuditLog, TEST_ORIGIN } from "../../support/audit.ts";
import { AuditLog } from "../../../src/audit/service.ts";
import { leafHash, toHex } from "../../../src/audit/hashing.ts";
import { rootFromLeaves, verifyConsistency, verifyInclusion } from "../../../src/audit/merkle.ts";
import { openNote, parseCheckpointText, parseVerifierKey } from "../../../src/audit/signed-note.ts";
import { AuditEventConflict } from "../../../src/audit/errors.ts";
import { canonicalJson, isCanonicalJson } from "../../../src/audit/canonical.ts";
import { AUDIT_COLLECTIONS, seqId, type AuditEntryDoc } from "../../../src/audit/model.ts";

const ev = (i: number) => ({ actor: "acc_test", action: "test.happened", subject: { thingId: `t_${i}` }, data: { i } });

describe.each(documentStoreFactories())("audit log on $name", (factory: DocumentStoreFactory) => {
  // Each test gets a fresh store: a log belongs to one key and starts at 0.
  let current: DocumentStore | null = null;
  let location: StoreLocation | undefined;
  const store = () => current!;
  const fresh = (fn: () => Promise<void>) => async () => {
    const opened = await factory.open();
    current = opened.store;
    location = opened.location;
    try {
      await fn();
    } finally {
      await opened.cleanup();
    }
  };

  it(
    "appends canonical entries at 0, 1, 2… with leaf = SHA-256(0x00 ‖ entry)",
    fresh(async () => {
      const log = await openTestAuditLog(store());
      const a = await log.record(ev(1));
      const b = await log.record({ ...ev(2), data: { z: 1, a: [true, null, "é"] } });
      expect([a.seq, b.seq]).toEqual([0, 1]);
      const doc = (await log.getEntry(1))!;
      expect(isCanonicalJson(doc.entry)).toBe(true);
      expect(doc.entry).toMatch(
        /^\{"action":"test\.happened","actor":"acc_test","data":\{"a":\[true,null,"é"\],"z":1\},"eventId":"evt_[a-z0-9]+","seq":1,"subject":\{"thingId":"t_2"\},"time":"[^"]+","v":1\}$/,
      );
      expect(b.leafHash).toBe(toHex(leafHash(doc.entry)));
      await log.close();
    }),
  );

  it(
    "stays gap-free and ordered with many concurrent writers on several handles",
    fresh(async () => {
      const key = newSigningKey();
      const logs = [await openTestAuditLog(store(), { key }), await openTestAuditLog(store(), { key }), await openTestAuditLog(store(), { key })];
      const before = (await logs[0]!.checkpoint()).size;
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => logs[i % 3]!.record(ev(i))));
      const seqs = results.map((r) => r.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => before + i));
      const cp = await logs[1]!.checkpoint();
      expect(cp.size).toBe(before + 60);
      const leaves: Buffer[] = [];
      for await (const d of logs[2]!.entriesUpTo(cp.size)) leaves.push(leafHash(d.entry));
      expect(toHex(rootFromLeaves(leaves))).toBe(cp.root);
      await Promise.all(logs.map((l) => l.close()));
    }),
  );

  it(
    "records an event id once; the same id with other content is refused",
    fresh(async () => {
      const log = await openTestAuditLog(store());
      const first = await log.record({ ...ev(7), eventId: "test:7" });
      const again = await log.record({ ...ev(7), eventId: "test:7" });
      expect(again.seq).toBe(first.seq);
      await expect(log.record({ ...ev(8), eventId: "test:7" })).rejects.toBeInstanceOf(AuditEventConflict);
      await log.close();
    }),
  );

  it(
    "refuses events that could carry personal data or are malformed",
    fresh(async () => {
      const log = await openTestAuditLog(store());
      await expect(log.record({ ...ev(1), actor: "alice@example.com" })).rejects.toThrow(/actor/);
      await expect(log.record({ ...ev(1), action: "Bad Action" })).rejects.toThrow(/action/);
      await expect(log.record({ ...ev(1), data: { x: Number.NaN } })).rejects.toThrow(/finite/);
      await expect(log.record({ ...ev(1), data: { query: { rows: [[1, 2]] } } })).rejects.toThrow(/must not carry rows/);
      await expect(log.record({ ...ev(1), data: { Email: "x" } })).rejects.toThrow(/must not carry Email/);
      await log.close();
    }),
  );

  it(
    "signs C2SP checkpoints that verify under the published key, and proves inclusion and consistency",
    fresh(async () => {
      const log = await openTestAuditLog(store());
      for (let i = 0; i < 21; i++) await log.record(ev(i));
      const cp1 = await log.checkpoint();
      for (let i = 0; i < 17; i++) await log.record(ev(100 + i));
      const cp2 = await log.checkpoint();
      const vkey = parseVerifierKey(log.verifierKey);
      const text = openNote(cp2.note, vkey);
      const parsed = parseCheckpointText(text);
      expect(parsed.origin).toBe(TEST_ORIGIN);
      expect(parsed.size).toBe(cp2.size);
      expect(parsed.root.toString("hex")).toBe(cp2.root);

      for (const index of [0, 5, cp1.size - 1, cp2.size - 1]) {
        const bundle = await log.inclusionProof(index, cp2.size);
        expect(
          verifyInclusion(
            index,
            cp2.size,
            leafHash(bundle.entry),
            bundle.proof.map((h) => Buffer.from(h, "hex")),
            Buffer.from(cp2.root, "hex"),
          ),
        ).toBe(true);
      }
      const cons = await log.consistencyProof(cp1.size, cp2.size);
      expect(cons.firstRoot).toBe(cp1.root);
      expect(
        verifyConsistency(
          cp1.size,
          cp2.size,
          Buffer.from(cp1.root, "hex"),
          Buffer.from(cp2.root, "hex"),
          cons.proof.map((h) => Buffer.from(h, "hex")),
        ),
      ).toBe(true);
      await log.close();
    }),
  );

  it(
    "refuses to extend a tree over an altered or missing entry, and refuses to sign a rewritten history",
    fresh(async () => {
      // No background signing: this test decides when the tree advances.
      const log = await openTestAuditLog(store(), { syncInBackground: false });
      for (let i = 0; i < 20; i++) await log.record(ev(i));
      const signed = await log.checkpoint();
      const entries = await store().collection<AuditEntryDoc>(AUDIT_COLLECTIONS.entries.name);
      // Altered after appending, before the tree took it in.
      const late = await log.record(ev(99));
      const doc = (await entries.get(seqId(late.seq)))!;
      await entries.updateOne({ _id: doc._id }, { $set: { entry: doc.entry.replace('"i":99', '"i":98') } });
      await expect(log.checkpoint()).rejects.toThrow(/entry 20 no longer hashes/);
      await entries.updateOne({ _id: doc._id }, { $set: { entry: doc.entry } });
      // A hole.
      await log.record(ev(100));
      await entries.delete(seqId(21));
      await log.record(ev(101)).catch(() => undefined);
      await expect(log.checkpoint()).rejects.toThrow(/entry 21 is missing/);
      // A thorough rewrite of history (entry and leaf hash, tree rebuilt) cannot be signed over the old checkpoint.
      const first = (await entries.get(seqId(3)))!;
      const forged = canonicalJson({ ...JSON.parse(first.entry), actor: "acc_forged" });
      await entries.updateOne({ _id: first._id }, { $set: { entry: forged, leafHash: toHex(leafHash(forged)) } });
      await entries.deleteMany({ seq: { $gte: 21 } });
      await (await store().collection(AUDIT_COLLECTIONS.tree.name)).deleteMany({});
      await (await store().collection(AUDIT_COLLECTIONS.nodes.name)).deleteMany({});
      const rebuilt = await openTestAuditLog(store(), { key: undefined }).catch((e: Error) => e);
      expect(rebuilt).toBeInstanceOf(Error); // another key is refused outright
      await expect(log.checkpoint()).rejects.toThrow(new RegExp(`no longer extends its signed checkpoint of size ${signed.size}`));
      // Cut back to the signed size: a second tree of the same size is refused too.
      await entries.deleteMany({ seq: { $gte: signed.size } });
      await (await store().collection(AUDIT_COLLECTIONS.tree.name)).deleteMany({});
      await expect(log.checkpoint()).rejects.toThrow(new RegExp(`checkpoint of size ${signed.size} was signed with a different root`));
      await log.close();
    }),
  );

  it(
    "refuses to open the same log with another signing key",
    fresh(async () => {
      await (await openTestAuditLog(store())).close();
      await expect(AuditLog.open(store(), { origin: TEST_ORIGIN, signingKey: newSigningKey() })).rejects.toThrow(/AUDIT_SIGNING_KEY_FILE/);
    }),
  );

  it(
    "stays gap-free with writers in three processes racing for the same positions",
    fresh(async () => {
      const key = newSigningKey();
      const keyPem = key.export({ format: "pem", type: "pkcs8" }).toString();
      const log = await openTestAuditLog(store(), { key });
      const workers = ["a", "b", "c"].map((tag) => startAppender({ location: location!, keyPem, count: 30, tag, origin: TEST_ORIGIN }));
      await Promise.all(workers.map((w) => w.ready));
      workers.forEach((w) => w.go());
      const seqs = (await Promise.all(workers.map((w) => w.result))).flat().sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 90 }, (_, i) => i));
      const cp = await log.checkpoint();
      expect(cp.size).toBe(90);
      await log.close();
    }),
    120_000,
  );
});

const APPENDER = fileURLToPath(new URL("../../support/audit-append-worker.ts", import.meta.url));

function startAppender(job: object): { ready: Promise<void>; go: () => void; result: Promise<number[]> } {
  const child = spawn(process.execPath, [APPENDER, JSON.stringify(job)], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    if (out.startsWith("ready\n")) signalReady();
  });
  const result = new Promise<number[]>((resolve, reject) => {
    child.on("exit", (code) => {
      const line = out.split("\n")[1];
      if (code !== 0 || !line) reject(new Error(`appender exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(line) as number[]);
    });
  });
  return { ready, go: () => child.stdin.end("go\n"), result };
}
