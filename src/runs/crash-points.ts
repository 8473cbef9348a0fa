/**
 * Named moments of the run path where a test may kill the process (SIGKILL, no cleanup), to
 * prove that recovery leaves every run either released, charged and logged, or refunded.
 * `EXCHANGE_CRASH_AT=<point>` arms one point (optionally `<point>:<kind>`, kind query|analysis);
 * nothing is armed in normal operation, and production refuses the variable (src/config.ts).
 */
export const CRASH_POINTS = [
  "after-record", // the run record exists; nothing held yet
  "after-hold", // the price is held
  "after-debit", // ε is debited (noise may be drawn from here on)
  "after-stage", // the answer is computed and staged in the run record, not readable
  "after-post", // the charge is posted
  "after-log", // the audit outbox holds the events
  "after-release", // the answer is readable
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type CrashHook = (point: CrashPoint, kind: "query" | "analysis") => void;

export const NO_CRASHES: CrashHook = () => undefined;

/** The hook for an armed point: SIGKILLs this process when the run reaches it. */
export function crashHookFrom(spec: string | undefined | null): CrashHook {
  if (!spec) return NO_CRASHES;
  const [point, kind] = spec.split(":");
  if (!(CRASH_POINTS as readonly string[]).includes(point ?? "")) throw new Error(`EXCHANGE_CRASH_AT: unknown crash point ${point}`);
  return (at, runKind) => {
    if (at === point && (!kind || kind === runKind)) process.kill(process.pid, "SIGKILL");
  };
}
