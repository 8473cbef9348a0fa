/**
 * What runs in every fresh context before any job code: it strips capabilities job code must not
 * have, then returns the runner — the only function the worker calls. The runner captured every
 * intrinsic it uses before job code existed, calls the job's code inside try/catch, and hands
 * back either one JSON string built inside the timed run or a small failure number. So no job
 * value, exception or getter ever crosses the isolate boundary; only a string or a number does.
 *
 * Removed from the global: WebAssembly (its memory is not counted against the isolate's limit),
 * SharedArrayBuffer and Atomics (Atomics.wait blocks a thread; shared memory is a timer),
 * FinalizationRegistry and WeakRef (GC-timed callbacks that could run during a later unit),
 * eval, Function and the constructors of every function kind (no code from strings), Intl
 * (DateTimeFormat reads the clock), console. The clock: Date.now(), Date() and new Date() with
 * no argument throw; dates built from values still work. isolated-vm gives no timers, no
 * performance, no require, no process, and rejects import().
 */

/** Failure numbers the runner returns instead of a JSON string. */
export const RUN_THREW = 1;
export const RUN_NO_FUNCTION = 2;
export const RUN_BAD_RESULT = 3;
export const RUN_TOO_LARGE = 4;

const HARDEN = String.raw`
  "use strict";
  const g = globalThis;
  const stringify = JSON.stringify, parse = JSON.parse;
  const PromiseCtor = Promise, construct = Reflect.construct, defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf, freeze = Object.freeze, create = Object.create;
  const removed = ["WebAssembly", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "WeakRef",
    "eval", "Function", "Intl", "console", "Temporal", "ShadowRealm"];
  const noCodegen = function () { throw new TypeError("code generation is disabled"); };
  for (const f of [function () {}, async function () {}, function* () {}, async function* () {}]) {
    defineProperty(getPrototypeOf(f), "constructor", { value: noCodegen, writable: false, enumerable: false, configurable: false });
  }
  const RealDate = Date;
  const noClock = function () { throw new TypeError("there is no clock in the sandbox"); };
  const SafeDate = function Date(...args) {
    if (new.target === undefined || args.length === 0) noClock();
    return construct(RealDate, args, new.target);
  };
  defineProperty(SafeDate, "prototype", { value: RealDate.prototype, writable: false, enumerable: false, configurable: false });
  defineProperty(RealDate.prototype, "constructor", { value: SafeDate, writable: false, enumerable: false, configurable: false });
  SafeDate.UTC = RealDate.UTC;
  SafeDate.parse = RealDate.parse;
  SafeDate.now = noClock;
  defineProperty(g, "Date", { value: SafeDate, writable: true, enumerable: false, configurable: true });
  for (const name of removed) {
    delete g[name];
    if (name in g) throw new Error("hardening failed");
  }
  const finish = function (result, cap) {
    if (result instanceof PromiseCtor) return ${RUN_BAD_RESULT};
    const out = stringify(result);
    if (typeof out !== "string") return ${RUN_BAD_RESULT};
    if (out.length > cap) return ${RUN_TOO_LARGE};
    return out;
  };
`;

/**
 * Kernel prelude. Runner: (factory, start, end, params, cap, layoutJson, ...buffers) → string |
 * number. `layoutJson` is a JSON string: per buffer its typed array name and length; then per
 * column j the index of its values buffer and of its null bitmap (or null); or null: the same
 * buffers as the runner's previous call (the views it built then are used again). Buffers are
 * the part's own SharedArrayBuffers (part-copies.ts); views are built here with the captured
 * constructors. The kernel is made by `factory()` on the runner's first call and kept for the
 * context's later calls (a warm context, warm-kernels.ts, serves one source only).
 *
 * Besides HARDEN, it removes what an isolate shares between its contexts and a kernel could reach
 * (the symbol registry, Math.random's isolate-wide seed), and with `lockdown` (warm contexts,
 * which serve many jobs) it freezes the global object and every object reachable from it — every
 * intrinsic, prototype, getter and setter — so no job can leave anything in the context for a
 * later job: what a kernel call creates is unreachable once it returns.
 */
export function kernelPrelude(lockdown: boolean): string {
  return `(function () {${HARDEN}
  const ctors = { Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array };
  // No way back from a column view to its SharedArrayBuffer (nor to the SharedArrayBuffer
  // constructor through it): kernels index views and never need the buffer.
  const typedArrayProto = getPrototypeOf(Int8Array.prototype);
  defineProperty(typedArrayProto, "buffer", { get: undefined, enumerable: false, configurable: false });
  if (Object.getOwnPropertyDescriptor(typedArrayProto, "buffer").get !== undefined) throw new Error("hardening failed");
  delete Symbol.for;
  delete Symbol.keyFor;
  if ("for" in Symbol || "keyFor" in Symbol) throw new Error("hardening failed");
  // assigned, not redefined: changing a property's attributes turns Math into a dictionary, and
  // V8 then stops inlining Math.imul/min/max in kernels (measured: a 5M-row part 32 → 65 ms);
  // lockdown freezes it below
  Math.random = function () { throw new TypeError("not available in the sandbox"); };
  if (${lockdown ? "true" : "false"}) {
    const getOwn = Object.getOwnPropertyDescriptors, ownKeys = Reflect.ownKeys, isFrozen = Object.isFrozen;
    const seen = new Set();
    const todo = [g];
    while (todo.length > 0) {
      const o = todo.pop();
      if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
      seen.add(o);
      freeze(o);
      todo.push(getPrototypeOf(o));
      const descriptors = getOwn(o);
      for (const k of ownKeys(descriptors)) {
        const d = descriptors[k];
        todo.push(d.value, d.get, d.set);
      }
    }
    if (!isFrozen(g) || !isFrozen(Array.prototype) || !isFrozen(Object.prototype)) throw new Error("hardening failed");
  }
  let kernel;
  let cols, nulls;
  return function runKernel(factory, start, end, params, cap, layoutJson, ...buffers) {
    try {
      if (layoutJson !== null) {
        const layout = parse(layoutJson);
        const views = [];
        for (let i = 0; i < layout.buffers.length; i++) {
          const b = layout.buffers[i];
          views.push(new ctors[b.type](buffers[i], 0, b.length));
        }
        cols = freeze(layout.values.map((i) => views[i]));
        nulls = freeze(layout.nulls.map((i) => (i === null ? null : views[i])));
      }
      if (kernel === undefined) {
        const made = factory();
        if (typeof made !== "function") return ${RUN_NO_FUNCTION};
        kernel = made;
      }
      return finish(kernel(cols, nulls, start, end, params), cap);
    } catch {
      return ${RUN_THREW};
    }
  };
})()`;
}

/** The prelude of a context used for one job (kernel-runner.ts's fresh isolates). */
export const KERNEL_PRELUDE = kernelPrelude(false);

/**
 * Per-unit prelude: besides HARDEN, it removes every way a unit can touch state that belongs to
 * the isolate rather than to its own (fresh) context, because units share an isolate:
 * - Symbol.for / Symbol.keyFor: the symbol registry is isolate-wide and keeps what it interns;
 * - ArrayBuffer, every typed array, DataView: their memory comes from isolated-vm's allocator,
 *   which caches a heap figure between allocations and refuses with a catchable RangeError, so a
 *   unit could read back how much a previous unit allocated; without them buyer code never
 *   reaches the allocator (the heap limit itself is decided after a full collection);
 * - RegExps compiled from strings (new RegExp(text), String#match/matchAll/search with a
 *   non-RegExp, RegExp#compile): V8's isolate-wide compilation cache keeps their sources;
 *   RegExp literals (fixed in the approved source) still work;
 * - Math.random: each context's generator is seeded from an isolate-wide one on first use.
 * Runner: (factory, rowsJson, cap, columnsJson) → string | number. Rows are rebuilt here as
 * null-prototype objects, so "__proto__", "constructor" and the like are ordinary columns;
 * with columnsJson (a JSON list of names) each row arrives as an array of cells in that order.
 */
export const UNIT_PRELUDE = `(function () {${HARDEN}
  const isArray = Array.isArray, keys = Object.keys, RealRegExp = RegExp;
  const deny = function () { throw new TypeError("not available in the sandbox"); };
  for (const name of ["ArrayBuffer", "DataView", "Float64Array", "Float32Array", "Float16Array", "Int32Array", "Uint32Array",
    "Int16Array", "Uint16Array", "Int8Array", "Uint8Array", "Uint8ClampedArray", "BigInt64Array", "BigUint64Array"]) {
    delete g[name];
    if (name in g) throw new Error("hardening failed");
  }
  delete Symbol.for;
  delete Symbol.keyFor;
  if ("for" in Symbol || "keyFor" in Symbol) throw new Error("hardening failed");
  defineProperty(Math, "random", { value: deny, writable: false, enumerable: false, configurable: false });
  delete RealRegExp.prototype.compile;
  const SafeRegExp = function RegExp(pattern, flags) {
    if (!(pattern instanceof RealRegExp)) deny();
    return construct(RealRegExp, [pattern, flags], new.target === undefined ? RealRegExp : new.target);
  };
  defineProperty(SafeRegExp, "prototype", { value: RealRegExp.prototype, writable: false, enumerable: false, configurable: false });
  defineProperty(RealRegExp.prototype, "constructor", { value: SafeRegExp, writable: false, enumerable: false, configurable: false });
  defineProperty(g, "RegExp", { value: SafeRegExp, writable: true, enumerable: false, configurable: true });
  for (const name of ["match", "matchAll", "search"]) {
    const real = String.prototype[name];
    const safe = { [name](pattern) {
      if (pattern === null || (typeof pattern !== "object" && typeof pattern !== "function")) deny();
      return real.call(this, pattern);
    } }[name];
    defineProperty(String.prototype, name, { value: safe, writable: true, enumerable: false, configurable: true });
  }
  const nullProto = function (value) {
    if (value === null || typeof value !== "object") return value;
    if (isArray(value)) { for (let i = 0; i < value.length; i++) value[i] = nullProto(value[i]); return value; }
    const out = create(null);
    for (const k of keys(value)) out[k] = nullProto(value[k]);
    return out;
  };
  const rowsOf = function (rowsJson, columnsJson) {
    const raw = parse(rowsJson);
    if (columnsJson === undefined) return nullProto(raw);
    const names = parse(columnsJson);
    const rows = [];
    for (const cells of raw) {
      const row = create(null);
      for (let j = 0; j < names.length; j++) row[names[j]] = nullProto(cells[j]);
      rows.push(row);
    }
    return rows;
  };
  return function runUnit(factory, rowsJson, cap, columnsJson) {
    try {
      const rows = rowsOf(rowsJson, columnsJson);
      const map = factory();
      if (typeof map !== "function") return ${RUN_NO_FUNCTION};
      return finish(map(rows), cap);
    } catch {
      return ${RUN_THREW};
    }
  };
})()`;

/**
 * Wraps job source in a function expression so its top level runs only when the runner calls
 * it, inside the runner's try/catch and the call's timeout. The source must first compile on
 * its own as a script (checked by the caller), so it cannot close the wrapper early.
 */
export function wrapSource(source: string, functionName: "kernel" | "map"): string {
  return `(function () {\n${source}\n;return typeof ${functionName} === "function" ? ${functionName} : undefined;\n})`;
}
