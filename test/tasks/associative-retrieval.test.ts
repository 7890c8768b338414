// The fast-weights associative retrieval task: the paper's exact format, answers, determinism,
// disjoint splits, fromText, withLengths and the metrics.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ASSOCIATIVE_RETRIEVAL_SYMBOLS, AssociativeRetrievalTask, createTask, type Batch } from "../../src/tasks/index.js";
import { plain } from "./helpers.js";

/** Row b of a batch as text (its own length) and its answer symbol. */
function rowText(task: AssociativeRetrievalTask, batch: Batch, b: number): { text: string; answer: string } {
  const T = batch.input.shape[1]!;
  const n = batch.inputLengths.data[b]!;
  const text = Array.from(batch.input.data.subarray(b * T, b * T + n), (id) => task.vocabulary[id]!).join("");
  return { text, answer: task.vocabulary[batch.target.data[b]!]! };
}

describe("associative-retrieval", () => {
  it("has the paper's 37 symbols after the contract's three specials", () => {
    const task = new AssociativeRetrievalTask();
    expect(ASSOCIATIVE_RETRIEVAL_SYMBOLS).toBe("abcdefghijklmnopqrstuvwxyz0123456789?");
    expect(task.vocabulary).toEqual(["<pad>", "<bos>", "<eos>", ...ASSOCIATIVE_RETRIEVAL_SYMBOLS]);
    expect([task.inputSize, task.outputSize, task.kind]).toEqual([40, 40, "qa"]);
    expect(task.config).toEqual({ seed: 0, minPairs: 4, maxPairs: 4 });
    expect(task.metricNames).toEqual(["accuracy", "error"]);
  });

  it("generates K distinct letters with digits, '??', and one of the letters; the target is its digit", () => {
    const task = new AssociativeRetrievalTask({ seed: 5, minPairs: 2, maxPairs: 8 });
    const seenK = new Set<number>();
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 64, 1);
      expect(batch.target.shape).toEqual([64, 1]);
      expect(Array.from(batch.mask.data)).toEqual(new Array<number>(64).fill(1));
      expect(Array.from(batch.targetLengths.data)).toEqual(new Array<number>(64).fill(1));
      const T = batch.input.shape[1]!;
      expect(T).toBe(Math.max(...batch.inputLengths.data));
      for (let b = 0; b < 64; b++) {
        const { text, answer } = rowText(task, batch, b);
        const match = /^((?:[a-z][0-9])+)\?\?([a-z])$/.exec(text);
        expect(match, text).not.toBeNull();
        const pairs = match![1]!.match(/../g)!;
        const K = pairs.length;
        seenK.add(K);
        expect(K).toBeGreaterThanOrEqual(2);
        expect(K).toBeLessThanOrEqual(8);
        expect(text.length).toBe(2 * K + 3);
        const keys = pairs.map((p) => p[0]!);
        expect(new Set(keys).size).toBe(K);
        expect(answer).toBe(pairs.find((p) => p[0] === match![2])![1]);
        // padding after the row is PAD
        for (let t = text.length; t < T; t++) expect(batch.input.data[b * T + t]).toBe(0);
      }
    }
    expect(seenK.size).toBeGreaterThan(4);
  });

  it("draws every letter as a key and query, and digits uniformly with repetition", () => {
    const task = new AssociativeRetrievalTask({ seed: 1, minPairs: 8, maxPairs: 8 });
    const batch = task.batch("train", 500, 0);
    const digits = new Array<number>(10).fill(0);
    const queries = new Set<string>();
    let repeats = 0;
    for (let b = 0; b < 500; b++) {
      const { text } = rowText(task, batch, b);
      const ds = Array.from(text.slice(0, 16)).filter((_, i) => i % 2 === 1);
      for (const d of ds) digits[Number(d)]!++;
      if (new Set(ds).size < ds.length) repeats++;
      queries.add(text[text.length - 1]!);
    }
    expect(queries.size).toBe(26);
    for (const count of digits) expect(Math.abs(count / 4000 - 0.1)).toBeLessThan(0.02);
    expect(repeats).toBeGreaterThan(400); // 8 digits out of 10 repeat one with probability 98%
  });

  it("is a pure function of (config, split, batch size, index), with disjoint splits", () => {
    const task = new AssociativeRetrievalTask({ seed: 2, minPairs: 1, maxPairs: 1 }); // 260 possible sequences
    expect(plain(new AssociativeRetrievalTask(task.config).batch("test", 7, 3))).toEqual(plain(task.batch("test", 7, 3)));
    const big = task.batch("train", 8, 1);
    const small = task.batch("train", 4, 3);
    for (let b = 0; b < 4; b++) expect(rowText(task, small, b)).toEqual(rowText(task, big, b + 4));
    expect(plain(task.batch("train", 8, 0))).not.toEqual(
      plain(new AssociativeRetrievalTask({ ...task.config, seed: 3 }).batch("train", 8, 0)),
    );
    const seen = { train: new Set<string>(), validation: new Set<string>(), test: new Set<string>() };
    for (const split of ["train", "validation", "test"] as const) {
      const batch = task.batch(split, 300, 0);
      for (let b = 0; b < 300; b++) seen[split].add(rowText(task, batch, b).text);
    }
    expect(seen.train.size).toBeGreaterThan(100);
    for (const key of seen.test) expect(seen.train.has(key) || seen.validation.has(key)).toBe(false);
    for (const key of seen.validation) expect(seen.train.has(key)).toBe(false);
  });

  it("pins the generated data", () => {
    const task = createTask("associative-retrieval", { seed: 0 }) as AssociativeRetrievalTask;
    const batch = task.batch("train", 3, 0);
    expect([0, 1, 2].map((b) => rowText(task, batch, b))).toMatchInlineSnapshot(`
      [
        {
          "answer": "1",
          "text": "u7e1x9o6??e",
        },
        {
          "answer": "0",
          "text": "i1p4c6b0??b",
        },
        {
          "answer": "0",
          "text": "y6b0w8d9??b",
        },
      ]
    `);
  });

  it("reads the paper's example with fromText", () => {
    const task = new AssociativeRetrievalTask();
    const batch = task.fromText("c9k8j3f1??c");
    expect(rowText(task, batch, 0)).toEqual({ text: "c9k8j3f1??c", answer: "9" });
    expect(batch.input.shape).toEqual([1, 11]);
    expect(Array.from(batch.inputLengths.data)).toEqual([11]);
    // any number of pairs, outside the configured range
    expect(rowText(task, task.fromText("a0??a"), 0).answer).toBe("0");
    expect(rowText(task, task.fromText("q1w2e3r4t5y6u7i8o9??o"), 0).answer).toBe("9");
  });

  it("rejects malformed text, naming the task", () => {
    const task = new AssociativeRetrievalTask();
    const cases: [unknown, RegExp][] = [
      ["c9k8j3f1??C", /^associative-retrieval\.fromText: "c9k8j3f1\?\?C" has "C", which is not a symbol of this task/],
      ["c9k8j3f1?c", /must be letter-digit pairs, then "\?\?", then a letter/],
      ["c9k8j3f1??", /must be letter-digit pairs/],
      ["??c", /must be letter-digit pairs/],
      ["", /must be letter-digit pairs/],
      ["c9kk??c", /must be letter-digit pairs/],
      ["c9c8??c", /uses the key "c" twice; keys must be distinct/],
      ["c9k8??z", /asks for "z", which is not one of its keys \(ck\)/],
      [42, /^associative-retrieval\.fromText: text must be a string/],
    ];
    for (const [text, message] of cases) {
      expect(() => task.fromText(text as string)).toThrow(eg.ArgumentError);
      expect(() => task.fromText(text as string)).toThrow(message);
    }
  });

  it("withLengths sets the pair range and validates it", () => {
    const task = new AssociativeRetrievalTask({ seed: 4 }).withLengths(8, 8);
    expect(task.config).toEqual({ seed: 4, minPairs: 8, maxPairs: 8 });
    expect(task.batch("test", 2, 0).input.shape).toEqual([2, 19]);
    expect(() => task.withLengths(5, 3)).toThrow(/^associative-retrieval: minPairs \(5\) must not exceed maxPairs \(3\)$/);
    expect(() => task.withLengths(1, 27)).toThrow(/^associative-retrieval: maxPairs must be an integer in \[1, 26\], got 27$/);
    expect(() => new AssociativeRetrievalTask({ pairs: 4 })).toThrow(/^associative-retrieval: unknown option "pairs"/);
  });

  it("scores ids, [B, 1, V] scores and [B, V] scores alike, and rejects other shapes", () => {
    const task = new AssociativeRetrievalTask({ seed: 6 });
    const batch = task.batch("validation", 4, 0);
    const ids = Array.from(batch.target.data);
    const predicted = [ids[0]!, ids[1]!, ids[2]! === 3 ? 4 : 3, 0];
    const scores = eg.zeros([4, 40]);
    predicted.forEach((id, b) => (scores.data[b * 40 + id] = 1));
    const expected = { accuracy: { sum: 2, count: 4 }, error: { sum: 2, count: 4 } };
    expect(task.evaluate(eg.tensor(predicted, { shape: [4, 1], dtype: "int32" }), batch)).toEqual(expected);
    expect(task.evaluate(scores, batch)).toEqual(expected);
    expect(task.evaluate(scores.reshape([4, 1, 40]), batch)).toEqual(expected);
    expect(() => task.evaluate(eg.zeros([4, 39]), batch)).toThrow(
      /^associative-retrieval\.evaluate: predictions \[4, 39\] must be scores \[4, 40\]/,
    );
  });

  it("is in the registry and trains with the QA models", () => {
    const task = createTask("associative-retrieval", { seed: 1, minPairs: 2, maxPairs: 3 });
    for (const name of ["fast-weights", "lstm-qa"]) {
      const { model } = eg.createModel(name, { hiddenSize: 8 }, task);
      const batch = task.batch("train", 4, 0);
      expect(Number.isFinite(model.loss(batch).item())).toBe(true);
      expect(task.evaluate(model.predict(batch), batch).accuracy?.count).toBe(4);
    }
  });
});
