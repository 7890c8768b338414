/**
 * The training loop: steps of (micro-batches -> loss -> backward -> clip -> optimizer -> schedule),
 * periodic evaluation under noGrad and model.eval(), early stopping, a NaN/Inf guard, checkpoints,
 * a JSONL metrics log and a progress display.
 *
 * Determinism: batch `s * accumulation + j` of the train split feeds micro-batch j of step s (tasks
 * make batches as pure functions of their index), and the generator, optimizer, schedule and
 * early-stopping state are all checkpointed, so resuming reproduces the uninterrupted run bit for bit.
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { noGrad } from "../autograd/engine.js";
import type { Tensor } from "../autograd/tensor.js";
import { ArgumentError, CheckpointError, EngramError } from "../core/errors.js";
import type { Generator } from "../core/rng.js";
import { writeFileAtomic } from "../io/safetensors-file.js";
import type { Module } from "../nn/module.js";
import { clipGradNorm, clipGradValue } from "../optim/clip.js";
import type { Hyper, Optimizer } from "../optim/optimizer.js";
import { ReduceLROnPlateau, type LRScheduler } from "../optim/schedules.js";
import { combineEvaluations, summarize } from "../tasks/metrics.js";
import type { Batch, Task } from "../tasks/task.js";
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, type CheckpointMeta } from "./checkpoint.js";
import { Progress } from "./progress.js";

export interface EarlyStopping {
  /** A metric of the task's evaluation, or "loss" (validation loss). */
  metric: string;
  mode: "min" | "max";
  /** Evaluations without improvement before stopping. */
  patience: number;
  minDelta?: number;
}

export interface StepInfo {
  step: number;
  loss: number;
  lr: number;
  gradNorm?: number;
}

export interface TrainerOptions {
  model: Module;
  optimizer: Optimizer<Hyper>;
  scheduler?: LRScheduler | ReduceLROnPlateau;
  task: Task;
  /** The loss of one batch, with the graph recorded. */
  loss: (batch: Batch) => Tensor;
  /** Predictions for `task.evaluate` (run under noGrad, in eval mode). */
  predict: (batch: Batch) => Tensor;
  steps: number;
  batchSize: number;
  /** Micro-batches per optimizer step (gradients are averaged over them). */
  gradAccumulation?: number;
  clipGradNorm?: number;
  clipGradValue?: number;
  /** Evaluate every this many steps (and at the end); 0 disables. */
  evalEvery?: number;
  evalBatches?: number;
  earlyStopping?: EarlyStopping;
  /** Directory for the checkpoint and metrics.jsonl; nothing is written without it. */
  outDir?: string;
  /** Save every this many steps (and at the end). */
  checkpointEvery?: number;
  /** The generator dropout and sampling draw from; its state is checkpointed. */
  generator?: Generator;
  /** How the model and task are rebuilt from a checkpoint. */
  describe: Pick<CheckpointMeta, "model" | "task" | "training">;
  /** Progress display: a stream (a bar on a TTY, lines otherwise) or false for silence. */
  progress?: NodeJS.WritableStream | false;
  onStep?: (info: StepInfo) => void;
  onEval?: (step: number, metrics: Record<string, number>) => void;
}

export interface TrainResult {
  step: number;
  stoppedBy: "steps" | "early-stopping" | "non-finite";
  /** The last evaluation's metrics (validation). */
  metrics: Record<string, number>;
  lastLoss: number;
  /** The message naming the first non-finite value, when the guard stopped the run. */
  error?: string;
}

interface EarlyState {
  best: number | null;
  bad: number;
}

/** The first non-finite loss, gradient or (with `which: "parameters"`) parameter, named; null when everything is finite. */
function firstNonFinite(model: Module, which: { loss: number } | "parameters"): string | null {
  if (which !== "parameters" && !Number.isFinite(which.loss)) return `loss is ${which.loss}`;
  for (const [name, p] of model.namedParameters()) {
    const t = which === "parameters" ? p : p.grad;
    if (t === null) continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) return `${which === "parameters" ? "parameter" : "gradient of"} ${name} has ${d[i]} at flat index ${i}`;
    }
  }
  return null;
}

export class Trainer {
  readonly opts: TrainerOptions;
  step = 0;
  private early: EarlyState = { best: null, bad: 0 };
  private metrics: Record<string, number> = {};

  constructor(opts: TrainerOptions) {
    const positive = (what: string, v: number | undefined, min = 1): void => {
      if (v !== undefined && (!Number.isInteger(v) || v < min))
        throw new ArgumentError(`Trainer: ${what} must be an integer >= ${min}, got ${v}`);
    };
    positive("steps", opts.steps);
    positive("batchSize", opts.batchSize);
    positive("gradAccumulation", opts.gradAccumulation);
    positive("evalEvery", opts.evalEvery, 0);
    positive("evalBatches", opts.evalBatches);
    positive("checkpointEvery", opts.checkpointEvery);
    if (opts.earlyStopping) {
      positive("earlyStopping.patience", opts.earlyStopping.patience);
      if (opts.earlyStopping.mode !== "min" && opts.earlyStopping.mode !== "max") {
        throw new ArgumentError(`Trainer: earlyStopping.mode must be "min" or "max", got ${JSON.stringify(opts.earlyStopping.mode)}`);
      }
      // a typo should fail now, not at the first evaluation after minutes of training
      const known = ["loss", ...opts.task.metricNames];
      if (!known.includes(opts.earlyStopping.metric)) {
        throw new ArgumentError(
          `Trainer: early-stopping metric ${JSON.stringify(opts.earlyStopping.metric)} is not one of ${known.join(", ")}`,
        );
      }
    }
    this.opts = opts;
  }

  get checkpointPath(): string | undefined {
    return this.opts.outDir ? join(this.opts.outDir, CHECKPOINT_FILE) : undefined;
  }

  /** Evaluates on `evalBatches` validation batches; adds the mean validation loss as "loss". */
  evaluate(split: "validation" | "test" = "validation"): Record<string, number> {
    const { model, task, batchSize } = this.opts;
    const n = this.opts.evalBatches ?? 4;
    const wasTraining = model.training;
    model.eval();
    try {
      return noGrad(() => {
        const evaluations = [];
        let loss = 0;
        for (let i = 0; i < n; i++) {
          const batch = task.batch(split, batchSize, i);
          loss += this.opts.loss(batch).item();
          evaluations.push(task.evaluate(this.opts.predict(batch), batch));
        }
        return { loss: loss / n, ...summarize(combineEvaluations(evaluations)) };
      });
    } finally {
      model.train(wasTraining);
    }
  }

  /**
   * Forward and backward over `gradAccumulation` micro-batches, then clipping; returns the mean loss,
   * the gradient norm, and the first non-finite loss or gradient (checked before clipping, which
   * would clamp an infinite gradient to a finite one or turn it into NaN).
   */
  private trainStep(): { loss: number; gradNorm?: number; bad: string | null } {
    const { model, optimizer, task, batchSize } = this.opts;
    const accum = this.opts.gradAccumulation ?? 1;
    optimizer.zeroGrad();
    let total = 0;
    for (let j = 0; j < accum; j++) {
      const batch = task.batch("train", batchSize, this.step * accum + j);
      let loss = this.opts.loss(batch);
      if (accum > 1) loss = loss.div(accum);
      total += loss.item();
      loss.backward();
    }
    const bad = firstNonFinite(model, { loss: total });
    if (bad !== null) return { loss: total, bad };
    const params = model.parameters();
    let gradNorm: number | undefined;
    if (this.opts.clipGradValue !== undefined) clipGradValue(params, this.opts.clipGradValue);
    if (this.opts.clipGradNorm !== undefined) gradNorm = clipGradNorm(params, this.opts.clipGradNorm);
    return { loss: total, gradNorm, bad: null };
  }

  private improved(value: number): boolean {
    const es = this.opts.earlyStopping!;
    if (this.early.best === null) return true;
    const delta = es.minDelta ?? 0;
    return es.mode === "min" ? value < this.early.best - delta : value > this.early.best + delta;
  }

  private async log(record: Record<string, unknown>): Promise<void> {
    if (!this.opts.outDir) return;
    await appendFile(join(this.opts.outDir, "metrics.jsonl"), JSON.stringify(record) + "\n");
  }

  async save(): Promise<void> {
    const path = this.checkpointPath;
    if (!path) return;
    const { model, optimizer, scheduler, generator, describe } = this.opts;
    await saveCheckpoint(path, {
      meta: {
        ...describe,
        step: this.step,
        rng: generator?.getState(),
        metrics: this.metrics,
        trainer: { early: this.early, scheduler: scheduler?.stateDict() ?? null },
      },
      model: model.stateDict(),
      optimizer: optimizer.stateDict(),
    });
  }

  /** Restores model, optimizer, schedule, generator and trainer state from a checkpoint file. */
  async resume(path: string): Promise<void> {
    const ck = await loadCheckpoint(path);
    const { model, optimizer, scheduler, generator } = this.opts;
    if (ck.meta.model.name !== this.opts.describe.model.name) {
      throw new EngramError(`resume: ${path} holds a ${ck.meta.model.name} model, not ${this.opts.describe.model.name}`);
    }
    // the state may not fit this trainer (another config, a hostile file): say which file
    try {
      model.loadStateDict(ck.model);
      if (ck.optimizer) optimizer.loadStateDict(ck.optimizer);
      const t = ck.meta.trainer as { early?: Partial<EarlyState>; scheduler?: unknown } | undefined;
      if (scheduler && t?.scheduler) scheduler.loadStateDict(t.scheduler as never);
      if (generator && ck.meta.rng) generator.setState(ck.meta.rng);
      if (t?.early) {
        const { best, bad } = t.early;
        if (!(best === null || typeof best === "number") || !Number.isSafeInteger(bad) || bad! < 0) {
          throw new CheckpointError(`early-stopping state ${JSON.stringify(t.early)} is malformed`);
        }
        this.early = { best, bad: bad! };
      }
    } catch (e) {
      if (e instanceof EngramError) throw new CheckpointError(`resume: ${path}: ${e.message}`);
      throw e;
    }
    this.metrics = ck.meta.metrics ?? {};
    this.step = ck.meta.step;
  }

  /**
   * Drops the metrics.jsonl records past the current step, so the log matches the checkpoint: a
   * resumed run was perhaps killed after its last checkpoint, having logged steps it will now
   * repeat and half a line; a fresh run (step 0) in an old run's directory starts a new log.
   */
  private async truncateLog(): Promise<void> {
    const path = join(this.opts.outDir!, "metrics.jsonl");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return; // no log yet: nothing to drop
    }
    const kept = text.split("\n").filter((line) => {
      try {
        const record = JSON.parse(line) as { step?: unknown };
        return typeof record.step === "number" && record.step <= this.step;
      } catch {
        return false;
      }
    });
    await writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
  }

  async run(): Promise<TrainResult> {
    const { model, optimizer, scheduler, steps } = this.opts;
    if (this.opts.outDir) {
      await mkdir(this.opts.outDir, { recursive: true });
      await this.truncateLog();
    }
    const evalEvery = this.opts.evalEvery ?? Math.max(1, Math.floor(steps / 10));
    const ckEvery = this.opts.checkpointEvery ?? evalEvery;
    const progress =
      this.opts.progress === false ? null : new Progress({ total: steps, initial: this.step, label: "train", stream: this.opts.progress });
    model.train();
    let lastLoss = NaN;
    let stoppedBy: TrainResult["stoppedBy"] = "steps";
    let error: string | undefined;
    try {
      while (this.step < steps) {
        const { loss, gradNorm, bad: badGradient } = this.trainStep();
        lastLoss = loss;
        // A bad loss or gradient stops the run before the optimizer spreads it; a bad parameter
        // (an update that overflowed) stops it before it is saved. Either way the last checkpoint
        // on disk stays good.
        let bad = badGradient;
        if (bad === null) {
          optimizer.step();
          bad = firstNonFinite(model, "parameters");
        }
        if (bad !== null) {
          error = `non-finite value at step ${this.step + 1}: ${bad}`;
          stoppedBy = "non-finite";
          progress?.log(`stopped: ${error}`);
          await this.log({ step: this.step + 1, event: "non-finite", error });
          break;
        }
        this.step++;
        const lr = optimizer.paramGroups[0]!.lr;
        if (scheduler && !(scheduler instanceof ReduceLROnPlateau)) scheduler.step();
        const info: StepInfo = { step: this.step, loss, lr, ...(gradNorm !== undefined ? { gradNorm } : {}) };
        this.opts.onStep?.(info);
        await this.log({ ...info, split: "train" });
        let stop = false;
        const scheduled = evalEvery > 0 && this.step % evalEvery === 0;
        if (scheduled || this.step === steps) {
          this.metrics = this.evaluate();
          this.opts.onEval?.(this.step, this.metrics);
          await this.log({ step: this.step, split: "validation", ...this.metrics });
          progress?.log(
            `step ${this.step}: ${Object.entries(this.metrics)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join("  ")}`,
          );
        }
        // Only the evaluations on the evalEvery grid drive the plateau schedule and early stopping:
        // the extra one at the last step depends on `steps`, and letting it count would make a run
        // stopped at step s and resumed differ from one that went past s.
        if (scheduled) {
          if (scheduler instanceof ReduceLROnPlateau) scheduler.step(this.metrics.loss!);
          const es = this.opts.earlyStopping;
          if (es) {
            const value = this.metrics[es.metric];
            if (value === undefined)
              throw new ArgumentError(
                `Trainer: early-stopping metric ${JSON.stringify(es.metric)} is not one of ${Object.keys(this.metrics).join(", ")}`,
              );
            if (this.improved(value)) this.early = { best: value, bad: 0 };
            else if (++this.early.bad >= es.patience) stop = true;
          }
        }
        if (this.step % ckEvery === 0 || this.step === steps || stop) await this.save();
        progress?.update(this.step, { loss, ...(this.metrics.loss !== undefined ? { val: this.metrics.loss } : {}) });
        if (stop) {
          stoppedBy = "early-stopping";
          progress?.log(
            `early stopping at step ${this.step}: ${this.opts.earlyStopping!.metric} has not improved for ${this.opts.earlyStopping!.patience} evaluations`,
          );
          break;
        }
      }
    } finally {
      progress?.finish();
    }
    return { step: this.step, stoppedBy, metrics: this.metrics, lastLoss, ...(error !== undefined ? { error } : {}) };
  }
}
