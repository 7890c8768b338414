// lstm-qa, the QA baseline: it answers from each row's last state, reads bAbI stories, matches its
// spec's parameter count, round-trips its state dict and learns associative retrieval past chance.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { LstmQA, lstmQaSpec } from "../../src/models/lstm-qa.js";
import { AssociativeRetrievalTask } from "../../src/tasks/associative-retrieval.js";
import { BabiTask } from "../../src/tasks/babi/task.js";
import { maxAbsDiff } from "../nn/helpers.js";

describe("lstm-qa", () => {
  const task = new AssociativeRetrievalTask({ seed: 2, minPairs: 1, maxPairs: 3 });

  it("answers from each row's last step: padding after a row changes nothing", () => {
    const m = new LstmQA(task.inputSize, { hiddenSize: 6, dtype: "float64", generator: new eg.Generator(1) });
    const batch = task.batch("train", 8, 0);
    expect(new Set(batch.inputLengths.data).size).toBeGreaterThan(1);
    const logits = m.predict(batch);
    expect(logits.shape).toEqual([8, 1, 40]);
    const T = batch.input.shape[1]!;
    for (let b = 0; b < 8; b++) {
      const n = batch.inputLengths.data[b]!;
      const text = Array.from(batch.input.data.subarray(b * T, b * T + n), (id) => task.vocabulary[id]).join("");
      const alone = m.predict(task.fromText(text));
      for (let v = 0; v < 40; v++) expect(alone.data[v]).toBeCloseTo(logits.data[b * 40 + v]!, 10);
    }
  });

  it("uses the top layer's state with two layers", () => {
    const m = new LstmQA(task.inputSize, { hiddenSize: 5, numLayers: 2, dtype: "float64", generator: new eg.Generator(2) });
    const batch = task.fromText("a1b2??b");
    const ids = batch.input;
    const x = eg.oneHot(ids, 40, { dtype: "float64" });
    const top = m.lstm.forward(x).output.narrow(1, 6, 1).reshape([1, 5]);
    const expected = m.head.forward(top);
    expect(maxAbsDiff(m.predict(batch).reshape([1, 40]), expected)).toBeLessThan(1e-12);
  });

  it("reads a bAbI story and its question", () => {
    const babi = new BabiTask({ size: 20 });
    const { model } = eg.createModel("lstm-qa", { hiddenSize: 8 }, babi);
    const batch = babi.batch("train", 3, 0);
    expect(model.predict(batch).shape).toEqual([3, 1, babi.vocabulary.length]);
    expect(Number.isFinite(model.loss(batch).item())).toBe(true);
  });

  it("has the spec's parameter count and a PyTorch-style state dict that round-trips", () => {
    for (const config of [{}, { hiddenSize: 7, numLayers: 2 }] as eg.ModelConfig[]) {
      const { model } = eg.createModel("lstm-qa", config, task);
      expect(model.numParameters()).toBe(lstmQaSpec.parameterCount({ ...lstmQaSpec.defaults, ...config }, task));
    }
    const a = new LstmQA(40, { hiddenSize: 4, generator: new eg.Generator(3) });
    expect([...a.stateDict().keys()]).toEqual([
      "lstm.weightIh_l0",
      "lstm.weightHh_l0",
      "lstm.biasIh_l0",
      "lstm.biasHh_l0",
      "head.weight",
      "head.bias",
    ]);
    const b = new LstmQA(40, { hiddenSize: 4, generator: new eg.Generator(4) });
    const batch = task.batch("test", 4, 0);
    expect(maxAbsDiff(a.predict(batch), b.predict(batch))).toBeGreaterThan(1e-3);
    b.loadStateDict(a.stateDict());
    expect(maxAbsDiff(a.predict(batch), b.predict(batch))).toBe(0);
  });

  it("rejects unknown options and non-QA tasks", () => {
    expect(() => eg.createModel("lstm-qa", { hidden: 3 }, task)).toThrow(/^lstm-qa: unknown option "hidden"/);
    expect(() => eg.createModel("lstm-qa", {}, eg.tasks.createTask("copy"))).toThrow(/^createModel: model lstm-qa handles qa tasks/);
  });

  it("learns associative retrieval with one pair (the answer is the only digit) far above chance", () => {
    const easy = new AssociativeRetrievalTask({ seed: 1, minPairs: 1, maxPairs: 1 });
    const model = new LstmQA(easy.inputSize, { hiddenSize: 32, generator: new eg.Generator(0) });
    const opt = new eg.optim.Adam(model.parameters(), { lr: 2e-2 });
    for (let step = 0; step < 120; step++) {
      const loss = model.loss(easy.batch("train", 32, step));
      model.zeroGrad();
      loss.backward();
      opt.step();
    }
    const batch = easy.batch("validation", 200, 0);
    const { accuracy } = eg.noGrad(() => easy.evaluate(model.predict(batch), batch));
    expect(accuracy!.sum / accuracy!.count).toBeGreaterThan(0.6);
  });
});
