/**
 * MongoDB-specific behaviour of the MongoDB and GridFS adapters (the behaviour every adapter
 * shares is in tests/integration). Runs against MONGODB_URI (MongoDB or FerretDB 1.x); a
 * unique database per run, dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openGridFsBlobStore } from "../../src/store/blob-gridfs.ts";
import { openMongoStore, type MongoStore } from "../../src/store/mongo.ts";
import { DuplicateKeyError, StoreUsageError, type BlobStore, type Filter, type Update } from "../../src/store/port.ts";

const uri = process.env.MONGODB_URI;

describe.runIf(!!uri)("MongoDB adapter", () => {
  let store: MongoStore;
  let blobs: BlobStore;

  beforeAll(async () => {
    store = await openMongoStore(uri!, `unit_mongo_${process.pid}_${randomBytes(4).toString("hex")}`);
    blobs = openGridFsBlobStore(store.db, "unitblobs");
  });

  afterAll(async () => {
    if (!store) return;
    await blobs.close();
    await store.db.dropDatabase();
    await store.close();
  });

  interface User {
    email: string;
    org?: string;
    slug?: string;
    n?: number;
    tags?: string[];
  }

  const users = () =>
    store.collection<User>("users", [{ fields: ["email"], unique: true }, { fields: ["org", "slug"], unique: true }, { fields: ["n"] }]);

  it("returns plain documents with _v set by the store", async () => {
    const c = await users();
    const inserted = await c.insert({ _id: "plain", email: "plain@x", tags: ["a"] });
    expect(inserted).toEqual({ _id: "plain", email: "plain@x", tags: ["a"], _v: 1 });
    const got = await c.get("plain");
    expect(got).toEqual(inserted);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Array.isArray(got!.tags)).toBe(true);
  });

  it("creates named indexes idempotently", async () => {
    await users();
    await users();
    const names = (await store.db.collection("users").listIndexes().toArray()).map((i) => i["name"]);
    expect(names).toEqual(expect.arrayContaining(["_id_", "ux:email", "ux:org,slug", "ix:n"]));
  });

  describe("duplicate keys", () => {
    it("maps an _id clash on insert to DuplicateKeyError(['_id'])", async () => {
      const c = await users();
      await c.insert({ _id: "dup-id", email: "dup-id@x" });
      const err = await c.insert({ _id: "dup-id", email: "other@x" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect(err).toMatchObject({ collection: "users", fields: ["_id"] });
    });

    it("maps a unique-index clash on insert to the index's fields", async () => {
      const c = await users();
      await c.insert({ _id: "u1", email: "taken@x", org: "o", slug: "s" });
      await expect(c.insert({ _id: "u2", email: "taken@x" })).rejects.toMatchObject({
        name: "DuplicateKeyError",
        fields: ["email"],
      });
      await expect(c.insert({ _id: "u3", email: "free@x", org: "o", slug: "s" })).rejects.toMatchObject({
        name: "DuplicateKeyError",
        fields: ["org", "slug"],
      });
      expect(await c.get("u2")).toBeNull();
      expect(await c.get("u3")).toBeNull();
    });

    it("maps a unique-index clash on update and changes nothing", async () => {
      const c = await users();
      await c.insert({ _id: "up1", email: "up1@x", org: "p", slug: "one" });
      await c.insert({ _id: "up2", email: "up2@x", org: "p", slug: "two" });
      const err = await c.updateOne({ _id: "up2" }, { $set: { email: "up1@x" }, $inc: { n: 1 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect(err).toMatchObject({ collection: "users", fields: ["email"] });
      await expect(c.updateVersion("up2", 1, { $set: { slug: "one" } })).rejects.toMatchObject({
        name: "DuplicateKeyError",
        fields: ["org", "slug"],
      });
      expect(await c.get("up2")).toEqual({ _id: "up2", email: "up2@x", org: "p", slug: "two", _v: 1 });
    });
  });

  describe("filters", () => {
    it("rejects server-side code and unknown operators", async () => {
      const c = await users();
      for (const filter of [
        { $where: "true" },
        { $expr: { $eq: ["$email", "x"] } },
        { $function: { body: "return true", args: [], lang: "js" } },
        { $nor: [{ email: "x" }] },
        { email: { $regex: "." } },
        { email: { $where: "true" } },
        { email: { $not: { $eq: "x" } } },
        { $or: [{ $where: "true" }] },
        { "a.$b": 1 },
      ] as unknown as Filter[]) {
        await expect(c.find(filter), JSON.stringify(filter)).rejects.toBeInstanceOf(StoreUsageError);
        await expect(c.count(filter)).rejects.toBeInstanceOf(StoreUsageError);
        await expect(c.deleteMany(filter)).rejects.toBeInstanceOf(StoreUsageError);
        await expect(c.updateOne(filter, { $set: { n: 1 } })).rejects.toBeInstanceOf(StoreUsageError);
      }
    });

    it("keeps equality off array elements; $contains matches arrays only", async () => {
      const c = await store.collection<{ tags: unknown }>("arrays");
      await c.insert({ _id: "arr", tags: ["a", "b", null] });
      await c.insert({ _id: "str", tags: "a" });
      await c.insert({ _id: "nul", tags: null });
      await c.insert({ _id: "none" } as never);
      const ids = async (filter: Filter) => (await c.find(filter)).items.map((d) => d._id);
      expect(await ids({ tags: "a" })).toEqual(["str"]);
      expect(await ids({ tags: { $in: ["a", "b"] } })).toEqual(["str"]);
      expect(await ids({ tags: null })).toEqual(["none", "nul"]);
      expect(await ids({ tags: { $ne: "a" } })).toEqual(["arr", "none", "nul"]);
      expect(await ids({ tags: { $nin: ["a"] } })).toEqual(["arr", "none", "nul"]);
      expect(await ids({ tags: { $contains: "a" } })).toEqual(["arr"]);
      expect(await ids({ tags: { $contains: null } })).toEqual(["arr"]);
      expect(await ids({ tags: { $gte: "a" } })).toEqual(["str"]);
    });
  });

  describe("values and updates", () => {
    it("rejects non-JSON values, naming the path", async () => {
      const c = await store.collection<Record<string, unknown>>("values");
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [{ n: Number.NaN }, /document\.n/],
        [{ n: Infinity }, /document\.n/],
        [{ at: new Date() }, /document\.at: a Date/],
        [{ a: { b: Buffer.from("x") } }, /document\.a\.b/],
        [{ a: [new Uint8Array(1)] }, /document\.a\[0\]/],
        [{ f: () => 1 }, /document\.f/],
        [{ a: [1, undefined] }, /document\.a\[1\]/],
        [{ a: { $set: 1 } }, /document\.a\.\$set/],
        [{ a: { "b.c": 1 } }, /document\.a\.b\.c/],
      ];
      for (const [fields, message] of bad) {
        await expect(c.insert({ _id: "bad", ...fields })).rejects.toThrow(message);
        await expect(c.insert({ _id: "bad", ...fields })).rejects.toBeInstanceOf(StoreUsageError);
      }
      await c.insert({ _id: "ok", a: 1 });
      for (const update of [
        { $set: { _id: "x" } },
        { $inc: { _v: 1 } },
        { $set: { n: 1 }, $inc: { n: 1 } },
        { $set: { a: 1 }, $unset: ["a.b"] },
        { $set: { d: new Date() } },
        { $push: { l: { $each: [1, 2] } } },
        { $rename: { a: "b" } },
      ] as unknown as Update[]) {
        await expect(c.updateOne({ _id: "ok" }, update), JSON.stringify(update)).rejects.toBeInstanceOf(StoreUsageError);
      }
      await expect(c.updateOne({ _id: "ok" }, { $push: { a: 1 } })).rejects.toBeInstanceOf(StoreUsageError);
      expect(await c.get("ok")).toEqual({ _id: "ok", a: 1, _v: 1 });
    });

    it("$push appends exactly one value, even an array", async () => {
      const c = await store.collection<{ l?: unknown[] }>("pushes");
      await c.insert({ _id: "p" });
      await c.updateOne({ _id: "p" }, { $push: { l: [1, 2] } });
      const doc = await c.updateOne({ _id: "p" }, { $push: { l: 3 } });
      expect(doc).toEqual({ _id: "p", l: [[1, 2], 3], _v: 3 });
    });

    it("stores arrays inside arrays (FerretDB 1.x needs them encoded) and own __proto__ keys", async () => {
      const c = await store.collection<Record<string, unknown>>("shapes");
      const doc = { _id: "s", grid: [[1, 2], [], [[3]], [{ m: [[4]] }]], o: { deep: [[null]] } };
      expect(await c.insert(doc)).toEqual({ ...doc, _v: 1 });
      expect(await c.get("s")).toEqual({ ...doc, _v: 1 });
      const updated = await c.updateOne({ _id: "s" }, { $set: { "o.deep": [["x"]] }, $push: { grid: [5] } });
      expect(updated).toEqual({ _id: "s", grid: [[1, 2], [], [[3]], [{ m: [[4]] }], [5]], o: { deep: [["x"]] }, _v: 2 });
      expect((await c.find({ grid: { $exists: true } })).items).toEqual([updated]);

      const proto = JSON.parse('{"_id":"p","o":{"__proto__":{"x":1}}}') as { _id: string };
      await c.insert(proto);
      const got = (await c.get("p")) as unknown as { o: object };
      expect(Object.getPrototypeOf(got.o)).toBe(Object.prototype);
      expect(Object.hasOwn(got.o, "__proto__")).toBe(true);
    });

    it("keeps single-document updates atomic under concurrency (FerretDB needs the adapter's help)", async () => {
      const c = await store.collection<{ n: number; balance: number }>("counters");
      await c.insert({ _id: "ctr", n: 0, balance: 10 });
      await Promise.all(Array.from({ length: 40 }, () => c.updateOne({ _id: "ctr" }, { $inc: { n: 1 } })));
      expect(await c.get("ctr")).toMatchObject({ n: 40, _v: 41 });

      const debits = await Promise.all(
        Array.from({ length: 10 }, () => c.updateOne({ _id: "ctr", balance: { $gte: 10 } }, { $inc: { balance: -10 } })),
      );
      expect(debits.filter((d) => d !== null)).toHaveLength(1);

      const versioned = await Promise.all(Array.from({ length: 10 }, (_, i) => c.updateVersion("ctr", 42, { $set: { n: i } })));
      expect(versioned.filter((d) => d !== null)).toHaveLength(1);
      expect(await c.get("ctr")).toMatchObject({ balance: 0, _v: 43 });
    });
  });

  it("on FerretDB, overtakes the update lock of a holder that died and leaves no lock behind", async (ctx) => {
    const info = await store.db.admin().command({ buildInfo: 1 });
    if (info["ferretdbVersion"] === undefined) ctx.skip(); // MongoDB updates need no lock
    const locks = store.db.collection<{ _id: string; owner: string; expiresAt: number }>("_store_locks");
    const c = await store.collection<{ n: number }>("locked");
    await c.insert({ _id: "l", n: 0 });
    await locks.insertOne({ _id: "locked/l", owner: "dead-process", expiresAt: Date.now() - 1 });
    await Promise.all(Array.from({ length: 5 }, () => c.updateOne({ n: { $gte: 0 } }, { $inc: { n: 1 } })));
    expect(await c.get("l")).toMatchObject({ n: 5, _v: 6 });
    expect(await locks.countDocuments({})).toBe(0);
  });

  describe("GridFS blobs", () => {
    const files = () => store.db.collection("unitblobs.files");
    const bytes = (s: string) => new TextEncoder().encode(s);

    it("a replace keeps exactly one, the newest, version", async () => {
      await blobs.put("ds/1/col-a", bytes("first"));
      await blobs.put("ds/1/col-a", bytes("second, longer"));
      expect(await files().countDocuments({ filename: "ds/1/col-a" })).toBe(1);
      expect(new TextDecoder().decode((await blobs.get("ds/1/col-a"))!)).toBe("second, longer");
      expect(await store.db.collection("unitblobs.chunks").countDocuments({})).toBe(1);
    });

    it("concurrent replaces leave one complete version", async () => {
      const versions = Array.from({ length: 6 }, (_, i) => new Uint8Array(300 * 1024 + i).fill(i + 1));
      await Promise.all(versions.map((v) => blobs.put("ds/race", v)));
      expect(await files().countDocuments({ filename: "ds/race" })).toBe(1);
      const got = (await blobs.get("ds/race"))!;
      expect(versions.some((v) => Buffer.from(v).equals(Buffer.from(got)))).toBe(true);
    });

    it("reads while replacing always see a whole version", async () => {
      const a = new Uint8Array(600 * 1024).fill(1);
      const b = new Uint8Array(500 * 1024).fill(2);
      await blobs.put("ds/rw", a);
      const writes = Promise.all([blobs.put("ds/rw", b), blobs.put("ds/rw", a), blobs.put("ds/rw", b)]);
      const reads = await Promise.all(Array.from({ length: 6 }, () => blobs.get("ds/rw")));
      await writes;
      for (const r of reads) {
        expect(r).not.toBeNull();
        expect([a.length, b.length]).toContain(r!.length);
        expect(r!.every((x) => x === r![0])).toBe(true);
      }
    });

    it("lists, deletes and deletes by prefix with a range, not a regex", async () => {
      await blobs.put("p/x.1", bytes("1"));
      await blobs.put("p/x.1", bytes("1b"));
      await blobs.put("p/x.2", new Uint8Array(0));
      await blobs.put("p/y", bytes("y"));
      await blobs.put("px", bytes("px"));
      expect(await blobs.list("p/x.")).toEqual(["p/x.1", "p/x.2"]);
      expect(await blobs.list("p/")).toEqual(["p/x.1", "p/x.2", "p/y"]);
      expect(await blobs.list("p.")).toEqual([]); // "." is no wildcard
      expect(await blobs.get("p/x.2")).toEqual(new Uint8Array(0));
      expect(await blobs.exists("p/y")).toBe(true);
      expect(await blobs.delete("p/y")).toBe(true);
      expect(await blobs.delete("p/y")).toBe(false);
      expect(await blobs.get("p/y")).toBeNull();
      expect(await blobs.deletePrefix("p/")).toBe(2);
      expect(await blobs.list("p")).toEqual(["px"]);
      await expect(blobs.put("../etc", bytes("x"))).rejects.toBeInstanceOf(StoreUsageError);
    });
  });

  it("fails fast with a clear message when the server is unreachable", async () => {
    const started = Date.now();
    await expect(openMongoStore("mongodb://127.0.0.1:1/", "nowhere")).rejects.toThrow(
      /cannot reach a MongoDB-wire server at mongodb:\/\/127\.0\.0\.1:1\/ \(database nowhere\)/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
