/**
 * Units that cannot see each other (issue #15): for each channel a marker unit tries to write
 * it and every other unit tries to read it; the call runs once with the marker and once with an
 * ordinary unit in its place, and the other units' outputs must be identical. All units share one
 * worker and one isolate (pool size 1, one job, unitsPerIsolate above the unit count), the worst
 * case for isolate-wide state. Each unit writes its reading into its own output coordinate, so
 * the returned sum is the vector of per-unit outputs and the test needs no extra API.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox } from "../../sandbox/index.ts";

const sandbox = new Sandbox({ size: 1 });
afterAll(() => sandbox.close());

const UNITS = 12;
const MARKER = 3;
const SECRET = 4242;

/** A channel: what the marker does with the secret, and what every other unit reads back (a number). */
interface Channel {
  name: string;
  write: string;
  read: string;
}

/** Largest ArrayBuffer the unit can get, to 64 KB: what the isolate's memory limit leaves it. */
const HEADROOM = `let lo = 0, hi = 2 ** 31; while (hi - lo > 65536) { const mid = Math.floor((lo + hi) / 2); try { new ArrayBuffer(mid); lo = mid; } catch { hi = mid; } } return lo;`;

const CHANNELS: Channel[] = [
  {
    name: "symbol registry (what it interns stays alive: the next unit's ArrayBuffer headroom)",
    write: `Symbol.for("leak".repeat(secret * 200));`,
    read: HEADROOM,
  },
  {
    name: "allocator state (its cached heap figure: the next unit's ArrayBuffer headroom)",
    write: `globalThis.keep = []; for (let i = 0; i < secret / 1000; i++) keep.push(new ArrayBuffer(1 << 20));`,
    read: HEADROOM,
  },
  {
    name: "live heap near the memory limit (a unit that retains over a quarter of it)",
    write: `Symbol.for("y".repeat(secret * 7000));`,
    read: `const a = []; for (let i = 0; i < 1000000; i++) a.push({ i }); return a.length;`,
  },
  {
    name: "RegExp compilation cache and legacy statics",
    write: `new RegExp("(" + secret + ")").exec(String(secret)); /(\\d+)/.exec(String(secret));`,
    read: `return Number(RegExp.$1 || 0) + Number(RegExp.lastMatch || 0);`,
  },
  {
    name: "globals and prototypes",
    write: `globalThis.leak = secret; Object.prototype.leak = secret; Array.prototype.leak = secret; Error.stackTraceLimit = secret;`,
    read: `return (globalThis.leak || 0) + ({}.leak || 0) + ([].leak || 0) + (Error.stackTraceLimit === 10 ? 0 : 1);`,
  },
  {
    name: "microtasks and pending promises",
    write: `Promise.resolve().then(() => { globalThis.late = secret; }); new Promise(() => {}).then(() => { globalThis.never = secret; }); (async () => { for (let i = 0; i < 100; i++) await null; globalThis.late2 = secret; })();`,
    read: `return (globalThis.late || 0) + (globalThis.late2 || 0) + (globalThis.never || 0);`,
  },
  {
    name: "Math.random state",
    write: `for (let i = 0; i < secret; i++) Math.random();`,
    read: `return Math.floor(Math.random() * 1e6);`,
  },
  {
    name: "weak references and GC callbacks",
    write: `new FinalizationRegistry(() => { globalThis.gcSeen = secret; }).register({}, 1); globalThis.ref = new WeakRef({});`,
    read: `return (globalThis.gcSeen || 0) + (typeof WeakRef === "function" ? 1 : 0);`,
  },
  {
    name: "shared memory and clocks",
    write: `globalThis.sab = new SharedArrayBuffer(8);`,
    read: `return (typeof SharedArrayBuffer) + (typeof Atomics) + (typeof performance) === "undefinedundefinedundefined" ? 0 : 1;`,
  },
];

/** Every probe runs inside try/catch: a throw reads as -1 (a fixed value, the same in both runs). */
function source(channel: Channel): string {
  return `
function map(rows) {
  const { slot, marker, secret } = rows[0];
  const out = new Array(${UNITS}).fill(0);
  if (marker) {
    try { ${channel.write} } catch {}
    out[slot] = 1;
    return out;
  }
  let v;
  try { v = (() => { ${channel.read} })(); } catch { v = -1; }
  out[slot] = typeof v === "number" && Number.isFinite(v) ? v + 1e6 : -2 + 1e6;
  return out;
}`;
}

async function outputs(channel: Channel, withMarker: boolean): Promise<number[]> {
  const units = Array.from({ length: UNITS }, (_, slot) => ({ rows: [{ slot, marker: withMarker && slot === MARKER, secret: SECRET }] }));
  const r = await sandbox.runPerUnit({
    source: source(channel),
    units: [units],
    outputDim: UNITS,
    ranges: Array.from({ length: UNITS }, () => [0, 1e9] as const),
    defaultVector: new Array<number>(UNITS).fill(0),
    perUnitTimeoutMs: 3000, // generous: a timeout here would be the machine's load, not a channel
    memoryLimitMb: 64,
    unitsPerIsolate: 64,
  });
  return r.sum.filter((_, slot) => slot !== MARKER);
}

describe("no unit can reach another unit's output through isolate-wide state", () => {
  for (const channel of CHANNELS) {
    it(`closes the ${channel.name} channel`, async () => {
      const without = await outputs(channel, false);
      const withMarker = await outputs(channel, true);
      expect(withMarker).toEqual(without);
      expect(without.every((v) => v > 0)).toBe(true); // every reader ran to the end (no default)
    });
  }
});

describe("rows", () => {
  const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];
  const probe = `
function map(rows) {
  const r = rows[0];
  const ok = Object.getPrototypeOf(r) === null && Object.keys(r).length === ${NAMES.length};
  return [ok ? 1 : 0, ${NAMES.map((n) => `r[${JSON.stringify(n)}]`).join(", ")}];
}`;
  const call = {
    source: probe,
    outputDim: NAMES.length + 1,
    ranges: Array.from({ length: NAMES.length + 1 }, () => [0, 100] as const),
    defaultVector: new Array<number>(NAMES.length + 1).fill(0),
    perUnitTimeoutMs: 2000,
  };
  const expected = [1, ...NAMES.map((_, i) => i + 1)];

  it("gives map null-prototype rows in which every column name round-trips, as objects", async () => {
    const row = Object.create(null) as Record<string, number>;
    NAMES.forEach((n, i) => Object.defineProperty(row, n, { value: i + 1, enumerable: true, writable: true, configurable: true }));
    const r = await sandbox.runPerUnit({ ...call, units: [[{ rows: [row] }]] });
    expect(r.sum).toEqual(expected);
    expect(r.failures).toBe(0);
  });

  it("and as cells under named columns", async () => {
    const r = await sandbox.runPerUnit({ ...call, columns: NAMES, units: [[{ rows: [NAMES.map((_, i) => i + 1)] }]] });
    expect(r.sum).toEqual(expected);
    expect(r.failures).toBe(0);
  });
});
