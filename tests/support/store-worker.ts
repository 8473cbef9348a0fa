/**
 * Child process for the cross-process concurrency contract tests.
 *
 *   node tests/support/store-worker.ts '<json Job>'
 *
 * Opens its own store handle on the job's location, prints "ready", waits for one line on
 * stdin (the start signal), fires `attempts` operations at once, prints one JSON line
 * with the outcome ({ ok, duplicate, errors }), closes the store and exits.
 */
import { createInterface } from "node:readline";
import { DuplicateKeyError } from "../../src/store/port.ts";
import { openAt, type StoreLocation } from "./store-location.ts";

export type WorkerOp =
  /** updateOne({_id, balance: {$gte: amount}}, {$inc: {balance: -amount}}) */
  | { op: "debit"; id: string; amount: number }
  /** updateVersion(id, version, {$inc: {n: 1}}) */
  | { op: "version"; id: string; version: number }
  /** updateOne({_id}, {$inc: {n: 1}}) — unconditional: none may be lost */
  | { op: "inc"; id: string }
  /** insert({_id: `${idPrefix}${i}`, email}) against a unique index on email */
  | { op: "insertEmail"; idPrefix: string; email: string };

export interface WorkerJob {
  location: StoreLocation;
  collection: string;
  attempts: number;
  work: WorkerOp;
}

export interface WorkerResult {
  ok: number;
  duplicate: number;
  errors: string[];
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "") as WorkerJob;
  const store = await openAt(job.location);
  const indexes = job.work.op === "insertEmail" ? [{ fields: ["email"], unique: true }] : [];
  const c = await store.collection<Record<string, unknown>>(job.collection, indexes);
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once("line", () => resolve()));
  process.stdout.write("ready\n");
  await go;
  lines.close();
  const w = job.work;
  const one = (i: number): Promise<unknown> => {
    switch (w.op) {
      case "debit":
        return c.updateOne({ _id: w.id, balance: { $gte: w.amount } }, { $inc: { balance: -w.amount } });
      case "version":
        return c.updateVersion(w.id, w.version, { $inc: { n: 1 } });
      case "inc":
        return c.updateOne({ _id: w.id }, { $inc: { n: 1 } });
      case "insertEmail":
        return c.insert({ _id: `${w.idPrefix}${i}`, email: w.email });
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: job.attempts }, (_, i) => one(i)));
  const result: WorkerResult = { ok: 0, duplicate: 0, errors: [] };
  for (const s of settled) {
    if (s.status === "fulfilled") {
      if (s.value !== null) result.ok += 1;
    } else if (s.reason instanceof DuplicateKeyError) {
      result.duplicate += 1;
    } else {
      result.errors.push(String(s.reason));
    }
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
