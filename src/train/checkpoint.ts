/**
 * Checkpoints: one safetensors file holding the model's weights (`model.<key>`), the optimizer's
 * per-parameter buffers (`optim.<index>.<buffer>`) and, in its metadata under "engram", a JSON
 * document with everything else (model and task config, optimizer hyper-parameters and step
 * counts, schedule, RNG and trainer state, Engram version). One file, written atomically (temp
 * file, fsync, rename), so a crash mid-save never leaves a broken latest checkpoint; weights stay
 * readable by any safetensors tool.
 */
import { Tensor } from "../autograd/tensor.js";
import { CheckpointError } from "../core/errors.js";
import { Generator, type GeneratorState } from "../core/rng.js";
import { loadSafetensors, saveSafetensors } from "../io/safetensors-file.js";
import type { OptimizerStateDict, ParamStateDict } from "../optim/optimizer.js";
import { VERSION } from "../version.js";

export const CHECKPOINT_FORMAT = 1;
export const CHECKPOINT_FILE = "checkpoint.safetensors";

/** What a checkpoint says about how it was made: enough to rebuild the model and task. */
export interface CheckpointMeta {
  format: number;
  engramVersion: string;
  model: { name: string; config: Record<string, unknown> };
  task?: { name: string; config: Record<string, unknown> };
  /** The training settings of the run (optimizer, learning rate, batch size, ...). */
  training?: Record<string, unknown>;
  step: number;
  /** Anything else a trainer needs to resume (schedule, early stopping, RNG, training config). */
  trainer?: Record<string, unknown>;
  rng?: GeneratorState;
  /** Last evaluation, for `engram info`. */
  metrics?: Record<string, number>;
  /** Optimizer state without its tensors (they are stored as `optim.*` tensors). */
  optimizer?: { paramGroups: OptimizerStateDict["paramGroups"]; steps: Record<string, number> };
}

export interface Checkpoint {
  meta: CheckpointMeta;
  model: Map<string, Tensor>;
  optimizer?: OptimizerStateDict;
}

/** What a caller supplies; the format, version and optimizer summary are filled in here. */
export type CheckpointInput = Omit<Checkpoint, "meta"> & { meta: Omit<CheckpointMeta, "format" | "engramVersion" | "optimizer"> };

export async function saveCheckpoint(path: string, ck: CheckpointInput): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of ck.model) tensors[`model.${k}`] = t;
  const meta: CheckpointMeta = { ...ck.meta, format: CHECKPOINT_FORMAT, engramVersion: VERSION };
  if (ck.optimizer) {
    const steps: Record<string, number> = {};
    for (const [idx, st] of Object.entries(ck.optimizer.state)) {
      steps[idx] = st.step;
      for (const [name, t] of Object.entries(st.buffers)) tensors[`optim.${idx}.${name}`] = t;
    }
    meta.optimizer = { paramGroups: ck.optimizer.paramGroups, steps };
  }
  await saveSafetensors(path, tensors, { engram: JSON.stringify(meta) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { tensors, metadata } = await loadSafetensors(path);
  const bad = (why: string): CheckpointError => new CheckpointError(`loadCheckpoint: ${path} is not an Engram checkpoint: ${why}`);
  const text = metadata.engram;
  if (text === undefined) throw bad('its metadata has no "engram" entry (a plain safetensors file?)');
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    throw bad('its "engram" metadata is not valid JSON');
  }
  if (!isObject(meta)) throw bad('its "engram" metadata is not an object');
  if (meta.format !== CHECKPOINT_FORMAT)
    throw bad(`format ${JSON.stringify(meta.format)} is not supported (expected ${CHECKPOINT_FORMAT})`);
  if (!isObject(meta.model) || typeof meta.model.name !== "string" || !isObject(meta.model.config))
    throw bad("it does not say which model it holds");
  if (!Number.isSafeInteger(meta.step) || (meta.step as number) < 0)
    throw bad(`step ${JSON.stringify(meta.step)} is not a non-negative integer`);
  // Everything a reader dereferences or formats is checked here, so a hostile file fails with this
  // message instead of a TypeError deep inside `engram info` or a resume.
  if (meta.task !== undefined && (!isObject(meta.task) || typeof meta.task.name !== "string" || !isObject(meta.task.config))) {
    throw bad("its task entry is malformed");
  }
  for (const key of ["training", "trainer"] as const)
    if (meta[key] !== undefined && !isObject(meta[key])) throw bad(`its ${key} entry is not an object`);
  if (meta.metrics !== undefined && !(isObject(meta.metrics) && Object.values(meta.metrics).every((v) => typeof v === "number"))) {
    throw bad("its metrics are not a record of numbers");
  }
  if (meta.rng !== undefined) {
    try {
      new Generator().setState(meta.rng as GeneratorState);
    } catch {
      throw bad("its RNG state is malformed");
    }
  }
  const opt = meta.optimizer;
  if (opt !== undefined) {
    const steps = isObject(opt) ? opt.steps : undefined;
    if (
      !isObject(opt) ||
      !Array.isArray(opt.paramGroups) ||
      !isObject(steps) ||
      !Object.values(steps).every((v) => Number.isSafeInteger(v) && (v as number) >= 0)
    ) {
      throw bad("its optimizer state is malformed");
    }
  }
  const m = meta as unknown as CheckpointMeta;

  const model = new Map<string, Tensor>();
  // a Map, so a tensor named optim.__proto__.x or optim.toString.x cannot reach Object.prototype
  const optimState = new Map<string, ParamStateDict>();
  // null-prototype buffers: a buffer named __proto__ stays a key the optimizer then rejects
  for (const [idx, step] of Object.entries(m.optimizer?.steps ?? {}))
    optimState.set(idx, { step, buffers: Object.create(null) as Record<string, Tensor> });
  for (const [key, t] of Object.entries(tensors)) {
    if (key.startsWith("model.")) model.set(key.slice("model.".length), t);
    else if (key.startsWith("optim.")) {
      const rest = key.slice("optim.".length);
      const dot = rest.indexOf(".");
      const entry = dot > 0 ? optimState.get(rest.slice(0, dot)) : undefined;
      if (entry === undefined) throw bad(`optimizer tensor ${key} belongs to no parameter`);
      entry.buffers[rest.slice(dot + 1)] = t;
    } else throw bad(`unexpected tensor ${key}`);
  }
  const optimizer: OptimizerStateDict | undefined = m.optimizer && {
    state: Object.fromEntries(optimState),
    paramGroups: m.optimizer.paramGroups,
  };
  return { meta: m, model, optimizer };
}
