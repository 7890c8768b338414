/**
 * Modern (continuous) Hopfield networks (Ramsauer et al. 2020, "Hopfield Networks is All You
 * Need"). Stored patterns X = (x_1 .. x_N) and a state pattern xi; one update
 *   xi <- X softmax(beta X^T xi)
 * lowers the energy E = -lse(beta, X^T xi) + xi^T xi / 2 + const, and near a well-separated stored
 * pattern converges to it in one step. With small beta (or patterns that overlap) it lands instead on
 * a metastable state, the average of a subset of patterns (of all of them as beta -> 0). The update
 * is scaled dot-product attention with the stored patterns as keys and values and beta as the scale,
 * so it is computed by `scaledDotProductAttention`.
 *
 * Layers (the paper's three, as in its reference library):
 * - `Hopfield`: state and stored patterns both given, with learned projections
 *   Q = R W_Q, K = Y W_K, V = Y W_V (the paper's W_K W_V folded into one W_V), beta = 1/sqrt(d_k).
 * - `HopfieldPooling`: learned state patterns (queries) pool a set of stored patterns (a bag).
 * - `HopfieldLayer`: learned stored patterns and their values, looked up by the projected input.
 * Each returns `{ output, weights }`, weights (B, Lq, N) being the last update's softmax.
 * With `steps` > 1 the state is updated in key space (xi <- K softmax(beta K^T xi)) before the last
 * update reads the values.
 */
import { noGrad } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { Generator } from "../core/rng.js";
import { uniform } from "../nn/init.js";
import { Linear } from "../nn/linear.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";
import { scaledDotProductAttention } from "../attention/sdpa.js";
import { expand, unsqueeze } from "../ops/shape.js";

export interface HopfieldRetrieveOptions {
  /** Inverse temperature (> 0). */
  beta: number;
  /** Updates (default 1). */
  steps?: number;
  /** What the last update reads, (..., N, Dv); default the stored patterns themselves. */
  values?: Tensor;
  /** Bool, true = may be retrieved; broadcastable to (..., Lq, N), e.g. (B, 1, N) for a padded bag. */
  mask?: Tensor;
}

export interface HopfieldResult {
  /** (..., Lq, Dv): the retrieved patterns. */
  output: Tensor;
  /** (..., Lq, N): the last update's softmax over the stored patterns (rows sum to 1). */
  weights: Tensor;
}

/**
 * state (..., Lq, d), stored (..., N, d) -> xi after `steps` updates xi <- softmax(beta xi X^T) X
 * (the state patterns are rows here, so X^T xi becomes xi X^T), the last one reading `values`.
 */
export function hopfieldRetrieve(state: Tensor, stored: Tensor, opts: HopfieldRetrieveOptions): HopfieldResult {
  const op = "hopfieldRetrieve";
  if (!(state instanceof Tensor) || !(stored instanceof Tensor)) throw new ArgumentError(`${op}: state and stored must be Tensors`);
  const beta = opts.beta;
  if (typeof beta !== "number" || !(beta > 0) || !Number.isFinite(beta)) {
    throw new ArgumentError(`${op}: beta must be a finite number > 0, got ${JSON.stringify(beta)}`);
  }
  const steps = positiveInt(op, opts.steps ?? 1, "steps", 1);
  if (state.ndim < 2 || stored.ndim < 2 || state.shape[state.ndim - 1] !== stored.shape[stored.ndim - 1]) {
    throw new ShapeError(`${op}: state ${fmtShape(state.shape)} and stored ${fmtShape(stored.shape)} must be (..., Lq, d) and (..., N, d)`);
  }
  const values = opts.values ?? stored;
  const attend = (xi: Tensor, v: Tensor): HopfieldResult => {
    const r = scaledDotProductAttention(xi, stored, v, { scale: beta, returnWeights: true, ...(opts.mask ? { mask: opts.mask } : {}) });
    return { output: r.output, weights: r.weights! };
  };
  let xi = state;
  for (let s = 1; s < steps; s++) xi = attend(xi, stored).output;
  return attend(xi, values);
}

export interface HopfieldOptions extends ParameterFloatOptions {
  /** Feature size of the stored patterns Y (default: inputSize, the state patterns' size). */
  storedSize?: number;
  /** d_k, the space in which states and stored patterns are compared (default inputSize). */
  hiddenSize?: number;
  /** Size of the retrieved vectors (default inputSize). */
  outputSize?: number;
  /** Default 1/sqrt(hiddenSize), which makes the layer transformer attention. */
  beta?: number;
  /** Updates per forward (default 1). */
  steps?: number;
  /** Biases on the projections (default false, as the paper's W_Q, W_K, W_V). */
  bias?: boolean;
  generator?: Generator;
}

export interface HopfieldForwardOptions {
  /** Bool, true = may be retrieved, broadcastable to (B, Lq, N); (B, 1, N) masks padding in a bag. */
  mask?: Tensor;
}

interface Common {
  beta: number;
  steps: number;
  linear: { dtype?: "float32" | "float64"; bias: boolean; generator?: Generator };
}

function common(op: string, hiddenSize: number, opts: HopfieldOptions): Common {
  const beta = opts.beta ?? 1 / Math.sqrt(hiddenSize);
  if (typeof beta !== "number" || !(beta > 0) || !Number.isFinite(beta)) {
    throw new ArgumentError(`${op}: beta must be a finite number > 0, got ${JSON.stringify(beta)}`);
  }
  return {
    beta,
    steps: positiveInt(op, opts.steps ?? 1, "steps", 1),
    linear: { dtype: floatDType(op, opts.dtype), bias: opts.bias ?? false, ...(opts.generator ? { generator: opts.generator } : {}) },
  };
}

function checkPatterns(op: string, what: string, x: Tensor, size: number): void {
  if (!(x instanceof Tensor)) throw new ArgumentError(`${op}: ${what} must be a Tensor`);
  if (x.ndim !== 3 || x.shape[2] !== size) throw new ShapeError(`${op}: ${what} ${fmtShape(x.shape)} must be (batch, count, ${size})`);
}

/**
 * Hopfield association between given state patterns R (B, Lq, inputSize) and stored patterns
 * Y (B, N, storedSize): softmax(beta (R W_Q)(Y W_K)^T) (Y W_V) -> (B, Lq, outputSize).
 * State-dict keys: `queryProj.weight` (hidden, input), `keyProj.weight` (hidden, stored),
 * `valueProj.weight` (output, stored), plus `.bias` of each with bias: true.
 */
export class Hopfield extends Module {
  readonly beta: number;
  readonly steps: number;
  readonly queryProj: Linear;
  readonly keyProj: Linear;
  readonly valueProj: Linear;

  constructor(inputSize: number, opts: HopfieldOptions = {}) {
    super();
    const op = "Hopfield";
    positiveInt(op, inputSize, "inputSize", 1);
    const storedSize = positiveInt(op, opts.storedSize ?? inputSize, "storedSize", 1);
    const hidden = positiveInt(op, opts.hiddenSize ?? inputSize, "hiddenSize", 1);
    const out = positiveInt(op, opts.outputSize ?? inputSize, "outputSize", 1);
    const c = common(op, hidden, opts);
    this.beta = c.beta;
    this.steps = c.steps;
    this.queryProj = new Linear(inputSize, hidden, c.linear);
    this.keyProj = new Linear(storedSize, hidden, c.linear);
    this.valueProj = new Linear(storedSize, out, c.linear);
  }

  forward(state: Tensor, stored: Tensor, opts: HopfieldForwardOptions = {}): HopfieldResult {
    const op = "Hopfield.forward";
    checkPatterns(op, "state", state, this.queryProj.inFeatures);
    checkPatterns(op, "stored", stored, this.keyProj.inFeatures);
    if (state.shape[0] !== stored.shape[0])
      throw new ShapeError(`${op}: state ${fmtShape(state.shape)} and stored ${fmtShape(stored.shape)} differ in batch size`);
    return hopfieldRetrieve(this.queryProj.forward(state), this.keyProj.forward(stored), {
      beta: this.beta,
      steps: this.steps,
      values: this.valueProj.forward(stored),
      ...(opts.mask ? { mask: opts.mask } : {}),
    });
  }
}

export interface HopfieldPoolingOptions extends Omit<HopfieldOptions, "storedSize"> {
  /** Learned state patterns, one pooled vector each (default 1). */
  numQueries?: number;
}

/**
 * Pools a bag of stored patterns Y (B, N, inputSize) with learned state patterns (queries):
 * (B, numQueries, outputSize). The multiple-instance-learning layer of the paper.
 * State-dict keys: `queries` (numQueries, hidden), `keyProj.*`, `valueProj.*`.
 */
export class HopfieldPooling extends Module {
  readonly beta: number;
  readonly steps: number;
  queries: Tensor;
  readonly keyProj: Linear;
  readonly valueProj: Linear;

  constructor(inputSize: number, opts: HopfieldPoolingOptions = {}) {
    super();
    const op = "HopfieldPooling";
    positiveInt(op, inputSize, "inputSize", 1);
    const hidden = positiveInt(op, opts.hiddenSize ?? inputSize, "hiddenSize", 1);
    const out = positiveInt(op, opts.outputSize ?? inputSize, "outputSize", 1);
    const numQueries = positiveInt(op, opts.numQueries ?? 1, "numQueries", 1);
    const c = common(op, hidden, opts);
    this.beta = c.beta;
    this.steps = c.steps;
    const k = 1 / Math.sqrt(hidden);
    this.queries = param(uniform(empty([numQueries, hidden], c.linear.dtype!), -k, k, opts.generator ? { generator: opts.generator } : {}));
    this.keyProj = new Linear(inputSize, hidden, c.linear);
    this.valueProj = new Linear(inputSize, out, c.linear);
  }

  /** bag (B, N, inputSize) -> (B, numQueries, outputSize); mask (B, 1, N) or (B, numQueries, N) hides padding. */
  forward(bag: Tensor, opts: HopfieldForwardOptions = {}): HopfieldResult {
    const op = "HopfieldPooling.forward";
    checkPatterns(op, "bag", bag, this.keyProj.inFeatures);
    const B = bag.shape[0]!;
    const queries = expand(unsqueeze(this.queries, 0), [B, ...this.queries.shape]);
    return hopfieldRetrieve(queries, this.keyProj.forward(bag), {
      beta: this.beta,
      steps: this.steps,
      values: this.valueProj.forward(bag),
      ...(opts.mask ? { mask: opts.mask } : {}),
    });
  }
}

export interface HopfieldLayerOptions extends Omit<HopfieldOptions, "storedSize"> {
  /** Learned stored patterns N (default 16). */
  numPatterns?: number;
}

/**
 * A learned associative lookup: state patterns R (B, L, inputSize) retrieve from N learned stored
 * patterns, each with a learned value: softmax(beta (R W_Q) P^T) V -> (B, L, outputSize).
 * State-dict keys (own parameters first): `patterns` (N, hidden), `values` (N, output), `queryProj.*`.
 */
export class HopfieldLayer extends Module {
  readonly beta: number;
  readonly steps: number;
  readonly queryProj: Linear;
  patterns: Tensor;
  values: Tensor;

  constructor(inputSize: number, opts: HopfieldLayerOptions = {}) {
    super();
    const op = "HopfieldLayer";
    positiveInt(op, inputSize, "inputSize", 1);
    const hidden = positiveInt(op, opts.hiddenSize ?? inputSize, "hiddenSize", 1);
    const out = positiveInt(op, opts.outputSize ?? inputSize, "outputSize", 1);
    const n = positiveInt(op, opts.numPatterns ?? 16, "numPatterns", 1);
    const c = common(op, hidden, opts);
    this.beta = c.beta;
    this.steps = c.steps;
    this.queryProj = new Linear(inputSize, hidden, c.linear);
    const gen = opts.generator ? { generator: opts.generator } : {};
    const dtype = c.linear.dtype!;
    this.patterns = param(uniform(empty([n, hidden], dtype), -1 / Math.sqrt(hidden), 1 / Math.sqrt(hidden), gen));
    this.values = param(uniform(empty([n, out], dtype), -1 / Math.sqrt(out), 1 / Math.sqrt(out), gen));
  }

  forward(state: Tensor, opts: HopfieldForwardOptions = {}): HopfieldResult {
    checkPatterns("HopfieldLayer.forward", "state", state, this.queryProj.inFeatures);
    // the learned patterns broadcast over the batch in the attention's matmuls
    return hopfieldRetrieve(this.queryProj.forward(state), this.patterns, {
      beta: this.beta,
      steps: this.steps,
      values: this.values,
      ...(opts.mask ? { mask: opts.mask } : {}),
    });
  }
}

// ---------------------------------------------------------------- retrieval demo

export interface HopfieldDemoOptions {
  /** Stored patterns N (default 32). */
  patterns?: number;
  /** Pattern length d (default 64). */
  dim?: number;
  /** Inverse temperatures to try (default 0.01, 0.03, 0.1, 0.3, 1, 3). */
  betas?: readonly number[];
  /** Corrupted fractions of each query to try (default 0, 0.25, 0.5, 0.75). */
  noises?: readonly number[];
  /** "mask" zeroes the corrupted entries (a half-masked image); "flip" negates them. Default "mask". */
  corruption?: "mask" | "flip";
  /** Updates per retrieval (default 1). */
  steps?: number;
  seed?: number;
}

export interface HopfieldDemoRow {
  beta: number;
  noise: number;
  /** Fraction of stored patterns whose retrieval has every sign right. */
  accuracy: number;
  /** Fraction of wrong signs over all retrieved entries. */
  bitErrorRate: number;
}

/**
 * Stores N random +-1 patterns, queries each with a corrupted copy (a fraction `noise` of its
 * entries masked to 0 or flipped; the same entries for every beta) and retrieves it with
 * `hopfieldRetrieve`; reports, per (beta, noise), how often sign(retrieval) is exactly the stored
 * pattern. Large beta retrieves exactly up to heavy corruption; small beta returns a blend (towards
 * the mean of all patterns as beta -> 0). Rows are ordered by beta, then noise.
 */
export function hopfieldRetrievalDemo(opts: HopfieldDemoOptions = {}): HopfieldDemoRow[] {
  const op = "hopfieldRetrievalDemo";
  const N = positiveInt(op, opts.patterns ?? 32, "patterns", 1);
  const d = positiveInt(op, opts.dim ?? 64, "dim", 1);
  const betas = opts.betas ?? [0.01, 0.03, 0.1, 0.3, 1, 3];
  const noises = opts.noises ?? [0, 0.25, 0.5, 0.75];
  for (const n of noises)
    if (typeof n !== "number" || !(n >= 0 && n <= 1)) throw new ArgumentError(`${op}: noises must be in [0, 1], got ${n}`);
  const corruption = opts.corruption ?? "mask";
  if (corruption !== "mask" && corruption !== "flip")
    throw new ArgumentError(`${op}: corruption must be "mask" or "flip", got ${JSON.stringify(corruption)}`);
  const rng = new Generator(opts.seed ?? 0);
  const stored = empty([N, d], "float64");
  for (let i = 0; i < N * d; i++) stored.data[i] = rng.random() < 0.5 ? -1 : 1;
  // one random order of positions per pattern: the first round(noise d) of it are corrupted
  const order = Array.from({ length: N }, () => {
    const p = Array.from({ length: d }, (_, i) => i);
    for (let i = d - 1; i > 0; i--) {
      const j = rng.randint(0, i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  });
  const rows: HopfieldDemoRow[] = [];
  noGrad(() => {
    for (const beta of betas) {
      for (const noise of noises) {
        const query = new Tensor(Float64Array.from(stored.data), [N, d], "float64");
        const corrupt = Math.round(noise * d);
        order.forEach((p, n) => {
          for (const i of p.slice(0, corrupt)) query.data[n * d + i] = corruption === "mask" ? 0 : -query.data[n * d + i]!;
        });
        const { output } = hopfieldRetrieve(query, stored, { beta, steps: opts.steps ?? 1 });
        let exact = 0;
        let wrong = 0;
        for (let n = 0; n < N; n++) {
          let ok = true;
          for (let i = 0; i < d; i++) {
            if (Math.sign(output.data[n * d + i]!) !== stored.data[n * d + i]) {
              wrong++;
              ok = false;
            }
          }
          if (ok) exact++;
        }
        rows.push({ beta, noise, accuracy: exact / N, bitErrorRate: wrong / (N * d) });
      }
    }
  });
  return rows;
}
