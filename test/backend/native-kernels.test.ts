/**
 * native == ts: every native kernel and op code against the ts reference kernels, on random shapes
 * (empty and size-1 axes, sizes off the vector width, threaded sizes), broadcast layouts with zero
 * strides, transposed and batch-broadcast matmuls, -Infinity / NaN handling. Runs for every
 * instruction set the CPU has (the addon can be switched to a narrower one) and for both GEMMs.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BINARY_OPS, opCode, REDUCE_OPS, UNARY_OPS, type Kernels, type TypedArray, type UnaryOp } from "../../src/backend/kernels.js";
import type { NativeAddon } from "../../src/backend/native/binding.js";
import { loadNative } from "../../src/backend/native/loader.js";
import { createNativeKernels } from "../../src/backend/native/native-kernels.js";
import { tsKernels } from "../../src/backend/ts/kernels.js";
import { broadcastShapes, broadcastStrides, packLayout, sizeOf, stridesOf } from "../../src/core/shape.js";
import { describeEachIsa, onOneAndSeveralThreads } from "../helpers/native-isa.js";
import { rng } from "../helpers/rng.js";

const loaded = loadNative();
if (loaded.error) console.warn(`native-kernels tests skipped: ${loaded.error}`);
const addon = loaded.addon as NativeAddon;
const ts = tsKernels;

// ---------------------------------------------------------------- helpers

type DT = "f32" | "i32" | "u8" | "f64";
function alloc(dt: DT, n: number): TypedArray {
  return dt === "f32" ? new Float32Array(n) : dt === "i32" ? new Int32Array(n) : dt === "u8" ? new Uint8Array(n) : new Float64Array(n);
}

const SPECIALS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  3.5,
  NaN,
  Infinity,
  -Infinity,
  1e-30,
  -1e-30,
  1e30,
  -1e30,
  88.5,
  -88.5,
  89,
  -104,
  100,
  -100,
  20.5,
  -20.5,
  1e-7,
  -1e-7,
  3.4e38,
  -3.4e38,
  1e-40,
  -1e-40,
  0.625,
  -0.9277,
  0.93,
  8388607.5,
  -8388609,
];

/** Random values of a dtype; floats start with the special values when `specials`. */
function fill(dt: DT, n: number, seed: number, opts: { specials?: boolean; scale?: number; lo?: number; hi?: number } = {}): TypedArray {
  const r = rng(seed);
  const a = alloc(dt, n);
  const scale = opts.scale ?? 10;
  for (let i = 0; i < n; i++) {
    if (dt === "u8") a[i] = r() < 0.5 ? 0 : r() < 0.9 ? 1 : Math.floor(r() * 256);
    else if (dt === "i32") {
      const lo = opts.lo ?? -1000;
      const hi = opts.hi ?? 1000;
      a[i] = r() < 0.05 ? [2147483647, -2147483648, 0, -1, 1, 46341, 100000][Math.floor(r() * 7)]! : lo + Math.floor(r() * (hi - lo + 1));
    } else if (opts.specials && i < SPECIALS.length) a[i] = SPECIALS[i]!;
    else a[i] = (r() - 0.5) * 2 * scale;
  }
  return a;
}

interface Tol {
  rtol: number;
  atol: number;
}
const EXACT: Tol = { rtol: 0, atol: 0 };

/** Elementwise comparison; NaN matches NaN, +0 matches -0; `scale` (per element) multiplies rtol. */
function expectClose(what: string, actual: TypedArray, expected: TypedArray, tol: Tol = EXACT, scale?: ArrayLike<number>): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a === e || (a !== a && e !== e)) continue;
    const s = scale ? scale[i]! : Math.abs(e);
    if (Math.abs(a - e) <= tol.atol + tol.rtol * s) continue;
    throw new Error(`${what}: element ${i}: native ${a} vs ts ${e} (tolerance ${JSON.stringify(tol)}, scale ${s})`);
  }
}

const native: Kernels = loaded.addon ? createNativeKernels(addon, ts) : ts;

const U = (name: UnaryOp): number => opCode(UNARY_OPS, name);
const SIZES = [0, 1, 3, 7, 17, 33, 100, 1000, 70000];

const UNARY_PARAMS: Partial<Record<UnaryOp, [number, number][]>> = {
  elu: [
    [1, 0],
    [0.5, 0],
  ],
  leakyRelu: [
    [0.01, 0],
    [0.2, 0],
  ],
  clamp: [
    [-1, 2],
    [-Infinity, 0.5],
    [0.25, Infinity],
  ],
  powScalar: [
    [2, 0],
    [3, 0],
    [0.5, 0],
    [-1, 0],
    [0, 0],
    [1, 0],
    [1.7, 0],
    [-2.5, 0],
    [Infinity, 0],
    [-Infinity, 0],
    [NaN, 0],
  ],
  affine: [
    [2, 1],
    [1 / 3, -0.1],
    [-1, 0],
  ],
};

function unaryTol(op: UnaryOp): Tol {
  // ts erf is an approximation with ~1.2e-7 absolute error
  if (op === "erf" || op === "gelu") return { rtol: 1e-5, atol: 1e-6 };
  // native computes x * sigmoid(2u), which keeps tiny negative values the ts formula rounds to 0
  if (op === "geluTanh") return { rtol: 1e-5, atol: 1e-12 };
  return { rtol: 1e-5, atol: 1e-37 };
}

// ---------------------------------------------------------------- suites

describe.skipIf(!loaded.addon)("native addon", { timeout: 60_000 }, () => {
  it("reports its configuration", () => {
    const info = addon.info();
    expect(["openblas", "builtin"]).toContain(info.blas);
    expect(["avx512", "avx2", "scalar"]).toContain(info.gemmKernel);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.cpu.avx2).toBe("boolean");
    if (info.openblas) expect(typeof info.openblasVersion).toBe("string");
    expect(() => addon.setGemm("bogus" as "builtin")).toThrow(TypeError);
    expect(addon.setThreads(1)).toBe(1);
    expect(addon.setThreads(info.threads)).toBe(info.threads);
  });

  it("rejects wrong argument kinds and malformed layouts instead of crashing", () => {
    const x = new Float32Array(4);
    expect(() => addon.unary(0, [1, 2] as unknown as Float32Array, x, 0, 0)).toThrow(TypeError);
    expect(() => addon.binary(0, x, x, x, new Int32Array([5, 4]))).toThrow(TypeError);
    expect(() => addon.binary(0, x, x, x, new Int32Array([1, 4, 1]))).toThrow(TypeError);
    expect(() => addon.matmul(new Float64Array(4), new Float64Array(4), new Float64Array(4), 1, 2, 2, 1, false, false, 0, 0)).toThrow(
      TypeError,
    );
  });

  it("sums independently of the thread count", () => {
    const x = fill("f32", 1_000_003, 7) as Float32Array;
    const [a, b] = onOneAndSeveralThreads(addon, () => {
      const out = new Float32Array(1);
      addon.reduce(opCode(REDUCE_OPS, "sum"), x, out, 1, x.length, 1);
      return out[0];
    });
    expect(a).toBe(b);
  });

  it("routes float64 and unsupported dtype combinations to the ts kernels", () => {
    const x = fill("f64", 100, 3, { specials: true }) as Float64Array;
    const o1 = new Float64Array(100);
    const o2 = new Float64Array(100);
    native.unary(U("exp"), x, o1, 0, 0);
    ts.unary(U("exp"), x, o2, 0, 0);
    expect(Array.from(o1)).toEqual(Array.from(o2));
    const i = fill("i32", 50, 4) as Int32Array;
    const io1 = new Int32Array(50);
    const io2 = new Int32Array(50);
    native.unary(U("exp"), i, io1, 0, 0); // int32 exp is not native
    ts.unary(U("exp"), i, io2, 0, 0);
    expect(Array.from(io1)).toEqual(Array.from(io2));
  });

  describeEachIsa(addon, () => {
    it("unary float32: every op, sizes off the vector width, special values", () => {
      for (const name of UNARY_OPS) {
        const op = U(name);
        const params = UNARY_PARAMS[name] ?? [[0, 0]];
        const boolOut = name === "logicalNot" || name === "isFinite";
        for (const [p0, p1] of params) {
          for (const n of SIZES) {
            const x = fill("f32", n, n * 31 + op, { specials: true, scale: name === "exp" ? 30 : 10 });
            const a = alloc(boolOut ? "u8" : "f32", n);
            const e = alloc(boolOut ? "u8" : "f32", n);
            native.unary(op, x, a, p0, p1);
            ts.unary(op, x, e, p0, p1);
            expectClose(`unary ${name}(${p0}, ${p1}) n=${n}`, a, e, unaryTol(name));
          }
        }
      }
    });

    it("unary int32 and bool", () => {
      for (const name of ["neg", "abs", "sign", "square", "relu", "clamp", "affine"] as UnaryOp[]) {
        for (const [p0, p1] of UNARY_PARAMS[name] ?? [[0, 0]]) {
          for (const n of [0, 1, 17, 1000, 70000]) {
            const x = fill("i32", n, n + U(name), { lo: -100000, hi: 100000 });
            const a = new Int32Array(n);
            const e = new Int32Array(n);
            native.unary(U(name), x, a, p0, p1);
            ts.unary(U(name), x, e, p0, p1);
            expectClose(`unary int32 ${name}(${p0}, ${p1}) n=${n}`, a, e);
          }
        }
      }
      for (const name of ["logicalNot", "isFinite"] as UnaryOp[]) {
        for (const dt of ["f32", "i32", "u8"] as DT[]) {
          const x = fill(dt, 1000, 5, { specials: true });
          const a = new Uint8Array(1000);
          const e = new Uint8Array(1000);
          native.unary(U(name), x, a, 0, 0);
          ts.unary(U(name), x, e, 0, 0);
          expectClose(`unary ${dt} ${name}`, a, e);
        }
      }
    });

    it("unaryGrad: every differentiable op", () => {
      for (const name of UNARY_OPS) {
        if (name === "logicalNot" || name === "isFinite") continue;
        const op = U(name);
        for (const [p0, p1] of UNARY_PARAMS[name] ?? [[0, 0]]) {
          for (const n of [0, 1, 7, 33, 1000, 70000]) {
            const x = fill("f32", n, n * 7 + op, { specials: n > 40, scale: 6 }) as Float32Array;
            const y = new Float32Array(n);
            ts.unary(op, x, y, p0, p1);
            const dy = fill("f32", n, n + 11, { scale: 1 }) as Float32Array;
            const a = new Float32Array(n);
            const e = new Float32Array(n);
            native.unaryGrad(op, x, y, dy, a, p0, p1);
            ts.unaryGrad(op, x, y, dy, e, p0, p1);
            expectClose(`unaryGrad ${name}(${p0}, ${p1}) n=${n}`, a, e, { rtol: 1e-5, atol: 1e-6 });
          }
        }
      }
    });

    it("binary: random broadcast layouts, every op and dtype (property)", () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: BINARY_OPS.length - 1 }),
          fc.constantFrom<DT>("f32", "i32", "u8"),
          fc.integer(),
          (shape, bcA, bcB, dropB, op, dt, seed) => {
            const sa = shape.map((d, i) => (bcA[i] ? 1 : d));
            const sb = shape.map((d, i) => (bcB[i] ? 1 : d)).slice(Math.min(dropB, shape.length - 1));
            const out = broadcastShapes("binary", sa, sb);
            const layout = packLayout(out, [broadcastStrides(sa, out), broadcastStrides(sb, out)]);
            checkBinary(op, dt, sa, sb, out, layout, seed);
          },
        ),
        { numRuns: 300 },
      );
    });

    it("binary: contiguous, scalar-broadcast and threaded layouts", () => {
      const cases: [number[], number[]][] = [
        [[70000], [70000]],
        [[70000], [1]],
        [[1], [70000]],
        [[700, 100], [100]],
        [
          [700, 100],
          [700, 1],
        ],
        [
          [100, 1, 700],
          [1, 100, 700],
        ],
        [[33], [33]],
        [
          [7, 3],
          [7, 1],
        ],
        [
          [5, 1, 17],
          [3, 1],
        ],
        [[0, 5], [5]],
        [[1], [1]],
      ];
      for (const [sa, sb] of cases) {
        const out = broadcastShapes("binary", sa, sb);
        const layout = packLayout(out, [broadcastStrides(sa, out), broadcastStrides(sb, out)]);
        // the ts reference is slow on big broadcast layouts: every op on small ones, a sample on big ones
        const big = sizeOf(out) > 10000;
        for (let op = 0; op < BINARY_OPS.length; op++) {
          for (const dt of ["f32", "i32", "u8"] as DT[]) {
            if (big && !(dt === "f32" ? [0, 3, 6, 11, 15] : [2, 8]).includes(op)) continue;
            checkBinary(op, dt, sa, sb, out, layout, op * 13 + sa.length);
          }
        }
      }
    });

    it("binary float32: every op on every pair of special values", () => {
      const n = SPECIALS.length;
      const x = new Float32Array(n * n);
      const y = new Float32Array(n * n);
      SPECIALS.forEach((u, i) => SPECIALS.forEach((v, j) => ((x[i * n + j] = u), (y[i * n + j] = v))));
      const layout = new Int32Array([1, n * n, 1, 1]);
      for (let op = 0; op < BINARY_OPS.length; op++) {
        const boolOut = op >= opCode(BINARY_OPS, "eq");
        const a = alloc(boolOut ? "u8" : "f32", n * n);
        const e = alloc(boolOut ? "u8" : "f32", n * n);
        native.binary(op, x, y, a, layout);
        ts.binary(op, x, y, e, layout);
        expectClose(`binary ${BINARY_OPS[op]} specials`, a, e, BINARY_OPS[op] === "pow" ? { rtol: 2e-7, atol: 1e-44 } : EXACT);
      }
    });

    it("where: random broadcast layouts (property)", () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
          fc.constantFrom<DT>("f32", "i32", "u8"),
          fc.integer(),
          (shape, which, dt, seed) => {
            const sc = shape.map((d, i) => (which[i] === 0 ? 1 : d));
            const sa = shape.map((d, i) => (which[i] === 1 ? 1 : d));
            const sb = shape.map((d, i) => (which[i] === 2 ? 1 : d));
            const out = broadcastShapes("where", broadcastShapes("where", sc, sa), sb);
            const layout = packLayout(out, [broadcastStrides(sc, out), broadcastStrides(sa, out), broadcastStrides(sb, out)]);
            const cond = fill("u8", sizeOf(sc), seed) as Uint8Array;
            const a = fill(dt, sizeOf(sa), seed + 1, { specials: true });
            const b = fill(dt, sizeOf(sb), seed + 2, { specials: true });
            const r1 = alloc(dt, sizeOf(out));
            const r2 = alloc(dt, sizeOf(out));
            native.where(cond, a, b, r1, layout);
            ts.where(cond, a, b, r2, layout);
            expectClose(`where ${dt} ${JSON.stringify([sc, sa, sb])}`, r1, r2);
          },
        ),
        { numRuns: 200 },
      );
      const n = 70000;
      const layout = packLayout([n], [[1], [1], [0]]);
      const cond = fill("u8", n, 1) as Uint8Array;
      const a = fill("f32", n, 2);
      const b = new Float32Array([42]);
      const r1 = new Float32Array(n);
      const r2 = new Float32Array(n);
      native.where(cond, a, b, r1, layout);
      ts.where(cond, a, b, r2, layout);
      expectClose("where threaded", r1, r2);
    });

    it("reduce: every op over random (outer, n, inner) (property)", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 5 }),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 300 }),
          fc.integer({ min: 0, max: REDUCE_OPS.length - 1 }),
          fc.constantFrom<DT>("f32", "i32", "u8"),
          fc.boolean(),
          fc.integer(),
          (outer, n, inner, op, dt, ties, seed) => checkReduce(op, dt, outer, n, inner, seed, ties),
        ),
        { numRuns: 400 },
      );
    });

    it("reduce: long rows, threaded paths, -Infinity and NaN rows", () => {
      const shapes: [number, number, number][] = [
        [1, 70000, 1],
        [1, 300_000, 1],
        [3, 70000, 1],
        [1000, 100, 1],
        [2, 1000, 300],
        [1, 3, 70000],
        [70000, 1, 1],
        [1, 1, 1],
        [5, 17, 33],
      ];
      for (const [outer, n, inner] of shapes) {
        for (let op = 0; op < REDUCE_OPS.length; op++) {
          checkReduce(op, "f32", outer, n, inner, outer + n + op, outer * n * inner < 100000 && op % 2 === 0);
        }
      }
      for (let op = 0; op < REDUCE_OPS.length; op++) {
        for (const inner of [1, 5]) {
          // rows: all -inf; -inf and finite; NaN in the middle; +inf
          const n = 37;
          const x = new Float32Array(4 * n * inner);
          for (let i = 0; i < n * inner; i++) {
            x[i] = -Infinity;
            x[n * inner + i] = i % 3 === 0 ? -Infinity : i * 0.1;
            x[2 * n * inner + i] = i === 17 * inner ? NaN : i;
            x[3 * n * inner + i] = i % 4 === 0 ? Infinity : -i;
          }
          const arg = REDUCE_OPS[op] === "argmax" || REDUCE_OPS[op] === "argmin";
          const a = arg ? new Int32Array(4 * inner) : new Float32Array(4 * inner);
          const e = arg ? new Int32Array(4 * inner) : new Float32Array(4 * inner);
          native.reduce(op, x, a, 4, n, inner);
          ts.reduce(op, x, e, 4, n, inner);
          expectClose(`reduce ${REDUCE_OPS[op]} special rows inner=${inner}`, a, e, { rtol: 1e-5, atol: 1e-6 });
        }
      }
    });

    for (const gemm of ["builtin", "openblas"] as const) {
      describe(`matmul (${gemm})`, () => {
        let before: "builtin" | "openblas" = "builtin";
        beforeAll(() => {
          before = addon.info().blas;
        });
        afterAll(() => {
          addon.setGemm(before);
        });

        it.skipIf(gemm === "openblas" && !addon.info().openblas)("random shapes, transposes, batch strides (property)", () => {
          addon.setGemm(gemm);
          fc.assert(
            fc.property(
              fc.integer({ min: 1, max: 3 }),
              fc.integer({ min: 0, max: 40 }),
              fc.integer({ min: 0, max: 40 }),
              fc.integer({ min: 0, max: 40 }),
              fc.boolean(),
              fc.boolean(),
              fc.boolean(),
              fc.boolean(),
              fc.integer(),
              (batch, m, n, k, ta, tb, bcA, bcB, seed) => checkMatmul(batch, m, n, k, ta, tb, bcA, bcB, seed),
            ),
            { numRuns: 300 },
          );
        });

        it.skipIf(gemm === "openblas" && !addon.info().openblas)("large and threaded products, edge tiles, vectors", () => {
          addon.setGemm(gemm);
          const cases: [number, number, number, number][] = [
            [1, 256, 256, 256],
            [1, 131, 517, 77],
            [1, 300, 70, 400],
            [1, 1, 1000, 300],
            [1, 1000, 1, 300],
            [1, 1, 1, 5000],
            [3, 64, 48, 40],
            [16, 33, 17, 65],
            [2, 13, 800, 9],
            [1, 800, 13, 9],
            [1, 4, 2000, 600],
          ];
          for (const [batch, m, n, k] of cases) {
            for (const [ta, tb] of [
              [false, false],
              [true, false],
              [false, true],
              [true, true],
            ] as const) {
              checkMatmul(batch, m, n, k, ta, tb, false, batch > 2, m * n + k);
            }
          }
        });
      });
    }

    it("softmax / log-softmax and their gradients, with -Infinity and NaN rows", () => {
      for (const log of [false, true]) {
        for (const [outer, n] of [
          [0, 5],
          [1, 1],
          [3, 7],
          [5, 17],
          [2, 33],
          [4, 1000],
          [700, 100],
          [1, 70000],
        ] as const) {
          const x = fill("f32", outer * n, outer * 100 + n, { scale: 8 }) as Float32Array;
          if (outer >= 3) {
            for (let j = 0; j < n; j++) x[j] = -Infinity; // all -inf row
            for (let j = 0; j < n; j += 2) x[n + j] = -Infinity; // partly -inf
            x[2 * n + Math.floor(n / 2)] = NaN;
          }
          const a = new Float32Array(outer * n);
          const e = new Float32Array(outer * n);
          native.softmax(x, a, outer, n, log);
          ts.softmax(x, e, outer, n, log);
          expectClose(`softmax log=${log} (${outer}, ${n})`, a, e, log ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-5, atol: 1e-7 });
          if (outer >= 3) {
            for (let j = 0; j < n; j++) expect(a[j]).toBe(log ? -Infinity : 0);
          }
          const dy = fill("f32", outer * n, n + 5, { scale: 1 }) as Float32Array;
          const ga = new Float32Array(outer * n);
          const ge = new Float32Array(outer * n);
          native.softmaxGrad(e, dy, ga, outer, n, log);
          ts.softmaxGrad(e, dy, ge, outer, n, log);
          expectClose(`softmaxGrad log=${log} (${outer}, ${n})`, ga, ge, { rtol: 1e-4, atol: 1e-5 });
        }
      }
    });

    it("layerNorm and its gradient, with and without affine parameters", () => {
      for (const [outer, n] of [
        [0, 4],
        [1, 1],
        [3, 7],
        [5, 17],
        [2, 33],
        [4, 1000],
        [300, 300],
        [700, 100],
        [1, 70000],
      ] as const) {
        for (const affine of [0, 1, 2, 3]) {
          const x = fill("f32", outer * n, outer + n + affine, { scale: 3 }) as Float32Array;
          for (let i = 0; i < x.length; i += 3) x[i] = x[i]! + 5; // a nonzero mean
          const gamma = affine & 1 ? (fill("f32", n, 9, { scale: 2 }) as Float32Array) : null;
          const beta = affine & 2 ? (fill("f32", n, 10, { scale: 2 }) as Float32Array) : null;
          const r = [0, 1].map(() => ({
            out: new Float32Array(outer * n),
            mean: new Float32Array(outer),
            rstd: new Float32Array(outer),
          }));
          native.layerNorm(x, gamma, beta, r[0]!.out, r[0]!.mean, r[0]!.rstd, outer, n, 1e-5);
          ts.layerNorm(x, gamma, beta, r[1]!.out, r[1]!.mean, r[1]!.rstd, outer, n, 1e-5);
          const tol = { rtol: 1e-4, atol: 1e-4 };
          expectClose(`layerNorm out (${outer}, ${n}) affine=${affine}`, r[0]!.out, r[1]!.out, tol);
          expectClose(`layerNorm mean (${outer}, ${n})`, r[0]!.mean, r[1]!.mean, tol);
          expectClose(`layerNorm rstd (${outer}, ${n})`, r[0]!.rstd, r[1]!.rstd, tol);
          const dy = fill("f32", outer * n, n + 77, { scale: 1 }) as Float32Array;
          const g = [0, 1].map(() => ({
            dx: new Float32Array(outer * n),
            dgamma: affine & 1 ? new Float32Array(n).fill(123) : null,
            dbeta: affine & 2 ? new Float32Array(n).fill(123) : null,
          }));
          native.layerNormGrad(x, gamma, r[1]!.mean, r[1]!.rstd, dy, g[0]!.dx, g[0]!.dgamma, g[0]!.dbeta, outer, n);
          ts.layerNormGrad(x, gamma, r[1]!.mean, r[1]!.rstd, dy, g[1]!.dx, g[1]!.dgamma, g[1]!.dbeta, outer, n);
          expectClose(`layerNormGrad dx (${outer}, ${n}) affine=${affine}`, g[0]!.dx, g[1]!.dx, { rtol: 1e-3, atol: 1e-4 });
          if (g[0]!.dgamma) expectClose(`layerNormGrad dgamma (${outer}, ${n})`, g[0]!.dgamma, g[1]!.dgamma!, { rtol: 1e-4, atol: 1e-3 });
          if (g[0]!.dbeta) expectClose(`layerNormGrad dbeta (${outer}, ${n})`, g[0]!.dbeta, g[1]!.dbeta!, { rtol: 1e-4, atol: 1e-3 });
        }
      }
    });
  });

  it("stridedCopy / stridedScatter: zero, negative and permuted strides (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: -2, max: 3 }), { minLength: 4, maxLength: 4 }),
        fc.constantFrom<DT>("f32", "i32", "u8"),
        fc.boolean(),
        fc.integer(),
        (shape, mult, dt, accumulate, seed) => {
          // strides: a multiple of the contiguous stride (0 = broadcast, negative = reversed)
          const base = stridesOf(shape);
          const strides = shape.map((_, i) => base[i]! * mult[i]!);
          // offset so that every index stays in range
          let lo = 0;
          let hi = 0;
          shape.forEach((d, i) => {
            if (d === 0) return;
            const s = strides[i]! * (d - 1);
            if (s < 0) lo += s;
            else hi += s;
          });
          const offset = -lo;
          const srcLen = sizeOf(shape) === 0 ? 0 : hi - lo + 1;
          const layout = packLayout(shape, [strides]);
          const x = fill(dt, srcLen, seed, { specials: true });
          const a = alloc(dt, sizeOf(shape));
          const e = alloc(dt, sizeOf(shape));
          if (sizeOf(shape) > 0) {
            native.stridedCopy(x, a, offset, layout);
            ts.stridedCopy(x, e, offset, layout);
          }
          expectClose(`stridedCopy ${dt} ${JSON.stringify([shape, strides])}`, a, e);
          const src = fill(dt, sizeOf(shape), seed + 1, { specials: true });
          const o1 = fill(dt, srcLen, seed + 2);
          const o2 = o1.slice();
          if (sizeOf(shape) > 0) {
            native.stridedScatter(src, o1, offset, layout, accumulate);
            ts.stridedScatter(src, o2, offset, layout, accumulate);
          }
          expectClose(`stridedScatter ${dt} acc=${accumulate} ${JSON.stringify([shape, strides])}`, o1, o2);
        },
      ),
      { numRuns: 300 },
    );
    // threaded copy of a transposed matrix
    const x = fill("f32", 400 * 300, 1);
    const layout = packLayout([300, 400], [[1, 300]]);
    const a = new Float32Array(400 * 300);
    const e = new Float32Array(400 * 300);
    native.stridedCopy(x, a, 0, layout);
    ts.stridedCopy(x, e, 0, layout);
    expectClose("stridedCopy transpose", a, e);
  });

  it("gather / scatterAdd / indexSelect / indexAdd (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom<DT>("f32", "i32", "u8"),
        fc.integer(),
        (outer, n, inner, k, dt, seed) => {
          const r = rng(seed);
          const x = fill(dt, outer * n * inner, seed, { specials: true });
          const idx = Int32Array.from({ length: outer * k * inner }, () => Math.floor(r() * n));
          const rows = Int32Array.from({ length: k }, () => Math.floor(r() * n));
          const src = fill(dt, outer * k * inner, seed + 1, { specials: true });
          const cases: [string, (kk: Kernels, out: TypedArray) => void, () => TypedArray][] = [
            ["gather", (kk, out) => kk.gather(x, idx, out, outer, n, inner, k), () => alloc(dt, outer * k * inner)],
            ["indexSelect", (kk, out) => kk.indexSelect(x, rows, out, outer, n, inner, k), () => alloc(dt, outer * k * inner)],
            ["scatterAdd", (kk, out) => kk.scatterAdd(src, idx, out, outer, n, inner, k), () => fill(dt, outer * n * inner, seed + 2)],
            ["indexAdd", (kk, out) => kk.indexAdd(src, rows, out, outer, n, inner, k), () => fill(dt, outer * n * inner, seed + 2)],
          ];
          for (const [name, run, make] of cases) {
            const a = make();
            const e = make();
            run(native, a);
            run(ts, e);
            expectClose(`${name} ${dt} (${outer}, ${n}, ${inner}, ${k})`, a, e);
          }
        },
      ),
      { numRuns: 300 },
    );
    // threaded sizes
    const [outer, n, inner, k] = [4, 50, 400, 60];
    const x = fill("f32", outer * n * inner, 3);
    const src = fill("f32", outer * k * inner, 4);
    const r = rng(5);
    const idx = Int32Array.from({ length: outer * k * inner }, () => Math.floor(r() * n));
    const rows = Int32Array.from({ length: k }, () => Math.floor(r() * n));
    for (const [name, run, len] of [
      ["gather", (kk: Kernels, o: TypedArray) => kk.gather(x, idx, o, outer, n, inner, k), outer * k * inner],
      ["indexSelect", (kk: Kernels, o: TypedArray) => kk.indexSelect(x, rows, o, outer, n, inner, k), outer * k * inner],
      ["scatterAdd", (kk: Kernels, o: TypedArray) => kk.scatterAdd(src, idx, o, outer, n, inner, k), outer * n * inner],
      ["indexAdd", (kk: Kernels, o: TypedArray) => kk.indexAdd(src, rows, o, outer, n, inner, k), outer * n * inner],
    ] as const) {
      const a = new Float32Array(len);
      const e = new Float32Array(len);
      run(native, a);
      run(ts, e);
      expectClose(`${name} threaded`, a, e);
    }
  });

  it("cast between float32, int32 and bool", () => {
    for (const from of ["f32", "i32", "u8"] as DT[]) {
      for (const to of ["f32", "i32", "u8", "f64"] as DT[]) {
        for (const n of [0, 1, 17, 70000]) {
          const x = fill(from, n, n + 1, { specials: true, scale: 3e9 });
          const a = alloc(to, n);
          const e = alloc(to, n);
          native.cast(x, a);
          ts.cast(x, e);
          expectClose(`cast ${from} -> ${to} n=${n}`, a, e);
        }
      }
    }
  });

  it("tri: lower and upper, any diagonal", () => {
    for (const dt of ["f32", "i32", "u8"] as DT[]) {
      for (const [batch, rows, cols] of [
        [0, 3, 3],
        [1, 1, 1],
        [2, 5, 7],
        [3, 9, 4],
        [2, 300, 200],
      ] as const) {
        for (const diag of [-10, -2, -1, 0, 1, 3, 12]) {
          for (const upper of [false, true]) {
            const x = fill(dt, batch * rows * cols, rows + diag);
            const a = alloc(dt, x.length);
            const e = alloc(dt, x.length);
            native.tri(x, a, batch, rows, cols, diag, upper);
            ts.tri(x, e, batch, rows, cols, diag, upper);
            expectClose(`tri ${dt} (${batch}, ${rows}, ${cols}) diag=${diag} upper=${upper}`, a, e);
          }
        }
      }
    }
  });
});

// ---------------------------------------------------------------- property bodies

function checkBinary(op: number, dt: DT, sa: number[], sb: number[], out: number[], layout: Int32Array, seed: number): void {
  const name = BINARY_OPS[op]!;
  const boolOut = op >= opCode(BINARY_OPS, "eq");
  // ts reference semantics for int32 division: only int32 / int32 -> int32 truncates
  const x = fill(dt, sizeOf(sa), seed, { specials: true, lo: -50, hi: 50 });
  const y = fill(dt, sizeOf(sb), seed + 1, { specials: true, lo: -50, hi: 50 });
  if (dt === "f32" && (name === "eq" || name === "ne" || name === "le" || name === "ge")) {
    // make equal pairs likely
    for (let i = 0; i < Math.min(x.length, y.length); i += 3) y[i] = x[i]!;
  }
  if (name === "pow" && dt !== "f32") {
    // integer powers must stay below 2^53 for the result to be exact (otherwise it depends on the
    // libm's last bit before the int32 wrap)
    for (let i = 0; i < y.length; i++) y[i] = Math.abs(y[i]!) % 6;
  }
  const outDt: DT = boolOut ? "u8" : dt;
  const a = alloc(outDt, sizeOf(out));
  const e = alloc(outDt, sizeOf(out));
  native.binary(op, x, y, a, layout);
  ts.binary(op, x, y, e, layout);
  // pow: C's pow and V8's Math.pow may differ in the last bit of the double
  expectClose(`binary ${name} ${dt} ${JSON.stringify([sa, sb])}`, a, e, name === "pow" ? { rtol: 2e-7, atol: 1e-44 } : EXACT);
}

function checkReduce(op: number, dt: DT, outer: number, n: number, inner: number, seed: number, ties: boolean): void {
  const name = REDUCE_OPS[op]!;
  const arg = name === "argmax" || name === "argmin";
  const x = fill(dt, outer * n * inner, seed, { lo: -20, hi: 20 });
  if (ties && dt === "f32") for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i]! / 4);
  if (name === "prod" && dt === "f32") for (let i = 0; i < x.length; i++) x[i] = 1 + x[i]! / 100;
  const outDt: DT = arg ? "i32" : dt === "u8" ? "i32" : dt;
  const a = alloc(outDt, outer * inner);
  const e = alloc(outDt, outer * inner);
  native.reduce(op, x, a, outer, n, inner);
  ts.reduce(op, x, e, outer, n, inner);
  if (dt !== "f32" || arg || name === "max" || name === "min") {
    expectClose(`reduce ${name} ${dt} (${outer}, ${n}, ${inner})`, a, e);
    return;
  }
  // sums are pairwise in float32: bound the error by the sum of magnitudes
  const absX = Float32Array.from(x as Float32Array, Math.abs);
  const scale = new Float32Array(outer * inner);
  ts.reduce(opCode(REDUCE_OPS, "sum"), absX, scale, outer, n, inner);
  if (name === "mean") for (let i = 0; i < scale.length; i++) scale[i] = scale[i]! / n;
  if (name === "prod" || name === "logSumExp") expectClose(`reduce ${name} (${outer}, ${n}, ${inner})`, a, e, { rtol: 1e-5, atol: 1e-6 });
  else expectClose(`reduce ${name} (${outer}, ${n}, ${inner})`, a, e, { rtol: 1e-5, atol: 1e-30 }, scale);
}

function checkMatmul(
  batch: number,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
  bcA: boolean,
  bcB: boolean,
  seed: number,
): void {
  const sizeA = m * k;
  const sizeB = k * n;
  const strideA = bcA && batch > 1 ? 0 : sizeA;
  const strideB = bcB && batch > 1 ? 0 : sizeB;
  const A = fill("f32", strideA === 0 ? sizeA : batch * sizeA, seed, { scale: 1 }) as Float32Array;
  const B = fill("f32", strideB === 0 ? sizeB : batch * sizeB, seed + 1, { scale: 1 }) as Float32Array;
  const a = new Float32Array(batch * m * n).fill(NaN); // every element must be written
  const e = new Float32Array(batch * m * n);
  native.matmul(A, B, a, batch, m, n, k, ta, tb, strideA, strideB);
  ts.matmul(A, B, e, batch, m, n, k, ta, tb, strideA, strideB);
  const scale = new Float32Array(batch * m * n);
  ts.matmul(A.map(Math.abs), B.map(Math.abs), scale, batch, m, n, k, ta, tb, strideA, strideB);
  expectClose(
    `matmul batch=${batch} (${m}, ${n}, ${k}) ta=${ta} tb=${tb} sA=${strideA} sB=${strideB}`,
    a,
    e,
    { rtol: 1e-5, atol: 1e-30 },
    scale,
  );
}
