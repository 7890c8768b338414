/**
 * Where task randomness comes from. Every example is a pure function of (task name, seed, split,
 * example index): its generator state is hashed from those four, so any batch can be regenerated
 * alone (bit-exact resume, parallel evaluation) and no example depends on the batches before it.
 *
 * Splits never share an example: an example's split is decided by a hash of its *content* (not of
 * the seed), and each split only keeps the draws that hash into it. So a test sequence can never
 * appear in training, whatever seeds, lengths or batch sizes the two runs used.
 */
import { ArgumentError } from "../core/errors.js";
import { Generator } from "../core/rng.js";
import type { Split } from "./task.js";

/** Fractions of the example space owned by each split (train 80%, validation 10%, test 10%). */
const SPLIT_BOUNDS: Readonly<Record<Split, readonly [number, number]>> = {
  train: [0, 0.8],
  validation: [0.8, 0.9],
  test: [0.9, 1],
};
const SPLIT_IDS: Readonly<Record<Split, number>> = { train: 1, validation: 2, test: 3 };

/** Draws per example before giving up: only reached when a split owns (almost) none of a tiny example space. */
const MAX_ATTEMPTS = 10_000;

/** murmur3-style 32-bit hash over a list of 32-bit words (numbers are truncated to their low word). */
export function hashWords(words: readonly number[], salt = 0): number {
  let h = salt | 0;
  for (const word of words) {
    let k = Math.imul(word | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= words.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A string's UTF-16 code units as words, so task names feed the hash. */
function stringWords(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

/** A safe integer as its low and high 32-bit words. */
function splitWords(n: number): [number, number] {
  return [n >>> 0, Math.floor(n / 2 ** 32) >>> 0];
}

/**
 * The generator for one example. Its 128-bit state comes from four differently salted hashes, so
 * two examples get the same stream only if all four 32-bit hashes collide.
 */
export function exampleGenerator(task: string, seed: number, split: Split, index: number): Generator {
  const words = [...stringWords(task), ...splitWords(seed), SPLIT_IDS[split], ...splitWords(index)];
  const s: [number, number, number, number] = [hashWords(words, 1), hashWords(words, 2), hashWords(words, 3), hashWords(words, 4)];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // xoshiro's one forbidden state
  return new Generator().setState({ s, spare: null });
}

/** Which split owns an example, from its content alone (task-salted, seed-independent). */
export function splitOf(task: string, content: readonly number[]): Split {
  const u = hashWords(content, hashWords(stringWords(task))) / 2 ** 32;
  if (u < SPLIT_BOUNDS.train[1]) return "train";
  return u < SPLIT_BOUNDS.validation[1] ? "validation" : "test";
}

/**
 * Example `index` of `split`: draws candidates from the example's own generator until one belongs
 * to the split. `sample` returns the example's content (the words that identify it).
 */
export function drawExample(task: string, seed: number, split: Split, index: number, sample: (rng: Generator) => number[]): number[] {
  const rng = exampleGenerator(task, seed, split, index);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const content = sample(rng);
    if (splitOf(task, content) === split) return content;
  }
  throw new ArgumentError(
    `${task}: no ${split} example found in ${MAX_ATTEMPTS} draws; this configuration has too few distinct examples to split (allow longer sequences or more symbols)`,
  );
}
