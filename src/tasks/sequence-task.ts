/**
 * Shared machinery of the seq2seq token tasks (reverse, sort, addition, dates, number-words,
 * copy-distractors): a subclass says how to draw a source sequence and what its target is; this
 * class turns examples into padded batches, reads user text into a batch, and scores predictions.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, describe } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import { predictedIds, tokenMetrics, type Evaluation } from "./metrics.js";
import { drawExample } from "./seeding.js";
import { checkBatchArgs, checkEvaluateBatch, tensorOf, type Batch, type Split, type Task } from "./task.js";
import { BOS, EOS, makeVocabulary, SPECIAL_TOKENS, SYMBOLS } from "./vocabulary.js";

export interface SequenceExample {
  /** Source ids, no specials. */
  source: number[];
  /** Target ids including the final EOS. */
  target: number[];
}

export abstract class SequenceTask<C extends Record<string, number> & { seed: number }> implements Task {
  readonly kind = "tokens";
  readonly metricNames: readonly string[] = ["tokenAccuracy", "exactMatch"];

  protected constructor(
    readonly name: string,
    readonly description: string,
    readonly config: Readonly<C>,
    readonly vocabulary: readonly string[],
  ) {}

  get inputSize(): number {
    return this.vocabulary.length;
  }
  get outputSize(): number {
    return this.vocabulary.length;
  }

  /** A random source sequence (ids, no specials); it identifies the example. */
  protected abstract sampleSource(rng: Generator): number[];
  /** The answer to `source` (ids, without EOS). */
  protected abstract answer(source: readonly number[]): number[];
  abstract withLengths(min: number, max: number): Task;

  /** Example `index` of `split` (example i of the split is row i % B of batch floor(i / B)). */
  example(split: Split, index: number): SequenceExample {
    const source = drawExample(this.name, this.config.seed, split, index, (rng) => this.sampleSource(rng));
    return { source, target: [...this.answer(source), EOS] };
  }

  batch(split: Split, batchSize: number, index: number): Batch {
    checkBatchArgs(`${this.name}.batch`, split, batchSize, index);
    const examples: SequenceExample[] = [];
    for (let b = 0; b < batchSize; b++) examples.push(this.example(split, index * batchSize + b));
    return this.collate(examples);
  }

  /**
   * A one-example batch from text in the task's notation (see `parseSource`). The text need not
   * fit the configured lengths, so a trained model can be tried on longer inputs; it is not drawn
   * from any split, so it may coincide with a training example.
   */
  fromText(text: string): Batch {
    if (typeof text !== "string") throw new ArgumentError(`${this.name}.fromText: text must be a string, got ${describe(text)}`);
    const source = this.parseSource(text);
    return this.collate([{ source, target: [...this.answer(source), EOS] }]);
  }

  /**
   * Source ids of `text`. The default reads one vocabulary symbol per character, which suits tasks
   * whose every symbol string is a valid input; tasks with a grammar (dates, numbers) override it
   * and reject malformed text with `textError`.
   */
  protected parseSource(text: string): number[] {
    if (text.length === 0) throw this.textError(text, "is empty");
    return Array.from(text, (ch) => {
      const id = this.vocabulary.indexOf(ch, SPECIAL_TOKENS.length);
      if (id < 0) {
        const symbols = this.vocabulary.slice(SPECIAL_TOKENS.length).join("");
        throw this.textError(text, `has ${JSON.stringify(ch)}, which is not a symbol of this task (symbols: ${symbols})`);
      }
      return id;
    });
  }

  /** The error for text `fromText` cannot read: names the task and shows the text. */
  protected textError(text: string, problem: string): ArgumentError {
    return new ArgumentError(`${this.name}.fromText: ${JSON.stringify(text)} ${problem}`);
  }

  /** Pads examples into one batch: sources and targets to their longest row, PAD (0) beyond. */
  private collate(examples: readonly SequenceExample[]): Batch {
    const batchSize = examples.length;
    const tin = Math.max(...examples.map((e) => e.source.length));
    const tout = Math.max(...examples.map((e) => e.target.length));
    // PAD is 0, so fresh (zeroed) arrays are already padded.
    const input = new Int32Array(batchSize * tin);
    const target = new Int32Array(batchSize * tout);
    const decoderInput = new Int32Array(batchSize * tout);
    const mask = new Float32Array(batchSize * tout);
    const inputLengths = new Int32Array(batchSize);
    const targetLengths = new Int32Array(batchSize);
    examples.forEach(({ source, target: answer }, b) => {
      input.set(source, b * tin);
      target.set(answer, b * tout);
      decoderInput[b * tout] = BOS;
      decoderInput.set(answer.slice(0, -1), b * tout + 1);
      mask.fill(1, b * tout, b * tout + answer.length);
      inputLengths[b] = source.length;
      targetLengths[b] = answer.length;
    });
    return {
      input: tensorOf(input, [batchSize, tin]),
      target: tensorOf(target, [batchSize, tout]),
      decoderInput: tensorOf(decoderInput, [batchSize, tout]),
      inputLengths: tensorOf(inputLengths, [batchSize]),
      targetLengths: tensorOf(targetLengths, [batchSize]),
      mask: tensorOf(mask, [batchSize, tout]),
    };
  }

  evaluate(predictions: Tensor, batch: Batch): Evaluation {
    checkEvaluateBatch(`${this.name}.evaluate`, batch);
    const predicted = predictedIds(`${this.name}.evaluate`, predictions, batch.target.shape[0]!, this.vocabulary.length);
    return tokenMetrics(batch.target, batch.mask, predicted);
  }
}

/** `length` symbols drawn uniformly with replacement: ids 3 .. 3 + alphabetSize - 1. */
export function randomSymbols(rng: Generator, length: number, alphabetSize: number): number[] {
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) out[i] = SPECIAL_TOKENS.length + rng.randint(0, alphabetSize);
  return out;
}

export type SymbolTaskConfig = { seed: number; minLength: number; maxLength: number; alphabetSize: number };
export const SYMBOL_TASK_DEFAULTS: Readonly<SymbolTaskConfig> = { seed: 0, minLength: 1, maxLength: 10, alphabetSize: 10 };

/** Tasks over random symbol strings (reverse, sort): shared config, vocabulary and sampling. */
export abstract class SymbolSequenceTask extends SequenceTask<SymbolTaskConfig> {
  protected constructor(name: string, description: string, config: Readonly<Record<string, unknown>>) {
    const c = resolveConfig(
      name,
      config,
      { ...SYMBOL_TASK_DEFAULTS },
      {
        seed: SEED_BOUNDS,
        minLength: [1, 4096],
        maxLength: [1, 4096],
        alphabetSize: [2, SYMBOLS.length],
      },
    );
    checkRange(name, "minLength", c.minLength, "maxLength", c.maxLength);
    super(name, description, c, makeVocabulary(SYMBOLS.slice(0, c.alphabetSize)));
  }

  protected sampleSource(rng: Generator): number[] {
    return randomSymbols(rng, rng.randint(this.config.minLength, this.config.maxLength + 1), this.config.alphabetSize);
  }
}
