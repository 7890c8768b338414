/**
 * Transformer stacks and models: TransformerEncoder / TransformerDecoder (stacks of the layers in
 * transformer-layers.ts with an optional final norm), Transformer (the encoder-decoder of Vaswani
 * et al., 2017, as a TaskModel for token tasks: teacher-forced loss, greedy or beam decoding, inspection of
 * every attention map) and TransformerLM (a decoder-only language model with sampling).
 *
 * Both models embed tokens (scaled by sqrt(dModel) by default), add position information by one of
 * "sinusoidal" | "learned" (added to the embeddings) or "rope" | "alibi" (inside self-attention) or
 * "none", and can tie the output projection to the (target) embedding.
 *
 * Decoding is incremental by default: a TransformerCache holds one self-attention KVCache per layer
 * (and, for the decoder, the cross-attention projections of the encoder memory, computed once), so
 * a prompt (BOS, or an LM prompt) goes through in one call and then each step feeds one token per
 * row, with the outputs of recomputing the whole prefix. Beam search reorders the caches' rows with
 * its hypotheses. `useCache: false` recomputes the prefix at every step instead (the reference the
 * cached path is tested against).
 */
import { Tensor } from "../autograd/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { KVCache } from "../attention/kv-cache.js";
import { keyPaddingMask } from "../attention/masks.js";
import type { MultiHeadAttention } from "../attention/multi-head.js";
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from "../attention/positional.js";
import { Dropout } from "../nn/dropout.js";
import { Embedding } from "../nn/embedding.js";
import { normal } from "../nn/init.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { LayerNorm } from "../nn/norm.js";
import { positiveInt } from "../nn/util.js";
import { cast, div, mul } from "../ops/elementwise.js";
import { crossEntropy, logSoftmax } from "../ops/nn.js";
import { sum } from "../ops/reduce.js";
import { indexSelect, narrow, reshape, transpose } from "../ops/shape.js";
import { assertNumber, assertTensor, optionsOf } from "../ops/util.js";
import type { Batch, Task } from "../tasks/task.js";
import { beamSearch, greedySearch, hypothesisIds, type Hypothesis, type LengthPenaltyForm, type StepDecoder } from "./beam-search.js";
import { sampleTokens } from "./sampling.js";
import {
  selectCacheRows,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
  type Activation,
  type DecoderLayerForwardOptions,
  type EncoderLayerForwardOptions,
  type NormPlacement,
  type TransformerLayerOptions,
} from "./transformer-layers.js";
import {
  intOption,
  type Inspection,
  type InspectableModel,
  type ModelConfig,
  type ModelSpec,
  type TaskModel,
  type WeightMap,
} from "./task-model.js";

// ---------------------------------------------------------------- stacks

export interface TransformerStackOptions extends TransformerLayerOptions {
  /** A LayerNorm after the last layer. Default: true for pre-norm (its layers leave the residual stream unnormalised), false for post-norm. */
  finalNorm?: boolean;
}

function stackSetup(
  op: string,
  numLayers: number,
  opts: TransformerStackOptions,
): { layerOpts: TransformerLayerOptions; finalNorm: boolean } {
  optionsOf(op, opts);
  positiveInt(op, numLayers, "numLayers", 1);
  const { finalNorm, ...layerOpts } = opts;
  if (finalNorm !== undefined && typeof finalNorm !== "boolean") throw new ArgumentError(`${op}: finalNorm must be a boolean`);
  // the stack converts the layout once; its layers always see (B, L, E)
  return { layerOpts: { ...layerOpts, batchFirst: true }, finalNorm: finalNorm ?? opts.norm === "pre" };
}

/**
 * numLayers encoder layers, then the optional final norm. State dict: layers.{i}.*, norm.{weight,bias}
 * (PyTorch's nn.TransformerEncoder keys, renamed as in transformer-torch.ts).
 */
export class TransformerEncoder extends Module {
  readonly batchFirst: boolean;
  layers: TransformerEncoderLayer[];
  norm: LayerNorm | null;

  constructor(dModel: number, numHeads: number, numLayers: number, opts: TransformerStackOptions = {}) {
    super();
    const { layerOpts, finalNorm } = stackSetup("TransformerEncoder", numLayers, opts);
    this.batchFirst = opts.batchFirst ?? true;
    this.layers = Array.from({ length: numLayers }, () => new TransformerEncoderLayer(dModel, numHeads, layerOpts));
    this.norm = finalNorm ? finalLayerNorm(this.layers[0]!.norm1) : null;
  }

  /**
   * src (B, L, E) -> { output (B, L, E), weights: per layer (B, H, L, L) when asked }. With a cache
   * (causal decoding), src holds only the new positions and the weights are (B, H, Lnew, Ltotal).
   */
  forward(src: Tensor, opts: TransformerEncoderForwardOptions = {}): { output: Tensor; weights: Tensor[] | null } {
    optionsOf("TransformerEncoder", opts);
    const { cache, ...layerOpts } = opts;
    if (cache !== undefined) checkCache("TransformerEncoder", cache, this);
    let x = this.batchFirst ? src : transposeInput("TransformerEncoder", src, "src");
    const weights: Tensor[] = [];
    this.layers.forEach((layer, i) => {
      const r = layer.forward(x, cache === undefined ? layerOpts : { ...layerOpts, cache: cache.self[i]! });
      x = r.output;
      if (r.weights) weights.push(r.weights);
    });
    if (this.norm) x = this.norm.forward(x);
    return { output: this.batchFirst ? x : transpose(x, 0, 1), weights: opts.needWeights ? weights : null };
  }
}

/** numLayers decoder layers, then the optional final norm. State dict: layers.{i}.*, norm.{weight,bias}. */
export class TransformerDecoder extends Module {
  readonly batchFirst: boolean;
  layers: TransformerDecoderLayer[];
  norm: LayerNorm | null;

  constructor(dModel: number, numHeads: number, numLayers: number, opts: TransformerStackOptions = {}) {
    super();
    const { layerOpts, finalNorm } = stackSetup("TransformerDecoder", numLayers, opts);
    this.batchFirst = opts.batchFirst ?? true;
    this.layers = Array.from({ length: numLayers }, () => new TransformerDecoderLayer(dModel, numHeads, layerOpts));
    this.norm = finalNorm ? finalLayerNorm(this.layers[0]!.norm1) : null;
  }

  /**
   * tgt (B, T, E), memory (B, S, E) -> { output (B, T, E), per-layer selfWeights (B, H, T, T) and
   * crossWeights (B, H, T, S) when asked }. With a cache, tgt holds only the new positions (self
   * weights (B, H, Tnew, Ttotal)) and every call must pass the memory tensor the cache was filled
   * from (see TransformerCache.select).
   */
  forward(
    tgt: Tensor,
    memory: Tensor,
    opts: TransformerDecoderForwardOptions = {},
  ): { output: Tensor; selfWeights: Tensor[] | null; crossWeights: Tensor[] | null } {
    const op = "TransformerDecoder";
    optionsOf(op, opts);
    const { cache, ...layerOpts } = opts;
    if (cache !== undefined) {
      checkCache(op, cache, this);
      // the cross-attention caches know their memory by identity; a sequence-first one would be transposed anew each call
      if (!this.batchFirst) throw new ArgumentError(`${op}: a cache needs a batch-first decoder (batchFirst true)`);
    }
    let x = this.batchFirst ? tgt : transposeInput(op, tgt, "tgt");
    const mem = this.batchFirst ? memory : transposeInput(op, memory, "memory");
    const selfWeights: Tensor[] = [];
    const crossWeights: Tensor[] = [];
    this.layers.forEach((layer, i) => {
      const r = layer.forward(
        x,
        mem,
        cache === undefined ? layerOpts : { ...layerOpts, selfCache: cache.self[i]!, crossCache: cache.cross![i]! },
      );
      x = r.output;
      if (r.selfWeights) selfWeights.push(r.selfWeights);
      if (r.crossWeights) crossWeights.push(r.crossWeights);
    });
    if (this.norm) x = this.norm.forward(x);
    const need = opts.needWeights ?? false;
    return {
      output: this.batchFirst ? x : transpose(x, 0, 1),
      selfWeights: need ? selfWeights : null,
      crossWeights: need ? crossWeights : null,
    };
  }
}

export interface TransformerEncoderForwardOptions extends Omit<EncoderLayerForwardOptions, "cache"> {
  /** Incremental (causal) decoding state of this stack. */
  cache?: TransformerCache;
}

export interface TransformerDecoderForwardOptions extends Omit<DecoderLayerForwardOptions, "selfCache" | "crossCache"> {
  /** Incremental decoding state of this stack. */
  cache?: TransformerCache;
}

export interface TransformerCacheOptions {
  /** Positions each self-attention cache preallocates (KVCache maxLength; going past it throws). Default: storage grows as needed. */
  maxLength?: number;
}

/**
 * Incremental-decoding state of one stack: a self-attention KVCache per layer and, for a
 * TransformerDecoder, a static cross-attention KVCache per layer (the memory's projected keys and
 * values, computed by the first call). Pass it as the stack's forward `cache`; every call then takes
 * only the new positions, after the `length` cached ones. An encoder stack is cached as a causal
 * (decoder-only) model. Caches hold data, not graphs: decode under noGrad.
 */
export class TransformerCache {
  readonly stack: TransformerEncoder | TransformerDecoder;
  readonly self: readonly KVCache[];
  /** Cross-attention caches (decoder stacks only). */
  readonly cross: readonly KVCache[] | null;
  // the attention modules that own each layer's caches
  readonly #attn: readonly { self: MultiHeadAttention; cross: MultiHeadAttention | null }[];

  constructor(stack: TransformerEncoder | TransformerDecoder, opts: TransformerCacheOptions = {}) {
    const op = "TransformerCache";
    optionsOf(op, opts);
    if (!(stack instanceof TransformerEncoder || stack instanceof TransformerDecoder))
      throw new ArgumentError(`${op}: stack must be a TransformerEncoder or TransformerDecoder`);
    const selfOpts = opts.maxLength === undefined ? {} : { maxLength: positiveInt(op, opts.maxLength, "maxLength", 1) };
    this.stack = stack;
    if (stack instanceof TransformerDecoder) {
      this.#attn = stack.layers.map((l) => ({ self: l.selfAttn, cross: l.crossAttn }));
      this.cross = stack.layers.map(() => new KVCache({ static: true }));
    } else {
      this.#attn = stack.layers.map((l) => ({ self: l.selfAttn, cross: null }));
      this.cross = null;
    }
    this.self = stack.layers.map(() => new KVCache(selfOpts));
  }

  /** Cached positions. */
  get length(): number {
    return this.self[0]!.length;
  }

  /**
   * Keeps rows `rows` of every cache, in that order (a row may repeat): beam search reorders
   * hypotheses and drops finished examples with it. Pass `memory`, the (B', S, E) memory of the
   * selected rows that later calls will pass, when the rows change which memory rows are needed;
   * without it the cross-attention caches are kept as they are (right when every selected row belongs
   * to the same memory row as the row it replaces, as when beams of one example reorder).
   */
  select(rows: Int32Array | readonly number[], opts: { memory?: Tensor } = {}): void {
    const op = "TransformerCache.select";
    optionsOf(op, opts);
    if (opts.memory !== undefined) {
      assertTensor(op, opts.memory, "memory");
      if (this.cross === null) throw new ArgumentError(`${op}: memory is for decoder caches; this cache belongs to a TransformerEncoder`);
    }
    const idx = new Tensor(Int32Array.from(rows), [rows.length], "int32");
    this.#attn.forEach((attn, i) => {
      selectCacheRows(this.self[i]!, attn.self, idx);
      if (opts.memory !== undefined) selectCacheRows(this.cross![i]!, attn.cross!, idx, opts.memory);
    });
  }

  /** Empties every cache, for a new batch. */
  reset(): void {
    for (const c of [...this.self, ...(this.cross ?? [])]) c.reset();
  }
}

function checkCache(op: string, cache: unknown, stack: TransformerEncoder | TransformerDecoder): asserts cache is TransformerCache {
  if (!(cache instanceof TransformerCache)) throw new ArgumentError(`${op}: cache must be a TransformerCache`);
  if (cache.stack !== stack) throw new ArgumentError(`${op}: this TransformerCache was made for another stack`);
}

/** The stack's final norm, configured like its layers' norms. */
function finalLayerNorm(like: LayerNorm): LayerNorm {
  return new LayerNorm(like.normalizedShape, { eps: like.eps, dtype: like.weight!.dtype as "float32" | "float64" });
}

function transposeInput(op: string, x: unknown, what: string): Tensor {
  const t = assertTensor(op, x, what);
  if (t.ndim !== 3) throw new ShapeError(`${op}: ${what} must be (L, B, E), got ${fmtShape(t.shape)}`);
  return transpose(t, 0, 1);
}

// ---------------------------------------------------------------- token embedding with positions

export type PositionalEncodingKind = "sinusoidal" | "learned" | "rope" | "alibi" | "none";
const POSITIONAL_KINDS: readonly PositionalEncodingKind[] = ["sinusoidal", "learned", "rope", "alibi", "none"];

/** Options shared by both models. */
export interface TransformerModelOptions extends Omit<TransformerLayerOptions, "relativePosition" | "batchFirst"> {
  /** Position information (default "sinusoidal"): added to the embeddings (sinusoidal, learned) or applied in self-attention (rope, alibi). */
  positional?: PositionalEncodingKind;
  /** Rows of the learned position tables (longest sequence the model accepts with "learned"). Default 512. */
  maxLength?: number;
  /** Multiply token embeddings by sqrt(dModel) (default true, as the paper). */
  scaleEmbedding?: boolean;
  /** Use the (target) embedding matrix as the output projection's weight (default true). */
  tieEmbeddings?: boolean;
  /** Layer norm placement; the models default to "pre". */
  norm?: NormPlacement;
  finalNorm?: boolean;
}

interface ModelSetup {
  positional: PositionalEncodingKind;
  maxLength: number;
  scaleEmbedding: boolean;
  tieEmbeddings: boolean;
  stack: TransformerStackOptions;
}

function modelSetup(op: string, dModel: number, numHeads: number, opts: TransformerModelOptions): ModelSetup {
  optionsOf(op, opts);
  positiveInt(op, dModel, "dModel", 1);
  positiveInt(op, numHeads, "numHeads", 1);
  const { positional = "sinusoidal", maxLength = 512, scaleEmbedding = true, tieEmbeddings = true, ...stack } = opts;
  if (!POSITIONAL_KINDS.includes(positional))
    throw new ArgumentError(`${op}: positional must be one of ${POSITIONAL_KINDS.join(", ")}, got ${JSON.stringify(positional)}`);
  for (const [name, v] of [
    ["scaleEmbedding", scaleEmbedding],
    ["tieEmbeddings", tieEmbeddings],
  ] as const)
    if (typeof v !== "boolean") throw new ArgumentError(`${op}: ${name} must be a boolean, got ${JSON.stringify(v)}`);
  const relativePosition = positional === "rope" || positional === "alibi" ? positional : "none";
  return {
    positional,
    maxLength: positiveInt(op, maxLength, "maxLength", 1),
    scaleEmbedding,
    tieEmbeddings,
    // pre-norm by default: it trains without learning-rate warm-up (the layers default to PyTorch's post-norm)
    stack: { ...stack, norm: stack.norm ?? "pre", relativePosition, batchFirst: true },
  };
}

/** Token embedding, scaled, plus absolute positions when the model uses them, then dropout. */
class TokenInput extends Module {
  readonly scale: number;
  embed: Embedding;
  pos: SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null;
  dropout: Dropout;

  constructor(embed: Embedding, setup: ModelSetup, dModel: number, dropout: number, generator: Generator | undefined) {
    super();
    this.embed = embed;
    this.scale = setup.scaleEmbedding ? Math.sqrt(dModel) : 1;
    const dtype = embed.weight.dtype as "float32" | "float64";
    const gen = generator ? { generator } : {};
    if (setup.positional === "sinusoidal") this.pos = new SinusoidalPositionalEncoding(dModel, { maxLength: setup.maxLength, dtype });
    else if (setup.positional === "learned")
      this.pos = new LearnedPositionalEmbedding(setup.maxLength, dModel, { std: 0.02, dtype, ...gen });
    else this.pos = null;
    this.dropout = new Dropout(dropout, gen);
  }

  /** ids (B, L) int32 at positions offset .. offset + L - 1 -> (B, L, E) */
  forward(ids: Tensor, offset = 0): Tensor {
    let x = this.embed.forward(ids);
    if (this.scale !== 1) x = mul(x, this.scale);
    if (this.pos) x = this.pos.forward(x, { offset });
    return this.dropout.forward(x);
  }
}

/** An Embedding initialised N(0, 1/dModel) (so sqrt(dModel) scaling gives unit-variance inputs and a tied output layer starts with small logits). */
function tokenEmbedding(
  vocab: number,
  dModel: number,
  padId: number | null,
  dtype: "float32" | "float64",
  generator: Generator | undefined,
): Embedding {
  const gen = generator ? { generator } : {};
  const e = new Embedding(vocab, dModel, { dtype, ...(padId !== null ? { paddingIdx: padId } : {}), ...gen });
  normal(e.weight, 0, 1 / Math.sqrt(dModel), gen);
  if (padId !== null) e.weight.data.fill(0, padId * dModel, (padId + 1) * dModel);
  return e;
}

function idsInput(op: string, ids: unknown, what: string): Tensor {
  const t = assertTensor(op, ids, what);
  if (t.dtype !== "int32") throw new DTypeError(`${op}: ${what} must be int32 token ids, got ${t.dtype}`);
  if (t.ndim !== 2) throw new ShapeError(`${op}: ${what} must be (B, L), got ${fmtShape(t.shape)}`);
  return t;
}

/** Mean cross-entropy of logits (B, T, V) against targets (B, T) over the positions where weights (B, T) are 1. */
function maskedTokenLoss(logits: Tensor, targets: Tensor, weights: Tensor): Tensor {
  const [b, t, v] = logits.shape as [number, number, number];
  const perToken = crossEntropy(reshape(logits, [b * t, v]), reshape(targets, [b * t]), { reduction: "none" });
  const w = reshape(weights.dtype === logits.dtype ? weights : cast(weights, logits.dtype), [b * t]);
  return div(sum(mul(perToken, w)), Math.max(1, sum(w).item()));
}

// ---------------------------------------------------------------- encoder-decoder

export interface TransformerOptions extends TransformerModelOptions, Partial<TransformerDecoding> {
  numEncoderLayers?: number;
  numDecoderLayers?: number;
  /** One embedding table for source and target (needs equal vocabularies; default false). */
  shareEmbeddings?: boolean;
  /** Token ids of padding, begin- and end-of-sequence (default 0, 1, 2: the tasks' vocabulary). */
  padId?: number;
  bosId?: number;
  eosId?: number;
  /** Token strings by id, for inspection labels (ids are shown when absent). */
  vocabulary?: readonly string[];
}

export interface TransformerOutput {
  /** (B, T, tgtVocab) */
  logits: Tensor;
  /** Per encoder layer (B, H, S, S), when asked for. */
  encoderWeights: Tensor[] | null;
  /** Per decoder layer (B, H, T, T). */
  decoderSelfWeights: Tensor[] | null;
  /** Per decoder layer (B, H, T, S). */
  crossWeights: Tensor[] | null;
}

/**
 * The encoder-decoder Transformer for token tasks. State dict: srcInput.embed.weight (the target
 * table too when shared), tgtInput.embed.weight, learned position tables {src,tgt}Input.pos.weight,
 * encoder.*, decoder.*, outProj.weight (absent when tied: the target embedding serves) and outProj.bias.
 */
export class Transformer extends Module implements TaskModel, InspectableModel {
  readonly dModel: number;
  readonly numHeads: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly vocabulary: readonly string[] | null;
  /** Decoding settings for `search` / `predict` (plain configuration, not state; may be changed). */
  decoding: TransformerDecoding;
  srcInput: TokenInput;
  tgtInput: TokenInput;
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  outProj: Linear;

  constructor(srcVocab: number, tgtVocab: number, dModel: number, numHeads: number, opts: TransformerOptions = {}) {
    super();
    const op = "Transformer";
    optionsOf(op, opts);
    positiveInt(op, srcVocab, "srcVocab", 1);
    positiveInt(op, tgtVocab, "tgtVocab", 1);
    const {
      numEncoderLayers = 2,
      numDecoderLayers = 2,
      shareEmbeddings = false,
      padId = 0,
      bosId = 1,
      eosId = 2,
      vocabulary,
      beamSize,
      lengthPenalty,
      lengthPenaltyForm,
      maxLengthFactor,
      useCache,
      ...rest
    } = opts;
    const setup = modelSetup(op, dModel, numHeads, rest);
    this.decoding = decodingOf(op, {
      ...(beamSize !== undefined ? { beamSize } : {}),
      ...(lengthPenalty !== undefined ? { lengthPenalty } : {}),
      ...(lengthPenaltyForm !== undefined ? { lengthPenaltyForm } : {}),
      ...(maxLengthFactor !== undefined ? { maxLengthFactor } : {}),
      ...(useCache !== undefined ? { useCache } : {}),
    });
    if (typeof shareEmbeddings !== "boolean") throw new ArgumentError(`${op}: shareEmbeddings must be a boolean`);
    if (shareEmbeddings && srcVocab !== tgtVocab)
      throw new ArgumentError(`${op}: shareEmbeddings needs equal vocabularies, got ${srcVocab} and ${tgtVocab}`);
    const minVocab = Math.min(srcVocab, tgtVocab);
    this.padId = assertNumber(op, padId, "padId", { integer: true, min: 0, max: minVocab - 1 });
    this.bosId = assertNumber(op, bosId, "bosId", { integer: true, min: 0, max: tgtVocab - 1 });
    this.eosId = assertNumber(op, eosId, "eosId", { integer: true, min: 0, max: tgtVocab - 1 });
    this.vocabulary = vocabulary ?? null;
    this.dModel = dModel;
    this.numHeads = numHeads;
    const dtype = setup.stack.dtype === "float64" ? "float64" : "float32";
    const dropout = setup.stack.dropout ?? 0.1;
    const gen = opts.generator;
    const srcEmbed = tokenEmbedding(srcVocab, dModel, this.padId, dtype, gen);
    const tgtEmbed = shareEmbeddings ? srcEmbed : tokenEmbedding(tgtVocab, dModel, this.padId, dtype, gen);
    this.srcInput = new TokenInput(srcEmbed, setup, dModel, dropout, gen);
    this.tgtInput = new TokenInput(tgtEmbed, setup, dModel, dropout, gen);
    this.encoder = new TransformerEncoder(dModel, numHeads, positiveInt(op, numEncoderLayers, "numEncoderLayers", 1), setup.stack);
    this.decoder = new TransformerDecoder(dModel, numHeads, positiveInt(op, numDecoderLayers, "numDecoderLayers", 1), setup.stack);
    this.outProj = new Linear(dModel, tgtVocab, { dtype, ...(gen ? { generator: gen } : {}) });
    // Linear's (out, in) = (V, E) weight is the embedding's layout, so tying is sharing the tensor
    if (setup.tieEmbeddings) this.outProj.weight = tgtEmbed.weight;
  }

  /** src (B, S) int32 -> memory (B, S, E); srcKeyPaddingMask (B, S) bool, true = real token. */
  encode(src: Tensor, opts: { srcKeyPaddingMask?: Tensor; needWeights?: boolean } = {}): { memory: Tensor; weights: Tensor[] | null } {
    const ids = idsInput("Transformer.encode", src, "src");
    const r = this.encoder.forward(this.srcInput.forward(ids), {
      ...(opts.srcKeyPaddingMask !== undefined ? { keyPaddingMask: opts.srcKeyPaddingMask } : {}),
      needWeights: opts.needWeights ?? false,
    });
    return { memory: r.output, weights: r.weights };
  }

  /**
   * tgt (B, T) int32 (BOS first) over memory (B, S, E) -> decoder output (B, T, E), before the
   * output projection. With a cache (a TransformerCache of `decoder`), tgt holds only the next
   * tokens, at positions cache.length onwards.
   */
  decodeHidden(
    tgt: Tensor,
    memory: Tensor,
    opts: { memoryKeyPaddingMask?: Tensor; needWeights?: boolean; cache?: TransformerCache } = {},
  ): { hidden: Tensor; selfWeights: Tensor[] | null; crossWeights: Tensor[] | null } {
    const ids = idsInput("Transformer.decode", tgt, "tgt");
    const cache = opts.cache;
    if (cache !== undefined) checkCache("Transformer.decode", cache, this.decoder);
    const r = this.decoder.forward(this.tgtInput.forward(ids, cache?.length ?? 0), memory, {
      ...(opts.memoryKeyPaddingMask !== undefined ? { memoryKeyPaddingMask: opts.memoryKeyPaddingMask } : {}),
      ...(cache !== undefined ? { cache } : {}),
      tgtIsCausal: true,
      needWeights: opts.needWeights ?? false,
    });
    return { hidden: r.output, selfWeights: r.selfWeights, crossWeights: r.crossWeights };
  }

  /** Teacher forcing: src (B, S), tgt (B, T) decoder input -> logits (B, T, V) and, when asked, every attention map. */
  forward(src: Tensor, tgt: Tensor, opts: { srcKeyPaddingMask?: Tensor; needWeights?: boolean } = {}): TransformerOutput {
    optionsOf("Transformer", opts);
    const need = opts.needWeights ?? false;
    const enc = this.encode(src, opts);
    const dec = this.decodeHidden(tgt, enc.memory, {
      ...(opts.srcKeyPaddingMask !== undefined ? { memoryKeyPaddingMask: opts.srcKeyPaddingMask } : {}),
      needWeights: need,
    });
    return {
      logits: this.outProj.forward(dec.hidden),
      encoderWeights: enc.weights,
      decoderSelfWeights: dec.selfWeights,
      crossWeights: dec.crossWeights,
    };
  }

  /** Mean cross-entropy over the target positions the batch's mask counts, with teacher forcing. */
  loss(batch: Batch): Tensor {
    const tgt = decoderInputOf(batch);
    const { logits } = this.forward(batch.input, tgt, { srcKeyPaddingMask: keyPaddingMask(batch.inputLengths, batch.input.shape[1]) });
    return maskedTokenLoss(logits, batch.target, batch.mask);
  }

  /**
   * Free decoding of src (B, S) whose rows have srcLengths real tokens: greedy search (beamSize 0)
   * or beam search (beam-search.ts), up to ceil(maxLengthFactor * length) + 1 tokens per example.
   * With decoding.useCache (default) each step feeds one token per hypothesis through a
   * TransformerCache; otherwise it re-runs the decoder over the whole prefix. No gradients are recorded.
   */
  search(src: Tensor, srcLengths: Tensor | readonly number[]): Hypothesis[] {
    const op = "Transformer.search";
    const x = idsInput(op, src, "src");
    const [b, s] = x.shape as [number, number];
    const lengths = srcLengths instanceof Tensor ? Array.from(srcLengths.data) : [...srcLengths];
    if (lengths.length !== b) throw new ShapeError(`${op}: srcLengths has ${lengths.length} entries for ${b} source rows`);
    const cfg = this.decoding;
    const maxLengths = lengths.map((n) => Math.ceil(cfg.maxLengthFactor * n) + 1);
    return noGrad(() => {
      const mask = keyPaddingMask(lengths, s);
      const { memory } = this.encode(x, { srcKeyPaddingMask: mask });
      const decoder: StepDecoder<SearchState> = {
        vocabSize: this.outProj.outFeatures,
        step: (tokens, st) => {
          if (st.cache !== null) {
            // the caches grow in place: the search never goes back to an earlier state
            const tgt = new Tensor(Int32Array.from(tokens), [tokens.length, 1], "int32");
            const { hidden } = this.decodeHidden(tgt, st.memory, { memoryKeyPaddingMask: st.mask, cache: st.cache });
            return { logProbs: logSoftmax(this.outProj.forward(hidden), -1).data, state: st };
          }
          const prefixes = st.prefixes!.map((p, r) => [...p, tokens[r]!]);
          const t = prefixes[0]!.length;
          const tgt = new Tensor(Int32Array.from(prefixes.flat()), [prefixes.length, t], "int32");
          const { hidden } = this.decodeHidden(tgt, st.memory, { memoryKeyPaddingMask: st.mask });
          const logits = this.outProj.forward(narrow(hidden, 1, t - 1, 1));
          return { logProbs: logSoftmax(logits, -1).data, state: { ...st, prefixes } };
        },
        select: (st, rows) => {
          const example = Int32Array.from(rows, (r) => st.example[r]!);
          const prefixes = st.prefixes === null ? null : Array.from(rows, (r) => st.prefixes![r]!);
          // the memory changes only when the set of examples does, not when beams reorder
          if (example.length === st.example.length && example.every((e, i) => e === st.example[i])) {
            st.cache?.select(rows);
            return { ...st, prefixes, example };
          }
          const idx = new Tensor(example, [example.length], "int32");
          const rowMemory = indexSelect(memory, 0, idx);
          st.cache?.select(rows, { memory: rowMemory });
          return { memory: rowMemory, mask: indexSelect(mask, 0, idx), prefixes, example, cache: st.cache };
        },
      };
      const initial: SearchState = {
        memory,
        mask,
        example: Int32Array.from({ length: b }, (_, i) => i),
        prefixes: cfg.useCache ? null : lengths.map(() => []),
        // a hypothesis feeds at most maxLength tokens: BOS and all but its last
        cache: cfg.useCache ? new TransformerCache(this.decoder, { maxLength: Math.max(1, ...maxLengths) }) : null,
      };
      const common = { bos: this.bosId, eos: this.eosId, maxLengths };
      if (cfg.beamSize === 0) return greedySearch(decoder, initial, common);
      return beamSearch(decoder, initial, {
        ...common,
        beamSize: cfg.beamSize,
        lengthPenalty: cfg.lengthPenalty,
        lengthPenaltyForm: cfg.lengthPenaltyForm,
      });
    });
  }

  /** Free decoding (see `search`): int32 ids (B, n), PAD after each row's EOS. */
  predict(batch: Batch): Tensor {
    const { data, shape } = hypothesisIds(this.search(batch.input, batch.inputLengths), this.padId);
    return new Tensor(data, shape, "int32");
  }

  /**
   * The first example of the batch, decoded by `search` (in eval mode), then every attention map
   * of a teacher-forced pass over that output: encoder self-attention (input x input), decoder
   * self-attention (decoder input x decoder input) and cross-attention (output x input), one map per
   * layer and head, numbered from 0.
   */
  inspect(batch: Batch): Inspection {
    const wasTraining = this.training;
    this.eval();
    try {
      const len = batch.inputLengths.data[0]!;
      const srcIds = Array.from(batch.input.data.subarray(0, len));
      const src = new Tensor(Int32Array.from(srcIds), [1, len], "int32");
      const out = this.search(src, [len])[0]!.tokens;
      const decIn = [this.bosId, ...out.slice(0, -1)];
      const r = noGrad(() => this.forward(src, new Tensor(Int32Array.from(decIn), [1, decIn.length], "int32"), { needWeights: true }));
      const input = srcIds.map((id) => this.label(id));
      const output = out.map((id) => this.label(id));
      const decoderInput = decIn.map((id) => this.label(id));
      const maps: WeightMap[] = [
        ...headMaps("encoder self-attention", r.encoderWeights!, "input", "input", input, input),
        // a self-attention query at position i is decoder input i (it predicts output i)
        ...headMaps("decoder self-attention", r.decoderSelfWeights!, "decoder input", "decoder input", decoderInput, decoderInput),
        ...headMaps("cross-attention", r.crossWeights!, "output", "input", output, input),
      ];
      return { input, output, maps };
    } finally {
      this.train(wasTraining);
    }
  }

  private label(id: number): string {
    return this.vocabulary?.[id] ?? String(id);
  }
}

/** Search rows: each row's encoder memory and padding mask, its example, and its decoding state. */
interface SearchState {
  memory: Tensor;
  mask: Tensor;
  example: Int32Array;
  /** Tokens fed so far per row, re-run at every step (without a cache). */
  prefixes: number[][] | null;
  /** One row per hypothesis (with a cache); its cross-attention caches are bound to `memory`. */
  cache: TransformerCache | null;
}

/** How `search` decodes. */
export interface TransformerDecoding {
  /** Hypotheses per example; 0 = greedy search (1 gives the same output through beam search). */
  beamSize: number;
  /** alpha of beam search's length penalty. */
  lengthPenalty: number;
  lengthPenaltyForm: LengthPenaltyForm;
  /** An example of n source tokens gets at most ceil(maxLengthFactor * n) + 1 output tokens. */
  maxLengthFactor: number;
  /** Decode incrementally with a KV cache (default true); false re-runs the decoder over the whole prefix at every step. */
  useCache: boolean;
}

function decodingOf(op: string, opts: Partial<TransformerDecoding>): TransformerDecoding {
  const beamSize = assertNumber(op, opts.beamSize ?? 0, "beamSize", { integer: true, min: 0 });
  const lengthPenalty = assertNumber(op, opts.lengthPenalty ?? 0.6, "lengthPenalty", { finite: true });
  const lengthPenaltyForm = opts.lengthPenaltyForm ?? "gnmt";
  if (lengthPenaltyForm !== "gnmt" && lengthPenaltyForm !== "power")
    throw new ArgumentError(`${op}: lengthPenaltyForm must be "gnmt" or "power", got ${JSON.stringify(lengthPenaltyForm)}`);
  const maxLengthFactor = assertNumber(op, opts.maxLengthFactor ?? 2, "maxLengthFactor", { finite: true });
  if (!(maxLengthFactor > 0)) throw new ArgumentError(`${op}: maxLengthFactor must be > 0, got ${maxLengthFactor}`);
  const useCache = opts.useCache ?? true;
  if (typeof useCache !== "boolean") throw new ArgumentError(`${op}: useCache must be a boolean, got ${JSON.stringify(useCache)}`);
  return { beamSize, lengthPenalty, lengthPenaltyForm, maxLengthFactor, useCache };
}

function decoderInputOf(batch: Batch): Tensor {
  if (batch.decoderInput === undefined)
    throw new ArgumentError("Transformer: the batch has no decoderInput (a token task batch is needed)");
  return batch.decoderInput;
}

/** One WeightMap per layer and head from per-layer (1, H, rows, cols) weights. */
function headMaps(
  what: string,
  perLayer: readonly Tensor[],
  rowAxis: string,
  colAxis: string,
  rowLabels: readonly string[],
  colLabels: readonly string[],
): WeightMap[] {
  const maps: WeightMap[] = [];
  perLayer.forEach((w, layer) => {
    const [, h, rows, cols] = w.shape as [number, number, number, number];
    for (let head = 0; head < h; head++) {
      const values = Float32Array.from(w.data.subarray(head * rows * cols, (head + 1) * rows * cols));
      maps.push({ name: `${what} layer ${layer} head ${head}`, layer, head, rowAxis, colAxis, rowLabels, colLabels, values });
    }
  });
  return maps;
}

// ---------------------------------------------------------------- decoder-only language model

export interface TransformerLMOptions extends TransformerModelOptions {
  numLayers?: number;
  /** Padding id: its embedding row is zero and gets no gradient (default none). */
  padId?: number;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Default 1; 0 is greedy decoding. */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number;
  generator?: Generator;
  /** Stop a row after this token (later positions get `padId`, or repeat eosId when the model has none); stop early when every row has. */
  eosId?: number;
  /** Feed the prompt once, then one token per step, through a KV cache (default true); false re-runs the whole sequence at every step. */
  useCache?: boolean;
}

/**
 * A decoder-only (GPT-style) language model: token input, numLayers causal self-attention blocks
 * (encoder layers with a causal mask), optional final norm, output projection. State dict:
 * input.embed.weight, input.pos.weight (learned positions), blocks.layers.{i}.*, blocks.norm.*,
 * head.weight (absent when tied), head.bias.
 */
export class TransformerLM extends Module {
  readonly vocabSize: number;
  readonly maxLength: number | null;
  readonly padId: number | null;
  input: TokenInput;
  blocks: TransformerEncoder;
  head: Linear;

  constructor(vocabSize: number, dModel: number, numHeads: number, opts: TransformerLMOptions = {}) {
    super();
    const op = "TransformerLM";
    optionsOf(op, opts);
    this.vocabSize = positiveInt(op, vocabSize, "vocabSize", 1);
    const { numLayers = 2, padId, ...rest } = opts;
    const setup = modelSetup(op, dModel, numHeads, rest);
    this.padId = padId === undefined ? null : assertNumber(op, padId, "padId", { integer: true, min: 0, max: vocabSize - 1 });
    this.maxLength = setup.positional === "learned" ? setup.maxLength : null;
    const dtype = setup.stack.dtype === "float64" ? "float64" : "float32";
    const gen = opts.generator;
    const embed = tokenEmbedding(vocabSize, dModel, this.padId, dtype, gen);
    this.input = new TokenInput(embed, setup, dModel, setup.stack.dropout ?? 0.1, gen);
    this.blocks = new TransformerEncoder(dModel, numHeads, positiveInt(op, numLayers, "numLayers", 1), setup.stack);
    this.head = new Linear(dModel, vocabSize, { dtype, ...(gen ? { generator: gen } : {}) });
    if (setup.tieEmbeddings) this.head.weight = embed.weight;
  }

  /**
   * ids (B, T) int32 -> logits (B, T, V) (position t predicts token t + 1) and per-layer (B, H, T, T)
   * weights when asked. With a cache (a TransformerCache of `blocks`), ids are the next T tokens, at
   * positions cache.length onwards, and the weights cover every cached key: (B, H, T, cached + T).
   */
  forward(ids: Tensor, opts: { needWeights?: boolean; cache?: TransformerCache } = {}): { logits: Tensor; weights: Tensor[] | null } {
    const op = "TransformerLM";
    optionsOf(op, opts);
    const x = idsInput(op, ids, "ids");
    const cache = opts.cache;
    if (cache !== undefined) checkCache(op, cache, this.blocks);
    const past = cache?.length ?? 0;
    if (this.maxLength !== null && past + x.shape[1]! > this.maxLength)
      throw new ShapeError(`${op}: sequence length ${past + x.shape[1]!} exceeds maxLength ${this.maxLength} of the learned positions`);
    const r = this.blocks.forward(this.input.forward(x, past), {
      isCausal: true,
      needWeights: opts.needWeights ?? false,
      ...(cache !== undefined ? { cache } : {}),
    });
    return { logits: this.head.forward(r.output), weights: r.weights };
  }

  /**
   * Mean next-token cross-entropy: position t predicts ids[:, t + 1]. `mask` (B, T) float says
   * which tokens count as targets (default all; its first column is unused).
   */
  loss(ids: Tensor, opts: { mask?: Tensor } = {}): Tensor {
    const op = "TransformerLM.loss";
    optionsOf(op, opts);
    const x = idsInput(op, ids, "ids");
    const [b, t] = x.shape as [number, number];
    if (t < 2) throw new ShapeError(`${op}: need at least 2 tokens per row to predict one, got ${fmtShape(x.shape)}`);
    let weights: Tensor;
    if (opts.mask !== undefined) {
      const m = assertTensor(op, opts.mask, "mask");
      if (m.ndim !== 2 || m.shape[0] !== b || m.shape[1] !== t)
        throw new ShapeError(`${op}: mask must be (B, T) = (${b}, ${t}), got ${fmtShape(m.shape)}`);
      weights = narrow(m, 1, 1, t - 1);
    } else {
      weights = new Tensor(allocate("float32", b * (t - 1)).fill(1), [b, t - 1], "float32");
    }
    const { logits } = this.forward(narrow(x, 1, 0, t - 1));
    return maskedTokenLoss(logits, narrow(x, 1, 1, t - 1), weights);
  }

  /**
   * Continues prompt (B, P) int32 by up to maxNewTokens sampled tokens -> (B, P + n). Sampling is
   * by `sampleTokens` (temperature, topK, generator). With useCache (default) the prompt goes
   * through once and each step feeds only the token just sampled; otherwise each step recomputes
   * the whole sequence. Both give the same tokens from the same generator state.
   */
  generate(prompt: Tensor, opts: GenerateOptions): Tensor {
    const op = "TransformerLM.generate";
    optionsOf(op, opts);
    const p = idsInput(op, prompt, "prompt");
    const maxNew = assertNumber(op, opts.maxNewTokens, "maxNewTokens", { integer: true, min: 0 });
    const eos = opts.eosId === undefined ? null : assertNumber(op, opts.eosId, "eosId", { integer: true, min: 0, max: this.vocabSize - 1 });
    const useCache = opts.useCache ?? true;
    if (typeof useCache !== "boolean") throw new ArgumentError(`${op}: useCache must be a boolean, got ${JSON.stringify(useCache)}`);
    const sampling = {
      ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
      ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
      ...(opts.generator !== undefined ? { generator: opts.generator } : {}),
    };
    const [b, len] = p.shape as [number, number];
    if (len === 0) throw new ShapeError(`${op}: prompt must have at least one token, got ${fmtShape(p.shape)}`);
    const rows: number[][] = Array.from({ length: b }, (_, r) => Array.from(p.data.subarray(r * len, (r + 1) * len)));
    const done = new Array<boolean>(b).fill(false);
    return noGrad(() => {
      // every token but the last sampled one is fed: at most len + maxNew - 1 positions
      const cache = useCache ? new TransformerCache(this.blocks, { maxLength: len + Math.max(0, maxNew - 1) }) : null;
      for (let step = 0; step < maxNew && !done.every(Boolean); step++) {
        // tokens from position `from` on are fed: all of them without a cache; with one, the
        // prompt at the first step, then the token each row sampled last
        const from = cache === null || step === 0 ? 0 : len + step - 1;
        const t = len + step - from;
        const ids = new Tensor(Int32Array.from(rows.flatMap((r) => r.slice(from))), [b, t], "int32");
        const { logits } = this.forward(ids, cache === null ? {} : { cache });
        const next = sampleTokens(reshape(narrow(logits, 1, t - 1, 1), [b, this.vocabSize]), sampling).data;
        for (let r = 0; r < b; r++) {
          const token = done[r] ? (this.padId ?? eos!) : next[r]!;
          rows[r]!.push(token);
          if (token === eos) done[r] = true;
        }
      }
      return new Tensor(Int32Array.from(rows.flat()), [b, rows[0]!.length], "int32");
    });
  }
}

// ---------------------------------------------------------------- registry entry

const ACTIVATIONS: readonly Activation[] = ["relu", "gelu"];
const NORMS: readonly NormPlacement[] = ["pre", "post"];
const PENALTY_FORMS: readonly LengthPenaltyForm[] = ["gnmt", "power"];

function choice<T extends string>(config: ModelConfig, key: string, allowed: readonly T[]): T {
  const v = config[key];
  if (!(allowed as readonly unknown[]).includes(v))
    throw new ArgumentError(`transformer: option ${key} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

function flag(config: ModelConfig, key: string): boolean {
  const v = config[key];
  if (typeof v !== "boolean") throw new ArgumentError(`transformer: option ${key} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function fraction(config: ModelConfig, key: string, max: number): number {
  const v = config[key];
  if (typeof v !== "number" || !(v >= 0 && v < max))
    throw new ArgumentError(`transformer: option ${key} must be a number in [0, ${max}), got ${JSON.stringify(v)}`);
  return v;
}

function finite(config: ModelConfig, key: string): number {
  const v = config[key];
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ArgumentError(`transformer: option ${key} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** The config as constructor arguments, validated (shared by create and parameterCount). */
function specArgs(config: ModelConfig, task: Task): { dModel: number; numHeads: number; opts: TransformerOptions } {
  const dModel = intOption("transformer", config, "dModel");
  const numHeads = intOption("transformer", config, "numHeads");
  if (dModel % numHeads !== 0) throw new ArgumentError(`transformer: dModel ${dModel} must be divisible by numHeads ${numHeads}`);
  const positional = choice(config, "positional", POSITIONAL_KINDS);
  if (positional === "rope" && (dModel / numHeads) % 2 !== 0)
    throw new ArgumentError(`transformer: rope needs an even head size, got dModel / numHeads = ${dModel / numHeads}`);
  const shareEmbeddings = flag(config, "shareEmbeddings");
  if (shareEmbeddings && task.inputSize !== task.outputSize)
    throw new ArgumentError(
      `transformer: shareEmbeddings needs equal vocabularies, ${task.name} has ${task.inputSize} and ${task.outputSize}`,
    );
  return {
    dModel,
    numHeads,
    opts: {
      numEncoderLayers: intOption("transformer", config, "numEncoderLayers"),
      numDecoderLayers: intOption("transformer", config, "numDecoderLayers"),
      dimFeedforward: intOption("transformer", config, "dimFeedforward"),
      dropout: fraction(config, "dropout", 1),
      activation: choice(config, "activation", ACTIVATIONS),
      norm: choice(config, "norm", NORMS),
      positional,
      maxLength: intOption("transformer", config, "maxLength"),
      scaleEmbedding: flag(config, "scaleEmbedding"),
      tieEmbeddings: flag(config, "tieEmbeddings"),
      shareEmbeddings,
      vocabulary: task.vocabulary,
      beamSize: intOption("transformer", config, "beamSize", 0),
      lengthPenalty: finite(config, "lengthPenalty"),
      lengthPenaltyForm: choice(config, "lengthPenaltyForm", PENALTY_FORMS),
      maxLengthFactor: finite(config, "maxLengthFactor"),
    },
  };
}

export const transformerSpec: ModelSpec = {
  name: "transformer",
  description: "encoder-decoder Transformer (token tasks): pre/post norm, sinusoidal/learned/RoPE/ALiBi positions, greedy or beam decoding",
  kinds: ["tokens"],
  defaults: {
    dModel: 64,
    numHeads: 4,
    numEncoderLayers: 2,
    numDecoderLayers: 2,
    dimFeedforward: 256,
    dropout: 0.1,
    activation: "relu",
    norm: "pre",
    positional: "sinusoidal",
    maxLength: 512,
    scaleEmbedding: true,
    tieEmbeddings: true,
    shareEmbeddings: true,
    beamSize: 0,
    lengthPenalty: 0.6,
    lengthPenaltyForm: "gnmt",
    maxLengthFactor: 2,
  },
  training: { steps: 3000, batchSize: 64, lr: 1e-3, optimizer: "adam", clipGradNorm: 1 },
  parameterCount(config: ModelConfig, task: Task): number {
    const { dModel: e, opts } = specArgs(config, task);
    const f = opts.dimFeedforward!;
    const [vs, vt] = [task.inputSize, task.outputSize];
    const attention = 4 * (e * e + e);
    const feedForward = f * e + f + e * f + e;
    const layerNorm = 2 * e;
    const encoderLayer = attention + feedForward + 2 * layerNorm;
    const decoderLayer = 2 * attention + feedForward + 3 * layerNorm;
    const finalNorms = opts.norm === "pre" ? 2 * layerNorm : 0;
    const embeddings = vs * e + (opts.shareEmbeddings ? 0 : vt * e);
    const positions = opts.positional === "learned" ? 2 * opts.maxLength! * e : 0;
    const output = (opts.tieEmbeddings ? 0 : vt * e) + vt;
    return embeddings + positions + opts.numEncoderLayers! * encoderLayer + opts.numDecoderLayers! * decoderLayer + finalNorms + output;
  },
  create(config: ModelConfig, task: Task): TaskModel {
    const { dModel, numHeads, opts } = specArgs(config, task);
    return new Transformer(task.inputSize, task.outputSize, dModel, numHeads, opts);
  },
};
