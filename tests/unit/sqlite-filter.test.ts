/**
 * SQLite-specific behaviour of the SQLite adapter: the places where SQLite's own typing
 * would silently differ from the port's MongoDB semantics (numbers vs text, true vs 1,
 * missing vs null), SQL injection through values, expression-index use, and conditional
 * updates racing across separate connections and processes on one database file.
 * The behaviour shared by every adapter lives in the contract suite (tests/integration).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuplicateKeyError, StoreUsageError, type Collection, type DocumentStore, type Filter } from "../../src/store/port.ts";
import { compileFilter, openSqliteStore } from "../../src/store/sqlite.ts";

const SQLITE_MODULE = fileURLToPath(new URL("../../src/store/sqlite.ts", import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sqlite-filter-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Doc {
  v?: unknown;
  tags?: unknown[];
  [key: string]: unknown;
}

async function ids(c: Collection<Doc>, filter: Filter): Promise<string[]> {
  const page = await c.find(filter);
  return page.items.map((d) => d._id);
}

describe("sqlite filter translation", () => {
  let store: DocumentStore;
  let c: Collection<Doc>;

  beforeAll(async () => {
    store = await openSqliteStore(path.join(dir, "filters", "store.db"));
    c = await store.collection<Doc>("mixed", [{ fields: ["v"] }]);
    const docs: Array<Doc & { _id: string }> = [
      { _id: "int5", v: 5 },
      { _id: "int10", v: 10 },
      { _id: "real2_5", v: 2.5 },
      { _id: "str5", v: "5" },
      { _id: "str10", v: "10" },
      { _id: "strA", v: "a" },
      { _id: "true", v: true },
      { _id: "false", v: false },
      { _id: "one", v: 1 },
      { _id: "zero", v: 0 },
      { _id: "null", v: null },
      { _id: "missing" },
      { _id: "arr", v: [5, "a", true] },
      { _id: "arrText", v: "[5]" },
      { _id: "obj", v: { a: 1 } },
    ];
    for (const d of docs) await c.insert(d);
  });
  afterAll(async () => {
    await store.close();
  });

  it("brackets comparisons by type: number bounds match only numbers", async () => {
    expect(await ids(c, { v: { $gt: 1 } })).toEqual(["int10", "int5", "real2_5"]);
    expect(await ids(c, { v: { $gte: 0, $lt: 5 } })).toEqual(["one", "real2_5", "zero"]);
    // SQLite alone would order every number before every text value: "a" > 1000 is true there.
    expect(await ids(c, { v: { $lt: 1000 } })).not.toContain("strA");
  });

  it("brackets comparisons by type: string bounds match only text", async () => {
    expect(await ids(c, { v: { $gt: "" } })).toEqual(["arrText", "str10", "str5", "strA"]);
    // Text order, not numeric order: "10" < "5".
    expect(await ids(c, { v: { $lt: "5" } })).toEqual(["str10"]);
  });

  it("never matches missing or null fields with comparisons", async () => {
    const any = [...(await ids(c, { v: { $gt: -1e308 } })), ...(await ids(c, { v: { $lt: "\uffff" } }))];
    expect(any).not.toContain("null");
    expect(any).not.toContain("missing");
    expect(any).not.toContain("true"); // booleans are not numbers either
  });

  it("keeps numbers and strings apart in equality", async () => {
    expect(await ids(c, { v: 5 })).toEqual(["int5"]);
    expect(await ids(c, { v: "5" })).toEqual(["str5"]);
    expect(await ids(c, { v: 2.5 })).toEqual(["real2_5"]);
    // An array or object is stored as JSON text; it must not equal a string that looks like it.
    expect(await ids(c, { v: "[5]" })).toEqual(["arrText"]);
    expect(await ids(c, { v: '{"a":1}' })).toEqual([]);
  });

  it("does not treat true as 1 or false as 0", async () => {
    expect(await ids(c, { v: true })).toEqual(["true"]);
    expect(await ids(c, { v: 1 })).toEqual(["one"]);
    expect(await ids(c, { v: { $eq: false } })).toEqual(["false"]);
    expect(await ids(c, { v: 0 })).toEqual(["zero"]);
    expect(await ids(c, { v: { $in: [true, 0] } })).toEqual(["true", "zero"]);
    expect(await ids(c, { v: { $ne: true } })).toContain("one");
    expect(await ids(c, { v: { $ne: true } })).not.toContain("true");
  });

  it("matches null to missing or null, and $ne / $nin to missing fields", async () => {
    expect(await ids(c, { v: null })).toEqual(["missing", "null"]);
    expect(await ids(c, { v: { $ne: null } })).not.toContain("missing");
    expect(await ids(c, { v: { $ne: 5 } })).toContain("missing");
    expect(await ids(c, { v: { $nin: ["a", 10] } })).toContain("missing");
    expect(await ids(c, { v: { $nin: [null] } })).not.toContain("missing");
    expect(await ids(c, { v: { $exists: false } })).toEqual(["missing"]);
    expect(await ids(c, { v: { $exists: true } })).toContain("null");
  });

  it("handles mixed and empty $in / $nin", async () => {
    expect(await ids(c, { v: { $in: [5, "5", null, false] } })).toEqual(["false", "int5", "missing", "null", "str5"]);
    expect(await ids(c, { v: { $in: [] } })).toEqual([]);
    expect(await c.count({ v: { $nin: [] } })).toBe(15);
    expect(await c.count({ $and: [] })).toBe(15);
    expect(await c.count({ $or: [] })).toBe(0);
  });

  it("$contains matches array elements with the same type care, never scalars", async () => {
    expect(await ids(c, { v: { $contains: 5 } })).toEqual(["arr"]);
    expect(await ids(c, { v: { $contains: "5" } })).toEqual([]);
    expect(await ids(c, { v: { $contains: true } })).toEqual(["arr"]);
    expect(await ids(c, { v: { $contains: 1 } })).toEqual([]);
    expect(await ids(c, { v: { $contains: "a" } })).toEqual(["arr"]); // not the scalar "a"
  });

  it("combines several operators and nested $and / $or", async () => {
    expect(await ids(c, { v: { $gt: 1, $ne: 10 } })).toEqual(["int5", "real2_5"]);
    expect(await ids(c, { $or: [{ v: "a" }, { $and: [{ v: { $gte: 10 } }, { _id: { $ne: "x" } }] }] })).toEqual(["int10", "strA"]);
  });

  it("rejects unknown operators and non-JSON filter values", async () => {
    await expect(c.find({ v: { $regex: "a" } } as unknown as Filter)).rejects.toBeInstanceOf(StoreUsageError);
    await expect(c.find({ $nor: [] } as unknown as Filter)).rejects.toBeInstanceOf(StoreUsageError);
    await expect(c.find({ v: Number.NaN })).rejects.toBeInstanceOf(StoreUsageError);
    await expect(c.find({ v: { $gt: true } } as unknown as Filter)).rejects.toBeInstanceOf(StoreUsageError);
    await expect(c.find({ "v'); --": 1 })).rejects.toBeInstanceOf(StoreUsageError);
  });

  it("uses the expression index for equality and ranges", () => {
    const raw = new Database(path.join(dir, "filters", "store.db"), { readonly: true });
    try {
      for (const filter of [{ v: "a" }, { v: { $gte: 2, $lt: 9 } }, { _id: "int5" }] as Filter[]) {
        const where = compileFilter(filter);
        const plan = raw.prepare(`EXPLAIN QUERY PLAN SELECT t.doc FROM "mixed" AS t WHERE ${where.text}`).all(...where.params) as Array<{
          detail: string;
        }>;
        expect(plan.map((p) => p.detail).join("; ")).toMatch(/USING (INDEX|.*PRIMARY KEY)/);
      }
    } finally {
      raw.close();
    }
  });
});

describe("sqlite values are data, never SQL", () => {
  it("stores and matches a hostile string literally", async () => {
    const file = path.join(dir, "hostile.db");
    const store = await openSqliteStore(file);
    try {
      const t = await store.collection<{ name: string; tags: string[] }>("t", [{ fields: ["name"], unique: true }]);
      const evil = "x'); DROP TABLE t;--";
      const quote = `a"b'c\\d`;
      await t.insert({ _id: evil, name: evil, tags: [evil] });
      await t.insert({ _id: "plain", name: quote, tags: [] });
      expect((await t.get(evil))?.name).toBe(evil);
      expect((await t.findOne({ name: evil }))?._id).toBe(evil);
      expect(await t.count({ tags: { $contains: evil } })).toBe(1);
      expect(await t.count({ name: { $in: [evil, quote] } })).toBe(2);
      expect(await t.count({ name: "x" })).toBe(0);
      await expect(t.insert({ _id: "dup", name: evil, tags: [] })).rejects.toMatchObject({
        name: "DuplicateKeyError",
        fields: ["name"],
      });
      const updated = await t.updateOne({ name: evil }, { $set: { name: `${evil} 2` }, $push: { tags: quote } });
      expect(updated).toMatchObject({ _id: evil, name: `${evil} 2`, tags: [evil, quote], _v: 2 });
      expect(await t.count()).toBe(2); // the table is still there
      await expect(store.collection(`t"; DROP TABLE t;--`)).rejects.toBeInstanceOf(StoreUsageError);
    } finally {
      await store.close();
    }
  });
});

describe("sqlite unique indexes", () => {
  it("maps primary-key and index violations to DuplicateKeyError and changes nothing", async () => {
    const store = await openSqliteStore(path.join(dir, "unique.db"));
    try {
      const users = await store.collection<{ email: string; org: string; n: string }>("users", [
        { fields: ["email"], unique: true },
        { fields: ["org", "n"], unique: true },
      ]);
      await users.insert({ _id: "u1", email: "a@x", org: "o", n: "1" });
      await users.insert({ _id: "u2", email: "b@x", org: "o", n: "2" });
      const dupId = await users.insert({ _id: "u1", email: "c@x", org: "o", n: "3" }).catch((e: unknown) => e);
      expect(dupId).toBeInstanceOf(DuplicateKeyError);
      expect(dupId).toMatchObject({ collection: "users", fields: ["_id"] });
      const dupPair = await users.updateOne({ _id: "u2" }, { $set: { n: "1" } }).catch((e: unknown) => e);
      expect(dupPair).toMatchObject({ name: "DuplicateKeyError", fields: ["org", "n"] });
      expect(await users.get("u2")).toMatchObject({ n: "2", _v: 1 });
    } finally {
      await store.close();
    }
  });
});

describe("sqlite conditional updates across connections", () => {
  it("lets exactly one of two instances on one file win a conditional update", async () => {
    const file = path.join(dir, "two.db");
    const a = await openSqliteStore(file);
    const b = await openSqliteStore(file);
    try {
      const ca = await a.collection<{ state: string }>("jobs");
      const cb = await b.collection<{ state: string }>("jobs");
      await ca.insert({ _id: "j", state: "open" });
      const seenByB = await cb.get("j");
      expect(seenByB?._v).toBe(1);
      const [wa, wb] = await Promise.all([
        ca.updateOne({ _id: "j", state: "open" }, { $set: { state: "a" } }),
        cb.updateOne({ _id: "j", state: "open" }, { $set: { state: "b" } }),
      ]);
      expect([wa, wb].filter((w) => w !== null)).toHaveLength(1);
      // b still holds version 1 from before: optimistic concurrency must refuse it now.
      expect(await cb.updateVersion("j", seenByB!._v, { $set: { state: "stale" } })).toBeNull();
      expect((await cb.get("j"))?._v).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("never lets two processes both win, and loses no optimistic increments", async () => {
    const file = path.join(dir, "race.db");
    const goFile = path.join(dir, "race.go");
    const PROCS = 4;
    const DOCS = 40;
    const INCREMENTS = 15;
    const setup = await openSqliteStore(file);
    const jobs = await setup.collection<{ owner: string | null; n?: number }>("jobs");
    for (let i = 0; i < DOCS; i++) await jobs.insert({ _id: `d${String(i).padStart(3, "0")}`, owner: null });
    await jobs.insert({ _id: "counter", owner: "none", n: 0 });

    const child = `
      import { existsSync } from "node:fs";
      const { openSqliteStore } = await import(${JSON.stringify(pathToFileURL(SQLITE_MODULE).href)});
      const me = process.env.ME;
      const store = await openSqliteStore(process.env.DB_FILE);
      const jobs = await store.collection("jobs");
      process.stdout.write("ready\\n");
      while (!existsSync(process.env.GO_FILE)) await new Promise((r) => setTimeout(r, 1));
      const won = [];
      for (let i = 0; i < ${DOCS}; i++) {
        const id = "d" + String(i).padStart(3, "0");
        const res = await jobs.updateOne({ _id: id, owner: null }, { $set: { owner: me } });
        if (res) won.push(id);
      }
      let retries = 0;
      for (let k = 0; k < ${INCREMENTS}; k++) {
        for (;;) {
          const cur = await jobs.get("counter");
          if (await jobs.updateVersion("counter", cur._v, { $inc: { n: 1 } })) break;
          retries++;
        }
      }
      await store.close();
      process.stdout.write(JSON.stringify({ me, won, retries }) + "\\n");
    `;

    const runs = Array.from({ length: PROCS }, (_, i) => {
      const proc = spawn(process.execPath, ["--input-type=module", "-e", child], {
        env: { ...process.env, ME: `p${i}`, DB_FILE: file, GO_FILE: goFile },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      let onReady!: () => void;
      const ready = new Promise<void>((r) => (onReady = r));
      proc.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready\n")) onReady();
      });
      proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const done = new Promise<{ me: string; won: string[]; retries: number }>((resolve, reject) => {
        proc.on("close", (code) => {
          if (code !== 0) return reject(new Error(`child p${i} exited ${code}: ${err}`));
          const last = out.trim().split("\n").pop()!;
          resolve(JSON.parse(last) as { me: string; won: string[]; retries: number });
        });
      });
      done.catch(() => onReady()); // a child that dies before "ready" must not hang the barrier
      return { ready, done };
    });
    try {
      await Promise.all(runs.map((r) => r.ready));
      await writeFile(goFile, "go");
      const results = await Promise.all(runs.map((r) => r.done));

      const winners = new Map<string, string[]>();
      for (const r of results) for (const id of r.won) winners.set(id, [...(winners.get(id) ?? []), r.me]);
      for (let i = 0; i < DOCS; i++) {
        const id = `d${String(i).padStart(3, "0")}`;
        expect(winners.get(id), id).toHaveLength(1);
        expect(await jobs.get(id)).toMatchObject({ owner: winners.get(id)![0], _v: 2 });
      }
      expect(await jobs.get("counter")).toMatchObject({ n: PROCS * INCREMENTS, _v: 1 + PROCS * INCREMENTS });
    } finally {
      await setup.close();
    }
  });
});
