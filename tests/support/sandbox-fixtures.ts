/** Shared pieces of the sandbox suites: the example group-by kernel and deterministic columns. */

/** Group-by sum over Int32 group codes (cols[0]) and Float64 values (cols[1]), skipping null values. */
export const GROUP_SUM_KERNEL = `
function kernel(cols, nulls, start, end, params) {
  const codes = cols[0], values = cols[1], valueNulls = nulls[1];
  const sum = new Float64Array(params.groups), count = new Float64Array(params.groups);
  for (let i = start; i < end; i++) {
    if (valueNulls !== null && (valueNulls[i >>> 3] & (1 << (i & 7))) !== 0) continue;
    const g = codes[i];
    sum[g] += values[i];
    count[g] += 1;
  }
  return { sum: Array.from(sum), count: Array.from(count) };
}`;

export interface GroupColumns {
  codes: Int32Array;
  values: Float64Array;
  nulls: Uint8Array | null;
}

/** Columns backed by SharedArrayBuffers, as ingestion hands them over; xorshift, not secure. */
export function groupColumns(rows: number, groups: number, withNulls = false, seed = 9): GroupColumns {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const codes = new Int32Array(new SharedArrayBuffer(rows * 4));
  const values = new Float64Array(new SharedArrayBuffer(rows * 8));
  const nulls = withNulls ? new Uint8Array(new SharedArrayBuffer(Math.ceil(rows / 8))) : null;
  for (let i = 0; i < rows; i++) {
    codes[i] = Math.floor(next() * groups);
    values[i] = Math.round(next() * 10_000) / 100;
    if (nulls !== null && next() < 0.1) nulls[i >>> 3]! |= 1 << (i & 7);
  }
  return { codes, values, nulls };
}

/** The same group-by, in plain TypeScript. */
export function groupSumReference(c: GroupColumns, groups: number, start = 0, end = c.codes.length) {
  const sum = new Array<number>(groups).fill(0);
  const count = new Array<number>(groups).fill(0);
  for (let i = start; i < end; i++) {
    if (c.nulls !== null && (c.nulls[i >>> 3]! & (1 << (i & 7))) !== 0) continue;
    sum[c.codes[i]!]! += c.values[i]!;
    count[c.codes[i]!]! += 1;
  }
  return { sum, count };
}
