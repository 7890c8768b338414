// Shared helpers for the task tests: read rows of batches back as plain values.
import type { Tensor } from "../../src/autograd/tensor.js";
import type { Batch, Task } from "../../src/tasks/index.js";
import { decodeTokens } from "../../src/tasks/index.js";

/** Row b of an int32 [B, T] tensor, cut to `length`. */
export function row(t: Tensor, b: number, length = t.shape[1]!): number[] {
  const width = t.shape[1]!;
  return Array.from(t.data.subarray(b * width, b * width + length));
}

/** Decoded source and target strings of every row of a token batch. */
export function decodeBatch(task: Task, batch: Batch): { source: string; target: string }[] {
  const rows = batch.input.shape[0]!;
  return Array.from({ length: rows }, (_, b) => ({
    source: decodeTokens(task.vocabulary, row(batch.input, b)),
    target: decodeTokens(task.vocabulary, row(batch.target, b)),
  }));
}

/** A key identifying row b of a batch's example (its unpadded input), for overlap checks. */
export function exampleKey(task: Task, batch: Batch, b: number): string {
  const length = batch.inputLengths.data[b]!;
  if (task.kind === "tokens" || batch.input.ndim === 2) return row(batch.input, b, length).join(",");
  const [, steps, channels] = batch.input.shape as [number, number, number];
  return Array.from(batch.input.data.subarray(b * steps * channels, (b * steps + length) * channels)).join("");
}

/** Every field of a batch as plain arrays, for deep equality. */
export function plain(batch: Batch): Record<string, { shape: readonly number[]; data: number[] }> {
  const out: Record<string, { shape: readonly number[]; data: number[] }> = {};
  for (const [key, t] of Object.entries(batch) as [string, Tensor][]) out[key] = { shape: t.shape, data: Array.from(t.data) };
  return out;
}
