/**
 * babi: question answering over short stories (Weston et al. 2015), the MemN2N benchmark. Each
 * example is the statements of a story up to a question (the last `memorySize` of them, 50 as in
 * the MemN2N paper), the question, and a one-token answer.
 *
 * Config (defaults): seed 0, taskId 1 (a bAbI task type the generator implements: see
 * generator.ts), size 1000 (training questions; 1000 and 10000 are bAbI's "1k" and "10k"),
 * memorySize 50. Training and validation questions (the paper's last 10%) and 1000 test questions
 * are generated from the seed; no story prefix of one split appears in another.
 *
 * Batch: input int32 [B, S, W] (S = most sentences in the batch, at most memorySize; sentences in
 * story order, most recent last, padded with PAD rows at the end), query int32 [B, W], target int32
 * [B, 1] the answer id, mask [B, 1], inputLengths [B] sentences per row. W is the longest sentence
 * or question of the data. The vocabulary is PAD, BOS, EOS then every word and answer of the data,
 * sorted (answers are single tokens; list answers are comma-joined, e.g. "apple,milk").
 *
 * Training batches walk the training questions epoch by epoch, each epoch in its own seeded order.
 * Validation and test batches walk their questions once in file order; rows past the end repeat
 * earlier questions with mask 0, so ceil(questions / batchSize) batches count each question exactly
 * once (1000 test questions at batch 32: `engram eval --batches 32`).
 *
 * Metrics: accuracy and error (1 - accuracy) over questions. Predictions: int32 ids [B, 1], or float
 * scores [B, 1, V] or [B, V].
 */
import type { Tensor } from "../../autograd/tensor.js";
import { ArgumentError } from "../../core/errors.js";
import { Generator } from "../../core/rng.js";
import { resolveConfig, SEED_BOUNDS } from "../config.js";
import { answerMetrics, type Evaluation } from "../metrics.js";
import { hashWords } from "../seeding.js";
import { checkBatchArgs, checkEvaluateBatch, tensorOf, type Batch, type Split, type Task } from "../task.js";
import { SPECIAL_TOKENS } from "../vocabulary.js";
import { BABI_TASK_NAMES, checkBabiTaskId, generateBabi } from "./generator.js";
import { babiExamples, parseBabi, tokenize, type BabiExample, type BabiStory } from "./reader.js";

export type BabiConfig = { seed: number; taskId: number; size: number; memorySize: number };
export const BABI_DEFAULTS: Readonly<BabiConfig> = { seed: 0, taskId: 1, size: 1000, memorySize: 50 };

/** Test questions per task, as in both bAbI sizes. */
export const BABI_TEST_QUESTIONS = 1000;

/** Fraction of the training questions held out for validation (the MemN2N paper's 10%). */
const VALIDATION_FRACTION = 0.1;

/** An example as ids, its story already cut to the last memorySize sentences. */
interface Encoded {
  sentences: number[][];
  query: number[];
  answer: number;
}

/** The stories of each split, before encoding. */
export interface BabiSplits {
  train: readonly BabiExample[];
  validation: readonly BabiExample[];
  test: readonly BabiExample[];
}

/** The statements a model sees for an example: the last `memorySize`, supporting indices shifted. */
function truncate(example: BabiExample, memorySize: number): BabiExample {
  const cut = Math.max(0, example.sentences.length - memorySize);
  if (cut === 0) return example;
  return {
    ...example,
    sentences: example.sentences.slice(cut),
    supporting: example.supporting.filter((i) => i >= cut).map((i) => i - cut),
  };
}

/** Identifies an example's story as a model sees it (its words), for keeping splits apart. */
function storyKey(sentences: readonly string[]): string {
  return sentences.map((s) => tokenize(s).join(" ")).join("|");
}

export class BabiTask implements Task {
  static readonly description =
    "bAbI question answering: stories of simple facts, a question, a one-word answer (generated task types 1-4, 6-16; 1k/10k sizes)";
  readonly name: string;
  readonly description = BabiTask.description;
  readonly kind = "qa";
  readonly metricNames: readonly string[] = ["accuracy", "error"];
  readonly config: Readonly<Record<string, number>>;
  readonly vocabulary: readonly string[];
  /** Words per sentence and per question (W). */
  readonly sentenceLength: number;
  readonly memorySize: number;
  /** The examples of each split, stories cut to memorySize (readable text, supporting indices). */
  readonly examples: Readonly<BabiSplits>;
  private readonly encoded: Readonly<Record<Split, readonly Encoded[]>>;
  private readonly seed: number;
  private order: { epoch: number; perm: Int32Array } | null = null;

  /**
   * The registry form: generated data. `splits` (with `name`) builds the task from given examples
   * instead; see `fromStories` and `fromFiles`.
   */
  constructor(config: Readonly<Record<string, unknown>> = {}, data?: { name: string; splits: BabiSplits }) {
    if (data === undefined) {
      const c = resolveConfig(
        "babi",
        config,
        { ...BABI_DEFAULTS },
        { seed: SEED_BOUNDS, taskId: [1, 20], size: [10, 100_000], memorySize: [1, 1000] },
      );
      checkBabiTaskId("babi", c.taskId);
      this.config = c;
      this.name = "babi";
      this.seed = c.seed;
      this.memorySize = c.memorySize;
      this.examples = generateSplits(c);
    } else {
      const c = resolveConfig(
        "babi",
        config,
        { seed: 0, memorySize: BABI_DEFAULTS.memorySize },
        { seed: SEED_BOUNDS, memorySize: [1, 1000] },
      );
      this.config = c;
      this.name = data.name;
      this.seed = c.seed;
      this.memorySize = c.memorySize;
      for (const split of ["train", "validation", "test"] as const) {
        if (data.splits[split].length === 0) throw new ArgumentError(`${data.name}: the ${split} split has no questions`);
      }
      this.examples = {
        train: data.splits.train.map((e) => truncate(e, c.memorySize)),
        validation: data.splits.validation.map((e) => truncate(e, c.memorySize)),
        test: data.splits.test.map((e) => truncate(e, c.memorySize)),
      };
    }
    const all = [...this.examples.train, ...this.examples.validation, ...this.examples.test];
    const words = new Set<string>();
    let longest = 1;
    for (const e of all) {
      for (const text of [...e.sentences, e.question]) {
        const tokens = tokenize(text);
        longest = Math.max(longest, tokens.length);
        for (const w of tokens) words.add(w);
      }
      words.add(e.answer.toLowerCase());
    }
    for (const special of SPECIAL_TOKENS) words.delete(special);
    this.vocabulary = [...SPECIAL_TOKENS, ...[...words].sort()];
    this.sentenceLength = longest;
    const ids = new Map(this.vocabulary.map((w, i) => [w, i]));
    const encode = (text: string): number[] => tokenize(text).map((w) => ids.get(w)!);
    const encodeAll = (examples: readonly BabiExample[]): Encoded[] =>
      examples.map((e) => ({ sentences: e.sentences.map(encode), query: encode(e.question), answer: ids.get(e.answer.toLowerCase())! }));
    this.encoded = {
      train: encodeAll(this.examples.train),
      validation: encodeAll(this.examples.validation),
      test: encodeAll(this.examples.test),
    };
  }

  /**
   * A task over given stories (e.g. the real bAbI files): the last 10% of the training questions
   * become the validation split, as in the MemN2N paper. `name` is the task's name in messages.
   */
  static fromStories(
    train: readonly BabiStory[],
    test: readonly BabiStory[],
    opts: { seed?: number; memorySize?: number; name?: string } = {},
  ): BabiTask {
    const name = opts.name ?? "babi-files";
    const trainExamples = babiExamples(train);
    const held = Math.max(1, Math.round(trainExamples.length * VALIDATION_FRACTION));
    if (trainExamples.length <= held)
      throw new ArgumentError(`${name}: the training stories hold too few questions to split off validation`);
    const config = { seed: opts.seed ?? 0, memorySize: opts.memorySize ?? BABI_DEFAULTS.memorySize };
    return new BabiTask(config, {
      name,
      splits: { train: trainExamples.slice(0, -held), validation: trainExamples.slice(-held), test: babiExamples(test) },
    });
  }

  /**
   * Node only: a task over real bAbI files (e.g. qa1_single-supporting-fact_train.txt and
   * _test.txt). A malformed file is rejected with its name and line number. Such a task is not in
   * the registry (its config cannot name the files), so `engram train --task babi` always generates.
   */
  static async fromFiles(trainPath: string, testPath: string, opts: { seed?: number; memorySize?: number } = {}): Promise<BabiTask> {
    // imported here so the browser build, which never reads files, does not depend on node:fs
    const { readFile } = await import("node:fs/promises");
    const read = async (path: string): Promise<BabiStory[]> => {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        throw new ArgumentError(`BabiTask.fromFiles: cannot read ${path}: ${(e as Error).message}`);
      }
      return parseBabi(text, path);
    };
    return BabiTask.fromStories(await read(trainPath), await read(testPath), { ...opts, name: "babi-files" });
  }

  get inputSize(): number {
    return this.vocabulary.length;
  }
  get outputSize(): number {
    return this.vocabulary.length;
  }

  /** Questions in a split. */
  size(split: Split): number {
    return this.encoded[split].length;
  }

  /** Which example of `split` feeds batch row `row` (= index * batchSize + b), and whether it counts. */
  exampleIndex(split: Split, row: number): { index: number; counted: boolean } {
    const n = this.encoded[split].length;
    if (split !== "train") return { index: row % n, counted: row < n };
    const epoch = Math.floor(row / n);
    return { index: this.permutation(epoch)[row % n]!, counted: true };
  }

  /** The training order of one epoch: a seeded shuffle, the same whenever it is asked for. */
  private permutation(epoch: number): Int32Array {
    if (this.order?.epoch === epoch) return this.order.perm;
    const n = this.encoded.train.length;
    const rng = new Generator(
      hashWords([this.seed >>> 0, Math.floor(this.seed / 2 ** 32), epoch >>> 0, Math.floor(epoch / 2 ** 32)], 0xe90c),
    );
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = rng.randint(0, i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    this.order = { epoch, perm };
    return perm;
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs(`${this.name}.batch`, split, batchSize, index);
    const W = this.sentenceLength;
    const rows = Array.from({ length: batchSize }, (_, b) => this.exampleIndex(split, index * batchSize + b));
    const examples = rows.map((r) => this.encoded[split][r.index]!);
    const S = Math.max(1, ...examples.map((e) => e.sentences.length));
    const input = new Int32Array(batchSize * S * W);
    const query = new Int32Array(batchSize * W);
    const target = new Int32Array(batchSize);
    const mask = new Float32Array(batchSize);
    const inputLengths = new Int32Array(batchSize);
    const targetLengths = new Int32Array(batchSize);
    examples.forEach((e, b) => {
      e.sentences.forEach((words, s) => input.set(words, (b * S + s) * W));
      query.set(e.query, b * W);
      target[b] = e.answer;
      inputLengths[b] = e.sentences.length;
      const counted = rows[b]!.counted ? 1 : 0;
      mask[b] = counted;
      targetLengths[b] = counted;
    });
    return {
      input: tensorOf(input, [batchSize, S, W]),
      query: tensorOf(query, [batchSize, W]),
      target: tensorOf(target, [batchSize, 1]),
      inputLengths: tensorOf(inputLengths, [batchSize]),
      targetLengths: tensorOf(targetLengths, [batchSize]),
      mask: tensorOf(mask, [batchSize, 1]),
    };
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    checkEvaluateBatch(`${this.name}.evaluate`, batch);
    return answerMetrics(`${this.name}.evaluate`, predictions, batch, this.vocabulary.length);
  }

  /** Stories have no length range; a clear refusal beats silently returning the same task. */
  withLengths(_min: number, _max: number): Task {
    throw new ArgumentError(`${this.name}.withLengths: bAbI stories have no length setting (memorySize caps the story instead)`);
  }
}

/** Test first, then validation, then training, each refusing stories whose examples an earlier split holds. */
function generateSplits(c: BabiConfig): BabiSplits {
  const seen = new Set<string>();
  const make = (questions: number, stream: number): BabiExample[] => {
    const own = new Set<string>();
    const keys = (story: BabiStory): string[] => babiExamples([story]).map((e) => storyKey(truncate(e, c.memorySize).sentences));
    const stories = generateBabi(c.taskId, {
      seed: c.seed,
      questions,
      stream,
      accept: (story) => keys(story).every((k) => !seen.has(k)),
    });
    for (const story of stories) for (const k of keys(story)) own.add(k);
    for (const k of own) seen.add(k);
    return babiExamples(stories).map((e) => truncate(e, c.memorySize));
  };
  const held = Math.max(1, Math.round(c.size * VALIDATION_FRACTION));
  const test = make(BABI_TEST_QUESTIONS, 2);
  const validation = make(held, 1);
  const train = make(c.size - held, 0);
  return { train, validation, test };
}

/** The task type's name, e.g. "single supporting fact" for 1. */
export function babiTaskName(taskId: number): string {
  checkBabiTaskId("babiTaskName", taskId);
  return BABI_TASK_NAMES[taskId]!;
}
