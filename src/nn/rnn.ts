/**
 * Multi-layer, optionally bidirectional RNN / LSTM / GRU over whole sequences, with PyTorch's
 * shapes, options and parameter layout, plus per-sequence lengths in place of packed sequences.
 *
 * Parameters are fields named after PyTorch's, camelCased (the mapping lives in torch-names.ts):
 *
 *   PyTorch                    Engram                    shape
 *   weight_ih_l{k}[_reverse]   weightIh_l{k}[_reverse]   (G*H, in_k)   in_0 = inputSize, in_k = D*H
 *   weight_hh_l{k}[_reverse]   weightHh_l{k}[_reverse]   (G*H, H)
 *   bias_ih_l{k}[_reverse]     biasIh_l{k}[_reverse]     (G*H)
 *   bias_hh_l{k}[_reverse]     biasHh_l{k}[_reverse]     (G*H)
 *
 * with G = 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n), D = 2 if bidirectional.
 */
import { Tensor } from "../autograd/tensor.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { where } from "../ops/elementwise.js";
import { gruRecurrence, recurrentProjection } from "../ops/rnn.js";
import { dropout } from "../ops/nn.js";
import { concat, reshape, split, squeeze, stack, transpose, unsqueeze } from "../ops/shape.js";
import { floatDType, Module } from "./module.js";
import { activateGates, gateCount, recurrentParam, setForgetBias, type CellMode, type RecurrentOptions } from "./rnn-cell.js";
import { empty, positiveInt } from "./util.js";

export interface RecurrentLayerOptions extends RecurrentOptions {
  numLayers?: number;
  /** Input and output are (B, T, F) instead of (T, B, F). States stay (L*D, B, H), as in PyTorch. */
  batchFirst?: boolean;
  bidirectional?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode. */
  dropout?: number;
}

export interface SequenceOptions {
  /** Initial hidden state (L*D, B, H), or (L*D, H) for unbatched input. Zeros when omitted. */
  h0?: Tensor | null;
  /**
   * Valid length of each sequence (B numbers or an int32 tensor, each in [0, T]). Steps past a
   * sequence's length leave its state unchanged, output zeros and pass no gradient, like a packed
   * sequence in PyTorch; the reverse direction starts at each sequence's last valid step.
   */
  lengths?: readonly number[] | Tensor | null;
  /** Generator for the inter-layer dropout masks (default generator when absent). */
  generator?: Generator;
}

export interface SequenceResult {
  /** (T, B, D*H), or (B, T, D*H) with batchFirst, or (T, D*H) unbatched. */
  output: Tensor;
  /** Final hidden state per layer and direction: (L*D, B, H), or (L*D, H) unbatched. */
  hN: Tensor;
}

export interface LstmResult extends SequenceResult {
  /** Final cell state, shaped like hN. */
  cN: Tensor;
}

abstract class RecurrentBase extends Module {
  readonly mode: CellMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  readonly dropout: number;
  readonly dtype: "float32" | "float64";

  protected constructor(op: string, mode: CellMode, inputSize: number, hiddenSize: number, opts: RecurrentLayerOptions) {
    super();
    this.mode = mode;
    this.inputSize = positiveInt(op, inputSize, "inputSize", 1);
    this.hiddenSize = positiveInt(op, hiddenSize, "hiddenSize", 1);
    this.numLayers = positiveInt(op, opts.numLayers ?? 1, "numLayers", 1);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.bidirectional = opts.bidirectional ?? false;
    const p = opts.dropout ?? 0;
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new ArgumentError(`${op}: dropout must be in [0, 1], got ${String(p)}`);
    this.dropout = p;
    this.dtype = floatDType(op, opts.dtype);
    const g = gateCount(mode) * hiddenSize;
    const fields = this as unknown as Record<string, Tensor>;
    // Registration order = PyTorch's: per layer, per direction, w_ih, w_hh, b_ih, b_hh.
    for (let layer = 0; layer < this.numLayers; layer++) {
      const inSize = layer === 0 ? inputSize : hiddenSize * this.directions;
      for (let dir = 0; dir < this.directions; dir++) {
        const sfx = suffix(layer, dir);
        fields[`weightIh${sfx}`] = recurrentParam([g, inSize], hiddenSize, this.dtype, opts.generator);
        fields[`weightHh${sfx}`] = recurrentParam([g, hiddenSize], hiddenSize, this.dtype, opts.generator);
        if (this.bias) {
          fields[`biasIh${sfx}`] = recurrentParam([g], hiddenSize, this.dtype, opts.generator);
          fields[`biasHh${sfx}`] = recurrentParam([g], hiddenSize, this.dtype, opts.generator);
        }
      }
    }
  }

  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** A parameter by its field name, read on every forward so swapped-in tensors take effect. */
  protected weight(name: string): Tensor {
    const t = (this as unknown as Record<string, unknown>)[name];
    if (!(t instanceof Tensor)) throw new ArgumentError(`${this.constructor.name}: parameter ${name} is missing`);
    return t;
  }

  protected optionalWeight(name: string): Tensor | null {
    return this.bias ? this.weight(name) : null;
  }

  protected run(
    op: string,
    input: Tensor,
    opts: SequenceOptions,
    c0: Tensor | null | undefined,
  ): { output: Tensor; hN: Tensor; cN: Tensor | null } {
    if (!(input instanceof Tensor)) throw new ArgumentError(`${op}: input must be a Tensor`);
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      const layout = this.batchFirst ? "(batch, time" : "(time, batch";
      throw new ShapeError(`${op}: input ${fmtShape(input.shape)} must be ${layout}, ${this.inputSize}) or (time, ${this.inputSize})`);
    }
    if (input.dtype !== "float32" && input.dtype !== "float64")
      throw new DTypeError(`${op}: input must be float32 or float64, got ${input.dtype}`);
    const unbatched = input.ndim === 2;
    // (T, B, F) internally
    let x = unbatched ? unsqueeze(input, 1) : this.batchFirst ? transpose(input, 0, 1) : input;
    const [steps, batch] = [x.shape[0]!, x.shape[1]!];
    if (steps === 0) throw new ShapeError(`${op}: input ${fmtShape(input.shape)} has no time steps`);
    const H = this.hiddenSize;
    const stateCount = this.numLayers * this.directions;
    const h0 = this.initialState(op, "h0", opts.h0, stateCount, batch, unbatched);
    const c0s = this.mode === "lstm" ? this.initialState(op, "c0", c0, stateCount, batch, unbatched) : null;
    const masks = stepMasks(op, opts.lengths, steps, batch);
    const hN: Tensor[] = [];
    const cN: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outs: Tensor[] = [];
      for (let dir = 0; dir < this.directions; dir++) {
        const sfx = suffix(layer, dir);
        const idx = layer * this.directions + dir;
        const wHh = this.weight(`weightHh${sfx}`);
        const bIh = this.optionalWeight(`biasIh${sfx}`);
        const bHh = this.optionalWeight(`biasHh${sfx}`);
        // Input projections for every step in one GEMM: (T*B, F) -> (T, B, G*H). RNN and LSTM also
        // fold b_hh into them (once per sequence), so a step is h W_hh^T plus one add; a GRU keeps
        // b_hh apart (its n gate scales the recurrent part by r) and runs the fused GRU step.
        const wIh = this.weight(`weightIh${sfx}`);
        const mode = this.mode;
        const gru = mode === "gru" ? gruRecurrence(x, wIh, bIh, wHh, bHh) : null;
        const proj = mode === "gru" ? null : recurrentProjection(x, wIh, bIh && bHh ? [bIh, bHh] : [], wHh);
        let h = h0[idx]!;
        let c = c0s ? c0s[idx]! : null;
        const stepOut: Tensor[] = new Array<Tensor>(steps);
        for (let k = 0; k < steps; k++) {
          const t = dir === 0 ? k : steps - 1 - k;
          const next = mode === "gru" ? { h: gru!.step(t, h), c: null } : activateGates(mode, proj!.step(t, h), c);
          const mask = masks[t];
          if (mask) {
            // padded rows keep the old state; `where` routes their gradient past this step
            h = where(mask, next.h, h);
            if (c) c = where(mask, next.c!, c);
            stepOut[t] = where(mask, next.h, 0);
          } else {
            h = next.h;
            c = next.c;
            stepOut[t] = next.h;
          }
        }
        outs.push(stack(stepOut, 0)); // (T, B, H)
        hN.push(h);
        if (c) cN.push(c);
      }
      x = outs.length === 1 ? outs[0]! : concat(outs, -1);
      if (layer < this.numLayers - 1 && this.dropout > 0 && this.training) {
        x = dropout(x, this.dropout, { training: true, ...(opts.generator ? { generator: opts.generator } : {}) });
      }
    }
    const fixState = (s: Tensor[]): Tensor => (unbatched ? reshape(stack(s, 0), [stateCount, H]) : stack(s, 0));
    const output = unbatched ? squeeze(x, 1) : this.batchFirst ? transpose(x, 0, 1) : x;
    return { output, hN: fixState(hN), cN: this.mode === "lstm" ? fixState(cN) : null };
  }

  /** Splits a user state (L*D, B, H) into per-layer-direction (B, H) tensors, or makes zeros. */
  private initialState(op: string, what: string, s: Tensor | null | undefined, count: number, batch: number, unbatched: boolean): Tensor[] {
    const H = this.hiddenSize;
    if (s === null || s === undefined) return Array.from({ length: count }, () => empty([batch, H], this.dtype));
    const want = unbatched ? [count, H] : [count, batch, H];
    if (!(s instanceof Tensor) || s.ndim !== want.length || s.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${op}: ${what} ${s instanceof Tensor ? fmtShape(s.shape) : "(not a Tensor)"} must be ${fmtShape(want)}`);
    }
    return split(unbatched ? unsqueeze(s, 1) : s, 1, 0).map((t) => reshape(t, [batch, H]));
  }
}

function suffix(layer: number, dir: number): string {
  return `_l${layer}${dir === 1 ? "_reverse" : ""}`;
}

/** Per time step, a (B, 1) bool mask of the sequences still running, or null when all are. */
function stepMasks(op: string, lengths: SequenceOptions["lengths"], steps: number, batch: number): (Tensor | null)[] {
  const masks: (Tensor | null)[] = new Array<Tensor | null>(steps).fill(null);
  if (lengths === null || lengths === undefined) return masks;
  let lens: number[];
  if (lengths instanceof Tensor) {
    if (lengths.dtype !== "int32" || lengths.ndim !== 1)
      throw new ArgumentError(`${op}: lengths must be a 1-D int32 tensor, got ${lengths.dtype} ${fmtShape(lengths.shape)}`);
    lens = Array.from(lengths.data);
  } else if (Array.isArray(lengths)) {
    lens = Array.from(lengths as readonly unknown[]) as number[];
  } else {
    throw new ArgumentError(`${op}: lengths must be an array of numbers or an int32 tensor`);
  }
  if (lens.length !== batch) throw new ShapeError(`${op}: lengths has ${lens.length} entries for a batch of ${batch}`);
  lens.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 0 || n > steps)
      throw new ArgumentError(`${op}: lengths[${b}] = ${n} must be an integer in [0, ${steps}]`);
  });
  for (let t = 0; t < steps; t++) {
    if (lens.every((n) => n > t)) continue;
    const m = Tensor.empty([batch, 1], "bool");
    for (let b = 0; b < batch; b++) m.data[b] = lens[b]! > t ? 1 : 0;
    masks[t] = m;
  }
  return masks;
}

/** Elman RNN, h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu. */
export class RNN extends RecurrentBase {
  readonly nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, opts: RecurrentLayerOptions & { nonlinearity?: "tanh" | "relu" } = {}) {
    const nl = opts.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu") throw new ArgumentError(`RNN: nonlinearity must be "tanh" or "relu", got ${JSON.stringify(nl)}`);
    super("RNN", nl === "tanh" ? "rnnTanh" : "rnnRelu", inputSize, hiddenSize, opts);
    this.nonlinearity = nl;
  }

  forward(input: Tensor, opts: SequenceOptions = {}): SequenceResult {
    const { output, hN } = this.run("RNN", input, opts, null);
    return { output, hN };
  }
}

/** LSTM over sequences (cell equations in LSTMCell); forgetBias sets every layer's forget-gate bias. */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentLayerOptions & { forgetBias?: number } = {}) {
    super("LSTM", "lstm", inputSize, hiddenSize, opts);
    if (opts.forgetBias !== undefined && this.bias) {
      for (let layer = 0; layer < this.numLayers; layer++) {
        for (let dir = 0; dir < this.directions; dir++) {
          const sfx = suffix(layer, dir);
          setForgetBias(this.weight(`biasIh${sfx}`), this.weight(`biasHh${sfx}`), hiddenSize, opts.forgetBias);
        }
      }
    }
  }

  /** `c0` is the initial cell state, shaped like h0. */
  forward(input: Tensor, opts: SequenceOptions & { c0?: Tensor | null } = {}): LstmResult {
    const { output, hN, cN } = this.run("LSTM", input, opts, opts.c0);
    return { output, hN, cN: cN! };
  }
}

/** GRU over sequences (cell equations in GRUCell). */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentLayerOptions = {}) {
    super("GRU", "gru", inputSize, hiddenSize, opts);
  }

  forward(input: Tensor, opts: SequenceOptions = {}): SequenceResult {
    const { output, hN } = this.run("GRU", input, opts, null);
    return { output, hN };
  }
}
