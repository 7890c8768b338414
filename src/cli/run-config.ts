/**
 * A training run's settings: defaults from the model's registry entry, then a JSON or YAML config
 * file, then command-line flags. The resolved settings are stored in the checkpoint, so `--resume`
 * and `engram eval` rebuild exactly the same model, task and optimizer.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ArgumentError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import type { ModelSpec } from "../models/task-model.js";
import { checkPhases } from "../optim/schedules.js";

export interface TrainingSettings {
  steps: number;
  batchSize: number;
  lr: number;
  optimizer: "adam" | "rmsprop" | "sgd";
  clipGradNorm?: number;
  /** Momentum of sgd and rmsprop (default 0.9). */
  momentum?: number;
  /**
   * Epsilon of adam and rmsprop, added to the root of the squared-gradient average (default 1e-8).
   * A larger one bounds the step g / (sqrt(v) + eps) when gradients vanish, which keeps a converged
   * NTM from being kicked out of its solution (1e-5 in docs/reproduction; 1e-2 stops it learning).
   */
  eps?: number;
  /** Multiply the learning rate by lrDecayFactor every lrDecayEvery steps (a step schedule, e.g. the MemN2N paper's halving). */
  lrDecayEvery?: number;
  lrDecayFactor?: number;
  /** [[step, factor], ...] from step 0: lr x factor from each step on (PhasedLR); not with lrDecayEvery. */
  lrPhases?: [number, number][];
  evalEvery?: number;
  evalBatches?: number;
  gradAccumulation?: number;
  seed: number;
}

export interface RunConfig {
  model: Record<string, unknown>;
  task: Record<string, unknown>;
  training: TrainingSettings;
}

/** A layer of settings (a config file, --set flags, a checkpoint's saved settings): any section, any subset. */
export interface RunConfigLayer {
  model?: Record<string, unknown>;
  task?: Record<string, unknown>;
  training?: Partial<TrainingSettings>;
}

const TRAINING_KEYS = [
  "steps",
  "batchSize",
  "lr",
  "optimizer",
  "clipGradNorm",
  "momentum",
  "eps",
  "lrDecayEvery",
  "lrDecayFactor",
  "lrPhases",
  "evalEvery",
  "evalBatches",
  "gradAccumulation",
  "seed",
];
const SECTIONS = ["model", "task", "training"] as const;

/**
 * Applies `--set section.key=value` overrides (value read as YAML, so numbers, booleans and lists
 * keep their types) to a config's sections: one flag per setting instead of one file per variant.
 */
export function applySettings(config: RunConfigLayer, settings: readonly string[]): RunConfigLayer {
  const out: Record<string, Record<string, unknown>> = {};
  for (const section of SECTIONS) out[section] = { ...((config as Record<string, Record<string, unknown> | undefined>)[section] ?? {}) };
  for (const setting of settings) {
    const m = /^(\w+)\.(\w+)=(.*)$/s.exec(setting);
    if (!m) throw new ArgumentError(`--set: expected section.key=value (e.g. task.taskId=2), got ${JSON.stringify(setting)}`);
    const [, section, key, text] = m as unknown as [string, string, string, string];
    if (!(SECTIONS as readonly string[]).includes(section))
      throw new ArgumentError(`--set ${setting}: unknown section ${JSON.stringify(section)}${didYouMean(section, [...SECTIONS])}`);
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (e) {
      throw new ArgumentError(`--set ${setting}: the value is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    out[section]![key] = value;
  }
  return out;
}

/** Reads a JSON or YAML config file: { model?: {...}, task?: {...}, training?: {...} }. */
export function readConfigFile(path: string): RunConfigLayer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ArgumentError(`--config: cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ArgumentError(
      `--config: ${path} is not valid ${/\.json$/i.test(path) ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new ArgumentError(`--config: ${path} must hold an object with model, task and training sections`);
  const out: RunConfigLayer = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key !== "model" && key !== "task" && key !== "training") {
      throw new ArgumentError(`--config: ${path}: unknown section ${JSON.stringify(key)}${didYouMean(key, ["model", "task", "training"])}`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new ArgumentError(`--config: ${path}: section ${key} must be an object`);
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Merges the layers and validates the training settings. */
export function resolveRunConfig(spec: ModelSpec, file: RunConfigLayer, flags: Partial<TrainingSettings>): RunConfig {
  const fileTraining = (file.training ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(fileTraining)) {
    if (!TRAINING_KEYS.includes(key))
      throw new ArgumentError(`--config: unknown training setting ${JSON.stringify(key)}${didYouMean(key, TRAINING_KEYS)}`);
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const training = { seed: 0, ...spec.training, ...fileTraining, ...defined } as TrainingSettings;
  const int = (k: keyof TrainingSettings, min: number): void => {
    const v = training[k];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min))
      throw new ArgumentError(`train: ${k} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  };
  int("steps", 1);
  int("batchSize", 1);
  int("seed", 0);
  int("evalEvery", 0);
  int("evalBatches", 1);
  int("gradAccumulation", 1);
  int("lrDecayEvery", 1);
  if (typeof training.lr !== "number" || !(training.lr > 0))
    throw new ArgumentError(`train: lr must be a positive number, got ${JSON.stringify(training.lr)}`);
  if (training.clipGradNorm !== undefined && !(typeof training.clipGradNorm === "number" && training.clipGradNorm > 0)) {
    throw new ArgumentError(`train: clipGradNorm must be a positive number, got ${JSON.stringify(training.clipGradNorm)}`);
  }
  if (training.momentum !== undefined && !(typeof training.momentum === "number" && training.momentum >= 0 && training.momentum < 1))
    throw new ArgumentError(`train: momentum must be a number in [0, 1), got ${JSON.stringify(training.momentum)}`);
  if (training.momentum !== undefined && training.optimizer === "adam")
    throw new ArgumentError("train: momentum applies to sgd and rmsprop; adam has its own betas");
  if (training.eps !== undefined && !(typeof training.eps === "number" && training.eps > 0 && Number.isFinite(training.eps)))
    throw new ArgumentError(`train: eps must be a positive number, got ${JSON.stringify(training.eps)}`);
  if (training.eps !== undefined && training.optimizer === "sgd")
    throw new ArgumentError("train: eps applies to adam and rmsprop, not sgd");
  if (training.lrDecayFactor !== undefined && !(typeof training.lrDecayFactor === "number" && training.lrDecayFactor > 0))
    throw new ArgumentError(`train: lrDecayFactor must be a positive number, got ${JSON.stringify(training.lrDecayFactor)}`);
  if ((training.lrDecayEvery === undefined) !== (training.lrDecayFactor === undefined))
    throw new ArgumentError(
      "train: lrDecayEvery and lrDecayFactor go together (multiply the learning rate by the factor every so many steps)",
    );
  if (training.lrPhases !== undefined) {
    if (training.lrDecayEvery !== undefined) throw new ArgumentError("train: lrPhases and lrDecayEvery are two schedules; set one");
    checkPhases("train: lrPhases", training.lrPhases);
  }
  if (!["adam", "rmsprop", "sgd"].includes(training.optimizer)) {
    throw new ArgumentError(`train: optimizer must be adam, rmsprop or sgd, got ${JSON.stringify(training.optimizer)}`);
  }
  return { model: file.model ?? {}, task: file.task ?? {}, training };
}
