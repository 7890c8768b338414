import type { Generator } from "../core/rng.js";
import { checkRange, resolveConfig, SEED_BOUNDS } from "./config.js";
import { SequenceTask } from "./sequence-task.js";
import { encodeTokens, makeVocabulary } from "./vocabulary.js";

export type AdditionConfig = { seed: number; minDigits: number; maxDigits: number };
export const ADDITION_DEFAULTS: Readonly<AdditionConfig> = { seed: 0, minDigits: 1, maxDigits: 3 };

/** Up to 15 digits keeps every sum an exact double (< 2^53). */
const MAX_DIGITS = 15;

/**
 * addition: read "a+b" as characters, write the decimal sum (seq2seq with BOS/EOS).
 *
 * Config (defaults): seed 0, minDigits 1, maxDigits 3. Each operand independently gets a digit
 * count in minDigits..maxDigits and is uniform over numbers with that many digits (no leading
 * zeros). Example: input "123+45" -> target "168" then EOS. withLengths(min, max) sets the digit
 * range, so a model trained on 1..3 digits can be tested on 4..6.
 */
export class AdditionTask extends SequenceTask<AdditionConfig> {
  static readonly description = 'add two decimal numbers written as characters, "123+45" -> "168" (seq2seq, minDigits..maxDigits)';

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    const c = resolveConfig(
      "addition",
      config,
      { ...ADDITION_DEFAULTS },
      {
        seed: SEED_BOUNDS,
        minDigits: [1, MAX_DIGITS],
        maxDigits: [1, MAX_DIGITS],
      },
    );
    checkRange("addition", "minDigits", c.minDigits, "maxDigits", c.maxDigits);
    super("addition", AdditionTask.description, c, makeVocabulary("0123456789+"));
  }

  protected sampleSource(rng: Generator): number[] {
    const a = this.operand(rng);
    const b = this.operand(rng);
    return encodeTokens(this.vocabulary, `${a}+${b}`);
  }

  /** "a+b" with two numbers of 1 to 15 digits (more would lose exactness in the sum). */
  protected override parseSource(text: string): number[] {
    if (!new RegExp(`^\\d{1,${MAX_DIGITS}}\\+\\d{1,${MAX_DIGITS}}$`).test(text)) {
      throw this.textError(text, `is not two numbers of 1 to ${MAX_DIGITS} digits joined by "+" (e.g. "123+45")`);
    }
    return super.parseSource(text);
  }

  private operand(rng: Generator): string {
    const digits = rng.randint(this.config.minDigits, this.config.maxDigits + 1);
    // Digit by digit: uniform over d-digit numbers without needing more than 32 random bits per draw.
    let text = String(digits === 1 ? rng.randint(0, 10) : rng.randint(1, 10));
    for (let i = 1; i < digits; i++) text += String(rng.randint(0, 10));
    return text;
  }

  protected answer(source: readonly number[]): number[] {
    const text = source.map((id) => this.vocabulary[id]!).join("");
    const [a, b] = text.split("+");
    return encodeTokens(this.vocabulary, String(Number(a) + Number(b)));
  }

  withLengths(min: number, max: number): AdditionTask {
    return new AdditionTask({ ...this.config, minDigits: min, maxDigits: max });
  }
}
