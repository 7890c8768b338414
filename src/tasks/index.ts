/** Synthetic tasks: seeded batch generators with their metrics. */
export { AdditionTask, type AdditionConfig } from "./addition.js";
export { AssociativeRecallTask, type AssociativeRecallConfig, type AssociativeRecallExample } from "./associative-recall.js";
export {
  ASSOCIATIVE_RETRIEVAL_SYMBOLS,
  AssociativeRetrievalTask,
  type AssociativeRetrievalConfig,
  type AssociativeRetrievalExample,
} from "./associative-retrieval.js";
export { CopyTask, type CopyConfig } from "./copy.js";
export { BABI_DEFAULTS, BABI_TEST_QUESTIONS, BabiTask, babiTaskName, type BabiConfig, type BabiSplits } from "./babi/task.js";
export { BABI_TASK_IDS, BABI_TASK_NAMES, generateBabi, generateStory, type GenerateOptions } from "./babi/generator.js";
export {
  babiExamples,
  formatBabi,
  parseBabi,
  tokenize,
  type BabiExample,
  type BabiLine,
  type BabiQuestion,
  type BabiStatement,
  type BabiStory,
} from "./babi/reader.js";
export { CopyDistractorsTask, type CopyDistractorsConfig } from "./copy-distractors.js";
export { DATE_FORMATS, DatesTask, type DatesConfig } from "./dates.js";
export { DynamicNgramsTask, type DynamicNgramsConfig, type DynamicNgramsExample } from "./dynamic-ngrams.js";
export { combineEvaluations, summarize, type Evaluation, type MetricTotal } from "./metrics.js";
export { numberToWords, NumberWordsTask, type NumberWordsConfig } from "./number-words.js";
export { priorityOrder, PrioritySortTask, type PrioritySortConfig, type PrioritySortExample } from "./priority-sort.js";
export { createTask, taskInfo, taskNames, type TaskInfo } from "./registry.js";
export { RepeatCopyTask, type RepeatCopyConfig, type RepeatCopyExample } from "./repeat-copy.js";
export { ReverseTask } from "./reverse.js";
export { type SymbolTaskConfig } from "./sequence-task.js";
export { SortTask } from "./sort.js";
export { SPLITS, type Batch, type Split, type Task } from "./task.js";
export { BOS, decodeTokens, encodeTokens, EOS, PAD } from "./vocabulary.js";
