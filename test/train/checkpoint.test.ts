// Checkpoint files: a round trip keeps everything, and corrupt or hostile files fail with a
// CheckpointError that names the file (never a TypeError or a silent partial load).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.js";
import { Trainer } from "../../src/train/trainer.js";
import { VERSION } from "../../src/version.js";
import { optimizerValues, paramValues, tempDir, tiny } from "./helpers.js";

describe("checkpoint round trip", () => {
  it("restores weights, optimizer state, RNG and metadata exactly", async () => {
    const dir = tempDir();
    const t = tiny({ seed: 4, dropout: true });
    await new Trainer({ ...t.options, steps: 3, outDir: dir, evalEvery: 3 }).run();
    const ck = await loadCheckpoint(join(dir, "checkpoint.safetensors"));
    expect(ck.meta).toMatchObject({ format: CHECKPOINT_FORMAT, engramVersion: VERSION, step: 3, rng: t.generator.getState() });
    expect(ck.meta.model).toEqual(t.options.describe.model);
    expect(Object.keys(ck.meta.metrics!)).toEqual(["loss", "bitAccuracy", "bitErrorsPerSequence", "exactMatch"]);
    expect(Object.fromEntries([...ck.model].map(([k, v]) => [k, Array.from(v.data)]))).toEqual(paramValues(t.model));

    const fresh = tiny({ seed: 99, dropout: true });
    fresh.optimizer.loadStateDict(ck.optimizer!);
    expect(optimizerValues(fresh.optimizer)).toEqual(optimizerValues(t.optimizer));
    // Adam keeps two buffers per parameter, all stepped 3 times
    expect(Object.values(ck.optimizer!.state).map((s) => [s.step, Object.keys(s.buffers).sort()])).toEqual(
      t.model.parameters().map(() => [3, ["expAvg", "expAvgSq"]]),
    );
  });
});

describe("corrupt and hostile checkpoints", () => {
  const dir = tempDir();
  const weights = { "model.w": eg.tensor([1, 2, 3]) };
  const goodMeta = {
    format: CHECKPOINT_FORMAT,
    engramVersion: VERSION,
    model: { name: "lstm", config: { hiddenSize: 16, numLayers: 1 } },
    task: { name: "copy", config: { width: 4 } },
    step: 3,
  };
  let n = 0;
  const file = (bytes: Uint8Array): string => {
    const path = join(dir, `case-${n++}.safetensors`);
    writeFileSync(path, bytes);
    return path;
  };
  const withMeta = (meta: unknown, tensors: Record<string, eg.Tensor> = weights, raw = false): string =>
    file(eg.encodeSafetensors(tensors, { engram: raw ? (meta as string) : JSON.stringify(meta) }));
  const rejects = async (path: string, message: RegExp) => {
    const err = await loadCheckpoint(path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, path).toBeInstanceOf(eg.CheckpointError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^load(Checkpoint|Safetensors): /);
    expect(msg).toContain(path);
    expect(msg).toMatch(message);
  };

  it("accepts the baseline that the hostile cases below vary", async () => {
    const ck = await loadCheckpoint(withMeta(goodMeta));
    expect(ck.meta.step).toBe(3);
    expect([...ck.model.keys()]).toEqual(["w"]);
  });

  it("rejects missing, truncated and random files", async () => {
    await rejects(join(dir, "nope.safetensors"), /cannot read/);
    const good = readFileSync(withMeta(goodMeta));
    for (const len of [0, 5, 8, 20, good.length - 1]) await rejects(file(good.subarray(0, len)), /./);
    const g = new eg.Generator(7);
    for (let i = 0; i < 5; i++) await rejects(file(Uint8Array.from({ length: 64 + 50 * i }, () => g.randint(0, 256))), /./);
  });

  it("rejects a plain safetensors file and bad engram metadata", async () => {
    await rejects(file(eg.encodeSafetensors(weights)), /no "engram" entry/);
    await rejects(file(eg.encodeSafetensors(weights, { other: "x" })), /no "engram" entry/);
    await rejects(withMeta("{not json", weights, true), /not valid JSON/);
    await rejects(withMeta([1, 2]), /not an object/);
    await rejects(withMeta("null", weights, true), /not an object/);
    await rejects(withMeta({ ...goodMeta, format: 2 }), /format 2 is not supported/);
    await rejects(withMeta({ ...goodMeta, format: "1" }), /format "1" is not supported/);
    await rejects(withMeta({ ...goodMeta, model: undefined }), /which model/);
    await rejects(withMeta({ ...goodMeta, model: { name: "lstm" } }), /which model/);
    await rejects(withMeta({ ...goodMeta, model: { name: 3, config: {} } }), /which model/);
    await rejects(withMeta({ ...goodMeta, step: -1 }), /step -1/);
    await rejects(withMeta({ ...goodMeta, step: 1.5 }), /step 1.5/);
    await rejects(withMeta({ ...goodMeta, task: { name: "copy" } }), /task entry/);
    await rejects(withMeta({ ...goodMeta, training: "fast" }), /training entry/);
    await rejects(withMeta({ ...goodMeta, trainer: [1] }), /trainer entry/);
    await rejects(withMeta({ ...goodMeta, metrics: { loss: "low" } }), /metrics/);
    await rejects(withMeta({ ...goodMeta, rng: { s: [1, 2, 3] } }), /RNG state/);
  });

  it("rejects tensors that belong nowhere and malformed optimizer state", async () => {
    const optimizer = { paramGroups: [{ lr: 1, params: [0] }], steps: { "0": 2 } };
    const buf = eg.tensor([0, 0, 0]);
    await rejects(withMeta(goodMeta, { ...weights, stray: buf }), /unexpected tensor stray/);
    await rejects(withMeta(goodMeta, { ...weights, "optim.0.expAvg": buf }), /optimizer tensor optim.0.expAvg belongs to no parameter/);
    for (const key of ["optim.7.expAvg", "optim.toString.expAvg", "optim.__proto__.expAvg", "optim.0", "optim..x"]) {
      await rejects(withMeta({ ...goodMeta, optimizer }, { ...weights, [key]: buf }), /belongs to no parameter/);
    }
    for (const bad of [{}, { paramGroups: {}, steps: {} }, { paramGroups: [], steps: [] }, { paramGroups: [], steps: { "0": -1 } }, 5]) {
      await rejects(withMeta({ ...goodMeta, optimizer: bad }, { ...weights, "optim.0.expAvg": buf }), /optimizer state is malformed/);
    }
    const ok = await loadCheckpoint(withMeta({ ...goodMeta, optimizer }, { ...weights, "optim.0.expAvg": buf }));
    expect(Object.keys(ok.optimizer!.state)).toEqual(["0"]);
    expect(ok.optimizer!.state["0"]!.step).toBe(2);
  });

  it("keeps a buffer named __proto__ as a key, which the optimizer then rejects", async () => {
    const t = tiny();
    const sd = t.optimizer.stateDict();
    await new Trainer({ ...t.options, steps: 1, outDir: dir }).run();
    const path = join(dir, "checkpoint.safetensors");
    const ck = await loadCheckpoint(path);
    const p0 = t.model.parameters()[0]!;
    const meta = { ...ck.meta, optimizer: { paramGroups: sd.paramGroups, steps: { "0": 1 } } };
    const tensors = { ...Object.fromEntries([...ck.model].map(([k, v]) => [`model.${k}`, v])), "optim.0.__proto__": eg.zeros(p0.shape) };
    const hostile = withMeta(meta, tensors);
    const loaded = await loadCheckpoint(hostile);
    expect(Object.keys(loaded.optimizer!.state["0"]!.buffers)).toEqual(["__proto__"]);
    await expect(new Trainer({ ...tiny().options, steps: 2 }).resume(hostile)).rejects.toThrow(/unknown buffer "__proto__"/);
  });

  it("saveCheckpoint refuses to write into a missing directory, naming the path", async () => {
    const path = join(dir, "missing", "checkpoint.safetensors");
    await expect(saveCheckpoint(path, { meta: { model: goodMeta.model, step: 0 }, model: new Map() })).rejects.toThrow(eg.CheckpointError);
    await expect(saveCheckpoint(path, { meta: { model: goodMeta.model, step: 0 }, model: new Map() })).rejects.toThrow(path);
  });
});
