/** Embedding: a lookup table of vectors indexed by int32 ids. */
import { Tensor } from "../autograd/tensor.js";
import { isGradEnabled } from "../autograd/engine.js";
import { ArgumentError, DTypeError, fmtShape } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { eq, where } from "../ops/elementwise.js";
import { indexSelect, reshape, unsqueeze } from "../ops/shape.js";
import { normal } from "./init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "./module.js";
import { empty, positiveInt } from "./util.js";

export interface EmbeddingOptions extends ParameterFloatOptions {
  /** Row whose output gets no gradient (and which starts at zero), e.g. the padding token. Negative counts from the end. */
  paddingIdx?: number;
  generator?: Generator;
}

/**
 * ids (...) int32 -> vectors (..., embeddingDim).
 * State dict: `weight` (numEmbeddings, embeddingDim), as PyTorch; init N(0, 1), padding row zero.
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = positiveInt("Embedding", numEmbeddings, "numEmbeddings", 1);
    this.embeddingDim = positiveInt("Embedding", embeddingDim, "embeddingDim", 0);
    const dtype = floatDType("Embedding", opts.dtype);
    let pad: number | null = null;
    if (opts.paddingIdx !== undefined) {
      const p = opts.paddingIdx;
      if (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) {
        throw new ArgumentError(`Embedding: paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${p}`);
      }
      pad = p < 0 ? p + numEmbeddings : p;
    }
    this.paddingIdx = pad;
    const w = normal(empty([numEmbeddings, embeddingDim], dtype), 0, 1, opts.generator ? { generator: opts.generator } : {});
    if (pad !== null) w.data.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
    this.weight = param(w);
  }

  forward(ids: Tensor): Tensor {
    if (!(ids instanceof Tensor)) throw new ArgumentError("Embedding: ids must be an int32 Tensor");
    if (ids.dtype !== "int32") throw new DTypeError(`Embedding: ids must be int32, got ${ids.dtype} of shape ${fmtShape(ids.shape)}`);
    const flat = reshape(ids, [ids.size]);
    const rows = reshape(indexSelect(this.weight, 0, flat), [...ids.shape, this.embeddingDim]);
    if (this.paddingIdx === null || !this.weight.requiresGrad || !isGradEnabled()) return rows;
    // Same values, but positions holding the padding id take a detached copy, so no gradient reaches that row.
    const isPad = unsqueeze(eq(ids, this.paddingIdx), -1);
    return where(isPad, new Tensor(rows.data, rows.shape, rows.dtype), rows);
  }
}
