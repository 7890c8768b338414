// number-words: targets read back to their source number, with a parser written independently here.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { decodeTokens, numberToWords, NumberWordsTask, type Split } from "../../src/tasks/index.js";
import { decodeBatch, plain, row } from "./helpers.js";

const SPLITS: readonly Split[] = ["train", "validation", "test"];
const SMALL =
  "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(
    " ",
  );
const TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split(" ");
const SCALE: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };

/** English short-scale words back to a number (throws on words out of place), as BigInt so nothing rounds. */
function wordsToNumber(words: readonly string[]): bigint {
  let total = 0n;
  let group = 0n;
  let lastScale = Infinity;
  for (const word of words) {
    if (SMALL.includes(word)) group += BigInt(SMALL.indexOf(word));
    else if (TENS.includes(word)) group += BigInt(TENS.indexOf(word) * 10);
    else if (word === "hundred") group *= 100n;
    else if (word in SCALE) {
      // Scales fall strictly, each group below a thousand.
      if (SCALE[word]! >= lastScale || group === 0n || group >= 1000n) throw new Error(`misplaced ${word} in ${words.join(" ")}`);
      lastScale = SCALE[word]!;
      total += group * BigInt(SCALE[word]!);
      group = 0n;
    } else throw new Error(`unknown word ${word}`);
  }
  return total + group;
}

/** Target words of every row, decoded one token per word. */
function targetWords(task: NumberWordsTask, text: string): string {
  const batch = task.fromText(text);
  return Array.from(batch.target.data.subarray(0, batch.targetLengths.data[0]! - 1), (id) => task.vocabulary[id]!).join(" ");
}

describe("number-words", () => {
  it("writes known numbers in short-scale words, no 'and', no hyphens", () => {
    const task = new NumberWordsTask();
    const cases: [string, string][] = [
      ["0", "zero"],
      ["7", "seven"],
      ["13", "thirteen"],
      ["20", "twenty"],
      ["45", "forty five"],
      ["100", "one hundred"],
      ["101", "one hundred one"],
      ["110", "one hundred ten"],
      ["1000", "one thousand"],
      ["1234", "one thousand two hundred thirty four"],
      ["90017", "ninety thousand seventeen"],
      ["1000000", "one million"],
      ["1002003", "one million two thousand three"],
      ["1000000000000", "one trillion"],
      [
        "999999999999999",
        "nine hundred ninety nine trillion nine hundred ninety nine billion nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine",
      ],
    ];
    for (const [digits, words] of cases) expect(targetWords(task, digits)).toBe(words);
  });

  it("reads every generated target back to its source number, digit counts in range", () => {
    const task = new NumberWordsTask({ seed: 5, minDigits: 1, maxDigits: 15 });
    const counts = new Set<number>();
    for (const split of SPLITS) {
      const batch = task.batch(split, 64, 0);
      for (let b = 0; b < 64; b++) {
        const source = decodeTokens(task.vocabulary, row(batch.input, b));
        const words = row(batch.target, b, batch.targetLengths.data[b]! - 1).map((id) => task.vocabulary[id]!);
        expect(source).toMatch(/^(0|[1-9]\d*)$/);
        counts.add(source.length);
        expect(wordsToNumber(words)).toBe(BigInt(source));
        for (const id of row(batch.input, b, batch.inputLengths.data[b])) expect(task.vocabulary[id]).toMatch(/^\d$/);
      }
    }
    expect(counts.size).toBeGreaterThan(10);
  });

  it("numberToWords inverts for any number below 10^15", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }), (n) => wordsToNumber(numberToWords(Number(n))) === n),
      { seed: 42, numRuns: 2000 },
    );
  });

  it("sets the digit range with withLengths", () => {
    const task = new NumberWordsTask({ seed: 1 }).withLengths(5, 5);
    expect(task.config).toMatchObject({ minDigits: 5, maxDigits: 5 });
    for (const { source } of decodeBatch(task, task.batch("test", 32, 0))) expect(source).toMatch(/^[1-9]\d{4}$/);
    expect(() => task.withLengths(0, 3)).toThrow(/^number-words: minDigits must be an integer in \[1, 15\], got 0$/);
    expect(() => task.withLengths(3, 16)).toThrow(/^number-words: maxDigits must be an integer in \[1, 15\], got 16$/);
  });

  it("has digits then one token per word as its vocabulary", () => {
    const task = new NumberWordsTask();
    expect(task.vocabulary.slice(0, 13)).toEqual(["<pad>", "<bos>", "<eos>", ..."0123456789"]);
    expect(task.vocabulary).toHaveLength(3 + 10 + 33);
    expect(new Set(task.vocabulary).size).toBe(task.vocabulary.length);
    expect(task.vocabulary).toContain("trillion");
  });

  it("is deterministic and keeps splits disjoint over the 100 one- and two-digit numbers", () => {
    const task = new NumberWordsTask({ seed: 8, minDigits: 1, maxDigits: 2 });
    expect(plain(new NumberWordsTask(task.config).batch("train", 16, 3))).toEqual(plain(task.batch("train", 16, 3)));
    const seen = SPLITS.map((split) => new Set(decodeBatch(task, task.batch(split, 100, 0)).map((r) => r.source)));
    expect(seen[0]!.size).toBeGreaterThan(40);
    expect(seen[0]!.size + seen[1]!.size + seen[2]!.size).toBeLessThanOrEqual(100);
    for (const n of seen[2]!) expect(seen[0]!.has(n) || seen[1]!.has(n)).toBe(false);
    for (const n of seen[1]!) expect(seen[0]!.has(n)).toBe(false);
  });

  it("rejects text that is not a plain whole number of at most 15 digits", () => {
    const task = new NumberWordsTask();
    const cases: [string, string][] = [
      ["", 'number-words.fromText: "" is not a whole number written in digits (e.g. "1234")'],
      ["12a", 'number-words.fromText: "12a" is not a whole number written in digits'],
      ["-5", 'number-words.fromText: "-5" is not a whole number written in digits'],
      ["1,234", 'number-words.fromText: "1,234" is not a whole number written in digits'],
      ["0123", 'number-words.fromText: "0123" has a leading zero'],
      ["1000000000000000", 'number-words.fromText: "1000000000000000" has 16 digits; at most 15 (numbers below 10^15)'],
    ];
    for (const [text, message] of cases) {
      expect(() => task.fromText(text)).toThrow(ArgumentError);
      expect(() => task.fromText(text)).toThrow(message);
    }
  });
});
