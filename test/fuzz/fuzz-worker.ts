/**
 * Fuzz worker, run as a child process by native-fuzz.test.ts so that a crash in the native addon
 * kills this process and not the test runner:
 *
 *   ENGRAM_BACKEND=native node --import tsx test/fuzz/fuzz-worker.ts <seed> <calls> [huge-empty]
 *
 * Makes `calls` random calls across the op surface with mostly bad arguments (wrong shapes and
 * dtypes, null/undefined/strings/arrays for tensors, NaN/negative/huge/non-integer sizes, axes out
 * of range, out-of-range indices, disposed tensors) and some good ones, running backward on
 * results that need a gradient. Every thrown error is caught; anything that is not an EngramError
 * is a failure. With `huge-empty`, the worker also tries to make empty tensors with a 2**40
 * dimension (they hold no elements, but ops would allocate or loop along that dimension; the shape
 * check must refuse them). A few tensors are built over storage shorter than their shape (the
 * Tensor constructor must refuse them). Prints one JSON summary line (prefixed FUZZ-SUMMARY) and
 * exits 0; the parent checks the exit status, the signal and the summary. Deterministic: the same
 * seed makes the same calls.
 */
import * as eg from "../../src/index.js";
import { BINARY_OPS } from "../../src/backend/kernels.js";

type Loose = (...args: unknown[]) => unknown;
/** The fuzzer passes arguments of any type on purpose. */
const loose = (fn: unknown): Loose => fn as Loose;

class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/**
 * Sizes the library must reject, or accept only next to a zero dimension. Everything here is at
 * least 2**33 so that no accepted call can try to allocate gigabytes: the fuzzer looks for crashes
 * and wrong error types, not for out-of-memory.
 */
const HUGE = [2 ** 33, 2 ** 40, 1e12, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e300];
const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, -7, -(2 ** 40), 0.5, 1.5, -0.5, 1e-300, ...HUGE];
const JUNK: readonly unknown[] = [null, undefined, "a", "", "3", [], [1, 2], [[1], [2, 3]], {}, { shape: [2] }, true, false, () => 0];
const DTYPES: readonly unknown[] = ["float32", "float64", "int32", "bool", "float16", "", null, 3];

class Gen {
  /** Recently made tensors, reused so that disposed and graph-attached tensors come back. */
  private pool: eg.Tensor[] = [];
  constructor(
    readonly r: Rand,
    private readonly hugeEmpty: boolean,
  ) {}

  dim(): number {
    const r = this.r;
    return r.chance(0.1) ? 0 : r.chance(0.2) ? 1 : r.int(2, 5);
  }
  goodShape(maxRank = 4): number[] {
    return Array.from({ length: this.r.int(0, maxRank) }, () => this.dim());
  }
  badNumber(): number {
    return this.r.pick(BAD_NUMBERS);
  }
  junk(): unknown {
    return this.r.pick(JUNK);
  }
  /** Mostly a valid shape; otherwise one with a bad entry, or not an array at all. */
  shape(): unknown {
    const r = this.r;
    if (r.chance(0.6)) return this.goodShape();
    if (r.chance(0.7)) {
      const s: unknown[] = this.goodShape();
      s.splice(r.int(0, s.length), 0, r.chance(0.8) ? this.badNumber() : this.junk());
      return s;
    }
    return this.junk();
  }
  /** A number option: usually sensible, sometimes NaN, infinite, negative, huge or not a number. */
  num(good: () => number): unknown {
    const r = this.r;
    return r.chance(0.55) ? good() : r.chance(0.8) ? this.badNumber() : this.junk();
  }
  axis(ndim = 4): unknown {
    return this.num(() => this.r.int(-ndim - 1, ndim));
  }
  axes(ndim = 4): unknown {
    const r = this.r;
    if (r.chance(0.3)) return undefined;
    if (r.chance(0.4)) return this.axis(ndim);
    return Array.from({ length: r.int(0, 3) }, () => this.axis(ndim));
  }
  dtype(): unknown {
    return this.r.chance(0.7) ? this.r.pick(DTYPES.slice(0, 4)) : this.r.pick(DTYPES);
  }

  fill(t: eg.Tensor): eg.Tensor {
    const r = this.r;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (t.dtype === "bool") d[i] = r.chance(0.5) ? 1 : 0;
      else if (t.dtype === "int32") d[i] = r.int(-6, 10);
      else d[i] = r.chance(0.03) ? r.pick([NaN, Infinity, -Infinity, 0]) : (r.next() - 0.5) * 6;
    }
    return t;
  }

  /** A fresh tensor of a random (mostly float32) dtype, or an odd one: disposed, 0-d, a zero dim next to a 2**40 dim. */
  freshTensor(shape: number[] = this.goodShape()): eg.Tensor {
    const r = this.r;
    const dtype = r.pick(["float32", "float32", "float32", "float32", "float64", "int32", "int32", "bool"] as const);
    let t = this.fill(eg.zeros(shape, { dtype }));
    if (this.hugeEmpty && r.chance(0.05)) {
      try {
        t = eg.zeros([0, r.pick(HUGE)]);
      } catch {
        // rejected: the shape check limits every dimension, even next to a 0; keep the ordinary tensor
      }
    }
    if (r.chance(0.03)) {
      // storage that does not match the shape: the Tensor constructor must refuse it with an EngramError
      const size = t.size === 0 ? r.int(0, 2) : r.int(0, t.size - 1);
      t = new eg.Tensor(t.data.slice(0, size), shape, dtype);
    }
    if (dtype.startsWith("float") && r.chance(0.3)) t.requiresGrad = true;
    if (r.chance(0.04)) t.dispose();
    this.pool.push(t);
    if (this.pool.length > 32) this.pool.shift();
    return t;
  }
  tensor(shape?: number[]): eg.Tensor {
    if (shape === undefined && this.pool.length > 0 && this.r.chance(0.25)) return this.r.pick(this.pool);
    return this.freshTensor(shape);
  }
  /** A tensor most of the time, else anything. */
  arg(shape?: number[]): unknown {
    return this.r.chance(0.85) ? this.tensor(shape) : this.r.chance(0.5) ? this.junk() : this.badNumber();
  }
  /** A second operand that often broadcasts against `t` (same shape, axes set to 1, leading axes dropped). */
  partner(t: unknown): unknown {
    const r = this.r;
    if (!(t instanceof eg.Tensor) || r.chance(0.35)) return r.chance(0.2) ? r.pick([2, 0.5, -1, NaN]) : this.arg();
    const s = t.shape.map((d) => (r.chance(0.3) ? 1 : d)).slice(r.int(0, t.ndim));
    return this.tensor(s);
  }
  /** int32 indices (sometimes out of range or negative), or a float/bool tensor, or junk. */
  index(shape: number[] = this.goodShape(), lo = -2, hi = 6): unknown {
    const r = this.r;
    if (r.chance(0.1)) return this.arg(shape);
    const t = eg.zeros(shape, { dtype: "int32" });
    for (let i = 0; i < t.size; i++) t.data[i] = r.int(lo, hi);
    return t;
  }
  /** A shape like t's with the axis `axis` resized (for gather/scatter indices). */
  indexShapeFor(t: unknown, axis: unknown): number[] {
    if (!(t instanceof eg.Tensor) || typeof axis !== "number" || !Number.isInteger(axis) || t.ndim === 0) return this.goodShape();
    const s = [...t.shape];
    const a = ((axis % t.ndim) + t.ndim) % t.ndim;
    s[a] = this.r.int(0, 4);
    return this.r.chance(0.85) ? s : this.goodShape();
  }
}

interface OpCase {
  name: string;
  run: (g: Gen) => unknown;
}

const UNARY = [
  "neg",
  "abs",
  "sign",
  "exp",
  "log",
  "log1p",
  "sqrt",
  "rsqrt",
  "square",
  "reciprocal",
  "sin",
  "cos",
  "floor",
  "ceil",
  "round",
  "erf",
  "relu",
  "sigmoid",
  "tanh",
  "silu",
  "logicalNot",
  "isFinite",
] as const;
// every binary kernel op is also a public function of the same name
const BINARY = BINARY_OPS;
const REDUCE = ["sum", "mean", "max", "min", "prod", "logSumExp"] as const;
const EINSUM = ["ij,jk->ik", "bij,bjk->bik", "ij->ji", "i,i->", "ii", "ij,jk", "...ij->ij", "a,b,c", "ij->k", 3];

const fn = (name: string): Loose => loose((eg as unknown as Record<string, unknown>)[name]);

const OPS: OpCase[] = [
  ...UNARY.map((name) => ({ name, run: (g: Gen) => fn(name)(g.arg()) })),
  { name: "leakyRelu", run: (g) => eg.leakyRelu(g.arg() as eg.Tensor, g.num(() => 0.1) as number) },
  { name: "elu", run: (g) => eg.elu(g.arg() as eg.Tensor, g.num(() => 1) as number) },
  { name: "gelu", run: (g) => loose(eg.gelu)(g.arg(), { approximate: g.r.pick(["none", "tanh", "fast", undefined, null]) }) },
  { name: "softplus", run: (g) => loose(eg.softplus)(g.arg(), { beta: g.num(() => 2) }) },
  {
    name: "powScalar",
    run: (g) =>
      loose(eg.powScalar)(
        g.arg(),
        g.num(() => g.r.pick([2, 3, 0.5, -1])),
      ),
  },
  {
    name: "clamp",
    run: (g) => loose(eg.clamp)(g.arg(), g.r.chance(0.3) ? null : g.num(() => -1), g.r.chance(0.3) ? null : g.num(() => 1)),
  },
  { name: "cast", run: (g) => loose(eg.cast)(g.arg(), g.dtype()) },
  ...BINARY.map((name) => ({
    name,
    run: (g: Gen) => {
      const a = g.r.chance(0.1) ? g.r.pick([1, NaN, null]) : g.arg();
      return g.r.chance(0.5) ? fn(name)(a, g.partner(a)) : fn(name)(g.partner(a), a);
    },
  })),
  {
    name: "where",
    run: (g) => {
      const a = g.arg();
      const cond = g.r.chance(0.6) && a instanceof eg.Tensor ? eg.gt(eg.zeros(a.shape), g.r.pick([-1, 1])) : g.arg();
      return loose(eg.where)(cond, a, g.partner(a));
    },
  },
  ...REDUCE.map((name) => ({ name, run: (g: Gen) => fn(name)(g.arg(), g.axes(), { keepDim: g.r.chance(0.5) }) })),
  { name: "argmax", run: (g) => loose(eg.argmax)(g.arg(), g.r.chance(0.2) ? undefined : g.axis(), { keepDim: g.r.chance(0.5) }) },
  { name: "argmin", run: (g) => loose(eg.argmin)(g.arg(), g.r.chance(0.2) ? undefined : g.axis()) },
  { name: "variance", run: (g) => loose(eg.variance)(g.arg(), g.axes(), { correction: g.num(() => g.r.int(0, 2)) }) },
  { name: "std", run: (g) => loose(eg.std)(g.arg(), g.axes(), { correction: g.num(() => 1), keepDim: true }) },
  {
    name: "norm",
    run: (g) =>
      loose(eg.norm)(
        g.arg(),
        g.num(() => g.r.pick([1, 2, 3, Infinity])),
        g.axes(),
      ),
  },
  {
    name: "matmul",
    run: (g) => {
      const r = g.r;
      const [m, n, k] = [g.dim(), g.dim(), g.dim()];
      const ta = r.chance(0.3);
      const tb = r.chance(0.3);
      const batch = r.chance(0.4) ? [r.int(1, 3)] : [];
      const a = r.chance(0.7) ? g.arg([...batch, ...(ta ? [k, m] : [m, k])]) : g.arg();
      const b = r.chance(0.7) ? g.arg([...(r.chance(0.5) ? batch : []), ...(tb ? [n, k] : [k, n])]) : g.arg();
      return loose(eg.matmul)(a, b, { transA: ta, transB: tb });
    },
  },
  { name: "bmm", run: (g) => loose(eg.bmm)(g.arg(), g.arg()) },
  { name: "outer", run: (g) => loose(eg.outer)(g.arg(), g.arg()) },
  {
    name: "einsum",
    run: (g) => {
      const ops = Array.from({ length: g.r.int(0, 3) }, () => g.arg());
      return loose(eg.einsum)(g.r.pick(EINSUM), ...ops);
    },
  },
  { name: "reshape", run: (g) => loose(eg.reshape)(g.arg(), g.r.chance(0.3) ? [-1] : g.shape()) },
  { name: "flatten", run: (g) => loose(eg.flatten)(g.arg(), g.axis(), g.axis()) },
  { name: "squeeze", run: (g) => loose(eg.squeeze)(g.arg(), g.axes()) },
  { name: "unsqueeze", run: (g) => loose(eg.unsqueeze)(g.arg(), g.axis()) },
  {
    name: "permute",
    run: (g) => loose(eg.permute)(g.arg(), g.r.chance(0.8) ? Array.from({ length: g.r.int(0, 4) }, () => g.axis()) : g.junk()),
  },
  { name: "transpose", run: (g) => loose(eg.transpose)(g.arg(), g.axis(), g.axis()) },
  { name: "expand", run: (g) => loose(eg.expand)(g.arg(), g.shape()) },
  {
    name: "slice",
    run: (g) => {
      const r = g.r;
      const spec = (): unknown =>
        r.pick([
          () => null,
          () => g.num(() => r.int(-6, 6)),
          () => [g.num(() => r.int(-6, 6)), g.num(() => r.int(-6, 6)), g.num(() => r.pick([1, 2, -1]))],
          () => ({ start: g.num(() => 1), step: g.num(() => -1) }),
          () => g.junk(),
        ])();
      return loose(eg.slice)(g.arg(), r.chance(0.9) ? Array.from({ length: r.int(0, 5) }, spec) : g.junk());
    },
  },
  {
    name: "narrow",
    run: (g) =>
      loose(eg.narrow)(
        g.arg(),
        g.axis(),
        g.num(() => g.r.int(-3, 5)),
        g.num(() => g.r.int(0, 4)),
      ),
  },
  { name: "flip", run: (g) => loose(eg.flip)(g.arg(), g.axes()) },
  {
    name: "concat",
    run: (g) => {
      const first = g.arg();
      const list = g.r.chance(0.9)
        ? [first, ...Array.from({ length: g.r.int(0, 3) }, () => (g.r.chance(0.5) ? g.partner(first) : g.arg()))]
        : g.junk();
      return loose(eg.concat)(list, g.axis());
    },
  },
  {
    name: "stack",
    run: (g) => loose(eg.stack)(g.r.chance(0.9) ? Array.from({ length: g.r.int(0, 3) }, () => g.arg()) : g.junk(), g.axis()),
  },
  {
    name: "split",
    run: (g) => loose(eg.split)(g.arg(), g.r.chance(0.5) ? g.num(() => g.r.int(1, 3)) : [g.num(() => 1), g.num(() => 2)], g.axis()),
  },
  {
    name: "chunk",
    run: (g) =>
      loose(eg.chunk)(
        g.arg(),
        g.num(() => g.r.int(1, 4)),
        g.axis(),
      ),
  },
  {
    name: "pad",
    run: (g) =>
      loose(eg.pad)(
        g.arg(),
        Array.from({ length: g.r.int(0, 5) }, () => g.num(() => g.r.int(-2, 3))),
        g.num(() => 0),
      ),
  },
  {
    name: "roll",
    run: (g) =>
      loose(eg.roll)(
        g.arg(),
        g.num(() => g.r.int(-5, 5)),
        g.r.chance(0.3) ? undefined : g.axes(),
      ),
  },
  {
    name: "repeat",
    run: (g) =>
      loose(eg.repeat)(
        g.arg(),
        Array.from({ length: g.r.int(0, 5) }, () => g.num(() => g.r.int(0, 3))),
      ),
  },
  {
    name: "tril",
    run: (g) =>
      loose(eg.tril)(
        g.arg(),
        g.num(() => g.r.int(-2, 2)),
      ),
  },
  {
    name: "triu",
    run: (g) =>
      loose(eg.triu)(
        g.arg(),
        g.num(() => g.r.int(-2, 2)),
      ),
  },
  {
    name: "gather",
    run: (g) => {
      const x = g.arg();
      const axis = g.axis();
      return loose(eg.gather)(x, axis, g.index(g.indexShapeFor(x, axis)));
    },
  },
  {
    name: "scatterAdd",
    run: (g) => {
      const x = g.arg();
      const axis = g.axis();
      const s = g.indexShapeFor(x, axis);
      return loose(eg.scatterAdd)(x, axis, g.index(s), g.arg(s));
    },
  },
  { name: "indexSelect", run: (g) => loose(eg.indexSelect)(g.arg(), g.axis(), g.index([g.r.int(0, 4)], -7, 7)) },
  {
    name: "oneHot",
    run: (g) =>
      loose(eg.oneHot)(
        g.index(),
        g.num(() => g.r.int(1, 8)),
        { dtype: g.r.chance(0.8) ? "float32" : g.dtype() },
      ),
  },
  {
    name: "softmax",
    run: (g) => {
      const x = g.arg();
      const mask = g.r.chance(0.5) ? undefined : x instanceof eg.Tensor && g.r.chance(0.6) ? eg.ne(g.tensor([...x.shape]), 0) : g.arg();
      return loose(g.r.chance(0.5) ? eg.softmax : eg.logSoftmax)(x, g.axis(), {
        mask,
        temperature: g.r.chance(0.5) ? undefined : g.num(() => 2),
      });
    },
  },
  {
    name: "layerNorm",
    run: (g) => {
      const x = g.arg();
      const ns = x instanceof eg.Tensor && g.r.chance(0.7) ? x.shape.slice(g.r.int(0, x.ndim)) : g.shape();
      const affine = (): unknown => (g.r.chance(0.4) ? null : Array.isArray(ns) && g.r.chance(0.7) ? g.tensor(ns as number[]) : g.arg());
      return loose(eg.layerNorm)(
        x,
        ns,
        affine(),
        affine(),
        g.num(() => 1e-5),
      );
    },
  },
  {
    name: "dropout",
    run: (g) =>
      loose(eg.dropout)(
        g.arg(),
        g.num(() => g.r.pick([0, 0.5, 1])),
        { training: g.r.chance(0.8) },
      ),
  },
  {
    name: "crossEntropy",
    run: (g) => {
      const r = g.r;
      const [nb, c] = [g.dim(), g.dim()];
      const logits = r.chance(0.8) ? g.arg([nb, c]) : g.arg();
      const target = r.chance(0.6) ? g.index([nb], -1, c + 1) : g.arg(r.chance(0.5) ? [nb, c] : undefined);
      const opts = {
        reduction: r.pick(["mean", "sum", "none", "avg"]),
        labelSmoothing: r.chance(0.5) ? undefined : g.num(() => 0.1),
        ignoreIndex: r.chance(0.5) ? undefined : g.num(() => -1),
        weight: r.chance(0.7) ? undefined : g.arg([c]),
      };
      return loose(r.chance(0.7) ? eg.crossEntropy : eg.nllLoss)(logits, target, opts);
    },
  },
  {
    name: "pairLoss",
    run: (g) => {
      const a = g.arg();
      const b = a instanceof eg.Tensor && g.r.chance(0.6) ? g.tensor([...a.shape]) : g.arg();
      const op = g.r.pick([eg.mseLoss, eg.binaryCrossEntropy, eg.binaryCrossEntropyWithLogits]);
      return loose(op)(a, b, { reduction: g.r.pick(["mean", "sum", "none", "x"]) });
    },
  },
  {
    name: "cosineSimilarity",
    run: (g) =>
      loose(eg.cosineSimilarity)(
        g.arg(),
        g.arg(),
        g.axis(),
        g.num(() => 1e-8),
      ),
  },
  { name: "normalize", run: (g) => loose(eg.normalize)(g.arg(), { p: g.num(() => 2), axis: g.axis(), eps: g.num(() => 1e-12) }) },
  {
    name: "tensor",
    run: (g) =>
      loose(eg.tensor)(g.r.chance(0.5) ? g.junk() : new Float32Array(g.r.int(0, 6)), {
        shape: g.r.chance(0.5) ? undefined : g.shape(),
        dtype: g.dtype(),
      }),
  },
  {
    name: "full",
    run: (g) =>
      loose(eg.full)(
        g.shape(),
        g.num(() => 1),
        { dtype: g.dtype() },
      ),
  },
  {
    name: "zeros",
    run: (g) => loose(g.r.chance(0.5) ? eg.zeros : eg.ones)(g.shape(), { dtype: g.dtype(), requiresGrad: g.r.chance(0.2) }),
  },
  {
    name: "arange",
    run: (g) =>
      loose(eg.arange)(
        g.num(() => 0),
        g.num(() => 5),
        g.num(() => 1),
        { dtype: g.r.chance(0.8) ? undefined : g.dtype() },
      ),
  },
  {
    name: "linspace",
    run: (g) =>
      loose(eg.linspace)(
        g.num(() => 0),
        g.num(() => 1),
        g.num(() => 5),
        { dtype: g.r.chance(0.8) ? undefined : g.dtype() },
      ),
  },
  {
    name: "eye",
    run: (g) =>
      loose(eg.eye)(
        g.num(() => 3),
        g.r.chance(0.5) ? undefined : g.num(() => 2),
      ),
  },
  {
    name: "fullLike",
    run: (g) =>
      loose(g.r.chance(0.5) ? eg.zerosLike : eg.fullLike)(
        g.arg(),
        g.num(() => 2),
      ),
  },
  {
    name: "rand",
    run: (g) =>
      loose(g.r.chance(0.5) ? eg.rand : eg.randn)(g.shape(), { dtype: g.r.chance(0.8) ? undefined : g.dtype(), std: g.num(() => 1) }),
  },
  {
    name: "randint",
    run: (g) =>
      loose(eg.randint)(
        g.num(() => 0),
        g.num(() => 5),
        g.shape(),
      ),
  },
  { name: "bernoulli", run: (g) => loose(eg.bernoulli)(g.r.chance(0.5) ? g.num(() => 0.5) : g.arg(), { shape: g.shape() }) },
  {
    name: "multinomial",
    run: (g) =>
      loose(eg.multinomial)(
        g.arg(),
        g.num(() => g.r.int(1, 3)),
        { replacement: g.r.chance(0.5) },
      ),
  },
  { name: "categorical", run: (g) => loose(eg.categorical)(g.arg()) },
  {
    name: "methods",
    run: (g) => {
      const t = g.tensor();
      const m = g.r.pick(["sum", "mean", "relu", "matmul", "reshape", "softmax", "item", "toArray", "clone", "detach", "to"]);
      return loose((t as unknown as Record<string, unknown>)[m]).call(t, g.r.chance(0.5) ? g.arg() : g.axis());
    },
  },
];

/** Backward through a result, with an implicit or a random seed gradient (a wrong seed shape must also be an EngramError). */
function maybeBackward(g: Gen, out: unknown): void {
  const results = Array.isArray(out) ? out : [out];
  for (const t of results) {
    if (!(t instanceof eg.Tensor) || !t.requiresGrad || !g.r.chance(0.5)) continue;
    if (t.size === 1 && g.r.chance(0.7)) t.backward();
    else t.backward(g.r.chance(0.8) ? g.fill(eg.zeros([...t.shape], { dtype: t.dtype })) : g.tensor());
  }
}

interface Failure {
  call: number;
  op: string;
  error: string;
}

function main(): void {
  const seed = Number(process.argv[2] ?? "1");
  const calls = Number(process.argv[3] ?? "10000");
  const hugeEmpty = process.argv[4] === "huge-empty";
  const r = new Rand(seed);
  const g = new Gen(r, hugeEmpty);
  eg.manualSeed(seed);
  let ok = 0;
  let engramErrors = 0;
  const failures: Failure[] = [];
  const failuresByOp: Record<string, number> = {};
  // FNV-1a over every outcome, so two runs with one seed can be compared cheaply
  let digest = 0x811c9dc5;
  const mix = (s: string): void => {
    for (let i = 0; i < s.length; i++) digest = Math.imul(digest ^ s.charCodeAt(i), 0x01000193) >>> 0;
  };
  for (let i = 0; i < calls; i++) {
    const op = r.pick(OPS);
    try {
      maybeBackward(g, op.run(g));
      ok++;
      mix(`${op.name}:ok;`);
    } catch (e) {
      if (e instanceof eg.EngramError) {
        engramErrors++;
        mix(`${op.name}:${e.message};`);
      } else {
        const error = e instanceof Error ? `${e.name}: ${e.message}` : `non-Error thrown: ${String(e)}`;
        failuresByOp[op.name] = (failuresByOp[op.name] ?? 0) + 1;
        if (failures.length < 40) failures.push({ call: i, op: op.name, error });
        mix(`${op.name}:!${error};`);
      }
    }
  }
  const otherErrors = Object.values(failuresByOp).reduce((s, v) => s + v, 0);
  const summary = { seed, hugeEmpty, backend: eg.getBackend(), calls, ok, engramErrors, otherErrors, failuresByOp, failures, digest };
  process.stdout.write(`FUZZ-SUMMARY ${JSON.stringify(summary)}\n`);
}

main();
