import { SymbolSequenceTask } from "./sequence-task.js";

/**
 * sort: read a symbol string, write its symbols in ascending order (0-9 before a-z; repeats kept).
 *
 * Config (defaults): seed 0, minLength 1, maxLength 10, alphabetSize 10 (symbols are the first
 * alphabetSize of 0-9a-z, drawn uniformly with repetition). Example: input "b3a3" -> target "33ab"
 * then EOS.
 */
export class SortTask extends SymbolSequenceTask {
  static readonly description = "sort a random symbol string ascending (seq2seq, lengths minLength..maxLength)";

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    super("sort", SortTask.description, config);
  }

  protected answer(source: readonly number[]): number[] {
    // Symbol ids follow the symbols' order, so sorting ids sorts the symbols.
    return [...source].sort((a, b) => a - b);
  }

  withLengths(min: number, max: number): SortTask {
    return new SortTask({ ...this.config, minLength: min, maxLength: max });
  }
}
