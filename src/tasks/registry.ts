/** Task names to constructors: what `engram tasks` lists and what configs and checkpoints refer to. */
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import { ADDITION_DEFAULTS, AdditionTask } from "./addition.js";
import { COPY_DEFAULTS, CopyTask } from "./copy.js";
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
