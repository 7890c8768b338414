/**
 * Length generalisation: score a model on one length (or length range) at a time, so a table shows
 * where accuracy falls off beyond the lengths it was trained on.
 */
import { noGrad } from "../autograd/engine.js";
import { ArgumentError, fmtValue } from "../core/errors.js";
import type { TaskModel } from "../models/task-model.js";
import { combineEvaluations, summarize, type Evaluation } from "../tasks/metrics.js";
import { SPLITS, type Split, type Task } from "../tasks/task.js";

/** One length L (the task's withLengths(L, L)) or an inclusive range [min, max]. */
export type LengthSpec = number | readonly [min: number, max: number];

export interface LengthEvaluationOptions {
  /** Batches per length (default 4). */
  batches?: number;
  /** Examples per batch (default 32). */
  batchSize?: number;
  /** Which split to draw from (default "test"). */
  split?: Split;
}

export interface LengthRow {
  /** The length or range as given. */
  length: LengthSpec;
  /** Examples scored: batches * batchSize. */
  examples: number;
  /** The mean of every metric the task reports (token tasks: tokenAccuracy, exactMatch; bit tasks: bitAccuracy, ...). */
  metrics: Record<string, number>;
}

function positiveInteger(name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new ArgumentError(`evaluateByLength: ${name} must be a positive integer, got ${fmtValue(value)}`);
  }
  return value as number;
}

/** The [min, max] of one entry of `lengths` (withLengths itself checks the numbers, naming the task). */
function rangeOf(length: unknown, i: number): [number, number] {
  if (typeof length === "number") return [length, length];
  if (Array.isArray(length) && length.length === 2) return [length[0] as number, length[1] as number];
  throw new ArgumentError(`evaluateByLength: lengths[${i}] must be a length or a [min, max] range, got ${fmtValue(length)}`);
}

/**
 * Scores `model` on `task.withLengths(L, L)` for each length L (or withLengths(min, max) for a
 * range): `batches` batches of `split`, under noGrad with the model in eval mode (its mode is
 * restored afterwards). What "length" means is the task's (symbols for reverse, digits for
 * addition and number-words, characters for dates, distractors for copy-distractors, vectors for
 * copy). Every task is built, and so every length validated, before the model runs.
 */
export function evaluateByLength(
  model: TaskModel,
  task: Task,
  lengths: readonly LengthSpec[],
  opts: LengthEvaluationOptions = {},
): LengthRow[] {
  // Narrow a copy: narrowing `lengths` itself with Array.isArray would type its entries as any.
  const given: unknown = lengths;
  if (!Array.isArray(given) || given.length === 0) {
    throw new ArgumentError(
      `evaluateByLength: lengths must be a non-empty array of lengths or [min, max] ranges, got ${fmtValue(lengths)}`,
    );
  }
  const batches = positiveInteger("batches", opts.batches ?? 4);
  const batchSize = positiveInteger("batchSize", opts.batchSize ?? 32);
  const split = opts.split ?? "test";
  if (!SPLITS.includes(split))
    throw new ArgumentError(`evaluateByLength: split must be one of ${SPLITS.join(", ")}, got ${fmtValue(split)}`);
  const tasks = lengths.map((length, i) => {
    const [min, max] = rangeOf(length, i);
    return task.withLengths(min, max);
  });
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() =>
      tasks.map((t, i) => {
        const evaluations: Evaluation[] = [];
        for (let b = 0; b < batches; b++) {
          const batch = t.batch(split, batchSize, b);
          evaluations.push(t.evaluate(model.predict(batch), batch));
        }
        return { length: lengths[i]!, examples: batches * batchSize, metrics: summarize(combineEvaluations(evaluations)) };
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}
