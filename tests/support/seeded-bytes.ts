/**
 * Test only: a reproducible byte stream (SHA-256 of seed ‖ counter) for the few unit tests that
 * assert a property of ONE DP profile draw, so that they hold or fail the same way on every run.
 * The product draws its noise from node:crypto's CSPRNG (src/privacy/mechanism/csprng.ts).
 */
import { createHash } from "node:crypto";
import type { ByteSource } from "../../src/privacy/mechanism/csprng.ts";

export function seededBytes(seed: string): ByteSource {
  let counter = 0;
  let block = new Uint8Array(0);
  let at = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (at === block.length) {
        block = createHash("sha256").update(`${seed}\u0000${counter++}`).digest();
        at = 0;
      }
      out[i] = block[at++]!;
    }
    return out;
  };
}
