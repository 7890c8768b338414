// The task registry, config validation and "did you mean" hints.
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { editDistance, suggest } from "../../src/core/suggest.js";
import { createTask, taskInfo, taskNames, type Split } from "../../src/tasks/index.js";

describe("task registry", () => {
  it("lists the tasks with descriptions and defaults", () => {
    expect(taskNames().slice(0, 4)).toEqual(["copy", "reverse", "sort", "addition"]);
    expect(new Set(taskNames()).size).toBe(taskNames().length);
    for (const info of taskInfo()) {
      expect(info.description.length).toBeGreaterThan(20);
      expect(info.defaults.seed).toBe(0);
      // The defaults are exactly the config of a task built without overrides.
      expect(createTask(info.name).config).toEqual(info.defaults);
      expect(createTask(info.name).name).toBe(info.name);
    }
  });

  it("rebuilds a task from its JSON config", () => {
    const task = createTask("copy", { seed: 12, width: 3, maxLength: 4 });
    const json = JSON.parse(JSON.stringify(task.config)) as Record<string, number>;
    const again = createTask(task.name, json);
    expect(again.config).toEqual(task.config);
    expect(Array.from(again.batch("train", 3, 2).input.data)).toEqual(Array.from(task.batch("train", 3, 2).input.data));
  });

  it("suggests the closest name for an unknown task", () => {
    expect(() => createTask("revrse")).toThrow(ArgumentError);
    expect(() => createTask("revrse")).toThrow(
      `createTask: unknown task "revrse" (did you mean "reverse"?); tasks are ${taskNames().join(", ")}`,
    );
    expect(() => createTask("sotr")).toThrow(/did you mean "sort"/);
    expect(() => createTask("translate")).toThrow(/^createTask: unknown task "translate"; tasks are/);
    // Object.prototype members are not tasks.
    expect(() => createTask("toString")).toThrow(ArgumentError);
  });
});

describe("task config validation", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["reverse", { minLength: 5, maxLength: 3 }, /^reverse: minLength \(5\) must not exceed maxLength \(3\)$/],
    ["copy", { minLength: 4, maxLength: 2 }, /^copy: minLength \(4\) must not exceed maxLength \(2\)$/],
    ["addition", { minDigits: 3, maxDigits: 2 }, /^addition: minDigits \(3\) must not exceed maxDigits \(2\)$/],
    ["addition", { maxDigits: 16 }, /^addition: maxDigits must be an integer in \[1, 15\], got 16$/],
    ["sort", { alphabetSize: 37 }, /^sort: alphabetSize must be an integer in \[2, 36\], got 37$/],
    ["sort", { minLength: 0 }, /^sort: minLength must be an integer/],
    ["copy", { width: 2.5 }, /^copy: width must be an integer/],
    ["copy", { width: "8" }, /^copy: width must be an integer in \[1, 1024\], got "8"$/],
    ["reverse", { seed: -1 }, /^reverse: seed must be an integer/],
    [
      "reverse",
      { maxLenght: 20 },
      /^reverse: unknown option "maxLenght" \(did you mean "maxLength"\?\); options are seed, minLength, maxLength, alphabetSize$/,
    ],
    ["addition", { digits: 4 }, /^addition: unknown option "digits"/],
  ];
  for (const [name, config, message] of cases) {
    it(`${name} ${JSON.stringify(config)}`, () => {
      expect(() => createTask(name, config)).toThrow(ArgumentError);
      expect(() => createTask(name, config)).toThrow(message);
    });
  }

  it("validates withLengths like the constructor", () => {
    expect(() => createTask("reverse").withLengths(9, 2)).toThrow(/^reverse: minLength \(9\) must not exceed maxLength \(2\)$/);
    expect(() => createTask("addition").withLengths(0, 2)).toThrow(/^addition: minDigits must be an integer/);
  });

  for (const name of taskNames()) {
    it(`${name}.batch rejects a bad batch size, index or split`, () => {
      const task = createTask(name);
      for (const size of [0, -2, 1.5, NaN]) {
        expect(() => task.batch("train", size, 0)).toThrow(
          new RegExp(`^${name}\\.batch: batchSize must be a positive integer, got ${size}$`),
        );
      }
      expect(() => task.batch("train", 2, -1)).toThrow(new RegExp(`^${name}\\.batch: batch index must be a non-negative integer`));
      expect(() => task.batch("train", 2 ** 30, 2 ** 30)).toThrow(ArgumentError);
      expect(() => task.batch("dev" as Split, 2, 0)).toThrow(
        new RegExp(`^${name}\\.batch: split must be one of train, validation, test, got "dev"$`),
      );
    });
  }
});

describe("suggest", () => {
  it("counts an adjacent swap as one edit", () => {
    expect(editDistance("revrse", "reverse")).toBe(1);
    expect(editDistance("sotr", "sort")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("finds close names, ignores case, and stays quiet for unrelated ones", () => {
    expect(suggest("revrse", ["copy", "reverse", "sort"])).toBe("reverse");
    expect(suggest("COPY", ["copy", "reverse"])).toBe("copy");
    expect(suggest("add", ["copy", "sort"])).toBeUndefined();
    expect(suggest("xyz", [])).toBeUndefined();
  });
});
