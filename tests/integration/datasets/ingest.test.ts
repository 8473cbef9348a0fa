/**
 * Ingestion through DatasetsService on every store adapter (SQLite + files, MongoDB + GridFS):
 * CSV, NDJSON and Parquet become typed columnar chunks that read back exactly; types are
 * inferred or declared; a type that widens after chunks were written triggers a clean second
 * pass; versions count up.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parquetWriteBuffer } from "hyparquet-writer";
import { availableAdapters, startTestExchange, type TestExchange } from "../../support/exchange.ts";
import type { DatasetsService } from "../../../src/datasets/service.ts";
import { UploadRejected } from "../../../src/datasets/errors.ts";
import { blobsOf, ownerAccount, pieces, readRows, smallChunkService } from "./helpers.ts";

const CSV = [
  "id,区县,score,active,day,at,note",
  '1,浦东新区,3.5,true,2024-03-01,2024-03-01 08:15:32,"plain"',
  '2,徐汇区,4,false,2024-03-02,2024-03-02T09:00:00Z,"has, comma"',
  '3,浦东新区,,TRUE,,2024-03-03 10:00,"two\nlines"',
  '4,静安区,-1.25,false,2024-03-04,2024-03-04 11:30:00+08:00,"say ""hi"""',
  "5,,7,true,2024-03-05,2024-03-05 00:00:00,",
].join("\r\n");

describe.each(availableAdapters())("dataset ingestion on %s", (adapter) => {
  let ex: TestExchange;
  let svc: DatasetsService;
  let owner: { id: string; token: string };

  beforeAll(async () => {
    ex = await startTestExchange(adapter);
    svc = await smallChunkService(ex, 2);
    owner = await ownerAccount(ex, `ingest-${adapter}@example.com`);
  });
  afterAll(async () => {
    await ex?.stop();
  });

  async function newDataset(name: string) {
    return svc.createDataset(owner.id, { name });
  }

  it("turns a CSV (CRLF, quotes, embedded newlines, Chinese, nulls) into typed chunks that read back exactly", async () => {
    const ds = await newDataset("csv basics");
    const { version, job } = await svc.uploadVersion(owner.id, ds._id, { source: pieces(CSV, 3) });
    expect(job.state).toBe("succeeded");
    expect(version.version).toBe(1);
    expect(version.sourceFormat).toBe("csv");
    expect(version.rowCount).toBe(5);
    expect(version.chunkRows).toBe(2);
    expect(version.chunkCount).toBe(3);
    expect(version.schema.columns).toEqual([
      { name: "id", type: "int", nullable: false },
      { name: "区县", type: "string", nullable: true },
      { name: "score", type: "float", nullable: true },
      { name: "active", type: "boolean", nullable: false },
      { name: "day", type: "date", nullable: true },
      { name: "at", type: "timestamp", nullable: false },
      { name: "note", type: "string", nullable: true },
    ]);
    expect(version.columns.map((c) => c.storage)).toEqual(["int32", "int32", "float64", "uint8", "int32", "float64", "int32"]);
    expect(await readRows(svc, version)).toEqual([
      [1, "浦东新区", 3.5, true, "2024-03-01", "2024-03-01T08:15:32.000Z", "plain"],
      [2, "徐汇区", 4, false, "2024-03-02", "2024-03-02T09:00:00.000Z", "has, comma"],
      [3, "浦东新区", null, true, null, "2024-03-03T10:00:00.000Z", "two\nlines"],
      [4, "静安区", -1.25, false, "2024-03-04", "2024-03-04T03:30:00.000Z", 'say "hi"'],
      [5, null, 7, true, "2024-03-05", "2024-03-05T00:00:00.000Z", null],
    ]);
    // Owner statistics are exact.
    const [id, district, score, active] = version.columns;
    expect(id!.stats).toEqual({ count: 5, nullCount: 0, min: 1, max: 5, mean: 3, distinct: null });
    expect(district!.stats).toMatchObject({ count: 4, nullCount: 1, distinct: 3, min: null });
    expect(district!.dictionarySize).toBe(3);
    expect(score!.stats).toMatchObject({ count: 4, nullCount: 1, min: -1.25, max: 7 });
    expect(active!.stats).toMatchObject({ count: 5, distinct: 2, mean: 0.6 });
    // Only chunks with a null have a bitmap.
    expect(district!.nullChunks).toEqual([2]);
    expect(score!.nullChunks).toEqual([1]);
    expect(version.sourceBytes).toBe(Buffer.byteLength(CSV));
    expect(version.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    const keys = await ex.services.blobs.list(version.blobPrefix);
    expect(keys).toContain(`${version.blobPrefix}c0001.dict`);
    expect(keys.some((k) => k.includes("upload-spool"))).toBe(false);
    // The audit log holds the dataset and the version: ids, hashes and counts, never a value.
    expect(await ex.services.audit.findByEventId(`dataset.created:${ds._id}`)).not.toBeNull();
    const logged = (await ex.services.audit.findByEventId(`dataset.version_created:${ds._id}:v1`))!;
    expect(logged).toMatchObject({ action: "dataset.version_created", actor: owner.id, subject: { datasetId: ds._id, versionId: version._id } });
    expect(JSON.parse(logged.entry).data).toMatchObject({ version: 1, contentHash: version.sourceSha256, rowCount: 5 });
    expect(logged.entry).not.toMatch(/浦东|comma|plain/);
  });

  it("strips a UTF-8 BOM, takes a delimiter option and skips blank lines", async () => {
    const ds = await newDataset("tsv");
    const tsv = "\ufeffname\tcount\n\n上海\t10\n北京\t20\n\n";
    const { version } = await svc.uploadVersion(owner.id, ds._id, { source: pieces(tsv), delimiter: "\\t" });
    expect(version.schema.columns.map((c) => c.name)).toEqual(["name", "count"]);
    expect(await readRows(svc, version)).toEqual([
      ["上海", 10],
      ["北京", 20],
    ]);
  });

  it("keeps leading-zero codes and 18-digit ID numbers as text; declared types override inference", async () => {
    const ds = await newDataset("declared");
    const csv = "zip,patient,flag,amount\n007,110101199003071234,1,5\n100,110101199003071235,0,6\n";
    const { version } = await svc.uploadVersion(owner.id, ds._id, {
      source: pieces(csv),
      columnTypes: [
        { name: "flag", type: "boolean" },
        { name: "amount", type: "float" },
      ],
    });
    expect(version.schema.columns.map((c) => c.type)).toEqual(["string", "string", "boolean", "float"]);
    expect(await readRows(svc, version)).toEqual([
      ["007", "110101199003071234", true, 5],
      ["100", "110101199003071235", false, 6],
    ]);
  });

  it("widens a type that changes after chunks were written with a second pass, leaving no stale chunk", async () => {
    const ds = await newDataset("widening");
    // Chunk 0 (two rows) fixes n as int32, code as int and d as date; later rows need float64, string, timestamp.
    const csv = "n,code,d\n1,10,2024-01-01\n2,11,2024-01-02\n3,12,2024-01-03\n3000000000,x9,2024-01-04 12:00\n4.5,13,\n";
    const seen: string[] = [];
    const { version, job } = await svc.uploadVersion(owner.id, ds._id, { source: pieces(csv), onJob: (j) => seen.push(j.state) });
    expect(seen).toEqual(["running"]);
    expect(job.state).toBe("succeeded");
    expect(version.schema.columns.map((c) => c.type)).toEqual(["float", "string", "timestamp"]);
    expect(await readRows(svc, version)).toEqual([
      [1, "10", "2024-01-01T00:00:00.000Z"],
      [2, "11", "2024-01-02T00:00:00.000Z"],
      [3, "12", "2024-01-03T00:00:00.000Z"],
      [3000000000, "x9", "2024-01-04T12:00:00.000Z"],
      [4.5, "13", null],
    ]);
    const keys = await ex.services.blobs.list(version.blobPrefix);
    expect(keys.filter((k) => k.endsWith(".values"))).toHaveLength(3 * 3);
  });

  it("stores ints beyond int32 as float64 and a column that is null at first once its type appears", async () => {
    const ds = await newDataset("late");
    const csv = "big,late\n5000000000,\n1,\n2,\n3,2024-05-06\n";
    const { version } = await svc.uploadVersion(owner.id, ds._id, { source: pieces(csv) });
    expect(version.schema.columns).toEqual([
      { name: "big", type: "int", nullable: false },
      { name: "late", type: "date", nullable: true },
    ]);
    expect(version.columns.map((c) => c.storage)).toEqual(["float64", "int32"]);
    expect(version.columns[1]!.nullChunks).toEqual([0, 1]);
    expect(await readRows(svc, version)).toEqual([
      [5000000000, null],
      [1, null],
      [2, null],
      [3, "2024-05-06"],
    ]);
  });

  it("reads NDJSON: keys become columns in order of appearance, missing keys are null", async () => {
    const ds = await newDataset("ndjson");
    const nd = [
      '{"station":"徐汇上师大","pm25":35.5,"ok":true}',
      "",
      '{"station":"浦东张江","pm25":12,"ok":false}',
      '{"station":"静安监测站","ok":true}',
      '{"station":"虹口凉城","pm25":null,"ok":true,"measured":"2024-03-01T08:00:00Z"}',
    ].join("\n");
    const { version } = await svc.uploadVersion(owner.id, ds._id, { source: pieces(nd, 4) });
    expect(version.sourceFormat).toBe("ndjson");
    expect(version.schema.columns).toEqual([
      { name: "station", type: "string", nullable: false },
      { name: "pm25", type: "float", nullable: true },
      { name: "ok", type: "boolean", nullable: false },
      { name: "measured", type: "timestamp", nullable: true },
    ]);
    expect(await readRows(svc, version)).toEqual([
      ["徐汇上师大", 35.5, true, null],
      ["浦东张江", 12, false, null],
      ["静安监测站", null, true, null],
      ["虹口凉城", null, true, "2024-03-01T08:00:00.000Z"],
    ]);
  });

  it("reads Parquet with the file's own types, nulls and several row groups", async () => {
    const ds = await newDataset("parquet");
    const n = 7;
    const buf = parquetWriteBuffer({
      columnData: [
        { name: "hospital", data: Array.from({ length: n }, (_, i) => (i === 3 ? null : `医院${i % 2}`)), type: "STRING" },
        { name: "visits", data: Int32Array.from({ length: n }, (_, i) => i * 10), type: "INT32" },
        { name: "fee", data: Array.from({ length: n }, (_, i) => i + 0.25), type: "DOUBLE" },
        { name: "insured", data: Array.from({ length: n }, (_, i) => i % 2 === 0), type: "BOOLEAN" },
        { name: "at", data: Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i))), type: "TIMESTAMP" },
        { name: "big", data: Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_000n), type: "INT64" },
      ],
      rowGroupSize: 3,
    });
    const { version } = await svc.uploadVersion(owner.id, ds._id, { source: pieces(new Uint8Array(buf), 1000) });
    expect(version.sourceFormat).toBe("parquet");
    expect(version.schema.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ["hospital", "string", true],
      ["visits", "int", false],
      ["fee", "float", false],
      ["insured", "boolean", false],
      ["at", "timestamp", false],
      ["big", "int", false],
    ]);
    expect(version.columns.map((c) => c.storage)).toEqual(["int32", "int32", "float64", "uint8", "float64", "float64"]);
    const rows = await readRows(svc, version);
    expect(rows).toHaveLength(n);
    expect(rows[3]).toEqual([null, 30, 3.25, false, "2024-01-04T00:00:00.000Z", 3_000_000_000]);
    expect(rows[6]).toEqual(["医院0", 60, 6.25, true, "2024-01-07T00:00:00.000Z", 6_000_000_000]);
  });

  it("makes version n+1 on each successful upload and leaves the versions before it intact", async () => {
    const ds = await newDataset("versions");
    const v1 = await svc.uploadVersion(owner.id, ds._id, { source: pieces("a\n1\n") });
    const v2 = await svc.uploadVersion(owner.id, ds._id, { source: pieces("a,b\n1,2\n3,4\n") });
    await expect(svc.uploadVersion(owner.id, ds._id, { source: pieces("a,b\n1\n") })).rejects.toBeInstanceOf(UploadRejected);
    const v3 = await svc.uploadVersion(owner.id, ds._id, { source: pieces("a\n9\n") });
    expect([v1.version.version, v2.version.version, v3.version.version]).toEqual([1, 2, 3]);
    expect((await svc.getDataset(ds._id))!.latestVersion).toBe(3);
    expect((await svc.listVersions(ds._id)).map((v) => v.version)).toEqual([3, 2, 1]);
    expect(await readRows(svc, v1.version)).toEqual([[1]]);
    expect(await readRows(svc, (await svc.getVersion(ds._id, 2))!)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // Exactly three versions' prefixes remain: the failed upload left nothing.
    const prefixes = new Set((await blobsOf(ex, ds._id)).map((k) => k.split("/")[2]));
    expect(prefixes.size).toBe(3);
  });

  it("refuses malformed NDJSON and Parquet with the rule and position, keeping nothing", async () => {
    const cases: Array<[string, string | Uint8Array, string, { line?: number; row?: number; column?: string }]> = [
      ["bad json", '{"a":1}\n{"a":2\n', "bad_json", { line: 2, row: 2 }],
      ["not an object", '{"a":1}\n\n[1,2]\n', "not_an_object", { line: 3, row: 2 }],
      ["nested value", '{"a":1,"b":{"c":2}}\n', "nested_value", { line: 1, row: 1, column: "b" }],
      ["unsafe integer", '{"a":1}\n{"a":12345678901234567890}\n', "type_mismatch", {}],
      ["truncated parquet", Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(64, 7)]), "bad_parquet", {}],
    ];
    for (const [name, body, rule, at] of cases) {
      const ds = await newDataset(`bad ${name}`);
      const declared = name === "unsafe integer" ? { columnTypes: { a: "int" } } : {};
      const err = await svc.uploadVersion(owner.id, ds._id, { source: pieces(body), ...declared }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(UploadRejected);
      expect((err as UploadRejected).rule === rule || (rule === "type_mismatch" && (err as UploadRejected).rule === "value_out_of_range"), name).toBe(
        true,
      );
      expect(err, name).toMatchObject(at);
      expect(await blobsOf(ex, ds._id), name).toEqual([]);
      expect(await svc.listVersions(ds._id), name).toEqual([]);
      expect((await svc.getUploadJob((err as UploadRejected).jobId!))!.state).toBe("failed");
    }
  });

  it("hands the query engine SharedArrayBuffers when asked", async () => {
    const ds = await newDataset("shared");
    const { version } = await svc.uploadVersion(owner.id, ds._id, { source: pieces("x,y\n1,2.5\n,3.5\n4,\n") });
    const x = await svc.readColumnChunk(version, "x", 0, { shared: true });
    expect(x.values.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(x.values)).toEqual([1, 0]);
    expect(x.nulls![0]).toBe(0b10);
    const y = await svc.readColumnChunk(version, 1, 1);
    expect(y.values).toBeInstanceOf(Float64Array);
    expect(y.rowStart).toBe(2);
    expect(y.rows).toBe(1);
    await expect(svc.readColumnChunk(version, "nope", 0)).rejects.toBeInstanceOf(RangeError);
    await expect(svc.readColumnChunk(version, 0, 5)).rejects.toBeInstanceOf(RangeError);
  });
});
