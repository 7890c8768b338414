import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import { SequenceTask } from "./sequence-task.js";
import { SPECIAL_TOKENS } from "./vocabulary.js";

export type NumberWordsConfig = { seed: number; minDigits: number; maxDigits: number };
export const NUMBER_WORDS_DEFAULTS: Readonly<NumberWordsConfig> = { seed: 0, minDigits: 1, maxDigits: 6 };

/** 15 digits reach 999 trillion and keep every number an exact double. */
const MAX_DIGITS = 15;

const DIGITS = "0123456789";
const ONES = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
] as const;
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"] as const;
/** Short scale: each step is a thousand times the last. */
const SCALES = ["", "thousand", "million", "billion", "trillion"] as const;

/** The words of 1..999. */
function groupWords(n: number): string[] {
  const words: string[] = [];
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds > 0) words.push(ONES[hundreds]!, "hundred");
  if (rest >= 20) {
    words.push(TENS[Math.floor(rest / 10)]!);
    if (rest % 10 > 0) words.push(ONES[rest % 10]!);
  } else if (rest > 0) {
    words.push(ONES[rest]!);
  }
  return words;
}

/**
 * English words of a whole number below 10^15, short scale, no "and" and no hyphens:
 * 1234 -> ["one", "thousand", "two", "hundred", "thirty", "four"], 0 -> ["zero"].
 */
export function numberToWords(n: number): string[] {
  if (n === 0) return ["zero"];
  const words: string[] = [];
  for (let scale = SCALES.length - 1; scale >= 0; scale--) {
    const group = Math.floor(n / 1000 ** scale) % 1000;
    if (group === 0) continue;
    words.push(...groupWords(group));
    if (scale > 0) words.push(SCALES[scale]!);
  }
  return words;
}

/**
 * number-words: read a whole number as digits, write it in English words, one token per word
 * (seq2seq with BOS/EOS). Example: input "1234" -> target "one" "thousand" "two" "hundred" "thirty"
 * "four" then EOS. Short scale (thousand, million, billion, trillion), no "and", no hyphens
 * ("thirty four" is two tokens), zero is "zero". Word tokens keep the target short and make the
 * task about the number system rather than spelling.
 *
 * Config (defaults): seed 0, minDigits 1, maxDigits 6 (at most 15: below 10^15, 999 trillion). The
 * digit count is uniform in minDigits..maxDigits, the number uniform among numbers with that many
 * digits (no leading zeros). withLengths(min, max) sets the digit range.
 *
 * Vocabulary: PAD, BOS, EOS, the digits 0-9 (source), then the 33 words (target).
 */
export class NumberWordsTask extends SequenceTask<NumberWordsConfig> {
  static readonly description =
    'write a number in English words, "1234" -> "one thousand two hundred thirty four" (word tokens, minDigits..maxDigits)';

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "number-words",
      config,
      { ...NUMBER_WORDS_DEFAULTS },
      {
        seed: SEED_BOUNDS,
        minDigits: [1, MAX_DIGITS],
        maxDigits: [1, MAX_DIGITS],
      },
    );
    checkRange("number-words", "minDigits", c.minDigits, "maxDigits", c.maxDigits);
    const words = [...ONES, ...TENS.filter((w) => w !== ""), "hundred", ...SCALES.filter((w) => w !== "")];
    super("number-words", NumberWordsTask.description, c, [...SPECIAL_TOKENS, ...DIGITS, ...words]);
  }

  /** Digit d has id 3 + d. */
  protected sampleSource(rng: Generator): number[] {
    const digits = rng.randint(this.config.minDigits, this.config.maxDigits + 1);
    const first = digits === 1 ? rng.randint(0, 10) : rng.randint(1, 10);
    const ids = [SPECIAL_TOKENS.length + first];
    for (let i = 1; i < digits; i++) ids.push(SPECIAL_TOKENS.length + rng.randint(0, 10));
    return ids;
  }

  protected answer(source: readonly number[]): number[] {
    const n = Number(source.map((id) => this.vocabulary[id]!).join(""));
    // Words come after the digits, so search past them ("zero" is a word, "0" a digit).
    return numberToWords(n).map((word) => this.vocabulary.indexOf(word, SPECIAL_TOKENS.length + DIGITS.length));
  }

  /** Digits only, no sign, separators or leading zeros, at most 15 digits. */
  protected override parseSource(text: string): number[] {
    if (!/^\d+$/.test(text)) throw this.textError(text, 'is not a whole number written in digits (e.g. "1234")');
    if (text.length > 1 && text.startsWith("0")) throw this.textError(text, "has a leading zero");
    if (text.length > MAX_DIGITS) throw this.textError(text, `has ${text.length} digits; at most ${MAX_DIGITS} (numbers below 10^15)`);
    return Array.from(text, (ch) => SPECIAL_TOKENS.length + Number(ch));
  }

  withLengths(min: number, max: number): NumberWordsTask {
    return new NumberWordsTask({ ...this.config, minDigits: min, maxDigits: max });
  }
}
