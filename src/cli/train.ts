/** `engram train`, `engram eval` and `engram info`: runs, checkpoints and what they hold. */
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { defaultGenerator, manualSeed } from "../core/rng.js";
import { ArgumentError, CheckpointError, EngramError } from "../core/errors.js";
import { createModel, modelSpec } from "../models/registry.js";
import type { TaskModel } from "../models/task-model.js";
import { Adam, RMSprop, SGD, StepLR, PhasedLR, type Hyper, type Optimizer } from "../optim/index.js";
import { createTask } from "../tasks/registry.js";
import type { Task } from "../tasks/task.js";
import { CHECKPOINT_FILE, loadCheckpoint, type CheckpointMeta } from "../train/checkpoint.js";
import { Trainer, type TrainResult } from "../train/trainer.js";
import {
  applySettings,
  readConfigFile,
  resolveRunConfig,
  type RunConfig,
  type RunConfigLayer,
  type TrainingSettings,
} from "./run-config.js";

export interface TrainFlags extends Partial<TrainingSettings> {
  task?: string;
  out?: string;
  resume?: string;
  config?: string;
  /** `section.key=value` overrides of the config (--set). */
  set?: string[];
  /** The config as an object (instead of a --config file). */
  run?: RunConfigLayer;
  progress?: NodeJS.WritableStream | false;
}

function makeOptimizer(model: TaskModel, t: TrainingSettings): Optimizer<Hyper> {
  const params = model.parameters();
  switch (t.optimizer) {
    case "adam":
      return new Adam(params, { lr: t.lr, ...(t.eps !== undefined ? { eps: t.eps } : {}) });
    case "rmsprop":
      return new RMSprop(params, { lr: t.lr, momentum: t.momentum ?? 0.9, ...(t.eps !== undefined ? { eps: t.eps } : {}) });
    case "sgd":
      return new SGD(params, { lr: t.lr, momentum: t.momentum ?? 0.9 });
  }
}

/** A checkpoint path from a run directory or a file path. */
export function checkpointPath(p: string): string {
  if (existsSync(p) && statSync(p).isDirectory()) return join(p, CHECKPOINT_FILE);
  return p;
}

interface Built {
  task: Task;
  model: TaskModel;
  trainer: Trainer;
  run: RunConfig;
}

function build(
  modelName: string,
  taskName: string,
  run: RunConfig,
  outDir: string,
  progress: TrainFlags["progress"],
  expectParameters?: number,
): Built {
  manualSeed(run.training.seed);
  const task = createTask(taskName, run.task);
  const { model, config } = createModel(modelName, run.model, task, expectParameters !== undefined ? { expectParameters } : {});
  const optimizer = makeOptimizer(model, run.training);
  const t = run.training;
  const trainer = new Trainer({
    model,
    optimizer,
    ...(t.lrDecayEvery !== undefined ? { scheduler: new StepLR(optimizer, { stepSize: t.lrDecayEvery, gamma: t.lrDecayFactor! }) } : {}),
    ...(t.lrPhases !== undefined ? { scheduler: new PhasedLR(optimizer, { phases: t.lrPhases }) } : {}),
    task,
    loss: (b) => model.loss(b),
    predict: (b) => model.predict(b),
    steps: t.steps,
    batchSize: t.batchSize,
    ...(t.clipGradNorm !== undefined ? { clipGradNorm: t.clipGradNorm } : {}),
    ...(t.evalEvery !== undefined ? { evalEvery: t.evalEvery } : {}),
    ...(t.evalBatches !== undefined ? { evalBatches: t.evalBatches } : {}),
    ...(t.gradAccumulation !== undefined ? { gradAccumulation: t.gradAccumulation } : {}),
    outDir,
    generator: defaultGenerator,
    describe: {
      model: { name: modelName, config },
      task: { name: taskName, config: { ...task.config } },
      training: { ...t },
    },
    ...(progress !== undefined ? { progress } : {}),
  });
  return { task, model, trainer, run };
}

export async function trainCommand(modelName: string, flags: TrainFlags): Promise<TrainResult & { outDir: string; checkpoint: string }> {
  const settings: Partial<TrainingSettings> = {};
  for (const k of ["steps", "batchSize", "lr", "seed", "optimizer", "clipGradNorm", "evalEvery"] as const) {
    if (flags[k] !== undefined) (settings as Record<string, unknown>)[k] = flags[k];
  }
  let built: Built;
  let outDir: string;
  if (flags.resume !== undefined) {
    // the run's settings come from its checkpoint; silently ignoring a file would be worse than refusing it
    if (flags.config !== undefined || (flags.set?.length ?? 0) > 0)
      throw new ArgumentError("train: --config and --set cannot be combined with --resume (flags still override the saved settings)");
    const path = checkpointPath(flags.resume);
    const ck = await loadCheckpoint(path);
    if (ck.meta.model.name !== modelName)
      throw new ArgumentError(`train: --resume ${flags.resume} holds a ${ck.meta.model.name} model, not ${modelName}`);
    if (flags.task !== undefined && flags.task !== ck.meta.task?.name) {
      throw new ArgumentError(`train: --resume ${flags.resume} was trained on ${ck.meta.task?.name ?? "no task"}, not ${flags.task}`);
    }
    const task = ck.meta.task;
    if (task === undefined) throw new CheckpointError(`train: --resume ${path} does not say which task it was trained on`);
    const saved = { model: ck.meta.model.config, task: task.config, training: ck.meta.training ?? {} } as unknown as RunConfigLayer;
    const run = resolveRunConfig(modelSpec(modelName), saved, settings);
    // next to the checkpoint, whatever the file is called (not the working directory)
    outDir = flags.out ?? dirname(path);
    try {
      built = build(modelName, task.name, run, outDir, flags.progress, weightCount(ck.model));
    } catch (e) {
      // a checkpoint whose settings cannot rebuild its model is a bad file, not a usage error
      if (e instanceof EngramError) throw new CheckpointError(`train: --resume ${path}: ${e.message}`);
      throw e;
    }
    await built.trainer.resume(path);
  } else {
    if (flags.task === undefined) throw new ArgumentError("train: --task is required (see `engram tasks`)");
    modelSpec(modelName); // unknown names fail before the config file is read
    const file = applySettings(flags.config !== undefined ? readConfigFile(flags.config) : (flags.run ?? {}), flags.set ?? []);
    const run = resolveRunConfig(modelSpec(modelName), file, settings);
    outDir = flags.out ?? join("runs", `${modelName}-${flags.task}`);
    built = build(modelName, flags.task, run, outDir, flags.progress);
  }
  const result = await built.trainer.run();
  return { ...result, outDir, checkpoint: built.trainer.checkpointPath! };
}

/** Elements in a checkpoint's model tensors (bounded by the file's size). */
function weightCount(weights: ReadonlyMap<string, { size: number }>): number {
  let n = 0;
  for (const t of weights.values()) n += t.size;
  return n;
}

export interface EvalFlags {
  split?: "validation" | "test";
  batches?: number;
  batchSize?: number;
  /** Evaluate at other lengths (length generalisation): [min, max]. */
  lengths?: [number, number];
}

/** A checkpoint's model and task, rebuilt with its weights. */
export interface LoadedModel {
  model: TaskModel;
  task: Task;
  /** What renderers show about the run (a loaded checkpoint has the whole CheckpointMeta). */
  meta: Pick<CheckpointMeta, "model" | "step">;
  /** The checkpoint file (metrics.jsonl lies beside it). */
  path: string;
}

/**
 * Loads a run directory or checkpoint file into its model and task. `op` names the command in
 * errors; a model or task the checkpoint cannot rebuild is a bad file (CheckpointError), and a
 * config implying another parameter count is refused before anything is allocated.
 */
export async function loadRun(checkpoint: string, op: string): Promise<LoadedModel & { meta: CheckpointMeta }> {
  const path = checkpointPath(checkpoint);
  const ck = await loadCheckpoint(path);
  const saved = ck.meta.task;
  if (!saved) throw new CheckpointError(`${op}: ${path} does not say which task it was trained on`);
  const fromFile = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof EngramError) throw new CheckpointError(`${op}: ${path}: ${e.message}`);
      throw e;
    }
  };
  const task = fromFile(() => createTask(saved.name, saved.config));
  const { model } = fromFile(() =>
    createModel(ck.meta.model.name, ck.meta.model.config, task, { expectParameters: weightCount(ck.model) }),
  );
  fromFile(() => model.loadStateDict(ck.model));
  return { model, task, meta: ck.meta, path };
}

export async function evalCommand(
  checkpoint: string,
  flags: EvalFlags,
): Promise<{ meta: CheckpointMeta; metrics: Record<string, number> }> {
  const { model, task: saved, meta } = await loadRun(checkpoint, "eval");
  const task = flags.lengths ? saved.withLengths(flags.lengths[0], flags.lengths[1]) : saved;
  const training = (meta.training ?? {}) as Partial<TrainingSettings>;
  const trainer = new Trainer({
    model,
    optimizer: makeOptimizer(model, { steps: 1, batchSize: 1, lr: 1, optimizer: "sgd", seed: 0 }),
    task,
    loss: (b) => model.loss(b),
    predict: (b) => model.predict(b),
    steps: 1,
    batchSize: flags.batchSize ?? training.batchSize ?? 32,
    evalBatches: flags.batches ?? 8,
    describe: { model: meta.model },
    progress: false,
  });
  return { meta, metrics: trainer.evaluate(flags.split ?? "test") };
}

export async function infoCommand(checkpoint: string): Promise<string[]> {
  const path = checkpointPath(checkpoint);
  const ck = await loadCheckpoint(path);
  const m = ck.meta;
  let params = 0;
  for (const t of ck.model.values()) params += t.size;
  const fmt = (o: Record<string, unknown>): string =>
    Object.entries(o)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(" ");
  const lines = [
    `checkpoint   ${path}`,
    `engram       ${m.engramVersion} (format ${m.format})`,
    `model        ${m.model.name}  ${fmt(m.model.config)}`,
    `parameters   ${params.toLocaleString("en-US")} in ${ck.model.size} tensors`,
  ];
  if (m.task) lines.push(`task         ${m.task.name}  ${fmt(m.task.config)}`);
  if (m.training) lines.push(`training     ${fmt(m.training)}`);
  lines.push(`step         ${m.step}`);
  if (m.metrics && Object.keys(m.metrics).length > 0) {
    lines.push(
      `metrics      ${Object.entries(m.metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join("  ")}`,
    );
  }
  return lines;
}
