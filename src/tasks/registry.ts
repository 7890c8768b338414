/** Task names to constructors: what `engram tasks` lists and what configs and checkpoints refer to. */
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import { ADDITION_DEFAULTS, AdditionTask } from "./addition.js";
import { ASSOCIATIVE_RECALL_DEFAULTS, AssociativeRecallTask } from "./associative-recall.js";
import { ASSOCIATIVE_RETRIEVAL_DEFAULTS, AssociativeRetrievalTask } from "./associative-retrieval.js";
import { BABI_DEFAULTS, BabiTask } from "./babi/task.js";
import { COPY_DEFAULTS, CopyTask } from "./copy.js";
import { COPY_DISTRACTORS_DEFAULTS, CopyDistractorsTask } from "./copy-distractors.js";
import { DATES_DEFAULTS, DatesTask } from "./dates.js";
import { DYNAMIC_NGRAMS_DEFAULTS, DynamicNgramsTask } from "./dynamic-ngrams.js";
import { NUMBER_WORDS_DEFAULTS, NumberWordsTask } from "./number-words.js";
import { PRIORITY_SORT_DEFAULTS, PrioritySortTask } from "./priority-sort.js";
import { REPEAT_COPY_DEFAULTS, RepeatCopyTask } from "./repeat-copy.js";
import { ReverseTask } from "./reverse.js";
import { SYMBOL_TASK_DEFAULTS } from "./sequence-task.js";
import { SortTask } from "./sort.js";
import type { Task } from "./task.js";

export interface TaskInfo {
  name: string;
  description: string;
  /** Every config option with its default. */
  defaults: Readonly<Record<string, number>>;
}

interface Entry {
  description: string;
  defaults: Readonly<Record<string, number>>;
  create: (config: Readonly<Record<string, unknown>>) => Task;
}

const TASKS: Readonly<Record<string, Entry>> = {
  copy: { description: CopyTask.description, defaults: COPY_DEFAULTS, create: (c) => new CopyTask(c) },
  reverse: { description: ReverseTask.description, defaults: SYMBOL_TASK_DEFAULTS, create: (c) => new ReverseTask(c) },
  sort: { description: SortTask.description, defaults: SYMBOL_TASK_DEFAULTS, create: (c) => new SortTask(c) },
  addition: { description: AdditionTask.description, defaults: ADDITION_DEFAULTS, create: (c) => new AdditionTask(c) },
  babi: { description: BabiTask.description, defaults: BABI_DEFAULTS, create: (c) => new BabiTask(c) },
  dates: { description: DatesTask.description, defaults: DATES_DEFAULTS, create: (c) => new DatesTask(c) },
  "number-words": { description: NumberWordsTask.description, defaults: NUMBER_WORDS_DEFAULTS, create: (c) => new NumberWordsTask(c) },
  "copy-distractors": {
    description: CopyDistractorsTask.description,
    defaults: COPY_DISTRACTORS_DEFAULTS,
    create: (c) => new CopyDistractorsTask(c),
  },
  "repeat-copy": { description: RepeatCopyTask.description, defaults: REPEAT_COPY_DEFAULTS, create: (c) => new RepeatCopyTask(c) },
  "associative-recall": {
    description: AssociativeRecallTask.description,
    defaults: ASSOCIATIVE_RECALL_DEFAULTS,
    create: (c) => new AssociativeRecallTask(c),
  },
  "priority-sort": { description: PrioritySortTask.description, defaults: PRIORITY_SORT_DEFAULTS, create: (c) => new PrioritySortTask(c) },
  "dynamic-ngrams": {
    description: DynamicNgramsTask.description,
    defaults: DYNAMIC_NGRAMS_DEFAULTS,
    create: (c) => new DynamicNgramsTask(c),
  },
  "associative-retrieval": {
    description: AssociativeRetrievalTask.description,
    defaults: ASSOCIATIVE_RETRIEVAL_DEFAULTS,
    create: (c) => new AssociativeRetrievalTask(c),
  },
};

export function taskNames(): string[] {
  return Object.keys(TASKS);
}

/** Name, description and defaults of every task, in listing order. */
export function taskInfo(): TaskInfo[] {
  return Object.entries(TASKS).map(([name, { description, defaults }]) => ({ name, description, defaults: { ...defaults } }));
}

/** A task by name; `config` overrides its defaults (unknown options are an error). */
export function createTask(name: string, config: Readonly<Record<string, unknown>> = {}): Task {
  const entry = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
  if (entry === undefined) {
    throw new ArgumentError(
      `createTask: unknown task "${name}"${didYouMean(String(name), taskNames())}; tasks are ${taskNames().join(", ")}`,
    );
  }
  return entry.create(config);
}
