/**
 * native == ts at the op level: every property builds the same float32 inputs on both backends,
 * runs an op (forward, then backward with a random seed gradient) and compares the outputs and the
 * leaf gradients. Shapes are random with empty and size-1 axes, sizes off the SIMD widths, and
 * now and then a few thousand to ~80k elements so the native threaded paths run. The kernel-level
 * comparison lives in test/backend/native-kernels.test.ts; this file checks what the op layer
 * builds on top (layouts, broadcasting, axis plans, transposes, composite backward rules).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { rng } from "../helpers/rng.js";

const NATIVE = eg.backendInfo().nativeAvailable;
const SEED = 0x5eed;
const RUNS = 60;

// ---------------------------------------------------------------- data

/** Uniform float32 values on [lo, hi); `step` quantises them so ties and exact zeros occur. */
function floats(n: number, seed: number, lo = -3, hi = 3, step = 0): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lo + (hi - lo) * r();
    a[i] = step > 0 ? Math.round(v / step) * step : v;
  }
  return a;
}

function ints(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = rng(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(r() * (hi - lo));
  return a;
}

function bools(n: number, seed: number, pTrue: number): Uint8Array {
  const r = rng(seed);
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = r() < pTrue ? 1 : 0;
  return a;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Halves the largest axis until the shape holds at most `max` elements. */
function cap(shape: number[], max: number): number[] {
  const s = [...shape];
  while (sizeOf(s) > max) {
    const i = s.indexOf(Math.max(...s));
    s[i] = Math.floor(s[i]! / 2);
  }
  return s;
}

// ---------------------------------------------------------------- arbitraries

const dimArb = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(0, 1) }, { weight: 7, arbitrary: fc.integer({ min: 2, max: 37 }) });
/** Sizes that cross the native threading thresholds (8k elements for heavy ops, 64k for cheap ones). */
const bigDimArb = fc.integer({ min: 100, max: 3000 });

function shapeArb(minRank: number, maxRank: number, maxSize = 80_000): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.array(dimArb, { minLength: minRank, maxLength: maxRank }), fc.option(fc.tuple(fc.nat(), bigDimArb), { freq: 4 }))
    .map(([s, big]) => {
      if (big && s.length > 0) s[big[0] % s.length] = big[1];
      return cap(s, maxSize);
    });
}

/** A shape that broadcasts to `out`: some axes set to 1, some leading axes dropped. */
function broadcastFrom(out: readonly number[], seed: number): number[] {
  const r = rng(seed);
  const s = out.map((d) => (r() < 0.3 ? 1 : d));
  return s.slice(Math.floor(r() * (s.length + 1) * 0.5));
}

// ---------------------------------------------------------------- running on both backends

interface Input {
  data: Float32Array | Int32Array | Uint8Array;
  shape: readonly number[];
  /** Leaf requires grad (float inputs only). */
  grad?: boolean;
}

interface Result {
  out: eg.Tensor;
  grads: (eg.Tensor | null)[];
}

function onBackend<T>(name: eg.BackendName, f: () => T): T {
  const prev = eg.getBackend();
  eg.setBackend(name);
  try {
    return f();
  } finally {
    eg.setBackend(prev);
  }
}

/** Builds fresh leaves, runs op, then backward with a random seed gradient of the output's shape. */
function runOp(inputs: readonly Input[], op: (...xs: eg.Tensor[]) => eg.Tensor, seed: number): Result {
  const leaves = inputs.map((i) => eg.tensor(i.data, { shape: i.shape, requiresGrad: i.grad === true }));
  const out = op(...leaves);
  if (out.requiresGrad) out.backward(eg.tensor(floats(out.size, seed ^ 0x9e3779b9), { shape: out.shape }));
  return { out, grads: leaves.map((l) => l.grad) };
}

interface Tol {
  rtol: number;
  atol: number;
}
const EXACT: Tol = { rtol: 0, atol: 0 };

function expectClose(what: string, actual: eg.Tensor, expected: eg.Tensor, tol: Tol): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype);
  const a = actual.data;
  const e = expected.data;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (x === y || (x !== x && y !== y)) continue;
    if (Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y)) continue;
    throw new Error(`${what}: element ${i} of ${actual.size}: native ${x} vs ts ${y} (tolerance ${JSON.stringify(tol)})`);
  }
}

/** Runs the op on both backends and compares the output (tolerance `tol`) and every gradient (`gradTol`). */
function check(
  what: string,
  inputs: readonly Input[],
  op: (...xs: eg.Tensor[]) => eg.Tensor,
  seed: number,
  tol: Tol,
  gradTol: Tol = tol,
): void {
  const n = onBackend("native", () => runOp(inputs, op, seed));
  const t = onBackend("ts", () => runOp(inputs, op, seed));
  expectClose(`${what} output`, n.out, t.out, tol);
  n.grads.forEach((g, i) => {
    const r = t.grads[i]!;
    if (g === null || r === null) {
      expect(g === null, `${what}: input ${i} has a gradient on one backend only`).toBe(r === null);
      return;
    }
    expectClose(`${what} grad of input ${i}`, g, r, gradTol);
  });
}

const f32 = (shape: readonly number[], seed: number, grad = true, lo = -3, hi = 3, step = 0): Input => ({
  data: floats(sizeOf(shape), seed, lo, hi, step),
  shape,
  grad,
});

// ---------------------------------------------------------------- properties

describe.skipIf(!NATIVE)("native == ts at the op level (float32)", () => {
  type UnaryCase = readonly [name: string, fn: (x: eg.Tensor) => eg.Tensor, domain: "any" | "positive"];
  const UNARY: readonly UnaryCase[] = [
    ["neg", eg.neg, "any"],
    ["abs", eg.abs, "any"],
    ["sign", eg.sign, "any"],
    ["exp", eg.exp, "any"],
    ["log", eg.log, "positive"],
    ["log1p", eg.log1p, "positive"],
    ["sqrt", eg.sqrt, "positive"],
    ["rsqrt", eg.rsqrt, "positive"],
    ["square", eg.square, "any"],
    ["reciprocal", eg.reciprocal, "positive"],
    ["sin", eg.sin, "any"],
    ["cos", eg.cos, "any"],
    ["floor", eg.floor, "any"],
    ["ceil", eg.ceil, "any"],
    ["round", eg.round, "any"],
    ["erf", eg.erf, "any"],
    ["relu", eg.relu, "any"],
    ["sigmoid", eg.sigmoid, "any"],
    ["tanh", eg.tanh, "any"],
    ["silu", eg.silu, "any"],
    ["gelu", (x) => eg.gelu(x), "any"],
    ["gelu(tanh)", (x) => eg.gelu(x, { approximate: "tanh" }), "any"],
    ["softplus", (x) => eg.softplus(x), "any"],
    ["softplus(beta=2)", (x) => eg.softplus(x, { beta: 2 }), "any"],
    ["elu(1.3)", (x) => eg.elu(x, 1.3), "any"],
    ["leakyRelu(0.2)", (x) => eg.leakyRelu(x, 0.2), "any"],
    ["clamp(-1, 1.5)", (x) => eg.clamp(x, -1, 1.5), "any"],
    ["pow(x, 3)", (x) => eg.pow(x, 3), "any"],
    ["pow(x, 2.5)", (x) => eg.pow(x, 2.5), "positive"],
    ["x * 2.5 - 1", (x) => eg.sub(eg.mul(x, 2.5), 1), "any"],
    ["1 / x", (x) => eg.div(1, x), "positive"],
    ["isFinite", eg.isFinite, "any"],
  ];

  it("unary ops and activations", () => {
    fc.assert(
      fc.property(fc.constantFrom(...UNARY), shapeArb(0, 4), fc.integer(), ([name, fn, domain], shape, seed) => {
        const x = domain === "positive" ? f32(shape, seed, true, 0.05, 4) : f32(shape, seed);
        check(`${name} ${JSON.stringify(shape)}`, [x], fn, seed, { rtol: 1e-5, atol: 1e-6 }, { rtol: 2e-5, atol: 1e-6 });
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });

  type BinaryCase = readonly [name: string, fn: (a: eg.Tensor, b: eg.Tensor) => eg.Tensor, kind: "quantised" | "divisor" | "powBase"];
  const BINARY: readonly BinaryCase[] = [
    ["add", eg.add, "quantised"],
    ["sub", eg.sub, "quantised"],
    ["mul", eg.mul, "quantised"],
    ["div", eg.div, "divisor"],
    ["pow", eg.pow, "powBase"],
    ["minimum", eg.minimum, "quantised"],
    ["maximum", eg.maximum, "quantised"],
    ["eq", eg.eq, "quantised"],
    ["ne", eg.ne, "quantised"],
    ["lt", eg.lt, "quantised"],
    ["le", eg.le, "quantised"],
    ["gt", eg.gt, "quantised"],
    ["ge", eg.ge, "quantised"],
    ["where(a > 0, a, b)", (a, b) => eg.where(eg.gt(a, 0), a, b), "quantised"],
  ];

  it("broadcasting binary ops", () => {
    fc.assert(
      fc.property(fc.constantFrom(...BINARY), shapeArb(0, 4), fc.integer(), fc.boolean(), ([name, fn, kind], shape, seed, swap) => {
        let sa = broadcastFrom(shape, seed);
        let sb = broadcastFrom(shape, seed + 1);
        if (swap) [sa, sb] = [sb, sa];
        // quantised values make ties (min/max split the gradient) and equal elements (comparisons)
        const a = kind === "powBase" ? f32(sa, seed, true, 0.1, 3) : f32(sa, seed, true, -3, 3, 0.5);
        const b =
          kind === "divisor"
            ? f32(sb, seed + 2, true, 0.5, 3)
            : kind === "powBase"
              ? f32(sb, seed + 2, true, -2, 2)
              : f32(sb, seed + 2, true, -3, 3, 0.5);
        // a broadcast gradient sums up to (output size / input size) terms
        const fan = Math.max(1, sizeOf(shape)) / Math.max(1, Math.min(sizeOf(sa), sizeOf(sb)));
        check(
          `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`,
          [a, b],
          fn,
          seed,
          { rtol: 1e-5, atol: 1e-6 },
          { rtol: 1e-5, atol: 1e-6 * fan * 10 },
        );
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });

  type ReduceCase = readonly [name: string, fn: (x: eg.Tensor, axes: number[], keepDim: boolean) => eg.Tensor, needsNonEmpty: boolean];
  const REDUCE: readonly ReduceCase[] = [
    ["sum", (x, axes, keepDim) => eg.sum(x, axes, { keepDim }), false],
    ["mean", (x, axes, keepDim) => eg.mean(x, axes, { keepDim }), false],
    ["max", (x, axes, keepDim) => eg.max(x, axes, { keepDim }), true],
    ["min", (x, axes, keepDim) => eg.min(x, axes, { keepDim }), true],
    ["prod", (x, axes, keepDim) => eg.prod(x, axes, { keepDim }), false],
    ["logSumExp", (x, axes, keepDim) => eg.logSumExp(x, axes, { keepDim }), false],
    ["var", (x, axes, keepDim) => eg.variance(x, axes, { keepDim }), false],
    ["std(correction 0)", (x, axes, keepDim) => eg.std(x, axes, { keepDim, correction: 0 }), false],
    ["norm", (x, axes, keepDim) => eg.norm(x, 2, axes, { keepDim }), false],
    ["norm(p=3)", (x, axes, keepDim) => eg.norm(x, 3, axes, { keepDim }), false],
    ["argmax", (x, axes, keepDim) => eg.argmax(x, axes[0], { keepDim }), true],
    ["argmin", (x, axes, keepDim) => eg.argmin(x, axes[0], { keepDim }), true],
  ];

  it("reductions over random axes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REDUCE),
        shapeArb(1, 4),
        fc.array(fc.integer({ min: -4, max: 3 }), { maxLength: 4 }),
        fc.boolean(),
        fc.integer(),
        ([name, fn, needsNonEmpty], shape, axesRaw, keepDim, seed) => {
          const nd = shape.length;
          const axes = [...new Set(axesRaw.map((a) => ((a % nd) + nd) % nd))];
          if (name.startsWith("arg") && axes.length === 0) axes.push(0);
          const n = axes.length === 0 ? sizeOf(shape) : sizeOf(axes.map((a) => shape[a]!));
          if (needsNonEmpty && n === 0) return;
          // products of many values stay in float32 range when the factors are near 1
          const x = name === "prod" ? f32(shape, seed, true, 0.8, 1.25) : f32(shape, seed);
          const tol = { rtol: 2e-6 * (n + 8), atol: 2e-6 * (n + 8) };
          check(
            `${name} ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keepDim=${keepDim}`,
            [x],
            (t) => fn(t, axes, keepDim),
            seed,
            tol,
          );
        },
      ),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });

  it("matmul with transposes, vectors and batch broadcasting", () => {
    const mnk = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(0, 1) },
      { weight: 6, arbitrary: fc.integer({ min: 2, max: 37 }) },
      { weight: 1, arbitrary: fc.integer({ min: 60, max: 130 }) },
    );
    const batchArb = fc.array(fc.constantFrom(1, 2, 3), { maxLength: 2 });
    fc.assert(
      fc.property(
        fc.tuple(mnk, mnk, mnk),
        batchArb,
        fc.integer(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("matrix", "matrix", "matrix", "vecA", "vecB"),
        ([m, n, k], batch, seed, ta, tb, form) => {
          let sa = [...broadcastFrom(batch, seed), ...(ta ? [k, m] : [m, k])];
          let sb = [...broadcastFrom(batch, seed + 1), ...(tb ? [n, k] : [k, n])];
          if (form === "vecA") sa = [k];
          if (form === "vecB") sb = [k];
          const a = f32(sa, seed);
          const b = f32(sb, seed + 2);
          // float32 GEMMs differ in summation order: error grows with the reduction length
          const span = Math.max(m, n, k) * Math.max(1, sizeOf(batch));
          check(
            `matmul ${JSON.stringify(sa)}${ta ? "^T" : ""} @ ${JSON.stringify(sb)}${tb ? "^T" : ""}`,
            [a, b],
            (x, y) => eg.matmul(x, y, { transA: ta, transB: tb }),
            seed,
            { rtol: 1e-5, atol: 2e-5 * (k + 1) },
            { rtol: 1e-5, atol: 2e-5 * (span + 1) },
          );
        },
      ),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it("matmul of a batched (..., m, 0) operand with a (0, n) matrix gives zeros", () => {
    const out = eg.matmul(eg.ones([3, 2, 0]), eg.ones([0, 4]));
    expect(out.shape).toEqual([3, 2, 4]);
    expect(Array.from(out.data)).toEqual(new Array<number>(24).fill(0));
  });

  it("softmax and logSoftmax with masks and temperature", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4, 20_000),
        fc.integer({ min: -4, max: 3 }),
        fc.constantFrom("none", "random", "sparse"),
        fc.constantFrom(undefined, 0.5, 2),
        fc.boolean(),
        fc.integer(),
        (shape, axisRaw, maskKind, temperature, isLog, seed) => {
          const axis = axisRaw % shape.length;
          const inputs: Input[] = [f32(shape, seed, true, -6, 6)];
          if (maskKind !== "none") {
            const ms = broadcastFrom(shape, seed + 3);
            // sparse masks leave whole rows empty: zeros for softmax, -Infinity for logSoftmax
            inputs.push({ data: bools(sizeOf(ms), seed + 4, maskKind === "sparse" ? 0.1 : 0.7), shape: ms });
          }
          const fn = isLog ? eg.logSoftmax : eg.softmax;
          check(
            `${isLog ? "logSoftmax" : "softmax"} ${JSON.stringify(shape)} axis ${axis} mask ${maskKind} ${JSON.stringify(inputs[1]?.shape)} t=${temperature}`,
            inputs,
            (x, mask?: eg.Tensor) => fn(x, axis, { ...(mask ? { mask } : {}), ...(temperature ? { temperature } : {}) }),
            seed,
            { rtol: 1e-5, atol: 1e-6 },
            { rtol: 1e-4, atol: 1e-5 },
          );
        },
      ),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it("layerNorm with and without affine parameters", () => {
    fc.assert(
      fc.property(
        shapeArb(0, 2, 4000),
        fc.array(fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 37 }), fc.integer({ min: 100, max: 700 })), {
          minLength: 1,
          maxLength: 2,
        }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1e-5, 1e-3),
        fc.integer(),
        (lead, norm, withWeight, withBias, eps, seed) => {
          const ns = cap(norm, 2000);
          const shape = [...lead, ...ns];
          const inputs = [f32(shape, seed), f32(ns, seed + 1, withWeight, 0.5, 2), f32(ns, seed + 2, withBias)];
          const outer = sizeOf(lead);
          check(
            `layerNorm ${JSON.stringify(shape)} normalizedShape ${JSON.stringify(ns)} weight=${withWeight} bias=${withBias}`,
            inputs,
            (x, w, b) => eg.layerNorm(x, ns, withWeight ? w : null, withBias ? b : null, eps),
            seed,
            { rtol: 1e-4, atol: 1e-4 },
            // dweight and dbias sum over the outer rows
            { rtol: 1e-3, atol: 1e-4 * (outer + 10) },
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("crossEntropy with class indices and probabilities", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 37 }),
        fc.option(fc.integer({ min: 1, max: 9 }), { freq: 3 }),
        fc.constantFrom("mean", "sum", "none") as fc.Arbitrary<eg.Reduction>,
        fc.constantFrom(0, 0.1),
        fc.boolean(),
        fc.constantFrom("indices", "indices", "probabilities"),
        fc.integer(),
        (nb, c, spatial, reduction, labelSmoothing, withWeight, targetKind, seed) => {
          const shape = spatial === null ? [nb, c] : [nb, c, spatial];
          const tshape = spatial === null ? [nb] : [nb, spatial];
          const inputs: Input[] = [f32(shape, seed, true, -5, 5)];
          if (targetKind === "indices") {
            const t = ints(sizeOf(tshape), seed + 1, 0, c);
            t.forEach((v, i) => (t[i] = (i * 7) % 5 === 3 ? -100 : v)); // some ignored positions
            inputs.push({ data: t, shape: tshape });
          } else {
            inputs.push({ data: floats(sizeOf(shape), seed + 1, 0, 1), shape });
          }
          inputs.push(f32([c], seed + 2, false, 0.2, 2));
          check(
            `crossEntropy ${JSON.stringify(shape)} ${targetKind} ${reduction} smoothing=${labelSmoothing} weight=${withWeight}`,
            inputs,
            (x, t, w) => eg.crossEntropy(x, t, { reduction, labelSmoothing, ...(withWeight ? { weight: w } : {}) }),
            seed,
            { rtol: 1e-5, atol: 1e-5 * Math.sqrt(sizeOf(shape)) },
            { rtol: 1e-4, atol: 1e-6 },
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("gather, indexSelect and scatterAdd", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4, 20_000),
        fc.integer({ min: -4, max: 3 }),
        fc.integer({ min: 0, max: 9 }),
        fc.constantFrom("gather", "indexSelect", "scatterAdd"),
        fc.integer(),
        (shape, axisRaw, kRaw, op, seed) => {
          const axis = axisRaw % shape.length;
          const a = (axis + shape.length) % shape.length;
          const n = shape[a]!;
          const k = n === 0 ? 0 : kRaw;
          const ishape = [...shape];
          ishape[a] = k;
          const x = f32(shape, seed);
          const what = `${op} ${JSON.stringify(shape)} axis ${axis} k ${k}`;
          if (op === "indexSelect") {
            // negative entries count from the end
            check(what, [x, { data: ints(k, seed + 1, -n, n), shape: [k] }], (t, i) => eg.indexSelect(t, axis, i), seed, {
              rtol: 1e-6,
              atol: 1e-6,
            });
          } else if (op === "gather") {
            check(what, [x, { data: ints(sizeOf(ishape), seed + 1, 0, n), shape: ishape }], (t, i) => eg.gather(t, axis, i), seed, {
              rtol: 1e-6,
              atol: 1e-6,
            });
          } else {
            const idx: Input = { data: ints(sizeOf(ishape), seed + 1, 0, n), shape: ishape };
            check(what, [x, idx, f32(ishape, seed + 2)], (t, i, s) => eg.scatterAdd(t, axis, i, s), seed, {
              rtol: 1e-5,
              atol: 1e-5 * (k + 1),
            });
          }
        },
      ),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it("slice, permute, concat and expand", () => {
    const sliceSpec = fc.oneof(
      fc.constant(null),
      fc.integer({ min: -40, max: 40 }),
      fc.tuple(
        fc.option(fc.integer({ min: -40, max: 40 })),
        fc.option(fc.integer({ min: -40, max: 40 })),
        fc.constantFrom(1, 2, 3, -1, -2),
      ),
    );
    fc.assert(
      fc.property(
        shapeArb(1, 4, 20_000),
        fc.constantFrom("slice", "permute", "concat", "expand", "flip"),
        fc.array(sliceSpec, { maxLength: 4 }),
        fc.integer(),
        (shape, op, specsRaw, seed) => {
          const nd = shape.length;
          const r = rng(seed);
          const x = f32(shape, seed);
          const what = `${op} ${JSON.stringify(shape)}`;
          if (op === "slice") {
            // integer specs pick one index, so clamp them into range (or keep the axis when it is empty)
            const specs = specsRaw
              .slice(0, nd)
              .map((s, i) => (typeof s === "number" ? (shape[i]! === 0 ? null : ((s % shape[i]!) + shape[i]!) % shape[i]!) : s));
            check(`${what} ${JSON.stringify(specs)}`, [x], (t) => eg.slice(t, specs), seed, EXACT);
          } else if (op === "permute") {
            const perm = [...Array(nd).keys()].sort(() => r() - 0.5);
            check(`${what} ${JSON.stringify(perm)}`, [x], (t) => eg.permute(t, perm), seed, EXACT);
          } else if (op === "flip") {
            const axes = [...Array(nd).keys()].filter(() => r() < 0.5);
            check(`${what} ${JSON.stringify(axes)}`, [x], (t) => eg.flip(t, axes), seed, EXACT);
          } else if (op === "concat") {
            const axis = Math.floor(r() * nd);
            const given = r() < 0.5 ? axis - nd : axis; // the negative form names the same axis
            const parts = [0, 1, 2].slice(0, 2 + Math.floor(r() * 2)).map((p) => {
              const s = [...shape];
              s[axis] = Math.floor(r() * 6);
              return f32(s, seed + 10 + p);
            });
            check(`${what} axis ${axis} ${JSON.stringify(parts.map((p) => p.shape))}`, parts, (...ts) => eg.concat(ts, given), seed, EXACT);
          } else {
            const src = broadcastFrom(shape, seed + 5);
            const fan = Math.max(1, sizeOf(shape)) / Math.max(1, sizeOf(src));
            check(`${what} from ${JSON.stringify(src)}`, [f32(src, seed)], (t) => eg.expand(t, shape), seed, EXACT, {
              rtol: 1e-5,
              atol: 1e-6 * fan * 10,
            });
          }
        },
      ),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });
});
