// Batches are pure functions of (config, split, batch size, index), and splits never share an example.
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { createTask, taskNames, type Split } from "../../src/tasks/index.js";
import { decodeBatch, exampleKey, plain } from "./helpers.js";

const SMALL: Record<string, Record<string, number>> = {
  copy: { width: 3, minLength: 1, maxLength: 2 }, // 8 + 64 distinct sequences
  reverse: { alphabetSize: 2, minLength: 1, maxLength: 5 }, // 62
  sort: { alphabetSize: 3, minLength: 1, maxLength: 3 }, // 39
  addition: { minDigits: 1, maxDigits: 1 }, // 100
};

describe("task determinism", () => {
  for (const name of taskNames()) {
    describe(name, () => {
      it("regenerates the same batch from a fresh task with the same config", () => {
        const a = createTask(name, { seed: 7 });
        const b = createTask(name, a.config);
        for (const split of ["train", "validation", "test"] as const) {
          expect(plain(b.batch(split, 5, 3))).toEqual(plain(a.batch(split, 5, 3)));
        }
        // Generating other batches in between changes nothing: no hidden stream state.
        const first = plain(a.batch("train", 4, 0));
        a.batch("train", 4, 1);
        a.batch("test", 9, 0);
        expect(plain(a.batch("train", 4, 0))).toEqual(first);
      });

      it("gives different batches for other indices, splits and seeds", () => {
        const task = createTask(name, { seed: 1 });
        const base = plain(task.batch("train", 6, 0));
        expect(plain(task.batch("train", 6, 1))).not.toEqual(base);
        expect(plain(task.batch("validation", 6, 0))).not.toEqual(base);
        expect(plain(task.batch("test", 6, 0))).not.toEqual(base);
        expect(plain(createTask(name, { seed: 2 }).batch("train", 6, 0))).not.toEqual(base);
      });

      it("numbers examples across batches, so batch size does not change the data stream", () => {
        const task = createTask(name, { seed: 3 });
        const big = task.batch("train", 8, 1); // examples 8..15
        const small = task.batch("train", 4, 3); // examples 12..15
        for (let b = 0; b < 4; b++) expect(exampleKey(task, small, b)).toBe(exampleKey(task, big, b + 4));
      });

      it("keeps train, validation and test disjoint on a small example space", () => {
        const task = createTask(name, { seed: 5, ...SMALL[name] });
        const seen: Record<Split, Set<string>> = { train: new Set(), validation: new Set(), test: new Set() };
        for (const split of ["train", "validation", "test"] as const) {
          for (let i = 0; i < 10; i++) {
            const batch = task.batch(split, 20, i);
            for (let b = 0; b < 20; b++) seen[split].add(exampleKey(task, batch, b));
          }
        }
        // 200 draws per split cover most of each split's share, so a leak would show.
        expect(seen.train.size).toBeGreaterThan(20);
        expect(seen.test.size).toBeGreaterThan(1);
        for (const key of seen.test) {
          expect(seen.train.has(key)).toBe(false);
          expect(seen.validation.has(key)).toBe(false);
        }
        for (const key of seen.validation) expect(seen.train.has(key)).toBe(false);
      });
    });
  }

  it("keeps a split's membership when only the seed changes (evaluating with another seed cannot leak)", () => {
    const trained = createTask("reverse", { seed: 11, ...SMALL.reverse });
    const other = createTask("reverse", { seed: 12, ...SMALL.reverse });
    const train = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const batch = trained.batch("train", 20, i);
      for (let b = 0; b < 20; b++) train.add(exampleKey(trained, batch, b));
    }
    const test = other.batch("test", 50, 0);
    for (let b = 0; b < 50; b++) expect(train.has(exampleKey(other, test, b))).toBe(false);
  });

  it("says so when a split owns none of a tiny example space", () => {
    // Two possible examples cannot fill three splits, so at least one split is empty.
    const task = createTask("reverse", { alphabetSize: 2, minLength: 1, maxLength: 1 });
    const failures = (["train", "validation", "test"] as const).filter((split) => {
      try {
        task.batch(split, 1, 0);
        return false;
      } catch (e) {
        expect(e).toBeInstanceOf(ArgumentError);
        expect((e as Error).message).toMatch(new RegExp(`^reverse: no ${split} example found`));
        return true;
      }
    });
    expect(failures.length).toBeGreaterThan(0);
  });

  it("pins the generated data, so a checkpoint resumes on the same stream across versions", () => {
    // If generation changes on purpose, update these strings and say so in the changelog.
    const reverse = createTask("reverse", { seed: 0 });
    const addition = createTask("addition", { seed: 0 });
    expect(decodeBatch(reverse, reverse.batch("train", 3, 0))).toMatchInlineSnapshot(`
      [
        {
          "source": "09311820",
          "target": "02811390",
        },
        {
          "source": "12515",
          "target": "51521",
        },
        {
          "source": "615",
          "target": "516",
        },
      ]
    `);
    expect(decodeBatch(addition, addition.batch("test", 3, 0))).toMatchInlineSnapshot(`
      [
        {
          "source": "8+9",
          "target": "17",
        },
        {
          "source": "8+9",
          "target": "17",
        },
        {
          "source": "1+436",
          "target": "437",
        },
      ]
    `);
  });
});
