/**
 * `seq2seq`: RNN encoder-decoder models for the token tasks, with three decoders.
 *
 * Encoder (all variants): source embeddings, then a bidirectional GRU or LSTM of `numLayers` layers
 * over the valid steps of each row (batch.inputLengths: padding neither updates a state nor shows
 * in the annotations). Annotations h_j = [fwd_j; bwd_j] of the top layer, A = 2 * Hd wide.
 *
 * attention "bahdanau" (Bahdanau, Cho & Bengio 2015, RNNsearch). Hd = H per direction.
 *   s_0 = tanh(W_s bwd_1)                              (`bridge`, no bias, as in the paper; LSTM: c_0 = 0)
 *   c_i = sum_j a_ij h_j,  a_i = softmax_j(v^T tanh(W s_{i-1} + U h_j))   (AdditiveAttention, U h cached per source)
 *   s_i = cell([E y_{i-1}; c_i], s_{i-1})
 *   p(y_i) = softmax(W_o t_i),  t_i = maxout(U_o s_i + V_o E y_{i-1} + C_o c_i)   (deep output)
 * The deep output follows the paper's main text, g(y_{i-1}, s_i, c_i) (its appendix writes s_{i-1}).
 * The maxout pools unit k with unit k + l of t~ (l = ceil(H / 2) units, as the paper's 500 for
 * n = 1000); pairing adjacent units instead is only a permutation of the rows of [U_o V_o C_o].
 *
 * attention "none": the fixed-vector encoder-decoder (Cho et al. 2014, the RNNencdec baseline of
 * Bahdanau's length study). The summary c = [fwd_Tx; bwd_1] (the encoder's final states) sets
 * s_0 = tanh(W c) and is the context of every step: the decoder and the deep output are those of
 * "bahdanau" with c_i = c. Nothing else tells the decoder about the source.
 *
 * attention "luong-dot" | "luong-general" | "luong-concat" (Luong, Pham & Manning 2015). Hd = H / 2
 * per direction (H must be even), so annotations are H wide like the decoder state and the dot
 * score is defined (OpenNMT's convention for bidirectional encoders); s_0 (and c_0) = [fwd_Tx; bwd_1].
 *   h_t = cell(x_t, h_{t-1}),  x_t = E y_{t-1}, or [E y_{t-1}; h~_{t-1}] with input feeding (h~_0 = 0)
 *   c_t = attention(h_t, annotations)  (score dot/general/concat; luongMode global or local-p)
 *   h~_t = tanh(W_c [c_t; h_t]),  p(y_t) = softmax(W_s h~_t + b_s)
 *
 * The decoder is one layer of GRU or LSTM cells with hiddenSize H. Dropout (training only) acts on
 * both embeddings, between encoder layers and on the last hidden layer before the output projection.
 *
 * Training: teacher forcing on batch.decoderInput; the loss is the cross-entropy averaged over the
 * positions batch.mask counts. Work that does not depend on the recurrence is done for all steps at
 * once: the embeddings' share of the decoder's input projection, the deep output / softmax head, and
 * (Luong without input feeding) the attention. Bahdanau with a GRU decoder runs its whole
 * teacher-forced loop as one op (ops/additive-decoder.ts), whose backward computes each weight's
 * gradient with one GEMM over all steps.
 *
 * Prediction: greedy search (beamSize 0) or beam search (beam-search.ts; beamSize 1 gives greedy's
 * output exactly, through the beam code) with length penalty
 * alpha = lengthPenalty, GNMT's ((5 + |Y|) / 6)^alpha (lengthPenaltyForm "gnmt") or |Y|^alpha
 * ("power"); a hypothesis has at most ceil(maxLengthFactor * source length) + 1 tokens, EOS included.
 *
 * State dict: `srcEmbed.weight`, `encoder.*` (nn GRU/LSTM names), `tgtEmbed.weight`, `bridge.weight`
 * (bahdanau, none), `attention.*` (AdditiveAttention / LuongAttention names), `decoder.*` (GRUCell /
 * LSTMCell: weightIh columns are [E y; c] for bahdanau and none, [E y; h~] for Luong with input
 * feeding), then `deepOutput.*` and `outProj.*` (bahdanau, none) or `attentional.wc.weight` and
 * `outProj.*` (Luong).
 */
import { noGrad } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { AdditiveAttention } from "../attention/additive.js";
import { AttentionalHidden, LuongAttention, type LuongMode } from "../attention/luong.js";
import { Embedding } from "../nn/embedding.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { GRU, LSTM } from "../nn/rnn.js";
import { affine, cellStep, GRUCell, LSTMCell } from "../nn/rnn-cell.js";
import { add, maximum, mul, tanh } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { crossEntropy, dropout, logSoftmax } from "../ops/nn.js";
import { additiveGruDecoder } from "../ops/additive-decoder.js";
import { unbindSteps } from "../ops/rnn.js";
import { sum } from "../ops/reduce.js";
import { concat, expand, indexSelect, narrow, reshape, split, stack, transpose, unsqueeze } from "../ops/shape.js";
import type { Batch, Task } from "../tasks/task.js";
import { BOS, EOS, PAD } from "../tasks/vocabulary.js";
import { beamSearch, greedySearch, hypothesisIds, type LengthPenaltyForm, type StepDecoder } from "./beam-search.js";
import { intOption, type Inspection, type InspectableModel, type ModelConfig, type ModelSpec, type TaskModel } from "./task-model.js";

export type Seq2SeqAttention = "none" | "bahdanau" | "luong-dot" | "luong-general" | "luong-concat";
export type Seq2SeqRnn = "gru" | "lstm";

const ATTENTIONS: readonly Seq2SeqAttention[] = ["none", "bahdanau", "luong-dot", "luong-general", "luong-concat"];
const OP = "Seq2Seq";

export interface Seq2SeqDecoding {
  /** Hypotheses per example; 0 = greedy search (1 gives the same output through beam search). */
  beamSize: number;
  /** alpha of the length penalty. */
  lengthPenalty: number;
  lengthPenaltyForm: LengthPenaltyForm;
  /** A hypothesis has at most ceil(maxLengthFactor * source length) + 1 tokens, EOS included. */
  maxLengthFactor: number;
}

export interface Seq2SeqOptions extends Partial<Seq2SeqDecoding> {
  attention?: Seq2SeqAttention;
  rnn?: Seq2SeqRnn;
  embedDim?: number;
  /** Decoder state size H (and the width of the attention layers). */
  hiddenSize?: number;
  /** Encoder layers. */
  numLayers?: number;
  dropout?: number;
  /** Luong only: "global" (default) or "local-p". */
  luongMode?: LuongMode;
  /** Luong local-p: half-width D of the window (default 10). */
  luongWindow?: number;
  /** Luong only: feed h~_{t-1} into the next step's input (default true). */
  inputFeeding?: boolean;
  /** Token strings by id, for `inspect`'s labels (ids are shown without it). */
  vocabulary?: readonly string[];
  dtype?: "float32" | "float64";
  generator?: Generator;
}

/** Sizes a configuration implies; shared by the constructor and parameterCount so they cannot disagree. */
interface Dims {
  attention: Seq2SeqAttention;
  luong: boolean;
  gates: number;
  E: number;
  H: number;
  /** Encoder units per direction. */
  Hd: number;
  /** Annotation width 2 * Hd. */
  A: number;
  L: number;
  /** Maxout units of the deep output. */
  maxout: number;
  decoderInput: number;
}

function dims(opts: Seq2SeqOptions): Dims {
  const attention = opts.attention ?? "bahdanau";
  if (!ATTENTIONS.includes(attention)) {
    throw new ArgumentError(`${OP}: attention must be one of ${ATTENTIONS.join(", ")}, got ${JSON.stringify(attention)}`);
  }
  const rnn = opts.rnn ?? "gru";
  if (rnn !== "gru" && rnn !== "lstm") throw new ArgumentError(`${OP}: rnn must be "gru" or "lstm", got ${JSON.stringify(rnn)}`);
  const positive = (what: string, v: number | undefined, fallback: number): number => {
    const n = v ?? fallback;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
      throw new ArgumentError(`${OP}: ${what} must be an integer >= 1, got ${String(n)}`);
    return n;
  };
  const E = positive("embedDim", opts.embedDim, 64);
  const H = positive("hiddenSize", opts.hiddenSize, 128);
  const L = positive("numLayers", opts.numLayers, 1);
  const luong = attention.startsWith("luong");
  if (luong && H % 2 !== 0)
    throw new ArgumentError(`${OP}: Luong attention needs an even hiddenSize (H / 2 units per encoder direction), got ${H}`);
  const Hd = luong ? H / 2 : H;
  const A = 2 * Hd;
  const feeding = opts.inputFeeding ?? true;
  return {
    attention,
    luong,
    gates: rnn === "gru" ? 3 : 4,
    E,
    H,
    Hd,
    A,
    L,
    maxout: Math.ceil(H / 2),
    decoderInput: luong ? E + (feeding ? H : 0) : E + A,
  };
}

/** The encoder's output for a batch: what every decoder step reads. Row r belongs to example `example[r]`. */
interface Memory {
  /** (N, S, A) annotations; zeros at padded positions. */
  annotations: Tensor;
  /** attention.projectKeys(annotations), computed once per source; null without attention. */
  keys: Tensor | null;
  /** (N, S) bool, true at valid source positions. */
  mask: Tensor;
  lengths: number[];
  /** "none": the summary c (N, A) and its share of the decoder's input projection c W_c^T (N, G*H). */
  summary: Tensor | null;
  summaryGates: Tensor | null;
}

interface DecoderState {
  h: Tensor;
  c: Tensor | null;
  /** Luong with input feeding: h~ of the previous step (N, H). */
  feed: Tensor | null;
}

interface SearchState {
  dec: DecoderState;
  memory: Memory;
  /** Example (row of the encoded batch) of each row. */
  example: Int32Array;
}

interface StepOutput {
  state: DecoderState;
  /** Context of the step (N, A), the deep output's input; Luong: null. */
  context: Tensor | null;
  /** Luong: h~_t (N, H); null otherwise. */
  attentional: Tensor | null;
  /** Attention weights (N, S); null for "none". */
  weights: Tensor | null;
}

export class Seq2Seq extends Module implements TaskModel, InspectableModel {
  readonly attentionKind: Seq2SeqAttention;
  readonly rnn: Seq2SeqRnn;
  readonly hiddenSize: number;
  readonly inputFeeding: boolean;
  readonly dropoutP: number;
  /** Decoding settings for predict; may be changed between calls. */
  decoding: Seq2SeqDecoding;
  srcEmbed: Embedding;
  encoder: GRU | LSTM;
  tgtEmbed: Embedding;
  bridge: Linear | null;
  attention: AdditiveAttention | LuongAttention | null;
  decoder: GRUCell | LSTMCell;
  deepOutput: Linear | null;
  attentional: AttentionalHidden | null;
  outProj: Linear;
  // ES private: not an own enumerable field, so the module walk never visits it
  readonly #vocabulary: readonly string[] | null;
  readonly #dims: Dims;

  constructor(inputVocab: number, outputVocab: number, opts: Seq2SeqOptions = {}) {
    super();
    const d = dims(opts);
    this.#dims = d;
    this.attentionKind = d.attention;
    this.rnn = d.gates === 3 ? "gru" : "lstm";
    this.hiddenSize = d.H;
    this.inputFeeding = d.luong && (opts.inputFeeding ?? true);
    const p = opts.dropout ?? 0;
    if (typeof p !== "number" || !(p >= 0 && p < 1)) throw new ArgumentError(`${OP}: dropout must be in [0, 1), got ${String(p)}`);
    this.dropoutP = p;
    this.decoding = checkDecoding({
      beamSize: opts.beamSize ?? 0,
      lengthPenalty: opts.lengthPenalty ?? 0.6,
      lengthPenaltyForm: opts.lengthPenaltyForm ?? "gnmt",
      maxLengthFactor: opts.maxLengthFactor ?? 2,
    });
    this.#vocabulary = opts.vocabulary ?? null;
    const common = { dtype: opts.dtype ?? "float32", ...(opts.generator ? { generator: opts.generator } : {}) };
    const noBias = { ...common, bias: false };
    this.srcEmbed = new Embedding(inputVocab, d.E, { ...common, paddingIdx: PAD });
    const RNN = this.rnn === "gru" ? GRU : LSTM;
    this.encoder = new RNN(d.E, d.Hd, { ...common, numLayers: d.L, bidirectional: true, dropout: p });
    this.tgtEmbed = new Embedding(outputVocab, d.E, { ...common, paddingIdx: PAD });
    this.bridge = d.attention === "bahdanau" ? new Linear(d.Hd, d.H, noBias) : d.attention === "none" ? new Linear(d.A, d.H, noBias) : null;
    if (d.attention === "bahdanau") this.attention = new AdditiveAttention(d.H, d.A, { ...common, hidden: d.H });
    else if (d.luong) {
      const score = d.attention === "luong-dot" ? "dot" : d.attention === "luong-general" ? "general" : "concat";
      this.attention = new LuongAttention(d.H, d.A, {
        ...common,
        score,
        mode: opts.luongMode ?? "global",
        ...(opts.luongWindow !== undefined ? { window: opts.luongWindow } : {}),
      });
    } else this.attention = null;
    const Cell = this.rnn === "gru" ? GRUCell : LSTMCell;
    this.decoder = new Cell(d.decoderInput, d.H, common);
    this.deepOutput = d.luong ? null : new Linear(d.H + d.E + d.A, 2 * d.maxout, common);
    this.attentional = d.luong ? new AttentionalHidden(d.A, d.H, d.H, common) : null;
    this.outProj = new Linear(d.luong ? d.H : d.maxout, outputVocab, common);
  }

  forward(batch: Batch): Tensor {
    return this.teacherForced(batch, false).logits;
  }

  loss(batch: Batch): Tensor {
    const { logits } = this.teacherForced(batch, false); // (T, B, V)
    const [T, B, V] = logits.shape as [number, number, number];
    const target = reshape(transpose(batch.target, 0, 1), [T * B]);
    const mask = reshape(transpose(batch.mask, 0, 1), [T * B]);
    const perToken = crossEntropy(reshape(logits, [T * B, V]), target, { reduction: "none" });
    const counted = Math.max(1, sum(batch.mask).item());
    return sum(mul(perToken, mask)).div(counted);
  }

  predict(batch: Batch): Tensor {
    this.checkBatch(batch, false);
    const hyps = noGrad(() => this.search(batch.input, batch.inputLengths));
    const { data, shape } = hypothesisIds(hyps, PAD);
    return new Tensor(data, shape, "int32");
  }

  inspect(batch: Batch): Inspection {
    this.checkBatch(batch, false);
    const len = batch.inputLengths.data[0]!;
    // an empty source has nothing to encode (the RNN needs a step) and nothing to attend to
    if (len === 0) return { input: [], output: [], maps: [] };
    const src = Array.from(batch.input.data.subarray(0, len), Number);
    const input = new Tensor(Int32Array.from(src), [1, len], "int32");
    const lengths = new Tensor(Int32Array.from([len]), [1], "int32");
    const label = (id: number): string => this.#vocabulary?.[id] ?? String(id);
    return noGrad(() => {
      const out = this.search(input, lengths)[0]!.tokens;
      const inputLabels = src.map(label);
      const outputLabels = out.map(label);
      if (this.attention === null) return { input: inputLabels, output: outputLabels, maps: [] };
      // teacher-force the decoded output to read the weights each of its tokens was produced with
      const decoderInput = new Tensor(Int32Array.from([BOS, ...out.slice(0, -1)]), [1, out.length], "int32");
      const { weights } = this.run(input, lengths, decoderInput, true);
      return {
        input: inputLabels,
        output: outputLabels,
        maps: [
          {
            name: "decoder attention",
            rowAxis: "output",
            colAxis: "input",
            rowLabels: outputLabels,
            colLabels: inputLabels,
            values: Float32Array.from(weights!.data),
          },
        ],
      };
    });
  }

  /** Logits (T, B, V) of the teacher-forced decoder, and with `keepWeights` the attention weights (B, T, S). */
  teacherForced(batch: Batch, keepWeights: boolean): { logits: Tensor; weights: Tensor | null } {
    this.checkBatch(batch, true);
    return this.run(batch.input, batch.inputLengths, batch.decoderInput!, keepWeights);
  }

  private checkBatch(batch: Batch, training: boolean): void {
    const ok =
      batch !== null &&
      typeof batch === "object" &&
      batch.input instanceof Tensor &&
      batch.input.dtype === "int32" &&
      batch.input.ndim === 2 &&
      batch.inputLengths instanceof Tensor &&
      batch.inputLengths.dtype === "int32" &&
      batch.inputLengths.size === batch.input.shape[0];
    if (!ok) throw new ArgumentError(`${OP}: expected a token batch (int32 input [B, Tin] and inputLengths [B])`);
    if (!training) return;
    const di = batch.decoderInput;
    const B = batch.input.shape[0]!;
    if (!(di instanceof Tensor) || di.dtype !== "int32" || di.ndim !== 2 || di.shape[0] !== B) {
      throw new ArgumentError(`${OP}: teacher forcing needs batch.decoderInput, int32 [${B}, Tout]`);
    }
    for (const [what, t] of [
      ["target", batch.target],
      ["mask", batch.mask],
    ] as const) {
      if (!(t instanceof Tensor) || t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== di.shape[1]) {
        throw new ShapeError(
          `${OP}: batch.${what} ${t instanceof Tensor ? fmtShape(t.shape) : "(missing)"} must be ${fmtShape(di.shape)} like decoderInput`,
        );
      }
    }
  }

  /** Embeds and encodes a source batch; returns the memory and the decoder's initial state. */
  private encode(input: Tensor, lengths: Tensor): { memory: Memory; state: DecoderState } {
    const d = this.#dims;
    const [B, S] = input.shape as [number, number];
    const lens = Array.from(lengths.data, Number);
    lens.forEach((n, b) => {
      if (!Number.isInteger(n) || n < 0 || n > S) throw new ArgumentError(`${OP}: inputLengths[${b}] = ${n} must be in [0, ${S}]`);
    });
    const x = this.drop(this.srcEmbed.forward(transpose(input, 0, 1))); // (S, B, E)
    const enc: { output: Tensor; hN: Tensor; cN?: Tensor } = this.encoder.forward(x, { lengths });
    const annotations = transpose(enc.output, 0, 1); // (B, S, A)
    const top = 2 * (d.L - 1);
    const finalOf = (states: Tensor): [Tensor, Tensor] => {
      const [fwd, bwd] = split(narrow(states, 0, top, 2), 1, 0) as [Tensor, Tensor];
      return [reshape(fwd, [B, d.Hd]), reshape(bwd, [B, d.Hd])];
    };
    const [fwdLast, bwdFirst] = finalOf(enc.hN);
    const mask = Tensor.empty([B, S], "bool");
    lens.forEach((n, b) => mask.data.fill(1, b * S, b * S + n));
    const memory: Memory = {
      annotations,
      keys: this.attention === null ? null : this.attention.projectKeys(annotations),
      mask,
      lengths: lens,
      summary: null,
      summaryGates: null,
    };
    let h: Tensor;
    let c: Tensor | null = null;
    if (d.attention === "bahdanau") h = tanh(this.bridge!.forward(bwdFirst));
    else if (d.attention === "none") {
      const summary = concat([fwdLast, bwdFirst], -1);
      memory.summary = summary;
      memory.summaryGates = matmul(summary, this.contextWeight(), { transB: true });
      h = tanh(this.bridge!.forward(summary));
    } else {
      h = concat([fwdLast, bwdFirst], -1);
      if (enc.cN !== undefined) c = concat(finalOf(enc.cN), -1);
    }
    if (this.rnn === "lstm" && c === null) c = Tensor.empty([B, d.H], h.dtype);
    const feed = this.inputFeeding ? Tensor.empty([B, d.H], h.dtype) : null;
    return { memory, state: { h, c, feed } };
  }

  /** Dropout in training mode (default generator). */
  private drop(x: Tensor): Tensor {
    return this.training && this.dropoutP > 0 ? dropout(x, this.dropoutP, { training: true }) : x;
  }

  /** Columns of the decoder's W_ih for the embedding, (G*H, E). */
  private embedWeight(): Tensor {
    return narrow(this.decoder.weightIh, 1, 0, this.#dims.E);
  }

  /** Columns of the decoder's W_ih after the embedding: the context (bahdanau, none) or h~ (Luong input feeding). */
  private contextWeight(): Tensor {
    const d = this.#dims;
    return narrow(this.decoder.weightIh, 1, d.E, d.decoderInput - d.E);
  }

  /**
   * One decoder step from `xp` = E y_{i-1} W_e^T + b_ih (N, G*H), the embedding's share of the
   * input projection. Everything the recurrence needs; the output head runs separately.
   */
  private step(xp: Tensor, state: DecoderState, memory: Memory, ctxWeight: Tensor | null, batchedAttention: boolean): StepOutput {
    const cell = this.decoder;
    if (!this.#dims.luong) {
      let context: Tensor;
      let weights: Tensor | null = null;
      if (this.attention instanceof AdditiveAttention && memory.keys !== null) {
        // Bahdanau: attend with the previous state s_{i-1}, then feed the context into the cell
        const att = this.attention.forward(state.h, memory.annotations, memory.annotations, {
          mask: memory.mask,
          projectedKeys: memory.keys,
        });
        context = att.output;
        weights = att.weights;
        xp = add(xp, matmul(context, ctxWeight!, { transB: true }));
      } else {
        context = memory.summary!;
        xp = add(xp, memory.summaryGates!);
      }
      const next = cellStep(this.rnn, xp, state.h, state.c, cell.weightHh, cell.biasHh);
      return { state: { h: next.h, c: next.c, feed: null }, context, attentional: null, weights };
    }
    if (state.feed !== null) xp = add(xp, matmul(state.feed, ctxWeight!, { transB: true }));
    const next = cellStep(this.rnn, xp, state.h, state.c, cell.weightHh, cell.biasHh);
    if (batchedAttention) return { state: { h: next.h, c: next.c, feed: null }, context: null, attentional: null, weights: null };
    const att = this.luongAttend(next.h, memory);
    const hT = this.attentional!.forward(att.output, next.h);
    return { state: { h: next.h, c: next.c, feed: this.inputFeeding ? hT : null }, context: null, attentional: hT, weights: att.weights };
  }

  /** Luong attention of decoder states (N, H) or (N, T, H) over the memory. */
  private luongAttend(query: Tensor, memory: Memory): { output: Tensor; weights: Tensor } {
    const att = this.attention as LuongAttention;
    // local-p reads the source lengths for its position range; they also give the mask
    const opts = att.mode === "local-p" ? { lengths: memory.lengths } : { mask: memory.mask };
    return att.forward(
      query,
      memory.annotations,
      memory.annotations,
      memory.keys === null ? opts : { ...opts, projectedKeys: memory.keys },
    );
  }

  /** Output logits from the step outputs, for any leading shape (..., *). */
  private head(h: Tensor, embedded: Tensor, context: Tensor | null, attentional: Tensor | null): Tensor {
    if (attentional !== null) return this.outProj.forward(this.drop(attentional));
    const l = this.#dims.maxout;
    const pre = this.deepOutput!.forward(concat([h, embedded, context!], -1));
    const t = maximum(narrow(pre, -1, 0, l), narrow(pre, -1, l, l));
    return this.outProj.forward(this.drop(t));
  }

  /** Teacher-forced decoder over decoderInput (B, T): logits (T, B, V), and weights (B, T, S) when asked. */
  private run(input: Tensor, lengths: Tensor, decoderInput: Tensor, keepWeights: boolean): { logits: Tensor; weights: Tensor | null } {
    const d = this.#dims;
    const { memory, state: s0 } = this.encode(input, lengths);
    const [B, T] = decoderInput.shape as [number, number];
    const G = this.decoder.weightHh.shape[0]!;
    const embedded = this.drop(this.tgtEmbed.forward(transpose(decoderInput, 0, 1))); // (T, B, E)
    const att = this.attention;
    if (att instanceof AdditiveAttention && !att.normalize && this.rnn === "gru" && !keepWeights) {
      // Bahdanau with a GRU: the whole recurrence is one op, whose backward batches the weight
      // gradients over the steps (the step-by-step path below stays for LSTM and for the weights)
      const cell = this.decoder;
      const out = additiveGruDecoder(embedded, s0.h, memory.annotations, memory.keys!, memory.mask, {
        queryWeight: att.queryProj.weight,
        scoreVector: att.v,
        weightIh: cell.weightIh,
        biasIh: cell.biasIh,
        weightHh: cell.weightHh,
        biasHh: cell.biasHh,
      }); // (T, B, H + A): states, then contexts
      return { logits: this.head(narrow(out, -1, 0, d.H), embedded, narrow(out, -1, d.H, d.A), null), weights: null };
    }
    // the embeddings' share of every step's input projection in one GEMM: (T*B, E) -> (T, B, G*H)
    const xpAll = reshape(affine(reshape(embedded, [T * B, d.E]), this.embedWeight(), this.decoder.biasIh), [T, B, G]);
    const xps = unbindSteps(xpAll); // zero-copy (B, G*H) per step, one gradient buffer
    const ctxWeight = this.attentionKind === "none" || (d.luong && !this.inputFeeding) ? null : this.contextWeight();
    const batchedAttention = d.luong && !this.inputFeeding;
    let state = s0;
    const hs: Tensor[] = [];
    const contexts: Tensor[] = [];
    const attentionals: Tensor[] = [];
    const weights: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const out = this.step(xps[t]!, state, memory, ctxWeight, batchedAttention);
      state = out.state;
      hs.push(state.h);
      if (out.context !== null && this.attentionKind !== "none") contexts.push(out.context);
      if (out.attentional !== null) attentionals.push(out.attentional);
      if (keepWeights && out.weights !== null) weights.push(out.weights);
    }
    const H = stack(hs, 0); // (T, B, H)
    if (batchedAttention) {
      // Luong without input feeding: the states do not depend on the attention, so attend for all steps at once
      const query = transpose(H, 0, 1); // (B, T, H)
      const att = this.luongAttend(query, memory);
      const hT = transpose(this.attentional!.forward(att.output, query), 0, 1); // (T, B, H)
      return { logits: this.head(H, embedded, null, hT), weights: keepWeights ? att.weights : null };
    }
    let context: Tensor | null = null;
    if (this.attentionKind === "none") context = expand(unsqueeze(memory.summary!, 0), [T, B, d.A]);
    else if (!d.luong) context = stack(contexts, 0);
    const logits = this.head(H, embedded, context, d.luong ? stack(attentionals, 0) : null);
    return { logits, weights: keepWeights && weights.length > 0 ? stack(weights, 1) : null };
  }

  /** Free decoding of a source batch (greedy or beam, per `decoding`); no graph is recorded by the callers. */
  private search(input: Tensor, lengths: Tensor): ReturnType<typeof greedySearch> {
    const cfg = checkDecoding(this.decoding);
    const { memory, state } = this.encode(input, lengths);
    const B = input.shape[0]!;
    const ctxWeight = this.attentionKind === "none" ? null : this.contextWeight();
    const embedWeight = this.embedWeight();
    const gather = (m: Memory, rows: Int32Array): Memory => {
      const idx = new Tensor(rows, [rows.length], "int32");
      return {
        annotations: indexSelect(m.annotations, 0, idx),
        keys: m.keys && indexSelect(m.keys, 0, idx),
        mask: indexSelect(m.mask, 0, idx),
        lengths: Array.from(rows, (r) => m.lengths[r]!),
        summary: m.summary && indexSelect(m.summary, 0, idx),
        summaryGates: m.summaryGates && indexSelect(m.summaryGates, 0, idx),
      };
    };
    const decoder: StepDecoder<SearchState> = {
      vocabSize: this.outProj.outFeatures,
      step: (tokens, st) => {
        const y = this.tgtEmbed.forward(new Tensor(tokens, [tokens.length], "int32")); // (N, E)
        const out = this.step(affine(y, embedWeight, this.decoder.biasIh), st.dec, st.memory, ctxWeight, false);
        const logits = this.head(out.state.h, y, out.context, out.attentional);
        return { logProbs: logSoftmax(logits, -1).data, state: { ...st, dec: out.state } };
      },
      select: (st, rows) => {
        const idx = new Tensor(rows, [rows.length], "int32");
        const pick = (t: Tensor | null): Tensor | null => t && indexSelect(t, 0, idx);
        const example = Int32Array.from(rows, (r) => st.example[r]!);
        // the memory only changes when the set of examples does (not when beams of one example reorder)
        const same = example.length === st.example.length && example.every((e, i) => e === st.example[i]);
        return {
          dec: { h: pick(st.dec.h)!, c: pick(st.dec.c), feed: pick(st.dec.feed) },
          memory: same ? st.memory : gather(memory, example),
          example,
        };
      },
    };
    const initial: SearchState = { dec: state, memory, example: Int32Array.from({ length: B }, (_, i) => i) };
    const maxLengths = memory.lengths.map((n) => Math.ceil(cfg.maxLengthFactor * n) + 1);
    const common = { bos: BOS, eos: EOS, maxLengths };
    if (cfg.beamSize === 0) return greedySearch(decoder, initial, common);
    return beamSearch(decoder, initial, {
      ...common,
      beamSize: cfg.beamSize,
      lengthPenalty: cfg.lengthPenalty,
      lengthPenaltyForm: cfg.lengthPenaltyForm,
    });
  }
}

function checkDecoding(cfg: Seq2SeqDecoding): Seq2SeqDecoding {
  if (!Number.isInteger(cfg.beamSize) || cfg.beamSize < 0)
    throw new ArgumentError(`${OP}: beamSize must be an integer >= 0, got ${String(cfg.beamSize)}`);
  if (typeof cfg.lengthPenalty !== "number" || !Number.isFinite(cfg.lengthPenalty))
    throw new ArgumentError(`${OP}: lengthPenalty must be a finite number, got ${String(cfg.lengthPenalty)}`);
  if (cfg.lengthPenaltyForm !== "gnmt" && cfg.lengthPenaltyForm !== "power")
    throw new ArgumentError(`${OP}: lengthPenaltyForm must be "gnmt" or "power", got ${JSON.stringify(cfg.lengthPenaltyForm)}`);
  if (typeof cfg.maxLengthFactor !== "number" || !Number.isFinite(cfg.maxLengthFactor) || !(cfg.maxLengthFactor > 0))
    throw new ArgumentError(`${OP}: maxLengthFactor must be a finite number > 0, got ${String(cfg.maxLengthFactor)}`);
  return cfg;
}

const DEFAULTS: ModelConfig = {
  attention: "bahdanau",
  rnn: "gru",
  embedDim: 64,
  hiddenSize: 128,
  numLayers: 1,
  dropout: 0,
  luongMode: "global",
  luongWindow: 10,
  inputFeeding: true,
  beamSize: 0,
  lengthPenalty: 0.6,
  lengthPenaltyForm: "gnmt",
  maxLengthFactor: 2,
};

/** Typed constructor options from a (resolved) registry config. */
function optionsOf(config: ModelConfig, task: Task): Seq2SeqOptions {
  const str = (key: string): string => {
    const v = config[key];
    if (typeof v !== "string") throw new ArgumentError(`seq2seq: option ${key} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (key: string): number => {
    const v = config[key];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ArgumentError(`seq2seq: option ${key} must be a finite number, got ${JSON.stringify(v)}`);
    return v;
  };
  const mode = str("luongMode");
  if (mode !== "global" && mode !== "local-p")
    throw new ArgumentError(`seq2seq: option luongMode must be "global" or "local-p", got ${JSON.stringify(mode)}`);
  return {
    attention: str("attention") as Seq2SeqAttention,
    rnn: str("rnn") as Seq2SeqRnn,
    embedDim: intOption("seq2seq", config, "embedDim"),
    hiddenSize: intOption("seq2seq", config, "hiddenSize"),
    numLayers: intOption("seq2seq", config, "numLayers"),
    dropout: num("dropout"),
    luongMode: mode,
    luongWindow: num("luongWindow"),
    inputFeeding: config.inputFeeding === true,
    beamSize: intOption("seq2seq", config, "beamSize", 0),
    lengthPenalty: num("lengthPenalty"),
    lengthPenaltyForm: str("lengthPenaltyForm") as LengthPenaltyForm,
    maxLengthFactor: num("maxLengthFactor"),
    vocabulary: task.vocabulary,
  };
}

/** Parameter count of a configuration, from the same sizes the constructor uses (see the state-dict list in the file comment). */
export function seq2seqParameterCount(inputVocab: number, outputVocab: number, opts: Seq2SeqOptions): number {
  const d = dims(opts);
  const { E, H, Hd, A, L } = d;
  const G = d.gates * Hd;
  let n = inputVocab * E + outputVocab * E;
  for (let layer = 0; layer < L; layer++) n += 2 * G * ((layer === 0 ? E : A) + Hd + 2);
  n += d.gates * H * (d.decoderInput + H + 2);
  if (!d.luong) {
    n += H * (d.attention === "bahdanau" ? Hd : A); // bridge
    if (d.attention === "bahdanau") n += H + H * H + H * A; // v, W, U
    n += 2 * d.maxout * (H + E + A + 1) + outputVocab * (d.maxout + 1);
    return n;
  }
  if (d.attention === "luong-general") n += H * A;
  if (d.attention === "luong-concat") n += H + H * (H + A);
  if ((opts.luongMode ?? "global") === "local-p") n += H + H * H;
  return n + H * (A + H) + outputVocab * (H + 1);
}

export const seq2seqSpec: ModelSpec = {
  name: "seq2seq",
  description: "bidirectional GRU/LSTM encoder-decoder with Bahdanau, Luong or no attention; greedy or beam decoding",
  kinds: ["tokens"],
  defaults: DEFAULTS,
  training: { steps: 3000, batchSize: 32, lr: 3e-3, optimizer: "adam", clipGradNorm: 5 },
  parameterCount(config: ModelConfig, task: Task): number {
    return seq2seqParameterCount(task.inputSize, task.outputSize, optionsOf(config, task));
  },
  create(config: ModelConfig, task: Task): TaskModel {
    return new Seq2Seq(task.inputSize, task.outputSize, optionsOf(config, task));
  },
};
