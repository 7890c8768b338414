// Each task's targets are right, and lengths, masks and padding agree with each other.
import { describe, expect, it } from "vitest";
import { createTask, BOS, EOS, PAD, type Batch, type Task } from "../../src/tasks/index.js";
import { decodeBatch, row } from "./helpers.js";

const SPLITS = ["train", "validation", "test"] as const;

/** Every row of every split's first batch of 32. */
function eachRow(task: Task, check: (source: string, target: string) => void): void {
  for (const split of SPLITS) for (const { source, target } of decodeBatch(task, task.batch(split, 32, 0))) check(source, target);
}

/** Token-batch invariants shared by reverse, sort and addition. */
function checkTokenLayout(task: Task, batch: Batch): void {
  const [rows, tin] = batch.input.shape as [number, number];
  const tout = batch.target.shape[1]!;
  expect(batch.input.dtype).toBe("int32");
  expect(batch.target.dtype).toBe("int32");
  expect(batch.mask.dtype).toBe("float32");
  expect(batch.target.shape).toEqual([rows, tout]);
  expect(batch.decoderInput!.shape).toEqual([rows, tout]);
  expect(batch.mask.shape).toEqual([rows, tout]);
  const inLengths = Array.from(batch.inputLengths.data);
  const outLengths = Array.from(batch.targetLengths.data);
  expect(Math.max(...inLengths)).toBe(tin); // padded to the longest row, not beyond
  expect(Math.max(...outLengths)).toBe(tout);
  for (let b = 0; b < rows; b++) {
    const input = row(batch.input, b);
    const target = row(batch.target, b);
    const decoderInput = row(batch.decoderInput!, b);
    const mask = row(batch.mask, b);
    const n = outLengths[b]!;
    input.forEach((id, t) => (t < inLengths[b]! ? expect(id).toBeGreaterThan(EOS) : expect(id).toBe(PAD)));
    expect(target[n - 1]).toBe(EOS);
    target.forEach((id, t) => {
      expect(mask[t]).toBe(t < n ? 1 : 0);
      if (t < n - 1) expect(id).toBeGreaterThan(EOS);
      if (t >= n) expect(id).toBe(PAD);
    });
    expect(decoderInput).toEqual([BOS, ...target.slice(0, n - 1), ...new Array<number>(tout - n).fill(PAD)]);
    expect(mask.reduce((s, m) => s + m, 0)).toBe(n);
    for (const id of [...input, ...target]) expect(id).toBeLessThan(task.vocabulary.length);
  }
}

describe("reverse", () => {
  it("targets the source backwards, lengths in range, symbols from the alphabet", () => {
    const task = createTask("reverse", { seed: 4, minLength: 2, maxLength: 7, alphabetSize: 5 });
    eachRow(task, (source, target) => {
      expect(target).toBe([...source].reverse().join(""));
      expect(source.length).toBeGreaterThanOrEqual(2);
      expect(source.length).toBeLessThanOrEqual(7);
      expect(source).toMatch(/^[0-4]+$/);
    });
    for (const split of SPLITS) checkTokenLayout(task, task.batch(split, 16, 2));
  });

  it("has PAD, BOS, EOS then the symbols as its vocabulary", () => {
    const task = createTask("reverse", { alphabetSize: 12 });
    expect(task.vocabulary).toEqual(["<pad>", "<bos>", "<eos>", ..."0123456789ab"]);
    expect(task.vocabulary[PAD]).toBe("<pad>");
    expect(task.inputSize).toBe(15);
    expect(task.outputSize).toBe(15);
    expect(task.kind).toBe("tokens");
  });
});

describe("sort", () => {
  it("targets the source's symbols in ascending order, repeats kept", () => {
    const task = createTask("sort", { seed: 9, alphabetSize: 36, minLength: 1, maxLength: 12 });
    let sawRepeat = false;
    eachRow(task, (source, target) => {
      expect(target).toBe([...source].sort().join(""));
      if (new Set(source).size < source.length) sawRepeat = true;
    });
    expect(sawRepeat).toBe(true);
    checkTokenLayout(task, task.batch("train", 16, 0));
  });
});

describe("addition", () => {
  it("targets the decimal sum of the two operands", () => {
    const task = createTask("addition", { seed: 2, minDigits: 2, maxDigits: 6 });
    eachRow(task, (source, target) => {
      const match = /^(\d+)\+(\d+)$/.exec(source);
      expect(match).not.toBeNull();
      const [, a, b] = match!;
      for (const operand of [a!, b!]) {
        expect(operand.length).toBeGreaterThanOrEqual(2);
        expect(operand.length).toBeLessThanOrEqual(6);
        expect(operand[0]).not.toBe("0");
      }
      expect(target).toBe((BigInt(a!) + BigInt(b!)).toString());
    });
    checkTokenLayout(task, task.batch("validation", 16, 1));
  });

  it("stays exact at its 15-digit limit", () => {
    const task = createTask("addition", { seed: 1, minDigits: 15, maxDigits: 15 });
    eachRow(task, (source, target) => {
      const [a, b] = source.split("+");
      expect(target).toBe((BigInt(a!) + BigInt(b!)).toString());
    });
  });

  it("can produce single-digit zero operands", () => {
    const task = createTask("addition", { minDigits: 1, maxDigits: 1 });
    const sources = SPLITS.flatMap((split) => decodeBatch(task, task.batch(split, 64, 0)).map((r) => r.source));
    expect(sources.some((s) => s.startsWith("0+") || s.endsWith("+0"))).toBe(true);
  });
});

describe("copy", () => {
  it("lays out bits, delimiter, blank output phase and mask on one timeline", () => {
    const task = createTask("copy", { seed: 6, width: 5, minLength: 2, maxLength: 9 });
    for (const split of SPLITS) {
      const batch = task.batch(split, 12, 1);
      const [rows, steps, channels] = batch.input.shape as [number, number, number];
      expect(channels).toBe(6);
      expect(batch.target.shape).toEqual([rows, steps, 5]);
      expect(batch.mask.shape).toEqual([rows, steps]);
      const lengths = Array.from(batch.targetLengths.data);
      expect(steps).toBe(2 * Math.max(...lengths) + 1);
      const at = (t: Batch["input"], b: number, s: number, c: number): number => t.data[(b * steps + s) * t.shape[2]! + c]!;
      for (let b = 0; b < rows; b++) {
        const n = lengths[b]!;
        expect(n).toBeGreaterThanOrEqual(2);
        expect(n).toBeLessThanOrEqual(9);
        expect(batch.inputLengths.data[b]).toBe(2 * n + 1);
        for (let s = 0; s < steps; s++) {
          const output = s > n && s <= 2 * n;
          expect(batch.mask.data[b * steps + s]).toBe(output ? 1 : 0);
          expect(at(batch.input, b, s, 5)).toBe(s === n ? 1 : 0); // delimiter channel
          for (let c = 0; c < 5; c++) {
            const bit = at(batch.input, b, s, c);
            if (s < n) expect([0, 1]).toContain(bit);
            else expect(bit).toBe(0); // blank after the sequence
            // The target replays input step s - n - 1 during the output phase and is 0 elsewhere.
            expect(at(batch.target, b, s, c)).toBe(output ? at(batch.input, b, s - n - 1, c) : 0);
          }
        }
      }
    }
  });

  it("draws roughly balanced bits", () => {
    const batch = createTask("copy", { seed: 3 }).batch("train", 64, 0);
    let ones = 0;
    let count = 0;
    for (let i = 0; i < batch.target.size; i++) {
      if (batch.mask.data[Math.floor(i / 8)] === 0) continue;
      ones += batch.target.data[i]!;
      count++;
    }
    expect(ones / count).toBeGreaterThan(0.45);
    expect(ones / count).toBeLessThan(0.55);
  });

  it("describes itself as a bit task", () => {
    const task = createTask("copy", { width: 4 });
    expect(task.kind).toBe("bits");
    expect(task.vocabulary).toEqual([]);
    expect([task.inputSize, task.outputSize]).toEqual([5, 4]);
  });
});

describe("withLengths", () => {
  it("returns a variant with the new range and leaves the original alone", () => {
    const task = createTask("reverse", { seed: 8, minLength: 1, maxLength: 5 });
    const long = task.withLengths(11, 15);
    expect(long.config).toEqual({ ...task.config, minLength: 11, maxLength: 15 });
    expect(task.config.maxLength).toBe(5);
    for (const { source } of decodeBatch(long, long.batch("test", 32, 0))) {
      expect(source.length).toBeGreaterThanOrEqual(11);
      expect(source.length).toBeLessThanOrEqual(15);
    }
  });

  it("sets the digit range for addition and the vector count for copy", () => {
    const addition = createTask("addition").withLengths(4, 5);
    for (const { source } of decodeBatch(addition, addition.batch("test", 16, 0))) {
      for (const operand of source.split("+")) expect([4, 5]).toContain(operand.length);
    }
    const copy = createTask("copy").withLengths(20, 20);
    expect(Array.from(copy.batch("test", 3, 0).targetLengths.data)).toEqual([20, 20, 20]);
  });
});
