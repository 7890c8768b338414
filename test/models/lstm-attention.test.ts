// lstm-attention, the QA attention baseline: additive attention from the final LSTM state over every
// read step; padding never counts, bAbI stories are read word by word, the spec's size is the state
// dict's, the state dict round-trips, `inspect` shows one distribution over the read symbols, and it
// learns associative retrieval far above chance.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { LstmAttention, lstmAttentionSpec } from "../../src/models/lstm-attention.js";
import { isInspectable } from "../../src/models/task-model.js";
import { AssociativeRetrievalTask } from "../../src/tasks/associative-retrieval.js";
import { BabiTask } from "../../src/tasks/babi/task.js";
import { maxAbsDiff } from "../nn/helpers.js";

const stateElements = (m: eg.nn.Module): number => [...m.stateDict().values()].reduce((n, t) => n + t.size, 0);

describe("lstm-attention", () => {
  const task = new AssociativeRetrievalTask({ seed: 2, minPairs: 1, maxPairs: 3 });
  const babi = new BabiTask({ size: 20 });

  it("is the head of [sum_t a_t h_t; h_T], with a = the additive attention of h_T over the states", () => {
    const m = new LstmAttention(task.inputSize, { hiddenSize: 5, attentionSize: 7, dtype: "float64", generator: new eg.Generator(1) });
    const batch = task.fromText("a1b2c3??b");
    const x = eg.oneHot(batch.input, 40, { dtype: "float64" });
    const states = m.lstm.forward(x).output; // (1, 9, 5)
    const last = states.narrow(1, 8, 1).reshape([1, 5]);
    // v^T tanh(W h_T + U h_t) by hand
    const pre = m.attention.keyProj
      .forward(states)
      .add(m.attention.queryProj.forward(last).reshape([1, 1, 7]))
      .tanh();
    const a = pre
      .matmul(m.attention.v.reshape([7, 1]))
      .reshape([1, 9])
      .softmax(-1);
    const context = a.reshape([1, 1, 9]).matmul(states).reshape([1, 5]);
    const expected = m.head.forward(eg.concat([context, last], 1));
    const { logits, weights } = m.forward(batch.input, Int32Array.of(9));
    expect(maxAbsDiff(weights, a)).toBeLessThan(1e-12);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-12);
  });

  it("ignores padding: each row answers as it would alone, and no weight falls past its length", () => {
    const m = new LstmAttention(task.inputSize, { hiddenSize: 6, dtype: "float64", generator: new eg.Generator(2) });
    const batch = task.batch("train", 8, 0);
    const lengths = Array.from(batch.inputLengths.data);
    expect(new Set(lengths).size).toBeGreaterThan(1);
    const T = batch.input.shape[1]!;
    const { weights } = m.forward(batch.input, Int32Array.from(lengths));
    const logits = m.predict(batch);
    expect(logits.shape).toEqual([8, 1, 40]);
    for (let b = 0; b < 8; b++) {
      const n = lengths[b]!;
      for (let t = n; t < T; t++) expect(weights.data[b * T + t]).toBe(0);
      const text = Array.from(batch.input.data.subarray(b * T, b * T + n), (id) => task.vocabulary[id]).join("");
      const alone = m.predict(task.fromText(text));
      for (let v = 0; v < 40; v++) expect(alone.data[v]).toBeCloseTo(logits.data[b * 40 + v]!, 10);
    }
  });

  it("reads a bAbI story and its question", () => {
    const { model } = eg.createModel("lstm-attention", { hiddenSize: 8, attentionSize: 4 }, babi);
    const batch = babi.batch("train", 3, 0);
    expect(model.predict(batch).shape).toEqual([3, 1, babi.vocabulary.length]);
    expect(Number.isFinite(model.loss(batch).item())).toBe(true);
  });

  it("has the spec's parameter count: the state dict's elements", () => {
    const configs: eg.ModelConfig[] = [{}, { hiddenSize: 7, numLayers: 2, attentionSize: 3 }];
    for (const t of [task, babi]) {
      for (const config of configs) {
        const { model, config: full } = eg.createModel("lstm-attention", config, t);
        expect(lstmAttentionSpec.parameterCount(full, t), `${t.name} ${JSON.stringify(config)}`).toBe(stateElements(model));
      }
    }
  });

  it("round-trips its state dict", () => {
    const a = new LstmAttention(40, { hiddenSize: 4, attentionSize: 3, generator: new eg.Generator(3) });
    expect([...a.stateDict().keys()]).toEqual([
      "lstm.weightIh_l0",
      "lstm.weightHh_l0",
      "lstm.biasIh_l0",
      "lstm.biasHh_l0",
      "attention.v",
      "attention.queryProj.weight",
      "attention.keyProj.weight",
      "head.weight",
      "head.bias",
    ]);
    expect(a.head.weight.shape).toEqual([40, 8]);
    const b = new LstmAttention(40, { hiddenSize: 4, attentionSize: 3, generator: new eg.Generator(4) });
    const batch = task.batch("test", 4, 0);
    expect(maxAbsDiff(a.predict(batch), b.predict(batch))).toBeGreaterThan(1e-3);
    const { missingKeys, unexpectedKeys } = b.loadStateDict(a.stateDict());
    expect([missingKeys, unexpectedKeys]).toEqual([[], []]);
    expect(maxAbsDiff(a.predict(batch), b.predict(batch))).toBe(0);
  });

  it("inspects the attention over the read symbols: one row per example, summing to 1, labelled with tokens", () => {
    const { model } = eg.createModel("lstm-attention", { hiddenSize: 8 }, task);
    if (!isInspectable(model)) throw new Error("lstm-attention must be inspectable");
    const inspection = model.inspect(task.fromText("q4z7??z"));
    expect(inspection.input).toEqual(["q", "4", "z", "7", "?", "?", "z"]);
    expect(inspection.maps).toHaveLength(1);
    const map = inspection.maps[0]!;
    expect(map.colLabels).toEqual(inspection.input);
    expect(map.rowLabels).toEqual(inspection.output);
    expect(map.values).toHaveLength(7);
    expect(map.values.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);

    // a bAbI story is read as its words, then the question's; the model stays in training mode
    const story = eg.createModel("lstm-attention", { hiddenSize: 8 }, babi).model as LstmAttention;
    const batch = babi.batch("validation", 2, 0);
    const map2 = story.inspect(batch).maps[0]!;
    const example = babi.examples.validation[0]!;
    expect(map2.colLabels).toEqual([...example.sentences, example.question].flatMap((text) => eg.tasks.tokenize(text)));
    expect(map2.values.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(story.training).toBe(true);
  });

  it("rejects unknown options and non-QA tasks", () => {
    expect(() => eg.createModel("lstm-attention", { attention: 3 }, task)).toThrow(/^lstm-attention: unknown option "attention"/);
    expect(() => eg.createModel("lstm-attention", {}, eg.tasks.createTask("copy"))).toThrow(
      /^createModel: model lstm-attention handles qa tasks/,
    );
  });

  it("learns associative retrieval with two pairs far above chance (10% among the digits)", () => {
    const two = eg.tasks.createTask("associative-retrieval", { minPairs: 2, maxPairs: 2 });
    const model = new LstmAttention(two.inputSize, { hiddenSize: 24, generator: new eg.Generator(0) });
    const opt = new eg.optim.Adam(model.parameters(), { lr: 3e-2 });
    const validation = two.batch("validation", 200, 0);
    const accuracy = (): number => {
      const { accuracy: a } = eg.noGrad(() => two.evaluate(model.predict(validation), validation));
      return a!.sum / a!.count;
    };
    const before = accuracy();
    let first = 0;
    let last = 0;
    for (let step = 0; step < 100; step++) {
      const loss = model.loss(two.batch("train", 16, step));
      model.zeroGrad();
      loss.backward();
      opt.step();
      if (step < 10) first += loss.item() / 10;
      if (step >= 90) last += loss.item() / 10;
    }
    expect(before).toBeLessThan(0.2);
    expect(last).toBeLessThan(0.7 * first);
    expect(accuracy()).toBeGreaterThan(0.4);
  });
});
