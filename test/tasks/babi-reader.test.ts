// The bAbI text format: real-format files parse, malformed ones are rejected naming file and line,
// and written stories read back unchanged.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/core/errors.js";
import { BABI_TASK_IDS, generateBabi } from "../../src/tasks/babi/generator.js";
import { babiExamples, formatBabi, parseBabi, tokenize } from "../../src/tasks/babi/reader.js";
import { BabiTask } from "../../src/tasks/babi/task.js";

// The shape of the real files: a space before the tab after questions, CRLF in one line, a list answer.
const SAMPLE = [
  "1 Mary moved to the bathroom.",
  "2 John went to the hallway.",
  "3 Where is Mary? \tbathroom\t1",
  "4 Daniel went back to the hallway.\r",
  "5 Sandra moved to the garden.",
  "6 Where is Daniel? \thallway\t4",
  "1 John picked up the apple.",
  "2 John grabbed the milk.",
  "3 What is John carrying? \tapple,milk\t1 2",
  "",
].join("\n");

describe("parseBabi", () => {
  it("reads stories, questions, answers and supporting ids", () => {
    const stories = parseBabi(SAMPLE, "qa1_train.txt");
    expect(stories).toHaveLength(2);
    expect(stories[0]!.lines).toEqual([
      { kind: "statement", id: 1, text: "Mary moved to the bathroom." },
      { kind: "statement", id: 2, text: "John went to the hallway." },
      { kind: "question", id: 3, text: "Where is Mary?", answer: "bathroom", supporting: [1] },
      { kind: "statement", id: 4, text: "Daniel went back to the hallway." },
      { kind: "statement", id: 5, text: "Sandra moved to the garden." },
      { kind: "question", id: 6, text: "Where is Daniel?", answer: "hallway", supporting: [4] },
    ]);
    expect(stories[1]!.lines[2]).toEqual({
      kind: "question",
      id: 3,
      text: "What is John carrying?",
      answer: "apple,milk",
      supporting: [1, 2],
    });
  });

  it("turns questions into examples with the statements before them (questions are not memories)", () => {
    const examples = babiExamples(parseBabi(SAMPLE));
    expect(examples).toHaveLength(3);
    expect(examples[1]).toEqual({
      sentences: [
        "Mary moved to the bathroom.",
        "John went to the hallway.",
        "Daniel went back to the hallway.",
        "Sandra moved to the garden.",
      ],
      question: "Where is Daniel?",
      answer: "hallway",
      supporting: [2],
    });
    expect(examples[2]!.sentences).toEqual(["John picked up the apple.", "John grabbed the milk."]);
    expect(examples[2]!.supporting).toEqual([0, 1]);
  });

  it("tokenizes to lowercase words without punctuation", () => {
    expect(tokenize("Where is Mary? ")).toEqual(["where", "is", "mary"]);
    expect(tokenize("The kitchen is north of the garden.")).toEqual(["the", "kitchen", "is", "north", "of", "the", "garden"]);
  });

  const malformed: [string, string, RegExp][] = [
    [
      "no line id",
      "1 Mary went to the hallway.\nJohn went home.\n3 Where is Mary?\thallway\t1\n",
      /line 2: expected a line id and a space/,
    ],
    ["a gap in the ids", "1 Mary went to the hallway.\n3 Where is Mary?\thallway\t1\n", /line 2: line id 3 does not follow 1/],
    ["a story not starting at 1", "2 Mary went to the hallway.\n", /line 1: the first line of a story must have id 1, got 2/],
    ["an empty answer", "1 Mary went to the hallway.\n2 Where is Mary?\t\t1\n", /line 2: the answer must be one non-empty token/],
    [
      "a two-word answer",
      "1 Mary went to the hallway.\n2 Where is Mary?\tthe hallway\t1\n",
      /line 2: the answer must be one non-empty token/,
    ],
    [
      "too many fields",
      "1 Mary went to the hallway.\n2 Where is Mary?\thallway\t1\textra\n",
      /line 2: a question line has three tab-separated fields/,
    ],
    [
      "a forward supporting id",
      "1 Mary went to the hallway.\n2 Where is Mary?\thallway\t3\n",
      /line 2: supporting id 3 is not an earlier statement/,
    ],
    [
      "a supporting id naming a question",
      "1 Mary went to the hallway.\n2 Where is Mary?\thallway\t1\n3 Where is Mary?\thallway\t2\n",
      /line 3: supporting id 2 is not an earlier statement/,
    ],
    ["a non-numeric supporting id", "1 Mary went to the hallway.\n2 Where is Mary?\thallway\tone\n", /line 2: supporting id one is not/],
    ["an empty question", "1 Mary went to the hallway.\n2  \thallway\t1\n", /line 2: empty question/],
    ["no questions at all", "1 Mary went to the hallway.\n", /^parseBabi: bad\.txt: no question lines found$/],
  ];
  for (const [what, text, message] of malformed) {
    it(`rejects ${what}, naming the file and line`, () => {
      expect(() => parseBabi(text, "bad.txt")).toThrow(ArgumentError);
      expect(() => parseBabi(text, "bad.txt")).toThrow(/^parseBabi: bad\.txt/);
      expect(() => parseBabi(text, "bad.txt")).toThrow(message);
    });
  }

  it("round-trips generated stories of every task type through the writer", () => {
    for (const taskId of BABI_TASK_IDS) {
      const stories = generateBabi(taskId, { seed: 3, questions: 40 });
      const text = formatBabi(stories);
      expect(parseBabi(text, `task${taskId}`)).toEqual(stories);
      expect(formatBabi(parseBabi(text))).toBe(text);
    }
  });
});

describe("BabiTask.fromFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "engram-babi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("builds a QA task from real-format files, holding out the last 10% of training questions", async () => {
    const train = join(dir, "qa2_train.txt");
    const test = join(dir, "qa2_test.txt");
    writeFileSync(train, formatBabi(generateBabi(2, { seed: 1, questions: 50 })));
    writeFileSync(test, formatBabi(generateBabi(2, { seed: 2, questions: 20 })));
    const task = await BabiTask.fromFiles(train, test, { memorySize: 8 });
    expect(task.name).toBe("babi-files");
    expect([task.size("train"), task.size("validation"), task.size("test")]).toEqual([45, 5, 20]);
    expect(task.examples.validation[4]!.question).toBe(babiExamples(generateBabi(2, { seed: 1, questions: 50 }))[49]!.question);
    const batch = task.batch("train", 4, 0);
    expect(batch.input.shape[1]).toBeLessThanOrEqual(8);
  });

  it("rejects a malformed file with its path and line number, and a missing file with its path", async () => {
    const bad = join(dir, "bad_train.txt");
    writeFileSync(bad, "1 Mary went to the hallway.\n2 Where is Mary?\thallway\n4 John left.\n");
    const good = join(dir, "good.txt");
    writeFileSync(good, SAMPLE);
    await expect(BabiTask.fromFiles(bad, good)).rejects.toThrow(`parseBabi: ${bad} line 3: line id 4 does not follow 2`);
    await expect(BabiTask.fromFiles(join(dir, "missing.txt"), good)).rejects.toThrow(/^BabiTask\.fromFiles: cannot read .*missing\.txt/);
  });
});
