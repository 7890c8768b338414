/** The models `engram train` knows by name. */
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import type { Task } from "../tasks/task.js";
import { memn2nSpec } from "../memory/memn2n.js";
import { ntmSpec } from "../memory/ntm.js";
import { dncSpec } from "../memory/dnc.js";
import { fastWeightsSpec } from "../memory/fast-weights.js";
import { lstmSpec } from "./lstm-tagger.js";
import { lstmQaSpec } from "./lstm-qa.js";
import { lstmAttentionSpec } from "./lstm-attention.js";
import { seq2seqSpec } from "./seq2seq.js";
import { transformerSpec } from "./transformer.js";
import { resolveConfig, type ModelConfig, type ModelSpec, type TaskModel } from "./task-model.js";

const MODELS: readonly ModelSpec[] = [
  lstmSpec,
  memn2nSpec,
  ntmSpec,
  dncSpec,
  fastWeightsSpec,
  lstmQaSpec,
  lstmAttentionSpec,
  seq2seqSpec,
  transformerSpec,
];

export function modelSpecs(): readonly ModelSpec[] {
  return MODELS;
}

export function modelSpec(name: string): ModelSpec {
  const spec = MODELS.find((m) => m.name === name);
  if (!spec) {
    const names = MODELS.map((m) => m.name);
    throw new ArgumentError(`createModel: unknown model ${JSON.stringify(name)}${didYouMean(name, names)}; models are ${names.join(", ")}`);
  }
  return spec;
}

/**
 * Builds a model for a task; the config is validated and completed with defaults. With
 * `expectParameters` (the element count of a checkpoint's weights) a config implying another size
 * is refused before any allocation.
 */
export function createModel(
  name: string,
  config: Readonly<Record<string, unknown>>,
  task: Task,
  opts: { expectParameters?: number } = {},
): { model: TaskModel; config: ModelConfig } {
  const spec = modelSpec(name);
  if (!spec.kinds.includes(task.kind)) {
    throw new ArgumentError(`createModel: model ${name} handles ${spec.kinds.join(" and ")} tasks; ${task.name} is a ${task.kind} task`);
  }
  const full = resolveConfig(spec, config);
  if (opts.expectParameters !== undefined) {
    const implied = spec.parameterCount(full, task);
    if (implied !== opts.expectParameters) {
      throw new ArgumentError(
        `createModel: the ${name} config implies ${implied} parameters but the weights hold ${opts.expectParameters}`,
      );
    }
  }
  return { model: spec.create(full, task), config: full };
}
