/**
 * Finite-difference gradient checks for every differentiable op: float64 inputs on the ts backend
 * (float64 never runs natively), one `it` per case. Inputs are seeded and kept away from kinks and
 * ties (|x| >= 0.1 for relu/abs-like ops, no equal elements for max/min) so central differences
 * are exact to O(eps^2). A second table checks second derivatives through grad(fn, { createGraph }).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

type Tensor = eg.Tensor;
interface Case {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
}

let previous: eg.BackendName;
beforeAll(() => {
  previous = eg.getBackend();
  eg.setBackend("ts");
});
afterAll(() => {
  eg.setBackend(previous);
});

// ---------------------------------------------------------------- input helpers

let seedCounter = 1;
/** Standard normal float64 tensor from its own seeded generator. */
function randn(shape: number[]): Tensor {
  return eg.randn(shape, { dtype: "float64", generator: new eg.Generator(seedCounter++) });
}
/** Uniform float64 on [low, high). */
function uniform(shape: number[], low: number, high: number): Tensor {
  return eg.rand(shape, { dtype: "float64", low, high, generator: new eg.Generator(seedCounter++) });
}
/** Random sign times a magnitude in [0.1, 1.5): never near 0, the kink of relu/abs/elu/leakyRelu. */
function awayFromZero(shape: number[]): Tensor {
  const m = uniform(shape, 0.1, 1.5);
  const s = uniform(shape, -1, 1);
  const d = m.data;
  for (let i = 0; i < d.length; i++) if (s.data[i]! < 0) d[i] = -d[i]!;
  return m;
}
function f64(data: eg.NestedArray[]): Tensor {
  return eg.tensor(data, { dtype: "float64" });
}
function i32(data: eg.NestedArray[]): Tensor {
  return eg.tensor(data, { dtype: "int32" });
}
/** Weighted sum of several outputs, so a multi-output op (split, chunk) is checked as one function. */
function combine(parts: Tensor[]): Tensor {
  return parts.map((p, i) => eg.mul(eg.sum(eg.mul(p, p)), i + 1)).reduce((a, b) => eg.add(a, b));
}

function check(c: Case): void {
  const xs = c.inputs();
  const r = eg.gradcheck(c.fn, xs);
  if (!r.ok) console.error(c.name, r);
  expect(r.ok).toBe(true);
}

function runTable(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) it(c.name, () => check(c));
  });
}

// ---------------------------------------------------------------- unary math and activations

const S = [3, 4];
runTable("gradcheck: unary", [
  { name: "neg", fn: (x) => eg.neg(x), inputs: () => [randn(S)] },
  { name: "exp", fn: (x) => eg.exp(x), inputs: () => [randn(S)] },
  { name: "log", fn: (x) => eg.log(x), inputs: () => [uniform(S, 0.3, 3)] },
  { name: "log1p", fn: (x) => eg.log1p(x), inputs: () => [uniform(S, -0.7, 3)] },
  { name: "sqrt", fn: (x) => eg.sqrt(x), inputs: () => [uniform(S, 0.3, 3)] },
  { name: "rsqrt", fn: (x) => eg.rsqrt(x), inputs: () => [uniform(S, 0.3, 3)] },
  { name: "abs", fn: (x) => eg.abs(x), inputs: () => [awayFromZero(S)] },
  { name: "sin", fn: (x) => eg.sin(x), inputs: () => [randn(S)] },
  { name: "cos", fn: (x) => eg.cos(x), inputs: () => [randn(S)] },
  { name: "square", fn: (x) => eg.square(x), inputs: () => [randn(S)] },
  { name: "reciprocal", fn: (x) => eg.reciprocal(x), inputs: () => [awayFromZero(S)] },
  { name: "relu", fn: (x) => eg.relu(x), inputs: () => [awayFromZero(S)] },
  { name: "leakyRelu default slope", fn: (x) => eg.leakyRelu(x), inputs: () => [awayFromZero(S)] },
  { name: "leakyRelu slope 0.2", fn: (x) => eg.leakyRelu(x, 0.2), inputs: () => [awayFromZero(S)] },
  { name: "elu alpha 1", fn: (x) => eg.elu(x), inputs: () => [awayFromZero(S)] },
  { name: "elu alpha 1.7", fn: (x) => eg.elu(x, 1.7), inputs: () => [awayFromZero(S)] },
  { name: "gelu (erf)", fn: (x) => eg.gelu(x), inputs: () => [randn(S)] },
  { name: "gelu (tanh)", fn: (x) => eg.gelu(x, { approximate: "tanh" }), inputs: () => [randn(S)] },
  { name: "silu", fn: (x) => eg.silu(x), inputs: () => [randn(S)] },
  { name: "sigmoid", fn: (x) => eg.sigmoid(x), inputs: () => [randn(S)] },
  { name: "tanh", fn: (x) => eg.tanh(x), inputs: () => [randn(S)] },
  { name: "softplus", fn: (x) => eg.softplus(x), inputs: () => [eg.mul(randn(S), 3)] },
  { name: "softplus beta 2", fn: (x) => eg.softplus(x, { beta: 2 }), inputs: () => [eg.mul(randn(S), 3)] },
  { name: "erf", fn: (x) => eg.erf(x), inputs: () => [randn(S)] },
  {
    name: "clamp(-0.5, 0.5)",
    fn: (x) => eg.clamp(x, -0.5, 0.5),
    inputs: () => [
      f64([
        [-1, -0.4, 0.2, 0.45],
        [0.7, -0.6, 0.05, 2],
      ]),
    ],
  },
  {
    name: "clamp min only",
    fn: (x) => eg.clamp(x, 0.25),
    inputs: () => [
      f64([
        [-1, 0.1, 0.3, 0.9],
        [0.7, -0.6, 0.4, 2],
      ]),
    ],
  },
  {
    name: "clamp max only",
    fn: (x) => eg.clamp(x, null, -0.25),
    inputs: () => [
      f64([
        [-1, 0.1, 0.3, -0.9],
        [0.7, -0.6, 0.4, -2],
      ]),
    ],
  },
  { name: "powScalar 2.5 (positive base)", fn: (x) => eg.powScalar(x, 2.5), inputs: () => [uniform(S, 0.2, 2)] },
  { name: "powScalar 3 (any sign)", fn: (x) => eg.powScalar(x, 3), inputs: () => [randn(S)] },
  { name: "powScalar -1.5", fn: (x) => eg.powScalar(x, -1.5), inputs: () => [uniform(S, 0.3, 2)] },
  { name: "pow(x, 2) (square path)", fn: (x) => eg.pow(x, 2), inputs: () => [randn(S)] },
  { name: "pow(x, 1) (identity path)", fn: (x) => eg.pow(x, 1), inputs: () => [randn(S)] },
  { name: "x + 2", fn: (x) => eg.add(x, 2), inputs: () => [randn(S)] },
  { name: "2 - x", fn: (x) => eg.sub(2, x), inputs: () => [randn(S)] },
  { name: "x * -3", fn: (x) => eg.mul(x, -3), inputs: () => [randn(S)] },
  { name: "x / 4", fn: (x) => eg.div(x, 4), inputs: () => [randn(S)] },
  { name: "2 / x", fn: (x) => eg.div(2, x), inputs: () => [awayFromZero(S)] },
  { name: "2 ** x", fn: (x) => eg.pow(2, x), inputs: () => [randn(S)] },
  { name: "clone (method)", fn: (x) => eg.mul(x.clone(), x), inputs: () => [randn(S)] },
]);

// ---------------------------------------------------------------- binary with broadcasting

/** The broadcast layouts every binary op is checked on. */
const PAIRS: [string, number[], number[]][] = [
  ["same shape", [3, 4], [3, 4]],
  ["[3,1,4] op [2,4]", [3, 1, 4], [2, 4]],
  ["[2,4] op [3,1,4]", [2, 4], [3, 1, 4]],
  ["scalar op tensor", [], [2, 3]],
  ["tensor op scalar", [2, 3], []],
  ["[4] op [3,1]", [4], [3, 1]],
];
const binaryCases: Case[] = [];
for (const [layout, sa, sb] of PAIRS) {
  binaryCases.push(
    { name: `add ${layout}`, fn: (a, b) => eg.add(a, b), inputs: () => [randn(sa), randn(sb)] },
    { name: `sub ${layout}`, fn: (a, b) => eg.sub(a, b), inputs: () => [randn(sa), randn(sb)] },
    { name: `mul ${layout}`, fn: (a, b) => eg.mul(a, b), inputs: () => [randn(sa), randn(sb)] },
    { name: `div ${layout}`, fn: (a, b) => eg.div(a, b), inputs: () => [randn(sa), awayFromZero(sb)] },
    { name: `pow ${layout}`, fn: (a, b) => eg.pow(a, b), inputs: () => [uniform(sa, 0.3, 2), randn(sb)] },
    { name: `minimum ${layout}`, fn: (a, b) => eg.minimum(a, b), inputs: () => [randn(sa), randn(sb)] },
    { name: `maximum ${layout}`, fn: (a, b) => eg.maximum(a, b), inputs: () => [randn(sa), randn(sb)] },
  );
}
const COND = eg.tensor([[true], [false], [true]]);
binaryCases.push(
  { name: "where [3,1] ? [1,4] : [3,4]", fn: (a, b) => eg.where(COND, a, b), inputs: () => [randn([1, 4]), randn([3, 4])] },
  { name: "where [3,1] ? [2,3,4] : []", fn: (a, b) => eg.where(COND, a, b), inputs: () => [randn([2, 3, 4]), randn([])] },
  { name: "where with a number branch", fn: (a) => eg.where(COND, 0.5, a), inputs: () => [randn([3, 2])] },
  { name: "pow with int exponent tensor", fn: (a) => eg.pow(a, i32([1, 2, 3])), inputs: () => [randn([2, 3])] },
  { name: "a * a (same tensor twice)", fn: (a) => eg.mul(a, a), inputs: () => [randn([2, 3])] },
);
runTable("gradcheck: binary", binaryCases);

// ---------------------------------------------------------------- reductions

const R = [2, 3, 4];
const reduceCases: Case[] = [];
const AXES: [string, number | number[] | undefined][] = [
  ["all", undefined],
  ["axis 1", 1],
  ["axis -1", -1],
  ["axes [0,2] (not adjacent)", [0, 2]],
  ["axes [0,1]", [0, 1]],
];
for (const [label, axes] of AXES) {
  for (const keepDim of [false, true]) {
    const k = keepDim ? " keepDim" : "";
    reduceCases.push(
      { name: `sum ${label}${k}`, fn: (x) => eg.sum(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `mean ${label}${k}`, fn: (x) => eg.mean(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `max ${label}${k}`, fn: (x) => eg.max(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `min ${label}${k}`, fn: (x) => eg.min(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `prod ${label}${k}`, fn: (x) => eg.prod(x, axes, { keepDim }), inputs: () => [uniform(R, 0.6, 1.4)] },
      { name: `logSumExp ${label}${k}`, fn: (x) => eg.logSumExp(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `variance ${label}${k}`, fn: (x) => eg.variance(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `std ${label}${k}`, fn: (x) => eg.std(x, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `norm p=1 ${label}${k}`, fn: (x) => eg.norm(x, 1, axes, { keepDim }), inputs: () => [awayFromZero(R)] },
      { name: `norm p=2 ${label}${k}`, fn: (x) => eg.norm(x, 2, axes, { keepDim }), inputs: () => [randn(R)] },
      { name: `norm p=inf ${label}${k}`, fn: (x) => eg.norm(x, Infinity, axes, { keepDim }), inputs: () => [awayFromZero(R)] },
      { name: `norm p=3 ${label}${k}`, fn: (x) => eg.norm(x, 3, axes, { keepDim }), inputs: () => [awayFromZero(R)] },
    );
  }
}
reduceCases.push(
  { name: "variance correction 0", fn: (x) => eg.variance(x, 1, { correction: 0 }), inputs: () => [randn(R)] },
  { name: "std correction 0 keepDim", fn: (x) => eg.std(x, [0, 2], { correction: 0, keepDim: true }), inputs: () => [randn(R)] },
  // the gradient of a product that contains an exact zero is the product of the other entries
  {
    name: "prod with an exact zero",
    fn: (x) => eg.prod(x, 1),
    inputs: () => [
      f64([
        [0, 2, -1.5],
        [0.5, 0, 3],
        [1.2, -0.7, 0.9],
      ]),
    ],
  },
  { name: "prod with two zeros", fn: (x) => eg.prod(x), inputs: () => [f64([0, 2, 0, 1.5])] },
  { name: "norm p=2 of a vector", fn: (x) => eg.norm(x), inputs: () => [randn([5])] },
);
runTable("gradcheck: reductions", reduceCases);

// ---------------------------------------------------------------- linear algebra

runTable("gradcheck: linalg", [
  { name: "matmul [3,4]@[4,5]", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([3, 4]), randn([4, 5])] },
  { name: "matmul transA", fn: (a, b) => eg.matmul(a, b, { transA: true }), inputs: () => [randn([4, 3]), randn([4, 5])] },
  { name: "matmul transB", fn: (a, b) => eg.matmul(a, b, { transB: true }), inputs: () => [randn([3, 4]), randn([5, 4])] },
  {
    name: "matmul transA transB",
    fn: (a, b) => eg.matmul(a, b, { transA: true, transB: true }),
    inputs: () => [randn([4, 3]), randn([5, 4])],
  },
  { name: "matmul [2,3,4]@[4,5] (folded batch)", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([2, 3, 4]), randn([4, 5])] },
  {
    name: "matmul [2,3,4]@[5,4]^T (folded batch)",
    fn: (a, b) => eg.matmul(a, b, { transB: true }),
    inputs: () => [randn([2, 3, 4]), randn([5, 4])],
  },
  { name: "matmul [2,4,3]^T@[4,5]", fn: (a, b) => eg.matmul(a, b, { transA: true }), inputs: () => [randn([2, 4, 3]), randn([4, 5])] },
  { name: "matmul [3,4]@[2,4,5] (broadcast a)", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([3, 4]), randn([2, 4, 5])] },
  {
    name: "matmul [2,1,3,4]@[3,4,2] (partial broadcast)",
    fn: (a, b) => eg.matmul(a, b),
    inputs: () => [randn([2, 1, 3, 4]), randn([3, 4, 2])],
  },
  {
    name: "matmul [2,1,4,3]^T@[3,2,4]^T (broadcast, both flags)",
    fn: (a, b) => eg.matmul(a, b, { transA: true, transB: true }),
    inputs: () => [randn([2, 1, 4, 3]), randn([3, 2, 4])],
  },
  { name: "matmul [4]@[4,5]", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([4]), randn([4, 5])] },
  { name: "matmul [3,4]@[4]", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([3, 4]), randn([4])] },
  { name: "matmul [4]@[4]", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([4]), randn([4])] },
  { name: "matmul [4]@[2,4,3]", fn: (a, b) => eg.matmul(a, b), inputs: () => [randn([4]), randn([2, 4, 3])] },
  { name: "matmul x@x^T (shared operand)", fn: (a) => eg.matmul(a, a, { transB: true }), inputs: () => [randn([3, 4])] },
  { name: "bmm", fn: (a, b) => eg.bmm(a, b), inputs: () => [randn([2, 3, 4]), randn([2, 4, 2])] },
  { name: "bmm transB", fn: (a, b) => eg.bmm(a, b, { transB: true }), inputs: () => [randn([2, 3, 4]), randn([2, 2, 4])] },
  { name: "outer", fn: (a, b) => eg.outer(a, b), inputs: () => [randn([3]), randn([4])] },
  { name: "einsum ij,jk->ik", fn: (a, b) => eg.einsum("ij,jk->ik", a, b), inputs: () => [randn([3, 4]), randn([4, 2])] },
  { name: "einsum ij,jk (implicit output)", fn: (a, b) => eg.einsum("ij,jk", a, b), inputs: () => [randn([3, 4]), randn([4, 2])] },
  { name: "einsum bij,bjk->bik", fn: (a, b) => eg.einsum("bij,bjk->bik", a, b), inputs: () => [randn([2, 3, 4]), randn([2, 4, 2])] },
  {
    name: "einsum bhqd,bhkd->bhqk",
    fn: (a, b) => eg.einsum("bhqd,bhkd->bhqk", a, b),
    inputs: () => [randn([1, 2, 3, 4]), randn([1, 2, 2, 4])],
  },
  {
    name: "einsum bhqk,bhkd->bqhd",
    fn: (a, b) => eg.einsum("bhqk,bhkd->bqhd", a, b),
    inputs: () => [randn([1, 2, 3, 2]), randn([1, 2, 2, 4])],
  },
  { name: "einsum i,j->ij", fn: (a, b) => eg.einsum("i,j->ij", a, b), inputs: () => [randn([3]), randn([4])] },
  { name: "einsum ij,ij->i", fn: (a, b) => eg.einsum("ij,ij->i", a, b), inputs: () => [randn([3, 4]), randn([3, 4])] },
  { name: "einsum ijk,k->ij", fn: (a, b) => eg.einsum("ijk,k->ij", a, b), inputs: () => [randn([2, 3, 4]), randn([4])] },
  {
    name: "einsum bi,bj->b (letters summed per operand)",
    fn: (a, b) => eg.einsum("bi,bj->b", a, b),
    inputs: () => [randn([3, 2]), randn([3, 4])],
  },
  { name: "einsum ij->ji", fn: (a) => eg.einsum("ij->ji", a), inputs: () => [randn([3, 4])] },
  { name: "einsum ijk->kj", fn: (a) => eg.einsum("ijk->kj", a), inputs: () => [randn([2, 3, 4])] },
  { name: "einsum ij-> (total)", fn: (a) => eg.einsum("ij->", a), inputs: () => [randn([3, 4])] },
]);

// ---------------------------------------------------------------- shape and indexing

const X = [2, 3, 4];
runTable("gradcheck: shape", [
  { name: "reshape", fn: (x) => eg.reshape(x, [6, 4]), inputs: () => [randn(X)] },
  { name: "reshape with -1", fn: (x) => eg.reshape(x, [4, -1]), inputs: () => [randn(X)] },
  { name: "flatten(1)", fn: (x) => eg.flatten(x, 1), inputs: () => [randn(X)] },
  { name: "squeeze", fn: (x) => eg.squeeze(x), inputs: () => [randn([1, 3, 1, 4])] },
  { name: "squeeze axis", fn: (x) => eg.squeeze(x, 2), inputs: () => [randn([1, 3, 1, 4])] },
  { name: "unsqueeze", fn: (x) => eg.unsqueeze(x, 1), inputs: () => [randn([3, 4])] },
  { name: "transpose(0, 2)", fn: (x) => eg.transpose(x, 0, 2), inputs: () => [randn(X)] },
  { name: "transpose default", fn: (x) => eg.transpose(x), inputs: () => [randn(X)] },
  { name: "permute [2,0,1]", fn: (x) => eg.permute(x, [2, 0, 1]), inputs: () => [randn(X)] },
  { name: "permute [1,-1,0]", fn: (x) => eg.permute(x, [1, -1, 0]), inputs: () => [randn(X)] },
  { name: "expand [3,1]->[2,3,4]", fn: (x) => eg.expand(x, [2, 3, 4]), inputs: () => [randn([3, 1])] },
  { name: "expand with -1", fn: (x) => eg.expand(x, [2, -1, 4]), inputs: () => [randn([1, 3, 1])] },
  { name: "slice with steps", fn: (x) => eg.slice(x, [null, [0, 3, 2], [1, null]]), inputs: () => [randn(X)] },
  { name: "slice negative step", fn: (x) => eg.slice(x, [[null, null, -1], null, [3, 0, -2]]), inputs: () => [randn(X)] },
  { name: "slice index and object spec", fn: (x) => eg.slice(x, [1, { start: -2 }, { step: 3 }]), inputs: () => [randn(X)] },
  { name: "slice negative index", fn: (x) => eg.slice(x, [null, -1]), inputs: () => [randn(X)] },
  { name: "narrow", fn: (x) => eg.narrow(x, 2, 1, 2), inputs: () => [randn(X)] },
  { name: "narrow negative start", fn: (x) => eg.narrow(x, 1, -2, 2), inputs: () => [randn(X)] },
  {
    name: "gather axis 1 (repeated indices)",
    fn: (x) =>
      eg.gather(
        x,
        1,
        i32([
          [0, 2, 2],
          [1, 1, 0],
        ]),
      ),
    inputs: () => [randn([2, 4])],
  },
  {
    name: "gather axis 0",
    fn: (x) =>
      eg.gather(
        x,
        0,
        i32([
          [2, 0, 1],
          [2, 2, 0],
        ]),
      ),
    inputs: () => [randn([3, 3])],
  },
  {
    name: "scatterAdd (both inputs, repeated indices)",
    fn: (x, s) =>
      eg.scatterAdd(
        x,
        1,
        i32([
          [0, 0, 3],
          [2, 1, 2],
        ]),
        s,
      ),
    inputs: () => [randn([2, 4]), randn([2, 3])],
  },
  { name: "indexSelect (repeated and negative)", fn: (x) => eg.indexSelect(x, 1, i32([2, -1, 0, 2])), inputs: () => [randn(X)] },
  { name: "indexSelect axis 0", fn: (x) => eg.indexSelect(x, 0, i32([1, 1])), inputs: () => [randn(X)] },
  { name: "concat axis 1", fn: (a, b, c) => eg.concat([a, b, c], 1), inputs: () => [randn([2, 1, 4]), randn([2, 3, 4]), randn([2, 2, 4])] },
  { name: "concat axis -1", fn: (a, b) => eg.concat([a, b], -1), inputs: () => [randn([2, 3]), randn([2, 2])] },
  { name: "concat same tensor twice", fn: (a) => eg.concat([a, a], 0), inputs: () => [randn([2, 3])] },
  { name: "stack axis 1", fn: (a, b) => eg.stack([a, b], 1), inputs: () => [randn([3, 4]), randn([3, 4])] },
  { name: "stack axis -1", fn: (a, b, c) => eg.stack([a, b, c], -1), inputs: () => [randn([2, 2]), randn([2, 2]), randn([2, 2])] },
  { name: "split sizes [1,3]", fn: (x) => combine(eg.split(x, [1, 3], 2)), inputs: () => [randn(X)] },
  { name: "split size 2", fn: (x) => combine(eg.split(x, 2, 1)), inputs: () => [randn(X)] },
  { name: "chunk 2", fn: (x) => combine(eg.chunk(x, 2, -1)), inputs: () => [randn(X)] },
  { name: "chunk 3 of 4 (uneven)", fn: (x) => combine(eg.chunk(x, 3, 2)), inputs: () => [randn(X)] },
  { name: "pad last axis", fn: (x) => eg.pad(x, [1, 2]), inputs: () => [randn(X)] },
  { name: "pad two axes with value", fn: (x) => eg.pad(x, [2, 0, 1, 1], 0.5), inputs: () => [randn(X)] },
  { name: "pad negative (crop) and positive", fn: (x) => eg.pad(x, [-1, 2, 1, -1]), inputs: () => [randn(X)] },
  { name: "roll axis", fn: (x) => eg.roll(x, 1, 2), inputs: () => [randn(X)] },
  { name: "roll two axes", fn: (x) => eg.roll(x, [-1, 5], [1, 2]), inputs: () => [randn(X)] },
  { name: "roll flattened", fn: (x) => eg.roll(x, 7), inputs: () => [randn(X)] },
  { name: "flip one axis", fn: (x) => eg.flip(x, 1), inputs: () => [randn(X)] },
  { name: "flip two axes", fn: (x) => eg.flip(x, [0, -1]), inputs: () => [randn(X)] },
  { name: "tril", fn: (x) => eg.tril(x), inputs: () => [randn(X)] },
  { name: "tril diagonal -1", fn: (x) => eg.tril(x, -1), inputs: () => [randn([4, 3])] },
  { name: "triu diagonal 1", fn: (x) => eg.triu(x, 1), inputs: () => [randn(X)] },
  { name: "repeat [2,1,3]", fn: (x) => eg.repeat(x, [2, 1, 3]), inputs: () => [randn([2, 2, 1])] },
  { name: "repeat with new leading axis", fn: (x) => eg.repeat(x, [2, 2, 1]), inputs: () => [randn([2, 3])] },
  { name: "cast float64 -> float64", fn: (x) => eg.cast(x, "float64"), inputs: () => [randn([3])] },
]);

// ---------------------------------------------------------------- nn composites

const MASK = eg.tensor([
  [true, false, true, true],
  [false, false, false, false],
  [true, true, false, true],
]);
const TARGET = i32([1, 0, 3, 2, 3]);
const TARGET_IGNORE = i32([1, -100, 3, 2, -100]);
const REDUCTIONS = ["mean", "sum", "none"] as const;

const nnCases: Case[] = [
  { name: "softmax axis -1", fn: (x) => eg.softmax(x), inputs: () => [randn(X)] },
  { name: "softmax axis 0", fn: (x) => eg.softmax(x, 0), inputs: () => [randn(X)] },
  { name: "softmax axis 1", fn: (x) => eg.softmax(x, 1), inputs: () => [randn(X)] },
  { name: "softmax temperature 0.5", fn: (x) => eg.softmax(x, -1, { temperature: 0.5 }), inputs: () => [randn(X)] },
  { name: "softmax with mask (a fully-masked row)", fn: (x) => eg.softmax(x, -1, { mask: MASK }), inputs: () => [randn([2, 3, 4])] },
  {
    name: "softmax mask and temperature along axis 0",
    fn: (x) => eg.softmax(x, 0, { mask: eg.transpose(MASK, 0, 1), temperature: 2 }),
    inputs: () => [randn([4, 3])],
  },
  { name: "logSoftmax axis -1", fn: (x) => eg.logSoftmax(x), inputs: () => [randn(X)] },
  { name: "logSoftmax axis 1", fn: (x) => eg.logSoftmax(x, 1), inputs: () => [randn(X)] },
  { name: "logSoftmax temperature 3", fn: (x) => eg.logSoftmax(x, 0, { temperature: 3 }), inputs: () => [randn(X)] },
  {
    name: "logSoftmax with mask (partial rows)",
    fn: (x) =>
      eg.logSoftmax(x, -1, {
        mask: eg.tensor([
          [true, false, true, true],
          [true, true, false, true],
        ]),
      }),
    inputs: () => [randn([2, 4])],
  },
  { name: "layerNorm without affine", fn: (x) => eg.layerNorm(x, [4]), inputs: () => [randn(X)] },
  { name: "layerNorm with weight and bias", fn: (x, w, b) => eg.layerNorm(x, [4], w, b), inputs: () => [randn(X), randn([4]), randn([4])] },
  {
    name: "layerNorm over two axes",
    fn: (x, w, b) => eg.layerNorm(x, [3, 4], w, b),
    inputs: () => [randn(X), randn([3, 4]), randn([3, 4])],
  },
  { name: "layerNorm weight only, eps 0.1", fn: (x, w) => eg.layerNorm(x, [4], w, null, 0.1), inputs: () => [randn(X), randn([4])] },
  { name: "layerNorm bias only", fn: (x, b) => eg.layerNorm(x, [4], null, b), inputs: () => [randn(X), randn([4])] },
  { name: "dropout (seeded mask)", fn: (x) => eg.dropout(x, 0.4, { generator: new eg.Generator(3) }), inputs: () => [randn(X)] },
  { name: "dropout eval", fn: (x) => eg.dropout(x, 0.4, { training: false }), inputs: () => [randn(X)] },
  { name: "mseLoss", fn: (a, b) => eg.mseLoss(a, b), inputs: () => [randn(S), randn(S)] },
  { name: "mseLoss sum", fn: (a, b) => eg.mseLoss(a, b, { reduction: "sum" }), inputs: () => [randn(S), randn(S)] },
  { name: "cosineSimilarity axis -1", fn: (a, b) => eg.cosineSimilarity(a, b), inputs: () => [randn(S), randn(S)] },
  { name: "cosineSimilarity broadcast [3,4] vs [4]", fn: (a, b) => eg.cosineSimilarity(a, b), inputs: () => [randn(S), randn([4])] },
  { name: "cosineSimilarity axis 0", fn: (a, b) => eg.cosineSimilarity(a, b, 0), inputs: () => [randn(S), randn(S)] },
  { name: "normalize p=2", fn: (x) => eg.normalize(x), inputs: () => [randn(S)] },
  { name: "normalize p=1 axis 0", fn: (x) => eg.normalize(x, { p: 1, axis: 0 }), inputs: () => [awayFromZero(S)] },
  { name: "binaryCrossEntropy", fn: (p, y) => eg.binaryCrossEntropy(p, y), inputs: () => [uniform(S, 0.1, 0.9), uniform(S, 0, 1)] },
  {
    name: "binaryCrossEntropy weight sum",
    fn: (p, y) => eg.binaryCrossEntropy(p, y, { reduction: "sum", weight: f64([0.5, 1, 2, 0.1]) }),
    inputs: () => [uniform(S, 0.1, 0.9), uniform(S, 0, 1)],
  },
  {
    name: "binaryCrossEntropy none",
    fn: (p, y) => eg.binaryCrossEntropy(p, y, { reduction: "none" }),
    inputs: () => [uniform(S, 0.1, 0.9), uniform(S, 0, 1)],
  },
  {
    name: "binaryCrossEntropyWithLogits",
    fn: (x, y) => eg.binaryCrossEntropyWithLogits(x, y),
    inputs: () => [eg.mul(randn(S), 3), uniform(S, 0, 1)],
  },
  // logits of exactly 0 are common (zero-initialised heads); the loss is smooth there
  {
    name: "binaryCrossEntropyWithLogits at x = 0",
    fn: (x, y) => eg.binaryCrossEntropyWithLogits(x, y, { reduction: "sum" }),
    inputs: () => [f64([0, 0, 1, -1]), f64([0, 1, 0.3, 0.7])],
  },
  {
    name: "binaryCrossEntropyWithLogits posWeight",
    fn: (x, y, pw) => eg.binaryCrossEntropyWithLogits(x, y, { posWeight: pw }),
    inputs: () => [eg.mul(randn(S), 3), uniform(S, 0, 1), uniform([4], 0.5, 3)],
  },
  {
    name: "binaryCrossEntropyWithLogits posWeight at x = 0",
    fn: (x, y) => eg.binaryCrossEntropyWithLogits(x, y, { posWeight: f64([2, 0.5, 3, 1]), reduction: "none" }),
    inputs: () => [f64([0, 0, 0, 0.5]), f64([1, 0, 0.5, 0.2])],
  },
  {
    name: "binaryCrossEntropyWithLogits weight",
    fn: (x, y) => eg.binaryCrossEntropyWithLogits(x, y, { weight: f64([0.5, 1, 2, 0.1]), reduction: "sum" }),
    inputs: () => [eg.mul(randn(S), 3), uniform(S, 0, 1)],
  },
  { name: "crossEntropy 1-D logits", fn: (x) => eg.crossEntropy(x, eg.tensor(2, { dtype: "int32" })), inputs: () => [randn([4])] },
  {
    name: "crossEntropy (N,C,d) logits",
    fn: (x) =>
      eg.crossEntropy(
        x,
        i32([
          [0, 3, 1],
          [2, 2, -100],
        ]),
      ),
    inputs: () => [randn([2, 4, 3])],
  },
  {
    name: "crossEntropy soft targets (grad to both)",
    fn: (x, t) => eg.crossEntropy(x, t),
    inputs: () => [randn([5, 4]), eg.softmax(randn([5, 4]))],
  },
  {
    name: "crossEntropy soft targets, smoothing, weight, sum",
    fn: (x, t) => eg.crossEntropy(x, t, { labelSmoothing: 0.2, weight: f64([1, 2, 0.5, 1]), reduction: "sum" }),
    inputs: () => [randn([5, 4]), eg.softmax(randn([5, 4]))],
  },
  {
    name: "crossEntropy weight (grad to the weight too)",
    fn: (x, w) => eg.crossEntropy(x, TARGET_IGNORE, { weight: w }),
    inputs: () => [randn([5, 4]), uniform([4], 0.5, 2)],
  },
  {
    name: "nllLoss weight (grad to the weight too)",
    fn: (x, w) => eg.nllLoss(x, TARGET, { weight: w, reduction: "mean" }),
    inputs: () => [randn([5, 4]), uniform([4], 0.5, 2)],
  },
  {
    name: "nllLoss (N,C,d)",
    fn: (x) =>
      eg.nllLoss(
        x,
        i32([
          [0, 3, 1],
          [2, 2, 0],
        ]),
      ),
    inputs: () => [randn([2, 4, 3])],
  },
];
for (const reduction of REDUCTIONS) {
  nnCases.push(
    { name: `crossEntropy ${reduction}`, fn: (x) => eg.crossEntropy(x, TARGET, { reduction }), inputs: () => [randn([5, 4])] },
    {
      name: `crossEntropy ignoreIndex ${reduction}`,
      fn: (x) => eg.crossEntropy(x, TARGET_IGNORE, { reduction }),
      inputs: () => [randn([5, 4])],
    },
    {
      name: `crossEntropy custom ignoreIndex 0 ${reduction}`,
      fn: (x) => eg.crossEntropy(x, TARGET, { ignoreIndex: 0, reduction }),
      inputs: () => [randn([5, 4])],
    },
    {
      name: `crossEntropy labelSmoothing 0.1 ${reduction}`,
      fn: (x) => eg.crossEntropy(x, TARGET_IGNORE, { labelSmoothing: 0.1, reduction }),
      inputs: () => [randn([5, 4])],
    },
    {
      name: `crossEntropy labelSmoothing + weight ${reduction}`,
      fn: (x) => eg.crossEntropy(x, TARGET_IGNORE, { labelSmoothing: 0.3, weight: f64([1, 2, 0.5, 1.5]), reduction }),
      inputs: () => [randn([5, 4])],
    },
    { name: `nllLoss ${reduction}`, fn: (x) => eg.nllLoss(x, TARGET_IGNORE, { reduction }), inputs: () => [randn([5, 4])] },
    {
      name: `binaryCrossEntropyWithLogits ${reduction}`,
      fn: (x, y) => eg.binaryCrossEntropyWithLogits(x, y, { reduction }),
      inputs: () => [randn(S), uniform(S, 0, 1)],
    },
    { name: `mseLoss ${reduction}`, fn: (a, b) => eg.mseLoss(a, b, { reduction }), inputs: () => [randn(S), randn(S)] },
  );
}
runTable("gradcheck: nn", nnCases);

// ---------------------------------------------------------------- second derivatives (createGraph)

/** Checks d/dx of grad(sum(fn(x) * w)), i.e. the Hessian-vector products, by finite differences of the gradient. */
function secondOrder(name: string, fn: (...xs: Tensor[]) => Tensor, inputs: () => Tensor[]): Case {
  return {
    name,
    inputs,
    fn: (...xs) => {
      const outer = (...ys: Tensor[]): Tensor => {
        const y = fn(...ys);
        // a fixed non-uniform weighting, so every output element matters
        const w = eg.tensor(
          Array.from({ length: y.size }, (_, i) => 0.5 + ((i * 7) % 5) * 0.3),
          { dtype: "float64" },
        );
        return eg.sum(eg.mul(eg.reshape(y, [y.size]), w));
      };
      const gs = eg.grad(outer, { createGraph: true })(...xs);
      // every first derivative, weighted, as one function of the inputs
      return combine(gs);
    },
  };
}

runTable("gradcheck: second order (createGraph)", [
  secondOrder(
    "exp",
    (x) => eg.exp(x),
    () => [randn(S)],
  ),
  secondOrder(
    "log",
    (x) => eg.log(x),
    () => [uniform(S, 0.5, 2)],
  ),
  secondOrder(
    "log1p",
    (x) => eg.log1p(x),
    () => [uniform(S, -0.5, 2)],
  ),
  secondOrder(
    "sqrt",
    (x) => eg.sqrt(x),
    () => [uniform(S, 0.5, 2)],
  ),
  secondOrder(
    "rsqrt",
    (x) => eg.rsqrt(x),
    () => [uniform(S, 0.5, 2)],
  ),
  secondOrder(
    "sin",
    (x) => eg.sin(x),
    () => [randn(S)],
  ),
  secondOrder(
    "cos",
    (x) => eg.cos(x),
    () => [randn(S)],
  ),
  secondOrder(
    "tanh",
    (x) => eg.tanh(x),
    () => [randn(S)],
  ),
  secondOrder(
    "sigmoid",
    (x) => eg.sigmoid(x),
    () => [randn(S)],
  ),
  secondOrder(
    "reciprocal",
    (x) => eg.reciprocal(x),
    () => [awayFromZero(S)],
  ),
  secondOrder(
    "square",
    (x) => eg.square(x),
    () => [randn(S)],
  ),
  secondOrder(
    "powScalar 3.5",
    (x) => eg.powScalar(x, 3.5),
    () => [uniform(S, 0.5, 2)],
  ),
  secondOrder(
    "erf",
    (x) => eg.erf(x),
    () => [randn(S)],
  ),
  secondOrder(
    "gelu (erf)",
    (x) => eg.gelu(x),
    () => [randn(S)],
  ),
  secondOrder(
    "gelu (tanh)",
    (x) => eg.gelu(x, { approximate: "tanh" }),
    () => [randn(S)],
  ),
  secondOrder(
    "silu",
    (x) => eg.silu(x),
    () => [randn(S)],
  ),
  secondOrder(
    "softplus",
    (x) => eg.softplus(x),
    () => [randn(S)],
  ),
  secondOrder(
    "elu",
    (x) => eg.elu(x, 1.3),
    () => [awayFromZero(S)],
  ),
  secondOrder(
    "leakyRelu",
    (x) => eg.mul(eg.leakyRelu(x, 0.2), x),
    () => [awayFromZero(S)],
  ),
  secondOrder(
    "relu * x",
    (x) => eg.mul(eg.relu(x), x),
    () => [awayFromZero(S)],
  ),
  secondOrder(
    "abs * x",
    (x) => eg.mul(eg.abs(x), x),
    () => [awayFromZero(S)],
  ),
  secondOrder(
    "clamp * x",
    (x) => eg.mul(eg.clamp(x, -0.5, 0.5), x),
    () => [
      f64([
        [-1, -0.4, 0.2, 0.45],
        [0.7, -0.6, 0.05, 2],
      ]),
    ],
  ),
  secondOrder(
    "mul and div",
    (a, b) => eg.div(eg.mul(a, b), eg.add(eg.square(b), 1)),
    () => [randn([2, 3]), randn([3])],
  ),
  secondOrder(
    "pow (tensor exponent)",
    (a, b) => eg.pow(a, b),
    () => [uniform([2, 3], 0.5, 2), randn([3])],
  ),
  secondOrder(
    "maximum * a",
    (a, b) => eg.mul(eg.maximum(a, b), a),
    () => [randn([2, 3]), randn([2, 3])],
  ),
  secondOrder(
    "where",
    (a, b) => eg.square(eg.where(COND, a, b)),
    () => [randn([3, 2]), randn([3, 2])],
  ),
  secondOrder(
    "matmul",
    (a, b) => eg.square(eg.matmul(a, b, { transB: true })),
    () => [randn([2, 3]), randn([4, 3])],
  ),
  secondOrder(
    "sum, mean, max",
    (x) => eg.mul(eg.max(x, 1), eg.mean(eg.square(x), 1)),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "prod",
    (x) => eg.prod(x, 1),
    () => [uniform([2, 3], 0.5, 1.5)],
  ),
  secondOrder(
    "prod with a zero",
    (x) => eg.prod(x, 0),
    () => [
      f64([
        [0, 2],
        [1.5, 0.5],
        [-0.7, 1.1],
      ]),
    ],
  ),
  secondOrder(
    "logSumExp",
    (x) => eg.logSumExp(x, -1),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "norm p=2",
    (x) => eg.norm(x, 2, -1),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "variance",
    (x) => eg.variance(x, 0),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "softmax",
    (x) => eg.softmax(x, 0),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "logSoftmax",
    (x) => eg.logSoftmax(x),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "layerNorm affine",
    (x, w, b) => eg.layerNorm(x, [4], w, b),
    () => [randn([3, 4]), randn([4]), randn([4])],
  ),
  secondOrder(
    "layerNorm plain",
    (x) => eg.layerNorm(x, [2, 3]),
    () => [randn([2, 2, 3])],
  ),
  secondOrder(
    "slice * x",
    (x) =>
      eg.square(
        eg.slice(x, [
          [null, null, -1],
          [0, 4, 2],
        ]),
      ),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "pad",
    (x) => eg.square(eg.pad(x, [1, -1])),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "indexSelect",
    (x) => eg.square(eg.indexSelect(x, 1, i32([0, 2, 2]))),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "gather",
    (x) => eg.square(eg.gather(x, 1, i32([[0], [3], [1]]))),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "permute, expand, flip, tril",
    (x) => eg.square(eg.tril(eg.flip(eg.expand(eg.permute(x, [1, 0]), [2, 4, 3]), 1))),
    () => [randn([3, 4])],
  ),
  secondOrder(
    "concat, split",
    (x) => combine(eg.split(eg.concat([x, eg.square(x)], 1), [3, 5], 1)),
    () => [randn([2, 4])],
  ),
  secondOrder(
    "crossEntropy",
    (x) => eg.crossEntropy(x, TARGET_IGNORE, { labelSmoothing: 0.1 }),
    () => [randn([5, 4])],
  ),
  secondOrder(
    "binaryCrossEntropyWithLogits",
    (x, y) => eg.binaryCrossEntropyWithLogits(x, y),
    () => [randn(S), uniform(S, 0, 1)],
  ),
]);
