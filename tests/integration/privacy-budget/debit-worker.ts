/**
 * Child process for the cross-process budget test:
 *
 *   node debit-worker.ts '<json Job>'
 *
 * Opens its own store handle and audit log (same signing key as the parent), prints "ready",
 * waits for one line on stdin, fires its debits at once, prints one JSON line with the outcome
 * ({ ok, refused, errors }), and exits.
 */
import { createPrivateKey } from "node:crypto";
import { createInterface } from "node:readline";
import { openAt, type StoreLocation } from "../../support/store-location.ts";
import { AuditLog } from "../../../src/audit/service.ts";
import { PrivacyBudgetService } from "../../../src/privacy/budget/service.ts";
import { BudgetExhausted } from "../../../src/privacy/budget/errors.ts";
import { NO_READ_SIDE } from "../../support/budget-directory.ts";

export interface DebitJob {
  location: StoreLocation;
  origin: string;
  keyPem: string;
  label: string;
  debits: number;
  datasetId: string;
  buyerIds: string[];
  epsilonMicro: number;
  buyerCapMicro: number;
  globalCapMicro: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "") as DebitJob;
  const store = await openAt(job.location);
  const audit = await AuditLog.open(store, { origin: job.origin, signingKey: createPrivateKey(job.keyPem), checkpointEveryMs: 0 });
  const budget = await PrivacyBudgetService.open(store, { audit, directory: NO_READ_SIDE });
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
  const outcomes = await Promise.allSettled(
    Array.from({ length: job.debits }, (_, i) =>
      budget.debit({
        queryId: `${job.label}-${i}`,
        buyerId: job.buyerIds[i % job.buyerIds.length]!,
        datasetId: job.datasetId,
        epsilonMicro: job.epsilonMicro,
        buyerCapMicro: job.buyerCapMicro,
        globalCapMicro: job.globalCapMicro,
      }),
    ),
  );
  const result = { ok: 0, refused: 0, errors: [] as string[] };
  for (const o of outcomes) {
    if (o.status === "fulfilled") result.ok++;
    else if (o.reason instanceof BudgetExhausted) result.refused++;
    else result.errors.push(String((o.reason as Error)?.stack ?? o.reason));
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await audit.close();
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
