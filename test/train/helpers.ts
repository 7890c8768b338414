/** Tiny training setups shared by the trainer, checkpoint and CLI tests. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import * as eg from "../../src/index.js";
import { LstmTagger } from "../../src/models/lstm-tagger.js";
import type { TaskModel } from "../../src/models/task-model.js";
import type { Hyper, Optimizer } from "../../src/optim/index.js";
import { createTask } from "../../src/tasks/registry.js";
import type { Batch, Task } from "../../src/tasks/task.js";
import type { TrainerOptions } from "../../src/train/trainer.js";

/** The copy task at its smallest useful size: 4 bits, sequences of 1..4 vectors. */
const TINY_TASK = { width: 4, maxLength: 4 };
const TINY_MODEL = { hiddenSize: 16 };

// One root per test file, registered while the file is collected: a hook registered inside a
// running test would never run, and its directories would pile up in the temp folder.
const root = mkdtempSync(join(tmpdir(), "engram-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh temp directory, removed when the test file ends. */
export function tempDir(prefix = "run-"): string {
  return mkdtempSync(join(root, prefix));
}

/**
 * The lstm tagger with dropout (drawn from `generator`) between the LSTM and the head, so a run
 * consumes random numbers every step and resuming must restore the generator.
 */
class DropoutTagger extends eg.nn.Module implements TaskModel {
  readonly inner: LstmTagger;
  readonly drop: eg.nn.Dropout;

  constructor(task: Task, hiddenSize: number, generator: eg.Generator) {
    super();
    this.inner = new LstmTagger(task.inputSize, task.outputSize, { hiddenSize, numLayers: 1 });
    this.drop = new eg.nn.Dropout(0.25, { generator });
  }

  forward(x: eg.Tensor): eg.Tensor {
    return this.inner.head.forward(this.drop.forward(this.inner.lstm.forward(x).output));
  }

  loss(batch: Batch): eg.Tensor {
    const perBit = eg.binaryCrossEntropyWithLogits(this.forward(batch.input), batch.target, { reduction: "none" });
    return perBit
      .mul(batch.mask.unsqueeze(-1))
      .sum()
      .div(batch.mask.sum().item() * batch.target.shape[2]!);
  }

  predict(batch: Batch): eg.Tensor {
    return this.forward(batch.input).sigmoid();
  }
}

interface TinyOptions {
  seed?: number;
  dropout?: boolean;
  optimizer?: "adam" | "sgd";
  lr?: number;
  /** Adds StepLR(stepSize 4, gamma 0.5). */
  stepLR?: boolean;
}

export interface Tiny {
  task: Task;
  model: TaskModel;
  optimizer: Optimizer<Hyper>;
  generator: eg.Generator;
  /** Trainer options; spread them and add steps, outDir, ... */
  options: Omit<TrainerOptions, "steps">;
}

/** A seeded tiny run: model initialised from `seed`, dropout drawing from its own generator. */
export function tiny(opts: TinyOptions = {}): Tiny {
  const seed = opts.seed ?? 0;
  const task = createTask("copy", TINY_TASK);
  eg.manualSeed(seed);
  const generator = new eg.Generator(seed + 1000);
  const model: TaskModel = opts.dropout
    ? new DropoutTagger(task, TINY_MODEL.hiddenSize, generator)
    : eg.createModel("lstm", TINY_MODEL, task).model;
  const lr = opts.lr ?? 1e-2;
  const optimizer: Optimizer<Hyper> =
    opts.optimizer === "sgd" ? new eg.optim.SGD(model.parameters(), { lr }) : new eg.optim.Adam(model.parameters(), { lr });
  return {
    task,
    model,
    optimizer,
    generator,
    options: {
      model,
      optimizer,
      ...(opts.stepLR ? { scheduler: new eg.optim.StepLR(optimizer, { stepSize: 4, gamma: 0.5 }) } : {}),
      task,
      loss: (b) => model.loss(b),
      predict: (b) => model.predict(b),
      batchSize: 4,
      evalBatches: 1,
      generator,
      describe: {
        model: { name: opts.dropout ? "dropout-lstm" : "lstm", config: { ...TINY_MODEL } },
        task: { name: "copy", config: { ...task.config } },
      },
      progress: false,
    },
  };
}

/** The records of a run's metrics.jsonl. */
export function readMetrics(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every parameter's values by name (plain arrays, compared with toEqual for exact equality). */
export function paramValues(model: eg.nn.Module): Record<string, number[]> {
  return Object.fromEntries(model.namedParameters().map(([k, p]) => [k, Array.from(p.data)]));
}

/** An optimizer's state dict with its tensors as plain arrays. */
export function optimizerValues(optimizer: Optimizer<Hyper>): unknown {
  const sd = optimizer.stateDict();
  const state = Object.fromEntries(
    Object.entries(sd.state).map(([k, st]) => [
      k,
      { step: st.step, buffers: Object.fromEntries(Object.entries(st.buffers).map(([b, t]) => [b, Array.from(t.data)])) },
    ]),
  );
  return { state, paramGroups: sd.paramGroups };
}
