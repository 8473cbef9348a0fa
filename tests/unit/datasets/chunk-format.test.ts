/** The byte layouts of FORMAT.md: dictionaries, bitmaps, keys; and UTF-8 validation positions. */
import { describe, expect, it } from "vitest";
import { assertBlobKey } from "../../../src/store/port.ts";
import {
  decodeDictionary,
  dictionaryKey,
  encodeDictionary,
  isNull,
  nullsKey,
  uploadBlobPrefix,
  valuesKey,
} from "../../../src/datasets/chunk-format.ts";
import { Utf8Checker, firstInvalid } from "../../../src/datasets/ingest/utf8.ts";
import { UploadRejected } from "../../../src/datasets/errors.ts";

describe("chunk format", () => {
  it("round-trips dictionaries with Chinese, empty and emoji entries", () => {
    const entries = ["浦东新区", "", "Zürich", "🚕", "a".repeat(1000)];
    const bytes = entries.reduce((n, s) => n + Buffer.byteLength(s), 0);
    const blob = encodeDictionary(entries, entries.length, bytes);
    expect(new DataView(blob.buffer).getUint32(0, true)).toBe(entries.length);
    expect(decodeDictionary(blob)).toEqual(entries);
  });

  it("names blobs as valid leaf keys that sort by column then chunk", () => {
    const prefix = uploadBlobPrefix("ds_abc", "upl_xyz");
    const keys = [valuesKey(prefix, 0, 0), nullsKey(prefix, 0, 0), valuesKey(prefix, 0, 1), valuesKey(prefix, 12, 3), dictionaryKey(prefix, 12)];
    for (const k of keys) expect(() => assertBlobKey(k)).not.toThrow();
    expect(keys.every((k) => k.startsWith("datasets/ds_abc/upl_xyz/"))).toBe(true);
    // No key is a "folder" of another (the port's leaf rule).
    for (const a of keys) for (const b of keys) if (a !== b) expect(b.startsWith(`${a}/`)).toBe(false);
    expect([...keys].sort()[0]).toBe(valuesKey(prefix, 0, 0).replace(".values", ".nulls"));
  });

  it("reads null bits LSB first", () => {
    const bitmap = new Uint8Array([0b00000101, 0b10000000]);
    expect([0, 1, 2, 3, 15].map((i) => isNull(bitmap, i))).toEqual([true, false, true, false, true]);
    expect(isNull(null, 3)).toBe(false);
  });
});

describe("UTF-8 validation", () => {
  it("accepts characters split across buffers and reports the line of a bad byte", () => {
    const text = Buffer.from("a,b\n浦东,1\n", "utf8");
    const checker = new Utf8Checker();
    const out = Buffer.concat([checker.check(text.subarray(0, 6)), checker.check(text.subarray(6))]);
    checker.end();
    expect(out.toString("utf8")).toBe("a,b\n浦东,1\n");

    const bad = Buffer.concat([Buffer.from("a,b\nx,1\ny,"), Buffer.from([0xc3, 0x28]), Buffer.from("\n")]);
    const c2 = new Utf8Checker();
    let err: unknown;
    try {
      c2.check(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UploadRejected);
    expect((err as UploadRejected).rule).toBe("invalid_utf8");
    expect((err as UploadRejected).line).toBe(3);
  });

  it("finds overlongs, surrogates and truncated sequences", () => {
    expect(firstInvalid(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalid(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
    expect(firstInvalid(Buffer.from([0x61, 0xe6, 0xb5]))).toBe(1);
    expect(firstInvalid(Buffer.from("浦东", "utf8"))).toBe(6);
    const c = new Utf8Checker();
    c.check(Buffer.from([0x61, 0xe6, 0xb5]));
    expect(() => c.end()).toThrow(UploadRejected);
  });
});
