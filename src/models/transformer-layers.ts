/**
 * Transformer layers (Vaswani et al., 2017): an encoder layer (self-attention + feed-forward) and a
 * decoder layer (causal self-attention + cross-attention over the encoder's output + feed-forward),
 * each with residual connections and layer norm after ("post", the paper and PyTorch's default) or
 * before ("pre", Xiong et al., 2020) each block. They compute what PyTorch 1.13's
 * nn.TransformerEncoderLayer / nn.TransformerDecoderLayer compute (see transformer-torch.ts for
 * loading their weights), and can also return every attention map and put rotary (RoPE) or ALiBi
 * position information into the self-attention. Masks are bool, true = attend (PyTorch's are the
 * opposite).
 *
 * Incremental decoding: with a self-attention KVCache (and, in the decoder, a static cross-attention
 * cache) a layer takes only the new positions, after the `cache.length` cached ones, and gives what
 * a causal forward over the whole sequence gives at those positions: RoPE rotates the new queries and
 * keys at their absolute positions (the cache stores rotated keys), ALiBi and the causal mask are
 * bottom-right ("end") aligned. `selectCacheRows` reorders a layer's cache (beam search).
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import type { Generator } from "../core/rng.js";
import { KVCache } from "../attention/kv-cache.js";
import { causalMask } from "../attention/masks.js";
import { MultiHeadAttention } from "../attention/multi-head.js";
import { alibiBias, applyRotary } from "../attention/positional.js";
import { scaledDotProductAttention } from "../attention/sdpa.js";
import { Dropout } from "../nn/dropout.js";
import { Linear } from "../nn/linear.js";
import { floatDType, Module } from "../nn/module.js";
import { LayerNorm } from "../nn/norm.js";
import { positiveInt } from "../nn/util.js";
import { add, gelu, logicalAnd, mul, relu } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { dropout as dropoutOp, softmax } from "../ops/nn.js";
import { indexSelect, reshape, transpose } from "../ops/shape.js";
import { assertNumber, assertTensor, optionsOf } from "../ops/util.js";

export type Activation = "relu" | "gelu";
export type NormPlacement = "pre" | "post";
/** Position information added inside self-attention: rotary q/k (RoPE), linear distance biases (ALiBi), or none. */
export type RelativePosition = "none" | "rope" | "alibi";

export interface TransformerLayerOptions {
  /** Hidden size of the feed-forward block (default 4 * dModel, the paper's ratio). */
  dimFeedforward?: number;
  /** Dropout on each block's output, inside the feed-forward block and on the attention weights (default 0.1, as PyTorch). */
  dropout?: number;
  /** Feed-forward activation (default "relu"; "gelu" is the exact, erf form, as PyTorch's). */
  activation?: Activation;
  /** Layer norm after each residual sum ("post", default, PyTorch's norm_first=False) or at the start of each block ("pre"). */
  norm?: NormPlacement;
  layerNormEps?: number;
  /** Inputs and outputs are (B, L, E) when true (default), (L, B, E) when false. */
  batchFirst?: boolean;
  /** Position information inside self-attention (default "none"); cross-attention never gets any. */
  relativePosition?: RelativePosition;
  dtype?: DType;
  generator?: Generator;
}

export interface EncoderLayerForwardOptions {
  /** Bool, true = attend: (L, L) or (B, L, L); with a cache (Lnew, Ltotal) or (B, Lnew, Ltotal). */
  mask?: Tensor;
  /** (B, L) bool, true = a real token, false = padding; with a cache (B, Ltotal), covering the cached keys. */
  keyPaddingMask?: Tensor;
  /** Adds a causal mask (position i sees positions <= i): the decoder-only (GPT) block. */
  isCausal?: boolean;
  /** Return the attention weights per head, (B, H, L, L) (default false); with a cache (B, H, Lnew, Ltotal). */
  needWeights?: boolean;
  /**
   * Self-attention KVCache for incremental decoding: src holds only the new positions, which follow
   * the cache.length cached ones; their keys and values are appended to the cache.
   */
  cache?: KVCache;
}

export interface EncoderLayerResult {
  output: Tensor;
  /** (B, H, L, L) self-attention weights when asked for. */
  weights: Tensor | null;
}

export interface DecoderLayerForwardOptions {
  /** Bool (T, T) or (B, T, T), true = attend, for the self-attention; with a selfCache (Tnew, Ttotal) or (B, Tnew, Ttotal). */
  tgtMask?: Tensor;
  /** (B, T) bool, true = real target token; with a selfCache (B, Ttotal). */
  tgtKeyPaddingMask?: Tensor;
  /** Causal self-attention (default true: a decoder predicts each position from the ones before it). */
  tgtIsCausal?: boolean;
  /** Bool (T, S) or (B, T, S), true = attend, for the cross-attention. */
  memoryMask?: Tensor;
  /** (B, S) bool, true = real source token. */
  memoryKeyPaddingMask?: Tensor;
  /** Return per-head self- and cross-attention weights (default false). */
  needWeights?: boolean;
  /** Self-attention KVCache for incremental decoding: tgt holds only the new positions, after the selfCache.length cached ones. */
  selfCache?: KVCache;
  /** Static KVCache for the cross-attention: the first call projects the memory, later calls (same memory tensor) reuse it. */
  crossCache?: KVCache;
}

export interface DecoderLayerResult {
  output: Tensor;
  /** (B, H, T, T) when asked for. */
  selfWeights: Tensor | null;
  /** (B, H, T, S) when asked for. */
  crossWeights: Tensor | null;
}

/** Resolved and validated layer options. */
interface LayerConfig {
  dModel: number;
  numHeads: number;
  dimFeedforward: number;
  dropout: number;
  activation: Activation;
  norm: NormPlacement;
  layerNormEps: number;
  batchFirst: boolean;
  relativePosition: RelativePosition;
  dtype: "float32" | "float64";
  generator: Generator | undefined;
}

function layerConfig(op: string, dModel: number, numHeads: number, opts: TransformerLayerOptions): LayerConfig {
  optionsOf(op, opts);
  positiveInt(op, dModel, "dModel", 1);
  positiveInt(op, numHeads, "numHeads", 1);
  if (dModel % numHeads !== 0) throw new ArgumentError(`${op}: dModel ${dModel} must be divisible by numHeads ${numHeads}`);
  const dropout = assertNumber(op, opts.dropout ?? 0.1, "dropout", { min: 0, max: 1 });
  if (dropout === 1) throw new ArgumentError(`${op}: dropout must be < 1`);
  const activation = opts.activation ?? "relu";
  if (activation !== "relu" && activation !== "gelu")
    throw new ArgumentError(`${op}: activation must be "relu" or "gelu", got ${JSON.stringify(activation)}`);
  const norm = opts.norm ?? "post";
  if (norm !== "pre" && norm !== "post") throw new ArgumentError(`${op}: norm must be "pre" or "post", got ${JSON.stringify(norm)}`);
  const relativePosition = opts.relativePosition ?? "none";
  if (relativePosition !== "none" && relativePosition !== "rope" && relativePosition !== "alibi")
    throw new ArgumentError(`${op}: relativePosition must be "none", "rope" or "alibi", got ${JSON.stringify(relativePosition)}`);
  if (relativePosition === "rope" && (dModel / numHeads) % 2 !== 0)
    throw new ArgumentError(`${op}: rope needs an even head size, got dModel / numHeads = ${dModel / numHeads}`);
  return {
    dModel,
    numHeads,
    dimFeedforward: positiveInt(op, opts.dimFeedforward ?? 4 * dModel, "dimFeedforward", 1),
    dropout,
    activation,
    norm,
    layerNormEps: assertNumber(op, opts.layerNormEps ?? 1e-5, "layerNormEps", { min: 0, finite: true }),
    batchFirst: opts.batchFirst ?? true,
    relativePosition,
    dtype: floatDType(op, opts.dtype),
    generator: opts.generator,
  };
}

const genOpt = (g: Generator | undefined): { generator?: Generator } => (g ? { generator: g } : {});

/** Checks a (B, L, E) / (L, B, E) input and returns it batch-first. */
function batchFirstInput(op: string, x: unknown, what: string, dModel: number, batchFirst: boolean): Tensor {
  const t = assertTensor(op, x, what);
  if (t.dtype !== "float32" && t.dtype !== "float64") throw new DTypeError(`${op}: ${what} must be float32 or float64, got ${t.dtype}`);
  if (t.ndim !== 3 || t.shape[2] !== dModel) {
    throw new ShapeError(`${op}: ${what} must be ${batchFirst ? "(B, L, " : "(L, B, "}${dModel}), got ${fmtShape(t.shape)}`);
  }
  return batchFirst ? t : transpose(t, 0, 1);
}

function boolMask(op: string, m: unknown, what: string): Tensor {
  const t = assertTensor(op, m, what);
  if (t.dtype !== "bool") throw new DTypeError(`${op}: ${what} must be bool (true = attend), got ${t.dtype}`);
  return t;
}

interface SelfAttendOptions {
  keyPaddingMask?: Tensor;
  attnMask?: Tensor;
  isCausal: boolean;
  needWeights: boolean;
  cache?: KVCache;
}

function selfCacheOf(op: string, cache: unknown): KVCache | undefined {
  if (cache === undefined) return undefined;
  if (!(cache instanceof KVCache)) throw new ArgumentError(`${op}: a self-attention cache must be a KVCache`);
  if (cache.isStatic) throw new ArgumentError(`${op}: a self-attention cache cannot be static (static caches are for cross-attention)`);
  return cache;
}

/**
 * Self-attention with RoPE or ALiBi, using the projections of `attn` (the plain case goes through
 * attn.forward). x (B, Lq, E) -> (B, Lq, E); weights (B, H, Lq, Lk), where Lk = Lq without a cache
 * and the cached plus new positions with one. The masks are validated like MultiHeadAttention's.
 */
function relativeSelfAttention(
  op: string,
  attn: MultiHeadAttention,
  x: Tensor,
  kind: "rope" | "alibi",
  opts: SelfAttendOptions,
): { output: Tensor; weights: Tensor | null } {
  const [b, lq, e] = x.shape as [number, number, number];
  const h = attn.numHeads;
  const d = attn.headDim;
  const cache = opts.cache;
  // the new positions are past .. past + Lq - 1
  const past = cache?.length ?? 0;
  const heads = (t: Tensor): Tensor => transpose(reshape(t, [b, lq, h, d]), 1, 2); // (B, H, Lq, D)
  let q = heads(attn.qProj.forward(x));
  let k = heads(attn.kProj.forward(x));
  let v = heads(attn.vProj.forward(x));
  if (kind === "rope") {
    // keys are cached rotated: a key's rotation depends on its own position only
    q = applyRotary(q, { offset: past });
    k = applyRotary(k, { offset: past });
  }
  if (cache !== undefined) ({ keys: k, values: v } = cache.write(op, attn, k, v, [x, x]));
  const lk = k.shape[2]!;
  let mask: Tensor | undefined;
  if (opts.keyPaddingMask !== undefined) {
    const m = boolMask(op, opts.keyPaddingMask, "keyPaddingMask");
    if (m.ndim !== 2 || m.shape[0] !== b || m.shape[1] !== lk)
      throw new ShapeError(`${op}: keyPaddingMask must be (B, Lk) = (${b}, ${lk}), got ${fmtShape(m.shape)}`);
    mask = reshape(m, [b, 1, 1, lk]);
  }
  if (opts.attnMask !== undefined) {
    const m = boolMask(op, opts.attnMask, "mask");
    let m4: Tensor;
    if (m.ndim === 2 && m.shape[0] === lq && m.shape[1] === lk) m4 = m;
    else if (m.ndim === 3 && m.shape[0] === b && m.shape[1] === lq && m.shape[2] === lk) m4 = reshape(m, [b, 1, lq, lk]);
    else
      throw new ShapeError(`${op}: mask must be (Lq, Lk) or (B, Lq, Lk) with B = ${b}, Lq = ${lq}, Lk = ${lk}, got ${fmtShape(m.shape)}`);
    mask = mask === undefined ? m4 : logicalAnd(mask, m4);
  }
  let out: Tensor;
  let weights: Tensor | null = null;
  if (kind === "rope") {
    const r = scaledDotProductAttention(q, k, v, {
      ...(mask ? { mask } : {}),
      isCausal: opts.isCausal,
      // the Lq new queries are the last Lq of the Lk positions
      causalAlignment: "end",
      dropout: attn.dropout,
      training: attn.training,
      returnWeights: opts.needWeights,
    });
    out = r.output;
    weights = r.weights ?? null;
  } else {
    // softmax(q k^T / sqrt(D) + bias) v: the fused attention takes bool masks only, so the additive
    // ALiBi bias goes through this composite; mask and bias are bottom-right aligned for the cache
    if (opts.isCausal) mask = mask === undefined ? causalMask(lq, lk, "end") : logicalAnd(mask, causalMask(lq, lk, "end"));
    const scores = add(
      mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(d)),
      alibiBias(h, lq, lk, { causalAlignment: "end", dtype: x.dtype as "float32" | "float64" }),
    );
    let w = softmax(scores, -1, mask ? { mask } : {});
    if (attn.training && attn.dropout > 0) w = dropoutOp(w, attn.dropout);
    out = matmul(w, v);
    if (opts.needWeights) weights = w;
  }
  const merged = reshape(transpose(out, 1, 2), [b, lq, e]);
  return { output: attn.outProj.forward(merged), weights };
}

/**
 * Keeps rows `rows` (int32, 1-D; a row may repeat) of a layer's cache, in that order: to reorder beams
 * and drop finished examples during a search. `attn` is the attention module that filled the cache.
 * A static (cross-attention) cache is rebound to `source`, the (B', S, E) memory tensor the layer's
 * later calls pass as key and value (its rows must be the selected rows of the old memory). An empty
 * cache is left as it is.
 */
export function selectCacheRows(cache: KVCache, attn: MultiHeadAttention, rows: Tensor, source?: Tensor): void {
  const op = "selectCacheRows";
  if (!(cache instanceof KVCache)) throw new ArgumentError(`${op}: cache must be a KVCache`);
  if (cache.isStatic && source === undefined)
    throw new ArgumentError(`${op}: a static cache needs the memory its rows are selected for (source)`);
  if (source !== undefined && source.shape[0] !== rows.size)
    throw new ShapeError(`${op}: source ${fmtShape(source.shape)} must have one row per selected row (${rows.size})`);
  const keys = cache.keys();
  const values = cache.values();
  if (keys === null || values === null) return;
  const k = indexSelect(keys, 0, rows);
  const v = indexSelect(values, 0, rows);
  cache.reset();
  cache.write(op, attn, k, v, source === undefined ? [k, v] : [source, source]);
}

/** The layer parts both layer types share: the self-attention, feed-forward block and their norms. */
abstract class TransformerLayerBase extends Module {
  readonly dModel: number;
  readonly numHeads: number;
  readonly dimFeedforward: number;
  readonly activation: Activation;
  readonly norm: NormPlacement;
  readonly batchFirst: boolean;
  readonly relativePosition: RelativePosition;

  protected constructor(cfg: LayerConfig) {
    super();
    this.dModel = cfg.dModel;
    this.numHeads = cfg.numHeads;
    this.dimFeedforward = cfg.dimFeedforward;
    this.activation = cfg.activation;
    this.norm = cfg.norm;
    this.batchFirst = cfg.batchFirst;
    this.relativePosition = cfg.relativePosition;
  }

  protected static attention(cfg: LayerConfig): MultiHeadAttention {
    return new MultiHeadAttention(cfg.dModel, cfg.numHeads, { dropout: cfg.dropout, dtype: cfg.dtype, ...genOpt(cfg.generator) });
  }

  protected selfAttend(
    op: string,
    attn: MultiHeadAttention,
    x: Tensor,
    opts: SelfAttendOptions,
  ): { output: Tensor; weights: Tensor | null } {
    if (this.relativePosition !== "none") return relativeSelfAttention(op, attn, x, this.relativePosition, opts);
    const r = attn.forward(x, x, x, {
      ...(opts.keyPaddingMask !== undefined ? { keyPaddingMask: opts.keyPaddingMask } : {}),
      ...(opts.attnMask !== undefined ? { attnMask: opts.attnMask } : {}),
      ...(opts.cache !== undefined ? { cache: opts.cache } : {}),
      isCausal: opts.isCausal,
      needWeights: opts.needWeights,
      averageWeights: false,
    });
    return { output: r.output, weights: r.weights };
  }

  /** linear2(dropout(activation(linear1(x)))) */
  protected feedForward(linear1: Linear, dropout: Dropout, linear2: Linear, x: Tensor): Tensor {
    const hidden = linear1.forward(x);
    return linear2.forward(dropout.forward(this.activation === "relu" ? relu(hidden) : gelu(hidden)));
  }

  /** One residual block: x + block(norm(x)) (pre) or norm(x + block(x)) (post); the block's output gets `drop`. */
  protected residual<R>(x: Tensor, norm: LayerNorm, drop: Dropout, block: (y: Tensor) => { out: Tensor; extra: R }): [Tensor, R] {
    if (this.norm === "pre") {
      const r = block(norm.forward(x));
      return [add(x, drop.forward(r.out)), r.extra];
    }
    const r = block(x);
    return [norm.forward(add(x, drop.forward(r.out))), r.extra];
  }
}

/**
 * x -> x + SelfAttn(x) -> + FF, with norms placed by `norm`. State dict (PyTorch's order):
 * selfAttn.{qProj,kProj,vProj,outProj}.{weight,bias}, linear1 (F, E), linear2 (E, F), norm1, norm2.
 */
export class TransformerEncoderLayer extends TransformerLayerBase {
  selfAttn: MultiHeadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  constructor(dModel: number, numHeads: number, opts: TransformerLayerOptions = {}) {
    const cfg = layerConfig("TransformerEncoderLayer", dModel, numHeads, opts);
    super(cfg);
    const lin = { dtype: cfg.dtype, ...genOpt(cfg.generator) };
    const drop = genOpt(cfg.generator);
    const ln = { eps: cfg.layerNormEps, dtype: cfg.dtype };
    this.selfAttn = TransformerLayerBase.attention(cfg);
    this.linear1 = new Linear(dModel, cfg.dimFeedforward, lin);
    this.dropout = new Dropout(cfg.dropout, drop);
    this.linear2 = new Linear(cfg.dimFeedforward, dModel, lin);
    this.norm1 = new LayerNorm(dModel, ln);
    this.norm2 = new LayerNorm(dModel, ln);
    this.dropout1 = new Dropout(cfg.dropout, drop);
    this.dropout2 = new Dropout(cfg.dropout, drop);
  }

  /** src (B, L, E) (or (L, B, E) when batchFirst is false) -> same shape. */
  forward(src: Tensor, opts: EncoderLayerForwardOptions = {}): EncoderLayerResult {
    const op = "TransformerEncoderLayer";
    optionsOf(op, opts);
    const x0 = batchFirstInput(op, src, "src", this.dModel, this.batchFirst);
    const cache = selfCacheOf(op, opts.cache);
    const needWeights = opts.needWeights ?? false;
    const [x1, weights] = this.residual(x0, this.norm1, this.dropout1, (y) => {
      const r = this.selfAttend(op, this.selfAttn, y, {
        ...(opts.keyPaddingMask !== undefined ? { keyPaddingMask: opts.keyPaddingMask } : {}),
        ...(opts.mask !== undefined ? { attnMask: opts.mask } : {}),
        ...(cache !== undefined ? { cache } : {}),
        isCausal: opts.isCausal ?? false,
        needWeights,
      });
      return { out: r.output, extra: r.weights };
    });
    const [x2] = this.residual(x1, this.norm2, this.dropout2, (y) => ({
      out: this.feedForward(this.linear1, this.dropout, this.linear2, y),
      extra: null,
    }));
    return { output: this.batchFirst ? x2 : transpose(x2, 0, 1), weights };
  }
}

/**
 * x -> x + SelfAttn(x) -> + CrossAttn(x, memory) -> + FF, with norms placed by `norm`. State dict
 * (PyTorch's order): selfAttn.*, crossAttn.* (PyTorch's multihead_attn), linear1, linear2, norm1,
 * norm2, norm3.
 */
export class TransformerDecoderLayer extends TransformerLayerBase {
  selfAttn: MultiHeadAttention;
  crossAttn: MultiHeadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;

  constructor(dModel: number, numHeads: number, opts: TransformerLayerOptions = {}) {
    const cfg = layerConfig("TransformerDecoderLayer", dModel, numHeads, opts);
    super(cfg);
    const lin = { dtype: cfg.dtype, ...genOpt(cfg.generator) };
    const drop = genOpt(cfg.generator);
    const ln = { eps: cfg.layerNormEps, dtype: cfg.dtype };
    this.selfAttn = TransformerLayerBase.attention(cfg);
    this.crossAttn = TransformerLayerBase.attention(cfg);
    this.linear1 = new Linear(dModel, cfg.dimFeedforward, lin);
    this.dropout = new Dropout(cfg.dropout, drop);
    this.linear2 = new Linear(cfg.dimFeedforward, dModel, lin);
    this.norm1 = new LayerNorm(dModel, ln);
    this.norm2 = new LayerNorm(dModel, ln);
    this.norm3 = new LayerNorm(dModel, ln);
    this.dropout1 = new Dropout(cfg.dropout, drop);
    this.dropout2 = new Dropout(cfg.dropout, drop);
    this.dropout3 = new Dropout(cfg.dropout, drop);
  }

  /** tgt (B, T, E), memory (B, S, E) (sequence-first when batchFirst is false) -> (B, T, E). */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerForwardOptions = {}): DecoderLayerResult {
    const op = "TransformerDecoderLayer";
    optionsOf(op, opts);
    const x0 = batchFirstInput(op, tgt, "tgt", this.dModel, this.batchFirst);
    const mem = batchFirstInput(op, memory, "memory", this.dModel, this.batchFirst);
    if (mem.shape[0] !== x0.shape[0])
      throw new ShapeError(`${op}: tgt ${fmtShape(tgt.shape)} and memory ${fmtShape(memory.shape)} have different batch sizes`);
    const selfCache = selfCacheOf(op, opts.selfCache);
    const crossCache = opts.crossCache;
    if (crossCache !== undefined && !(crossCache instanceof KVCache && crossCache.isStatic))
      throw new ArgumentError(`${op}: crossCache must be a static KVCache (new KVCache({ static: true }))`);
    // a static cache recognises its memory by identity, and a sequence-first memory is transposed anew each call
    if (crossCache !== undefined && !this.batchFirst)
      throw new ArgumentError(`${op}: crossCache needs a batch-first layer (batchFirst true; the stacks' layers always are)`);
    const needWeights = opts.needWeights ?? false;
    const [x1, selfWeights] = this.residual(x0, this.norm1, this.dropout1, (y) => {
      const r = this.selfAttend(op, this.selfAttn, y, {
        ...(opts.tgtKeyPaddingMask !== undefined ? { keyPaddingMask: opts.tgtKeyPaddingMask } : {}),
        ...(opts.tgtMask !== undefined ? { attnMask: opts.tgtMask } : {}),
        ...(selfCache !== undefined ? { cache: selfCache } : {}),
        isCausal: opts.tgtIsCausal ?? true,
        needWeights,
      });
      return { out: r.output, extra: r.weights };
    });
    const [x2, crossWeights] = this.residual(x1, this.norm2, this.dropout2, (y) => {
      const r = this.crossAttn.forward(y, mem, mem, {
        ...(opts.memoryKeyPaddingMask !== undefined ? { keyPaddingMask: opts.memoryKeyPaddingMask } : {}),
        ...(crossCache !== undefined ? { cache: crossCache } : {}),
        ...(opts.memoryMask !== undefined ? { attnMask: opts.memoryMask } : {}),
        needWeights,
        averageWeights: false,
      });
      return { out: r.output, extra: r.weights };
    });
    const [x3] = this.residual(x2, this.norm3, this.dropout3, (y) => ({
      out: this.feedForward(this.linear1, this.dropout, this.linear2, y),
      extra: null,
    }));
    return { output: this.batchFirst ? x3 : transpose(x3, 0, 1), selfWeights, crossWeights };
  }
}
