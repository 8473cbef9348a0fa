/** Waiting with capped exponential backoff and CSPRNG jitter (never Math.random). */
import { randomInt } from "node:crypto";

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The n-th wait (from 0): 2, 4, 8 … up to `maxMs`, plus up to half of it again as jitter. */
export function backoffMs(attempt: number, maxMs = 100): number {
  const base = Math.min(maxMs, 2 ** Math.min(attempt + 1, 20));
  return base + randomInt(0, Math.max(1, Math.floor(base / 2)));
}
