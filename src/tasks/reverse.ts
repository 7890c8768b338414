import { SymbolSequenceTask } from "./sequence-task.js";

/**
 * reverse: read a symbol string, write it backwards (seq2seq with BOS/EOS).
 *
 * Config (defaults): seed 0, minLength 1, maxLength 10, alphabetSize 10 (symbols are the first
 * alphabetSize of 0-9a-z, drawn uniformly with repetition). Example: input "3141" -> target
 * "1413" then EOS; decoderInput is BOS "141".
 */
export class ReverseTask extends SymbolSequenceTask {
  static readonly description = "reverse a random symbol string (seq2seq, lengths minLength..maxLength)";

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    super("reverse", ReverseTask.description, config);
  }

  protected answer(source: readonly number[]): number[] {
    return [...source].reverse();
  }

  withLengths(min: number, max: number): ReverseTask {
    return new ReverseTask({ ...this.config, minLength: min, maxLength: max });
  }
}
