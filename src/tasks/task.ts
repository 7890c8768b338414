/**
 * The Task contract: a seeded source of batches plus the metrics that judge predictions on them.
 * A batch is a pure function of (task config, split, batch size, index), so training resumes
 * bit-for-bit from a step count alone, and the three splits never share an example (see seeding.ts).
 */
import { Tensor } from "../autograd/tensor.js";
import type { DType } from "../core/dtype.js";
import { ArgumentError } from "../core/errors.js";
import type { Evaluation } from "./metrics.js";

export type Split = "train" | "validation" | "test";
export const SPLITS: readonly Split[] = ["train", "validation", "test"];

/**
 * One batch. Token tasks (`kind: "tokens"`) are seq2seq: `input` holds source ids, `target` the ids
 * to predict ending in EOS, `decoderInput` the teacher-forcing input (BOS then the target shifted
 * right). Bit tasks (`kind: "bits"`) are one timeline: `input` [B, T, inputSize] is fed step by step
 * and `target` [B, T, outputSize] is the wanted output at every step, counted only where `mask` is 1.
 * Question-answering tasks (`kind: "qa"`: bAbI, associative retrieval) have one answer token per
 * example: `input` is int32 [B, T] ids (a symbol sequence) or [B, S, W] (a story of S sentences of W
 * word ids), `query` int32 [B, W] the question when there is one, `target` int32 [B, 1] the answer
 * id and `mask` [B, 1] all ones.
 * Padding is PAD (0) in token tensors and 0 in bit tensors, and always has mask 0.
 */
export interface Batch {
  /** int32 [B, Tin] source ids, or float32 [B, T, inputSize] bit vectors. */
  readonly input: Tensor;
  /** int32 [B, Tout] ids to predict, or float32 [B, T, outputSize] bits to output. */
  readonly target: Tensor;
  /** Token tasks only: int32 [B, Tout], BOS followed by the target without its last token. */
  readonly decoderInput?: Tensor;
  /** QA tasks with a separate question only: int32 [B, W] question word ids. */
  readonly query?: Tensor;
  /** int32 [B]: input steps (sentences for stories) that carry data in each row (the rest is padding). */
  readonly inputLengths: Tensor;
  /** int32 [B]: target positions that count in each row (equals the mask's row sums). */
  readonly targetLengths: Tensor;
  /** float32 [B, Tout] (bits: [B, T]): 1 where a position counts for the loss and the metrics. */
  readonly mask: Tensor;
}

export interface Task {
  /** Registry name, e.g. "copy". */
  readonly name: string;
  /** One line for `engram tasks`. */
  readonly description: string;
  /** Every setting that shapes the data, seed included; JSON-serialisable, and `createTask(name, config)` rebuilds the task. */
  readonly config: Readonly<Record<string, number>>;
  readonly kind: "tokens" | "bits" | "qa";
  /** Token strings by id; index 0 is PAD, then BOS and EOS. Empty for bit tasks. */
  readonly vocabulary: readonly string[];
  /** Vocabulary size for token tasks, channels per input step for bit tasks. */
  readonly inputSize: number;
  /** Vocabulary size for token tasks, bits per output step for bit tasks. */
  readonly outputSize: number;
  /** The metrics `evaluate` returns. */
  readonly metricNames: readonly string[];
  /** Batch `index` of `split`: examples index*batchSize .. (index+1)*batchSize - 1 of that split. */
  batch(split: Split, batchSize: number, index: number): Batch;
  /**
   * Scores predictions for `batch`. Token tasks take int32 ids [B, Tp] or float scores [B, Tp, V];
   * bit tasks take probabilities [B, T, outputSize] (apply sigmoid to logits first), thresholded at 0.5.
   */
  evaluate(predictions: Tensor, batch: Batch): Evaluation;
  /**
   * Token tasks: a one-example batch (validation-like, unseeded) built from text in the task's own
   * notation, e.g. "abc" for reverse or "March 3, 2021" for dates; the target is the task's answer.
   * Throws an ArgumentError naming the task when the text is not a valid input.
   */
  fromText?(text: string): Batch;
  /** The same task with another length range (digit range for addition), for length generalisation. */
  withLengths(min: number, max: number): Task;
}

/** Validates the arguments of `batch` (shared by every task). */
export function checkBatchArgs(op: string, split: unknown, batchSize: unknown, index: unknown): void {
  if (!(SPLITS as readonly unknown[]).includes(split)) {
    throw new ArgumentError(`${op}: split must be one of ${SPLITS.join(", ")}, got ${JSON.stringify(split)}`);
  }
  if (!Number.isSafeInteger(batchSize) || (batchSize as number) < 1) {
    throw new ArgumentError(`${op}: batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  if (!Number.isSafeInteger(index) || (index as number) < 0 || !Number.isSafeInteger((index as number) * (batchSize as number))) {
    throw new ArgumentError(`${op}: batch index must be a non-negative integer, got ${String(index)}`);
  }
}

/** Checks that `batch` is shaped like a batch of this task before evaluating it. */
export function checkEvaluateBatch(op: string, batch: Batch): void {
  const ok =
    batch !== null &&
    typeof batch === "object" &&
    batch.target instanceof Tensor &&
    batch.mask instanceof Tensor &&
    batch.mask.shape.length === 2 &&
    batch.mask.shape[0] === batch.target.shape[0] &&
    batch.mask.shape[1] === batch.target.shape[1];
  if (!ok) throw new ArgumentError(`${op}: expected a batch made by the same task's batch()`);
}

/** A tensor over freshly filled storage (no copy). */
export function tensorOf(data: Float32Array | Int32Array, shape: readonly number[]): Tensor {
  const dtype: DType = data instanceof Int32Array ? "int32" : "float32";
  return new Tensor(data, shape, dtype);
}
