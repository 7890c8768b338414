/**
 * Elementwise ops: unary math and activations, broadcasting binary arithmetic, comparisons,
 * logical ops, where, clamp and casts. Backward rules reduce broadcast gradients with `sumTo`.
 */
import { K } from "../backend/index.js";
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type FloatArray, type UnaryOp } from "../backend/kernels.js";
import { checkDType, isFloat, promoteTypes, type DType } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, fmtValue } from "../core/errors.js";
import { broadcastShapes, broadcastStrides, packLayout, shapesEqual } from "../core/shape.js";
import { needsGrad, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { sumTo } from "./reduce.js";
import { assertBool, assertNumber, assertTensor, optionsOf, scalar, scalarDType, type TensorLike } from "./util.js";

const U = Object.fromEntries(UNARY_OPS.map((n, i) => [n, i])) as Record<UnaryOp, number>;
const B = Object.fromEntries(BINARY_OPS.map((n, i) => [n, i])) as Record<BinaryOp, number>;

/** Unary ops that are closed over int32 (the rest promote integer inputs to float32). */
const INT_OK = new Set<UnaryOp>(["neg", "abs", "sign", "square", "relu", "clamp", "affine"]);
const NO_GRAD = new Set<UnaryOp>(["floor", "ceil", "round", "sign", "logicalNot", "isFinite"]);

// ---------------------------------------------------------------- casts

export function cast(x: Tensor, dtype: DType): Tensor {
  assertTensor("cast", x);
  checkDType("cast", dtype);
  if (x.dtype === dtype) return x;
  const out = Tensor.empty(x.shape, dtype);
  K.cast(x.data, out.data);
  if (isFloat(dtype) && isFloat(x.dtype) && needsGrad(x)) {
    const from = x.dtype;
    record("cast", out, [x], (g) => [cast(g, from)]);
  }
  return out;
}

// ---------------------------------------------------------------- unary

export function unary(op: UnaryOp, x: Tensor, p0 = 0, p1 = 0): Tensor {
  // the kernel code doubles as the check: inherited keys ("toString") are not numbers
  const code: unknown = typeof op === "string" ? U[op] : undefined;
  if (typeof code !== "number") throw new ArgumentError(`unary: unknown op ${fmtValue(op)} (expected one of ${UNARY_OPS.join(", ")})`);
  assertTensor(op, x);
  if (op === "logicalNot") x = x.dtype === "bool" ? x : ne(x, 0);
  else if (op === "isFinite") {
    if (!isFloat(x.dtype)) return filled(x.shape, 1, "bool");
  } else if (x.dtype === "bool" || (x.dtype === "int32" && !INT_OK.has(op))) x = cast(x, "float32");
  const outDType: DType = op === "logicalNot" || op === "isFinite" ? "bool" : x.dtype;
  const out = Tensor.empty(x.shape, outDType);
  K.unary(code, x.data, out.data, p0, p1);
  if (!NO_GRAD.has(op) && needsGrad(x)) {
    record(op, out, [x], (g) => [unaryGrad(op, x, out, g, p0, p1)]);
  }
  return out;
}

/** dx = dy * f'(x), itself differentiable for the ops whose derivative is an elementwise expression we can re-record. */
function unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, g: Tensor, p0: number, p1: number): Tensor {
  if (needsGrad(g, x)) return unaryGradComposite(op, x, y, g, p0, p1);
  const dx = Tensor.empty(x.shape, x.dtype);
  K.unaryGrad(U[op], x.data as FloatArray, y.data as FloatArray, g.data as FloatArray, dx.data as FloatArray, p0, p1);
  return dx;
}

/** Derivatives written with ops, used only when the backward pass itself is recorded (createGraph). */
function unaryGradComposite(op: UnaryOp, x: Tensor, y: Tensor, g: Tensor, p0: number, p1: number): Tensor {
  switch (op) {
    case "neg":
      return neg(g);
    case "exp":
      return mul(g, y);
    case "log":
      return div(g, x);
    case "sqrt":
      return div(mul(g, 0.5), y);
    case "square":
      return mul(g, mul(x, 2));
    case "tanh":
      return mul(g, sub(1, square(y)));
    case "sigmoid":
      return mul(g, mul(y, sub(1, y)));
    case "sin":
      return mul(g, cos(x));
    case "cos":
      return mul(g, neg(sin(x)));
    case "reciprocal":
      return neg(mul(g, square(y)));
    case "affine":
      return mul(g, p0);
    case "powScalar":
      return mul(g, mul(powScalar(x, p0 - 1), p0));
    case "relu":
      return mul(g, cast(gt(x, 0), g.dtype));
    case "abs":
      return mul(g, sign(x));
    case "clamp":
      return mul(g, cast(logicalAnd(ge(x, p0), le(x, p1)), g.dtype));
    case "log1p":
      return div(g, add(x, 1));
    case "rsqrt":
      // y = x^(-1/2): dy/dx = -x^(-3/2) / 2 = -y^3 / 2
      return mul(g, mul(powScalar(y, 3), -0.5));
    case "erf":
      return mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)));
    case "softplus":
      return mul(g, sigmoid(x));
    case "silu": {
      const s = sigmoid(x);
      return mul(g, mul(s, add(1, mul(x, sub(1, s)))));
    }
    case "gelu": {
      // Phi(x) + x phi(x)
      const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return mul(g, add(cdf, mul(x, pdf)));
    }
    case "geluTanh": {
      // u = c (x + k x^3), t = tanh(u): d/dx = (1 + t) / 2 + x (1 - t^2) c (1 + 3 k x^2) / 2
      const c = Math.sqrt(2 / Math.PI);
      const k = 0.044715;
      const t = tanh(mul(add(x, mul(powScalar(x, 3), k)), c));
      const du = mul(add(mul(square(x), 3 * k), 1), c / 2);
      return mul(g, add(mul(add(t, 1), 0.5), mul(mul(x, sub(1, square(t))), du)));
    }
    case "elu":
      // x <= 0: y = a (e^x - 1), so dy/dx = y + a
      return mul(g, where(gt(x, 0), 1, add(y, p0)));
    case "leakyRelu":
      return mul(g, add(mul(cast(gt(x, 0), g.dtype), 1 - p0), p0));
    case "sign":
    case "floor":
    case "ceil":
    case "round":
    case "logicalNot":
    case "isFinite":
      // never recorded (NO_GRAD and bool outputs), so never asked for a derivative
      throw new DTypeError(`${op}: not differentiable`);
  }
}

export const neg = (x: Tensor): Tensor => unary("neg", x);
export const abs = (x: Tensor): Tensor => unary("abs", x);
export const sign = (x: Tensor): Tensor => unary("sign", x);
export const exp = (x: Tensor): Tensor => unary("exp", x);
export const log = (x: Tensor): Tensor => unary("log", x);
export const log1p = (x: Tensor): Tensor => unary("log1p", x);
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unary("rsqrt", x);
export const square = (x: Tensor): Tensor => unary("square", x);
export const reciprocal = (x: Tensor): Tensor => unary("reciprocal", x);
export const sin = (x: Tensor): Tensor => unary("sin", x);
export const cos = (x: Tensor): Tensor => unary("cos", x);
export const floor = (x: Tensor): Tensor => unary("floor", x);
export const ceil = (x: Tensor): Tensor => unary("ceil", x);
export const round = (x: Tensor): Tensor => unary("round", x);
export const erf = (x: Tensor): Tensor => unary("erf", x);
export const relu = (x: Tensor): Tensor => unary("relu", x);
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
export const silu = (x: Tensor): Tensor => unary("silu", x);
export const logicalNot = (x: Tensor): Tensor => unary("logicalNot", x);
export const isFinite = (x: Tensor): Tensor => unary("isFinite", x);

export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return unary("leakyRelu", x, assertNumber("leakyRelu", negativeSlope, "negativeSlope"));
}
export function elu(x: Tensor, alpha = 1): Tensor {
  return unary("elu", x, assertNumber("elu", alpha, "alpha"));
}
/** GELU; `approximate: "tanh"` is the tanh form used by GPT-2 and BERT implementations. */
export function gelu(x: Tensor, opts: { approximate?: "none" | "tanh" } = {}): Tensor {
  optionsOf("gelu", opts);
  const a = opts.approximate ?? "none";
  if (a !== "none" && a !== "tanh") throw new ArgumentError(`gelu: approximate must be "none" or "tanh", got ${fmtValue(a)}`);
  return unary(a === "tanh" ? "geluTanh" : "gelu", x);
}
/** softplus(x) = log(1 + exp(beta x)) / beta, linear above `threshold` like PyTorch. */
export function softplus(x: Tensor, opts: { beta?: number } = {}): Tensor {
  optionsOf("softplus", opts);
  const beta = assertNumber("softplus", opts.beta ?? 1, "beta", { finite: true });
  if (beta === 0) throw new ArgumentError("softplus: beta must be non-zero");
  if (beta === 1) return unary("softplus", x);
  return mul(unary("softplus", mul(x, beta)), 1 / beta);
}
export function powScalar(x: Tensor, p: number): Tensor {
  return unary("powScalar", x, assertNumber("pow", p, "exponent"));
}

export function clamp(x: Tensor, min: number | null = null, max: number | null = null): Tensor {
  assertTensor("clamp", x);
  const lo = min === null ? -Infinity : assertNumber("clamp", min, "min");
  const hi = max === null ? Infinity : assertNumber("clamp", max, "max");
  if (lo > hi) throw new ArgumentError(`clamp: min ${lo} is greater than max ${hi}`);
  if (x.dtype === "int32" && ((!Number.isInteger(lo) && Number.isFinite(lo)) || (!Number.isInteger(hi) && Number.isFinite(hi))))
    x = cast(x, "float32");
  return unary("clamp", x, lo, hi);
}

// ---------------------------------------------------------------- binary

const COMPARE = new Set<BinaryOp>(["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr", "logicalXor"]);

function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") throw new ArgumentError(`${op}: at least one operand must be a Tensor`);
  if (typeof a === "number") {
    const bt = assertTensor(op, b, "second operand");
    return [scalar(a, scalarDType(bt.dtype, a)), bt];
  }
  const at = assertTensor(op, a, "first operand");
  if (typeof b === "number") return [at, scalar(b, scalarDType(at.dtype, b))];
  return [at, assertTensor(op, b, "second operand")];
}

/** Arithmetic with a JS number on a float tensor is one fused pass (x * s + t). */
function affineFast(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor | null {
  const x = typeof a === "number" ? b : a;
  const s = typeof a === "number" ? a : b;
  if (!(x instanceof Tensor) || typeof s !== "number" || !isFloat(x.dtype)) return null;
  const left = typeof a === "number";
  switch (op) {
    case "add":
      return unary("affine", x, 1, s);
    case "sub":
      return left ? unary("affine", x, -1, s) : unary("affine", x, 1, -s);
    case "mul":
      return unary("affine", x, s, 0);
    case "div":
      return left ? null : unary("affine", x, 1 / s, 0);
    default:
      return null;
  }
}

const SCRATCH_LAYOUT = new Int32Array(4);

export function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const code: unknown = typeof op === "string" ? B[op] : undefined;
  if (typeof code !== "number") throw new ArgumentError(`binary: unknown op ${fmtValue(op)} (expected one of ${BINARY_OPS.join(", ")})`);
  const fast = affineFast(op, a, b);
  if (fast) return fast;
  let [x, y] = operands(op, a, b);
  let dtype = promoteTypes(x.dtype, y.dtype);
  const logical = op === "logicalAnd" || op === "logicalOr" || op === "logicalXor";
  if (!logical && dtype === "bool") dtype = "int32";
  if ((op === "div" || op === "pow") && dtype === "int32") dtype = "float32";
  if (x.dtype !== dtype) x = cast(x, dtype);
  if (y.dtype !== dtype) y = cast(y, dtype);
  const same = shapesEqual(x.shape, y.shape);
  const shape = same ? x.shape : broadcastShapes(op, x.shape, y.shape);
  const out = Tensor.empty(shape, COMPARE.has(op) ? "bool" : dtype);
  let layout: Int32Array;
  if (same) {
    layout = SCRATCH_LAYOUT; // kernels are synchronous and keep no reference, so one scratch layout serves every call
    layout[0] = 1;
    layout[1] = out.size;
    layout[2] = 1;
    layout[3] = 1;
  } else {
    layout = packLayout(shape, [broadcastStrides(x.shape, shape), broadcastStrides(y.shape, shape)]);
  }
  K.binary(code, x.data, y.data, out.data, layout);
  if (!COMPARE.has(op) && needsGrad(x, y)) {
    const xs = x;
    const ys = y;
    record(op, out, [x, y], (g) => binaryGrad(op, xs, ys, out, g));
  }
  return out;
}

function binaryGrad(op: BinaryOp, x: Tensor, y: Tensor, out: Tensor, g: Tensor): (Tensor | null)[] {
  const gx = x.requiresGrad;
  const gy = y.requiresGrad;
  switch (op) {
    case "add":
      return [gx ? sumTo(g, x.shape) : null, gy ? sumTo(g, y.shape) : null];
    case "sub":
      return [gx ? sumTo(g, x.shape) : null, gy ? sumTo(neg(g), y.shape) : null];
    case "mul":
      return [gx ? sumTo(mul(g, y), x.shape) : null, gy ? sumTo(mul(g, x), y.shape) : null];
    case "div":
      return [gx ? sumTo(div(g, y), x.shape) : null, gy ? sumTo(neg(div(mul(g, out), y)), y.shape) : null];
    case "pow": {
      // d/dx x^y = y x^(y-1); d/dy x^y = x^y log x (0 where x == 0, as PyTorch)
      const dx = gx ? sumTo(mul(g, mul(y, pow(x, sub(y, 1)))), x.shape) : null;
      const dy = gy ? sumTo(mul(g, where(eq(x, 0), 0, mul(out, log(x)))), y.shape) : null;
      return [dx, dy];
    }
    case "minimum":
    case "maximum": {
      // ties split the gradient evenly, like PyTorch
      const pick = op === "maximum" ? gt(x, y) : lt(x, y);
      const tie = eq(x, y);
      const wx = add(cast(pick, g.dtype), mul(cast(tie, g.dtype), 0.5));
      return [gx ? sumTo(mul(g, wx), x.shape) : null, gy ? sumTo(mul(g, sub(1, wx)), y.shape) : null];
    }
    default:
      throw new DTypeError(`${op}: not differentiable`);
  }
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);

/**
 * dst += src in place, for two contiguous tensors of one float dtype and shape (the autograd
 * engine's gradient sums; callers check shapes and dtypes). Not recorded: no graph sees it.
 */
export function addInto(dst: Tensor, src: Tensor): void {
  const layout = SCRATCH_LAYOUT;
  layout[0] = 1;
  layout[1] = dst.size;
  layout[2] = 1;
  layout[3] = 1;
  K.binary(B.add, dst.data, src.data, dst.data, layout); // elementwise: in place is safe
}
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary("sub", a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary("div", a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary("minimum", a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary("maximum", a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary("eq", a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary("ne", a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary("lt", a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary("le", a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary("gt", a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary("ge", a, b);
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binary("logicalAnd", a, b);
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binary("logicalOr", a, b);
export const logicalXor = (a: TensorLike, b: TensorLike): Tensor => binary("logicalXor", a, b);

/** x ** p; a number exponent is one fused pass. */
export function pow(x: TensorLike, p: TensorLike): Tensor {
  if (x instanceof Tensor && typeof p === "number" && isFloat(x.dtype)) {
    if (p === 2) return square(x);
    if (p === 1) return unary("affine", x, 1, 0);
    return powScalar(x, p);
  }
  return binary("pow", x, p);
}

// ---------------------------------------------------------------- where

/** cond ? a : b with broadcasting; cond must be bool (true = take a). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  assertTensor("where", cond, "condition");
  assertBool("where", cond, "condition");
  let [x, y] = operands("where", a, b);
  const dtype = promoteTypes(x.dtype, y.dtype);
  if (x.dtype !== dtype) x = cast(x, dtype);
  if (y.dtype !== dtype) y = cast(y, dtype);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, x.shape), y.shape);
  const out = Tensor.empty(shape, dtype);
  K.where(
    cond.data as Uint8Array,
    x.data,
    y.data,
    out.data,
    packLayout(shape, [broadcastStrides(cond.shape, shape), broadcastStrides(x.shape, shape), broadcastStrides(y.shape, shape)]),
  );
  if (needsGrad(x, y)) {
    const xs = x;
    const ys = y;
    record("where", out, [x, y], (g) => [
      xs.requiresGrad ? sumTo(where(cond, g, 0), xs.shape) : null,
      ys.requiresGrad ? sumTo(where(cond, 0, g), ys.shape) : null,
    ]);
  }
  return out;
}

// ---------------------------------------------------------------- fill (used by creation and ops)

/** A tensor of one value, without argument checks (the public `full` in creation.ts validates). */
export function filled(shape: readonly number[], value: number, dtype: DType = "float32"): Tensor {
  const t = Tensor.empty(shape, dtype);
  if (value !== 0) t.data.fill(dtype === "bool" ? (value ? 1 : 0) : value);
  return t;
}

/** Checks that every element of a float tensor is finite; throws naming `what` otherwise. */
export function assertFinite(op: string, x: Tensor, what = "input"): void {
  if (!isFloat(x.dtype)) return;
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!))
      throw new ArgumentError(`${op}: ${what} of shape ${fmtShape(x.shape)} contains ${d[i]} at flat index ${i}`);
  }
}
