/**
 * Resident memory over a long training run (issue: a 10,000-step run of a small model ends within
 * 10% of its resident memory at step 1,000). Not a timed benchmark; prints rss every 1,000 steps.
 *
 *   node --import tsx bench/trainer-memory.ts [steps]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as eg from "../src/index.js";
import { createTask } from "../src/tasks/registry.js";

const steps = Number(process.argv[2] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), "engram-memory-"));
const task = createTask("copy", { width: 4, maxLength: 5 });
eg.manualSeed(0);
const config = { hiddenSize: 32 };
const { model } = eg.createModel("lstm", config, task);
const optimizer = new eg.optim.Adam(model.parameters(), { lr: 1e-3 });
const rss = new Map<number, number>();
const trainer = new eg.Trainer({
  model,
  optimizer,
  task,
  loss: (b) => model.loss(b),
  predict: (b) => model.predict(b),
  steps,
  batchSize: 8,
  evalEvery: 1000,
  evalBatches: 2,
  checkpointEvery: 2000,
  outDir: dir,
  describe: { model: { name: "lstm", config } },
  progress: false,
  onStep: ({ step }) => {
    if (step % 1000 === 0) rss.set(step, process.memoryUsage().rss / 2 ** 20);
  },
});
await trainer.run();
rmSync(dir, { recursive: true, force: true });
for (const [step, mb] of rss) console.log(`step ${String(step).padStart(6)}  rss ${mb.toFixed(1)} MB`);
const first = rss.get(1000);
const last = rss.get(steps);
if (first !== undefined && last !== undefined) console.log(`rss at step ${steps} / rss at step 1000 = ${(last / first).toFixed(3)}`);
