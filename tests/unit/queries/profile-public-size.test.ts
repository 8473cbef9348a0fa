/**
 * Issue #16 item 3: a contribution profile uses only public facts besides its DP releases. The
 * rows each shape stands for come from the owner's declared size (exact, or kept inside the
 * declared bucket) and the noisy bins — never the version's exact row count.
 */
import { describe, expect, it } from "vitest";
import { computeProfile, extrapolatedRows, publicRows, type ProfileInput } from "../../../src/queries/contribution-profile.ts";
import { parseEpsilon } from "../../../src/privacy/mechanism/index.ts";
import type { ColumnView } from "../../../src/queries/kernel-abi.ts";

/** `units` units, unit u with 1 + (u % 5) rows, over 4 districts. */
function table(units: number): { views: Record<string, ColumnView>; rows: number } {
  const unit: number[] = [];
  const district: number[] = [];
  for (let u = 0; u < units; u++) for (let j = 0; j <= u % 5; j++) unit.push(u), district.push((u + j) % 4);
  return {
    rows: unit.length,
    views: {
      unit: { values: Int32Array.from(unit), nulls: null, dictionary: null },
      district: { values: Int32Array.from(district), nulls: null, dictionary: ["a", "b", "c", "d"] },
    },
  };
}

function profile(t: ReturnType<typeof table>, publicSize: ProfileInput["publicSize"]) {
  return computeProfile({
    views: t.views,
    unitColumn: "unit",
    dims: [{ column: "district", groupOf: (i) => t.views.district!.values[i]!, width: 4 }],
    measures: [],
    epsilon: parseEpsilon("1"),
    publicSize,
  });
}

describe("a contribution profile's row figures", () => {
  it("are the declared exact size, whatever the version really holds (two neighbours look the same)", () => {
    const a = table(3000);
    const b = table(3001); // one more unit, up to 5 more rows
    expect(a.rows).not.toBe(b.rows);
    for (const p of [profile(a, { minRows: 9000, maxRows: 9000 }), profile(b, { minRows: 9000, maxRows: 9000 })]) {
      expect(p.shapes.map((s) => s.rows)).toEqual(p.shapes.map(() => 9000));
    }
  });

  it("stay inside a declared bucket, and come from the noisy bins alone (their tail continued) when no size is declared", () => {
    const t = table(3000);
    const bucketed = profile(t, { minRows: 10_001, maxRows: 100_000 });
    for (const s of bucketed.shapes) expect(s.rows).toBeGreaterThanOrEqual(10_001);
    const undeclared = profile(t, null);
    for (const s of undeclared.shapes) {
      // At least what the shape's own bins hold, and the ungrouped unit sizes with their tail continued.
      expect(s.rows).toBeGreaterThanOrEqual(publicRows(s.weights, null));
      expect(s.rows).toBeGreaterThanOrEqual(Math.round(extrapolatedRows(undeclared.shapes[0]!.weights[0]!)));
      expect(s.rows).toBeGreaterThan(0);
    }
  });
});
