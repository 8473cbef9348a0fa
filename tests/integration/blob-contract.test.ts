/**
 * Contract suite for the BlobStore port (src/store/port.ts). The port's doc comments are
 * the specification; every blob adapter available in this run must pass every test here.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StoreUsageError } from "../../src/store/port.ts";
import { blobStoreFactories, useStore } from "../support/stores.ts";

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Asserts `got` is a Uint8Array with exactly the bytes of `want` (without a huge diff). */
function expectBytes(got: Uint8Array | null, want: Uint8Array): void {
  expect(got).toBeInstanceOf(Uint8Array);
  expect(got!.byteLength).toBe(want.byteLength);
  expect(Buffer.from(got!.buffer, got!.byteOffset, got!.byteLength).equals(Buffer.from(want))).toBe(true);
}

describe.each(blobStoreFactories())("BlobStore contract: $name", (factory) => {
  const store = useStore(factory);
  let seq = 0;
  /** A key prefix of its own for each test, so tests never see each other's blobs. */
  function ns(label: string): string {
    seq += 1;
    return `t${seq}-${label}`;
  }

  it("reports its kind", () => {
    expect(store().kind).toBe(factory.kind);
  });

  it("round-trips all 256 byte values", async () => {
    const key = `${ns("bytes")}/all.bin`;
    const data = Uint8Array.from({ length: 512 }, (_, i) => (i * 7 + 3) % 256);
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    await store().put(key, every);
    expectBytes(await store().get(key), every);
    await store().put(`${key}2`, data);
    expectBytes(await store().get(`${key}2`), data);
  });

  it("round-trips a ~5 MB buffer", async () => {
    const key = `${ns("big")}/column.bin`;
    const data = new Uint8Array(randomBytes(5 * 1024 * 1024 + 123));
    await store().put(key, data);
    expectBytes(await store().get(key), data);
  });

  it("round-trips an empty blob (which is present, not absent)", async () => {
    const key = `${ns("empty")}/zero.bin`;
    await store().put(key, new Uint8Array(0));
    expect(await store().exists(key)).toBe(true);
    const got = await store().get(key);
    expect(got).not.toBeNull();
    expectBytes(got, new Uint8Array(0));
    expect(await store().list(key)).toEqual([key]);
  });

  it("stores a copy: mutating the caller's buffer afterwards does not change the blob", async () => {
    const key = `${ns("copy")}/k`;
    const data = bytes(1, 2, 3);
    await store().put(key, data);
    data[0] = 99;
    expectBytes(await store().get(key), bytes(1, 2, 3));
  });

  it("get of an absent key returns null", async () => {
    const p = ns("absent");
    expect(await store().get(`${p}/nothing`)).toBeNull();
    await store().put(`${p}/dir/file`, bytes(1));
    // a "directory" (prefix of an existing key) is not a blob
    expect(await store().get(`${p}/dir`)).toBeNull();
    expect(await store().exists(`${p}/dir`)).toBe(false);
  });

  it("put replaces an existing blob (longer by shorter, and back)", async () => {
    const key = `${ns("replace")}/k.bin`;
    await store().put(key, bytes(1, 2, 3, 4, 5, 6));
    await store().put(key, bytes(9));
    expectBytes(await store().get(key), bytes(9));
    const big = new Uint8Array(randomBytes(300_000));
    await store().put(key, big);
    expectBytes(await store().get(key), big);
    await store().put(key, bytes(7, 7));
    expectBytes(await store().get(key), bytes(7, 7));
    expect(await store().list(key)).toEqual([key]);
  });

  it("replacement is atomic: concurrent readers see the old or the new blob, never null or a mix", async () => {
    const key = `${ns("atomic")}/k.bin`;
    const size = 1024 * 1024;
    const old = new Uint8Array(size).fill(1);
    const next = new Uint8Array(size).fill(2);
    await store().put(key, old);
    const reads: Array<Promise<Uint8Array | null>> = [];
    const write = store().put(key, next);
    for (let i = 0; i < 10; i++) reads.push(store().get(key));
    await write;
    for (const got of await Promise.all(reads)) {
      expect(got, "a read during replacement returned null").not.toBeNull();
      expect(got!.byteLength).toBe(size);
      const first = got![0];
      expect(first === 1 || first === 2).toBe(true);
      expect(
        got!.every((b) => b === first),
        "a read mixed old and new bytes",
      ).toBe(true);
    }
    expectBytes(await store().get(key), next);
  });

  it("concurrent puts of one key leave exactly one intact blob", async () => {
    const p = ns("racing");
    const key = `${p}/k.bin`;
    const versions = Array.from({ length: 8 }, (_, i) => new Uint8Array(200_000 + i).fill(i + 1));
    await Promise.all(versions.map((v) => store().put(key, v)));
    const got = await store().get(key);
    expect(got).not.toBeNull();
    const which = versions.findIndex((v) => v.byteLength === got!.byteLength);
    expect(which).toBeGreaterThanOrEqual(0);
    expectBytes(got, versions[which]!);
    expect(await store().list(p)).toEqual([key]);
    expect(await store().deletePrefix(p)).toBe(1);
  });

  it("exists tracks put and delete", async () => {
    const key = `${ns("exists")}/k`;
    expect(await store().exists(key)).toBe(false);
    await store().put(key, bytes(0));
    expect(await store().exists(key)).toBe(true);
    await store().delete(key);
    expect(await store().exists(key)).toBe(false);
  });

  it("delete returns whether the blob existed", async () => {
    const p = ns("delete");
    await store().put(`${p}/a`, bytes(1));
    await store().put(`${p}/b`, bytes(2));
    expect(await store().delete(`${p}/a`)).toBe(true);
    expect(await store().get(`${p}/a`)).toBeNull();
    expect(await store().delete(`${p}/a`)).toBe(false);
    expect(await store().delete(`${p}/never`)).toBe(false);
    expectBytes(await store().get(`${p}/b`), bytes(2));
    expect(await store().list(p)).toEqual([`${p}/b`]);
  });

  it("list(prefix) returns the keys starting with prefix, sorted, including for a prefix ending mid-segment", async () => {
    const p = ns("list");
    const keys = [
      `${p}/ds/a10/y`,
      `${p}/ds/a1/x`,
      `${p}/ds/a2/z`,
      `${p}/ds/a1.b`,
      `${p}/ds/a-b/q`,
      `${p}/ds/a/r`,
      `${p}/ds/B/s`,
      `${p}/ds/b/q`,
      `${p}/ds/b/p/deep.bin`,
      `${p}/other/k`,
      `${p}/v1.0/x`,
      `${p}/v1x0/y`,
    ];
    for (const k of keys) await store().put(k, bytes(k.length % 256));
    const sorted = (xs: string[]) => [...xs].sort(); // code-unit order == byte order for ASCII

    expect(await store().list(`${p}/`)).toEqual(sorted(keys));
    expect(await store().list(p)).toEqual(sorted(keys));
    // prefix ending mid-segment: a1 matches a1/… , a1.b and a10/…
    expect(await store().list(`${p}/ds/a1`)).toEqual([`${p}/ds/a1.b`, `${p}/ds/a1/x`, `${p}/ds/a10/y`]);
    // "-" (0x2d) and "." (0x2e) sort before "/" (0x2f): order is by whole key, not per directory
    expect(await store().list(`${p}/ds/a`)).toEqual([
      `${p}/ds/a-b/q`,
      `${p}/ds/a/r`,
      `${p}/ds/a1.b`,
      `${p}/ds/a1/x`,
      `${p}/ds/a10/y`,
      `${p}/ds/a2/z`,
    ]);
    expect(await store().list(`${p}/ds/b/`)).toEqual([`${p}/ds/b/p/deep.bin`, `${p}/ds/b/q`]);
    // a whole key as prefix includes that key
    expect(await store().list(`${p}/ds/b/q`)).toEqual([`${p}/ds/b/q`]);
    // prefixes are literal text, not patterns: "." matches only "."
    expect(await store().list(`${p}/v1.`)).toEqual([`${p}/v1.0/x`]);
    expect(await store().list(`${p}/ds/B`)).toEqual([`${p}/ds/B/s`]);
    expect(await store().list(`${p}/nothing`)).toEqual([]);
    expect(await store().list(`${p}/ds/a1/x/more`)).toEqual([]);
  });

  it("deletePrefix deletes every blob starting with prefix and returns how many", async () => {
    const p = ns("delprefix");
    const keys = [`${p}/ds/a1/x`, `${p}/ds/a1/y`, `${p}/ds/a10/z`, `${p}/ds/a2/w`, `${p}/keep/k`];
    for (const k of keys) await store().put(k, bytes(1, 2));
    // put twice: still one blob
    await store().put(`${p}/ds/a1/x`, bytes(3));

    expect(await store().deletePrefix(`${p}/ds/a1`)).toBe(3); // mid-segment: a1/… and a10/…
    expect(await store().list(p)).toEqual([`${p}/ds/a2/w`, `${p}/keep/k`]);
    expect(await store().exists(`${p}/ds/a1/x`)).toBe(false);
    expect(await store().get(`${p}/ds/a10/z`)).toBeNull();
    expect(await store().deletePrefix(`${p}/ds/a1`)).toBe(0);
    expect(await store().deletePrefix(`${p}/ds/`)).toBe(1);
    expectBytes(await store().get(`${p}/keep/k`), bytes(1, 2));
    expect(await store().deletePrefix(p)).toBe(1);
    expect(await store().list(p)).toEqual([]);
  });

  it("deletePrefix treats the prefix literally", async () => {
    const p = ns("delliteral");
    await store().put(`${p}/v1.0/x`, bytes(1));
    await store().put(`${p}/v1x0/y`, bytes(2));
    expect(await store().deletePrefix(`${p}/v1.`)).toBe(1);
    expect(await store().list(p)).toEqual([`${p}/v1x0/y`]);
  });

  it("accepts keys made of allowed characters, including dots that are not whole segments", async () => {
    const p = ns("okkeys");
    const keys = [`${p}/..a`, `${p}/a..`, `${p}/.hidden`, `${p}/A-Z_0.9`, `${p}/.tmp`, `${p}/x.tmp`];
    for (const k of keys) {
      await store().put(k, bytes(5));
      expect(await store().exists(k)).toBe(true);
    }
    expect(await store().list(p)).toEqual([...keys].sort());
  });

  it("accepts a 512-character key made of many segments", async () => {
    const p = ns("long");
    let key = p;
    while (key.length + 1 + 100 <= 512) key += `/${"s".repeat(100)}`;
    key += `/${"e".repeat(512 - key.length - 1)}`;
    expect(key.length).toBe(512);
    await store().put(key, bytes(1, 2, 3));
    expectBytes(await store().get(key), bytes(1, 2, 3));
    expect(await store().list(p)).toEqual([key]);
  });

  it("accepts a 512-character key whose last segment is ~500 characters (the port allows it)", async () => {
    const p = ns("longseg");
    const key = `${p}/`.padEnd(512, "y");
    await store().put(key, bytes(4));
    expect(await store().exists(key)).toBe(true);
    expectBytes(await store().get(key), bytes(4));
    expect(await store().list(p)).toEqual([key]);
  });

  it("rejects invalid keys with StoreUsageError on every operation, writing nothing", async () => {
    const p = ns("badkeys");
    const bad = [
      "../x",
      "a//b",
      "",
      "a/./b",
      "a/../b",
      "/abs",
      "trailing/",
      ".",
      "..",
      "x/..",
      "has space",
      "back\\slash",
      "中文",
      "a\u0000b",
      "k".repeat(513),
    ];
    for (const key of bad) {
      const label = JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…(${key.length})` : key);
      expect(await caught(() => store().put(key, bytes(1))), `put ${label}`).toBeInstanceOf(StoreUsageError);
      expect(await caught(() => store().get(key)), `get ${label}`).toBeInstanceOf(StoreUsageError);
      expect(await caught(() => store().exists(key)), `exists ${label}`).toBeInstanceOf(StoreUsageError);
      expect(await caught(() => store().delete(key)), `delete ${label}`).toBeInstanceOf(StoreUsageError);
    }
    // nested under our prefix too
    expect(await caught(() => store().put(`${p}/../escape`, bytes(1)))).toBeInstanceOf(StoreUsageError);
    expect(await store().list(p)).toEqual([]);
  });
});
