/**
 * Differentiable Neural Computer (Graves et al., Nature 2016), one write head and R read heads.
 * The controller reads [x_t, r_{t-1}] and emits the interface vector: read keys and strengths
 * (1 + softplus), write key and strength, erase (sigmoid) and write vectors, free gates, allocation
 * and write gates (sigmoid), and per read head the read modes (softmax over backward, content,
 * forward). Each step, in the paper's order:
 *   u_t   = (u + w^w - u o w^w) o prod_r (1 - f_r w^r)              usage (previous weightings)
 *   a_t   = allocation(u_t)                                           free slots first
 *   w^w_t = g^w (g^a a_t + (1 - g^a) C(M_{t-1}, k^w, beta^w))
 *   M_t   = M_{t-1} o (1 - w^w e^T) + w^w v^T
 *   L_t, p_t                                                          temporal links, precedence
 *   w^r_t = pi_b L_t^T w^r + pi_c C(M_t, k^r, beta^r) + pi_f L_t w^r  (previous read weightings)
 *   r_t   = w^r_t M_t
 * Memory, usage, links, precedence and weightings start at zero; the epsilons of the addressing
 * ops keep an all-zero memory finite. Controller outputs are clipped to +-clipValue (deepmind/dnc).
 * Usage is differentiable with respect to the write weights here (deepmind/dnc stops that gradient).
 */
import type { Tensor } from "../autograd/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { Linear } from "../nn/linear.js";
import { floatDType, Module } from "../nn/module.js";
import { positiveInt } from "../nn/util.js";
import { zeros } from "../ops/creation.js";
import { add, clamp, mul, sigmoid, softplus } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { softmax } from "../ops/nn.js";
import { concat, narrow, reshape, stack, unsqueeze } from "../ops/shape.js";
import type { Batch, Task } from "../tasks/task.js";
import type { Inspection, InspectableModel, ModelConfig, ModelSpec, TaskModel } from "../models/task-model.js";
import { intOption } from "../models/task-model.js";
import {
  allocationWeighting,
  contentAddressing,
  directionalWeights,
  eraseAndAdd,
  interpolate,
  updateLinkMatrix,
  updatePrecedence,
  updateUsage,
} from "./addressing.js";
import {
  bitLabels,
  choiceOption,
  Controller,
  controllerParameterCount,
  finalMemoryMap,
  firstExample,
  maskedBitLoss,
  nonNegativeOption,
  sequenceInput,
  slotMaps,
  type ControllerKind,
  type ControllerOptions,
  type ControllerState,
  runMemorySequence,
  type MemoryForwardOptions,
} from "./ntm.js";

export interface DNCOptions extends ControllerOptions {
  /** Memory slots N (default 16). */
  memorySlots?: number;
  /** Memory width W (default 16). */
  memoryWidth?: number;
  /** Read heads R (default 4). */
  readHeads?: number;
  /** Controller outputs are clipped to +-clipValue before the activations (default 20; 0 turns it off). */
  clipValue?: number;
}

export interface DNCState {
  controller: ControllerState;
  /** (B, N, W) */
  memory: Tensor;
  /** (B, N) */
  usage: Tensor;
  /** (B, N, N): L[i, j], how much slot i was written right after slot j. */
  link: Tensor;
  /** (B, N) */
  precedence: Tensor;
  /** (B, R, N) */
  readWeights: Tensor;
  /** (B, N) */
  writeWeights: Tensor;
  /** (B, R, W) */
  reads: Tensor;
}

export interface DNCStepTrace {
  /** (B, R, N) */
  readWeights: Tensor;
  /** (B, N) */
  writeWeights: Tensor;
  /** (B, N): usage this step's allocation saw. */
  usage: Tensor;
  /** (B, N) */
  allocation: Tensor;
  /** (B, N, W) after the write. */
  memory: Tensor;
}

/** Per-step values of a sequence stacked over time (B, T, ...). */
export interface DNCTrace {
  /** (B, T, R, N) */
  readWeights: Tensor;
  /** (B, T, 1, N) */
  writeWeights: Tensor;
  /** (B, T, 1, N) */
  usage: Tensor;
  /** (B, T, 1, N) */
  allocation: Tensor;
  /** (B, T, N, W) */
  memory: Tensor;
}

/** Interface vector size for R read heads over memory width W. */
export function dncInterfaceSize(reads: number, width: number): number {
  // read keys R W, write key W, write vector W | strengths R + 1 | erase W, free gates R, two gates | modes 3 R
  return reads * width + 3 * width + 5 * reads + 3;
}

/**
 * One DNC time step. State dict: `controller.*` (see Controller), `interface.weight` (P, H),
 * `interface.bias` (P). The interface's P outputs are grouped by activation: read keys (R x W),
 * write key (W), write vector (W) | read strengths (R), write strength (1) | erase (W), free gates
 * (R), allocation gate, write gate | read modes (R x 3: backward, content, forward).
 */
export class DNCCell extends Module {
  readonly controller: Controller;
  readonly interface: Linear;
  readonly memorySlots: number;
  readonly memoryWidth: number;
  readonly readHeads: number;
  readonly clipValue: number;
  readonly dtype: "float32" | "float64";

  constructor(inputSize: number, opts: DNCOptions = {}) {
    super();
    const op = "DNCCell";
    this.memorySlots = positiveInt(op, opts.memorySlots ?? 16, "memorySlots", 1);
    this.memoryWidth = positiveInt(op, opts.memoryWidth ?? 16, "memoryWidth", 1);
    this.readHeads = positiveInt(op, opts.readHeads ?? 4, "readHeads", 1);
    const clip = opts.clipValue ?? 20;
    if (typeof clip !== "number" || !(clip >= 0) || !Number.isFinite(clip))
      throw new ArgumentError(`${op}: clipValue must be a finite number >= 0, got ${String(clip)}`);
    this.clipValue = clip;
    this.dtype = floatDType(op, opts.dtype);
    this.controller = new Controller(inputSize, this.readHeads * this.memoryWidth, { ...opts, hiddenSize: opts.hiddenSize ?? 64 });
    this.interface = new Linear(this.controller.hiddenSize, dncInterfaceSize(this.readHeads, this.memoryWidth), {
      dtype: this.dtype,
      ...(opts.generator ? { generator: opts.generator } : {}),
    });
  }

  get outputSize(): number {
    return this.controller.hiddenSize + this.readHeads * this.memoryWidth;
  }

  initialState(batch: number): DNCState {
    const [n, w, r] = [this.memorySlots, this.memoryWidth, this.readHeads];
    const z = (shape: number[]): Tensor => zeros(shape, { dtype: this.dtype });
    return {
      controller: this.controller.initialState(batch),
      memory: z([batch, n, w]),
      usage: z([batch, n]),
      link: z([batch, n, n]),
      precedence: z([batch, n]),
      readWeights: z([batch, r, n]),
      writeWeights: z([batch, n]),
      reads: z([batch, r, w]),
    };
  }

  /** One step: x (B, inputSize) -> output [h, reads] (B, outputSize). */
  forward(x: Tensor, state: DNCState | null = null): { output: Tensor; state: DNCState; trace: DNCStepTrace } {
    if (x.ndim !== 2) throw new ShapeError(`DNCCell: input ${fmtShape(x.shape)} must be (batch, ${this.controller.inputSize})`);
    const xs = sequenceInput("DNCCell", unsqueeze(x, 1), this.controller.inputSize, this.dtype);
    const s = state ?? this.initialState(x.shape[0]!);
    const flat = reshape(s.reads, [x.shape[0]!, this.readHeads * this.memoryWidth]);
    const ctrl = this.controller.begin(xs).step(0, flat, s.controller);
    const step = this.access(ctrl.output, s);
    return {
      output: concat([ctrl.output, reshape(step.state.reads, flat.shape)], 1),
      state: { ...step.state, controller: ctrl.state },
      trace: step.trace,
    };
  }

  /** The memory half of a step, from the controller output h (B, H). */
  access(h: Tensor, state: DNCState): { state: DNCState; trace: DNCStepTrace } {
    const batch = h.shape[0]!;
    const [n, w, r] = [this.memorySlots, this.memoryWidth, this.readHeads];
    let p = this.interface.forward(h); // (B, P)
    if (this.clipValue > 0) p = clamp(p, -this.clipValue, this.clipValue);
    let at = 0;
    const take = (size: number): Tensor => {
      const t = narrow(p, 1, at, size);
      at += size;
      return t;
    };
    const raw = take(r * w + 2 * w);
    const strengths = add(softplus(take(r + 1)), 1);
    const gates = sigmoid(take(w + r + 2));
    const modes = softmax(reshape(take(3 * r), [batch, r, 3]), -1);
    const readKeys = reshape(narrow(raw, 1, 0, r * w), [batch, r, w]);
    const writeKey = reshape(narrow(raw, 1, r * w, w), [batch, 1, w]);
    const writeVector = reshape(narrow(raw, 1, (r + 1) * w, w), [batch, 1, w]);
    const erase = reshape(narrow(gates, 1, 0, w), [batch, 1, w]);
    const freeGates = narrow(gates, 1, w, r);
    const allocationGate = narrow(gates, 1, w + r, 1);
    const writeGate = narrow(gates, 1, w + r + 1, 1);

    const usage = updateUsage(state.usage, state.writeWeights, freeGates, state.readWeights);
    const allocation = allocationWeighting(usage);
    const writeContent = contentAddressing(writeKey, state.memory, narrow(strengths, 1, r, 1)); // (B, 1, N)
    const write3 = mul(interpolate(unsqueeze(allocation, 1), writeContent, allocationGate), unsqueeze(writeGate, -1));
    const writeWeights = reshape(write3, [batch, n]);
    const memory = eraseAndAdd(state.memory, write3, erase, writeVector);
    const link = updateLinkMatrix(state.link, state.precedence, writeWeights);
    const precedence = updatePrecedence(state.precedence, writeWeights);
    const { forward, backward } = directionalWeights(link, state.readWeights);
    const readContent = contentAddressing(readKeys, memory, narrow(strengths, 1, 0, r));
    const mode = (k: number): Tensor => narrow(modes, 2, k, 1); // (B, R, 1)
    const readWeights = add(add(mul(mode(0), backward), mul(mode(1), readContent)), mul(mode(2), forward));
    const reads = matmul(readWeights, memory); // (B, R, W)
    return {
      state: { controller: state.controller, memory, usage, link, precedence, readWeights, writeWeights, reads },
      trace: { readWeights, writeWeights, usage, allocation, memory },
    };
  }
}

/**
 * The DNC over a sequence: x (B, T, inputSize) -> output (B, T, H + R W), the controller output and
 * the reads of every step. State dict: `cell.*` (see DNCCell).
 */
export class DNC extends Module {
  readonly cell: DNCCell;

  constructor(inputSize: number, opts: DNCOptions = {}) {
    super();
    this.cell = new DNCCell(inputSize, opts);
  }

  get outputSize(): number {
    return this.cell.outputSize;
  }

  forward(x: Tensor, opts: MemoryForwardOptions<DNCState> = {}): { output: Tensor; state: DNCState; trace?: DNCTrace } {
    const { output, state, traces } = runMemorySequence("DNC", this.cell, x, opts);
    if (opts.trace !== true) return { output, state };
    const over = (pick: (s: DNCStepTrace) => Tensor): Tensor => stack(traces.map(pick), 1);
    const slots = (pick: (s: DNCStepTrace) => Tensor): Tensor => over((s) => unsqueeze(pick(s), 1));
    return {
      output,
      state,
      trace: {
        readWeights: over((s) => s.readWeights),
        writeWeights: slots((s) => s.writeWeights),
        usage: slots((s) => s.usage),
        allocation: slots((s) => s.allocation),
        memory: over((s) => s.memory),
      },
    };
  }
}

/**
 * `dnc` for bit tasks: a DNC and a linear output layer over [h_t, r_t] (deepmind/dnc's output).
 * State dict: `dnc.cell.*`, `output.weight`, `output.bias`.
 */
export class DncTagger extends Module implements TaskModel, InspectableModel {
  readonly dnc: DNC;
  readonly output: Linear;

  constructor(inputSize: number, outputSize: number, opts: DNCOptions = {}) {
    super();
    this.dnc = new DNC(inputSize, opts);
    this.output = new Linear(this.dnc.outputSize, outputSize, {
      ...(opts.dtype ? { dtype: opts.dtype } : {}),
      ...(opts.generator ? { generator: opts.generator } : {}),
    });
  }

  /** (B, T, inputSize) -> logits (B, T, outputSize). */
  forward(x: Tensor): Tensor {
    return this.output.forward(this.dnc.forward(x).output);
  }

  loss(batch: Batch): Tensor {
    return maskedBitLoss(this.forward(batch.input), batch);
  }

  predict(batch: Batch): Tensor {
    return sigmoid(this.forward(batch.input));
  }

  /** Read and write weightings, usage and allocation (time x memory slot) of the first example, and the final memory. */
  inspect(batch: Batch): Inspection {
    return noGrad(() => {
      const x = firstExample(batch);
      const { output, trace } = this.dnc.forward(x, { trace: true });
      const probabilities = sigmoid(this.output.forward(output));
      const t = trace!;
      return {
        ...bitLabels(x, probabilities),
        maps: [
          ...slotMaps(t.readWeights, "read head"),
          ...slotMaps(t.writeWeights, "write head", { numbered: false }),
          ...slotMaps(t.usage, "usage", { numbered: false }),
          ...slotMaps(t.allocation, "allocation", { numbered: false }),
          finalMemoryMap(t.memory),
        ],
      };
    });
  }
}

function dncOptions(config: ModelConfig): DNCOptions {
  const s = "dnc";
  return {
    controller: choiceOption<ControllerKind>(s, config, "controller", ["lstm", "feedforward"]),
    hiddenSize: intOption(s, config, "hiddenSize"),
    numLayers: intOption(s, config, "numLayers"),
    memorySlots: intOption(s, config, "memorySlots"),
    memoryWidth: intOption(s, config, "memoryWidth"),
    readHeads: intOption(s, config, "readHeads"),
    clipValue: nonNegativeOption(s, config, "clipValue"),
  };
}

/**
 * Defaults are deepmind/dnc's copy-task setting (train.py, repeat copy): LSTM controller of 64
 * units, 16 x 16 memory, 4 read heads and one write head, clip 20, batch 16, RMSProp lr 1e-4, global
 * gradient-norm clip 50. (The CLI's RMSprop adds momentum 0.9, as the paper's bAbI runs.)
 */
export const dncSpec: ModelSpec = {
  name: "dnc",
  description: "Differentiable Neural Computer: content lookup, dynamic allocation, temporal links, 1 write + R read heads",
  kinds: ["bits"],
  defaults: { controller: "lstm", hiddenSize: 64, numLayers: 1, memorySlots: 16, memoryWidth: 16, readHeads: 4, clipValue: 20 },
  training: { steps: 20000, batchSize: 16, lr: 1e-4, optimizer: "rmsprop", clipGradNorm: 50 },
  parameterCount(config: ModelConfig, task: Task): number {
    const o = dncOptions(config);
    const [h, w, r] = [o.hiddenSize!, o.memoryWidth!, o.readHeads!];
    return (
      controllerParameterCount(o.controller!, task.inputSize, r * w, h, o.numLayers!) +
      dncInterfaceSize(r, w) * (h + 1) +
      task.outputSize * (h + r * w + 1)
    );
  },
  create(config: ModelConfig, task: Task): TaskModel {
    return new DncTagger(task.inputSize, task.outputSize, dncOptions(config));
  },
};
