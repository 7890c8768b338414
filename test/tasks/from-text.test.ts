// fromText on every token task: user text becomes a one-example batch laid out like a generated one.
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { BOS, createTask, decodeTokens, EOS, PAD, taskNames, type Batch, type Task } from "../../src/tasks/index.js";
import { decodeBatch, row } from "./helpers.js";

const TOKEN_TASKS = taskNames().filter((name) => createTask(name).kind === "tokens");

/** Shapes, dtypes, padding, masks, lengths and the teacher-forcing input agree with each other. */
function checkLayout(task: Task, batch: Batch): void {
  const [rows, tin] = batch.input.shape as [number, number];
  const tout = batch.target.shape[1]!;
  expect([batch.input.dtype, batch.target.dtype, batch.decoderInput!.dtype, batch.mask.dtype]).toEqual([
    "int32",
    "int32",
    "int32",
    "float32",
  ]);
  expect(batch.target.shape).toEqual([rows, tout]);
  expect(batch.decoderInput!.shape).toEqual([rows, tout]);
  expect(batch.mask.shape).toEqual([rows, tout]);
  expect(batch.inputLengths.shape).toEqual([rows]);
  expect(batch.targetLengths.shape).toEqual([rows]);
  expect(Math.max(...Array.from(batch.inputLengths.data))).toBe(tin);
  expect(Math.max(...Array.from(batch.targetLengths.data))).toBe(tout);
  for (let b = 0; b < rows; b++) {
    const m = batch.inputLengths.data[b]!;
    const n = batch.targetLengths.data[b]!;
    const input = row(batch.input, b);
    const target = row(batch.target, b);
    input.forEach((id, t) => (t < m ? expect(id).toBeGreaterThan(EOS) : expect(id).toBe(PAD)));
    target.forEach((id, t) => {
      if (t < n - 1) expect(id).toBeGreaterThan(EOS);
      else expect(id).toBe(t === n - 1 ? EOS : PAD);
    });
    expect(row(batch.mask, b)).toEqual(target.map((_, t) => (t < n ? 1 : 0)));
    expect(row(batch.decoderInput!, b)).toEqual([BOS, ...target.slice(0, n - 1), ...new Array<number>(tout - n).fill(PAD)]);
    for (const id of [...input, ...target]) expect(id).toBeLessThan(task.vocabulary.length);
  }
}

describe("fromText", () => {
  it("covers every token task", () => {
    expect(TOKEN_TASKS).toEqual(expect.arrayContaining(["reverse", "sort", "addition", "dates", "number-words", "copy-distractors"]));
  });

  for (const name of TOKEN_TASKS) {
    it(`${name}: the text of a generated example rebuilds that example's row`, () => {
      const task = createTask(name, { seed: 12 });
      const batch = task.batch("validation", 12, 0);
      checkLayout(task, batch);
      decodeBatch(task, batch).forEach(({ source, target }, b) => {
        const one = task.fromText!(source);
        checkLayout(task, one);
        expect(one.input.shape[0]).toBe(1);
        expect(Array.from(one.input.data)).toEqual(row(batch.input, b, batch.inputLengths.data[b]));
        expect(Array.from(one.target.data)).toEqual(row(batch.target, b, batch.targetLengths.data[b]));
        expect(decodeTokens(task.vocabulary, one.target.data)).toBe(target);
      });
    });

    it(`${name}: rejects a non-string and empty text, naming the task`, () => {
      const task = createTask(name);
      expect(() => task.fromText!(42 as unknown as string)).toThrow(
        new ArgumentError(`${name}.fromText: text must be a string, got number 42`),
      );
      expect(() => task.fromText!("")).toThrow(ArgumentError);
      expect(() => task.fromText!("")).toThrow(new RegExp(`^${name}\\.fromText: "" `));
    });
  }

  it("reverse and sort read one symbol per character, any length", () => {
    const reverse = createTask("reverse");
    expect(decodeTokens(reverse.vocabulary, reverse.fromText!("3141").target.data)).toBe("1413");
    const long = "0123456789".repeat(5);
    expect(decodeTokens(reverse.vocabulary, reverse.fromText!(long).target.data)).toBe([...long].reverse().join(""));
    const sort = createTask("sort", { alphabetSize: 12 });
    expect(decodeTokens(sort.vocabulary, sort.fromText!("b3a3").target.data)).toBe("33ab");
    expect(() => reverse.fromText!("31a4")).toThrow(
      'reverse.fromText: "31a4" has "a", which is not a symbol of this task (symbols: 0123456789)',
    );
  });

  it("addition reads a+b", () => {
    const task = createTask("addition");
    const batch = task.fromText!("123+45");
    expect(decodeTokens(task.vocabulary, batch.input.data)).toBe("123+45");
    expect(decodeTokens(task.vocabulary, batch.target.data)).toBe("168");
    for (const bad of ["12*3", "1++2", "+", "1+2+3", "12", "1234567890123456+1"]) {
      expect(() => task.fromText!(bad)).toThrow(
        `addition.fromText: ${JSON.stringify(bad)} is not two numbers of 1 to 15 digits joined by "+" (e.g. "123+45")`,
      );
    }
  });

  it("bit tasks have no text notation", () => {
    expect("fromText" in createTask("copy")).toBe(false);
  });
});
