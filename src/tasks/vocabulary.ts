/** Token vocabularies of the synthetic token tasks: three special tokens, then one-character symbols. */
import { ArgumentError } from "../core/errors.js";

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const SPECIAL_TOKENS: readonly string[] = ["<pad>", "<bos>", "<eos>"];

/** The symbols reverse and sort draw from, in sort order: digits, then lowercase letters. */
export const SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz";

/** PAD, BOS, EOS followed by the given one-character symbols (symbol i gets id 3 + i). */
export function makeVocabulary(symbols: string): readonly string[] {
  return [...SPECIAL_TOKENS, ...symbols];
}

/** Ids of a string of one-character symbols. */
export function encodeTokens(vocabulary: readonly string[], text: string): number[] {
  return Array.from(text, (ch) => {
    const id = vocabulary.indexOf(ch, SPECIAL_TOKENS.length);
    if (id < 0) throw new ArgumentError(`encodeTokens: "${ch}" is not in the vocabulary`);
    return id;
  });
}

/** The text of a row of ids, stopping at EOS and skipping PAD and BOS; unknown ids show as "?". */
export function decodeTokens(vocabulary: readonly string[], ids: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id === EOS) break;
    if (id === PAD || id === BOS) continue;
    out += vocabulary[id] ?? "?";
  }
  return out;
}
