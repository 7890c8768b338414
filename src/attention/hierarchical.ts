/**
 * A hierarchical attention encoder: a tree of attention modules that summarise blocks of past
 * vectors, so any of N inputs reaches the output in depth = ceil(log_b N) attention hops (b = the
 * branching factor) instead of N recurrent steps.
 *
 *   level 0: h^0_i = x_i, i < N
 *   level l + 1 (l = 0 .. depth - 1): one node per block of b consecutive level-l nodes (the last
 *   block may be partial), n_{l+1} = ceil(n_l / b):
 *     q_l      = query_l (+ W^q_l s when a state s is given)
 *     e_j      = q_l . (W^k_l h^l_j) / sqrt(D)            over the children j of the block
 *     a        = softmax_j(e)
 *     h^{l+1}  = sum_j a_j W^v_l h^l_j
 *   output = the single node at level depth (for N = 1, depth 0: x_0 itself).
 *
 * Streaming (causal) mode: `stream()` takes one vector per step; after t vectors its output equals
 * forward() on those t vectors. Completed blocks are summarised once (a carry, like a base-b
 * counter); each step recomputes only the partial block on the path from the newest vector to the
 * root, O(b log t) work. The stream keeps the autograd graph when gradients are on.
 *
 * Parameters per level l < ceil(log_b maxLength); state dict: `levels.{l}.query` (D),
 * `levels.{l}.keyProj.weight` (D, D), `levels.{l}.valueProj.weight` (D, D), and with queryDim
 * `levels.{l}.queryProj.weight` (D, queryDim). Xavier-uniform projections, U(-1/sqrt(D), 1/sqrt(D))
 * queries, no biases.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { allocate } from "../core/dtype.js";
import { add, mul } from "../ops/elementwise.js";
import { tensor } from "../ops/creation.js";
import { matmul } from "../ops/linalg.js";
import { softmax } from "../ops/nn.js";
import { pad, reshape, stack, unsqueeze } from "../ops/shape.js";
import { assertTensor, optionsOf } from "../ops/util.js";
import { Linear } from "../nn/linear.js";
import { uniform, xavierUniform } from "../nn/init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";

const OP = "HierarchicalAttention";

export interface HierarchicalAttentionOptions extends ParameterFloatOptions {
  /** Children per summary block b (>= 2, default 2). */
  branching?: number;
  /** Longest input; sets the number of levels with parameters, ceil(log_b maxLength). */
  maxLength: number;
  /** Width of an optional state vector s added to every level's query through W^q_l. */
  queryDim?: number;
  generator?: Generator;
}

export interface HierarchicalForwardOptions {
  /** (B, queryDim) state; required exactly when the module was built with queryDim. */
  query?: Tensor;
}

export interface HierarchicalResult {
  /** (B, D) */
  output: Tensor;
  /** Per level l: (B, n_{l+1}, b) weights of each block over its children, zero past a partial block's end. */
  weights: Tensor[];
  /** Attention hops from any input to the output: ceil(log_b N). */
  depth: number;
}

export interface HierarchicalStepResult {
  /** (B, D): the output of forward() over every vector pushed so far. */
  output: Tensor;
  /** Per level l: (B, b) weights of the block holding the newest vector's ancestor (the last row of forward()'s weights). */
  weights: Tensor[];
  depth: number;
}

/** One level: attention of a query over each block's children. */
export class BlockAttention extends Module {
  readonly dim: number;
  query: Tensor;
  keyProj: Linear;
  valueProj: Linear;
  queryProj: Linear | null;

  constructor(dim: number, queryDim: number | null, dtype: "float32" | "float64", generator: Generator | undefined) {
    super();
    this.dim = dim;
    const gen = generator ? { generator } : {};
    const lin = { bias: false, dtype, ...gen };
    const k = 1 / Math.sqrt(dim);
    this.query = param(uniform(empty([dim], dtype), -k, k, gen));
    this.keyProj = new Linear(dim, dim, lin);
    this.valueProj = new Linear(dim, dim, lin);
    xavierUniform(this.keyProj.weight, gen);
    xavierUniform(this.valueProj.weight, gen);
    this.queryProj = queryDim === null ? null : new Linear(queryDim, dim, lin);
  }

  /**
   * blocks (B, M, c, D) -> summaries (B, M, D) and weights (B, M, c). `valid` (M, c) bool marks real
   * children (padding is false); `state` (B, queryDim).
   */
  forward(blocks: Tensor, valid?: Tensor, state?: Tensor): { output: Tensor; weights: Tensor } {
    const [b, m, c, d] = blocks.shape as [number, number, number, number];
    const keys = this.keyProj.forward(blocks);
    let scores: Tensor;
    if (this.queryProj === null || state === undefined) {
      scores = matmul(keys, this.query); // (B, M, c)
    } else {
      const q = add(this.queryProj.forward(state), this.query); // (B, D)
      scores = reshape(matmul(keys, reshape(q, [b, 1, d, 1])), [b, m, c]);
    }
    const weights = softmax(mul(scores, 1 / Math.sqrt(d)), -1, valid === undefined ? {} : { mask: valid });
    const output = reshape(matmul(unsqueeze(weights, 2), this.valueProj.forward(blocks)), [b, m, d]);
    return { output, weights };
  }
}

export class HierarchicalAttention extends Module {
  readonly dim: number;
  readonly branching: number;
  readonly maxLength: number;
  readonly queryDim: number | null;
  levels: BlockAttention[];

  constructor(dim: number, opts: HierarchicalAttentionOptions) {
    super();
    if (opts === null || typeof opts !== "object") throw new ArgumentError(`${OP}: options with maxLength are required`);
    optionsOf(OP, opts);
    this.dim = positiveInt(OP, dim, "dim", 1);
    this.branching = positiveInt(OP, opts.branching ?? 2, "branching", 2);
    this.maxLength = positiveInt(OP, opts.maxLength, "maxLength", 1);
    this.queryDim = opts.queryDim === undefined ? null : positiveInt(OP, opts.queryDim, "queryDim", 1);
    const dtype = floatDType(OP, opts.dtype);
    this.levels = Array.from(
      { length: depthFor(this.maxLength, this.branching) },
      () => new BlockAttention(this.dim, this.queryDim, dtype, opts.generator),
    );
  }

  /** x (B, N, D), 1 <= N <= maxLength. */
  forward(x: Tensor, opts: HierarchicalForwardOptions = {}): HierarchicalResult {
    assertTensor(OP, x, "x");
    optionsOf(OP, opts);
    if (x.ndim !== 3 || x.shape[2] !== this.dim) throw new ShapeError(`${OP}: x must be (B, N, D = ${this.dim}), got ${fmtShape(x.shape)}`);
    const [batch, n] = x.shape as [number, number];
    if (n < 1 || n > this.maxLength)
      throw new ShapeError(`${OP}: x ${fmtShape(x.shape)} has N = ${n} vectors; N must be in [1, maxLength = ${this.maxLength}]`);
    const state = this.checkQuery(opts.query, batch);
    const b = this.branching;
    const weights: Tensor[] = [];
    let nodes = x;
    for (let l = 0; nodes.shape[1]! > 1; l++) {
      const count = nodes.shape[1]!;
      const blocks = Math.ceil(count / b);
      const padded = blocks * b === count ? nodes : pad(nodes, [0, 0, 0, blocks * b - count]);
      const res = this.levels[l]!.forward(reshape(padded, [batch, blocks, b, this.dim]), validMask(count, blocks, b), state);
      nodes = res.output;
      weights.push(res.weights);
    }
    return { output: reshape(nodes, [batch, this.dim]), weights, depth: weights.length };
  }

  /** A streaming (causal) encoder for batches of `batchSize`; `query` (B, queryDim) is fixed for the stream. */
  stream(batchSize: number, opts: HierarchicalForwardOptions = {}): HierarchicalStream {
    optionsOf(`${OP}.stream`, opts);
    const b = positiveInt(`${OP}.stream`, batchSize, "batchSize", 1);
    return new HierarchicalStream(this, b, this.checkQuery(opts.query, b));
  }

  private checkQuery(query: Tensor | undefined, batch: number): Tensor | undefined {
    if (this.queryDim === null) {
      if (query !== undefined) throw new ArgumentError(`${OP}: a query was given but the module was built without queryDim`);
      return undefined;
    }
    if (query === undefined)
      throw new ArgumentError(`${OP}: the module was built with queryDim ${this.queryDim}: pass opts.query (B, ${this.queryDim})`);
    assertTensor(OP, query, "query");
    if (query.ndim !== 2 || query.shape[0] !== batch || query.shape[1] !== this.queryDim)
      throw new ShapeError(`${OP}: query must be (B, queryDim) = (${batch}, ${this.queryDim}), got ${fmtShape(query.shape)}`);
    return query;
  }
}

/**
 * The incremental tree. pending[l] holds the completed level-l nodes of the current, not yet
 * complete level-(l + 1) block (fewer than b); a block that completes is summarised once and its
 * summary carried up, so earlier nodes are never recomputed.
 */
export class HierarchicalStream {
  readonly batchSize: number;
  #model: HierarchicalAttention;
  #state: Tensor | undefined;
  #pending: Tensor[][] = [];
  #length = 0;

  constructor(model: HierarchicalAttention, batchSize: number, state: Tensor | undefined) {
    this.#model = model;
    this.batchSize = batchSize;
    this.#state = state;
  }

  /** Vectors pushed so far. */
  get length(): number {
    return this.#length;
  }

  /** Adds x (B, D) and returns the output over every vector so far. */
  push(x: Tensor): HierarchicalStepResult {
    const op = `${OP}.stream`;
    const m = this.#model;
    assertTensor(op, x, "x");
    if (x.ndim !== 2 || x.shape[0] !== this.batchSize || x.shape[1] !== m.dim)
      throw new ShapeError(`${op}: each step takes x (B, D) = (${this.batchSize}, ${m.dim}), got ${fmtShape(x.shape)}`);
    if (this.#length === m.maxLength) throw new ShapeError(`${op}: the stream already holds maxLength = ${m.maxLength} vectors`);
    const t = ++this.#length;
    const b = m.branching;
    const stepWeights: Tensor[] = [];
    // carry: every block completed by x is summarised once and moves up a level
    let node = x;
    for (let l = 0; ; l++) {
      const level = (this.#pending[l] ??= []);
      level.push(node);
      if (level.length < b) break;
      const res = this.#summarise(l, level);
      stepWeights.push(res.weights);
      this.#pending[l] = [];
      node = res.output;
    }
    // the partial blocks on the path from x to the root, recomputed every step; a level whose
    // newest block was just completed by the carry has no partial block
    let partial: Tensor | null = null;
    let l = 0;
    for (; Math.ceil(t / b ** l) > 1; l++) {
      const children = [...(this.#pending[l] ?? []), ...(partial === null ? [] : [partial])];
      if (children.length === 0) continue;
      const res = this.#summarise(l, children);
      partial = res.output;
      stepWeights.push(res.weights);
    }
    // level l has a single node: the partial summary, or a completed one (t = b^l)
    const output = partial ?? this.#pending[l]![0]!;
    return { output, weights: stepWeights, depth: stepWeights.length };
  }

  /** Level l's summary of children [(B, D)] -> (B, D), with weights zero-padded to (B, b). */
  #summarise(l: number, children: Tensor[]): { output: Tensor; weights: Tensor } {
    const m = this.#model;
    const c = children.length;
    const res = m.levels[l]!.forward(unsqueeze(stack(children, 1), 1), undefined, this.#state); // (B, 1, c, D)
    const w = reshape(res.weights, [this.batchSize, c]);
    return {
      output: reshape(res.output, [this.batchSize, m.dim]),
      weights: c === m.branching ? w : pad(w, [0, m.branching - c]),
    };
  }
}

/** Levels needed for n inputs: the smallest d with b^d >= n. */
function depthFor(n: number, b: number): number {
  let d = 0;
  for (let span = 1; span < n; span *= b) d++;
  return d;
}

/** (blocks, b) bool: true where a child exists (the last block of `count` nodes may be partial); undefined when all do. */
function validMask(count: number, blocks: number, b: number): Tensor | undefined {
  if (blocks * b === count) return undefined;
  const data = allocate("bool", blocks * b);
  data.fill(1, 0, count);
  return tensor(data, { dtype: "bool", shape: [blocks, b] });
}
