// evaluateByLength against fake models whose per-length scores are known exactly.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { Tensor } from "../../src/autograd/tensor.js";
import { ArgumentError } from "../../src/core/errors.js";
import { Module } from "../../src/nn/module.js";
import { evaluateByLength } from "../../src/train/length-generalisation.js";
import { createTask, PAD, type Batch } from "../../src/tasks/index.js";
import type { TaskModel } from "../../src/models/task-model.js";

/**
 * Predicts a token task's target perfectly for its first `k` positions and PAD after them, so on
 * reverse of length L (L + 1 target tokens with EOS) tokenAccuracy is min(k, L + 1) / (L + 1)
 * and exactMatch is 1 exactly when L + 1 <= k. It records the mode and grad state it ran in.
 */
class PrefixOracle extends Module implements TaskModel {
  calls: { training: boolean; grad: boolean }[] = [];
  constructor(private readonly k: number) {
    super();
  }
  forward(batch: Batch): Tensor {
    return this.predict(batch);
  }
  loss(): Tensor {
    return eg.tensor(0);
  }
  predict(batch: Batch): Tensor {
    this.calls.push({ training: this.training, grad: eg.isGradEnabled() });
    const [rows, steps] = batch.target.shape as [number, number];
    const ids = new Int32Array(batch.target.data);
    for (let b = 0; b < rows; b++) ids.fill(PAD, b * steps + Math.min(this.k, steps), (b + 1) * steps);
    return new Tensor(ids, [rows, steps], "int32");
  }
}

/** Outputs the copy task's target bits as probabilities: a perfect bit-task model. */
class BitOracle extends Module implements TaskModel {
  forward(batch: Batch): Tensor {
    return this.predict(batch);
  }
  loss(): Tensor {
    return eg.tensor(0);
  }
  predict(batch: Batch): Tensor {
    return batch.target;
  }
}

describe("evaluateByLength", () => {
  it("reports each length's metrics, which fall off exactly past the model's reach", () => {
    const model = new PrefixOracle(4);
    const task = createTask("reverse", { seed: 3, maxLength: 3 });
    const rows = evaluateByLength(model, task, [1, 2, 3, 4, 5, 6, 9], { batches: 2, batchSize: 5 });
    expect(rows).toEqual(
      [1, 2, 3, 4, 5, 6, 9].map((L) => ({
        length: L,
        examples: 10,
        metrics: { tokenAccuracy: Math.min(4, L + 1) / (L + 1), exactMatch: L + 1 <= 4 ? 1 : 0 },
      })),
    );
    // Every batch ran in eval mode without recording a graph; training mode came back after.
    expect(model.calls).toHaveLength(14);
    expect(model.calls.every((c) => !c.training && !c.grad)).toBe(true);
    expect(model.training).toBe(true);
    expect(eg.isGradEnabled()).toBe(true);
  });

  it("takes [min, max] ranges, mixes them with single lengths, and leaves an eval-mode model in eval mode", () => {
    const model = new PrefixOracle(3);
    model.eval();
    const task = createTask("reverse", { seed: 1 });
    const rows = evaluateByLength(model, task, [[1, 2], 2, [3, 3]], { batches: 1, batchSize: 8, split: "validation" });
    expect(rows.map((r) => [r.length, r.metrics.exactMatch, r.examples])).toEqual([
      [[1, 2], 1, 8],
      [2, 1, 8],
      [[3, 3], 0, 8],
    ]);
    expect(rows[2]!.metrics.tokenAccuracy).toBe(3 / 4);
    expect(model.training).toBe(false);
  });

  it("reports a bit task's own metrics", () => {
    const rows = evaluateByLength(new BitOracle(), createTask("copy", { width: 3 }), [2, 20], { batches: 1, batchSize: 4 });
    expect(rows).toEqual([
      { length: 2, examples: 4, metrics: { bitAccuracy: 1, bitErrorsPerSequence: 0, exactMatch: 1 } },
      { length: 20, examples: 4, metrics: { bitAccuracy: 1, bitErrorsPerSequence: 0, exactMatch: 1 } },
    ]);
  });

  it("restores the model's mode when evaluation throws", () => {
    const model = new PrefixOracle(2);
    model.predict = () => {
      throw new Error("boom");
    };
    expect(() => evaluateByLength(model, createTask("reverse"), [3])).toThrow("boom");
    expect(model.training).toBe(true);
    expect(eg.isGradEnabled()).toBe(true);
  });

  it("validates its arguments before running the model", () => {
    const model = new PrefixOracle(2);
    const task = createTask("reverse");
    const cases: [() => unknown, RegExp][] = [
      [() => evaluateByLength(model, task, []), /^evaluateByLength: lengths must be a non-empty array/],
      [() => evaluateByLength(model, task, 5 as unknown as number[]), /^evaluateByLength: lengths must be a non-empty array/],
      [
        () => evaluateByLength(model, task, [3, [1, 2, 3] as unknown as [number, number]]),
        /^evaluateByLength: lengths\[1\] must be a length or a \[min, max\] range/,
      ],
      [() => evaluateByLength(model, task, [3], { batches: 0 }), /^evaluateByLength: batches must be a positive integer, got 0$/],
      [() => evaluateByLength(model, task, [3], { batchSize: 2.5 }), /^evaluateByLength: batchSize must be a positive integer, got 2\.5$/],
      [
        () => evaluateByLength(model, task, [3], { split: "dev" as "test" }),
        /^evaluateByLength: split must be one of train, validation, test, got "dev"$/,
      ],
      // The task checks the lengths themselves, naming itself.
      [() => evaluateByLength(model, task, [3, 0]), /^reverse: minLength must be an integer in \[1, 4096\], got 0$/],
      [() => evaluateByLength(model, task, [[5, 2]]), /^reverse: minLength \(5\) must not exceed maxLength \(2\)$/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(ArgumentError);
      expect(call).toThrow(message);
    }
    expect(model.calls).toHaveLength(0);
  });

  it("is exported on the public surface", () => {
    expect(eg.evaluateByLength).toBe(evaluateByLength);
  });
});
