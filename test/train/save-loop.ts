/**
 * Child process for the kill -9 test: saves checkpoints to `<dir>/checkpoint.safetensors` in a
 * tight loop, alternating two complete versions (step 1 with every weight 1, step 2 with every
 * weight 2), until it is killed. Prints "ready" before the first save and "saved" after each one.
 */
import { join } from "node:path";
import { Tensor } from "../../src/autograd/tensor.js";
import { saveCheckpoint } from "../../src/train/checkpoint.js";

/** Weights big enough (4 MB; atomic-save.test.ts checks this size) that a kill often lands mid-write. */
const KILL_TEST_SIZE = 1 << 20;

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: save-loop.ts <dir>");
const path = join(dir, "checkpoint.safetensors");
const versions = [1, 2].map((step) => ({
  meta: { model: { name: "kill-test", config: {} }, step },
  model: new Map([
    ["w", new Tensor(new Float32Array(KILL_TEST_SIZE).fill(step), [KILL_TEST_SIZE], "float32")],
    ["b", new Tensor(new Float32Array([step, step]), [2], "float32")],
  ]),
}));

process.stdout.write("ready\n");
for (let i = 0; ; i++) {
  await saveCheckpoint(path, versions[i % 2]!);
  process.stdout.write("saved\n");
}
