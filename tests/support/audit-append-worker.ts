/**
 * Child process for the cross-process audit append test:
 *   node tests/support/audit-append-worker.ts '<json {location, keyPem, count, tag}>'
 * Opens its own store handle and AuditLog, prints "ready", waits for a line on stdin, records
 * `count` events at once, prints their seqs as one JSON line, closes and exits.
 */
import { createInterface } from "node:readline";
import { createPrivateKey } from "node:crypto";
import { openAt, type StoreLocation } from "./store-location.ts";
import { AuditLog } from "../../src/audit/service.ts";

const job = JSON.parse(process.argv[2] ?? "") as { location: StoreLocation; keyPem: string; count: number; tag: string; origin: string };
const store = await openAt(job.location);
const log = await AuditLog.open(store, { origin: job.origin, signingKey: createPrivateKey(job.keyPem) });
const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.once("line", () => resolve()));
process.stdout.write("ready\n");
await go;
lines.close();
const results = await Promise.all(
  Array.from({ length: job.count }, (_, i) =>
    log.record({ actor: "system", action: "test.cross_process", subject: { worker: job.tag }, data: { i } }),
  ),
);
process.stdout.write(JSON.stringify(results.map((r) => r.seq)) + "\n");
await log.close();
await store.close();
