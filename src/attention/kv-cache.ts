/**
 * A key/value cache for incremental decoding with MultiHeadAttention: one cache per attention layer,
 * passed as `forward(q, k, v, { cache })`. Keys and values are stored already projected and split
 * into heads, (B, Hkv, L, D), so a decoding step projects only its new tokens.
 *
 * Two kinds:
 * - self-attention (default): every call appends its projected keys/values, and the queries attend
 *   over everything cached so far (with isCausal, bottom-right aligned: the Lq new queries are the
 *   last Lq positions). A prompt of n tokens then one token per step gives exactly the outputs of
 *   one causal forward over the whole sequence.
 * - static (`{ static: true }`, cross-attention): the first call projects the encoder memory once;
 *   later calls must pass the same key/value tensors and reuse the stored projections.
 *
 * Storage is preallocated for `maxLength` positions on first use (a call that would go past it
 * throws), or grows by doubling when no maxLength is given. `reset()` empties the cache and frees it
 * for another layer or batch.
 *
 * Gradients: the call that writes entries uses its own keys/values as live tensors, so a single
 * cached forward under grad (a prefill) backpropagates like the uncached layer. Entries written by
 * earlier calls are plain stored data: no gradient flows into them. Caches are meant for decoding
 * under noGrad.
 */
import { Tensor } from "../autograd/tensor.js";
import { isGradEnabled } from "../autograd/engine.js";
import { allocate } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { concat } from "../ops/shape.js";
import { optionsOf } from "../ops/util.js";
import { positiveInt } from "../nn/util.js";

type FloatStorage = Float32Array | Float64Array;

export interface KVCacheOptions {
  /** Capacity in positions, preallocated on first use; going past it throws. Default: unbounded (storage doubles as needed). */
  maxLength?: number;
  /** A cross-attention cache, filled once from the first call's key/value and reused unchanged (default false). */
  static?: boolean;
}

/** Cached keys and values, each (B, Hkv, L, D). */
export interface CachedKV {
  keys: Tensor;
  values: Tensor;
}

const INITIAL_CAPACITY = 16;

export class KVCache {
  readonly maxLength: number | null;
  readonly isStatic: boolean;
  #owner: object | null = null;
  #dtype: "float32" | "float64" = "float32";
  #batch = 0;
  #heads = 0;
  #dim = 0;
  #capacity = 0;
  #length = 0;
  #k: FloatStorage | null = null;
  #v: FloatStorage | null = null;
  // static caches: the key/value inputs the projections were computed from
  #source: [Tensor, Tensor] | null = null;

  constructor(opts: KVCacheOptions = {}) {
    optionsOf("KVCache", opts);
    this.maxLength = opts.maxLength === undefined ? null : positiveInt("KVCache", opts.maxLength, "maxLength", 1);
    if (opts.static !== undefined && typeof opts.static !== "boolean")
      throw new ArgumentError(`KVCache: static must be a boolean, got ${typeof opts.static}`);
    this.isStatic = opts.static === true;
  }

  /** Cached positions L. */
  get length(): number {
    return this.#length;
  }

  /** Batch size B of the cached entries (0 while empty). */
  get batchSize(): number {
    return this.#length === 0 ? 0 : this.#batch;
  }

  /** Empties the cache and unbinds it from its layer (the storage is dropped). */
  reset(): void {
    this.#owner = null;
    this.#length = 0;
    this.#capacity = 0;
    this.#batch = 0;
    this.#heads = 0;
    this.#dim = 0;
    this.#k = null;
    this.#v = null;
    this.#source = null;
  }

  /** A copy of the cached keys (B, Hkv, L, D), or null while empty. */
  keys(): Tensor | null {
    return this.#length === 0 ? null : this.#gather(this.#k!);
  }

  /** A copy of the cached values (B, Hkv, L, D), or null while empty. */
  values(): Tensor | null {
    return this.#length === 0 ? null : this.#gather(this.#v!);
  }

  /**
   * Internal to the attention layers. Self-attention: appends k, v (B, Hkv, Ln, D) and returns every
   * cached key and value. Static: stores them (first call) and returns them.
   */
  write(op: string, owner: object, k: Tensor, v: Tensor, source: [Tensor, Tensor]): CachedKV {
    const [b, h, ln, d] = k.shape as [number, number, number, number];
    this.#check(op, owner, k, v);
    if (this.isStatic && this.#length > 0)
      throw new ArgumentError(`${op}: the static cache is already filled (${this.#length} positions); call reset() to refill it`);
    const past = this.#length;
    const total = past + ln;
    if (this.maxLength !== null && total > this.maxLength) {
      throw new ShapeError(
        `${op}: appending keys ${fmtShape(k.shape)} (${ln} positions) to ${past} cached positions exceeds the cache's maxLength ${this.maxLength}`,
      );
    }
    const pastKeys = past > 0 && isGradEnabled() && (k.requiresGrad || v.requiresGrad) ? this.keys() : null;
    const pastValues = pastKeys === null ? null : this.values();
    if (past === 0) {
      this.#owner = owner;
      this.#dtype = k.dtype as "float32" | "float64";
      this.#batch = b;
      this.#heads = h;
      this.#dim = d;
      if (this.isStatic) this.#source = source;
    }
    this.#reserve(total);
    this.#scatter(this.#k!, k, past);
    this.#scatter(this.#v!, v, past);
    this.#length = total;
    if (past === 0) return { keys: k, values: v };
    // new entries stay live (gradients reach this call's projections); earlier ones are data
    if (pastKeys !== null) return { keys: concat([pastKeys, k], 2), values: concat([pastValues!, v], 2) };
    return { keys: this.#gather(this.#k!), values: this.#gather(this.#v!) };
  }

  /**
   * Internal to the attention layers: the stored projections of a filled static cache, after checking
   * that this call passes the same key/value tensors and batch size it was filled from.
   */
  read(op: string, owner: object, key: Tensor, value: Tensor, batch: number): CachedKV {
    if (!this.isStatic || this.#length === 0) throw new ArgumentError(`${op}: read() needs a filled static cache`);
    if (owner !== this.#owner) throw new ArgumentError(`${op}: this KVCache belongs to another layer; give every layer its own cache`);
    const [k0, v0] = this.#source!;
    if (key !== k0 || value !== v0) {
      throw new ArgumentError(
        `${op}: the static cache was filled from key ${fmtShape(k0.shape)} / value ${fmtShape(v0.shape)}; this call passes other tensors ` +
          `(key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)}); call reset() before caching a new memory`,
      );
    }
    if (batch !== this.#batch)
      throw new ShapeError(`${op}: query batch size ${batch} does not match the cached keys ${fmtShape(this.#shape())}`);
    return { keys: this.#gather(this.#k!), values: this.#gather(this.#v!) };
  }

  #shape(): number[] {
    return [this.#batch, this.#heads, this.#length, this.#dim];
  }

  #check(op: string, owner: object, k: Tensor, v: Tensor): void {
    if (this.#length === 0) return;
    if (owner !== this.#owner) throw new ArgumentError(`${op}: this KVCache belongs to another layer; give every layer its own cache`);
    const [b, h, , d] = k.shape;
    if (b !== this.#batch || h !== this.#heads || d !== this.#dim) {
      throw new ShapeError(
        `${op}: new keys ${fmtShape(k.shape)} do not match the cached keys ${fmtShape(this.#shape())} (batch, heads or head size differ)`,
      );
    }
    if (k.dtype !== this.#dtype || v.dtype !== this.#dtype)
      throw new DTypeError(`${op}: new keys are ${k.dtype} but the cache holds ${this.#dtype}`);
  }

  /** Makes room for `total` positions per (batch, head) row, keeping the cached prefix. */
  #reserve(total: number): void {
    if (total <= this.#capacity) return;
    const cap = this.maxLength ?? Math.max(total, 2 * this.#capacity, INITIAL_CAPACITY);
    const rows = this.#batch * this.#heads;
    const d = this.#dim;
    const grow = (old: FloatStorage | null): FloatStorage => {
      const next = allocate(this.#dtype, rows * cap * d) as FloatStorage;
      if (old !== null)
        for (let r = 0; r < rows; r++) next.set(old.subarray(r * this.#capacity * d, (r * this.#capacity + this.#length) * d), r * cap * d);
      return next;
    };
    this.#k = grow(this.#k);
    this.#v = grow(this.#v);
    this.#capacity = cap;
  }

  /** Writes x (B, Hkv, Ln, D) at positions [at, at + Ln) of every row. */
  #scatter(store: FloatStorage, x: Tensor, at: number): void {
    const ln = x.shape[2]!;
    const d = this.#dim;
    const rows = this.#batch * this.#heads;
    for (let r = 0; r < rows; r++) store.set(x.data.subarray(r * ln * d, (r + 1) * ln * d), (r * this.#capacity + at) * d);
  }

  /** The cached prefix as a fresh contiguous (B, Hkv, L, D) tensor. */
  #gather(store: FloatStorage): Tensor {
    const out = Tensor.empty(this.#shape(), this.#dtype);
    const n = this.#length * this.#dim;
    const rows = this.#batch * this.#heads;
    for (let r = 0; r < rows; r++) out.data.set(store.subarray(r * this.#capacity * this.#dim, r * this.#capacity * this.#dim + n), r * n);
    return out;
  }
}
