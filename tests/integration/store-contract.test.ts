/**
 * Contract suite for the DocumentStore port (src/store/port.ts). The port's doc comments
 * are the specification; every adapter available in this run must pass every test here.
 */
import { describe, expect, it } from "vitest";
import {
  DuplicateKeyError,
  StoreUsageError,
  type Collection,
  type Filter,
  type FindOptions,
  type IndexSpec,
  type JsonValue,
  type Sort,
  type Stored,
  type Update,
} from "../../src/store/port.ts";
import { documentStoreFactories, startWorker, useOpened, type Worker } from "../support/stores.ts";
import type { WorkerOp, WorkerResult } from "../support/store-worker.ts";

type Doc = { [key: string]: JsonValue };
type Coll = Collection<Doc>;

/** Calls `fn` and returns what it threw or rejected with; undefined if it succeeded. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

async function expectUsageError(fn: () => unknown): Promise<void> {
  const err = await caught(fn);
  expect(err, "expected a StoreUsageError").toBeInstanceOf(StoreUsageError);
}

async function expectDuplicate(fn: () => unknown, collection: string, fields: string[]): Promise<void> {
  const err = await caught(fn);
  expect(err, "expected a DuplicateKeyError").toBeInstanceOf(DuplicateKeyError);
  const dup = err as DuplicateKeyError;
  expect(dup.fields).toEqual(fields);
  expect(dup.collection).toBe(collection);
}

function ids(docs: ReadonlyArray<{ _id: string }>): string[] {
  return docs.map((d) => d._id);
}

/** Every document of the collection, ordered by _id, for before/after comparisons. */
async function snapshot(c: Coll): Promise<Stored<Doc>[]> {
  return (await c.find({})).items;
}

describe.each(documentStoreFactories())("DocumentStore contract: $name", (factory) => {
  const opened = useOpened(factory);
  const store = () => opened().store;
  let seq = 0;
  /** A fresh collection for one test, so tests never see each other's documents. */
  async function fresh(label: string, indexes?: IndexSpec[]): Promise<Coll> {
    seq += 1;
    const name = `t${seq}_${label}`.slice(0, 60);
    return store().collection<Doc>(name, indexes);
  }
  async function seed(c: Coll, docs: Array<Doc & { _id: string }>): Promise<void> {
    for (const d of docs) await c.insert(d);
  }
  /** _ids matched by `filter`, sorted, via find (and the same count via count). */
  async function match(c: Coll, filter: Filter): Promise<string[]> {
    const found = ids((await c.find(filter)).items).sort();
    expect(await c.count(filter), `count(${JSON.stringify(filter)})`).toBe(found.length);
    // The same filter pinned to one _id (FerretDB reads those by _id and checks the rest apart):
    // findOne and a conditional update agree with find, document by document.
    for (const { _id } of (await c.find({})).items) {
      const pinned: Filter = Object.hasOwn(filter, "_id") ? { $and: [filter], _id } : { ...filter, _id };
      const want = found.includes(_id);
      expect((await c.findOne(pinned)) !== null, `findOne(${JSON.stringify(pinned)})`).toBe(want);
      expect((await c.updateOne(pinned, { $inc: { _pinnedProbe: 0 } })) !== null, `updateOne(${JSON.stringify(pinned)})`).toBe(want);
    }
    return found;
  }

  describe("store", () => {
    it("reports its kind", () => {
      expect(store().kind).toBe(factory.kind);
    });

    it("ping resolves", async () => {
      await expect(store().ping()).resolves.toBeUndefined();
    });

    it("sync() resolves after writes, also for many callers at once, and changes no data", async () => {
      const c = await fresh("sync");
      await c.insert({ _id: "a", n: 1 });
      await c.updateOne({ _id: "a" }, { $inc: { n: 1 } });
      await Promise.all(Array.from({ length: 20 }, () => store().sync()));
      await store().sync();
      expect(await snapshot(c)).toEqual([{ _id: "a", n: 2, _v: 2 }]);
    });

    it("collection() returns a collection with the given name", async () => {
      const c = await store().collection<Doc>("named_coll");
      expect(c.name).toBe("named_coll");
    });

    it("collection() is idempotent: declaring the same indexes twice is fine and both handles share data", async () => {
      const indexes: IndexSpec[] = [{ fields: ["email"], unique: true }, { fields: ["org", "createdAt"] }];
      const a = await store().collection<Doc>("idem_coll", indexes);
      const b = await store().collection<Doc>("idem_coll", indexes);
      const c = await store().collection<Doc>("idem_coll");
      await a.insert({ _id: "1", email: "x@y.z", org: "o", createdAt: "2024-01-01T00:00:00Z" });
      expect(await b.get("1")).toMatchObject({ _id: "1", email: "x@y.z", _v: 1 });
      expect(await c.count()).toBe(1);
      // the unique index still holds after being declared twice
      await expectDuplicate(() => b.insert({ _id: "2", email: "x@y.z" }), "idem_coll", ["email"]);
      expect(await a.count()).toBe(1);
    });

    it("rejects invalid collection names with StoreUsageError", async () => {
      for (const bad of ["", "1abc", "_abc", "bad-name", "bad.name", "bad name", "a$b", "a".repeat(64), "系统"]) {
        await expectUsageError(() => store().collection(bad));
      }
    });
  });

  describe("insert / get", () => {
    it("round-trips nested JSON including Chinese text", async () => {
      const c = await fresh("roundtrip");
      const doc = {
        _id: "文档-001",
        title: "数据交换：税务统计",
        emoji: "📊 ok",
        quote: 'she said "hi" \\ back\nnew line\ttab',
        numberLike: "007",
        int: 42,
        negative: -17,
        float: 0.1,
        big: 9007199254740991,
        tiny: 1e-7,
        zero: 0,
        yes: true,
        no: false,
        nothing: null,
        emptyArr: [],
        emptyObj: {},
        tags: ["税务", "统计", "2024"],
        owner: {
          name: "张三",
          address: { city: "北京", lines: ["朝阳区", "建国路 1 号"] },
          scores: [
            { k: "a", v: 1 },
            { k: "b", v: null },
          ],
        },
      };
      const inserted = await c.insert(doc);
      expect(inserted).toEqual({ ...doc, _v: 1 });
      const got = await c.get("文档-001");
      expect(got).toEqual({ ...doc, _v: 1 });
      // booleans stay booleans, numeric-looking strings stay strings, null stays null
      expect(got?.yes).toBe(true);
      expect(got?.no).toBe(false);
      expect(got?.numberLike).toBe("007");
      expect(got?.nothing).toBeNull();
      expect(got && "nothing" in got).toBe(true);
    });

    it("round-trips arrays nested in arrays (plain JSON allows them)", async () => {
      const c = await fresh("nestedarrays");
      const doc = {
        _id: "m",
        matrix: [
          [1, 2],
          [3, 4],
        ],
        ragged: [[], ["a", ["b"]], [{ k: [null] }]],
      };
      expect(await c.insert(doc)).toEqual({ ...doc, _v: 1 });
      expect(await c.get("m")).toEqual({ ...doc, _v: 1 });
      // the scalar elements beside nested arrays stay visible to filters, and updates keep the nesting
      await c.insert({ _id: "n", mixed: [5, [6, 7], "x"] });
      expect(ids((await c.find({ mixed: { $contains: 5 } })).items)).toEqual(["n"]);
      expect(ids((await c.find({ mixed: { $contains: "x" } })).items)).toEqual(["n"]);
      const u = await c.updateOne({ mixed: { $contains: "x" } }, { $push: { mixed: [[8]] }, $set: { "o.m": [[1], []] } });
      expect(u).toEqual({ _id: "n", mixed: [5, [6, 7], "x", [[8]]], o: { m: [[1], []] }, _v: 2 });
      expect(await c.get("n")).toEqual(u);
    });

    it("get of an absent id returns null", async () => {
      const c = await fresh("absent");
      await c.insert({ _id: "present" });
      expect(await c.get("absent")).toBeNull();
    });

    it("sets _v to 1 on insert and increments it by one on every update", async () => {
      const c = await fresh("version");
      const ins = await c.insert({ _id: "a", n: 0 });
      expect(ins._v).toBe(1);
      const u1 = await c.updateOne({ _id: "a" }, { $inc: { n: 1 } });
      expect(u1?._v).toBe(2);
      const u2 = await c.updateVersion("a", 2, { $set: { s: "x" } });
      expect(u2?._v).toBe(3);
      const u3 = await c.updateOne({ _id: "a" }, { $push: { list: 1 } });
      expect(u3?._v).toBe(4);
      expect((await c.get("a"))?._v).toBe(4);
    });

    it("throws DuplicateKeyError on a duplicate _id and changes nothing", async () => {
      const c = await fresh("dupid");
      await c.insert({ _id: "a", v: "original" });
      await expectDuplicate(() => c.insert({ _id: "a", v: "clash" }), c.name, ["_id"]);
      expect(await c.count()).toBe(1);
      expect(await c.get("a")).toEqual({ _id: "a", v: "original", _v: 1 });
    });

    it("throws DuplicateKeyError on a unique index and changes nothing", async () => {
      const c = await fresh("dupemail", [{ fields: ["email"], unique: true }]);
      await c.insert({ _id: "a", email: "li@example.cn" });
      await expectDuplicate(() => c.insert({ _id: "b", email: "li@example.cn" }), c.name, ["email"]);
      expect(await c.count()).toBe(1);
      expect(await c.get("b")).toBeNull();
      // a different value is fine
      await c.insert({ _id: "c", email: "wang@example.cn" });
      expect(await c.count()).toBe(2);
    });

    it("enforces a unique index on a nested path", async () => {
      const c = await fresh("dupnested", [{ fields: ["profile.email"], unique: true }]);
      await c.insert({ _id: "a", profile: { email: "x@y.z", name: "A" } });
      await expectDuplicate(() => c.insert({ _id: "b", profile: { email: "x@y.z", name: "B" } }), c.name, ["profile.email"]);
      expect(await c.count()).toBe(1);
    });

    it("enforces a compound unique index on the combination only", async () => {
      const c = await fresh("compound", [{ fields: ["org", "slug"], unique: true }]);
      await c.insert({ _id: "1", org: "acme", slug: "sales" });
      await c.insert({ _id: "2", org: "acme", slug: "costs" }); // same org, other slug
      await c.insert({ _id: "3", org: "beta", slug: "sales" }); // same slug, other org
      await expectDuplicate(() => c.insert({ _id: "4", org: "acme", slug: "sales" }), c.name, ["org", "slug"]);
      expect(await match(c, {})).toEqual(["1", "2", "3"]);
    });

    it("a non-unique index does not reject equal values", async () => {
      const c = await fresh("nonunique", [{ fields: ["org"] }, { fields: ["org", "at"], unique: false }]);
      await c.insert({ _id: "1", org: "acme", at: "x" });
      await c.insert({ _id: "2", org: "acme", at: "x" });
      expect(await c.count({ org: "acme" })).toBe(2);
    });
  });

  describe("filters", () => {
    /**
     * A fixture covering the awkward cases: missing vs null, booleans vs 1/0,
     * numbers vs numeric strings, nested paths, arrays.
     */
    async function fixture(): Promise<Coll> {
      const c = await fresh("filters");
      await seed(c, [
        { _id: "n5", kind: "num", v: 5, status: "live", tags: ["税务", "open"], meta: { city: "北京", level: 2 } },
        { _id: "n10", kind: "num", v: 10, status: "draft", tags: ["closed"], meta: { city: "上海", level: 7 } },
        { _id: "n15", kind: "num", v: 15, status: "deleted", tags: [], meta: { city: "北京" } },
        { _id: "s10", kind: "str", v: "10", status: "live", tags: ["税务"] },
        { _id: "sabc", kind: "str", v: "abc", status: "draft", meta: { level: 3 } },
        { _id: "btrue", kind: "bool", v: true, tags: [1, 2] },
        { _id: "bfalse", kind: "bool", v: false, tags: [true] },
        { _id: "one", kind: "num", v: 1, tags: ["1"] },
        { _id: "zero", kind: "num", v: 0 },
        { _id: "null", kind: "null", v: null, status: null, meta: null },
        { _id: "missing", kind: "missing" },
      ]);
      return c;
    }

    it("{} matches everything", async () => {
      const c = await fixture();
      expect((await match(c, {})).length).toBe(11);
    });

    it("equality on strings and numbers is type-exact", async () => {
      const c = await fixture();
      expect(await match(c, { v: 10 })).toEqual(["n10"]);
      expect(await match(c, { v: "10" })).toEqual(["s10"]);
      expect(await match(c, { status: "live" })).toEqual(["n5", "s10"]);
      expect(await match(c, { v: { $eq: 10 } })).toEqual(["n10"]);
    });

    it("true is not 1 and false is not 0", async () => {
      const c = await fixture();
      expect(await match(c, { v: true })).toEqual(["btrue"]);
      expect(await match(c, { v: 1 })).toEqual(["one"]);
      expect(await match(c, { v: false })).toEqual(["bfalse"]);
      expect(await match(c, { v: 0 })).toEqual(["zero"]);
      expect(await match(c, { v: { $eq: true } })).toEqual(["btrue"]);
      expect(await match(c, { v: { $in: [1] } })).toEqual(["one"]);
      expect(await match(c, { v: { $in: [true] } })).toEqual(["btrue"]);
      expect(await match(c, { v: { $ne: true }, kind: "bool" })).toEqual(["bfalse"]);
    });

    it("null equality matches null and missing fields", async () => {
      const c = await fixture();
      expect(await match(c, { v: null })).toEqual(["missing", "null"]);
      expect(await match(c, { v: { $eq: null } })).toEqual(["missing", "null"]);
      // nested: parent missing, parent null, or leaf missing
      expect(await match(c, { "meta.level": null })).toEqual(["btrue", "bfalse", "missing", "n15", "null", "one", "s10", "zero"].sort());
    });

    it("$ne matches missing fields; $ne null matches present non-null fields", async () => {
      const c = await fixture();
      expect(await match(c, { status: { $ne: "deleted" } })).toEqual(
        ["bfalse", "btrue", "missing", "n10", "n5", "null", "one", "s10", "sabc", "zero"].sort(),
      );
      expect(await match(c, { status: { $ne: null } })).toEqual(["n10", "n15", "n5", "s10", "sabc"]);
      expect(await match(c, { "meta.city": { $ne: "北京" } })).toEqual(
        ["bfalse", "btrue", "missing", "n10", "null", "one", "s10", "sabc", "zero"].sort(),
      );
    });

    it("numeric comparisons match numbers only (never strings, booleans, null or missing)", async () => {
      const c = await fixture();
      expect(await match(c, { v: { $gt: 5 } })).toEqual(["n10", "n15"]);
      expect(await match(c, { v: { $gte: 5 } })).toEqual(["n10", "n15", "n5"]);
      expect(await match(c, { v: { $lt: 5 } })).toEqual(["one", "zero"]);
      expect(await match(c, { v: { $lte: 1 } })).toEqual(["one", "zero"]);
      expect(await match(c, { v: { $gt: -1000 } })).toEqual(["n10", "n15", "n5", "one", "zero"]);
      expect(await match(c, { v: { $lt: 1000 } })).toEqual(["n10", "n15", "n5", "one", "zero"]);
    });

    it("string comparisons match strings only, in binary (code point) order", async () => {
      const c = await fixture();
      expect(await match(c, { v: { $gt: "" } })).toEqual(["s10", "sabc"]);
      expect(await match(c, { v: { $gte: "10" } })).toEqual(["s10", "sabc"]);
      expect(await match(c, { v: { $gt: "10" } })).toEqual(["sabc"]);
      expect(await match(c, { v: { $lt: "abc" } })).toEqual(["s10"]);
      expect(await match(c, { v: { $lte: "zzz" } })).toEqual(["s10", "sabc"]);
      // "B" (0x42) < "a" (0x61): binary order, not locale order
      expect(await match(c, { v: { $lt: "B" } })).toEqual(["s10"]);
      expect(await match(c, { "meta.city": { $gte: "北" } })).toEqual(["n15", "n5"]);
    });

    it("comparisons never match missing or null fields", async () => {
      const c = await fixture();
      const all = await match(c, { $or: [{ "meta.level": { $gte: 0 } }, { "meta.level": { $lt: 0 } }] });
      expect(all).toEqual(["n10", "n5", "sabc"]);
      expect(await match(c, { status: { $lt: "zzzz" } })).toEqual(["n10", "n15", "n5", "s10", "sabc"]);
    });

    it("several operators in one condition all apply", async () => {
      const c = await fixture();
      expect(await match(c, { v: { $gte: 5, $lt: 15 } })).toEqual(["n10", "n5"]);
      expect(await match(c, { v: { $gt: 0, $lte: 10, $ne: 5 } })).toEqual(["n10", "one"]);
      expect(await match(c, { status: { $exists: true, $ne: null } })).toEqual(["n10", "n15", "n5", "s10", "sabc"]);
      expect(await match(c, { v: { $in: [5, 10, 15], $nin: [10] } })).toEqual(["n15", "n5"]);
    });

    it("$in and $nin", async () => {
      const c = await fixture();
      expect(await match(c, { status: { $in: ["draft", "live"] } })).toEqual(["n10", "n5", "s10", "sabc"]);
      expect(await match(c, { v: { $in: [10, "abc"] } })).toEqual(["n10", "sabc"]);
      expect(await match(c, { v: { $in: [] } })).toEqual([]);
      // $in with null matches null and missing, like equality
      expect(await match(c, { status: { $in: [null, "deleted"] } })).toEqual(["bfalse", "btrue", "missing", "n15", "null", "one", "zero"].sort());
      // $nin matches missing fields (like $ne) ...
      expect(await match(c, { status: { $nin: ["draft", "live"] } })).toEqual(["bfalse", "btrue", "missing", "n15", "null", "one", "zero"].sort());
      // ... unless null is among the excluded values
      expect(await match(c, { status: { $nin: ["draft", null] } })).toEqual(["n15", "n5", "s10"]);
      expect((await match(c, { v: { $nin: [] } })).length).toBe(11);
    });

    it("$in and $nin with long value lists", async () => {
      const c = await fixture();
      const many: Array<string | number> = Array.from({ length: 2000 }, (_, i) => (i % 2 ? 100_000 + i : `x${i}`));
      expect(await match(c, { v: { $in: [...many, 15, "abc"] } })).toEqual(["n15", "sabc"]);
      expect(await match(c, { v: { $nin: [...many, 15, "abc"] } })).toEqual(
        ["bfalse", "btrue", "missing", "n10", "n5", "null", "one", "s10", "zero"].sort(),
      );
    });

    it("$exists distinguishes a missing field from a null one", async () => {
      const c = await fixture();
      expect(await match(c, { status: { $exists: true } })).toEqual(["n10", "n15", "n5", "null", "s10", "sabc"]);
      expect(await match(c, { status: { $exists: false } })).toEqual(["bfalse", "btrue", "missing", "one", "zero"]);
      expect(await match(c, { v: { $exists: false } })).toEqual(["missing"]);
      expect(await match(c, { "meta.level": { $exists: true } })).toEqual(["n10", "n5", "sabc"]);
      expect(await match(c, { "meta.city": { $exists: false } })).toEqual(
        ["bfalse", "btrue", "missing", "null", "one", "s10", "sabc", "zero"].sort(),
      );
    });

    it("$contains matches arrays holding the element (type-exact)", async () => {
      const c = await fixture();
      expect(await match(c, { tags: { $contains: "税务" } })).toEqual(["n5", "s10"]);
      expect(await match(c, { tags: { $contains: "closed" } })).toEqual(["n10"]);
      expect(await match(c, { tags: { $contains: 1 } })).toEqual(["btrue"]);
      expect(await match(c, { tags: { $contains: "1" } })).toEqual(["one"]);
      expect(await match(c, { tags: { $contains: true } })).toEqual(["bfalse"]);
      expect(await match(c, { tags: { $contains: "nowhere" } })).toEqual([]);
    });

    it("$contains works on nested array paths", async () => {
      const c = await fresh("containsnested");
      await seed(c, [
        { _id: "a", ds: { columns: ["age", "收入"] } },
        { _id: "b", ds: { columns: ["age"] } },
        { _id: "c", ds: {} },
      ]);
      expect(await match(c, { "ds.columns": { $contains: "收入" } })).toEqual(["a"]);
      expect(await match(c, { "ds.columns": { $contains: "age" } })).toEqual(["a", "b"]);
    });

    it("$and, $or and their nesting", async () => {
      const c = await fixture();
      expect(await match(c, { $or: [{ v: 5 }, { v: "abc" }] })).toEqual(["n5", "sabc"]);
      expect(await match(c, { $and: [{ kind: "num" }, { v: { $gte: 10 } }] })).toEqual(["n10", "n15"]);
      expect(
        await match(c, {
          $or: [{ $and: [{ kind: "num" }, { "meta.city": "北京" }] }, { $and: [{ kind: "str" }, { $or: [{ v: "abc" }, { status: "nope" }] }] }],
        }),
      ).toEqual(["n15", "n5", "sabc"]);
      // top-level fields and $or combine with AND
      expect(await match(c, { kind: "num", $or: [{ status: "live" }, { status: "draft" }] })).toEqual(["n10", "n5"]);
      // $and and $or side by side
      expect(
        await match(c, {
          $and: [{ v: { $exists: true } }, { v: { $ne: null } }],
          $or: [{ kind: "bool" }, { kind: "null" }],
        }),
      ).toEqual(["bfalse", "btrue"]);
    });

    it("nested dot paths in equality and comparisons", async () => {
      const c = await fixture();
      expect(await match(c, { "meta.city": "北京" })).toEqual(["n15", "n5"]);
      expect(await match(c, { "meta.level": { $gt: 2 } })).toEqual(["n10", "sabc"]);
      expect(await match(c, { "meta.city": "北京", "meta.level": 2 })).toEqual(["n5"]);
    });

    it("filters on _id", async () => {
      const c = await fixture();
      expect(await match(c, { _id: "n5" })).toEqual(["n5"]);
      expect(await match(c, { _id: { $in: ["n5", "zero", "nope"] } })).toEqual(["n5", "zero"]);
      expect(await match(c, { _id: { $gte: "s" } })).toEqual(["s10", "sabc", "zero"]);
    });

    it("findOne returns a match or null, honouring sort", async () => {
      const c = await fixture();
      expect((await c.findOne({ v: 10 }))?._id).toBe("n10");
      expect(await c.findOne({ v: 999 })).toBeNull();
      expect((await c.findOne({ kind: "num" }, { sort: [["v", -1]] }))?._id).toBe("n15");
      expect((await c.findOne({ kind: "num" }, { sort: [["v", 1]] }))?._id).toBe("zero");
      // no sort: _id ascending is the order
      expect((await c.findOne({ kind: "num" }))?._id).toBe("n10");
    });
  });

  describe("find: sort, limit, pagination", () => {
    it("without a sort, returns documents by _id ascending", async () => {
      const c = await fresh("idorder");
      for (const id of ["m", "b", "z", "a", "B", "10", "9"]) await c.insert({ _id: id });
      const page = await c.find({});
      expect(ids(page.items)).toEqual(["10", "9", "B", "a", "b", "m", "z"]);
      expect(page.nextCursor).toBeNull();
    });

    it("sorts numbers numerically and strings in binary order, asc and desc", async () => {
      const c = await fresh("sort1");
      await seed(c, [
        { _id: "a", n: 10, s: "b" },
        { _id: "b", n: 9, s: "B" },
        { _id: "c", n: -2, s: "a" },
        { _id: "d", n: 100, s: "ab" },
        { _id: "e", n: 2.5, s: "北京" },
      ]);
      expect(ids((await c.find({}, { sort: [["n", 1]] })).items)).toEqual(["c", "e", "b", "a", "d"]);
      expect(ids((await c.find({}, { sort: [["n", -1]] })).items)).toEqual(["d", "a", "b", "e", "c"]);
      expect(ids((await c.find({}, { sort: [["s", 1]] })).items)).toEqual(["b", "c", "d", "a", "e"]);
      expect(ids((await c.find({}, { sort: [["s", -1]] })).items)).toEqual(["e", "a", "d", "c", "b"]);
    });

    it("sorts on several keys, with _id ascending as the final tie-breaker (also under desc)", async () => {
      const c = await fresh("sortmulti");
      await seed(c, [
        { _id: "5", g: "x", n: 1 },
        { _id: "1", g: "y", n: 2 },
        { _id: "4", g: "x", n: 2 },
        { _id: "2", g: "x", n: 2 },
        { _id: "3", g: "y", n: 1 },
        { _id: "6", g: "y", n: 2 },
      ]);
      const sort: Sort = [
        ["g", 1],
        ["n", -1],
      ];
      expect(ids((await c.find({}, { sort })).items)).toEqual(["2", "4", "5", "1", "6", "3"]);
      expect(ids((await c.find({}, { sort: [["n", -1]] })).items)).toEqual(["1", "2", "4", "6", "3", "5"]);
      expect(
        ids(
          (
            await c.find(
              {},
              {
                sort: [
                  ["g", -1],
                  ["n", 1],
                ],
              },
            )
          ).items,
        ),
      ).toEqual(["3", "1", "6", "5", "2", "4"]);
    });

    it("sorts on nested paths", async () => {
      const c = await fresh("sortnested");
      await seed(c, [
        { _id: "a", m: { at: "2024-03-01T00:00:00Z" } },
        { _id: "b", m: { at: "2023-12-31T23:59:59Z" } },
        { _id: "c", m: { at: "2024-01-15T08:00:00Z" } },
      ]);
      expect(ids((await c.find({}, { sort: [["m.at", 1]] })).items)).toEqual(["b", "c", "a"]);
      expect(ids((await c.find({}, { sort: [["m.at", -1]] })).items)).toEqual(["a", "c", "b"]);
    });

    it("limit returns at most that many, with a cursor only when more remain", async () => {
      const c = await fresh("limit");
      for (let i = 0; i < 5; i++) await c.insert({ _id: `d${i}`, n: i });
      const p1 = await c.find({}, { sort: [["n", -1]], limit: 3 });
      expect(ids(p1.items)).toEqual(["d4", "d3", "d2"]);
      expect(p1.nextCursor).toEqual(expect.any(String));
      const all = await c.find({}, { limit: 10 });
      expect(all.items).toHaveLength(5);
      expect(all.nextCursor).toBeNull();
      const one = await c.find({ n: { $gte: 3 } }, { limit: 1 });
      expect(ids(one.items)).toEqual(["d3"]);
      expect(one.nextCursor).not.toBeNull();
    });

    /** Walks every page; returns the concatenated ids and the page sizes. */
    async function walk(c: Coll, filter: Filter, opts: FindOptions & { limit: number }) {
      const seen: string[] = [];
      const sizes: number[] = [];
      let after: string | undefined;
      for (let guard = 0; guard < 1000; guard++) {
        const page: { items: Stored<Doc>[]; nextCursor: string | null } = await c.find(filter, {
          ...opts,
          ...(after === undefined ? {} : { after }),
        });
        seen.push(...ids(page.items));
        sizes.push(page.items.length);
        if (page.nextCursor === null) return { seen, sizes };
        expect(page.items.length, "a page with a nextCursor is full").toBe(opts.limit);
        after = page.nextCursor;
      }
      throw new Error("pagination did not terminate");
    }

    it("cursor pagination walks ~50 docs with tied sort keys in pages of 7, each doc exactly once, in order", async () => {
      const c = await fresh("paging");
      const docs: Array<Doc & { _id: string }> = [];
      for (let i = 0; i < 50; i++) {
        // insert in a scrambled order; only 4 distinct values of `g`, 3 of `at`
        const k = (i * 37) % 50;
        docs.push({ _id: `id${String(k).padStart(3, "0")}`, g: k % 4, at: `2024-0${(k % 3) + 1}-01`, k });
      }
      await seed(c, docs);
      const byId = (a: Doc & { _id: string }, b: Doc & { _id: string }) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

      // ascending on a tied key
      const asc = await walk(c, {}, { sort: [["g", 1]], limit: 7 });
      const expectedAsc = [...docs].sort((a, b) => (a.g as number) - (b.g as number) || byId(a, b)).map((d) => d._id);
      expect(asc.seen).toEqual(expectedAsc);
      expect(asc.sizes).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);

      // descending on a tied key: ties still broken by _id ascending
      const desc = await walk(c, {}, { sort: [["g", -1]], limit: 7 });
      const expectedDesc = [...docs].sort((a, b) => (b.g as number) - (a.g as number) || byId(a, b)).map((d) => d._id);
      expect(desc.seen).toEqual(expectedDesc);

      // two keys with mixed directions
      const sort: Sort = [
        ["at", -1],
        ["g", 1],
      ];
      const multi = await walk(c, {}, { sort, limit: 7 });
      const expectedMulti = [...docs]
        .sort((a, b) => {
          const at = a.at === b.at ? 0 : (a.at as string) < (b.at as string) ? 1 : -1;
          return at || (a.g as number) - (b.g as number) || byId(a, b);
        })
        .map((d) => d._id);
      expect(multi.seen).toEqual(expectedMulti);

      // no sort at all: by _id
      const plain = await walk(c, {}, { limit: 7 });
      expect(plain.seen).toEqual([...docs].sort(byId).map((d) => d._id));
    });

    it("the last page has a null cursor even when it is exactly full", async () => {
      const c = await fresh("pagingexact");
      for (let i = 0; i < 14; i++) await c.insert({ _id: `d${String(i).padStart(2, "0")}`, g: i % 2 });
      const p1 = await c.find({}, { sort: [["g", 1]], limit: 7 });
      expect(p1.nextCursor).not.toBeNull();
      const p2 = await c.find({}, { sort: [["g", 1]], limit: 7, after: p1.nextCursor! });
      expect(p2.items).toHaveLength(7);
      expect(p2.nextCursor).toBeNull();
      expect(new Set([...ids(p1.items), ...ids(p2.items)]).size).toBe(14);
    });

    it("pagination combines with a filter, including one that has its own $or", async () => {
      const c = await fresh("pagingfilter");
      const docs: Array<Doc & { _id: string }> = [];
      for (let i = 0; i < 30; i++) {
        docs.push({ _id: `d${String(i).padStart(2, "0")}`, kind: ["a", "b", "c"][i % 3]!, n: i % 5 });
      }
      await seed(c, docs);
      const filter: Filter = { $or: [{ kind: "a" }, { kind: "c" }], n: { $ne: 4 } };
      const expected = docs
        .filter((d) => (d.kind === "a" || d.kind === "c") && d.n !== 4)
        .sort((a, b) => (b.n as number) - (a.n as number) || (a._id < b._id ? -1 : 1))
        .map((d) => d._id);
      const got = await walk(c, filter, { sort: [["n", -1]], limit: 4 });
      expect(got.seen).toEqual(expected);
    });

    it("an empty result has no items and a null cursor", async () => {
      const c = await fresh("emptyfind");
      await c.insert({ _id: "a", n: 1 });
      const page = await c.find({ n: 2 }, { sort: [["n", 1]], limit: 5 });
      expect(page).toEqual({ items: [], nextCursor: null });
    });
  });

  describe("count", () => {
    it("counts everything without a filter and the matches with one", async () => {
      const c = await fresh("count");
      expect(await c.count()).toBe(0);
      expect(await c.count({})).toBe(0);
      for (let i = 0; i < 9; i++) await c.insert({ _id: `d${i}`, even: i % 2 === 0, n: i });
      expect(await c.count()).toBe(9);
      expect(await c.count({ even: true })).toBe(5);
      expect(await c.count({ n: { $gte: 7 } })).toBe(2);
      expect(await c.count({ n: { $gte: 100 } })).toBe(0);
    });
  });

  describe("updateOne", () => {
    it("$set on top-level and nested paths keeps sibling fields", async () => {
      const c = await fresh("set");
      await c.insert({ _id: "a", name: "old", profile: { city: "北京", age: 30 }, keep: 1 });
      const u = await c.updateOne({ _id: "a" }, { $set: { name: "新名字", "profile.city": "上海" } });
      const expected = { _id: "a", name: "新名字", profile: { city: "上海", age: 30 }, keep: 1, _v: 2 };
      expect(u).toEqual(expected);
      expect(await c.get("a")).toEqual(expected);
    });

    it("$set creates missing intermediate objects and stores structured values as given", async () => {
      const c = await fresh("setdeep");
      await c.insert({ _id: "a" });
      const u = await c.updateOne({ _id: "a" }, { $set: { "x.y.z": "深", obj: { list: [1, "二", null, { t: true }] }, n: null } });
      const expected = { _id: "a", x: { y: { z: "深" } }, obj: { list: [1, "二", null, { t: true }] }, n: null, _v: 2 };
      expect(u).toEqual(expected);
      expect(await c.get("a")).toEqual(expected);
    });

    it("$unset removes top-level and nested fields", async () => {
      const c = await fresh("unset");
      await c.insert({ _id: "a", gone: 1, stay: 2, p: { gone: "x", stay: "y" } });
      const u = await c.updateOne({ _id: "a" }, { $unset: ["gone", "p.gone", "neverThere"] });
      expect(u).toEqual({ _id: "a", stay: 2, p: { stay: "y" }, _v: 2 });
      const got = await c.get("a");
      expect(got && "gone" in got).toBe(false);
      expect(await c.count({ gone: { $exists: true } })).toBe(0);
    });

    it("$inc adds to numbers; a missing field starts at 0", async () => {
      const c = await fresh("inc");
      await c.insert({ _id: "a", n: 10, p: { m: 1 } });
      const u = await c.updateOne({ _id: "a" }, { $inc: { n: -3, "p.m": 5, fresh: 7, "q.r": 2 } });
      expect(u).toEqual({ _id: "a", n: 7, p: { m: 6 }, fresh: 7, q: { r: 2 }, _v: 2 });
      expect(await c.get("a")).toEqual(u);
    });

    it("$push appends; a missing field becomes a one-element array", async () => {
      const c = await fresh("push");
      await c.insert({ _id: "a", list: ["x"] });
      await c.updateOne({ _id: "a" }, { $push: { list: "税务" } });
      const u = await c.updateOne({ _id: "a" }, { $push: { list: { obj: [1] }, created: 5, "p.q": "deep" } });
      expect(u).toEqual({ _id: "a", list: ["x", "税务", { obj: [1] }], created: [5], p: { q: ["deep"] }, _v: 3 });
      expect(await c.get("a")).toEqual(u);
    });

    it("$push of an array value appends it as one element (JSON arrays may nest)", async () => {
      const c = await fresh("pusharray");
      await c.insert({ _id: "a", list: [5] });
      const u = await c.updateOne({ _id: "a" }, { $push: { list: [6, 7] } });
      expect(u?.list).toEqual([5, [6, 7]]);
      expect((await c.get("a"))?.list).toEqual([5, [6, 7]]);
    });

    it("applies $set, $unset, $inc and $push together", async () => {
      const c = await fresh("combo");
      await c.insert({ _id: "a", s: "x", u: true, n: 1, l: [] });
      const u = await c.updateOne({ _id: "a" }, { $set: { s: "y" }, $unset: ["u"], $inc: { n: 1 }, $push: { l: 0 } });
      expect(u).toEqual({ _id: "a", s: "y", n: 2, l: [0], _v: 2 });
    });

    it("matches on any filter, updates only one document: the first by _id", async () => {
      const c = await fresh("first");
      await seed(c, [
        { _id: "m", status: "open", n: 0 },
        { _id: "c", status: "open", n: 0 },
        { _id: "x", status: "open", n: 0 },
        { _id: "a", status: "closed", n: 0 },
      ]);
      const u = await c.updateOne({ status: "open" }, { $inc: { n: 1 } });
      expect(u?._id).toBe("c");
      expect(await match(c, { n: 1 })).toEqual(["c"]);
    });

    it("returns null and changes nothing when nothing matches", async () => {
      const c = await fresh("nomatch");
      await seed(c, [
        { _id: "a", n: 1 },
        { _id: "b", n: 2 },
      ]);
      const before = await snapshot(c);
      expect(await c.updateOne({ n: 3 }, { $set: { hit: true } })).toBeNull();
      expect(await c.updateOne({ _id: "zzz" }, { $inc: { n: 1 } })).toBeNull();
      expect(await snapshot(c)).toEqual(before);
      expect(await c.count()).toBe(2);
    });

    it("throws DuplicateKeyError when the change would break a unique index, and changes nothing", async () => {
      const c = await fresh("updclash", [{ fields: ["email"], unique: true }]);
      await seed(c, [
        { _id: "a", email: "a@x.cn", n: 0 },
        { _id: "b", email: "b@x.cn", n: 0 },
      ]);
      const before = await snapshot(c);
      await expectDuplicate(() => c.updateOne({ _id: "b" }, { $set: { email: "a@x.cn" }, $inc: { n: 1 } }), c.name, ["email"]);
      expect(await snapshot(c)).toEqual(before);
    });

    it("throws DuplicateKeyError on a compound unique clash made by an update, and changes nothing", async () => {
      const c = await fresh("updcompound", [{ fields: ["org", "slug"], unique: true }]);
      await seed(c, [
        { _id: "1", org: "acme", slug: "sales" },
        { _id: "2", org: "beta", slug: "sales" },
      ]);
      const before = await snapshot(c);
      await expectDuplicate(() => c.updateOne({ _id: "2" }, { $set: { org: "acme" } }), c.name, ["org", "slug"]);
      expect(await snapshot(c)).toEqual(before);
      // moving to a free combination is fine
      expect(await c.updateOne({ _id: "2" }, { $set: { org: "acme", slug: "costs" } })).toMatchObject({ _v: 2 });
    });
  });

  describe("updateVersion", () => {
    it("updates with the current version and returns null (changing nothing) with a stale one", async () => {
      const c = await fresh("optim");
      await c.insert({ _id: "a", n: 0 });
      const u = await c.updateVersion("a", 1, { $inc: { n: 1 } });
      expect(u).toEqual({ _id: "a", n: 1, _v: 2 });
      expect(await c.updateVersion("a", 1, { $inc: { n: 100 } })).toBeNull();
      expect(await c.updateVersion("a", 3, { $inc: { n: 100 } })).toBeNull();
      expect(await c.get("a")).toEqual({ _id: "a", n: 1, _v: 2 });
      expect(await c.updateVersion("a", 2, { $set: { s: "ok" } })).toEqual({ _id: "a", n: 1, s: "ok", _v: 3 });
    });

    it("returns null for an absent id", async () => {
      const c = await fresh("optimabsent");
      expect(await c.updateVersion("nope", 1, { $set: { x: 1 } })).toBeNull();
      expect(await c.count()).toBe(0);
    });

    it("throws DuplicateKeyError on a unique clash and changes nothing", async () => {
      const c = await fresh("optimclash", [{ fields: ["email"], unique: true }]);
      await seed(c, [
        { _id: "a", email: "a@x.cn" },
        { _id: "b", email: "b@x.cn" },
      ]);
      await expectDuplicate(() => c.updateVersion("b", 1, { $set: { email: "a@x.cn" } }), c.name, ["email"]);
      expect(await c.get("b")).toEqual({ _id: "b", email: "b@x.cn", _v: 1 });
    });
  });

  describe("concurrency", () => {
    it("20 concurrent updateVersion calls with the same version: exactly one succeeds", async () => {
      const c = await fresh("raceversion");
      await c.insert({ _id: "doc", winner: null, n: 0 });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.updateVersion("doc", 1, { $set: { winner: i }, $inc: { n: 1 } })));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const after = await c.get("doc");
      expect(after?._v).toBe(2);
      expect(after?.n).toBe(1);
      expect(after?.winner).toBe(winners[0]?.winner);
    });

    it("30 concurrent conditional debits of 10 on a balance of 100: exactly 10 succeed, final balance 0", async () => {
      const c = await fresh("racedebit");
      await c.insert({ _id: "acct", balance: 100 });
      const results = await Promise.all(
        Array.from({ length: 30 }, () => c.updateOne({ _id: "acct", balance: { $gte: 10 } }, { $inc: { balance: -10 } })),
      );
      const ok = results.filter((r) => r !== null);
      expect(ok).toHaveLength(10);
      for (const r of ok) expect(r.balance as number).toBeGreaterThanOrEqual(0);
      // every successful debit saw a distinct balance
      expect(new Set(ok.map((r) => r.balance)).size).toBe(10);
      const after = await c.get("acct");
      expect(after?.balance).toBe(0);
      expect(after?._v).toBe(11);
    });

    it("20 concurrent inserts of the same unique email: exactly one succeeds, 19 DuplicateKeyError", async () => {
      const c = await fresh("raceinsert", [{ fields: ["email"], unique: true }]);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.insert({ _id: `u${i}`, email: "same@example.cn" })));
      const fulfilled = results.filter((r) => r.status === "fulfilled");
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(19);
      for (const r of rejected) {
        expect(r.reason).toBeInstanceOf(DuplicateKeyError);
        expect((r.reason as DuplicateKeyError).fields).toEqual(["email"]);
      }
      expect(await c.count({ email: "same@example.cn" })).toBe(1);
    });
  });

  describe("concurrency across processes (a second process with its own store handle on the same data)", () => {
    /**
     * Starts a worker process running `attempts` operations, then fires the worker and
     * `local` operations in this process at the same moment. Returns both tallies.
     */
    async function race(
      c: Coll,
      work: WorkerOp,
      attempts: number,
      local: () => Promise<unknown>,
    ): Promise<{ local: WorkerResult; remote: WorkerResult }> {
      const location = opened().location;
      if (!location) throw new Error(`${factory.name} factory gives no location for a second process`);
      const worker: Worker = startWorker({ location, collection: c.name, attempts, work });
      await worker.ready;
      worker.go();
      const settled = await Promise.allSettled(Array.from({ length: attempts }, () => local()));
      const mine: WorkerResult = { ok: 0, duplicate: 0, errors: [] };
      for (const r of settled) {
        if (r.status === "fulfilled") mine.ok += r.value === null ? 0 : 1;
        else if (r.reason instanceof DuplicateKeyError) mine.duplicate += 1;
        else mine.errors.push(String(r.reason));
      }
      return { local: mine, remote: await worker.result };
    }

    it("conditional debits from two processes never overdraw: exactly 50 of 2×40 succeed on 500", async () => {
      const c = await fresh("xdebit");
      await c.insert({ _id: "acct", balance: 500 });
      const { local, remote } = await race(c, { op: "debit", id: "acct", amount: 10 }, 40, () =>
        c.updateOne({ _id: "acct", balance: { $gte: 10 } }, { $inc: { balance: -10 } }),
      );
      expect(local.errors).toEqual([]);
      expect(remote.errors).toEqual([]);
      expect.soft(local.ok + remote.ok, "operations reported as successful").toBe(50);
      const after = await c.get("acct");
      expect(after?.balance).toBe(0);
      expect(after?._v).toBe(51);
    });

    it("updateVersion from two processes with the same version: exactly one of 2×20 succeeds", async () => {
      const c = await fresh("xversion");
      await c.insert({ _id: "doc", n: 0 });
      const { local, remote } = await race(c, { op: "version", id: "doc", version: 1 }, 20, () => c.updateVersion("doc", 1, { $inc: { n: 1 } }));
      expect(local.errors).toEqual([]);
      expect(remote.errors).toEqual([]);
      expect.soft(local.ok + remote.ok, "operations reported as successful").toBe(1);
      expect(await c.get("doc")).toEqual({ _id: "doc", n: 1, _v: 2 });
    });

    it("unconditional $inc from two processes loses no update: 2×50 increments give 100", async () => {
      const c = await fresh("xinc");
      await c.insert({ _id: "ctr", n: 0 });
      const { local, remote } = await race(c, { op: "inc", id: "ctr" }, 50, () => c.updateOne({ _id: "ctr" }, { $inc: { n: 1 } }));
      expect(local.errors).toEqual([]);
      expect(remote.errors).toEqual([]);
      expect.soft(local.ok + remote.ok, "operations reported as successful").toBe(100);
      expect(await c.get("ctr")).toEqual({ _id: "ctr", n: 100, _v: 101 });
    });

    it("the same unique email inserted from two processes: exactly one of 2×20 succeeds", async () => {
      const c = await fresh("xinsert", [{ fields: ["email"], unique: true }]);
      let i = 0;
      const { local, remote } = await race(c, { op: "insertEmail", idPrefix: "remote", email: "x@example.cn" }, 20, () =>
        c.insert({ _id: `local${i++}`, email: "x@example.cn" }),
      );
      expect(local.errors).toEqual([]);
      expect(remote.errors).toEqual([]);
      expect.soft(local.ok + remote.ok, "operations reported as successful").toBe(1);
      expect.soft(local.duplicate + remote.duplicate).toBe(39);
      expect(await c.count()).toBe(1);
    });
  });

  describe("delete / deleteMany", () => {
    it("delete removes one document by id and says whether it existed", async () => {
      const c = await fresh("delete");
      await seed(c, [{ _id: "a" }, { _id: "b" }]);
      expect(await c.delete("a")).toBe(true);
      expect(await c.get("a")).toBeNull();
      expect(await c.delete("a")).toBe(false);
      expect(await c.delete("never")).toBe(false);
      expect(ids(await snapshot(c))).toEqual(["b"]);
    });

    it("a deleted _id can be inserted again, and a unique value freed by delete can be reused", async () => {
      const c = await fresh("reinsert", [{ fields: ["email"], unique: true }]);
      await c.insert({ _id: "a", email: "x@y.z" });
      expect(await c.delete("a")).toBe(true);
      await c.insert({ _id: "b", email: "x@y.z" });
      const again = await c.insert({ _id: "a", email: "other@y.z" });
      expect(again._v).toBe(1);
    });

    it("deleteMany deletes every match and returns how many", async () => {
      const c = await fresh("deletemany");
      for (let i = 0; i < 10; i++) await c.insert({ _id: `d${i}`, n: i, odd: i % 2 === 1 });
      expect(await c.deleteMany({ odd: true, n: { $gt: 3 } })).toBe(3);
      expect(ids(await snapshot(c))).toEqual(["d0", "d1", "d2", "d3", "d4", "d6", "d8"]);
      expect(await c.deleteMany({ n: 999 })).toBe(0);
      expect(await c.count()).toBe(7);
      expect(await c.deleteMany({})).toBe(7);
      expect(await c.count()).toBe(0);
    });
  });

  describe("StoreUsageError", () => {
    it("for an unknown filter operator, before touching any data", async () => {
      const c = await fresh("badop");
      await seed(c, [
        { _id: "a", s: "abc" },
        { _id: "b", s: "xyz" },
      ]);
      const bad = [
        { s: { $regex: "a" } },
        { s: { $eq: "abc", $bogus: 1 } },
        { $where: "true" },
        { $nor: [{ s: "abc" }] },
        { s: { $elemMatch: { $eq: "abc" } } },
      ] as unknown as Filter[];
      for (const f of bad) {
        await expectUsageError(() => c.find(f));
        await expectUsageError(() => c.findOne(f));
        await expectUsageError(() => c.count(f));
        await expectUsageError(() => c.updateOne(f, { $set: { hit: true } }));
        await expectUsageError(() => c.deleteMany(f));
      }
      expect(await snapshot(c)).toEqual([
        { _id: "a", s: "abc", _v: 1 },
        { _id: "b", s: "xyz", _v: 1 },
      ]);
    });

    it("for an invalid field path in a filter", async () => {
      const c = await fresh("badpath");
      await c.insert({ _id: "a" });
      for (const path of ["a..b", ".a", "a.", "a b", "$x.y"]) {
        await expectUsageError(() => c.find({ [path]: 1 }));
      }
    });

    it("for an update touching _id or _v, changing nothing", async () => {
      const c = await fresh("badupdate");
      await c.insert({ _id: "a", n: 1 });
      const bad: Update[] = [
        { $set: { _id: "b" } },
        { $set: { _v: 10 } },
        { $inc: { _v: 1 } },
        { $unset: ["_id"] },
        { $unset: ["_v"] },
        { $push: { _v: 1 } },
        { $set: { n: 2, _id: "b" } },
      ];
      for (const u of bad) {
        await expectUsageError(() => c.updateOne({ _id: "a" }, u));
        await expectUsageError(() => c.updateVersion("a", 1, u));
      }
      expect(await snapshot(c)).toEqual([{ _id: "a", n: 1, _v: 1 }]);
    });

    it("for an unknown update operator or an invalid update path", async () => {
      const c = await fresh("badupdateop");
      await c.insert({ _id: "a", n: 1 });
      const bad = [{ $rename: { n: "m" } }, { $set: { "a..b": 1 } }, { $inc: { $n: 1 } }, { n: 5 }] as unknown as Update[];
      for (const u of bad) await expectUsageError(() => c.updateOne({ _id: "a" }, u));
      expect(await snapshot(c)).toEqual([{ _id: "a", n: 1, _v: 1 }]);
    });

    it("for a limit below 1", async () => {
      const c = await fresh("badlimit");
      await c.insert({ _id: "a" });
      await expectUsageError(() => c.find({}, { limit: 0 }));
      await expectUsageError(() => c.find({}, { limit: -1 }));
    });

    it("for a malformed cursor, or one made for a different sort", async () => {
      const c = await fresh("badcursor");
      for (let i = 0; i < 3; i++) await c.insert({ _id: `d${i}`, n: i });
      await expectUsageError(() => c.find({}, { limit: 1, after: "not a cursor!" }));
      await expectUsageError(() => c.find({}, { limit: 1, after: Buffer.from("{}").toString("base64url") }));
      await expectUsageError(() => c.find({}, { limit: 1, after: Buffer.from("[true]").toString("base64url") }));
      const p = await c.find({}, { limit: 1 }); // cursor for the default sort: [_id]
      expect(p.nextCursor).not.toBeNull();
      // the same cursor under a two-key sort ([n, _id]) has the wrong shape
      await expectUsageError(() => c.find({}, { sort: [["n", 1]], limit: 1, after: p.nextCursor! }));
    });
  });
});
