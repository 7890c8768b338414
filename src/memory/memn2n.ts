/**
 * End-to-end memory network (MemN2N, Sukhbaatar, Szlam, Weston, Fergus 2015). A story's sentences
 * are written into memory twice, as keys m_i (table A) and values c_i (table C); the question is
 * embedded as u (table B). Each hop attends over the memories and adds what it reads:
 *   p = softmax(u^T m_i),  o = sum_i p_i c_i,  u <- u + o      (adjacent tying)
 *                                              u <- H u + o    (layer-wise tying)
 * and the answer is softmax(W u) after the last hop.
 *
 * Sentence encoding: m_i = sum_j l_j o A x_ij with l_kj = (1 - j/J) - (k/d)(1 - 2j/J) ("position",
 * the paper's formula, j = 1..J over the sentence's own J words, k = 1..d), the official code's
 * l_kj = 1 + 4 (k - (d+1)/2)(j - (W+1)/2) / (d W) over the padded width W ("position-reference": the
 * weights behind the paper's tables, and on bAbI the better one), or l = 1 ("bow"). PAD
 * (id 0) words count for nothing. Temporal encoding adds a learned row per memory age to keys and
 * values (T_A, T_C; age 0 = the most recent sentence). Random noise: in training, ages are spread
 * as if up to `randomNoise` x n empty memories were interleaved (the reference code's
 * `randomize_time`). Linear start: while `linearStart` is true the memory layers use the raw scores
 * instead of their softmax; `linearStartSteps` turns it off after that many training batches.
 * Empty slots: a story of n sentences leaves memorySize - n slots empty. By default they are masked
 * out; with `attendEmpty` they take part in each hop's softmax as the reference code's zero memories
 * do (key and value 0, so score 0), which lets a hop put its weight on "nothing here" and is what
 * makes the yes/no and counting tasks of bAbI learnable at 1k.
 *
 * Tying and state-dict keys (tables (V, d), temporal (memorySize, d), hop (d, d)):
 * - adjacent: `tables.0..K` with B = A^1 = tables.0, C^k = A^{k+1} = tables.k, W^T = C^K = tables.K,
 *   and `temporal.0..K` tied the same way (T_A^1 = temporal.0, T_C^k = T_A^{k+1} = temporal.k);
 * - layer-wise: `tables.0..3` = B, A (every hop), C (every hop), W; `temporal.0..1` = T_A, T_C; `hop` = H.
 * With linearStartSteps > 0, the int32 [1] buffer `trainedBatches` counts the training batches, so
 * a checkpoint resumed or evaluated later knows whether linear start is over.
 * Every weight starts N(0, 0.1^2), as the reference code.
 */
import { noGrad } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { defaultGenerator, type Generator } from "../core/rng.js";
import { normal } from "../nn/init.js";
import {
  floatDType,
  Module,
  param,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type ParameterFloatOptions,
  type StateDict,
} from "../nn/module.js";
import { empty, positiveInt } from "../nn/util.js";
import { add, cast, div, mul } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { crossEntropy, softmax } from "../ops/nn.js";
import { sum } from "../ops/reduce.js";
import { concat, narrow, reshape, unsqueeze } from "../ops/shape.js";
import {
  intOption,
  type Inspection,
  type InspectableModel,
  type ModelConfig,
  type ModelSpec,
  type TaskModel,
} from "../models/task-model.js";
import type { Batch, Task } from "../tasks/task.js";
import { encodeSentences, SENTENCE_ENCODINGS, type SentenceEncoding } from "./sentence-encoding.js";

export type MemN2NTying = "adjacent" | "layerwise";

export interface MemN2NOptions extends ParameterFloatOptions {
  /** d (default 20). */
  embeddingDim?: number;
  /** K (default 3). */
  hops?: number;
  /** Memory slots the temporal encoding has rows for (default 50); stories must not be longer. */
  memorySize?: number;
  tying?: MemN2NTying;
  encoding?: SentenceEncoding;
  /** Temporal encoding T_A, T_C (default true). */
  temporal?: boolean;
  /** Fraction of empty memories interleaved in training (default 0.1; 0 disables). */
  randomNoise?: number;
  /** Training batches with the memory softmaxes removed (default 0: never linear). */
  linearStartSteps?: number;
  /** The memorySize - n empty slots of a story of n sentences join each hop's softmax with score 0 (default false: masked). */
  attendEmpty?: boolean;
  /** Std of the N(0, std^2) initialisation (default 0.1). */
  initStd?: number;
  /** Draws the initial weights and the random-noise ages (default: the global generator). */
  generator?: Generator;
  /** Token strings, for inspection labels. */
  vocabulary?: readonly string[];
}

export interface MemN2NForwardOptions {
  /** int32 [B]: real sentences per row (the rest is padding); default: every slot holding a word. */
  lengths?: Tensor;
}

export interface MemN2NResult {
  /** [B, V] answer logits. */
  logits: Tensor;
  /**
   * Per hop, [B, S] memory weights (the softmax, or the raw scores during linear start). With
   * attendEmpty a row sums to less than 1: the rest went to the empty slots.
   */
  attention: Tensor[];
}

/** Tables and temporal matrices each tying scheme allocates. */
function tableCount(tying: MemN2NTying, hops: number): { tables: number; temporal: number } {
  return tying === "adjacent" ? { tables: hops + 1, temporal: hops + 1 } : { tables: 4, temporal: 2 };
}

export class MemN2N extends Module {
  readonly vocabularySize: number;
  readonly embeddingDim: number;
  readonly hops: number;
  readonly memorySize: number;
  readonly tying: MemN2NTying;
  readonly encoding: SentenceEncoding;
  readonly temporalEncoding: boolean;
  readonly randomNoise: number;
  readonly linearStartSteps: number;
  readonly attendEmpty: boolean;
  /** True while the memory layers skip their softmax; set it to schedule linear start by hand. */
  linearStart: boolean;
  readonly tables: Tensor[];
  readonly temporal: Tensor[];
  readonly hop: Tensor | null;
  private readonly generator: Generator;
  private readonly vocabulary: readonly string[] | undefined;
  /** int32 [1] buffer `trainedBatches` (with linearStartSteps > 0): checkpoints carry the phase. */
  readonly #trained: Tensor | null;

  constructor(vocabularySize: number, opts: MemN2NOptions = {}) {
    super();
    const op = "MemN2N";
    this.vocabularySize = positiveInt(op, vocabularySize, "vocabularySize", 1);
    this.embeddingDim = positiveInt(op, opts.embeddingDim ?? 20, "embeddingDim", 1);
    this.hops = positiveInt(op, opts.hops ?? 3, "hops", 1);
    this.memorySize = positiveInt(op, opts.memorySize ?? 50, "memorySize", 1);
    this.tying = choice<MemN2NTying>(op, "tying", opts.tying ?? "adjacent", ["adjacent", "layerwise"]);
    this.encoding = choice<SentenceEncoding>(op, "encoding", opts.encoding ?? "position", SENTENCE_ENCODINGS);
    this.temporalEncoding = opts.temporal ?? true;
    this.randomNoise = opts.randomNoise ?? 0.1;
    if (!(this.randomNoise >= 0 && this.randomNoise <= 1))
      throw new ArgumentError(`${op}: randomNoise must be in [0, 1], got ${this.randomNoise}`);
    this.linearStartSteps = positiveInt(op, opts.linearStartSteps ?? 0, "linearStartSteps", 0);
    this.linearStart = this.linearStartSteps > 0;
    this.attendEmpty = opts.attendEmpty ?? false;
    this.#trained = this.linearStart ? this.registerBuffer("trainedBatches", new Tensor(new Int32Array(1), [1], "int32")) : null;
    const std = opts.initStd ?? 0.1;
    if (!(std >= 0 && Number.isFinite(std))) throw new ArgumentError(`${op}: initStd must be a finite number >= 0, got ${std}`);
    const dtype = floatDType(op, opts.dtype);
    this.generator = opts.generator ?? defaultGenerator;
    this.vocabulary = opts.vocabulary;
    const init = (shape: number[]): Tensor => param(normal(empty(shape, dtype), 0, std, { generator: this.generator }));
    const d = this.embeddingDim;
    const counts = tableCount(this.tying, this.hops);
    this.tables = Array.from({ length: counts.tables }, () => init([this.vocabularySize, d]));
    this.temporal = this.temporalEncoding ? Array.from({ length: counts.temporal }, () => init([this.memorySize, d])) : [];
    this.hop = this.tying === "layerwise" ? init([d, d]) : null;
  }

  /** Table B (the question's). */
  queryTable(): Tensor {
    return this.tables[0]!;
  }
  /** Table A of hop k (0-based). */
  memoryTable(k: number): Tensor {
    return this.tying === "adjacent" ? this.tables[k]! : this.tables[1]!;
  }
  /** Table C of hop k (0-based). */
  outputTable(k: number): Tensor {
    return this.tying === "adjacent" ? this.tables[k + 1]! : this.tables[2]!;
  }
  /** W, (V, d): logits = W u. */
  answerTable(): Tensor {
    return this.tying === "adjacent" ? this.tables[this.hops]! : this.tables[3]!;
  }
  /** T_A and T_C of hop k, or null without temporal encoding. */
  temporalTables(k: number): { memory: Tensor; output: Tensor } | null {
    if (!this.temporalEncoding) return null;
    return this.tying === "adjacent"
      ? { memory: this.temporal[k]!, output: this.temporal[k + 1]! }
      : { memory: this.temporal[0]!, output: this.temporal[1]! };
  }

  /**
   * story int32 [B, S, W] (sentences oldest first, PAD rows after the last), query int32 [B, W]
   * -> answer logits [B, V] and each hop's weights over the S slots (padding slots get 0).
   */
  forward(story: Tensor, query: Tensor, opts: MemN2NForwardOptions = {}): MemN2NResult {
    const op = "MemN2N.forward";
    for (const [name, t] of [
      ["story", story],
      ["query", query],
    ] as const) {
      if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be an int32 Tensor`);
      if (t.dtype !== "int32") throw new DTypeError(`${op}: ${name} must be int32 ids, got ${t.dtype}`);
    }
    if (story.ndim !== 3 || query.ndim !== 2 || query.shape[0] !== story.shape[0]) {
      throw new ShapeError(`${op}: expected story [B, S, W] and query [B, Wq], got ${fmtShape(story.shape)} and ${fmtShape(query.shape)}`);
    }
    const [B, S] = story.shape as [number, number, number];
    if (this.temporalEncoding && S > this.memorySize) {
      throw new ShapeError(`${op}: story ${fmtShape(story.shape)} has ${S} sentences, more than memorySize ${this.memorySize}`);
    }
    const V = this.vocabularySize;
    for (const t of [story, query]) {
      const ids = t.data;
      for (let i = 0; i < ids.length; i++)
        if (!(ids[i]! >= 0 && ids[i]! < V)) throw new ArgumentError(`${op}: id ${ids[i]} is outside the vocabulary [0, ${V})`);
    }
    const lengths = this.lengthsOf(op, story, opts.lengths);
    const float = this.tables[0]!.dtype as "float32" | "float64";
    const encoding = { encoding: this.encoding };
    const ages = this.temporalEncoding ? reshape(this.ages(lengths, S), [B, S]) : null;
    // (B, S, d) per (table, temporal table) pair: adjacent tying encodes C^k (+ T_C^k) once, as A^{k+1} (+ T_A^{k+1})
    const encoded: { table: Tensor; temporal: Tensor | null; value: Tensor }[] = [];
    const encodeStory = (table: Tensor, temporal: Tensor | null): Tensor => {
      let e = encoded.find((x) => x.table === table && x.temporal === temporal);
      if (e === undefined) {
        const value = encodeSentences(table, story, temporal !== null && ages !== null ? { ...encoding, temporal, ages } : encoding);
        e = { table, temporal, value };
        encoded.push(e);
      }
      return e.value;
    };
    let u = encodeSentences(this.queryTable(), query, encoding); // (B, d)
    const slotMask = new Uint8Array(B * S);
    const slotMaskFloat = empty([B, S], float);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < lengths[b]!; s++) {
        slotMask[b * S + s] = 1;
        slotMaskFloat.data[b * S + s] = 1;
      }
    }
    const keep = new Tensor(slotMask, [B, S], "bool");
    const withEmpty = this.attendEmpty ? this.emptySlots(lengths, S, float) : null;
    const attention: Tensor[] = [];
    for (let k = 0; k < this.hops; k++) {
      const t = this.temporalTables(k);
      const m = encodeStory(this.memoryTable(k), t?.memory ?? null);
      const c = encodeStory(this.outputTable(k), t?.output ?? null);
      const scores = reshape(matmul(m, unsqueeze(u, 2)), [B, S]); // (B, S, d) x (B, d, 1)
      const p = this.linearStart ? mul(scores, slotMaskFloat) : withEmpty ? withEmpty(scores) : softmax(scores, -1, { mask: keep });
      attention.push(p);
      const o = reshape(matmul(unsqueeze(p, 1), c), [B, this.embeddingDim]); // (B, 1, S) x (B, S, d)
      u = add(this.hop !== null ? matmul(u, this.hop, { transB: true }) : u, o);
    }
    return { logits: matmul(u, this.answerTable(), { transB: true }), attention };
  }

  /**
   * The softmax over a story's slots and its E = memorySize - n empty ones, each with score 0 and
   * value 0: the E of them act as one extra column of score log E (masked when E = 0), dropped after.
   */
  private emptySlots(lengths: Int32Array, S: number, float: "float32" | "float64"): (scores: Tensor) => Tensor {
    const B = lengths.length;
    const column = empty([B, 1], float);
    const mask = new Uint8Array(B * (S + 1));
    lengths.forEach((n, b) => {
      const blanks = this.memorySize - n;
      column.data[b] = blanks > 0 ? Math.log(blanks) : 0;
      for (let s = 0; s < n; s++) mask[b * (S + 1) + s] = 1;
      mask[b * (S + 1) + S] = blanks > 0 ? 1 : 0;
    });
    const keep = new Tensor(mask, [B, S + 1], "bool");
    return (scores) => narrow(softmax(concat([scores, column], 1), -1, { mask: keep }), 1, 0, S);
  }

  /** Mean cross-entropy over the rows the mask counts; in training it also advances linear start. */
  loss(batch: Batch): Tensor {
    const { story, query } = storyAndQuery("MemN2N.loss", batch);
    const { logits } = this.forward(story, query, { lengths: batch.inputLengths });
    const B = logits.shape[0]!;
    const perRow = crossEntropy(logits, reshape(batch.target, [B]), { reduction: "none" });
    const mask = reshape(batch.mask, [B]);
    const counted = sum(mask).item();
    if (this.training && this.#trained !== null && this.#trained.data[0]! < this.linearStartSteps) {
      if (++this.#trained.data[0]! >= this.linearStartSteps) this.linearStart = false;
    }
    return div(sum(mul(perRow, mask.dtype === perRow.dtype ? mask : cast(mask, perRow.dtype))), Math.max(1, counted));
  }

  /** Training batches counted towards `linearStartSteps` (0 without a linear-start schedule). */
  get trainedBatches(): number {
    return this.#trained?.data[0] ?? 0;
  }

  /** Also restores the linear-start phase from the loaded batch count (a resumed or evaluated run). */
  override loadStateDict(sd: StateDict | Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const result = super.loadStateDict(sd, opts);
    if (this.#trained !== null) this.linearStart = this.#trained.data[0]! < this.linearStartSteps;
    return result;
  }

  /** Answer scores [B, 1, V] (logits), the form QA tasks evaluate. */
  predict(batch: Batch): Tensor {
    const { story, query } = storyAndQuery("MemN2N.predict", batch);
    const { logits } = this.forward(story, query, { lengths: batch.inputLengths });
    return reshape(logits, [logits.shape[0]!, 1, this.vocabularySize]);
  }

  /** Each hop's weights over the first example's sentences (hop x sentence), labelled with the sentences. */
  inspect(batch: Batch): Inspection {
    return noGrad(() => {
      const { story, query } = storyAndQuery("MemN2N.inspect", batch);
      const [, S, W] = story.shape as [number, number, number];
      const first = {
        story: new Tensor(story.data.slice(0, S * W), [1, S, W], "int32"),
        query: new Tensor(query.data.slice(0, query.shape[1]), [1, query.shape[1]!], "int32"),
      };
      const n = batch.inputLengths.data[0]!;
      const wasTraining = this.training;
      this.eval();
      let result: MemN2NResult;
      try {
        result = this.forward(first.story, first.query, { lengths: new Tensor(new Int32Array([n]), [1], "int32") });
      } finally {
        this.train(wasTraining);
      }
      const words = (ids: ArrayLike<number>): string =>
        Array.from(ids)
          .filter((id) => id !== 0)
          .map((id) => this.vocabulary?.[id] ?? `#${id}`)
          .join(" ");
      const sentences = Array.from({ length: n }, (_, s) => words(first.story.data.subarray(s * W, (s + 1) * W)));
      const values = new Float32Array(this.hops * n);
      result.attention.forEach((p, k) => {
        for (let s = 0; s < n; s++) values[k * n + s] = p.data[s]!;
      });
      let best = 0;
      const logits = result.logits.data;
      for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
      return {
        input: [...sentences, `${words(first.query.data)}?`],
        output: [this.vocabulary?.[best] ?? `#${best}`],
        maps: [
          {
            name: "memory attention",
            rowAxis: "hop",
            colAxis: "sentence",
            rowLabels: Array.from({ length: this.hops }, (_, k) => `hop ${k + 1}`),
            colLabels: sentences,
            values,
          },
        ],
      };
    });
  }

  /** Sentences per row: given, or the slots up to the last one holding a word. */
  private lengthsOf(op: string, story: Tensor, given: Tensor | undefined): Int32Array {
    const [B, S, W] = story.shape as [number, number, number];
    if (given !== undefined) {
      if (!(given instanceof Tensor) || given.dtype !== "int32" || given.ndim !== 1 || given.shape[0] !== B) {
        throw new ShapeError(`${op}: lengths must be int32 [${B}], got ${given instanceof Tensor ? fmtShape(given.shape) : String(given)}`);
      }
      const bad = given.data.find((n) => n < 0 || n > S);
      if (bad !== undefined) throw new ArgumentError(`${op}: a length of ${bad} sentences does not fit S = ${S}`);
      return given.data as Int32Array;
    }
    const out = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const row = story.data.subarray((b * S + s) * W, (b * S + s + 1) * W);
        if (row.some((id) => id !== 0)) out[b] = s + 1;
      }
    }
    return out;
  }

  /**
   * int32 [B * S] temporal rows: age n - 1 - i for sentence i of a story of n (0 = most recent). In
   * training with random noise the ages are n increasing draws from 0..n + blanks - 1, as if
   * `blanks` ~ U{0..ceil(noise n)} empty memories sat among the real ones. Ages past the last row
   * share it.
   */
  private ages(lengths: Int32Array, S: number): Tensor {
    const out = new Int32Array(lengths.length * S);
    const last = this.memorySize - 1;
    lengths.forEach((n, b) => {
      let ages = Array.from({ length: n }, (_, i) => n - 1 - i);
      if (this.training && this.randomNoise > 0 && n > 0) {
        const blanks = this.generator.randint(0, Math.ceil(this.randomNoise * n) + 1);
        const pool = Array.from({ length: n + blanks }, (_, i) => i);
        for (let i = 0; i < n; i++) {
          const j = this.generator.randint(i, pool.length);
          [pool[i], pool[j]] = [pool[j]!, pool[i]!];
        }
        ages = pool.slice(0, n).sort((x, y) => y - x);
      }
      ages.forEach((age, i) => (out[b * S + i] = Math.min(age, last)));
    });
    return new Tensor(out, [out.length], "int32");
  }
}

function choice<T extends string>(op: string, what: string, value: unknown, choices: readonly T[]): T {
  if (!(choices as readonly unknown[]).includes(value)) {
    throw new ArgumentError(`${op}: ${what} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** A QA batch's story [B, S, W] (a [B, T] symbol sequence is T one-word sentences) and query. */
function storyAndQuery(op: string, batch: Batch): { story: Tensor; query: Tensor } {
  const { input, query } = batch;
  if (query === undefined) throw new ArgumentError(`${op}: MemN2N needs a question (batch.query); this task has none`);
  return { story: input.ndim === 2 ? reshape(input, [input.shape[0]!, input.shape[1]!, 1]) : input, query };
}

const SPEC = "memn2n";

function memn2nOptions(config: ModelConfig, task: Task): MemN2NOptions {
  const randomNoise = config.randomNoise;
  if (typeof randomNoise !== "number" || !(randomNoise >= 0 && randomNoise <= 1)) {
    throw new ArgumentError(`${SPEC}: option randomNoise must be a number in [0, 1], got ${JSON.stringify(randomNoise)}`);
  }
  return {
    embeddingDim: intOption(SPEC, config, "embeddingDim"),
    hops: intOption(SPEC, config, "hops"),
    memorySize: taskMemorySize(task),
    tying: choice<MemN2NTying>(SPEC, "option tying", config.tying, ["adjacent", "layerwise"]),
    encoding: choice<SentenceEncoding>(SPEC, "option encoding", config.encoding, SENTENCE_ENCODINGS),
    temporal: config.temporal === true,
    randomNoise,
    linearStartSteps: intOption(SPEC, config, "linearStartSteps", 0),
    attendEmpty: config.attendEmpty === true,
    vocabulary: task.vocabulary,
  };
}

/** Temporal rows: the task's memorySize setting. */
function taskMemorySize(task: Task): number {
  const m = task.config.memorySize;
  if (typeof m === "number" && Number.isInteger(m) && m >= 1) return m;
  throw new ArgumentError(`${SPEC}: task ${task.name} has no memorySize setting (needed for the temporal encoding's rows)`);
}

/**
 * `memn2n` for QA tasks. Defaults are the paper's bAbI setting (Sukhbaatar et al. 2015, section 4.2)
 * as the reference code (facebook/MemNN, MemN2N-babi-matlab) runs it: 3 hops, d = 20, adjacent
 * tying, the code's position weights ("position-reference"), temporal encoding, 10% random noise,
 * empty memory slots attended with score 0, N(0, 0.1^2) init, linear start for the first 560
 * batches (20 epochs of 900 questions at batch 32, the code's `ls_nepochs`), batch 32, gradient
 * norm clipped at 40, SGD at lr 0.01, 2800 steps (100 epochs of bAbI-1k). Two differences the
 * CLI imposes: its SGD has momentum 0.9 and no step schedule (the paper halves the lr every 25
 * epochs), and the loss is the batch mean (the paper sums). With momentum, lr 0.01 on the mean moves
 * about 0.1 x the mean gradient per step, between the paper's linear-start step (0.005 x 32 = 0.16)
 * and its main step (0.01 x 32 = 0.32); linear start diverges at lr >= 0.03 with momentum (measured
 * on task 2). docs/reproduction/memn2n-babi.yaml sets the paper's optimizer exactly.
 */
export const memn2nSpec: ModelSpec = {
  name: SPEC,
  description: "End-to-end memory network: K hops of soft attention over sentence memories (bAbI)",
  kinds: ["qa"],
  defaults: {
    embeddingDim: 20,
    hops: 3,
    tying: "adjacent",
    encoding: "position-reference",
    temporal: true,
    randomNoise: 0.1,
    linearStartSteps: 560,
    attendEmpty: true,
  },
  training: { steps: 2800, batchSize: 32, lr: 0.01, optimizer: "sgd", clipGradNorm: 40 },
  // the state dict's elements (what a checkpoint is checked against): weights, plus the linear-start counter
  parameterCount(config: ModelConfig, task: Task): number {
    const o = memn2nOptions(config, task);
    const d = o.embeddingDim!;
    const counts = tableCount(o.tying!, o.hops!);
    const weights =
      counts.tables * task.inputSize * d + (o.temporal ? counts.temporal * o.memorySize! * d : 0) + (o.tying === "layerwise" ? d * d : 0);
    return weights + (o.linearStartSteps! > 0 ? 1 : 0);
  },
  create(config: ModelConfig, task: Task): TaskModel & InspectableModel {
    return new MemN2N(task.inputSize, memn2nOptions(config, task));
  },
};
