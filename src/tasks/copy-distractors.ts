import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import { SequenceTask } from "./sequence-task.js";
import { makeVocabulary, SPECIAL_TOKENS } from "./vocabulary.js";

export type CopyDistractorsConfig = {
  seed: number;
  minKeyLength: number;
  maxKeyLength: number;
  minDistractors: number;
  maxDistractors: number;
  keyAlphabetSize: number;
  distractorAlphabetSize: number;
};
export const COPY_DISTRACTORS_DEFAULTS: Readonly<CopyDistractorsConfig> = {
  seed: 0,
  minKeyLength: 1,
  maxKeyLength: 4,
  minDistractors: 0,
  maxDistractors: 16,
  keyAlphabetSize: 8,
  distractorAlphabetSize: 8,
};

const KEY_SYMBOLS = "abcdefghijklmnopqrstuvwxyz";
const DISTRACTOR_SYMBOLS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const MARKER = "=";

/**
 * copy-distractors: a long-range copy. The source is a short key, then a run of distractor symbols
 * from a separate alphabet, then the recall marker "="; the target is the key (seq2seq with
 * BOS/EOS). Example: input "cab41703=" -> target "cab" then EOS. The key sits at the start, so the
 * distance from it to the marker grows with the distractors: a model that squeezes the source into
 * one fixed vector has to carry the key through all of them, while attention can look back at it.
 *
 * Config (defaults): seed 0, minKeyLength 1, maxKeyLength 4, minDistractors 0, maxDistractors 16,
 * keyAlphabetSize 8 (key symbols are the first of a-z), distractorAlphabetSize 8 (the first of 0-9
 * then A-Z). Key and distractor lengths are uniform in their ranges, symbols uniform with
 * repetition. withLengths(min, max) sets the distractor range: the "length" is the distance to
 * bridge, while the key (what must be remembered) keeps its size.
 *
 * Vocabulary: PAD, BOS, EOS, the key symbols, the distractor symbols, "=".
 */
export class CopyDistractorsTask extends SequenceTask<CopyDistractorsConfig> {
  static readonly description = 'copy a key across a run of distractors, "cab41703=" -> "cab" (seq2seq, minDistractors..maxDistractors)';
  private readonly keySymbols: string;
  private readonly distractorSymbols: string;

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "copy-distractors",
      config,
      { ...COPY_DISTRACTORS_DEFAULTS },
      {
        seed: SEED_BOUNDS,
        minKeyLength: [1, 256],
        maxKeyLength: [1, 256],
        minDistractors: [0, 4096],
        maxDistractors: [0, 4096],
        keyAlphabetSize: [2, KEY_SYMBOLS.length],
        distractorAlphabetSize: [1, DISTRACTOR_SYMBOLS.length],
      },
    );
    checkRange("copy-distractors", "minKeyLength", c.minKeyLength, "maxKeyLength", c.maxKeyLength);
    checkRange("copy-distractors", "minDistractors", c.minDistractors, "maxDistractors", c.maxDistractors);
    const keySymbols = KEY_SYMBOLS.slice(0, c.keyAlphabetSize);
    const distractorSymbols = DISTRACTOR_SYMBOLS.slice(0, c.distractorAlphabetSize);
    super("copy-distractors", CopyDistractorsTask.description, c, makeVocabulary(keySymbols + distractorSymbols + MARKER));
    this.keySymbols = keySymbols;
    this.distractorSymbols = distractorSymbols;
  }

  /** Ids: key symbols from 3, distractors after them, the marker last. */
  protected sampleSource(rng: Generator): number[] {
    const { minKeyLength, maxKeyLength, minDistractors, maxDistractors, keyAlphabetSize, distractorAlphabetSize } = this.config;
    const source: number[] = [];
    const keyLength = rng.randint(minKeyLength, maxKeyLength + 1);
    for (let i = 0; i < keyLength; i++) source.push(SPECIAL_TOKENS.length + rng.randint(0, keyAlphabetSize));
    const distractors = rng.randint(minDistractors, maxDistractors + 1);
    for (let i = 0; i < distractors; i++) source.push(SPECIAL_TOKENS.length + keyAlphabetSize + rng.randint(0, distractorAlphabetSize));
    source.push(this.vocabulary.length - 1);
    return source;
  }

  protected answer(source: readonly number[]): number[] {
    const firstDistractor = SPECIAL_TOKENS.length + this.config.keyAlphabetSize;
    const keyLength = source.findIndex((id) => id >= firstDistractor);
    return source.slice(0, keyLength);
  }

  /** Key symbols, then distractors, then "=" and nothing after it. */
  protected override parseSource(text: string): number[] {
    const match = /^([^=]*)=$/.exec(text);
    if (match === null) throw this.textError(text, `must end with the marker "${MARKER}", and have no other`);
    const body = Array.from(match[1]!);
    const firstOther = body.findIndex((ch) => !this.keySymbols.includes(ch));
    const keyLength = firstOther === -1 ? body.length : firstOther;
    if (keyLength === 0) throw this.textError(text, `must start with a key (symbols ${this.keySymbols})`);
    for (const ch of body.slice(keyLength)) {
      if (this.keySymbols.includes(ch)) throw this.textError(text, `has key symbol "${ch}" after a distractor; the key comes first`);
      if (!this.distractorSymbols.includes(ch)) {
        throw this.textError(
          text,
          `has ${JSON.stringify(ch)}, which is neither a key symbol (${this.keySymbols}) nor a distractor (${this.distractorSymbols})`,
        );
      }
    }
    return super.parseSource(text);
  }

  withLengths(min: number, max: number): CopyDistractorsTask {
    return new CopyDistractorsTask({ ...this.config, minDistractors: min, maxDistractors: max });
  }
}
