/**
 * Recurrent cells (one time step) and the step math shared with the sequence modules in rnn.ts.
 * Gate layouts follow PyTorch so weights load unchanged: LSTM gates are stacked i, f, g, o and
 * GRU gates r, z, n along the first axis of weightIh / weightHh.
 */
import { Tensor } from "../autograd/tensor.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { add, relu, tanh } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { gruCell, lstmCell } from "../ops/rnn.js";
import { squeeze, unsqueeze } from "../ops/shape.js";
import { uniform } from "./init.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "./module.js";
import { empty, positiveInt } from "./util.js";

export type CellMode = "rnnTanh" | "rnnRelu" | "lstm" | "gru";

export function gateCount(mode: CellMode): number {
  return mode === "lstm" ? 4 : mode === "gru" ? 3 : 1;
}

/** x W^T (+ b) over the last axis. */
export function affine(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const y = matmul(x, w, { transB: true });
  return b ? add(y, b) : y;
}

/**
 * One step from the input projection `xp` = x W_ih^T + b_ih (B, G*H) and the previous state
 * h, c (B, H); `c` is only used (and returned) by the LSTM.
 */
export function cellStep(
  mode: CellMode,
  xp: Tensor,
  h: Tensor,
  c: Tensor | null,
  wHh: Tensor,
  bHh: Tensor | null,
): { h: Tensor; c: Tensor | null } {
  const hp = affine(h, wHh, bHh); // (B, G*H)
  if (mode !== "gru") return activateGates(mode, add(xp, hp), c);
  return { h: gruCell(xp, hp, h), c: null };
}

/**
 * The new state from the summed pre-activations x W_ih^T + b_ih + h W_hh^T + b_hh (B, G*H) of an
 * RNN or LSTM (a GRU cannot sum them: its n gate scales the recurrent part by r).
 */
export function activateGates(mode: Exclude<CellMode, "gru">, pre: Tensor, c: Tensor | null): { h: Tensor; c: Tensor | null } {
  switch (mode) {
    case "rnnTanh":
      return { h: tanh(pre), c: null };
    case "rnnRelu":
      return { h: relu(pre), c: null };
    case "lstm":
      return lstmCell(pre, c!);
  }
}

export interface RecurrentOptions extends ParameterFloatOptions {
  /** Add the bias vectors biasIh and biasHh. Default true. */
  bias?: boolean;
  generator?: Generator;
}

export interface LstmOptions extends RecurrentOptions {
  /**
   * Initial forget-gate bias: when set, the forget slice of biasIh is filled with it and that of
   * biasHh with 0 (so the gate starts at sigmoid(forgetBias)); otherwise PyTorch's uniform init.
   */
  forgetBias?: number;
}

/** The PyTorch init for every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H)). */
export function recurrentParam(
  shape: readonly number[],
  hidden: number,
  dtype: "float32" | "float64",
  generator: Generator | undefined,
): Tensor {
  const k = 1 / Math.sqrt(hidden);
  return param(uniform(empty(shape, dtype), -k, k, generator ? { generator } : {}));
}

/** Sets the forget-gate slice (rows H..2H) of an LSTM's two bias vectors. */
export function setForgetBias(bIh: Tensor, bHh: Tensor, hidden: number, value: number): void {
  bIh.data.fill(value, hidden, 2 * hidden);
  bHh.data.fill(0, hidden, 2 * hidden);
}

/** Shared body of the three cells: parameters, argument checks, unbatched inputs. */
abstract class CellBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly dtype: "float32" | "float64";
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;

  protected constructor(op: string, mode: CellMode, inputSize: number, hiddenSize: number, opts: RecurrentOptions) {
    super();
    this.inputSize = positiveInt(op, inputSize, "inputSize", 1);
    this.hiddenSize = positiveInt(op, hiddenSize, "hiddenSize", 1);
    const dtype = floatDType(op, opts.dtype);
    this.dtype = dtype;
    const g = gateCount(mode) * hiddenSize;
    this.weightIh = recurrentParam([g, inputSize], hiddenSize, dtype, opts.generator);
    this.weightHh = recurrentParam([g, hiddenSize], hiddenSize, dtype, opts.generator);
    const bias = opts.bias ?? true;
    this.biasIh = bias ? recurrentParam([g], hiddenSize, dtype, opts.generator) : null;
    this.biasHh = bias ? recurrentParam([g], hiddenSize, dtype, opts.generator) : null;
  }

  /** Checks x (B, in) or (in) and a state (B, H) / (H); returns batched views and whether to unbatch. */
  protected prepare(
    op: string,
    x: Tensor,
    states: readonly (Tensor | null | undefined)[],
  ): { x: Tensor; states: Tensor[]; unbatched: boolean } {
    if (!(x instanceof Tensor)) throw new ArgumentError(`${op}: input must be a Tensor`);
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must be (batch, ${this.inputSize}) or (${this.inputSize})`);
    }
    const unbatched = x.ndim === 1;
    const xb = unbatched ? unsqueeze(x, 0) : x;
    const batch = xb.shape[0]!;
    const want = unbatched ? [this.hiddenSize] : [batch, this.hiddenSize];
    const out = states.map((s) => {
      if (s === null || s === undefined) return empty([batch, this.hiddenSize], this.dtype);
      if (!(s instanceof Tensor) || s.ndim !== want.length || s.shape.some((d, i) => d !== want[i])) {
        throw new ShapeError(
          `${op}: state ${s instanceof Tensor ? fmtShape(s.shape) : "(not a Tensor)"} must be ${fmtShape(want)} for input ${fmtShape(x.shape)}`,
        );
      }
      return unbatched ? unsqueeze(s, 0) : s;
    });
    return { x: xb, states: out, unbatched };
  }

  protected finish(t: Tensor, unbatched: boolean): Tensor {
    return unbatched ? squeeze(t, 0) : t;
  }
}

/**
 * h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.
 * State dict: `weightIh` (H, in), `weightHh` (H, H), `biasIh` (H), `biasHh` (H) (PyTorch: weight_ih, ...).
 */
export class RNNCell extends CellBase {
  readonly nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions & { nonlinearity?: "tanh" | "relu" } = {}) {
    const nl = opts.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu")
      throw new ArgumentError(`RNNCell: nonlinearity must be "tanh" or "relu", got ${JSON.stringify(nl)}`);
    super("RNNCell", nl === "tanh" ? "rnnTanh" : "rnnRelu", inputSize, hiddenSize, opts);
    this.nonlinearity = nl;
  }

  /** x (B, in) or (in), h (B, H) or (H) (zeros when omitted) -> h'. */
  forward(x: Tensor, h: Tensor | null = null): Tensor {
    const p = this.prepare("RNNCell", x, [h]);
    const mode = this.nonlinearity === "tanh" ? "rnnTanh" : "rnnRelu";
    const out = cellStep(mode, affine(p.x, this.weightIh, this.biasIh), p.states[0]!, null, this.weightHh, this.biasHh).h;
    return this.finish(out, p.unbatched);
  }
}

/**
 * i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh); c' = σ(f) c + σ(i) tanh(g); h' = σ(o) tanh(c').
 * State dict: `weightIh` (4H, in), `weightHh` (4H, H), `biasIh` (4H), `biasHh` (4H), gates i, f, g, o.
 */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: LstmOptions = {}) {
    super("LSTMCell", "lstm", inputSize, hiddenSize, opts);
    if (opts.forgetBias !== undefined && this.biasIh && this.biasHh) setForgetBias(this.biasIh, this.biasHh, hiddenSize, opts.forgetBias);
  }

  /** x (B, in) or (in), state { h, c } (zeros when omitted) -> { h', c' }. */
  forward(x: Tensor, state: { h: Tensor; c: Tensor } | null = null): { h: Tensor; c: Tensor } {
    const p = this.prepare("LSTMCell", x, [state?.h, state?.c]);
    const out = cellStep("lstm", affine(p.x, this.weightIh, this.biasIh), p.states[0]!, p.states[1]!, this.weightHh, this.biasHh);
    return { h: this.finish(out.h, p.unbatched), c: this.finish(out.c!, p.unbatched) };
  }
}

/**
 * PyTorch's GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h.
 * State dict: `weightIh` (3H, in), `weightHh` (3H, H), `biasIh` (3H), `biasHh` (3H), gates r, z, n.
 */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super("GRUCell", "gru", inputSize, hiddenSize, opts);
  }

  /** x (B, in) or (in), h (B, H) or (H) (zeros when omitted) -> h'. */
  forward(x: Tensor, h: Tensor | null = null): Tensor {
    const p = this.prepare("GRUCell", x, [h]);
    const out = cellStep("gru", affine(p.x, this.weightIh, this.biasIh), p.states[0]!, null, this.weightHh, this.biasHh).h;
    return this.finish(out, p.unbatched);
  }
}
