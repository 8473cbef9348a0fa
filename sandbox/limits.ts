/** Time the worker allows on top of a kernel's timeout for setup before it disposes the isolates. */
export const WORKER_DEADLINE_SLACK_MS = 1000;
/** Extra wall time per unit before the worker disposes a stuck isolate. */
export const UNIT_DEADLINE_SLACK_MS = 250;
