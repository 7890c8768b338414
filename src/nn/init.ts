/**
 * Parameter initialisers. Each fills a float tensor in place (writing its storage directly, so no
 * op is recorded and gradients are untouched) and returns it. Fans and gains follow PyTorch's
 * torch.nn.init; randomness comes from `generator` or the default generator.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, DTypeError, fmtShape } from "../core/errors.js";
import { defaultGenerator, type Generator } from "../core/rng.js";

export type Nonlinearity = "linear" | "identity" | "conv1d" | "conv2d" | "conv3d" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "selu";

export interface InitOptions {
  generator?: Generator;
}

function checkFloat(op: string, t: Tensor): void {
  if (t.dtype !== "float32" && t.dtype !== "float64")
    throw new DTypeError(`${op}: tensor must be float32 or float64, got ${t.dtype} of shape ${fmtShape(t.shape)}`);
  t.assertAlive(op);
}

function fill(op: string, t: Tensor, opts: InitOptions, draw: (g: Generator) => number): Tensor {
  checkFloat(op, t);
  const g = opts.generator ?? defaultGenerator;
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = draw(g);
  return t;
}

/**
 * (fanIn, fanOut) like PyTorch: for a weight (out, in, k...) fanIn = in * prod(k), fanOut = out * prod(k).
 */
export function calculateFans(t: Tensor): [number, number] {
  return fans("calculateFans", t);
}

function fans(op: string, t: Tensor): [number, number] {
  if (t.ndim < 2) throw new ArgumentError(`${op}: fan in and fan out need a tensor with at least 2 dimensions, got ${fmtShape(t.shape)}`);
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i]!;
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

/** The recommended gain for a nonlinearity (PyTorch's calculate_gain); `param` is leakyRelu's negative slope. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "identity":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || !Number.isFinite(slope))
        throw new ArgumentError(`calculateGain: negative slope must be a finite number, got ${String(slope)}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

export function uniform(t: Tensor, low = 0, high = 1, opts: InitOptions = {}): Tensor {
  if (!(low <= high)) throw new ArgumentError(`uniform: low (${low}) must not exceed high (${high})`);
  return fill("uniform", t, opts, (g) => low + (high - low) * g.random());
}

export function normal(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  if (!(std >= 0)) throw new ArgumentError(`normal: std must be >= 0, got ${std}`);
  return fill("normal", t, opts, (g) => mean + std * g.normal());
}

export function constant(t: Tensor, value: number): Tensor {
  checkFloat("constant", t);
  t.data.fill(value);
  return t;
}

export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

export interface XavierOptions extends InitOptions {
  gain?: number;
}

/** Glorot: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(t: Tensor, opts: XavierOptions = {}): Tensor {
  checkFloat("xavierUniform", t);
  const [fanIn, fanOut] = fans("xavierUniform", t);
  if (t.size === 0) return t;
  const a = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a, opts);
}

/** Glorot: N(0, std^2) with std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, opts: XavierOptions = {}): Tensor {
  checkFloat("xavierNormal", t);
  const [fanIn, fanOut] = fans("xavierNormal", t);
  if (t.size === 0) return t;
  return normal(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (only used with nonlinearity "leakyRelu"). Default 0. */
  a?: number;
  mode?: "fanIn" | "fanOut";
  /** Default "leakyRelu", which with a = 0 is ReLU's gain sqrt(2), as in PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, opts: KaimingOptions): number {
  checkFloat(op, t);
  const mode = opts.mode ?? "fanIn";
  if (mode !== "fanIn" && mode !== "fanOut")
    throw new ArgumentError(`${op}: mode must be "fanIn" or "fanOut", got ${JSON.stringify(mode)}`);
  const [fanIn, fanOut] = fans(op, t);
  const fan = mode === "fanIn" ? fanIn : fanOut;
  return calculateGain(opts.nonlinearity ?? "leakyRelu", opts.a ?? 0) / Math.sqrt(fan);
}

/** He: U(-b, b) with b = gain * sqrt(3 / fan). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const std = kaimingStd("kaimingUniform", t, opts);
  if (t.size === 0) return t;
  const bound = Math.sqrt(3) * std;
  return uniform(t, -bound, bound, opts);
}

/** He: N(0, (gain / sqrt(fan))^2). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const std = kaimingStd("kaimingNormal", t, opts);
  if (t.size === 0) return t;
  return normal(t, 0, std, opts);
}

/**
 * A (semi-)orthogonal matrix: the tensor is viewed as (shape[0], rest) and filled with Q from the
 * QR factorisation of a Gaussian matrix (sign-fixed so the factorisation is unique, which makes Q
 * Haar-distributed), times gain. Rows are orthonormal when rows <= cols, columns otherwise.
 */
export function orthogonal(t: Tensor, opts: XavierOptions = {}): Tensor {
  checkFloat("orthogonal", t);
  if (t.ndim < 2) throw new ArgumentError(`orthogonal: tensor must have at least 2 dimensions, got ${fmtShape(t.shape)}`);
  if (t.size === 0) return t;
  const rows = t.shape[0]!;
  const cols = t.size / rows;
  const g = opts.generator ?? defaultGenerator;
  // Work on the tall orientation (m >= n) and orthonormalise its n columns.
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const basis: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = g.normal();
    basis.push(v);
  }
  gramSchmidt(basis);
  const gain = opts.gain ?? 1;
  const d = t.data;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // tall case: column c of Q is column c of the result; wide case: Q^T, so row r is column r of Q
      d[r * cols + c] = gain * (rows >= cols ? basis[c]![r]! : basis[r]![c]!);
    }
  }
  return t;
}

/**
 * Modified Gram-Schmidt with one re-orthogonalisation pass, in float64, in place. It equals QR with
 * a positive diagonal in R (the sign convention PyTorch enforces with sign(diag(R))).
 */
function gramSchmidt(vs: Float64Array[]): void {
  for (let j = 0; j < vs.length; j++) {
    const v = vs[j]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const q = vs[k]!;
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += q[i]! * v[i]!;
        for (let i = 0; i < v.length; i++) v[i]! -= dot * q[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    // A Gaussian column is almost surely independent of the previous ones; norm 0 would need exact ties.
    if (norm === 0) throw new ArgumentError("orthogonal: random matrix was rank deficient");
    for (let i = 0; i < v.length; i++) v[i]! /= norm;
  }
}
