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
 * Kernel prelude. Runner: (factory, start, end, params, cap, kinds, ...buffers) → string | number.
 * `kinds` is a JSON string: per buffer its typed array name and length; then per column j the
 * index of its values buffer and of its null bitmap (or null). Buffers are SharedArrayBuffers
 * shared with the worker (zero-copy); views are built here with the captured constructors.
 */
export const KERNEL_PRELUDE = `(function () {${HARDEN}
  const ctors = { Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array };
  return function runKernel(factory, start, end, params, cap, layoutJson, ...buffers) {
    try {
      const layout = parse(layoutJson);
      const views = [];
      for (let i = 0; i < layout.buffers.length; i++) {
        const b = layout.buffers[i];
        views.push(new ctors[b.type](buffers[i], 0, b.length));
      }
      const cols = freeze(layout.values.map((i) => views[i]));
      const nulls = freeze(layout.nulls.map((i) => (i === null ? null : views[i])));
      const kernel = factory();
      if (typeof kernel !== "function") return ${RUN_NO_FUNCTION};
      return finish(kernel(cols, nulls, start, end, params), cap);
    } catch {
      return ${RUN_THREW};
    }
  };
})()`;

/** Per-unit prelude. Runner: (factory, rowsJson, cap) → string | number; rows are parsed here. */
export const UNIT_PRELUDE = `(function () {${HARDEN}
  return function runUnit(factory, rowsJson, cap) {
    try {
      const rows = parse(rowsJson);
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
