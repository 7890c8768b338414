/**
 * Multi-head attention with optional grouped-query (numKVHeads < numHeads) and multi-query
 * (numKVHeads = 1) sharing, built on scaledDotProductAttention. Masks follow the library's single
 * convention: bool, true = attend. Use loadTorchMultiheadAttention to load a PyTorch
 * nn.MultiheadAttention state dict (and remember PyTorch's masks have the opposite polarity).
 *
 * Incremental decoding: pass a KVCache (kv-cache.ts) as `forward(q, k, v, { cache, isCausal: true })`.
 * A self-attention cache appends this call's projected keys/values and attends over all of them; with
 * a cache, isCausal is bottom-right aligned ("end"), so a prompt then one token per step reproduces
 * a causal forward over the whole sequence. A static cache projects the encoder memory once for
 * cross-attention. Masks then cover all cached keys: keyPaddingMask (B, Ltotal), attnMask (Lq, Ltotal).
 */
import { Tensor } from "../autograd/tensor.js";
import type { DType } from "../core/dtype.js";
import { ArgumentError, CheckpointError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { logicalAnd } from "../ops/elementwise.js";
import { mean } from "../ops/reduce.js";
import { narrow, reshape, transpose } from "../ops/shape.js";
import { assertNumber, assertTensor, optionsOf } from "../ops/util.js";
import { xavierUniform, zeros } from "../nn/init.js";
import { Linear } from "../nn/linear.js";
import { floatDType, Module } from "../nn/module.js";
import { positiveInt } from "../nn/util.js";
import { KVCache } from "./kv-cache.js";
import type { CausalAlignment } from "./masks.js";
import { scaledDotProductAttention } from "./sdpa.js";

const OP = "MultiHeadAttention";

export interface MultiHeadAttentionOptions {
  /** Key input features (default embedDim). */
  kdim?: number;
  /** Value input features (default embedDim). */
  vdim?: number;
  /** Biases on the four projections (default true). */
  bias?: boolean;
  /** Key/value heads; numHeads must be a multiple. Default numHeads (standard MHA); 1 = multi-query. */
  numKVHeads?: number;
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  /** Inputs and output are (B, L, E) when true (default), (L, B, E) when false. */
  batchFirst?: boolean;
  dtype?: DType;
  generator?: Generator;
}

export interface MultiHeadForwardOptions {
  /** (B, Lk) bool, true = real key, false = padding (see masks.ts keyPaddingMask to build or convert one). */
  keyPaddingMask?: Tensor;
  /** Bool, true = attend: (Lq, Lk), (B, Lq, Lk) or (B, numHeads, Lq, Lk). */
  attnMask?: Tensor;
  /** Adds a causal mask (ANDed with the other masks). */
  isCausal?: boolean;
  /** "start" (default) or "end"; with a cache it must be "end" (the default then). */
  causalAlignment?: CausalAlignment;
  /** Key/value cache of this layer for incremental decoding (see KVCache). */
  cache?: KVCache;
  /** Return the attention weights (default true, as PyTorch). */
  needWeights?: boolean;
  /** Weights averaged over heads (B, Lq, Lk) when true (default), per head (B, numHeads, Lq, Lk) when false. */
  averageWeights?: boolean;
}

export interface MultiHeadResult {
  /** (B, Lq, embedDim), or (Lq, B, embedDim) when batchFirst is false. */
  output: Tensor;
  weights: Tensor | null;
}

/**
 * State dict: qProj.{weight,bias} (E, E), kProj / vProj (numKVHeads * headDim, kdim / vdim),
 * outProj (E, E). Init as PyTorch: Xavier-uniform input projections, zero input and output biases.
 */
export class MultiHeadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly numKVHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  qProj: Linear;
  kProj: Linear;
  vProj: Linear;
  outProj: Linear;

  constructor(embedDim: number, numHeads: number, opts: MultiHeadAttentionOptions = {}) {
    super();
    optionsOf(OP, opts);
    this.embedDim = positiveInt(OP, embedDim, "embedDim", 1);
    this.numHeads = positiveInt(OP, numHeads, "numHeads", 1);
    if (embedDim % numHeads !== 0) throw new ArgumentError(`${OP}: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.numKVHeads = positiveInt(OP, opts.numKVHeads ?? numHeads, "numKVHeads", 1);
    if (numHeads % this.numKVHeads !== 0)
      throw new ArgumentError(`${OP}: numHeads ${numHeads} must be a multiple of numKVHeads ${this.numKVHeads}`);
    this.kdim = positiveInt(OP, opts.kdim ?? embedDim, "kdim", 1);
    this.vdim = positiveInt(OP, opts.vdim ?? embedDim, "vdim", 1);
    this.dropout = assertNumber(OP, opts.dropout ?? 0, "dropout", { min: 0, max: 1 });
    if (this.dropout === 1) throw new ArgumentError(`${OP}: dropout must be < 1`);
    this.batchFirst = opts.batchFirst ?? true;
    const dtype = floatDType(OP, opts.dtype);
    const lin = { dtype, bias: opts.bias ?? true, ...(opts.generator ? { generator: opts.generator } : {}) };
    const kvDim = this.numKVHeads * this.headDim;
    this.qProj = new Linear(embedDim, embedDim, lin);
    this.kProj = new Linear(this.kdim, kvDim, lin);
    this.vProj = new Linear(this.vdim, kvDim, lin);
    this.outProj = new Linear(embedDim, embedDim, lin);
    const gen = opts.generator ? { generator: opts.generator } : {};
    for (const p of [this.qProj, this.kProj, this.vProj]) {
      xavierUniform(p.weight, gen);
      if (p.bias) zeros(p.bias);
    }
    if (this.outProj.bias) zeros(this.outProj.bias);
  }

  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiHeadForwardOptions = {}): MultiHeadResult {
    optionsOf(OP, opts);
    assertTensor(OP, query, "query");
    assertTensor(OP, key, "key");
    assertTensor(OP, value, "value");
    for (const [name, t, dim] of [
      ["query", query, this.embedDim],
      ["key", key, this.kdim],
      ["value", value, this.vdim],
    ] as const) {
      if (t.ndim !== 3 || t.shape[2] !== dim) {
        const layout = this.batchFirst ? "(B, L, " : "(L, B, ";
        throw new ShapeError(`${OP}: ${name} must be ${layout}${dim}), got ${fmtShape(t.shape)}`);
      }
    }
    const [q0, k0, v0] = this.batchFirst ? [query, key, value] : [query, key, value].map((t) => transpose(t, 0, 1));
    const [b, lq] = q0!.shape as [number, number];
    const lk0 = k0!.shape[1]!;
    if (k0!.shape[0] !== b || v0!.shape[0] !== b || v0!.shape[1] !== lk0) {
      throw new ShapeError(
        `${OP}: query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)} disagree on batch size or key length`,
      );
    }
    const h = this.numHeads;
    const hkv = this.numKVHeads;
    const g = h / hkv;
    const d = this.headDim;
    const cache = opts.cache;
    if (cache !== undefined && !(cache instanceof KVCache)) throw new ArgumentError(`${OP}: cache must be a KVCache`);
    let alignment = opts.causalAlignment;
    if (cache !== undefined && opts.isCausal === true) {
      if (cache.isStatic) throw new ArgumentError(`${OP}: isCausal cannot be used with a static (cross-attention) cache`);
      if (alignment === "start")
        throw new ArgumentError(`${OP}: with a KV cache the new queries are the last positions: causalAlignment must be "end"`);
      alignment = "end";
    }
    // Heads are laid out (B, Hkv, G, L, D): query head h uses KV head floor(h / G), and K/V carry a
    // size-1 group axis, so the matmuls broadcast them over the group instead of copying them.
    const q = reshape(transpose(reshape(this.qProj.forward(q0!), [b, lq, h, d]), 1, 2), [b, hkv, g, lq, d]);
    let kv: { keys: Tensor; values: Tensor };
    if (cache?.isStatic === true && cache.length > 0) {
      kv = cache.read(OP, this, key, value, b);
    } else {
      // (B, Hkv, Lk, D)
      kv = {
        keys: transpose(reshape(this.kProj.forward(k0!), [b, lk0, hkv, d]), 1, 2),
        values: transpose(reshape(this.vProj.forward(v0!), [b, lk0, hkv, d]), 1, 2),
      };
      if (cache !== undefined) kv = cache.write(OP, this, kv.keys, kv.values, [key, value]);
    }
    const lk = kv.keys.shape[2]!;
    const k = reshape(kv.keys, [b, hkv, 1, lk, d]);
    const v = reshape(kv.values, [b, hkv, 1, lk, d]);
    const mask = this.combinedMask(opts, b, lq, lk);
    const needWeights = opts.needWeights ?? true;
    const res = scaledDotProductAttention(q, k, v, {
      ...(mask ? { mask } : {}),
      ...(opts.isCausal !== undefined ? { isCausal: opts.isCausal } : {}),
      ...(alignment !== undefined ? { causalAlignment: alignment } : {}),
      dropout: this.dropout,
      training: this.training,
      returnWeights: needWeights,
    });
    const merged = reshape(transpose(reshape(res.output, [b, h, lq, d]), 1, 2), [b, lq, this.embedDim]);
    const out = this.outProj.forward(merged);
    let weights: Tensor | null = null;
    if (needWeights) {
      const perHead = reshape(res.weights!, [b, h, lq, lk]);
      weights = (opts.averageWeights ?? true) ? mean(perHead, 1) : perHead;
    }
    return { output: this.batchFirst ? out : transpose(out, 0, 1), weights };
  }

  /** keyPaddingMask and attnMask, validated and brought to the (B, Hkv, G, Lq, Lk) layout. */
  private combinedMask(opts: MultiHeadForwardOptions, b: number, lq: number, lk: number): Tensor | undefined {
    let mask: Tensor | undefined;
    if (opts.keyPaddingMask !== undefined) {
      const m = boolMask(opts.keyPaddingMask, "keyPaddingMask");
      if (m.ndim !== 2 || m.shape[0] !== b || m.shape[1] !== lk)
        throw new ShapeError(`${OP}: keyPaddingMask must be (B, Lk) = (${b}, ${lk}), got ${fmtShape(m.shape)}`);
      mask = reshape(m, [b, 1, 1, 1, lk]);
    }
    if (opts.attnMask !== undefined) {
      const m = boolMask(opts.attnMask, "attnMask");
      const s = m.shape;
      const h = this.numHeads;
      const hkv = this.numKVHeads;
      let m5: Tensor;
      if (m.ndim === 2 && s[0] === lq && s[1] === lk) m5 = m;
      else if (m.ndim === 3 && s[0] === b && s[1] === lq && s[2] === lk) m5 = reshape(m, [b, 1, 1, lq, lk]);
      else if (m.ndim === 4 && s[0] === b && s[1] === h && s[2] === lq && s[3] === lk) m5 = reshape(m, [b, hkv, h / hkv, lq, lk]);
      else
        throw new ShapeError(
          `${OP}: attnMask must be (Lq, Lk), (B, Lq, Lk) or (B, numHeads, Lq, Lk) = (${b}, ${h}, ${lq}, ${lk}), got ${fmtShape(s)}`,
        );
      mask = mask === undefined ? m5 : logicalAnd(mask, m5);
    }
    return mask;
  }
}

function boolMask(m: unknown, what: string): Tensor {
  assertTensor(OP, m, what);
  const t = m as Tensor;
  if (t.dtype !== "bool") throw new DTypeError(`${OP}: ${what} must be bool (true = attend), got ${t.dtype}`);
  return t;
}

/**
 * Loads a PyTorch nn.MultiheadAttention state dict (packed `in_proj_weight` (3E, E) when
 * kdim = vdim = E, else `q_proj_weight` / `k_proj_weight` / `v_proj_weight`; `in_proj_bias` (3E);
 * `out_proj.weight` / `out_proj.bias`) into qProj / kProj / vProj / outProj. Strict: a missing or
 * unknown key, or PyTorch's add_bias_kv parameters, throw a CheckpointError.
 */
export function loadTorchMultiheadAttention(
  module: MultiHeadAttention,
  sd: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
): void {
  const op = "loadTorchMultiheadAttention";
  if (!(module instanceof MultiHeadAttention)) throw new ArgumentError(`${op}: module must be a MultiHeadAttention`);
  if (module.numKVHeads !== module.numHeads)
    throw new ArgumentError(
      `${op}: PyTorch's MultiheadAttention has no grouped-query heads (numKVHeads ${module.numKVHeads} != numHeads ${module.numHeads})`,
    );
  const src = new Map<string, Tensor>(sd instanceof Map ? sd : Object.entries(sd as Record<string, Tensor>));
  const used = new Set<string>();
  const take = (key: string): Tensor => {
    const t = src.get(key);
    if (!(t instanceof Tensor)) throw new CheckpointError(`${op}: state dict has no tensor ${JSON.stringify(key)}`);
    used.add(key);
    return t;
  };
  const e = module.embedDim;
  const out = new Map<string, Tensor>();
  const packed = src.has("in_proj_weight");
  if (packed) {
    const w = take("in_proj_weight");
    if (w.ndim !== 2 || w.shape[0] !== 3 * e)
      throw new CheckpointError(`${op}: in_proj_weight must be (3E, E) = (${3 * e}, ${e}), got ${fmtShape(w.shape)}`);
    ["qProj", "kProj", "vProj"].forEach((name, i) => out.set(`${name}.weight`, narrow(w, 0, i * e, e)));
  } else {
    out.set("qProj.weight", take("q_proj_weight"));
    out.set("kProj.weight", take("k_proj_weight"));
    out.set("vProj.weight", take("v_proj_weight"));
  }
  if (module.qProj.bias) {
    const bias = take("in_proj_bias");
    if (bias.ndim !== 1 || bias.shape[0] !== 3 * e)
      throw new CheckpointError(`${op}: in_proj_bias must be (3E) = (${3 * e}), got ${fmtShape(bias.shape)}`);
    ["qProj", "kProj", "vProj"].forEach((name, i) => out.set(`${name}.bias`, narrow(bias, 0, i * e, e)));
  }
  out.set("outProj.weight", take("out_proj.weight"));
  if (module.outProj.bias) out.set("outProj.bias", take("out_proj.bias"));
  const extra = [...src.keys()].filter((k) => !used.has(k));
  if (extra.length > 0)
    throw new CheckpointError(`${op}: unsupported or unexpected keys: ${extra.join(", ")} (add_bias_kv is not supported)`);
  module.loadStateDict(out);
}
