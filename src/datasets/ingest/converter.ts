/**
 * Rows in, columnar chunks out. Sources (CSV, NDJSON, Parquet readers) push rows; the converter
 * types each cell, fills the current chunk of every column and hands full chunks to the writer.
 *
 * Types are settled optimistically so that a file is usually parsed once:
 *   sample   the first rows are buffered while their types are inferred; then every column's
 *            type and storage is fixed and the sample is replayed into chunk 0;
 *   encode   later cells are converted straight into typed arrays. A cell that needs a wider
 *            type than the one already written (int → float, an int beyond int32, number → text)
 *            switches the converter to
 *   infer    which only infers types for the rest of the file and writes nothing more; the
 *            caller then deletes what was written and runs a second pass over the spooled file
 *            with every type final (`fixed`), which cannot disagree.
 * Declared types (the owner's, or Parquet's own) are never widened: a cell that does not fit is
 * an UploadRejected naming its line, row and column.
 */
import type { ChunkStorage, ColumnChunks, ColumnType, DatasetSchema } from "../model.ts";
import { dictionaryKey, encodeDictionary, nullsKey, storageFor, valuesKey } from "../chunk-format.ts";
import { UploadRejected, where } from "../errors.ts";
import { ColumnBuilder, DictionaryFull } from "./column-builder.ts";
import type { ChunkWriter } from "./chunk-writer.ts";
import { classifyText, classifyValue, joinTypes, parseIntText, textToNumber, valueToNumber } from "./values.ts";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

export const MAX_COLUMNS = 1000;
export const MAX_COLUMN_NAME = 256;
/** Distinct values one string column may have (its dictionary lives in memory while converting). */
export const MAX_DISTINCT = 4_000_000;
/** Cells buffered for type inference before chunk 0 is written. */
const SAMPLE_CELLS = 2_000_000;

export interface FixedColumn {
  name: string;
  type: ColumnType;
  storage: ChunkStorage;
  declared: boolean;
}

export interface ConverterOptions {
  writer: ChunkWriter;
  blobPrefix: string;
  chunkRows: number;
  /** Types declared by the owner (or by the file itself, for Parquet), by column name. */
  declared: ReadonlyMap<string, ColumnType>;
  /** Second pass: every column with its final type and storage, from the first pass. */
  fixed?: FixedColumn[] | null;
  maxDistinct?: number;
}

export type ConvertOutcome =
  | { kind: "done"; schema: DatasetSchema; columns: ColumnChunks[]; rowCount: number; chunkCount: number }
  | { kind: "restart"; fixed: FixedColumn[]; rowCount: number };

type Mode = "sample" | "encode" | "infer";

export class Converter {
  readonly #o: ConverterOptions;
  readonly #cols: ColumnBuilder[] = [];
  readonly #byName = new Map<string, number>();
  #mode: Mode;
  #sampleRows = 0;
  #sample: Array<{ cells: unknown[]; line: number | null }> = [];
  #textual = true;
  /** Data rows received (every mode). */
  rows = 0;
  #rowInChunk = 0;
  #chunk = 0;

  constructor(options: ConverterOptions) {
    this.#o = options;
    this.#mode = options.fixed ? "encode" : "sample";
    for (const c of options.fixed ?? []) this.#addColumn(c.name, c);
  }

  get columnCount(): number {
    return this.#cols.length;
  }

  get columnNames(): string[] {
    return this.#cols.map((c) => c.name);
  }

  /** Rows buffered for type inference before chunk 0 is written. */
  get sampleRows(): number {
    return this.#sampleRows;
  }

  /** While sampling: each column's type so far (null if every cell was empty) and its storage. */
  sampledColumns(): Array<{ name: string; type: ColumnType | null; storage: ChunkStorage | null; declared: boolean }> {
    return this.#cols.map((c) => ({
      name: c.name,
      type: c.type,
      storage: c.type === null ? null : storageFor(c.type, c.fitsInt32),
      declared: c.declared,
    }));
  }

  /** True once a cell needed a wider type than was written: a second pass will follow. */
  get needsSecondPass(): boolean {
    return this.#mode === "infer";
  }

  /** Declares the columns (CSV header, Parquet schema). `line` is the header's line. */
  setColumns(names: string[], line: number | null): void {
    if (this.#o.fixed) return;
    if (names.length > MAX_COLUMNS) {
      throw new UploadRejected("too_many_columns", `${where({ line })}: ${names.length} columns; at most ${MAX_COLUMNS} are supported`, { line });
    }
    names.forEach((name, i) => {
      if (name.trim() === "") throw new UploadRejected("bad_header", `${where({ line })}: column ${i + 1} has no name`, { line });
      if (name.length > MAX_COLUMN_NAME) {
        throw new UploadRejected("bad_header", `${where({ line })}: the name of column ${i + 1} is longer than ${MAX_COLUMN_NAME} characters`, {
          line,
        });
      }
      if (this.#byName.has(name)) {
        throw new UploadRejected("bad_header", `${where({ line, column: name })}: the column name appears more than once`, { line, column: name });
      }
      this.#addColumn(name, null);
    });
    this.checkDeclaredColumns();
  }

  /** The index of a column by name, adding it if new (NDJSON keys). */
  columnIndex(name: string, line: number | null): number {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    if (this.#o.fixed) throw new Error(`second pass found a column the first did not: ${name}`);
    if (this.#cols.length >= MAX_COLUMNS) {
      throw new UploadRejected(
        "too_many_columns",
        `${where({ line })}: more than ${MAX_COLUMNS} distinct keys; at most ${MAX_COLUMNS} columns are supported`,
        { line },
      );
    }
    if (name.trim() === "" || name.length > MAX_COLUMN_NAME) {
      throw new UploadRejected("bad_header", `${where({ line })}: a key is empty or longer than ${MAX_COLUMN_NAME} characters`, { line });
    }
    return this.#addColumn(name, null);
  }

  /** Every declared column must exist in the file. */
  checkDeclaredColumns(): void {
    for (const name of this.#o.declared.keys()) {
      if (!this.#byName.has(name)) {
        throw new UploadRejected("unknown_declared_column", `a type was declared for column ${JSON.stringify(name)}, which the file does not have`, {
          column: name,
        });
      }
    }
  }

  #addColumn(name: string, fixed: FixedColumn | null): number {
    const index = this.#cols.length;
    const declared = fixed ? fixed.declared : this.#o.declared.has(name);
    const type = fixed ? fixed.type : (this.#o.declared.get(name) ?? null);
    const col = new ColumnBuilder(name, index, type, {
      declared,
      lenient: declared || fixed !== null,
      chunkRows: this.#o.chunkRows,
      maxDistinct: this.#o.maxDistinct ?? MAX_DISTINCT,
    });
    if (fixed) col.fixStorage(fixed.storage);
    else if (this.#mode === "encode") {
      if (type !== null) col.fixStorage();
      // A key first seen mid-file (NDJSON): every earlier row lacks it, so is null there.
      for (let k = 0; k < this.#chunk; k++) col.deferredChunks.push({ chunk: k, rows: this.#o.chunkRows });
      col.nullCount += this.#chunk * this.#o.chunkRows;
      for (let i = 0; i < this.#rowInChunk; i++) col.setNull(i);
    }
    this.#cols.push(col);
    this.#byName.set(name, index);
    // Sampling bounds buffered cells, however wide the table.
    this.#sampleRows = Math.min(this.#o.chunkRows, Math.max(1024, Math.floor(SAMPLE_CELLS / this.#cols.length)));
    return index;
  }

  // ---- text rows (CSV): an empty cell is null ------------------------------------------------

  /** One CSV record. A record with the wrong number of fields is refused (a blank line is skipped). */
  textRow(cells: string[], line: number | null): void {
    const n = this.#cols.length;
    if (cells.length !== n) {
      if (cells.length === 1 && cells[0] === "") return; // blank line
      const row = this.rows + 1;
      throw new UploadRejected(
        "ragged_row",
        `${where({ line, row })}: ${cells.length} fields, but the header has ${n}; every row needs one field per column (quote fields that contain the delimiter)`,
        { line, row },
      );
    }
    const row = ++this.rows;
    switch (this.#mode) {
      case "encode":
        this.#encodeText(cells, 0, row, line);
        return;
      case "sample":
        for (let c = 0; c < n; c++) if (cells[c] !== "") this.#observeText(this.#cols[c]!, cells[c]!, row, line);
        this.#sample.push({ cells, line });
        if (this.#sample.length >= this.#sampleRows) this.#decide();
        return;
      case "infer":
        for (let c = 0; c < n; c++) if (cells[c] !== "") this.#observeText(this.#cols[c]!, cells[c]!, row, line);
        return;
    }
  }

  #encodeText(cells: string[], from: number, row: number, line: number | null): void {
    const cols = this.#cols;
    const i = this.#rowInChunk;
    for (let c = from; c < cols.length; c++) {
      const s = cells[c]!;
      const col = cols[c]!;
      if (s === "") {
        col.setNull(i);
        continue;
      }
      let ok: boolean;
      try {
        ok = col.type !== null && col.putText(i, s);
      } catch (e) {
        throw this.#positioned(e, col, row, line);
      }
      if (ok) continue;
      if (this.#textMisfit(col, s, i, row, line)) continue;
      // A wider type is needed: infer the rest of the file, then convert again.
      this.#mode = "infer";
      for (let k = c; k < cols.length; k++) if (cells[k] !== "") this.#observeText(cols[k]!, cells[k]!, row, line);
      return;
    }
    this.#endRow();
  }

  /** Handles a cell its column did not take; true if it is now stored, false if a second pass is needed. */
  #textMisfit(col: ColumnBuilder, s: string, i: number, row: number, line: number | null): boolean {
    if (this.#o.fixed) throw new Error(`second pass: column ${col.index} did not take a value the first pass typed`);
    if (col.type === null) {
      // First value of a column that was all null so far: it sets the type.
      this.#observeText(col, s, row, line);
      col.fixStorage();
      return col.putText(i, s);
    }
    const fits = !Number.isNaN(textToNumber(col.type, s, col.lenient));
    if (col.declared && !fits) throw this.#typeError(col, s, row, line);
    this.#observeText(col, s, row, line);
    return false;
  }

  #observeText(col: ColumnBuilder, s: string, row: number, line: number | null): void {
    if (col.declared) {
      if (col.type === "string") return;
      const v = textToNumber(col.type!, s, true);
      if (Number.isNaN(v)) throw this.#typeError(col, s, row, line);
      if (col.type === "int") col.observeNumber(v);
      return;
    }
    if (col.type === "string") return; // nothing is wider
    const t = classifyText(s);
    if (t === "int") col.observeNumber(parseIntText(s));
    if (t !== col.type) col.type = joinTypes(col.type, t);
  }

  // ---- value rows (NDJSON, Parquet): null/undefined is null ---------------------------------

  /** One row of JSON/Parquet values by column index (missing trailing values are null). */
  valueRow(values: unknown[], line: number | null): void {
    const row = ++this.rows;
    const n = this.#cols.length;
    switch (this.#mode) {
      case "encode":
        this.#encodeValues(values, 0, row, line);
        return;
      case "sample":
        for (let c = 0; c < n; c++) if (values[c] != null) this.#observeValue(this.#cols[c]!, values[c], row, line);
        this.#textual = false;
        this.#sample.push({ cells: values, line });
        if (this.#sample.length >= this.#sampleRows) this.#decide();
        return;
      case "infer":
        for (let c = 0; c < n; c++) if (values[c] != null) this.#observeValue(this.#cols[c]!, values[c], row, line);
        return;
    }
  }

  #encodeValues(values: unknown[], from: number, row: number, line: number | null): void {
    const cols = this.#cols;
    const i = this.#rowInChunk;
    for (let c = from; c < cols.length; c++) {
      const v = values[c];
      const col = cols[c]!;
      if (v == null) {
        col.setNull(i);
        continue;
      }
      let ok: boolean;
      try {
        ok = col.type !== null && col.putValue(i, v);
      } catch (e) {
        throw this.#positioned(e, col, row, line);
      }
      if (ok) continue;
      if (this.#valueMisfit(col, v, i, row, line)) continue;
      this.#mode = "infer";
      for (let k = c; k < cols.length; k++) if (values[k] != null) this.#observeValue(cols[k]!, values[k], row, line);
      return;
    }
    this.#endRow();
  }

  #valueMisfit(col: ColumnBuilder, v: unknown, i: number, row: number, line: number | null): boolean {
    if (this.#o.fixed) throw new Error(`second pass: column ${col.index} did not take a value the first pass typed`);
    if (col.type === null) {
      this.#observeValue(col, v, row, line);
      col.fixStorage();
      return col.putValue(i, v);
    }
    const fits = col.type === "string" || !Number.isNaN(valueToNumber(col.type, v, col.lenient));
    if (col.declared && !fits) throw this.#typeError(col, v, row, line);
    this.#observeValue(col, v, row, line);
    return false;
  }

  #observeValue(col: ColumnBuilder, v: unknown, row: number, line: number | null): void {
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new UploadRejected("value_out_of_range", `${where({ line, row, column: col.name })}: the number is not finite`, {
        line,
        row,
        column: col.name,
      });
    }
    const t = classifyValue(v);
    if (t === null) {
      throw new UploadRejected(
        "nested_value",
        `${where({ line, row, column: col.name })}: nested objects and arrays are not supported; flatten them into columns`,
        {
          line,
          row,
          column: col.name,
        },
      );
    }
    if (col.declared) {
      if (col.type === "string") return;
      const n = valueToNumber(col.type!, v, true);
      if (Number.isNaN(n)) throw this.#typeError(col, v, row, line);
      if (col.type === "int") col.observeNumber(n);
      return;
    }
    if (t === "int") col.observeNumber(v as number);
    if (t !== col.type) col.type = joinTypes(col.type, t);
  }

  // ---- chunks ----------------------------------------------------------------------------

  #endRow(): void {
    if (++this.#rowInChunk === this.#o.chunkRows) this.#flush(this.#rowInChunk);
  }

  /** Ends sampling: fixes every column's storage and converts the buffered rows. */
  #decide(): void {
    this.#mode = "encode";
    for (const col of this.#cols) col.fixStorage();
    const sample = this.#sample;
    this.#sample = [];
    const firstRow = this.rows - sample.length + 1;
    for (let k = 0; k < sample.length; k++) {
      const { cells, line } = sample[k]!;
      if (this.#textual) this.#encodeText(cells as string[], 0, firstRow + k, line);
      else this.#encodeValues(cells, 0, firstRow + k, line);
      if (this.#mode !== "encode") {
        // Cannot happen (types were inferred from these very rows), but never drop rows.
        throw new Error("sampled rows did not fit the types inferred from them");
      }
    }
  }

  #flush(rows: number): void {
    const chunk = this.#chunk++;
    const { writer, blobPrefix } = this.#o;
    for (const col of this.#cols) {
      const { values, nulls } = col.takeChunk(rows);
      if (values === null) {
        col.deferredChunks.push({ chunk, rows });
        continue;
      }
      writer.put(valuesKey(blobPrefix, col.index, chunk), values);
      if (nulls !== null) {
        writer.put(nullsKey(blobPrefix, col.index, chunk), nulls);
        col.nullChunks.push(chunk);
      }
    }
    this.#rowInChunk = 0;
  }

  /**
   * Call between input buffers: waits until the writer has room, and lets the event loop run
   * (timers, other requests, progress polls): converting is CPU work in promise chains that
   * would otherwise never give it a turn.
   */
  async room(): Promise<void> {
    await this.#o.writer.room();
    await yieldToEventLoop();
  }

  /**
   * Ends the input: writes the last chunk, all-null chunks of late-typed columns and the
   * dictionaries, and waits for every write. Or, if a cell needed a wider type, returns the
   * final types for a second pass (having written nothing more).
   */
  async finish(): Promise<ConvertOutcome> {
    this.checkDeclaredColumns();
    if (this.#mode === "sample") this.#decide();
    if (this.#mode === "infer") {
      return {
        kind: "restart",
        rowCount: this.rows,
        fixed: this.#cols.map((c) => {
          const type = c.type ?? "string";
          return { name: c.name, type, storage: storageFor(type, c.fitsInt32), declared: c.declared };
        }),
      };
    }
    if (this.#rowInChunk > 0) this.#flush(this.#rowInChunk);
    const { writer, blobPrefix } = this.#o;
    for (const col of this.#cols) {
      if (col.type === null) {
        col.type = "string"; // every value null: an empty text column
        col.fixStorage();
      }
      for (const { chunk, rows } of col.deferredChunks) {
        const { values, nulls } = col.allNullChunk(rows);
        writer.put(valuesKey(blobPrefix, col.index, chunk), values);
        writer.put(nullsKey(blobPrefix, col.index, chunk), nulls);
        col.nullChunks.push(chunk);
        await writer.room();
      }
      if (col.type === "string") {
        writer.put(dictionaryKey(blobPrefix, col.index), encodeDictionary(col.dict.keys(), col.dict.size, col.dictUtf8Bytes));
        await writer.room();
      }
    }
    await writer.settle();
    return {
      kind: "done",
      rowCount: this.rows,
      chunkCount: this.#chunk,
      schema: { columns: this.#cols.map((c) => ({ name: c.name, type: c.type!, nullable: c.nullCount > 0 })) },
      columns: this.#cols.map((c) => c.chunksInfo()),
    };
  }

  #typeError(col: ColumnBuilder, v: unknown, row: number, line: number | null): UploadRejected {
    const at = where({ line, row, column: col.name });
    const pos = { line, row, column: col.name };
    if (
      col.type === "int" &&
      ((typeof v === "string" && /^-?[0-9]+$/.test(v)) || typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)))
    ) {
      return new UploadRejected(
        "value_out_of_range",
        `${at}: the integer is beyond ±2^53 and cannot be stored exactly; declare the column as string`,
        pos,
      );
    }
    return new UploadRejected("type_mismatch", `${at}: the value does not fit the declared type ${col.type}`, pos);
  }

  #positioned(e: unknown, col: ColumnBuilder, row: number, line: number | null): unknown {
    if (e instanceof DictionaryFull) {
      return new UploadRejected(
        "too_many_distinct_values",
        `${where({ line, row, column: col.name })}: the column has more than ${this.#o.maxDistinct ?? MAX_DISTINCT} distinct values`,
        { line, row, column: col.name },
      );
    }
    return e;
  }
}
