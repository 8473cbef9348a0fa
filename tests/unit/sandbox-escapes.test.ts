/**
 * Escape and abuse payloads, as kernels and as buyer `map` code. Each must end in a clean error
 * code or a default vector, reveal nothing it read, leave the host alive, and leave the next job
 * unaffected (every test ends by running a healthy job).
 */
import { afterAll, describe, expect, it } from "vitest";
import { Sandbox, SandboxError, type SandboxErrorCode } from "../../sandbox/index.ts";
import { GROUP_SUM_KERNEL, groupColumns, groupSumReference } from "../support/sandbox-fixtures.ts";

const sandbox = new Sandbox({ size: 2 });
afterAll(() => sandbox.close());

const GROUPS = 5;
const data = groupColumns(20_000, GROUPS);
const columns = [{ values: data.codes }, { values: data.values }];
/** A value from the "private" data: it must never show up in anything the caller receives. */
const SECRET = String(data.values[0]);

async function expectHealthy() {
  const { result } = await sandbox.runKernel({ source: GROUP_SUM_KERNEL, columns, rowStart: 0, rowEnd: 20_000, params: { groups: GROUPS } });
  const expected = groupSumReference({ ...data, nulls: null }, GROUPS);
  expect((result as { count: number[] }).count).toEqual(expected.count);
  expect(process.memoryUsage().rss).toBeGreaterThan(0); // the host is alive and answering
}

/** Runs `body` as a kernel's body; resolves with the result or the error code. */
async function kernel(body: string, limits: { timeoutMs?: number; memoryLimitMb?: number; maxResultChars?: number } = {}) {
  const source = `function kernel(cols, nulls, start, end, params) {\n${body}\n}`;
  try {
    const { result } = await sandbox.runKernel({ source, columns, rowStart: 0, rowEnd: 20_000, timeoutMs: 1000, ...limits });
    return { result, code: null as SandboxErrorCode | null };
  } catch (err) {
    expect(err).toBeInstanceOf(SandboxError);
    const e = err as SandboxError;
    for (const text of [e.message, String(e.stack), JSON.stringify(e)]) expect(text).not.toContain(SECRET);
    return { result: undefined, code: e.code };
  }
}

/** Runs each attempt (a JS expression) inside the kernel and reports what it gave: "threw" or its typeof. */
function probe(attempts: string[]): string {
  return `return [${attempts.map((a) => `(() => { try { const r = (${a}); return typeof r; } catch (e) { return "threw"; } })()`).join(",\n")}];`;
}

describe("escapes and capabilities", () => {
  it("blocks constructor-chain escapes (Function via this, columns, errors, params, every function kind)", async () => {
    const { result } = await kernel(
      probe([
        `this.constructor.constructor("return process")()`,
        `cols.constructor.constructor("return process")()`,
        `cols[0].constructor.constructor("return process")()`,
        `new Error().constructor.constructor("return process")()`,
        `Object.getPrototypeOf(params || {}).constructor.constructor("return process")()`,
        `(() => {}).constructor("return globalThis")()`,
        `Object.getPrototypeOf(async function () {}).constructor("return 1")`,
        `Object.getPrototypeOf(function* () {}).constructor("return 1")`,
        `Object.getPrototypeOf(async function* () {}).constructor("return 1")`,
        `eval("1")`,
        `Function("return 1")`,
      ]),
    );
    expect(result).toEqual(new Array(11).fill("threw"));
    await expectHealthy();
  });

  it("has no process, require, module, Buffer, timers, fetch, WebAssembly, SharedArrayBuffer, Atomics or weak refs", async () => {
    const names = [
      "process",
      "require",
      "module",
      "Buffer",
      "setTimeout",
      "setImmediate",
      "queueMicrotask",
      "fetch",
      "WebAssembly",
      "SharedArrayBuffer",
      "Atomics",
      "FinalizationRegistry",
      "WeakRef",
      "performance",
      "Intl",
      "console",
      "eval",
      "Function",
    ];
    const { result } = await kernel(`return [${names.map((n) => `typeof ${n}`).join(", ")}];`);
    expect(result).toEqual(names.map(() => "undefined"));
    await expectHealthy();
  });

  it("finds no host object through Error.prepareStackTrace call sites", async () => {
    const { result } = await kernel(`
      const found = [];
      Error.prepareStackTrace = (e, sites) => {
        for (const s of sites) {
          for (const v of [s.getThis(), s.getFunction()]) {
            if (v && (typeof v === "object" || typeof v === "function")) {
              try { found.push(typeof v.process, typeof v.require, typeof v.constructor.constructor("return process")); } catch { found.push("threw"); }
            }
          }
        }
        return "stack";
      };
      const deep = () => new Error("x").stack;
      deep();
      return found.filter((t) => t !== "undefined" && t !== "threw");`);
    expect(result).toEqual([]);
    await expectHealthy();
  });

  it("never reads the stack of a thrown error, so a hostile prepareStackTrace cannot stall the host", async () => {
    const { code } = await kernel(`
      Error.prepareStackTrace = () => { for (;;) {} };
      throw new Error("secret " + cols[1][0]);`);
    expect(code).toBe("KERNEL_THREW");
    await expectHealthy();
  });

  it("contains Proxy tricks: thrown proxies, proxy results, proxies around columns", async () => {
    const thrown = await kernel(`throw new Proxy({}, { get() { for (;;) {} }, getPrototypeOf() { for (;;) {} } });`);
    expect(thrown.code).toBe("KERNEL_THREW");
    const result = await kernel(`
      return new Proxy({ a: 1 }, {
        ownKeys(t) { try { return [String(this.constructor.constructor("return typeof process")())]; } catch { return ["contained"]; } },
        getOwnPropertyDescriptor() { return { value: "v", enumerable: true, configurable: true }; },
        get() { return "v"; },
      });`);
    expect(result).toEqual({ result: { contained: "v" }, code: null });
    const wrapped = await kernel(`
      const p = new Proxy(cols[0], { get(t, k) { return k === "constructor" ? undefined : Reflect.get(t, k); } });
      return [p.length, typeof p.constructor];`);
    expect(wrapped.result).toEqual([20_000, "undefined"]);
    await expectHealthy();
  });

  it("survives unhandled rejections, even ones whose message and stack getters never return", async () => {
    // isolated-vm reads an unhandled rejection's message and stack after the timed run, and a
    // looping getter there defeats its termination: the worker's wall deadline answers instead.
    expect((await kernel(`Promise.reject(new Error("SECRET " + cols[1][0])); return 1;`)).code).toBe("KERNEL_THREW");
    expect((await kernel(`(async () => { throw String(cols[1][0]); })(); return 1;`)).code).toBe("KERNEL_THREW");
    const before = sandbox.stats().recycled;
    const getters = await kernel(`Promise.reject({ get message() { for (;;) {} }, get stack() { for (;;) {} } }); return 1;`, { timeoutMs: 200 });
    expect(getters.code).toBe("TIMEOUT");
    const proxy = await kernel(`Promise.reject(new Proxy({}, { get() { for (;;) {} }, getPrototypeOf() { for (;;) {} } })); return 1;`, {
      timeoutMs: 200,
    });
    expect(proxy.code).toBe("TIMEOUT");
    expect(sandbox.stats().recycled).toBe(before + 2);
    await expectHealthy();
  });

  it("rejects dynamic import() and has no require", async () => {
    const imp = await kernel(`return import("node:fs");`);
    expect(["BAD_RESULT", "KERNEL_THREW"]).toContain(imp.code); // a promise, rejected unhandled
    const caught = await kernel(`import("node:fs").catch(() => 0); return "ok";`);
    expect(caught.result).toBe("ok");
    const later = await kernel(
      `let got = "nothing"; import("node:child_process").then((m) => { got = typeof m; }, () => { got = "rejected"; }); return got;`,
    );
    expect(later.result).toBe("nothing");
    const req = await kernel(`return require("fs").readFileSync("/etc/passwd", "utf8");`);
    expect(req.code).toBe("KERNEL_THREW");
    await expectHealthy();
  });
});

describe("resource abuse", () => {
  it("stops infinite loops, loops in microtasks, and never-settling promises", async () => {
    expect((await kernel(`for (;;) {}`, { timeoutMs: 200 })).code).toBe("TIMEOUT");
    expect((await kernel(`Promise.resolve().then(() => { for (;;) {} }); return 1;`, { timeoutMs: 200 })).code).toBe("TIMEOUT");
    expect((await kernel(`return new Promise(() => {});`)).code).toBe("BAD_RESULT");
    const asyncKernel = await sandbox
      .runKernel({ source: `async function kernel() { await new Promise(() => {}); }`, columns, rowStart: 0, rowEnd: 1 })
      .catch((e: SandboxError) => e.code);
    expect(asyncKernel).toBe("BAD_RESULT");
    await expectHealthy();
  });

  it("stops catastrophic regular expressions (ReDoS)", async () => {
    expect((await kernel(`return /^(a+)+$/.test("a".repeat(40) + "b");`, { timeoutMs: 300 })).code).toBe("TIMEOUT");
    await expectHealthy();
  });

  it("disposes an isolate past its memory limit (heap bomb) and replaces the worker", async () => {
    const before = sandbox.stats().recycled;
    const { code } = await kernel(`const a = []; for (;;) a.push({ i: a.length, s: "x" + a.length });`, { memoryLimitMb: 16, timeoutMs: 10_000 });
    expect(code).toBe("MEMORY_LIMIT");
    expect(sandbox.stats().recycled).toBe(before + 1);
    await expectHealthy();
  });

  it("contains ArrayBuffer bombs", async () => {
    const one = await kernel(`return new ArrayBuffer(2 ** 33).byteLength;`, { memoryLimitMb: 16 });
    expect(one.code).toBe("KERNEL_THREW");
    const many = await kernel(`const keep = []; for (;;) keep.push(new Float64Array(8 * 1024 * 1024));`, { memoryLimitMb: 16, timeoutMs: 5000 });
    expect(["KERNEL_THREW", "MEMORY_LIMIT"]).toContain(many.code);
    await expectHealthy();
  });

  it("has no WebAssembly to allocate memory outside the limit", async () => {
    const { code } = await kernel(`return new WebAssembly.Memory({ initial: 1000, maximum: 65536 }).buffer.byteLength;`, { memoryLimitMb: 16 });
    expect(code).toBe("KERNEL_THREW");
    await expectHealthy();
  });

  it("turns deep recursion into an exception", async () => {
    expect((await kernel(`const f = (n) => f(n + 1) + 1; return f(0);`)).code).toBe("KERNEL_THREW");
    await expectHealthy();
  });

  it("has no Atomics.wait, even on the shared column buffers", async () => {
    const { code } = await kernel(`Atomics.wait(new Int32Array(cols[0].buffer), 0, cols[0][0]); return 1;`, { timeoutMs: 300 });
    expect(code).toBe("KERNEL_THREW");
    await expectHealthy();
  });
});

describe("results", () => {
  it("runs toJSON and getters inside the timed run, never in the host", async () => {
    expect((await kernel(`return { toJSON() { for (;;) {} } };`, { timeoutMs: 200 })).code).toBe("TIMEOUT");
    expect((await kernel(`return { get a() { return "x".repeat(3_000_000); } };`)).code).toBe("RESULT_TOO_LARGE");
    expect((await kernel(`return { get a() { return this.constructor.constructor("return process")(); } };`)).code).toBe("KERNEL_THREW");
    expect((await kernel(`return { toJSON() { return 42; } };`)).result).toBe(42);
    await expectHealthy();
  });

  it("caps the result size (huge outputs, a raw-row dump)", async () => {
    expect((await kernel(`return "x".repeat(2_000_000);`)).code).toBe("RESULT_TOO_LARGE");
    expect((await kernel(`return Array.from(cols[1]);`, { maxResultChars: 10_000 })).code).toBe("RESULT_TOO_LARGE");
    expect((await kernel(`return () => 1;`)).code).toBe("BAD_RESULT");
    expect((await kernel(`const a = {}; a.self = a; return a;`)).code).toBe("KERNEL_THREW");
    await expectHealthy();
  });

  it("never carries data from an exception to the caller", async () => {
    for (const body of [
      `throw new Error("SECRET " + cols[1][0]);`,
      `throw { message: String(cols[1][0]), stack: String(cols[1][0]) };`,
      `throw String(cols[1][0]);`,
      `const e = new Error(); Object.defineProperty(e, "message", { get() { return String(cols[1][0]); } }); throw e;`,
    ]) {
      const { code } = await kernel(body); // kernel() also checks SECRET is absent from the error
      expect(code).toBe("KERNEL_THREW");
    }
    await expectHealthy();
  });
});

describe("isolation between jobs", () => {
  it("does not carry prototype pollution or patched built-ins to the next job", async () => {
    const one = new Sandbox({ size: 1 }); // one worker: both jobs run in the same process
    try {
      const run = (body: string) =>
        one.runKernel({ source: `function kernel(cols) {\n${body}\n}`, columns, rowStart: 0, rowEnd: 1 }).then((r) => r.result);
      await run(
        `Object.prototype.polluted = "yes"; Array.prototype.push = null; JSON.stringify = () => "{}"; Math.max = () => 7; globalThis.leftover = 1; return 1;`,
      );
      expect(await run(`return ["polluted" in {}, typeof [].push, Math.max(1, 2), typeof globalThis.leftover];`)).toEqual([
        false,
        "function",
        2,
        "undefined",
      ]);
      expect(one.stats().spawned).toBe(1);
    } finally {
      await one.close();
    }
    await expectHealthy();
  });

  it("offers no real clock for timing attacks", async () => {
    const { result } = await kernel(
      probe([
        `Date.now()`,
        `new Date()`,
        `Date()`,
        `new (new Date(0).constructor)()`,
        `new (Object.getPrototypeOf(new Date(0)).constructor)()`,
        `Reflect.construct(Date, [])`,
        `performance.now()`,
        `new Intl.DateTimeFormat().format()`,
        `process.hrtime()`,
      ]),
    );
    expect(result).toEqual(new Array(9).fill("threw"));
    const dates = await kernel(`return [new Date(0).toISOString(), Date.UTC(2020, 0, 1), new Date("2020-01-02T00:00:00Z").getTime()];`);
    expect(dates.result).toEqual(["1970-01-01T00:00:00.000Z", Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 2)]);
    await expectHealthy();
  });
});

describe("buyer map code under the same payloads", () => {
  it("turns every attack into the default vector and counts it, and keeps honest units", async () => {
    const attacks = [
      `return [this.constructor.constructor("return process")().pid];`,
      `Error.prepareStackTrace = (e, s) => s.map((c) => c.getThis()); return [new Error().stack.find((t) => t && t.process).process.pid];`,
      `Promise.reject(new Error("SECRET " + JSON.stringify(rows))); return [1];`,
      `Promise.reject({ get message() { for (;;) {} }, get stack() { for (;;) {} } }); return [1];`,
      `return new Proxy([1], { get(t, k) { return k === "length" ? 1 : Reflect.get(t, k); } }).map(() => process.pid);`,
      `return import("node:fs");`,
      `return [require("fs")];`,
      `for (;;) {}`,
      `return new Promise(() => {});`,
      `const a = []; for (;;) a.push({ i: a.length });`,
      `const k = []; for (;;) k.push(new Float64Array(8 * 1024 * 1024));`,
      `return [new WebAssembly.Memory({ initial: 10 }).buffer.byteLength];`,
      `const f = (n) => f(n + 1) + 1; return [f(0)];`,
      `return [Atomics.wait(new Int32Array(4), 0, 0)];`,
      `return [/^(a+)+$/.test("a".repeat(40) + "b") ? 1 : 0];`,
      `return { toJSON() { for (;;) {} } };`,
      `return ["x".repeat(100_000)];`,
      `return rows;`,
      `throw new Error("SECRET " + JSON.stringify(rows));`,
      `return [Date.now()];`,
      `return [Number(new Date())];`,
    ];
    const source = `function map(rows) {\n  switch (rows[0].attack) {\n${attacks.map((a, i) => `    case ${i}: { ${a} }`).join("\n")}\n    default: return [1];\n  }\n}`;
    const units = [...attacks.map((_, attack) => ({ rows: [{ attack, fare: 12.5 }] })), { rows: [{ attack: -1 }] }, { rows: [{ attack: -2 }] }];
    const r = await sandbox.runPerUnit({
      source,
      units: [units],
      outputDim: 1,
      ranges: [[0, 1]],
      defaultVector: [0],
      perUnitTimeoutMs: 500,
      memoryLimitMb: 16,
    });
    expect(r.failures).toBe(attacks.length);
    expect(r.sum).toEqual([2]);
    expect(JSON.stringify(r)).not.toContain("SECRET");
    await expectHealthy();
  });
});
