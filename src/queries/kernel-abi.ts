/**
 * The calling convention between the compiler and whoever runs a kernel (in-process for
 * tests and the bench, the sandbox in the service):
 *
 *   kernel(cols, nulls, start, end, params) → { totals: number[] }
 *
 * cols[j]   column j's values as a typed array (Float64Array, Int32Array — dictionary codes for
 *           strings — or Uint8Array for booleans), all of the same length;
 * nulls[j]  column j's null bitmap (bit i set ⇔ row i is null) or null when it has none;
 * params    the bound parameters (BoundParams): lookup tables and literals, data not code.
 * Column j is the j-th entry of KernelProgram.columns; names never appear in the source.
 *
 * The service's kernels (compileClusteredKernel) read columns clustered by unit (columns.ts) and
 * take one part's row range [start, end) with params.partitions / params.partition naming that
 * part; they throw on rows that are not clustered. The unclustered kernel (tests/support/legacy-kernel.ts)
 * reads columns in file order, every partition scanning [0, rows).
 */
export type ColumnValues = Float64Array | Int32Array | Uint8Array;

export interface ColumnView {
  values: ColumnValues;
  nulls: Uint8Array | null;
  /** For dictionary-encoded strings: code → string. */
  dictionary: string[] | null;
}

export interface KernelProgram {
  /** JavaScript source defining `function kernel(cols, nulls, start, end, params)`. */
  source: string;
  /** Column names in the order the kernel reads them (cols[j]). */
  columns: string[];
  /** Numbers per group in the output: [units, rows, (sum, n) per measure, bins per histogram]. */
  groupWidth: number;
  groupCount: number;
}

export interface KernelOutput {
  totals: number[];
}
