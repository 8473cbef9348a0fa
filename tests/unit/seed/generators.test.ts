/** The demo generators: deterministic for a seed, the requested scale, well-formed CSV. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { csvBuffers } from "../../../seed/csv-table.ts";
import { DEMO_TABLES } from "../../../seed/generators/index.ts";
import { Prng } from "../../../seed/prng.ts";

function digest(bufs: Iterable<Buffer>): { sha: string; text: string } {
  const h = createHash("sha256");
  const parts: Buffer[] = [];
  for (const b of bufs) {
    h.update(b);
    parts.push(b);
  }
  return { sha: h.digest("hex"), text: Buffer.concat(parts).toString("utf8") };
}

describe("seeded PRNG", () => {
  it("repeats for a seed, differs across seeds, and stays in range", () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
    const r = new Prng(1);
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const n = r.int(3, 5);
      expect(n >= 3 && n <= 5).toBe(true);
    }
  });
});

describe.each(Object.entries(DEMO_TABLES))("generator %s", (key, make) => {
  it("produces the same bytes for the same seed and scale, other bytes for another seed", () => {
    const one = digest(csvBuffers(make({ rows: 3000, seed: 5 })));
    const two = digest(csvBuffers(make({ rows: 3000, seed: 5 })));
    const other = digest(csvBuffers(make({ rows: 3000, seed: 6 })));
    expect(two.sha).toBe(one.sha);
    expect(other.sha).not.toBe(one.sha);
  });

  it("writes a header and exactly the requested rows, every row with one field per column", () => {
    const table = make({ rows: 2500 });
    expect(table.key).toBe(key);
    expect(table.header).toContain(table.privacyUnit);
    const lines = digest(csvBuffers(table)).text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines[0]).toBe(table.header.join(","));
    expect(lines).toHaveLength(2501);
    for (const line of lines) expect(line.split(",")).toHaveLength(table.header.length);
    expect(make().rows).toBe(20_000);
  });
});
