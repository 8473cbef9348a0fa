import { describe, expect, it } from "vitest";
import { GroupSync } from "../../../src/store/group-sync.ts";

/** A flush the test finishes by hand, recording the order of events. */
function manualFlush() {
  const pending: Array<() => void> = [];
  const events: string[] = [];
  const group = new GroupSync(
    () =>
      new Promise<void>((resolve) => {
        const n = pending.length + 1;
        events.push(`start ${n}`);
        pending.push(() => {
          events.push(`end ${n}`);
          resolve();
        });
      }),
  );
  const finish = async (n: number) => {
    pending[n - 1]!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { group, events, finish, started: () => pending.length };
}

describe("GroupSync (group commit)", () => {
  it("a caller arriving during a flush waits for the next flush, which every such caller shares", async () => {
    const { group, events, finish, started } = manualFlush();
    const done: string[] = [];
    void group.sync().then(() => done.push("first"));
    expect(started()).toBe(1);
    // Ten callers while flush 1 runs: their writes may be newer than flush 1, so they wait for flush 2.
    for (let i = 0; i < 10; i++) void group.sync().then(() => done.push(`later ${i}`));
    expect(started()).toBe(1);
    await finish(1);
    expect(done).toEqual(["first"]);
    expect(started()).toBe(2);
    await finish(2);
    expect(done).toHaveLength(11);
    expect(group.flushes).toBe(2);
    expect(events).toEqual(["start 1", "end 1", "start 2", "end 2"]);
  });

  it("an idle group flushes at once, and a failed flush fails only its own callers", async () => {
    let fail = true;
    let calls = 0;
    const group = new GroupSync(async () => {
      calls += 1;
      if (fail) throw new Error("disk gone");
    });
    await expect(group.sync()).rejects.toThrow("disk gone");
    fail = false;
    await expect(group.sync()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
