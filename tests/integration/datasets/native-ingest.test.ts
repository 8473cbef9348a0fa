/**
 * The native ingest path (DuckDB) against the exact JS path, on both storage adapters: for every
 * file (seeded fixtures and careless inputs), both paths either store byte-identical blobs and
 * the same metadata, or refuse with the same rule and position and keep nothing. Whether the
 * native path stored a file or declined it is reported, not assumed, except for the files it
 * is built for (the seeded tables, Parquet), which it must store itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { availableAdapters, startTestExchange, type TestExchange } from "../../support/exchange.ts";
import { runIngest, type IngestResult } from "../../../src/datasets/ingest/pipeline.ts";
import { UploadProgress } from "../../../src/datasets/ingest/progress.ts";
import { UploadRejected } from "../../../src/datasets/errors.ts";
import type { ColumnType, UploadJob } from "../../../src/datasets/model.ts";
import { csvBuffers } from "../../../seed/csv-table.ts";
import { taxiTrips } from "../../../seed/generators/taxi-trips.ts";
import { outpatientVisits } from "../../../seed/generators/outpatient-visits.ts";
import { pieces } from "./helpers.ts";

const CHUNK_ROWS = 1000;

const seeded = (table: ReturnType<typeof taxiTrips>): Buffer => Buffer.concat([...csvBuffers(table)]);

const CARELESS: Array<[name: string, body: string | Buffer, declared?: Record<string, ColumnType>]> = [
  [
    "CRLF, quotes, newlines in quotes, Chinese, nulls",
    'id,区县,score,note\r\n1,浦东新区,3.5,"a, b"\r\n2,,4,"two\nlines"\r\n3,静安区,,"say ""hi"""\r\n',
  ],
  ["a BOM", "\ufeffa,b\n1,x\n2,y\n"],
  ["blank lines", "a,b\n1,x\n\n2,y\n\n"],
  ["CR line ends", "a,b\r1,x\r2,y\r"],
  ["no final newline", "a,b\n1,x\n2,y"],
  ["ragged row", "a,b,c\n1,2,3\n4,5\n"],
  ["too many fields", "a,b\n1,2\n3,4,5\n"],
  ["stray closing quote", 'a,b\n1,2\n3,"x"y\n'],
  ["quote inside unquoted field", 'a,b\n1,2\n3,x"y\n'],
  ["unclosed quote", 'a,b\n1,2\n3,"xyz\n4,5\n'],
  ["header only", "a,b\n"],
  ["duplicate header", "a,a\n1,2\n"],
  ["empty header name", "a,\n1,2\n"],
  ["leading zeros and long ids stay text", "code,id\n007,110101199003077777\n010,110101199003077778\n"],
  ["ints widen to float later", `n,m\n${Array.from({ length: 50 }, (_, i) => `${i},x`).join("\n")}\n1.5,y\n`],
  ["ints widen to text later", `n,m\n${Array.from({ length: 50 }, (_, i) => `${i},x`).join("\n")}\nN/A,y\n`],
  ["ints beyond int32 later", `n,m\n${Array.from({ length: 50 }, (_, i) => `${i},x`).join("\n")}\n13812345678,y\n`],
  ["ints beyond 2^53 are text", "n,m\n1,x\n9007199254740993,y\n"],
  ["minus zero and plus signs", "n,f\n-0,+1.5\n3,.5\n"],
  ["floats, exponents, digits", "f,g\n1e5,1.\n-2.5E-3,2\n0.1,3\n"],
  ["booleans in any case", "b,c\nTrue,x\nFALSE,y\ntrue,z\n"],
  ["dates and a bad date", "d,e\n2024-02-29,x\n2023-02-29,y\n"],
  [
    "timestamps in every form",
    "t,u\n2024-03-01 08:15:32,x\n2024-03-02T09:00:00Z,y\n2024-03-03 10:00,z\n2024-03-04 11:30:00+08:00,w\n2024-03-05,v\n1969-12-31 23:59:59.9995,q\n",
  ],
  ["a sparse column", `a,b\n${Array.from({ length: 30 }, (_, i) => `${i},`).join("\n")}\n31,5\n`],
  ["declared types", "a,b,c\n1,2,x\n0,3,y\n", { a: "boolean", b: "string", c: "string" }],
  ["a declared type misfit", "a,b\n1,2\nx,3\n", { a: "int" }],
  ["a huge field", `a,b\n1,"${"长".repeat(400_000)}"\n2,x\n`],
  ["a NUL byte inside", "a,b\n1,x\u0000y\n2,z\n"],
  ["whitespace around values", "a,b\n 1,x \n2 , y\n"],
  ["many distinct long strings", `a,b\n${Array.from({ length: 3000 }, (_, i) => `${i},"${"文本".repeat(5)}${i % 1700}"`).join("\n")}\n`],
];

describe.each(availableAdapters())("native ingest equals the JS path on %s", (adapter) => {
  let ex: TestExchange;
  let spoolDir: string;
  let n = 0;

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    spoolDir = await mkdtemp(join(tmpdir(), "native-ingest-"));
  });
  afterAll(async () => {
    await ex?.stop();
    await rm(spoolDir, { recursive: true, force: true });
  });

  type Outcome = { ok: true; result: IngestResult; blobs: Map<string, Buffer> } | { ok: false; error: UploadRejected };

  async function ingest(
    body: Buffer,
    native: boolean,
    declared: Record<string, ColumnType> = {},
    format: "csv" | "parquet" | "ndjson" = "csv",
    segmentBytes?: number,
  ): Promise<Outcome> {
    const id = `t${++n}`;
    const prefix = `datasets/native-test/${id}/`;
    const jobs = await ex.services.store.collection<UploadJob>("native_test_jobs");
    const progress = new UploadProgress(jobs, id, () => new Date());
    try {
      const result = await runIngest(
        { source: pieces(body, 7919), format, delimiter: ",", declared: new Map(Object.entries(declared)), filename: null },
        {
          blobs: ex.services.blobs,
          blobPrefix: prefix,
          spoolPath: join(spoolDir, `${id}.upload`),
          maxBytes: 1 << 30,
          chunkRows: CHUNK_ROWS,
          progress,
          nativeMinBytes: native ? 0 : null,
          ...(segmentBytes ? { segmentBytes } : {}),
        },
      );
      const blobs = new Map<string, Buffer>();
      for (const key of await ex.services.blobs.list(prefix)) blobs.set(key.slice(prefix.length), Buffer.from((await ex.services.blobs.get(key))!));
      await ex.services.blobs.deletePrefix(prefix);
      return { ok: true, result, blobs };
    } catch (error) {
      await ex.services.blobs.deletePrefix(prefix);
      if (!(error instanceof UploadRejected)) throw error;
      return { ok: false, error };
    } finally {
      await progress.stop();
    }
  }

  /** Both paths agree; returns which path the native run used. */
  async function expectSame(
    body: Buffer,
    declared?: Record<string, ColumnType>,
    format: "csv" | "parquet" = "csv",
    segmentBytes?: number,
  ): Promise<string> {
    const js = await ingest(body, false, declared, format);
    const native = await ingest(body, true, declared, format, segmentBytes);
    if (!js.ok) {
      expect(native.ok, native.ok ? `native stored what JS refuses (${js.error.rule})` : "").toBe(false);
      if (!native.ok) expect(native.error.toInfo()).toEqual(js.error.toInfo());
      return native.ok ? "native" : `refused:${js.error.rule}`;
    }
    expect(native.ok, native.ok ? "" : `native refused (${native.error.rule}) what JS stores`).toBe(true);
    if (!native.ok) return "";
    expect(js.result.path).toBe("js");
    if (segmentBytes) expect(native.result.segments).toBeGreaterThan(1);
    const strip = (r: IngestResult) => ({ ...r, path: null, declined: null, secondPass: null, segments: null });
    expect(strip(native.result)).toEqual(strip(js.result));
    expect([...native.blobs.keys()]).toEqual([...js.blobs.keys()]);
    for (const [key, bytes] of js.blobs) expect(native.blobs.get(key)!.equals(bytes), key).toBe(true);
    return native.result.path === "native" ? "native" : `declined: ${native.result.declined}`;
  }

  it.each(CARELESS)("%s", async (_name, body, declared) => {
    await expectSame(Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"), declared);
  });

  it("stores the seeded taxi and outpatient tables natively, byte for byte as the JS path does", async () => {
    expect(await expectSame(seeded(taxiTrips({ rows: 5000, seed: 7 })))).toBe("native");
    expect(await expectSame(seeded(outpatientVisits({ rows: 5000, seed: 7 })))).toBe("native");
  });

  it("reads a CSV in segments while it arrives (cut at record ends), storing what the JS path stores", async () => {
    // Tiny segments: every network piece (7919 bytes) ends one, so cuts fall next to quoted
    // line breaks, doubled quotes, Chinese text and the last rows.
    expect(await expectSame(seeded(taxiTrips({ rows: 3000, seed: 11 })), undefined, "csv", 4096)).toBe("native");
    const quoted = Array.from({ length: 2000 }, (_, i) => `${i},"第${i}行\n""引号"", 逗号",${i % 3 === 0 ? "" : i * 1.5},"${"\n".repeat(i % 4)}"`);
    expect(await expectSame(Buffer.from(`id,note,x,tail\n${quoted.join("\n")}\n`), undefined, "csv", 2048)).toBe("native");
    // An int outgrowing int32 in a late segment: every segment is read again with float64.
    const late = Array.from({ length: 3000 }, (_, i) => `${i === 2900 ? 13812345678 : i},x${i % 5}`);
    expect(await expectSame(Buffer.from(`n,m\n${late.join("\n")}\n`), undefined, "csv", 2048)).toBe("native");
    // A late cell the sampled type does not take: declined mid-upload, stored by the JS path.
    const widen = Array.from({ length: 3000 }, (_, i) => `${i === 2900 ? "N/A" : i},x${i % 5}`);
    expect(await expectSame(Buffer.from(`n,m\n${widen.join("\n")}\n`), undefined, "csv", 2048)).toMatch(/^declined/);
  });

  it("infers the same schema from a CSV (either path) and from NDJSON: whole numbers with missing values stay int", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      n: i % 3 === 0 ? null : i,
      s: `区${i % 9}`,
      f: i % 2 ? i + 0.5 : null,
      b: i % 4 === 0 ? null : i % 5 === 0,
    }));
    const csv = Buffer.from(`n,s,f,b\n${rows.map((r) => `${r.n ?? ""},${r.s},${r.f ?? ""},${r.b ?? ""}`).join("\n")}\n`);
    const ndjson = Buffer.from(`${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const schemas = [];
    for (const [body, native, format] of [
      [csv, false, "csv"],
      [csv, true, "csv"],
      [ndjson, false, "ndjson"],
    ] as const) {
      const r = await ingest(body, native, {}, format);
      expect(r.ok).toBe(true);
      if (r.ok) schemas.push({ schema: r.result.schema, storage: r.result.columns.map((c) => c.storage) });
    }
    expect(schemas[0]!.schema.columns.map((c) => c.type)).toEqual(["int", "string", "float", "boolean"]);
    expect(schemas[1]).toEqual(schemas[0]);
    expect(schemas[2]).toEqual(schemas[0]);
  });

  it("stores Parquet natively, byte for byte as the JS path does", async () => {
    const rows = 2500;
    const buf = parquetWriteBuffer({
      columnData: [
        { name: "hospital", data: Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : `医院${i % 13}`)), type: "STRING" },
        { name: "visits", data: Int32Array.from({ length: rows }, (_, i) => i * 10), type: "INT32" },
        { name: "fee", data: Array.from({ length: rows }, (_, i) => (i % 11 === 0 ? null : i + 0.25)), type: "DOUBLE" },
        { name: "insured", data: Array.from({ length: rows }, (_, i) => i % 2 === 0), type: "BOOLEAN" },
        { name: "at", data: Array.from({ length: rows }, (_, i) => new Date(Date.UTC(2024, 0, 1, 0, 0, i))), type: "TIMESTAMP" },
        { name: "big", data: Array.from({ length: rows }, (_, i) => BigInt(i) * 1_000_000_000n), type: "INT64" },
      ],
      rowGroupSize: 700,
    });
    expect(await expectSame(Buffer.from(buf), undefined, "parquet")).toBe("native");
  });
});
