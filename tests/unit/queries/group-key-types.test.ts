/** Group keys keep their column's type in the answer: an int key is a number, a boolean a boolean. */
import { describe, expect, it } from "vitest";
import { planQuery } from "../../../src/queries/plan.ts";
import { releaseAnswer } from "../../../src/queries/release.ts";
import { MIXED_POLICY, MIXED_SCHEMA } from "../../support/taxi-fixture.ts";

describe("released group keys", () => {
  it("are typed like their column; buckets are labels", () => {
    const plan = planQuery({
      ir: {
        datasetId: "ds",
        datasetVersion: 1,
        filters: [],
        groupBy: ["cat", "num", "flag", "t"],
        aggregates: [{ kind: "COUNT_ROWS" }],
        epsilon: "1",
      },
      policy: MIXED_POLICY,
      schema: MIXED_SCHEMA,
      rowCount: 10,
    });
    // One row of zero totals per group: the release step only needs the layout.
    const W = 2;
    const answer = releaseAnswer(plan, new Array(plan.groupCount * W).fill(0));
    expect(answer.groups).toHaveLength(5 * 5 * 2 * 4);
    const first = answer.groups[0]!.key;
    expect(first).toEqual([
      { column: "cat", value: "a" },
      { column: "num", value: 0 },
      { column: "flag", value: true },
      { column: "t", value: "[0, 25)" },
    ]);
    for (const g of answer.groups) {
      expect(typeof g.key[1]!.value).toBe("number");
      expect(typeof g.key[2]!.value).toBe("boolean");
    }
  });

  it("keep their type in filters: an int key written as text is the int (one query, one hash), a boolean likewise", () => {
    const plan = (values: Array<string | number | boolean>, flag: Array<string | boolean>) =>
      planQuery({
        ir: {
          datasetId: "ds",
          datasetVersion: 1,
          filters: [
            { column: "num", op: "in", values },
            { column: "flag", op: "in", values: flag },
          ],
          groupBy: ["num"],
          aggregates: [{ kind: "COUNT_ROWS" }],
          epsilon: "1",
        },
        policy: MIXED_POLICY,
        schema: MIXED_SCHEMA,
        rowCount: 10,
      });
    const typed = plan([3, 4], [true]);
    const text = plan(["3", "4"], ["true"]);
    expect(text.filters).toEqual(typed.filters);
    expect(text.filters[0]).toMatchObject({ column: "flag", values: [true] });
    expect(text.filters[1]).toMatchObject({ column: "num", values: [3, 4] });
    expect(text.hash).toBe(typed.hash);
    const answer = releaseAnswer(text, new Array(text.groupCount * 2).fill(0));
    expect(answer.groups.map((g) => g.key[0]!.value)).toEqual([0, 1, 2, 3, 4]);
    // Text that spells no key is still refused, naming it.
    expect(() => plan(["3.0"], [true])).toThrow(/"3.0" is not in the public key set/);
  });
});
