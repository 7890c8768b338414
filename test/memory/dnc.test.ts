// Differentiable Neural Computer: shapes and invariants of a running model, allocation of
// free slots and forward reads along the links, zero-memory safety, gradient checks in
// float64, the registry spec, inspection and learning.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { DNC, DncTagger, dncInterfaceSize, dncSpec, type DNCOptions } from "../../src/memory/dnc.js";
import { createModel } from "../../src/models/registry.js";
import { createTask } from "../../src/tasks/registry.js";
import { rng } from "../helpers/rng.js";
import { onTs, setParam } from "../nn/helpers.js";

const bits = (seed: number, shape: number[], dtype: "float32" | "float64" = "float32"): eg.Tensor => {
  const next = rng(seed);
  return eg.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.round(next())),
    { shape, dtype },
  );
};
const small: DNCOptions = { hiddenSize: 6, memorySlots: 5, memoryWidth: 3, readHeads: 2 };
const finite = (x: eg.Tensor | null): boolean => x !== null && Array.from(x.data).every(Number.isFinite);
const sums = (x: eg.Tensor): number[] => Array.from(eg.sum(x, -1).data);

describe("DNC", () => {
  it("maps (B, T, in) to [h, reads] and keeps its weightings, usage and links within bounds", () => {
    eg.manualSeed(1);
    const dnc = new DNC(4, small);
    const { output, trace, state } = dnc.forward(bits(1, [3, 9, 4]), { trace: true });
    expect(output.shape).toEqual([3, 9, 6 + 2 * 3]);
    const t = trace!;
    expect(t.readWeights.shape).toEqual([3, 9, 2, 5]);
    for (const m of [t.writeWeights, t.usage, t.allocation]) expect(m.shape).toEqual([3, 9, 1, 5]);
    expect(t.memory.shape).toEqual([3, 9, 5, 3]);
    const tol = 1e-5;
    for (const s of [...sums(t.readWeights), ...sums(t.writeWeights), ...sums(t.allocation), ...sums(state.precedence)])
      expect(s).toBeLessThanOrEqual(1 + tol);
    for (const v of t.usage.data) expect(v >= 0 && v <= 1 + tol).toBe(true);
    for (const s of [...sums(state.link), ...Array.from(eg.sum(state.link, -2).data)]) expect(s).toBeLessThanOrEqual(1 + tol);
    for (let b = 0; b < 3; b++) for (let i = 0; i < 5; i++) expect(state.link.data[b * 25 + i * 6]).toBe(0);
  });

  it("gives the same outputs step by step through DNCCell as over the whole sequence", () => {
    eg.manualSeed(2);
    const dnc = new DNC(4, { ...small, numLayers: 2 });
    const x = bits(2, [2, 5, 4]);
    const whole = dnc.forward(x).output;
    let state = dnc.cell.initialState(2);
    for (let t = 0; t < 5; t++) {
      const step = dnc.cell.forward(eg.reshape(eg.narrow(x, 1, t, 1), [2, 4]), state);
      state = step.state;
      const expected = eg.reshape(eg.narrow(whole, 1, t, 1), [2, 12]);
      Array.from(step.output.data).forEach((v, i) => expect(v).toBeCloseTo(expected.data[i]!, 5));
    }
  });

  it("writes to free slots and reads forward along the temporal links", () => {
    const [r, w] = [1, 3];
    const dnc = new DNC(2, { hiddenSize: 4, memorySlots: 4, memoryWidth: w, readHeads: r });
    // interface: keys r*w, write key w, vector w | strengths r + 1 | erase w, free r, alloc, write | modes 3r
    dnc.cell.interface.weight.data.fill(0);
    const bias = dnc.cell.interface.bias!.data;
    bias.fill(0);
    const gates = r * w + 2 * w + r + 1;
    bias.fill(-20, gates + w, gates + w + r); // free gates off: written slots stay used
    bias.fill(20, gates + w + r, gates + w + r + 2); // allocation and write gates on
    bias.set([-20, -20, 20], gates + w + r + 2); // read mode: forward
    expect(bias.length).toBe(dncInterfaceSize(r, w));
    // slot 0 is in use, was written last and is being read
    const oneHot = (shape: number[]): eg.Tensor => eg.tensor([1, 0, 0, 0], { shape });
    const state = { ...dnc.cell.initialState(1), usage: oneHot([1, 4]), precedence: oneHot([1, 4]), readWeights: oneHot([1, 1, 4]) };
    const { trace } = dnc.forward(bits(3, [1, 3, 2]), { state, trace: true });
    const t = trace!;
    const argmax = (m: eg.Tensor, step: number): [number, number] => {
      const row = Array.from(m.data.subarray(step * 4, (step + 1) * 4));
      const best = Math.max(...row);
      return [row.indexOf(best), best];
    };
    const written = new Set<number>([0]);
    for (let step = 0; step < 3; step++) {
      // each step allocates a slot never used before (the least used one: residues decide the order)
      const [slot, weight] = argmax(t.writeWeights, step);
      expect(written.has(slot)).toBe(false);
      expect(weight).toBeGreaterThan(0.99);
      written.add(slot);
      // the forward read follows the new link from the slot read before to the slot just written
      const [readSlot, readWeight] = argmax(t.readWeights, step);
      expect(readSlot).toBe(slot);
      expect(readWeight).toBeGreaterThan(0.99);
    }
    expect(Array.from(t.usage.data.subarray(8, 12)).filter((u) => u > 0.99)).toHaveLength(3);
  });

  it("starts from an all-zero memory with finite outputs and gradients", () => {
    eg.manualSeed(4);
    const dnc = new DNC(3, small);
    expect(Array.from(dnc.cell.initialState(2).memory.data).every((v) => v === 0)).toBe(true);
    const { output } = dnc.forward(bits(4, [2, 4, 3]));
    expect(finite(output)).toBe(true);
    eg.sum(eg.square(output)).backward();
    for (const [name, p] of dnc.namedParameters()) expect(finite(p.grad), name).toBe(true);
  });

  it("gradchecks a 3-step DNC in float64", () => {
    onTs(() => {
      eg.manualSeed(5);
      const dnc = new DNC(2, { hiddenSize: 3, memorySlots: 4, memoryWidth: 2, readHeads: 2, dtype: "float64" });
      const names = [...dnc.namedParameters()].map(([k]) => k);
      const params = [...dnc.parameters()];
      const x = bits(5, [2, 3, 2], "float64");
      const fn = (...ps: eg.Tensor[]): eg.Tensor => {
        names.forEach((k, i) => setParam(dnc, k, ps[i]!));
        return dnc.forward(x).output;
      };
      const r = eg.gradcheck(fn, params, { atol: 1e-6, rtol: 1e-4 });
      names.forEach((k, i) => setParam(dnc, k, params[i]!));
      expect(r.ok, `${JSON.stringify(r.worst)} at ${names[r.worst?.input ?? 0]}`).toBe(true);
    });
  });
});

describe("dnc model (bit tasks)", () => {
  const copy = createTask("copy", { width: 3, minLength: 1, maxLength: 4 });

  it.each([
    [{}],
    [{ controller: "feedforward", hiddenSize: 7, numLayers: 2 }],
    [{ hiddenSize: 5, memorySlots: 9, memoryWidth: 4, readHeads: 1 }],
  ])("parameterCount equals the built model (%o)", (config) => {
    const { model, config: full } = createModel("dnc", config, copy);
    expect(dncSpec.parameterCount(full, copy)).toBe(model.numParameters());
  });

  it("round-trips its state dict", () => {
    eg.manualSeed(6);
    const a = new DncTagger(4, 3, small);
    eg.manualSeed(7);
    const b = new DncTagger(4, 3, small);
    const batch = copy.batch("validation", 2, 0);
    expect(Array.from(b.predict(batch).data)).not.toEqual(Array.from(a.predict(batch).data));
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(b.predict(batch).data)).toEqual(Array.from(a.predict(batch).data));
    expect([...a.stateDict().keys()]).toContain("dnc.cell.interface.weight");
  });

  it("inspects read/write weightings, usage and allocation (time x slot) and the final memory", () => {
    eg.manualSeed(8);
    const model = new DncTagger(4, 3, small);
    const batch = copy.batch("validation", 3, 1);
    const steps = batch.inputLengths.data[0]!;
    const view = model.inspect(batch);
    expect(view.input).toHaveLength(steps);
    expect(view.output).toHaveLength(steps);
    expect(view.maps.map((m) => m.name)).toEqual([
      "read head 0",
      "read head 1",
      "write head",
      "usage",
      "allocation",
      "memory after the last step",
    ]);
    for (const map of view.maps.slice(0, 5)) {
      expect([map.rowAxis, map.colAxis]).toEqual(["time", "memory slot"]);
      expect(map.values).toHaveLength(steps * 5);
      expect(map.rowLabels).toHaveLength(steps);
    }
    expect(view.maps[5]!.values).toHaveLength(5 * 3);
  });

  it("learns a small copy task: loss falls", () => {
    const task = createTask("copy", { width: 4, minLength: 1, maxLength: 3, seed: 2 });
    eg.manualSeed(0);
    const model = new DncTagger(task.inputSize, task.outputSize, { hiddenSize: 24, memorySlots: 8, memoryWidth: 6, readHeads: 1 });
    const opt = new eg.optim.Adam(model.parameters(), { lr: 1e-2 });
    const evalBatch = task.batch("validation", 32, 0);
    const measure = (): number => eg.noGrad(() => model.loss(evalBatch).item());
    const before = measure();
    for (let step = 0; step < 60; step++) {
      opt.zeroGrad();
      model.loss(task.batch("train", 8, step)).backward();
      eg.optim.clipGradNorm(model.parameters(), 10);
      opt.step();
    }
    expect(measure()).toBeLessThan(0.85 * before);
  });
});
