// Neural Turing Machine: shapes and traces, step-by-step equivalence, location-based addressing,
// zero-memory safety, gradient checks in float64, the registry spec, inspection and learning copy.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { NTM, NtmTagger, ntmSpec, type NTMOptions } from "../../src/memory/ntm.js";
import { createModel } from "../../src/models/registry.js";
import { createTask } from "../../src/tasks/registry.js";
import { rng } from "../helpers/rng.js";
import { onTs, setParam } from "../nn/helpers.js";

const seeded = (seed: number, shape: number[], dtype: "float32" | "float64" = "float32"): eg.Tensor => {
  const next = rng(seed);
  return eg.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.round(next())),
    { shape, dtype },
  );
};
const small: NTMOptions = { hiddenSize: 6, memorySlots: 5, memoryWidth: 3, readHeads: 2, writeHeads: 2, shiftRange: 1 };
const rowSums = (x: eg.Tensor): number[] => Array.from(eg.sum(x, -1).data);
const finite = (x: eg.Tensor | null): boolean => x !== null && Array.from(x.data).every(Number.isFinite);

describe("NTM", () => {
  it("maps (B, T, in) to [h, reads] per step and traces distributions over the slots", () => {
    eg.manualSeed(1);
    const ntm = new NTM(4, small);
    const { output, trace, state } = ntm.forward(seeded(1, [3, 7, 4]), { trace: true });
    expect(output.shape).toEqual([3, 7, 6 + 2 * 3]);
    expect(trace!.readWeights.shape).toEqual([3, 7, 2, 5]);
    expect(trace!.writeWeights.shape).toEqual([3, 7, 2, 5]);
    expect(trace!.memory.shape).toEqual([3, 7, 5, 3]);
    expect(state.memory.shape).toEqual([3, 5, 3]);
    for (const s of [...rowSums(trace!.readWeights), ...rowSums(trace!.writeWeights)]) expect(s).toBeCloseTo(1, 5);
  });

  it("gives the same outputs step by step through NTMCell as over the whole sequence", () => {
    for (const controller of ["lstm", "feedforward"] as const) {
      eg.manualSeed(2);
      const ntm = new NTM(4, { ...small, controller, numLayers: 2 });
      const x = seeded(2, [2, 5, 4]);
      const whole = ntm.forward(x).output;
      let state = ntm.cell.initialState(2);
      for (let t = 0; t < 5; t++) {
        const step = ntm.cell.forward(eg.reshape(eg.narrow(x, 1, t, 1), [2, 4]), state);
        state = step.state;
        const expected = eg.reshape(eg.narrow(whole, 1, t, 1), [2, 12]);
        Array.from(step.output.data).forEach((v, i) => expect(v).toBeCloseTo(expected.data[i]!, 5));
      }
    }
  });

  it("moves a head one slot per step with shift +1, gate 0 and a sharp gamma (wrapping around)", () => {
    const ntm = new NTM(2, { hiddenSize: 4, memorySlots: 4, memoryWidth: 3, readHeads: 1, writeHeads: 1 });
    // head outputs: keys 2x3 | adds 1x3 | beta 2, gamma 2 | gates 2, erase 3 | shifts 2x3
    ntm.cell.heads.weight.data.fill(0);
    const bias = ntm.cell.heads.bias!.data;
    bias.fill(0);
    bias.fill(20, 11, 13); // gamma = 1 + softplus(20)
    bias.fill(-20, 13, 15); // interpolation gate ~ 0: keep the previous weighting
    for (let h = 0; h < 2; h++) bias.set([-20, -20, 20], 18 + 3 * h); // all mass on rotation +1
    const { trace } = ntm.forward(seeded(3, [1, 6, 2]), { trace: true });
    for (const w of [trace!.readWeights, trace!.writeWeights]) {
      for (let t = 0; t < 6; t++) {
        const row = Array.from(w.data.subarray(t * 4, (t + 1) * 4));
        expect(row.indexOf(Math.max(...row))).toBe((t + 1) % 4);
        expect(Math.max(...row)).toBeGreaterThan(0.99);
      }
    }
  });

  it("stays finite, with finite gradients, on an all-zero memory", () => {
    eg.manualSeed(4);
    const ntm = new NTM(3, small);
    const state = { ...ntm.cell.initialState(2), memory: eg.zeros([2, 5, 3]) };
    const { output } = ntm.forward(seeded(4, [2, 4, 3]), { state });
    expect(finite(output)).toBe(true);
    eg.sum(eg.square(output)).backward();
    for (const [name, p] of ntm.namedParameters()) expect(finite(p.grad), name).toBe(true);
  });

  it("gradchecks a 3-step NTM in float64 (LSTM and feed-forward controllers, learned memory)", () => {
    onTs(() => {
      for (const controller of ["lstm", "feedforward"] as const) {
        eg.manualSeed(5);
        const opts: NTMOptions = {
          controller,
          hiddenSize: 3,
          memorySlots: 4,
          memoryWidth: 2,
          readHeads: 1,
          writeHeads: 2,
          memoryInit: "learned",
          dtype: "float64",
        };
        const ntm = new NTM(2, opts);
        const names = [...ntm.namedParameters()].map(([k]) => k);
        expect(names).toContain("cell.memoryInit");
        const x = seeded(5, [2, 3, 2], "float64");
        const params = [...ntm.parameters()];
        const fn = (...ps: eg.Tensor[]): eg.Tensor => {
          names.forEach((k, i) => setParam(ntm, k, ps[i]!));
          return ntm.forward(x).output;
        };
        const r = eg.gradcheck(fn, params, { atol: 1e-6, rtol: 1e-4 });
        names.forEach((k, i) => setParam(ntm, k, params[i]!));
        expect(r.ok, `${controller}: ${JSON.stringify(r.worst)} at ${names[r.worst?.input ?? 0]}`).toBe(true);
      }
    });
  });

  it("rejects bad inputs and options with messages naming the module", () => {
    const ntm = new NTM(3, small);
    expect(() => ntm.forward(eg.zeros([2, 4, 5]))).toThrow(/^NTM: input \[2, 4, 5\] must be \(batch, steps >= 1, 3\)/);
    expect(() => new NTM(3, { ...small, memoryInit: "random" as "learned" })).toThrow(/^NTMCell: memoryInit/);
    expect(() => new NTM(3, { ...small, readHeads: 0 })).toThrow(/^NTMCell: readHeads must be an integer >= 1/);
    expect(() => new NTM(3, { ...small, controller: "gru" as "lstm" })).toThrow(/^Controller: controller must be/);
  });
});

describe("ntm model (bit tasks)", () => {
  const copy = createTask("copy", { width: 3, minLength: 1, maxLength: 4 });

  it.each([
    [{}],
    [{ controller: "feedforward", hiddenSize: 7, numLayers: 2, memoryInit: "learned" }],
    [{ hiddenSize: 5, numLayers: 3, memorySlots: 9, memoryWidth: 4, readHeads: 3, writeHeads: 2, shiftRange: 2 }],
  ])("parameterCount equals the built model (%o)", (config) => {
    const { model, config: full } = createModel("ntm", config, copy);
    expect(ntmSpec.parameterCount(full, copy)).toBe(model.numParameters());
  });

  it("rejects options of the wrong kind", () => {
    expect(() => createModel("ntm", { controller: "gru" }, copy)).toThrow(/^ntm: option controller must be one of lstm, feedforward/);
    expect(() => createModel("ntm", { shiftRange: -1 }, copy)).toThrow(/^ntm: option shiftRange must be an integer >= 0/);
  });

  it("round-trips its state dict", () => {
    eg.manualSeed(6);
    const a = new NtmTagger(4, 3, { ...small, memoryInit: "learned" });
    eg.manualSeed(7);
    const b = new NtmTagger(4, 3, { ...small, memoryInit: "learned" });
    const batch = copy.batch("validation", 2, 0);
    expect(Array.from(b.predict(batch).data)).not.toEqual(Array.from(a.predict(batch).data));
    const result = b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(b.predict(batch).data)).toEqual(Array.from(a.predict(batch).data));
    expect([...a.stateDict().keys()]).toContain("ntm.cell.heads.weight");
  });

  it("inspects read and write weightings (time x slot) of the first example and the final memory", () => {
    eg.manualSeed(8);
    const model = new NtmTagger(4, 3, small);
    const batch = copy.batch("validation", 3, 0);
    const steps = batch.inputLengths.data[0]!;
    const view = model.inspect(batch);
    expect(view.input).toHaveLength(steps);
    expect(view.output).toHaveLength(steps);
    expect(view.input[0]).toMatch(/^[01]{4}$/);
    expect(view.maps.map((m) => m.name)).toEqual([
      "read head 0",
      "read head 1",
      "write head 0",
      "write head 1",
      "memory after the last step",
    ]);
    for (const map of view.maps.slice(0, 4)) {
      expect([map.rowAxis, map.colAxis]).toEqual(["time", "memory slot"]);
      expect(map.rowLabels).toHaveLength(steps);
      expect(map.colLabels).toHaveLength(5);
      expect(map.values).toHaveLength(steps * 5);
      for (let t = 0; t < steps; t++) expect(map.values.subarray(t * 5, (t + 1) * 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(view.maps[4]!.values).toHaveLength(5 * 3);
    expect(eg.isGradEnabled()).toBe(true);
  });

  it("learns a small copy task: loss falls and bit accuracy rises", () => {
    const task = createTask("copy", { width: 4, minLength: 1, maxLength: 3, seed: 1 });
    eg.manualSeed(0);
    const model = new NtmTagger(task.inputSize, task.outputSize, { hiddenSize: 24, memorySlots: 12, memoryWidth: 6 });
    const opt = new eg.optim.Adam(model.parameters(), { lr: 1e-2 });
    const evalBatch = task.batch("validation", 32, 0);
    const measure = (): { loss: number; accuracy: number } =>
      eg.noGrad(() => {
        const e = task.evaluate(model.predict(evalBatch), evalBatch);
        return { loss: model.loss(evalBatch).item(), accuracy: e.bitAccuracy!.sum / e.bitAccuracy!.count };
      });
    const before = measure();
    for (let step = 0; step < 80; step++) {
      opt.zeroGrad();
      model.loss(task.batch("train", 8, step)).backward();
      eg.optim.clipGradNorm(model.parameters(), 10);
      opt.step();
    }
    const after = measure();
    expect(after.loss).toBeLessThan(0.8 * before.loss);
    expect(after.accuracy).toBeGreaterThan(0.75);
    expect(after.accuracy).toBeGreaterThan(before.accuracy + 0.2);
  });
});
