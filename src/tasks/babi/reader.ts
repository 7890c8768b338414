/**
 * The bAbI text format (Weston et al. 2015), read and written. A file is a list of stories; each
 * line is `id text`, ids count up from 1 within a story (an id of 1 starts a new story), and a
 * question line is `id question?<TAB>answer<TAB>supporting ids`, the ids naming earlier statement
 * lines of the same story:
 *
 *   1 Mary moved to the bathroom.
 *   2 John went to the hallway.
 *   3 Where is Mary? 	bathroom	1
 *
 * Parsing is pure (no file access), so it runs in browsers too; Node callers read the file and pass
 * its name, which every error message carries together with the line number.
 */
import { ArgumentError } from "../../core/errors.js";

export interface BabiStatement {
  kind: "statement";
  id: number;
  text: string;
}

export interface BabiQuestion {
  kind: "question";
  id: number;
  text: string;
  /** One token; list answers (tasks 8 and 19) are comma-joined, e.g. "apple,milk" or "n,w". */
  answer: string;
  /** Ids of the statements that imply the answer. */
  supporting: number[];
}

export type BabiLine = BabiStatement | BabiQuestion;

/** One story: lines with ids 1..n in order. */
export interface BabiStory {
  lines: BabiLine[];
}

/** One question with the statements before it in its story (questions are not memories). */
export interface BabiExample {
  sentences: string[];
  question: string;
  answer: string;
  /** Indices into `sentences` of the supporting statements. */
  supporting: number[];
}

/** Lowercase words of a sentence or question, punctuation dropped. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
}

/** Parses bAbI text; `fileName` names the source in errors ("parseBabi: qa1_train.txt line 7: ..."). */
export function parseBabi(text: string, fileName = "<text>"): BabiStory[] {
  if (typeof text !== "string") throw new ArgumentError(`parseBabi: ${fileName}: expected the file's text as a string`);
  const stories: BabiStory[] = [];
  let story: BabiStory | null = null;
  let questions = 0;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.replace(/\r$/, "");
    if (raw.trim() === "") continue;
    const fail = (msg: string): never => {
      throw new ArgumentError(`parseBabi: ${fileName} line ${n + 1}: ${msg}: ${JSON.stringify(raw.slice(0, 80))}`);
    };
    const m = /^(\d+) (.*)$/.exec(raw);
    if (m === null) fail("expected a line id and a space");
    const id = Number(m![1]);
    const body = m![2]!;
    if (id === 1) {
      story = { lines: [] };
      stories.push(story);
    } else if (story === null) {
      fail(`the first line of a story must have id 1, got ${id}`);
    } else if (id !== story.lines.length + 1) {
      fail(`line id ${id} does not follow ${story.lines.length}`);
    }
    const current = story!;
    if (!body.includes("\t")) {
      const statement = body.trim();
      if (statement === "") fail("empty statement");
      current.lines.push({ kind: "statement", id, text: statement });
      continue;
    }
    const fields = body.split("\t");
    if (fields.length > 3) fail("a question line has three tab-separated fields (question, answer, supporting ids)");
    const question = fields[0]!.trim();
    const answer = (fields[1] ?? "").trim();
    if (question === "") fail("empty question");
    if (answer === "" || /\s/.test(answer)) fail("the answer must be one non-empty token");
    const supporting: number[] = [];
    for (const word of (fields[2] ?? "").trim().split(/\s+/)) {
      if (word === "") continue;
      const ref = /^\d+$/.test(word) ? Number(word) : NaN;
      const target = current.lines[ref - 1];
      if (target === undefined || target.kind !== "statement") fail(`supporting id ${word} is not an earlier statement of this story`);
      supporting.push(ref);
    }
    current.lines.push({ kind: "question", id, text: question, answer, supporting });
    questions++;
  }
  if (questions === 0) throw new ArgumentError(`parseBabi: ${fileName}: no question lines found`);
  return stories;
}

/** The stories as bAbI text (one line per line, a newline after each); `parseBabi` reads it back. */
export function formatBabi(stories: readonly BabiStory[]): string {
  let out = "";
  for (const story of stories) {
    for (const line of story.lines) {
      out +=
        line.kind === "statement" ? `${line.id} ${line.text}\n` : `${line.id} ${line.text}\t${line.answer}\t${line.supporting.join(" ")}\n`;
    }
  }
  return out;
}

/** Every question of the stories as an example, in file order. */
export function babiExamples(stories: readonly BabiStory[]): BabiExample[] {
  const out: BabiExample[] = [];
  for (const story of stories) {
    const sentences: string[] = [];
    // line id -> index among the story's statements
    const index = new Map<number, number>();
    for (const line of story.lines) {
      if (line.kind === "statement") {
        index.set(line.id, sentences.length);
        sentences.push(line.text);
      } else {
        out.push({
          sentences: sentences.slice(),
          question: line.text,
          answer: line.answer,
          supporting: line.supporting.map((id) => index.get(id)!),
        });
      }
    }
  }
  return out;
}
