// The training loop: determinism, bit-exact resume, the NaN/Inf guard, early stopping, gradient
// accumulation and clipping, on a tiny LSTM over the copy task.
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import type { TaskModel } from "../../src/models/task-model.js";
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from "../../src/train/checkpoint.js";
import { Trainer, type StepInfo, type TrainerOptions } from "../../src/train/trainer.js";
import { optimizerValues, paramValues, readMetrics, tempDir, tiny } from "./helpers.js";

async function losses(seed: number): Promise<number[]> {
  const out: number[] = [];
  const t = tiny({ seed, dropout: true });
  await new Trainer({ ...t.options, steps: 8, evalEvery: 0, onStep: (i) => out.push(i.loss) }).run();
  return out;
}

describe("Trainer determinism", () => {
  it("repeats a run step for step from the same seed, and differs with another seed", async () => {
    const a = await losses(1);
    expect(a).toHaveLength(8);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(await losses(1)).toEqual(a);
    const b = await losses(2);
    expect(b).not.toEqual(a);
  });
});

describe("Trainer resume", () => {
  // dropout (the generator), Adam state, StepLR, clipping, early-stopping state and an evaluation grid
  // (every 4 steps) that the interrupted run's final evaluation (step 6) is not on
  const setup = (steps: number, outDir: string) => {
    const t = tiny({ seed: 5, dropout: true, stepLR: true });
    const trainer = new Trainer({
      ...t.options,
      steps,
      outDir,
      checkpointEvery: 6,
      evalEvery: 4,
      clipGradNorm: 0.5,
      earlyStopping: { metric: "loss", mode: "min", patience: 100 },
    });
    return { ...t, trainer };
  };

  it("continues bit for bit: parameters, optimizer, generator, losses and the checkpoint file", async () => {
    const dirA = tempDir();
    const dirB = tempDir();
    const a = setup(12, dirA);
    const startRng = a.generator.getState();
    expect((await a.trainer.run()).step).toBe(12);
    expect(a.generator.getState()).not.toEqual(startRng); // dropout drew from it

    expect((await setup(6, dirB).trainer.run()).step).toBe(6);
    // as if the run had gone on past its checkpoint and been killed mid-line: resume drops these
    appendFileSync(join(dirB, "metrics.jsonl"), '{"step":7,"loss":1,"split":"train"}\n{"step":8,"lo');
    const b = setup(12, dirB);
    await b.trainer.resume(join(dirB, "checkpoint.safetensors"));
    expect(b.trainer.step).toBe(6);
    const rb = await b.trainer.run();
    expect(rb).toMatchObject({ step: 12, stoppedBy: "steps" });

    expect(paramValues(b.model)).toEqual(paramValues(a.model));
    expect(optimizerValues(b.optimizer)).toEqual(optimizerValues(a.optimizer));
    expect(b.generator.getState()).toEqual(a.generator.getState());

    const train = (dir: string) => readMetrics(dir).filter((r) => r.split === "train");
    const ta = train(dirA);
    expect(ta.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(train(dirB)).toEqual(ta);
    // the schedule did act: the rate halved every 4 steps
    expect(ta.slice(6).map((r) => r.lr)).toEqual([0.005, 0.005, 0.0025, 0.0025, 0.0025, 0.0025]);

    const bytes = (dir: string) => readFileSync(join(dir, "checkpoint.safetensors"));
    expect(bytes(dirB).equals(bytes(dirA))).toBe(true);
  });

  it("rejects a checkpoint of another model, or state that does not fit, naming the file", async () => {
    const dir = tempDir();
    const path = join(dir, "checkpoint.safetensors");
    await new Trainer({ ...tiny().options, steps: 1, outDir: dir }).run();
    const other = tiny({ dropout: true }); // describes itself as dropout-lstm
    await expect(new Trainer({ ...other.options, steps: 2 }).resume(path)).rejects.toThrow(/holds a lstm model, not dropout-lstm/);

    const ck = await loadCheckpoint(path);
    let n = 0;
    const resave = async (meta: Partial<CheckpointMeta>, model = ck.model) => {
      const bad = join(dir, `bad-${n++}.safetensors`);
      await saveCheckpoint(bad, { meta: { ...ck.meta, ...meta }, model, ...(ck.optimizer ? { optimizer: ck.optimizer } : {}) });
      return bad;
    };
    const cases: [string, RegExp][] = [
      [await resave({}, new Map([...ck.model].filter(([k]) => k !== "head.bias"))), /loadStateDict: .*missing keys: head.bias/],
      [await resave({ trainer: { early: { best: "low", bad: 0 } } }), /early-stopping state .* is malformed/],
      [await resave({ trainer: { early: { best: 1, bad: -2 } } }), /early-stopping state .* is malformed/],
    ];
    for (const [file, message] of cases) {
      const err = await new Trainer({ ...tiny().options, steps: 2 }).resume(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(eg.CheckpointError);
      expect((err as Error).message).toMatch(new RegExp(`^resume: ${file}: `));
      expect((err as Error).message).toMatch(message);
    }
  });
});

/** SGD that records every gradient it applies and can poison a parameter after its k-th update. */
class RecordingSGD extends eg.optim.SGD {
  readonly grads: Record<string, number[]>[] = [];
  updates = 0;
  constructor(
    private readonly model: TaskModel,
    lr: number,
    private readonly poisonAt = -1,
  ) {
    super(model.parameters(), { lr });
  }
  override step(): void {
    this.grads.push(Object.fromEntries(this.model.namedParameters().map(([k, p]) => [k, Array.from(p.grad!.data)])));
    super.step();
    if (++this.updates === this.poisonAt) this.model.namedParameters().find(([k]) => k === "head.bias")![1].data[1] = Infinity;
  }
}

describe("Trainer non-finite guard", () => {
  const run = async (extra: (t: ReturnType<typeof tiny>, trainer: () => Trainer) => Partial<TrainerOptions>) => {
    const dir = tempDir();
    const t = tiny({ seed: 3 });
    // the options' closures read the trainer's step once it exists
    const trainer: Trainer = new Trainer({
      ...t.options,
      steps: 10,
      outDir: dir,
      checkpointEvery: 1,
      evalEvery: 0,
      ...extra(t, () => trainer),
    });
    const result = await trainer.run();
    return { t, dir, result, trainer };
  };

  const checkLastGood = async (dir: string, model: TaskModel, step: number) => {
    const ck = await loadCheckpoint(join(dir, "checkpoint.safetensors"));
    expect(ck.meta.step).toBe(step);
    for (const t of ck.model.values()) expect(Array.from(t.data).every(Number.isFinite)).toBe(true);
    return ck;
  };

  for (const bad of [NaN, Infinity]) {
    it(`stops when the loss becomes ${bad}, keeping the last good checkpoint`, async () => {
      const { t, dir, result } = await run((t, trainer) => ({
        loss: (b) => (trainer().step + 1 === 5 ? t.model.loss(b).mul(bad) : t.model.loss(b)),
      }));
      expect(result.stoppedBy).toBe("non-finite");
      expect(result.step).toBe(4);
      expect(result.error).toBe(`non-finite value at step 5: loss is ${bad}`);
      const ck = await checkLastGood(dir, t.model, 4);
      // the guard stopped before the optimizer touched the model: memory and disk agree
      expect(Object.fromEntries([...ck.model].map(([k, v]) => [k, Array.from(v.data)]))).toEqual(paramValues(t.model));
      expect(readMetrics(dir).at(-1)).toMatchObject({ step: 5, event: "non-finite" });
    });
  }

  it("names the first parameter with a non-finite gradient, even when clipGradValue would hide an infinity", async () => {
    const { t, dir, result } = await run((t, trainer) => ({
      clipGradValue: 0.5,
      loss: (b) => {
        if (trainer().step + 1 === 3) {
          // backward accumulates into this: head.weight's gradient gets an infinity at flat index 2
          const w = t.model.namedParameters().find(([k]) => k === "head.weight")![1];
          const g = new Float32Array(w.size);
          g[2] = Infinity;
          w.grad = eg.tensor(g, { shape: w.shape });
        }
        return t.model.loss(b);
      },
    }));
    expect(result).toMatchObject({ stoppedBy: "non-finite", step: 2 });
    expect(result.error).toBe("non-finite value at step 3: gradient of head.weight has Infinity at flat index 2");
    await checkLastGood(dir, t.model, 2);
  });

  it("stops when an update makes a parameter non-finite, before saving it", async () => {
    const { t, dir, result } = await run((t) => ({ optimizer: new RecordingSGD(t.model, 0.1, 3) }));
    expect(result).toMatchObject({ stoppedBy: "non-finite", step: 2 });
    expect(result.error).toBe("non-finite value at step 3: parameter head.bias has Infinity at flat index 1");
    await checkLastGood(dir, t.model, 2);
  });
});

/** A trainer whose validation metric follows a script, to test early stopping exactly. */
class Scripted extends Trainer {
  private i = 0;
  constructor(
    opts: TrainerOptions,
    private readonly values: number[],
  ) {
    super(opts);
  }
  override evaluate(): Record<string, number> {
    return { loss: this.values[this.i++]! };
  }
}

describe("Trainer early stopping", () => {
  const cases: { name: string; mode: "min" | "max"; patience: number; minDelta?: number; values: number[]; stop: number }[] = [
    {
      name: "min: the best value is followed by `patience` worse or equal ones",
      mode: "min",
      patience: 3,
      values: [5, 4, 4, 4.2, 4.1, 3, 2],
      stop: 5,
    },
    { name: "max: equal is not better", mode: "max", patience: 2, values: [0.1, 0.5, 0.4, 0.5, 0.9, 1], stop: 4 },
    { name: "minDelta: small improvements do not count", mode: "min", patience: 2, minDelta: 0.2, values: [1, 0.95, 0.9, 0.5], stop: 3 },
    { name: "improvements reset the count", mode: "min", patience: 2, values: [5, 6, 4, 6, 3, 6, 2, 6], stop: 8 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = tempDir();
      const evals: number[] = [];
      const es = { metric: "loss", mode: c.mode, patience: c.patience, ...(c.minDelta !== undefined ? { minDelta: c.minDelta } : {}) };
      const opts = { ...tiny().options, steps: 8, evalEvery: 1, checkpointEvery: 100, outDir: dir, earlyStopping: es };
      const r = await new Scripted({ ...opts, onEval: (s) => evals.push(s) }, [...c.values, 0, 0]).run();
      const stopped = c.stop < 8;
      expect(r.step).toBe(c.stop);
      expect(r.stoppedBy).toBe(stopped ? "early-stopping" : "steps");
      expect(evals).toHaveLength(c.stop);
      // the stopping step is saved with the early-stopping state
      const ck = await loadCheckpoint(join(dir, "checkpoint.safetensors"));
      expect(ck.meta.step).toBe(c.stop);
      if (stopped) expect((ck.meta.trainer!.early as { bad: number }).bad).toBe(c.patience);
    });
  }

  it("rejects an unknown metric, a bad mode or patience before training", () => {
    const opts = { ...tiny().options, steps: 2 };
    expect(() => new Trainer({ ...opts, earlyStopping: { metric: "acuracy", mode: "max", patience: 2 } })).toThrow(
      /metric "acuracy" is not one of loss, bitAccuracy/,
    );
    expect(() => new Trainer({ ...opts, earlyStopping: { metric: "bitAccuracy", mode: "up" as "max", patience: 2 } })).toThrow(
      eg.ArgumentError,
    );
    expect(() => new Trainer({ ...opts, earlyStopping: { metric: "loss", mode: "min", patience: 0 } })).toThrow(eg.ArgumentError);
    expect(() => new Trainer({ ...opts, earlyStopping: { metric: "bitAccuracy", mode: "max", patience: 1 } })).not.toThrow();
  });
});

describe("Trainer gradient accumulation and clipping", () => {
  /** The mean gradient of batches `indices` of the train split at the initial parameters. */
  const manualGrad = (indices: number[], batchSize: number) => {
    const t = tiny({ seed: 9 });
    const sum: Record<string, number[]> = {};
    const losses: number[] = [];
    for (const i of indices) {
      t.model.zeroGrad();
      const loss = t.model.loss(t.task.batch("train", batchSize, i));
      losses.push(loss.item());
      loss.backward();
      for (const [k, p] of t.model.namedParameters()) {
        const acc = (sum[k] ??= new Array<number>(p.size).fill(0));
        p.grad!.data.forEach((v, j) => (acc[j]! += v / indices.length));
      }
    }
    return { grad: sum, loss: losses.reduce((a, b) => a + b) / indices.length };
  };
  const norm = (g: Record<string, number[]>) => Math.sqrt(Object.values(g).reduce((s, a) => a.reduce((t, v) => t + v * v, s), 0));
  const expectClose = (got: Record<string, number[]>, want: Record<string, number[]>, scale = 1) => {
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const [k, w] of Object.entries(want)) {
      const tol = 1e-5 * Math.max(...w.map(Math.abs)) * scale + 1e-12;
      got[k]!.forEach((v, j) => expect(Math.abs(v - w[j]! * scale), `${k}[${j}]`).toBeLessThanOrEqual(tol));
    }
  };

  // lr 0 keeps the parameters at their initial values, so every step's gradient can be recomputed
  const runAccum = async (clip?: number) => {
    const t = tiny({ seed: 9 });
    const optimizer = new RecordingSGD(t.model, 0);
    const infos: StepInfo[] = [];
    const opts = { ...t.options, optimizer, steps: 2, batchSize: 3, gradAccumulation: 2, evalEvery: 0 };
    await new Trainer({ ...opts, ...(clip !== undefined ? { clipGradNorm: clip } : {}), onStep: (i) => infos.push(i) }).run();
    return { grads: optimizer.grads, infos };
  };

  it("averages the gradients of micro-batches 2s and 2s+1 for step s", async () => {
    const { grads, infos } = await runAccum();
    for (const s of [0, 1]) {
      const want = manualGrad([2 * s, 2 * s + 1], 3);
      expectClose(grads[s]!, want.grad);
      expect(infos[s]!.loss).toBeCloseTo(want.loss, 6);
      expect(infos[s]!.gradNorm).toBeUndefined();
    }
    // the two steps saw different data
    expect(grads[1]).not.toEqual(grads[0]);
  });

  it("clips the accumulated gradient to clipGradNorm and reports its norm before clipping", async () => {
    const maxNorm = 1e-3;
    const { grads, infos } = await runAccum(maxNorm);
    for (const s of [0, 1]) {
      const want = manualGrad([2 * s, 2 * s + 1], 3);
      const total = norm(want.grad);
      expect(total).toBeGreaterThan(maxNorm * 10);
      expect(infos[s]!.gradNorm! / total).toBeCloseTo(1, 5);
      expectClose(grads[s]!, want.grad, maxNorm / (total + 1e-6));
      expect(norm(grads[s]!)).toBeCloseTo(maxNorm, 7);
    }
  });
});

describe("Trainer arguments", () => {
  it("rejects bad step counts and sizes with ArgumentError", () => {
    const opts = tiny().options;
    for (const bad of [
      { steps: 0 },
      { steps: 1.5 },
      { steps: 2, batchSize: 0 },
      { steps: 2, gradAccumulation: 0 },
      { steps: 2, evalEvery: -1 },
    ]) {
      expect(() => new Trainer({ ...opts, ...bad }), JSON.stringify(bad)).toThrow(eg.ArgumentError);
    }
  });
});
