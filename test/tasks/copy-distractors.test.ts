// copy-distractors: key, distractors from another alphabet, marker; the target is the key.
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { CopyDistractorsTask, decodeTokens, type Split } from "../../src/tasks/index.js";
import { decodeBatch, plain } from "./helpers.js";

const SPLITS: readonly Split[] = ["train", "validation", "test"];

describe("copy-distractors", () => {
  it("puts the key first, then distractors from their own alphabet, then the marker; the target is the key", () => {
    const task = new CopyDistractorsTask({
      seed: 2,
      minKeyLength: 2,
      maxKeyLength: 5,
      minDistractors: 3,
      maxDistractors: 30,
      keyAlphabetSize: 4,
      distractorAlphabetSize: 12,
    });
    const keyLengths = new Set<number>();
    const distractorCounts = new Set<number>();
    for (const split of SPLITS) {
      for (const { source, target } of decodeBatch(task, task.batch(split, 40, 1))) {
        const match = /^([a-d]+)([0-9AB]*)=$/.exec(source);
        expect(match, source).not.toBeNull();
        const [, key, distractors] = match!;
        expect(target).toBe(key);
        keyLengths.add(key!.length);
        distractorCounts.add(distractors!.length);
      }
    }
    expect([...keyLengths].sort()).toEqual([2, 3, 4, 5]);
    expect(Math.min(...distractorCounts)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...distractorCounts)).toBeLessThanOrEqual(30);
    expect(distractorCounts.size).toBeGreaterThan(15);
  });

  it("sets the number of distractors with withLengths, keeping the key's range", () => {
    const task = new CopyDistractorsTask({ seed: 1 }).withLengths(50, 50);
    expect(task.config).toMatchObject({ minKeyLength: 1, maxKeyLength: 4, minDistractors: 50, maxDistractors: 50 });
    const batch = task.batch("validation", 16, 0);
    for (const { source, target } of decodeBatch(task, batch)) {
      expect(source).toHaveLength(target.length + 50 + 1);
      expect(source.startsWith(target)).toBe(true);
    }
    // The input is as long as the longest row, and no longer.
    expect(batch.input.shape[1]).toBe(Math.max(...Array.from(batch.inputLengths.data)));
    expect(() => task.withLengths(7, 6)).toThrow(/^copy-distractors: minDistractors \(7\) must not exceed maxDistractors \(6\)$/);
  });

  it("allows no distractors at all", () => {
    const task = new CopyDistractorsTask({ seed: 3 }).withLengths(0, 0);
    for (const { source, target } of decodeBatch(task, task.batch("train", 8, 0))) expect(source).toBe(`${target}=`);
  });

  it("has PAD, BOS, EOS, key symbols, distractor symbols and the marker as its vocabulary", () => {
    const task = new CopyDistractorsTask({ keyAlphabetSize: 3, distractorAlphabetSize: 12 });
    expect(task.vocabulary).toEqual(["<pad>", "<bos>", "<eos>", ..."abc", ..."0123456789AB", "="]);
  });

  it("is deterministic and keeps splits disjoint on a small example space", () => {
    const config = {
      seed: 6,
      minKeyLength: 1,
      maxKeyLength: 2,
      minDistractors: 0,
      maxDistractors: 2,
      keyAlphabetSize: 2,
      distractorAlphabetSize: 2,
    };
    const task = new CopyDistractorsTask(config);
    expect(plain(new CopyDistractorsTask(task.config).batch("test", 8, 4))).toEqual(plain(task.batch("test", 8, 4)));
    // (2 + 4) keys x (1 + 2 + 4) distractor runs = 42 sources.
    const seen = SPLITS.map((split) => new Set(decodeBatch(task, task.batch(split, 150, 0)).map((r) => r.source)));
    expect(seen[0]!.size).toBeGreaterThan(20);
    for (const s of seen[2]!) expect(seen[0]!.has(s) || seen[1]!.has(s)).toBe(false);
    for (const s of seen[1]!) expect(seen[0]!.has(s)).toBe(false);
  });

  it("reads text in its notation and rejects anything else", () => {
    const task = new CopyDistractorsTask();
    expect(decodeTokens(task.vocabulary, task.fromText("cab41703=").target.data)).toBe("cab");
    expect(decodeTokens(task.vocabulary, task.fromText("h=").target.data)).toBe("h");
    const cases: [string, string][] = [
      ["cab417", 'copy-distractors.fromText: "cab417" must end with the marker "=", and have no other'],
      ["ca=b=", 'copy-distractors.fromText: "ca=b=" must end with the marker "=", and have no other'],
      ["=", 'copy-distractors.fromText: "=" must start with a key (symbols abcdefgh)'],
      ["41ab=", 'copy-distractors.fromText: "41ab=" must start with a key (symbols abcdefgh)'],
      ["ab4c=", 'copy-distractors.fromText: "ab4c=" has key symbol "c" after a distractor; the key comes first'],
      ["ab4z=", 'copy-distractors.fromText: "ab4z=" has "z", which is neither a key symbol (abcdefgh) nor a distractor (01234567)'],
      ["ab9=", 'copy-distractors.fromText: "ab9=" has "9", which is neither a key symbol (abcdefgh) nor a distractor (01234567)'],
    ];
    for (const [text, message] of cases) {
      expect(() => task.fromText(text)).toThrow(ArgumentError);
      expect(() => task.fromText(text)).toThrow(message);
    }
  });

  it("validates its config", () => {
    expect(() => new CopyDistractorsTask({ keyAlphabetSize: 27 })).toThrow(
      /^copy-distractors: keyAlphabetSize must be an integer in \[2, 26\], got 27$/,
    );
    expect(() => new CopyDistractorsTask({ minKeyLength: 3, maxKeyLength: 2 })).toThrow(
      /^copy-distractors: minKeyLength \(3\) must not exceed maxKeyLength \(2\)$/,
    );
    expect(() => new CopyDistractorsTask({ distractors: 3 })).toThrow(/^copy-distractors: unknown option "distractors"/);
  });
});
