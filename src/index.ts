/**
 * Node entry: loads the native addon when it was built and makes it the default backend
 * (ENGRAM_BACKEND=ts|native overrides). Native kernels fall back to ts per kernel and dtype.
 */
import { registerNative, setBackend, type BackendName } from "./backend/index.js";
import { loadNative } from "./backend/native/loader.js";
import { createNativeKernels } from "./backend/native/native-kernels.js";
import { tsKernels } from "./backend/ts/kernels.js";
import { BackendError } from "./core/errors.js";

const loaded = loadNative();
if (loaded.addon) {
  const addon = loaded.addon;
  registerNative({
    kernels: createNativeKernels(addon, tsKernels),
    info: () => addon.info(),
    setGemm: (name) => addon.setGemm(name),
    setThreads: (n) => {
      addon.setThreads(n);
    },
  });
} else {
  registerNative({ error: loaded.error });
}

const wanted = process.env.ENGRAM_BACKEND;
if (wanted !== undefined && wanted !== "" && wanted !== "native" && wanted !== "ts") {
  throw new BackendError(`ENGRAM_BACKEND: unknown backend ${JSON.stringify(wanted)} (expected "native" or "ts")`);
}
if (wanted === "native" && !loaded.addon) {
  throw new BackendError(`ENGRAM_BACKEND=native: the native backend is unavailable: ${loaded.error}`);
}
setBackend((wanted as BackendName | undefined) || (loaded.addon ? "native" : "ts"));

export * from "./engram.js";
// Node-only: files and the training loop (it writes checkpoints and logs)
export { saveSafetensors, loadSafetensors, writeFileAtomic } from "./io/safetensors-file.js";
export { Trainer, type TrainerOptions, type TrainResult, type StepInfo, type EarlyStopping } from "./train/trainer.js";
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_FILE, type Checkpoint, type CheckpointMeta } from "./train/checkpoint.js";
export { Progress, type ProgressOptions } from "./train/progress.js";
