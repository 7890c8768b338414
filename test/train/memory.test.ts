// A long run keeps memory flat: nothing the training loop makes per step (graphs, batches, log
// records, progress output) may stay reachable. Measured after forcing garbage collection, so
// the check is about retained memory, not about when the collector happens to run.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { createTask } from "../../src/tasks/registry.js";
import { Trainer } from "../../src/train/trainer.js";
import { tempDir } from "./helpers.js";

// vitest starts workers without --expose-gc; a fresh context created after this flag gets `gc`
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("Trainer memory", () => {
  it("retains no memory per step over 3,000 steps", async () => {
    const dir = tempDir();
    const task = createTask("copy", { width: 2, maxLength: 2 });
    eg.manualSeed(0);
    const { model } = eg.createModel("lstm", { hiddenSize: 4 }, task);
    const optimizer = new eg.optim.Adam(model.parameters(), { lr: 1e-3 });
    const sink = { write: () => true } as unknown as NodeJS.WritableStream; // plain progress lines, discarded
    const samples = new Map<number, { retained: number; rss: number }>();
    const trainer = new Trainer({
      model,
      optimizer,
      scheduler: new eg.optim.ExponentialLR(optimizer, { gamma: 0.9999 }),
      task,
      loss: (b) => model.loss(b),
      predict: (b) => model.predict(b),
      steps: 3000,
      batchSize: 2,
      clipGradNorm: 1,
      evalEvery: 500,
      evalBatches: 1,
      checkpointEvery: 1000,
      outDir: dir,
      describe: { model: { name: "lstm", config: { hiddenSize: 4 } } },
      progress: sink,
      onStep: ({ step }) => {
        if (step % 300 !== 0) return;
        gc();
        gc(); // a second pass frees the typed arrays whose wrappers the first one collected
        const m = process.memoryUsage();
        // the JS heap plus typed-array storage, where every tensor's data lives
        samples.set(step, { retained: m.heapUsed + m.arrayBuffers, rss: m.rss });
      },
    });
    expect((await trainer.run()).step).toBe(3000);

    const first = samples.get(300)!;
    const last = samples.get(3000)!;
    const mb = (b: number) => (b / 2 ** 20).toFixed(2);
    const report = [...samples].map(([s, v]) => `${s}: ${mb(v.retained)} MB retained, ${mb(v.rss)} MB rss`).join("\n");
    // one leaked loss graph per step would be tens of KB per step, i.e. tens of MB here
    expect(last.retained - first.retained, report).toBeLessThan(3 * 2 ** 20);
    expect(last.rss, report).toBeLessThan(first.rss * 1.15 + 8 * 2 ** 20);
  });
});
