/**
 * The contract between models and tasks: a model trained by the Trainer computes its own loss on
 * a task's batch and its own predictions in the form the task's `evaluate` expects. A registry entry
 * says which kinds of task a model handles and builds it from a JSON config.
 */
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import type { Module } from "../nn/module.js";
import type { Batch, Task } from "../tasks/task.js";

export interface TaskModel extends Module {
  /** Mean loss over the positions the batch's mask counts (graph recorded). */
  loss(batch: Batch): Tensor;
  /** Predictions for `task.evaluate`: probabilities for bit tasks, ids or scores for token tasks. */
  predict(batch: Batch): Tensor;
}

/**
 * One weight map to look at: attention weights (output token x input token, query x key) or a
 * memory module's read/write weightings (time x memory slot). `values` is rows x cols, row-major.
 */
export interface WeightMap {
  /** What the map shows, e.g. "decoder attention", "encoder layer 2 head 3", "write head 0". */
  name: string;
  /** Grouping for the HTML report's layer/head selectors; absent for a single map. */
  layer?: number;
  head?: number;
  /** Axis titles, e.g. "output" / "input", "time" / "memory slot". */
  rowAxis: string;
  colAxis: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  values: Float32Array;
}

/** What a model did on one example: the tokens (or step labels) in and out, and its weight maps. */
export interface Inspection {
  input: readonly string[];
  output: readonly string[];
  maps: readonly WeightMap[];
}

/**
 * A model that can show its attention or memory weightings on the first example of a batch
 * (`engram viz` and the demo use it). Implemented by every attention and memory model.
 */
export interface InspectableModel {
  inspect(batch: Batch): Inspection;
}

/** True when `model` implements `inspect`. */
export function isInspectable(model: object): model is InspectableModel {
  return typeof (model as Partial<InspectableModel>).inspect === "function";
}

export type ModelConfig = Record<string, number | string | boolean>;

export interface ModelSpec {
  name: string;
  description: string;
  kinds: readonly Task["kind"][];
  /** Every option with its default; a config may set only these. */
  defaults: Readonly<ModelConfig>;
  /** Suggested training settings for this model (the CLI's defaults). */
  training: { steps: number; batchSize: number; lr: number; optimizer: "adam" | "rmsprop" | "sgd"; clipGradNorm?: number };
  create(config: ModelConfig, task: Task): TaskModel;
  /**
   * Elements a checkpoint of this config holds (parameters and persistent buffers), computed
   * without building the model: a checkpoint's config
   * is checked against the weights it holds before anything is allocated (a hostile config could
   * otherwise ask for gigabytes).
   */
  parameterCount(config: ModelConfig, task: Task): number;
}

/** Fills defaults and rejects unknown options or wrong types, naming the model. */
export function resolveConfig(spec: ModelSpec, config: Readonly<Record<string, unknown>>): ModelConfig {
  const out: ModelConfig = { ...spec.defaults };
  for (const [key, value] of Object.entries(config)) {
    if (!(key in spec.defaults)) {
      throw new ArgumentError(
        `${spec.name}: unknown option ${JSON.stringify(key)}${didYouMean(key, Object.keys(spec.defaults))}; options are ${Object.keys(spec.defaults).join(", ")}`,
      );
    }
    const want = typeof spec.defaults[key];
    if (typeof value !== want) throw new ArgumentError(`${spec.name}: option ${key} must be a ${want}, got ${JSON.stringify(value)}`);
    out[key] = value as number | string | boolean;
  }
  return out;
}

/** A positive integer option. */
export function intOption(spec: string, config: ModelConfig, key: string, min = 1): number {
  const v = config[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min)
    throw new ArgumentError(`${spec}: option ${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}
