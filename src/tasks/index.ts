/** Synthetic tasks: seeded batch generators with their metrics. */
export { AdditionTask, type AdditionConfig } from "./addition.js";
export { CopyTask, type CopyConfig } from "./copy.js";
export { combineEvaluations, summarize, type Evaluation, type MetricTotal } from "./metrics.js";
export { createTask, taskInfo, taskNames, type TaskInfo } from "./registry.js";
export { ReverseTask } from "./reverse.js";
export { type SymbolTaskConfig } from "./sequence-task.js";
export { SortTask } from "./sort.js";
export { SPLITS, type Batch, type Split, type Task } from "./task.js";
export { BOS, decodeTokens, encodeTokens, EOS, PAD } from "./vocabulary.js";
