/** Grouping rows by privacy unit for `map`: capped per unit, decoded, only the approved columns. */
import { describe, expect, it } from "vitest";
import { rowsByUnit, unitBatches } from "../../../src/analysis/units.ts";
import type { ColumnView } from "../../../src/queries/kernel-abi.ts";

const nullsAt = (n: number, rows: number[]) => {
  const b = new Uint8Array(Math.ceil(n / 8));
  for (const i of rows) b[i >>> 3]! |= 1 << (i & 7);
  return b;
};

describe("rowsByUnit", () => {
  it("groups dictionary-coded units in file order, caps rows per unit, skips null units", () => {
    const unit: ColumnView = { values: Int32Array.from([0, 1, 0, 2, 0, 1, 0]), nulls: nullsAt(7, [3]), dictionary: ["车A", "车B", "车C"] };
    const groups = rowsByUnit(unit, 3).map((g) => Array.from(g));
    expect(groups).toEqual([
      [0, 2, 4],
      [1, 5],
    ]);
  });

  it("groups numeric unit ids too", () => {
    const unit: ColumnView = { values: Float64Array.from([7, 9, 7, 7]), nulls: null, dictionary: null };
    expect(rowsByUnit(unit, 10).map((g) => Array.from(g))).toEqual([[0, 2, 3], [1]]);
  });
});

describe("unitBatches", () => {
  it("decodes strings, booleans, dates and timestamps and carries only the named columns", () => {
    const n = 3;
    const cols = [
      { name: "district", type: "string" as const, view: { values: Int32Array.from([1, 0, 1]), nulls: null, dictionary: ["黄浦区", "徐汇区"] } },
      { name: "paid", type: "boolean" as const, view: { values: Uint8Array.from([1, 0, 0]), nulls: nullsAt(n, [2]), dictionary: null } },
      { name: "day", type: "date" as const, view: { values: Int32Array.from([19_000, 19_001, 0]), nulls: null, dictionary: null } },
      {
        name: "at",
        type: "timestamp" as const,
        view: { values: Float64Array.from([0, 1_700_000_000_000, 86_400_000]), nulls: null, dictionary: null },
      },
      { name: "fare", type: "float" as const, view: { values: Float64Array.from([1.5, 2.5, 3.5]), nulls: nullsAt(n, [1]), dictionary: null } },
    ];
    const batches = [...unitBatches([Int32Array.from([0, 2]), Int32Array.from([1])], cols, 1)];
    expect(batches).toHaveLength(2);
    expect(batches[0]![0]!.rows).toEqual([
      { district: "徐汇区", paid: true, day: "2022-01-08", at: "1970-01-01T00:00:00.000Z", fare: 1.5 },
      { district: "徐汇区", paid: null, day: "1970-01-01", at: "1970-01-02T00:00:00.000Z", fare: 3.5 },
    ]);
    expect(batches[1]![0]!.rows).toEqual([{ district: "黄浦区", paid: false, day: "2022-01-09", at: "2023-11-14T22:13:20.000Z", fare: null }]);
  });
});
