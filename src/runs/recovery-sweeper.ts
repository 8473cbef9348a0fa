/**
 * The one recovery sweeper, owned by the composition root and stopped by its close(): every few
 * seconds it finishes or compensates runs a crash left open, lets go of holds that expired or
 * were abandoned, rolls the privacy budget's interrupted debits forward and flushes the audit
 * outbox. Each step is idempotent and safe beside live runs in this or another process, so it
 * runs all the time, not only at start.
 */
import type { Logger } from "../logger.ts";
import type { AuditLog } from "../audit/index.ts";
import type { BillingService } from "../billing/index.ts";
import type { PrivacyBudgetService } from "../privacy/budget/index.ts";
import type { RunPath } from "./run-path.ts";

export interface RecoveryParts {
  runs: RunPath;
  billing: BillingService | null;
  budgets: PrivacyBudgetService;
  audit: Pick<AuditLog, "drift" | "selfCheck">;
  log?: Logger;
}

export class RecoverySweeper {
  private readonly parts: RecoveryParts;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(parts: RecoveryParts) {
    this.parts = parts;
  }

  /** One pass over everything; a step that fails is logged and retried on the next pass. */
  sweepOnce(): Promise<void> {
    this.running ??= (async () => {
      const { runs, billing, budgets, audit, log } = this.parts;
      const step = async (name: string, work: () => Promise<unknown>) => {
        try {
          await work();
        } catch (err) {
          log?.warn({ err, step: name }, "recovery step failed; the next sweep retries it");
        }
      };
      await step("runs", () => runs.recover());
      if (billing) await step("holds", () => billing.sweepHolds());
      await step("privacy budget", () => budgets.recover());
      await step("audit outbox", () => audit.drift.repair());
      await step("audit self-check", () => audit.selfCheck({ maxAgeMs: 60_000 }));
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweepOnce(), intervalMs);
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
