/**
 * The native path (issue #20): DuckDB reads the spooled file (its parallel CSV or Parquet
 * reader), types every cell by the rules of values.ts in SQL (sql-cells.ts), and streams the
 * result in one scan; each result vector is copied into chunks (numbers) or coded through a
 * table of DuckDB's own string bytes (strings), so no JS value is made per cell.
 *
 * It stores exactly what the JS path (converter.ts) would. Whatever it cannot decide exactly (a
 * cell the sampled type does not take, a malformed file, a header or type it has no SQL for)
 * raises NativeDeclined; the pipeline then deletes what was written and runs the JS path over
 * the spool, which widens types or refuses the file naming its rule, row and column. An int
 * outgrowing int32 after the sample re-runs the scan with that column stored as float64, as
 * the JS path's second pass does.
 *
 * Memory: a streaming query holds a few vectors per thread; the JS side one chunk per column
 * and the dictionaries. Nothing grows with the file but the dictionaries.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import bindings from "@duckdb/node-bindings";
import type { ChunkStorage, ColumnType } from "../model.ts";
import { dictionaryKey, nullsKey, valuesKey } from "../chunk-format.ts";
import type { ChunkWriter } from "./chunk-writer.ts";
import { DictionaryFull } from "./column-builder.ts";
import type { ConvertOutcome } from "./converter.ts";
import { INT32_OVERFLOW, MISFIT, literal, parquetCell, textCell } from "./sql-cells.ts";
import { VectorColumn } from "./vector-column.ts";

/** The native path cannot give the exact result; the JS path must run instead. */
export class NativeDeclined extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "NativeDeclined";
  }
}

export type NativeSource = { kind: "csv"; delimiter: string; maxLineBytes: number } | { kind: "parquet"; names: string[] };

export interface NativeColumn {
  name: string;
  type: ColumnType;
  storage: ChunkStorage;
  /** Declared by the owner: takes every text a declared column takes (booleans as 1/0). */
  lenient: boolean;
}

export interface NativeOptions {
  /**
   * The file's segments (spool.ts), each path once it is complete, from the first on every call:
   * a CSV's are cut at record ends (only the first has the header), a Parquet file is one.
   */
  segments: () => AsyncIterable<string>;
  source: NativeSource;
  columns: NativeColumn[];
  writer: ChunkWriter;
  blobPrefix: string;
  chunkRows: number;
  maxDistinct: number;
  /** Rows stored so far (after each chunk). */
  onRows: (rows: number) => void;
}

export type NativeDone = Extract<ConvertOutcome, { kind: "done" }>;

/** DuckDB's memory for one upload: a streaming scan needs little; the cap keeps memory flat. */
const MEMORY_LIMIT = "384MB";
/** How far DuckDB may run ahead of the JS copy (its default is ~1 MB). */
const STREAM_BUFFER = "32MB";

/** An error DuckDB raised (its message may quote the file: never shown or logged as is). */
class DuckDbFailure extends Error {}

async function duck<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new DuckDbFailure(err instanceof Error ? err.message : String(err));
  }
}

function readerSql(o: NativeOptions, file: string, first: boolean): string {
  const path = literal(file);
  if (o.source.kind === "parquet") return `read_parquet(${path})`;
  // Positional names: DuckDB's identifiers ignore case, the file's names need not.
  const columns = `{${o.columns.map((_, i) => `'c${i}': 'VARCHAR'`).join(", ")}}`;
  // Every option explicit: no sniffing, RFC 4180 quoting as csv-source.ts reads it, a quoted
  // empty field null as an empty one, ragged rows and over-long records refused.
  return (
    `read_csv(${path}, header = ${first}, auto_detect = false, delim = ${literal(o.source.delimiter)}, quote = '"', escape = '"', ` +
    `columns = ${columns}, strict_mode = true, null_padding = false, allow_quoted_nulls = true, ignore_errors = false, ` +
    `max_line_size = ${o.source.maxLineBytes}, encoding = 'utf-8')`
  );
}

function selectSql(o: NativeOptions, file: string, first: boolean): string {
  const source = o.source;
  const from = readerSql(o, file, first);
  if (source.kind === "parquet") {
    const cells = o.columns.map((c, i) => parquetCell(`"${source.names[i]!.replaceAll('"', '""')}"`, c.type, c.storage, i));
    return `SELECT ${cells.map((e, i) => `${e} AS v${i}`).join(", ")} FROM ${from}`;
  }
  // Casts once per row in the inner projection, the checks over them in the outer (sql-cells.ts).
  const cells = o.columns.map((c, i) => textCell(`c${i}`, c.type, c.storage, c.lenient, i));
  const inner = [...o.columns.map((_, i) => `c${i}`), ...cells.flatMap((c) => c.casts.map(([alias, e]) => `${e} AS ${alias}`))];
  return `SELECT ${cells.map((c, i) => `${c.expr} AS v${i}`).join(", ")} FROM (SELECT ${inner.join(", ")} FROM ${from})`;
}

/** Why DuckDB stopped, without any value from the file (its messages may quote a line). */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const marker = [MISFIT, INT32_OVERFLOW].find((m) => message.includes(m));
  if (marker) return `${marker} (${/ c(\d+)/.exec(message.slice(message.indexOf(marker)))?.[0]?.trim() ?? "?"})`;
  const csvLine = /CSV Error on Line: \d+/.exec(message)?.[0];
  const kind = /^[A-Za-z ]+Error/.exec(message)?.[0] ?? "error";
  return csvLine ? `${kind}: ${csvLine}` : kind;
}

/**
 * Runs the native path; re-runs with float64 storage for ints that outgrew int32. Throws
 * NativeDeclined (what was written must then be deleted) or a writer's failure.
 */
export async function nativeIngest(o: NativeOptions): Promise<NativeDone> {
  let columns = o.columns;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return await scan({ ...o, columns });
    } catch (err) {
      if (err instanceof DictionaryFull) throw new NativeDeclined("too many distinct values");
      if (!(err instanceof DuckDbFailure)) throw err; // declined, or a blob write failed
      const at = err.message.indexOf(INT32_OVERFLOW);
      if (at < 0) throw new NativeDeclined(reasonOf(err));
      // The same keys are written again; let the first attempt's writes land first.
      await o.writer.settle();
      const c = Number(/c(\d+)/.exec(err.message.slice(at))?.[1]);
      columns = columns.map((col, i) => (i === c ? { ...col, storage: "float64" as const } : col));
    }
  }
  throw new NativeDeclined("ints kept outgrowing int32");
}

async function scan(o: NativeOptions): Promise<NativeDone> {
  const instance = await duck(DuckDBInstance.create(":memory:", { memory_limit: MEMORY_LIMIT, preserve_insertion_order: "true" }));
  const conn = await duck(instance.connect());
  try {
    await duck(conn.run(`SET streaming_buffer_size = '${STREAM_BUFFER}'`));
    const { writer, blobPrefix, chunkRows } = o;
    const cols = o.columns.map((c) => new VectorColumn(c.name, c.type, c.storage, chunkRows, o.maxDistinct));
    let rows = 0;
    let rowInChunk = 0;
    let chunk = 0;
    const flush = async (): Promise<void> => {
      for (let c = 0; c < cols.length; c++) {
        const { values, nulls, reuse } = cols[c]!.takeChunk(chunk, rowInChunk);
        writer.put(valuesKey(blobPrefix, c, chunk), values, reuse);
        if (nulls) writer.put(nullsKey(blobPrefix, c, chunk), nulls);
      }
      chunk++;
      rowInChunk = 0;
      o.onRows(rows);
      await writer.room();
    };
    // One streaming query per segment, in order: the rows of the file in its order.
    let first = true;
    for await (const file of o.segments()) {
      const result = await duck(conn.stream(selectSql(o, file, first)));
      first = false;
      for (;;) {
        const data = await duck(result.fetchChunk());
        if (!data || data.rowCount === 0) break;
        const size = data.rowCount;
        const vectors = cols.map((_, c) => bindings.data_chunk_get_vector(data.chunk, c));
        let from = 0;
        while (from < size) {
          const n = Math.min(size - from, chunkRows - rowInChunk);
          for (let c = 0; c < cols.length; c++) cols[c]!.put(vectors[c]!, size, from, n, rowInChunk);
          from += n;
          rowInChunk += n;
          rows += n;
          if (rowInChunk === chunkRows) await flush();
        }
      }
    }
    if (rows === 0) throw new NativeDeclined("no rows");
    if (rowInChunk > 0) await flush();
    for (let c = 0; c < cols.length; c++) {
      const codes = cols[c]!.codes;
      if (codes) {
        writer.put(dictionaryKey(blobPrefix, c), codes.dictionaryBlob());
        await writer.room();
      }
    }
    await writer.settle();
    return {
      kind: "done",
      rowCount: rows,
      chunkCount: chunk,
      schema: { columns: cols.map((c) => ({ name: c.name, type: c.type, nullable: c.nullCount > 0 })) },
      columns: cols.map((c) => c.chunksInfo()),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
