/**
 * Neural Turing Machine (Graves, Wayne, Danihelka 2014): a controller (LSTM or feed-forward) reads
 * [x_t, r_{t-1}], emits one parameter vector per step from which every head gets a key k, strength
 * beta = softplus, interpolation gate g = sigmoid, shift distribution s = softmax over rotations
 * -s..s and sharpening gamma = 1 + softplus; write heads also get erase e = sigmoid and add
 * a = tanh. Each head addresses the memory M_{t-1} (N slots x W):
 *   w = sharpen(circularShift(interpolate(content(k, M, beta), w_{t-1}, g), s), gamma)
 * read heads read r_t = w M_{t-1} and the write heads then write M_t = M_{t-1} o prod(1 - w e^T) + sum w a^T
 * (reads before writes, as pytorch-ntm). The layer's per-step output is [h_t, r_t].
 *
 * Memory starts at a small constant (1e-6, "constant", the best initialisation in Collier & Beel
 * 2018) or at a learned matrix ("learned", U(+-1/sqrt(N + W)) like pytorch-ntm's bias); every head
 * starts focused on slot 0 so location-based addressing has a starting point. Controller outputs
 * are clipped to +-clipValue (20, as Collier & Beel and deepmind/dnc).
 */
import type { Tensor } from "../autograd/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { uniform } from "../nn/init.js";
import { Linear } from "../nn/linear.js";
import { floatDType, Module, param, type ParameterFloatOptions } from "../nn/module.js";
import { LSTMCell } from "../nn/rnn-cell.js";
import { empty, positiveInt } from "../nn/util.js";
import { full, zeros } from "../ops/creation.js";
import { add, cast, clamp, div, mul, sigmoid, softplus, tanh } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { binaryCrossEntropyWithLogits, softmax } from "../ops/nn.js";
import { sum } from "../ops/reduce.js";
import { lstmCell, recurrentProjection, type RecurrentProjection } from "../ops/rnn.js";
import { concat, expand, narrow, reshape, stack, transpose, unsqueeze } from "../ops/shape.js";
import type { Batch, Task } from "../tasks/task.js";
import type { Inspection, InspectableModel, ModelConfig, ModelSpec, TaskModel, WeightMap } from "../models/task-model.js";
import { intOption } from "../models/task-model.js";
import { eraseAndAdd, ntmAddressing } from "./addressing.js";

// ---------------------------------------------------------------- controller

export type ControllerKind = "lstm" | "feedforward";

export interface ControllerOptions extends ParameterFloatOptions {
  /** "lstm" (default) or "feedforward" (tanh layers, no state of its own). */
  controller?: ControllerKind;
  /** Units per controller layer (default 100). */
  hiddenSize?: number;
  /** Stacked controller layers (default 1); only the first sees [x, reads]. */
  numLayers?: number;
  generator?: Generator;
}

/** Per-layer hidden and cell states (both empty for a feed-forward controller). */
export interface ControllerState {
  h: readonly Tensor[];
  c: readonly Tensor[];
}

/** A controller bound to one input sequence: call step(t, ...) once per t, in order. */
export interface ControllerRun {
  step(t: number, reads: Tensor, state: ControllerState): { output: Tensor; state: ControllerState };
}

/**
 * The controller of the memory networks: input [x_t, reads_{t-1}] -> output h_t (B, hiddenSize).
 * State dict: `layers.<l>.weightIh`, `weightHh`, `biasIh`, `biasHh` (LSTMCell, PyTorch's layout;
 * layer 0's input is x then the reads) or `layers.<l>.weight`, `bias` (feed-forward, Linear).
 * A sequence's input projections x W_x^T + b are computed in one GEMM before the time loop.
 */
export class Controller extends Module {
  readonly kind: ControllerKind;
  readonly inputSize: number;
  readonly readSize: number;
  readonly hiddenSize: number;
  readonly dtype: "float32" | "float64";
  readonly layers: (LSTMCell | Linear)[] = [];

  constructor(inputSize: number, readSize: number, opts: ControllerOptions = {}) {
    super();
    const op = "Controller";
    this.kind = opts.controller ?? "lstm";
    if (this.kind !== "lstm" && this.kind !== "feedforward")
      throw new ArgumentError(`${op}: controller must be "lstm" or "feedforward", got ${JSON.stringify(this.kind)}`);
    this.inputSize = positiveInt(op, inputSize, "inputSize", 1);
    this.readSize = positiveInt(op, readSize, "readSize", 1);
    this.hiddenSize = positiveInt(op, opts.hiddenSize ?? 100, "hiddenSize", 1);
    const layers = positiveInt(op, opts.numLayers ?? 1, "numLayers", 1);
    this.dtype = floatDType(op, opts.dtype);
    const sub = { dtype: this.dtype, ...(opts.generator ? { generator: opts.generator } : {}) };
    for (let l = 0; l < layers; l++) {
      const fanIn = l === 0 ? inputSize + readSize : this.hiddenSize;
      this.layers.push(this.kind === "lstm" ? new LSTMCell(fanIn, this.hiddenSize, sub) : new Linear(fanIn, this.hiddenSize, sub));
    }
  }

  initialState(batch: number): ControllerState {
    if (this.kind === "feedforward") return { h: [], c: [] };
    const z = (): Tensor => zeros([batch, this.hiddenSize], { dtype: this.dtype });
    return { h: this.layers.map(z), c: this.layers.map(z) };
  }

  /** One step: x (B, inputSize), reads (B, readSize). */
  forward(x: Tensor, reads: Tensor, state: ControllerState): { output: Tensor; state: ControllerState } {
    return this.begin(unsqueeze(x, 1)).step(0, reads, state);
  }

  /** x (B, T, inputSize): projects every step's input at once and returns the step function. */
  begin(x: Tensor): ControllerRun {
    const first = this.layers[0]!;
    const steps = x.shape[1]!;
    const xT = transpose(x, 0, 1); // (T, B, in)
    const [inSize, readSize] = [this.inputSize, this.readSize];
    let proj: RecurrentProjection;
    if (first instanceof LSTMCell) {
      // gates = x W_x^T + [reads, h] [W_r | W_hh]^T + b: the recurrent part is one GEMM per step
      const wx = narrow(first.weightIh, 1, 0, inSize);
      const wRec = concat([narrow(first.weightIh, 1, inSize, readSize), first.weightHh], 1);
      proj = recurrentProjection(xT, wx, [first.biasIh!, first.biasHh!], wRec);
    } else {
      const w = first.weight;
      proj = recurrentProjection(xT, narrow(w, 1, 0, inSize), first.bias ? [first.bias] : [], narrow(w, 1, inSize, readSize));
    }
    return {
      step: (t: number, reads: Tensor, state: ControllerState): { output: Tensor; state: ControllerState } => {
        if (t >= steps) throw new ArgumentError(`Controller: step ${t} is out of range for ${steps} steps`);
        if (!(first instanceof LSTMCell)) {
          let out = tanh(proj.step(t, reads));
          for (let l = 1; l < this.layers.length; l++) out = tanh((this.layers[l] as Linear).forward(out));
          return { output: out, state };
        }
        const hs: Tensor[] = [];
        const cs: Tensor[] = [];
        const s0 = lstmCell(proj.step(t, concat([reads, state.h[0]!], 1)), state.c[0]!);
        hs.push(s0.h);
        cs.push(s0.c);
        for (let l = 1; l < this.layers.length; l++) {
          const s = (this.layers[l] as LSTMCell).forward(hs[l - 1]!, { h: state.h[l]!, c: state.c[l]! });
          hs.push(s.h);
          cs.push(s.c);
        }
        return { output: hs[hs.length - 1]!, state: { h: hs, c: cs } };
      },
    };
  }
}

/** Checks a sequence input (B, T, size) against a layer's dtype; returns it in that dtype. */
export function sequenceInput(op: string, x: Tensor, size: number, dtype: "float32" | "float64"): Tensor {
  if (x.ndim !== 3 || x.shape[2] !== size || x.shape[1] === 0)
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must be (batch, steps >= 1, ${size})`);
  if (x.dtype !== "float32" && x.dtype !== "float64") throw new DTypeError(`${op}: input must be float32 or float64, got ${x.dtype}`);
  return x.dtype === dtype ? x : cast(x, dtype);
}

// ---------------------------------------------------------------- NTM

export type MemoryInit = "constant" | "learned";

export interface NTMOptions extends ControllerOptions {
  /** Memory slots N (default 128). */
  memorySlots?: number;
  /** Memory width W (default 20). */
  memoryWidth?: number;
  readHeads?: number;
  writeHeads?: number;
  /** Rotations -s..s a head may shift by per step (default 1: -1, 0, +1). */
  shiftRange?: number;
  /** "constant" (every cell 1e-6, default) or "learned". */
  memoryInit?: MemoryInit;
  /** Controller outputs are clipped to +-clipValue before the activations (default 20; 0 turns it off). */
  clipValue?: number;
}

/** The recurrent state between steps. */
export interface NTMState {
  controller: ControllerState;
  /** (B, N, W) */
  memory: Tensor;
  /** (B, readHeads + writeHeads, N): the last weightings, read heads first. */
  weights: Tensor;
  /** (B, readHeads, W): the last read vectors. */
  reads: Tensor;
}

/** What one step did: its weightings and the memory after its writes. */
export interface NTMStepTrace {
  /** (B, readHeads, N) */
  readWeights: Tensor;
  /** (B, writeHeads, N) */
  writeWeights: Tensor;
  /** (B, N, W) */
  memory: Tensor;
}

/** Memory value of the "constant" initialisation. */
export const NTM_MEMORY_CONSTANT = 1e-6;

/**
 * One NTM time step: controller, heads, memory. State dict: `controller.*` (see Controller),
 * `heads.weight` (P, H), `heads.bias` (P) and, with memoryInit "learned", `memoryInit` (N, W). The
 * head projection's P outputs are grouped by activation: keys (R + Wh) x W, adds Wh x W, beta and
 * gamma (R + Wh each), gates (R + Wh), erase Wh x W, shifts (R + Wh) x (2s + 1); heads in order,
 * read heads first.
 */
export class NTMCell extends Module {
  readonly controller: Controller;
  readonly heads: Linear;
  /** (N, W): a parameter when learned, a constant otherwise. */
  readonly memoryInit: Tensor;
  readonly memorySlots: number;
  readonly memoryWidth: number;
  readonly readHeads: number;
  readonly writeHeads: number;
  readonly shiftRange: number;
  readonly clipValue: number;
  readonly dtype: "float32" | "float64";

  constructor(inputSize: number, opts: NTMOptions = {}) {
    super();
    const op = "NTMCell";
    this.memorySlots = positiveInt(op, opts.memorySlots ?? 128, "memorySlots", 1);
    this.memoryWidth = positiveInt(op, opts.memoryWidth ?? 20, "memoryWidth", 1);
    this.readHeads = positiveInt(op, opts.readHeads ?? 1, "readHeads", 1);
    this.writeHeads = positiveInt(op, opts.writeHeads ?? 1, "writeHeads", 1);
    this.shiftRange = positiveInt(op, opts.shiftRange ?? 1, "shiftRange", 0);
    const clip = opts.clipValue ?? 20;
    if (typeof clip !== "number" || !(clip >= 0) || !Number.isFinite(clip))
      throw new ArgumentError(`${op}: clipValue must be a finite number >= 0, got ${String(clip)}`);
    this.clipValue = clip;
    this.dtype = floatDType(op, opts.dtype);
    this.controller = new Controller(inputSize, this.readHeads * this.memoryWidth, opts);
    this.heads = new Linear(this.controller.hiddenSize, ntmHeadSize(this.readHeads, this.writeHeads, this.memoryWidth, this.shiftRange), {
      dtype: this.dtype,
      ...(opts.generator ? { generator: opts.generator } : {}),
    });
    const init = opts.memoryInit ?? "constant";
    const [n, w] = [this.memorySlots, this.memoryWidth];
    if (init === "constant") this.memoryInit = full([n, w], NTM_MEMORY_CONSTANT, { dtype: this.dtype });
    else if (init === "learned") {
      const k = 1 / Math.sqrt(n + w);
      this.memoryInit = param(uniform(empty([n, w], this.dtype), -k, k, opts.generator ? { generator: opts.generator } : {}));
    } else throw new ArgumentError(`${op}: memoryInit must be "constant" or "learned", got ${JSON.stringify(init)}`);
  }

  get outputSize(): number {
    return this.controller.hiddenSize + this.readHeads * this.memoryWidth;
  }

  /** Memory from memoryInit, every head on slot 0, reads of slot 0, controller state zeros. */
  initialState(batch: number): NTMState {
    const [n, w, r] = [this.memorySlots, this.memoryWidth, this.readHeads];
    const memory = expand(unsqueeze(this.memoryInit, 0), [batch, n, w]);
    const weights = zeros([batch, r + this.writeHeads, n], { dtype: this.dtype });
    for (let i = 0; i < batch * (r + this.writeHeads); i++) weights.data[i * n] = 1;
    return { controller: this.controller.initialState(batch), memory, weights, reads: matmul(narrow(weights, 1, 0, r), memory) };
  }

  /** One step: x (B, inputSize) -> output [h, reads] (B, outputSize). */
  forward(x: Tensor, state: NTMState | null = null): { output: Tensor; state: NTMState; trace: NTMStepTrace } {
    if (x.ndim !== 2) throw new ShapeError(`NTMCell: input ${fmtShape(x.shape)} must be (batch, ${this.controller.inputSize})`);
    const xs = sequenceInput("NTMCell", unsqueeze(x, 1), this.controller.inputSize, this.dtype);
    const s = state ?? this.initialState(x.shape[0]!);
    const flat = reshape(s.reads, [x.shape[0]!, this.readHeads * this.memoryWidth]);
    const ctrl = this.controller.begin(xs).step(0, flat, s.controller);
    const step = this.access(ctrl.output, s);
    return {
      output: concat([ctrl.output, reshape(step.reads, flat.shape)], 1),
      state: { ...step.state, controller: ctrl.state },
      trace: step.trace,
    };
  }

  /** The memory half of a step, from the controller output h (B, H). */
  access(h: Tensor, state: NTMState): { reads: Tensor; state: NTMState; trace: NTMStepTrace } {
    const batch = h.shape[0]!;
    const [r, wh, width] = [this.readHeads, this.writeHeads, this.memoryWidth];
    const heads = r + wh;
    const shifts = 2 * this.shiftRange + 1;
    let p = this.heads.forward(h); // (B, P)
    if (this.clipValue > 0) p = clamp(p, -this.clipValue, this.clipValue);
    let at = 0;
    const take = (n: number): Tensor => {
      const t = narrow(p, 1, at, n);
      at += n;
      return t;
    };
    const keys = reshape(take(heads * width), [batch, heads, width]);
    const adds = reshape(tanh(take(wh * width)), [batch, wh, width]);
    const positive = softplus(take(2 * heads));
    const gates = sigmoid(take(heads + wh * width));
    const shift = softmax(reshape(take(heads * shifts), [batch, heads, shifts]), -1);
    const beta = narrow(positive, 1, 0, heads);
    const gamma = add(narrow(positive, 1, heads, heads), 1);
    const erase = reshape(narrow(gates, 1, heads, wh * width), [batch, wh, width]);
    const weights = ntmAddressing(keys, state.memory, beta, narrow(gates, 1, 0, heads), shift, gamma, state.weights);
    const readWeights = narrow(weights, 1, 0, r);
    const writeWeights = narrow(weights, 1, r, wh);
    const reads = matmul(readWeights, state.memory); // (B, R, W), before this step's writes
    const memory = eraseAndAdd(state.memory, writeWeights, erase, adds);
    return { reads, state: { controller: state.controller, memory, weights, reads }, trace: { readWeights, writeWeights, memory } };
  }
}

/** Head projection outputs P for R read and Wh write heads of width W with shift range s. */
export function ntmHeadSize(reads: number, writes: number, width: number, shiftRange: number): number {
  const heads = reads + writes;
  // keys, beta, gamma, gate, shifts per head; erase and add per write head
  return heads * (width + 3 + 2 * shiftRange + 1) + 2 * writes * width;
}

/** Per-step weightings and memory of a sequence, stacked over time. */
export interface NTMTrace {
  /** (B, T, readHeads, N) */
  readWeights: Tensor;
  /** (B, T, writeHeads, N) */
  writeWeights: Tensor;
  /** (B, T, N, W): memory after each step's writes. */
  memory: Tensor;
}

export interface MemoryForwardOptions<S> {
  /** Continue from this state (default: the initial state). */
  state?: S;
  /** Also return the per-step weightings and memory snapshots. */
  trace?: boolean;
}

/** What the NTM and DNC cells share: a controller, read heads of the memory's width, and one access per step. */
export interface MemoryCell<S extends { controller: ControllerState; reads: Tensor }, T> {
  readonly controller: Controller;
  readonly readHeads: number;
  readonly memoryWidth: number;
  readonly dtype: "float32" | "float64";
  initialState(batch: number): S;
  access(h: Tensor, state: S): { state: S; trace: T };
}

/**
 * Runs a memory cell over x (B, T, inputSize): each step the controller sees x_t and the previous
 * reads, then the cell reads and writes memory. Returns (B, T, H + R W), the controller output and
 * the new reads of every step, the final state, and the per-step traces when asked.
 */
export function runMemorySequence<S extends { controller: ControllerState; reads: Tensor }, T>(
  op: string,
  cell: MemoryCell<S, T>,
  x: Tensor,
  opts: MemoryForwardOptions<S>,
): { output: Tensor; state: S; traces: T[] } {
  const xs = sequenceInput(op, x, cell.controller.inputSize, cell.dtype);
  const [batch, steps] = xs.shape as [number, number];
  let state = opts.state ?? cell.initialState(batch);
  const readSize = cell.readHeads * cell.memoryWidth;
  const run = cell.controller.begin(xs);
  const hs: Tensor[] = [];
  const reads: Tensor[] = [];
  const traces: T[] = [];
  for (let t = 0; t < steps; t++) {
    const ctrl = run.step(t, reshape(state.reads, [batch, readSize]), state.controller);
    const step = cell.access(ctrl.output, { ...state, controller: ctrl.state });
    state = step.state;
    hs.push(ctrl.output);
    reads.push(reshape(state.reads, [batch, readSize]));
    if (opts.trace === true) traces.push(step.trace);
  }
  return { output: concat([stack(hs, 1), stack(reads, 1)], 2), state, traces };
}

/**
 * The NTM over a sequence: x (B, T, inputSize) -> output (B, T, H + R W), the controller output and
 * the reads of every step (what an output layer reads). State dict: `cell.*` (see NTMCell).
 */
export class NTM extends Module {
  readonly cell: NTMCell;

  constructor(inputSize: number, opts: NTMOptions = {}) {
    super();
    this.cell = new NTMCell(inputSize, opts);
  }

  get outputSize(): number {
    return this.cell.outputSize;
  }

  forward(x: Tensor, opts: MemoryForwardOptions<NTMState> = {}): { output: Tensor; state: NTMState; trace?: NTMTrace } {
    const { output, state, traces } = runMemorySequence("NTM", this.cell, x, opts);
    if (opts.trace !== true) return { output, state };
    return {
      output,
      state,
      trace: {
        readWeights: stack(
          traces.map((t) => t.readWeights),
          1,
        ),
        writeWeights: stack(
          traces.map((t) => t.writeWeights),
          1,
        ),
        memory: stack(
          traces.map((t) => t.memory),
          1,
        ),
      },
    };
  }
}

// ---------------------------------------------------------------- bit-task models (shared with the DNC)

/** Binary cross-entropy of logits (B, T, out) against the batch's targets, averaged over the bits the mask counts. */
export function maskedBitLoss(logits: Tensor, batch: Batch): Tensor {
  const target = batch.target.dtype === logits.dtype ? batch.target : cast(batch.target, logits.dtype);
  const mask = batch.mask.dtype === logits.dtype ? batch.mask : cast(batch.mask, logits.dtype);
  const perBit = binaryCrossEntropyWithLogits(logits, target, { reduction: "none" });
  const counted = sum(batch.mask).item() * logits.shape[2]!;
  return div(sum(mul(perBit, unsqueeze(mask, -1))), Math.max(1, counted));
}

/** The first example of a batch cut to its own length: (1, L, inputSize). */
export function firstExample(batch: Batch): Tensor {
  const length = batch.inputLengths.data[0]!;
  return narrow(narrow(batch.input, 0, 0, 1), 1, 0, Math.max(1, Math.min(length, batch.input.shape[1]!)));
}

/** A step's vector as text: "0110" for bits, space-separated values otherwise. */
function vectorLabel(values: ArrayLike<number>): string {
  const xs = Array.from(values);
  return xs.every((v) => v === 0 || v === 1) ? xs.join("") : xs.map((v) => v.toFixed(2)).join(" ");
}

/**
 * Maps of one example's trace: `source` (1, T, H, N) gives one "time x memory slot" map per head
 * (axis 2), named `${name} ${h}` (or just `name` when `heads` is 1 and `numbered` is false).
 */
export function slotMaps(source: Tensor, name: string, opts: { numbered?: boolean } = {}): WeightMap[] {
  const [, steps, heads, slots] = source.shape as [number, number, number, number];
  const rowLabels = Array.from({ length: steps }, (_, t) => String(t));
  const colLabels = Array.from({ length: slots }, (_, i) => String(i));
  const maps: WeightMap[] = [];
  for (let h = 0; h < heads; h++) {
    const values = new Float32Array(steps * slots);
    for (let t = 0; t < steps; t++) values.set(source.data.subarray((t * heads + h) * slots, (t * heads + h + 1) * slots), t * slots);
    const numbered = opts.numbered !== false || heads > 1;
    maps.push({ name: numbered ? `${name} ${h}` : name, head: h, rowAxis: "time", colAxis: "memory slot", rowLabels, colLabels, values });
  }
  return maps;
}

/** The memory after the last step of one example's trace `memory` (1, T, N, W), as a slot x width map. */
export function finalMemoryMap(memory: Tensor): WeightMap {
  const [, steps, slots, width] = memory.shape as [number, number, number, number];
  const values = Float32Array.from(memory.data.subarray((steps - 1) * slots * width, steps * slots * width));
  return {
    name: "memory after the last step",
    rowAxis: "memory slot",
    colAxis: "memory width",
    rowLabels: Array.from({ length: slots }, (_, i) => String(i)),
    colLabels: Array.from({ length: width }, (_, i) => String(i)),
    values,
  };
}

/** Input and predicted-bit labels per step for an Inspection; x (1, T, in), probabilities (1, T, out). */
export function bitLabels(x: Tensor, probabilities: Tensor): { input: string[]; output: string[] } {
  const [, steps, inSize] = x.shape as [number, number, number];
  const outSize = probabilities.shape[2]!;
  const input: string[] = [];
  const output: string[] = [];
  for (let t = 0; t < steps; t++) {
    input.push(vectorLabel(x.data.subarray(t * inSize, (t + 1) * inSize)));
    output.push(vectorLabel(Array.from(probabilities.data.subarray(t * outSize, (t + 1) * outSize), (p) => (p > 0.5 ? 1 : 0))));
  }
  return { input, output };
}

/**
 * `ntm` for bit tasks: an NTM and a linear output layer over [h_t, r_t]; y_t = sigmoid(W [h_t, r_t] + b).
 * State dict: `ntm.cell.*`, `output.weight`, `output.bias`.
 */
export class NtmTagger extends Module implements TaskModel, InspectableModel {
  readonly ntm: NTM;
  readonly output: Linear;

  constructor(inputSize: number, outputSize: number, opts: NTMOptions = {}) {
    super();
    this.ntm = new NTM(inputSize, opts);
    this.output = new Linear(this.ntm.outputSize, outputSize, {
      ...(opts.dtype ? { dtype: opts.dtype } : {}),
      ...(opts.generator ? { generator: opts.generator } : {}),
    });
  }

  /** (B, T, inputSize) -> logits (B, T, outputSize). */
  forward(x: Tensor): Tensor {
    return this.output.forward(this.ntm.forward(x).output);
  }

  loss(batch: Batch): Tensor {
    return maskedBitLoss(this.forward(batch.input), batch);
  }

  predict(batch: Batch): Tensor {
    return sigmoid(this.forward(batch.input));
  }

  /** Read and write weightings (time x memory slot) of the batch's first example and the final memory. */
  inspect(batch: Batch): Inspection {
    return noGrad(() => {
      const x = firstExample(batch);
      const { output, trace } = this.ntm.forward(x, { trace: true });
      const probabilities = sigmoid(this.output.forward(output));
      return {
        ...bitLabels(x, probabilities),
        maps: [...slotMaps(trace!.readWeights, "read head"), ...slotMaps(trace!.writeWeights, "write head"), finalMemoryMap(trace!.memory)],
      };
    });
  }
}

/** A string option restricted to `choices`. */
export function choiceOption<T extends string>(spec: string, config: ModelConfig, key: string, choices: readonly T[]): T {
  const v = config[key];
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v))
    throw new ArgumentError(`${spec}: option ${key} must be one of ${choices.join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** A finite number option >= 0. */
export function nonNegativeOption(spec: string, config: ModelConfig, key: string): number {
  const v = config[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
    throw new ArgumentError(`${spec}: option ${key} must be a finite number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/** Parameters of a controller over `inputSize` inputs and `readSize` read values. */
export function controllerParameterCount(
  kind: ControllerKind,
  inputSize: number,
  readSize: number,
  hidden: number,
  layers: number,
): number {
  let n = 0;
  for (let l = 0; l < layers; l++) {
    const fanIn = l === 0 ? inputSize + readSize : hidden;
    // LSTMCell: W_ih (4H, in), W_hh (4H, H), two biases (4H); Linear: W (H, in), b (H)
    n += kind === "lstm" ? 4 * hidden * (fanIn + hidden + 2) : hidden * (fanIn + 1);
  }
  return n;
}

function ntmOptions(config: ModelConfig): NTMOptions {
  const s = "ntm";
  return {
    controller: choiceOption<ControllerKind>(s, config, "controller", ["lstm", "feedforward"]),
    hiddenSize: intOption(s, config, "hiddenSize"),
    numLayers: intOption(s, config, "numLayers"),
    memorySlots: intOption(s, config, "memorySlots"),
    memoryWidth: intOption(s, config, "memoryWidth"),
    readHeads: intOption(s, config, "readHeads"),
    writeHeads: intOption(s, config, "writeHeads"),
    shiftRange: intOption(s, config, "shiftRange", 0),
    memoryInit: choiceOption<MemoryInit>(s, config, "memoryInit", ["constant", "learned"]),
    clipValue: nonNegativeOption(s, config, "clipValue"),
  };
}

/**
 * Defaults are the NTM paper's copy setting (Table 1-3, NTM-LSTM): LSTM controller of 100 units,
 * 128 x 20 memory, one read and one write head, shifts -1..1, RMSProp lr 1e-4 with momentum 0.9
 * (the CLI's RMSprop); the paper clips gradients elementwise to +-10, here the global norm to 10.
 */
export const ntmSpec: ModelSpec = {
  name: "ntm",
  description: "Neural Turing Machine: LSTM/feed-forward controller, content + location addressing, erase/add writes",
  kinds: ["bits"],
  defaults: {
    controller: "lstm",
    hiddenSize: 100,
    numLayers: 1,
    memorySlots: 128,
    memoryWidth: 20,
    readHeads: 1,
    writeHeads: 1,
    shiftRange: 1,
    memoryInit: "constant",
    clipValue: 20,
  },
  training: { steps: 20000, batchSize: 16, lr: 1e-4, optimizer: "rmsprop", clipGradNorm: 10 },
  parameterCount(config: ModelConfig, task: Task): number {
    const o = ntmOptions(config);
    const [h, w, r] = [o.hiddenSize!, o.memoryWidth!, o.readHeads!];
    const heads = ntmHeadSize(r, o.writeHeads!, w, o.shiftRange!);
    return (
      controllerParameterCount(o.controller!, task.inputSize, r * w, h, o.numLayers!) +
      heads * (h + 1) +
      (o.memoryInit === "learned" ? o.memorySlots! * w : 0) +
      task.outputSize * (h + r * w + 1)
    );
  },
  create(config: ModelConfig, task: Task): TaskModel {
    return new NtmTagger(task.inputSize, task.outputSize, ntmOptions(config));
  },
};
