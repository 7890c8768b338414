/**
 * associative-retrieval: the fast-weights paper's task (Ba et al. 2016, section 4.1). K key-value
 * pairs of a letter and a digit, "??", then one of the keys; the answer is that key's digit:
 *   "c9k8j3f1??c" -> "9"
 * The K letters are distinct (drawn without replacement from a-z), the digits are drawn uniformly
 * with replacement, and the query is one of the K letters, uniformly. A sequence has 2K + 3 symbols.
 *
 * Config (defaults): seed 0, minPairs 4, maxPairs 4 (K is uniform in [minPairs, maxPairs]; the
 * paper's example has K = 4, and K = 8 is the harder setting); withLengths(min, max) sets that range.
 *
 * Vocabulary: the paper's 37 symbols "a".."z", "0".."9", "?", after the three specials PAD, BOS and
 * EOS that the Task contract puts at ids 0-2 (so ids are 3..39). PAD fills the rows of a batch with
 * mixed K; BOS and EOS never occur. Models answer over the whole vocabulary; only digits are ever right.
 *
 * Batch (kind "qa"): input int32 [B, T] (T = longest row, PAD after), target int32 [B, 1] the digit's
 * id, mask [B, 1] ones, inputLengths [B] = 2K + 3. Splits are disjoint by content (seeding.ts).
 * Metrics: accuracy and error (1 - accuracy) over questions. Predictions: int32 ids [B, 1], or float
 * scores [B, 1, V] or [B, V].
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, describe } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import { answerMetrics, type Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, checkEvaluateBatch, tensorOf, type Batch, type Split, type Task } from "./task.js";
import { makeVocabulary, SPECIAL_TOKENS } from "./vocabulary.js";

export type AssociativeRetrievalConfig = { seed: number; minPairs: number; maxPairs: number };
export const ASSOCIATIVE_RETRIEVAL_DEFAULTS: Readonly<AssociativeRetrievalConfig> = { seed: 0, minPairs: 4, maxPairs: 4 };

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const SEPARATOR = "?";
/** The paper's 37 symbols, in its order. */
export const ASSOCIATIVE_RETRIEVAL_SYMBOLS = LETTERS + DIGITS + SEPARATOR;

const FIRST_LETTER = SPECIAL_TOKENS.length;
const FIRST_DIGIT = FIRST_LETTER + LETTERS.length;
const SEPARATOR_ID = FIRST_DIGIT + DIGITS.length;

/** One example: the sequence's ids (2K + 3 of them) and the answer's id. */
export interface AssociativeRetrievalExample {
  input: number[];
  answer: number;
}

export class AssociativeRetrievalTask implements Task {
  static readonly description =
    'fast-weights associative retrieval: letter-digit pairs, "??", a key; answer its digit ("c9k8j3f1??c" -> "9")';
  readonly name = "associative-retrieval";
  readonly description = AssociativeRetrievalTask.description;
  readonly kind = "qa";
  readonly metricNames: readonly string[] = ["accuracy", "error"];
  readonly config: Readonly<AssociativeRetrievalConfig>;
  readonly vocabulary: readonly string[] = makeVocabulary(ASSOCIATIVE_RETRIEVAL_SYMBOLS);

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      this.name,
      config,
      { ...ASSOCIATIVE_RETRIEVAL_DEFAULTS },
      { seed: SEED_BOUNDS, minPairs: [1, LETTERS.length], maxPairs: [1, LETTERS.length] },
    );
    checkRange(this.name, "minPairs", c.minPairs, "maxPairs", c.maxPairs);
    this.config = c;
  }

  get inputSize(): number {
    return this.vocabulary.length;
  }
  get outputSize(): number {
    return this.vocabulary.length;
  }

  /** Example `index` of `split` (example i of the split is row i % B of batch floor(i / B)). */
  example(split: Split, index: number): AssociativeRetrievalExample {
    const input = drawExample(this.name, this.config.seed, split, index, (rng) => this.sample(rng));
    return { input, answer: answerOf(input) };
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs(`${this.name}.batch`, split, batchSize, index);
    const examples: AssociativeRetrievalExample[] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    return collate(examples);
  }

  /**
   * A one-example batch from a sequence in the paper's notation, e.g. "c9k8j3f1??c"; any number of
   * pairs is accepted (not only the configured range). Not drawn from a split.
   */
  fromText(text: string): Batch {
    if (typeof text !== "string") throw new ArgumentError(`${this.name}.fromText: text must be a string, got ${describe(text)}`);
    const fail = (problem: string): ArgumentError => new ArgumentError(`${this.name}.fromText: ${JSON.stringify(text)} ${problem}`);
    for (const ch of text) {
      if (!ASSOCIATIVE_RETRIEVAL_SYMBOLS.includes(ch)) {
        throw fail(`has ${JSON.stringify(ch)}, which is not a symbol of this task (symbols: ${ASSOCIATIVE_RETRIEVAL_SYMBOLS})`);
      }
    }
    const match = /^((?:[a-z][0-9])+)\?\?([a-z])$/.exec(text);
    if (match === null) throw fail('must be letter-digit pairs, then "??", then a letter (e.g. "c9k8j3f1??c")');
    const keys = Array.from(match[1]!).filter((_, i) => i % 2 === 0);
    const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
    if (repeated !== undefined) throw fail(`uses the key "${repeated}" twice; keys must be distinct`);
    if (!keys.includes(match[2]!)) throw fail(`asks for "${match[2]}", which is not one of its keys (${keys.join("")})`);
    const input = Array.from(text, (ch) => SPECIAL_TOKENS.length + ASSOCIATIVE_RETRIEVAL_SYMBOLS.indexOf(ch));
    return collate([{ input, answer: answerOf(input) }]);
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    checkEvaluateBatch(`${this.name}.evaluate`, batch);
    return answerMetrics(`${this.name}.evaluate`, predictions, batch, this.vocabulary.length);
  }

  /** The same task with K in [min, max]. */
  withLengths(min: number, max: number): AssociativeRetrievalTask {
    return new AssociativeRetrievalTask({ ...this.config, minPairs: min, maxPairs: max });
  }

  /** K distinct letters (a partial Fisher-Yates shuffle), a digit each, "??", one of the letters. */
  private sample(rng: Generator): number[] {
    const pairs = rng.randint(this.config.minPairs, this.config.maxPairs + 1);
    const letters = Array.from(LETTERS, (_, i) => FIRST_LETTER + i);
    const out: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const j = rng.randint(i, letters.length);
      [letters[i], letters[j]] = [letters[j]!, letters[i]!];
      out.push(letters[i]!, FIRST_DIGIT + rng.randint(0, DIGITS.length));
    }
    out.push(SEPARATOR_ID, SEPARATOR_ID, letters[rng.randint(0, pairs)]!);
    return out;
  }
}

/** The digit paired with the sequence's last symbol (its query). */
function answerOf(input: readonly number[]): number {
  const query = input[input.length - 1]!;
  for (let i = 0; i + 1 < input.length - 3; i += 2) if (input[i] === query) return input[i + 1]!;
  throw new ArgumentError("associative-retrieval: the query is not one of the keys");
}

function collate(examples: readonly AssociativeRetrievalExample[]): Batch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.input.length));
  const input = new Int32Array(B * T); // PAD is 0
  const target = new Int32Array(B);
  const inputLengths = new Int32Array(B);
  examples.forEach((e, b) => {
    input.set(e.input, b * T);
    target[b] = e.answer;
    inputLengths[b] = e.input.length;
  });
  return {
    input: tensorOf(input, [B, T]),
    target: tensorOf(target, [B, 1]),
    inputLengths: tensorOf(inputLengths, [B]),
    targetLengths: tensorOf(new Int32Array(B).fill(1), [B]),
    mask: tensorOf(new Float32Array(B).fill(1), [B, 1]),
  };
}
