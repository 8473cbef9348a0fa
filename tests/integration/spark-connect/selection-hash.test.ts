/**
 * The selection hash (src/queries/selection-hash.ts) is Spark's own `hash(...)`: the in-process
 * kernel and the cluster engine choose the same rows and groups for the same seeds. Checked
 * against a real Spark Connect server (SPARK_CONNECT_URL) over edge-case values.
 */
import { randomInt } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { SparkConnectClient } from "../../../spark-connect/index.ts";
import { selectionHash } from "../../../src/queries/selection-hash.ts";

const URL = process.env.SPARK_CONNECT_URL;
if (!URL) console.warn("\n!!! SKIPPING the selection hash's check against Spark: SPARK_CONNECT_URL is not set.\n");

for (const url of URL ? [URL] : []) {
  describe("the selection hash against Spark's hash()", () => {
    const client = new SparkConnectClient(url);
    afterAll(() => client.close());

    it("gives the same group and row ranks as Spark for edge and random values", async () => {
      const int32 = [0, 1, -1, 42, 2 ** 31 - 1, -(2 ** 31), ...Array.from({ length: 20 }, () => randomInt(-(2 ** 31), 2 ** 31 - 1))];
      const units = [
        0,
        1,
        -1,
        2 ** 32,
        2 ** 32 + 5,
        -(2 ** 40) - 3,
        2 ** 53 - 1,
        -(2 ** 53) + 1,
        ...Array.from({ length: 20 }, () => randomInt(0, 2 ** 47)),
      ];
      const cases = units.map((u, k) => ({ seed: int32[k % int32.length]!, unit: u, g: k * 37, row: int32[(k + 3) % int32.length]! }));
      const r = await client.sql(
        `SELECT c.k AS k,
                CAST(hash(c.seed, c.unit, c.g) AS BIGINT) & 4294967295 AS group_rank,
                CAST(hash(c.seed, c.row) AS BIGINT) & 4294967295 AS row_rank
         FROM (SELECT inline(arrays_zip(:k, :seed, :unit, :g, :row)) AS (k, seed, unit, g, row)) c ORDER BY k`,
        {
          k: { type: "array", of: "integer", values: cases.map((_, k) => ({ type: "integer", value: k })) },
          seed: { type: "array", of: "integer", values: cases.map((c) => ({ type: "integer", value: c.seed })) },
          unit: { type: "array", of: "long", values: cases.map((c) => ({ type: "long", value: BigInt(c.unit) })) },
          g: { type: "array", of: "integer", values: cases.map((c) => ({ type: "integer", value: c.g })) },
          row: { type: "array", of: "integer", values: cases.map((c) => ({ type: "integer", value: c.row })) },
        },
      );
      expect(r.rowCount).toBe(cases.length);
      const [, groupRanks, rowRanks] = r.columns;
      cases.forEach((c, k) => {
        expect(Number(groupRanks!.values[k])).toBe(selectionHash.groupRank(c.seed, c.unit, c.g));
        expect(Number(rowRanks!.values[k])).toBe(selectionHash.rowRank(c.seed, c.row));
      });
    });
  });
}
