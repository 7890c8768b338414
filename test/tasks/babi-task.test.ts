// The babi task: config, batches (story truncation, padding, vocabulary), splits and metrics.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { ArgumentError, ShapeError } from "../../src/core/errors.js";
import { createTask } from "../../src/tasks/registry.js";
import { BabiTask } from "../../src/tasks/babi/task.js";
import { tokenize } from "../../src/tasks/babi/reader.js";

function words(task: BabiTask, ids: ArrayLike<number>): string[] {
  return Array.from(ids)
    .filter((id) => id !== 0)
    .map((id) => task.vocabulary[id]!);
}

describe("babi task", () => {
  const task = createTask("babi", { seed: 3, taskId: 1 }) as BabiTask;

  it("has the documented defaults and rebuilds from its config", () => {
    expect(createTask("babi").config).toEqual({ seed: 0, taskId: 1, size: 1000, memorySize: 50 });
    expect(task.kind).toBe("qa");
    expect(task.metricNames).toEqual(["accuracy", "error"]);
    const again = createTask("babi", JSON.parse(JSON.stringify(task.config)) as Record<string, number>);
    expect(Array.from(again.batch("train", 4, 7).input.data)).toEqual(Array.from(task.batch("train", 4, 7).input.data));
  });

  it("validates its config, naming the task", () => {
    expect(() => createTask("babi", { taskId: 5 })).toThrow(/^babi: bAbI task 5 is not generated; implemented task types are/);
    expect(() => createTask("babi", { taskId: 21 })).toThrow(/^babi: taskId must be an integer in \[1, 20\], got 21$/);
    expect(() => createTask("babi", { size: 5 })).toThrow(/^babi: size must be an integer in \[10, 100000\]/);
    expect(() => createTask("babi", { memorysize: 5 })).toThrow(/did you mean "memorySize"/);
    expect(() => task.withLengths(1, 2)).toThrow(ArgumentError);
  });

  it("splits 1k into 900 training, 100 validation and 1000 test questions, and 10k into 9000/1000/1000", () => {
    expect([task.size("train"), task.size("validation"), task.size("test")]).toEqual([900, 100, 1000]);
    const big = createTask("babi", { taskId: 1, size: 10000 }) as BabiTask;
    expect([big.size("train"), big.size("validation"), big.size("test")]).toEqual([9000, 1000, 1000]);
  });

  it("keeps every story prefix in one split", () => {
    const key = (s: readonly string[]): string => s.map((x) => tokenize(x).join(" ")).join("|");
    const test = new Set(task.examples.test.map((e) => key(e.sentences)));
    const validation = new Set(task.examples.validation.map((e) => key(e.sentences)));
    for (const e of task.examples.train) {
      expect(test.has(key(e.sentences))).toBe(false);
      expect(validation.has(key(e.sentences))).toBe(false);
    }
    for (const k of validation) expect(test.has(k)).toBe(false);
  });

  it("lays out a batch: sentences oldest first, PAD after, the query and the answer id", () => {
    const batch = task.batch("validation", 5, 2);
    const [B, S, W] = batch.input.shape as [number, number, number];
    expect(B).toBe(5);
    expect(W).toBe(task.sentenceLength);
    expect(batch.query!.shape).toEqual([5, W]);
    expect(batch.target.shape).toEqual([5, 1]);
    expect(batch.mask.shape).toEqual([5, 1]);
    expect(batch.input.dtype).toBe("int32");
    for (let b = 0; b < B; b++) {
      const example = task.examples.validation[10 + b]!;
      const n = batch.inputLengths.data[b]!;
      expect(n).toBe(example.sentences.length);
      expect(S).toBeGreaterThanOrEqual(n);
      for (let s = 0; s < S; s++) {
        const row = batch.input.data.subarray((b * S + s) * W, (b * S + s + 1) * W);
        expect(words(task, row)).toEqual(s < n ? tokenize(example.sentences[s]!) : []);
      }
      expect(words(task, batch.query!.data.subarray(b * W, (b + 1) * W))).toEqual(tokenize(example.question));
      expect(task.vocabulary[batch.target.data[b]!]).toBe(example.answer);
      expect(batch.mask.data[b]).toBe(1);
    }
    expect(task.vocabulary.slice(0, 3)).toEqual(["<pad>", "<bos>", "<eos>"]);
  });

  it("keeps only the last memorySize sentences of a story", () => {
    const long = createTask("babi", { taskId: 3, memorySize: 6, size: 100 }) as BabiTask;
    const full = createTask("babi", { taskId: 3, memorySize: 1000, size: 100 }) as BabiTask;
    const batch = long.batch("test", 16, 0);
    expect(batch.input.shape[1]).toBe(6);
    let cut = 0;
    long.examples.test.forEach((e, i) => {
      const whole = full.examples.test[i]!;
      expect(e.question).toBe(whole.question);
      expect(e.sentences).toEqual(whole.sentences.slice(-6));
      if (whole.sentences.length > 6) cut++;
    });
    expect(cut).toBeGreaterThan(100);
  });

  it("counts each validation and test question exactly once over ceil(n / batchSize) batches", () => {
    let counted = 0;
    for (let i = 0; i < Math.ceil(1000 / 32); i++) counted += eg.sum(task.batch("test", 32, i).mask).item();
    expect(counted).toBe(1000);
    const past = task.batch("validation", 32, 3); // rows 96..127 of 100
    expect(Array.from(past.mask.data)).toEqual([1, 1, 1, 1, ...new Array<number>(28).fill(0)]);
    expect(Array.from(past.targetLengths.data)).toEqual(Array.from(past.mask.data));
  });

  it("visits every training question once per epoch, in a different seeded order each epoch", () => {
    const epoch = (e: number): number[] => Array.from({ length: 900 }, (_, r) => task.exampleIndex("train", e * 900 + r).index);
    const first = epoch(0);
    expect([...first].sort((a, b) => a - b)).toEqual(Array.from({ length: 900 }, (_, i) => i));
    expect(epoch(1)).not.toEqual(first);
    expect(epoch(0)).toEqual(first);
  });

  it("scores ids and scores of either layout", () => {
    const batch = task.batch("test", 4, 0);
    const V = task.vocabulary.length;
    const target = Array.from(batch.target.data);
    const ids = eg.tensor([[target[0]!], [target[1]!], [0], [target[3]!]], { dtype: "int32" });
    expect(eg.tasks.summarize(task.evaluate(ids, batch))).toEqual({ accuracy: 0.75, error: 0.25 });
    const scores = eg.zeros([4, V]);
    target.forEach((t, b) => (scores.data[b * V + (b === 0 ? 3 : t)] = 5));
    expect(eg.tasks.summarize(task.evaluate(scores, batch))).toEqual({ accuracy: 0.75, error: 0.25 });
    expect(eg.tasks.summarize(task.evaluate(eg.reshape(scores, [4, 1, V]), batch))).toEqual({ accuracy: 0.75, error: 0.25 });
    expect(() => task.evaluate(eg.zeros([4, V + 1]), batch)).toThrow(ShapeError);
    expect(() => task.evaluate(eg.zeros([4, V + 1]), batch)).toThrow(/^babi\.evaluate: predictions \[4, \d+\] must be scores/);
  });

  it("builds every generated task type", () => {
    for (const taskId of eg.tasks.BABI_TASK_IDS) {
      const t = createTask("babi", { taskId, size: 100 }) as BabiTask;
      const b = t.batch("train", 2, 0);
      expect(b.input.shape[2]).toBe(t.sentenceLength);
      expect(t.vocabulary.length).toBe(new Set(t.vocabulary).size);
    }
  });
});
