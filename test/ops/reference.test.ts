/**
 * Every op against PyTorch 1.13 reference values. test/fixtures/ops.json is produced by
 * scripts/gen-op-fixtures.py: each case names an Engram op, its JSON arguments ({"$t": i} is input
 * tensor i), the exact input tensors, PyTorch's outputs and,
 * for differentiable cases, PyTorch's gradient of sum(out * w) for a stored w. Each case runs the op
 * on the active backend (ENGRAM_BACKEND) and compares values, shapes and dtypes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

type Value = number | "Infinity" | "-Infinity" | "NaN";
interface Stored {
  shape: number[];
  dtype: eg.DType;
  data: Value[];
  grad?: boolean;
}
interface Tol {
  rtol: number;
  atol: number;
}
interface Case {
  name: string;
  op: string;
  args: unknown[];
  inputs: Stored[];
  outputs: Stored[];
  w?: Stored[];
  grads?: Stored[];
  note?: string;
  tol?: Partial<Record<"float32" | "float64", Tol>>;
}
interface Fixture {
  torch: string;
  cases: Case[];
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/ops.json", import.meta.url), "utf8")) as Fixture;

/**
 * Absolute tolerances are scaled by max(1, max |expected|) of the tensor compared, so a sum of
 * large terms is judged against the size of its terms rather than of a result that cancels.
 * float32: PyTorch rounds every step to float32 while Engram's kernels often accumulate in double.
 */
const DEFAULT_TOL: Record<"float32" | "float64", Tol> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-12, atol: 1e-12 },
};

function decode(v: Value): number {
  return typeof v === "number" ? v : Number(v);
}

function build(s: Stored): eg.Tensor {
  const values = s.data.map(decode);
  const data =
    s.dtype === "float32"
      ? Float32Array.from(values)
      : s.dtype === "float64"
        ? Float64Array.from(values)
        : s.dtype === "int32"
          ? Int32Array.from(values)
          : Uint8Array.from(values);
  const t = eg.tensor(data, { shape: s.shape, dtype: s.dtype });
  if (s.grad === true) t.requiresGrad = true;
  return t;
}

/** Replaces {"$t": i} by input tensor i, {"$num": "Infinity"} by the number and {"$undefined": true} by undefined, recursively. */
function resolve(v: unknown, inputs: readonly eg.Tensor[]): unknown {
  if (Array.isArray(v)) return v.map((e) => resolve(e, inputs));
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.$t === "number") return inputs[o.$t];
    if (typeof o.$num === "string") return Number(o.$num);
    if (o.$undefined === true) return undefined;
    return Object.fromEntries(Object.entries(o).map(([k, e]) => [k, resolve(e, inputs)]));
  }
  return v;
}

function call(c: Case, inputs: readonly eg.Tensor[]): eg.Tensor[] {
  const fn = (eg as unknown as Record<string, unknown>)[c.op];
  if (typeof fn !== "function") throw new Error(`${c.name}: engram has no function ${c.op}`);
  const out = (fn as (...a: unknown[]) => unknown)(...(resolve(c.args, inputs) as unknown[]));
  const outs = Array.isArray(out) ? (out as unknown[]) : [out];
  return outs.map((o, i) => {
    if (!(o instanceof eg.Tensor)) throw new Error(`${c.name}: output ${i} is not a Tensor`);
    return o;
  });
}

/** Throws a readable report of the worst mismatches between `got` and the stored expectation. */
function compare(what: string, got: eg.Tensor, exp: Stored, tol: Tol): void {
  expect(got.shape, `${what}: shape`).toEqual(exp.shape);
  expect(got.dtype, `${what}: dtype`).toBe(exp.dtype);
  const want = exp.data.map(decode);
  const exact = exp.dtype === "int32" || exp.dtype === "bool";
  const scale = want.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
  const bad: string[] = [];
  let worst = 0;
  want.forEach((e, i) => {
    const g = got.data[i]!;
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(g);
    else if (!Number.isFinite(e) || exact) ok = g === e;
    else {
      const err = Math.abs(g - e);
      ok = err <= tol.atol * scale + tol.rtol * Math.abs(e);
      worst = Math.max(worst, err / (tol.atol * scale + tol.rtol * Math.abs(e)));
    }
    if (!ok && bad.length < 6) bad.push(`[${i}] expected ${e}, got ${g}`);
  });
  if (bad.length > 0) {
    throw new Error(
      `${what} differs from PyTorch (rtol ${tol.rtol}, atol ${tol.atol} x ${scale.toPrecision(3)}; worst ${worst.toPrecision(3)}x tol): ${bad.join("; ")}`,
    );
  }
}

function tolFor(c: Case, dtype: eg.DType): Tol {
  const key = dtype === "float64" ? "float64" : "float32";
  return c.tol?.[key] ?? DEFAULT_TOL[key];
}

function runCase(c: Case): void {
  const inputs = c.inputs.map(build);
  const outs = call(c, inputs);
  expect(outs.length, "number of outputs").toBe(c.outputs.length);
  outs.forEach((o, k) => compare(`output ${k}`, o, c.outputs[k]!, tolFor(c, c.outputs[k]!.dtype)));
  if (!c.w || !c.grads) return;
  // d/dx sum_k sum(out_k * w_k), the same objective PyTorch differentiated
  const terms = outs.map((o, k) => eg.sum(eg.mul(o, build(c.w![k]!))));
  const loss = terms.reduce((a, b) => eg.add(a, b));
  if (loss.requiresGrad) loss.backward();
  const wanted = inputs.filter((x) => x.requiresGrad);
  expect(wanted.length, "inputs with gradients").toBe(c.grads.length);
  wanted.forEach((x, k) => {
    const exp = c.grads![k]!;
    compare(`gradient ${k}`, x.grad ?? eg.zeros(x.shape, { dtype: x.dtype }), exp, tolFor(c, exp.dtype));
  });
}

describe(`ops against PyTorch ${fixture.torch} (${eg.getBackend()} backend)`, () => {
  it("the fixture covers every op family", () => {
    const ops = new Set(fixture.cases.map((c) => c.op));
    const required = [
      "arange",
      "linspace",
      "eye",
      "neg",
      "abs",
      "exp",
      "log",
      "log1p",
      "sqrt",
      "rsqrt",
      "square",
      "reciprocal",
      "sin",
      "cos",
      "erf",
      "relu",
      "sigmoid",
      "tanh",
      "silu",
      "gelu",
      "elu",
      "leakyRelu",
      "softplus",
      "round",
      "floor",
      "ceil",
      "sign",
      "isFinite",
      "logicalNot",
      "pow",
      "clamp",
      "add",
      "sub",
      "mul",
      "div",
      "maximum",
      "minimum",
      "eq",
      "ne",
      "lt",
      "le",
      "gt",
      "ge",
      "logicalAnd",
      "logicalOr",
      "logicalXor",
      "where",
      "sum",
      "mean",
      "max",
      "min",
      "argmax",
      "argmin",
      "prod",
      "logSumExp",
      "variance",
      "std",
      "norm",
      "matmul",
      "bmm",
      "outer",
      "einsum",
      "permute",
      "transpose",
      "slice",
      "narrow",
      "gather",
      "scatterAdd",
      "indexSelect",
      "concat",
      "stack",
      "split",
      "chunk",
      "pad",
      "roll",
      "flip",
      "tril",
      "triu",
      "repeat",
      "oneHot",
      "softmax",
      "logSoftmax",
      "layerNorm",
      "crossEntropy",
      "nllLoss",
      "binaryCrossEntropy",
      "binaryCrossEntropyWithLogits",
      "mseLoss",
      "cosineSimilarity",
      "normalize",
    ];
    expect(required.filter((op) => !ops.has(op))).toEqual([]);
    expect(fixture.cases.some((c) => c.inputs.some((x) => x.dtype === "float64"))).toBe(true);
  });

  for (const c of fixture.cases) {
    it(c.name, () => runCase(c));
  }
});
