// Seq2Seq: sizes, padding, state dicts, inspection, learning on reverse, greedy vs beam decoding.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { Seq2Seq, seq2seqSpec, type Seq2SeqOptions } from "../../src/models/seq2seq.js";
import { resolveConfig } from "../../src/models/task-model.js";
import { createTask } from "../../src/tasks/registry.js";
import type { Batch } from "../../src/tasks/task.js";

const task = createTask("reverse", { maxLength: 6 });
const V = task.inputSize;
const ATTENTIONS = ["none", "bahdanau", "luong-dot", "luong-general", "luong-concat"] as const;
/** One of each decoder, with the Luong options that change its structure. */
const VARIANTS: Seq2SeqOptions[] = [
  { attention: "none" },
  { attention: "bahdanau" },
  { attention: "bahdanau", rnn: "lstm" },
  { attention: "luong-general" },
  { attention: "luong-dot", rnn: "lstm", inputFeeding: false },
  { attention: "luong-concat", luongMode: "local-p", luongWindow: 2 },
];
const small = (o: Seq2SeqOptions, seed = 0): Seq2Seq =>
  new Seq2Seq(V, V, { embedDim: 5, hiddenSize: 6, ...o, vocabulary: task.vocabulary, generator: new eg.Generator(seed) });

/** Row b of a batch on its own, trimmed to its lengths (no padding at all). */
function rowAlone(batch: Batch, b: number): Batch {
  const n = batch.inputLengths.data[b]!;
  const m = batch.targetLengths.data[b]!;
  const [Tin, Tout] = [batch.input.shape[1]!, batch.target.shape[1]!];
  const row = (t: eg.Tensor, width: number, len: number): eg.Tensor =>
    eg.tensor(Array.from(t.data.subarray(b * width, b * width + len)), { dtype: t.dtype, shape: [1, len] });
  return {
    input: row(batch.input, Tin, n),
    target: row(batch.target, Tout, m),
    decoderInput: row(batch.decoderInput!, Tout, m),
    mask: row(batch.mask, Tout, m),
    inputLengths: eg.tensor([n], { dtype: "int32" }),
    targetLengths: eg.tensor([m], { dtype: "int32" }),
  };
}

/** Trains with Adam on reverse batches; returns the validation loss before and after and the final model. */
function train(model: Seq2Seq, steps: number, lr: number): { before: number; after: number } {
  const opt = new eg.optim.Adam(model.parameters(), { lr });
  const valid = task.batch("validation", 64, 0);
  const before = eg.noGrad(() => model.loss(valid).item());
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    model.loss(task.batch("train", 32, s)).backward();
    eg.optim.clipGradNorm(model.parameters(), 5);
    opt.step();
  }
  model.eval();
  return { before, after: eg.noGrad(() => model.loss(valid).item()) };
}

describe("Seq2Seq sizes", () => {
  it("parameterCount matches the built model for every configuration", () => {
    let checked = 0;
    for (const attention of ATTENTIONS) {
      for (const rnn of ["gru", "lstm"]) {
        for (const numLayers of [1, 2]) {
          const luong = attention.startsWith("luong");
          for (const inputFeeding of luong ? [true, false] : [true]) {
            for (const luongMode of luong ? ["global", "local-p"] : ["global"]) {
              const config = resolveConfig(seq2seqSpec, { attention, rnn, numLayers, inputFeeding, luongMode, embedDim: 3, hiddenSize: 4 });
              const model = seq2seqSpec.create(config, task);
              expect(seq2seqSpec.parameterCount(config, task), JSON.stringify(config)).toBe(model.numParameters());
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(2 * 2 * (2 + 3 * 4));
  });

  it("rejects bad configurations with the option named", () => {
    expect(() => small({ attention: "luong-dot", hiddenSize: 5 })).toThrow(/^Seq2Seq: Luong attention needs an even hiddenSize/);
    expect(() => small({ attention: "cosine" as "none" })).toThrow(/^Seq2Seq: attention must be one of/);
    expect(() => small({ rnn: "rnn" as "gru" })).toThrow(/^Seq2Seq: rnn must be "gru" or "lstm"/);
    expect(() => small({ beamSize: -1 })).toThrow(/^Seq2Seq: beamSize/);
    expect(() => small({ maxLengthFactor: 0 })).toThrow(/^Seq2Seq: maxLengthFactor/);
    expect(() => resolveConfig(seq2seqSpec, { attenton: "none" })).toThrow(/did you mean "attention"/);
    const m = small({});
    const batch = task.batch("train", 2, 0);
    expect(() => m.loss({ ...batch, decoderInput: undefined })).toThrow(/^Seq2Seq: teacher forcing needs batch.decoderInput/);
    expect(() => m.predict({ ...batch, input: eg.zeros([2, 3]) })).toThrow(/^Seq2Seq: expected a token batch/);
  });
});

describe("Seq2Seq bahdanau GRU decoder", () => {
  it("bahdanau GRU: the fused decoder loop gives the step-by-step loop's logits and parameter gradients", () => {
    // teacherForced(batch, true) keeps the attention weights, which only the step-by-step loop returns
    const m = new Seq2Seq(V, V, { embedDim: 5, hiddenSize: 6, dtype: "float64", generator: new eg.Generator(11) });
    const batch = task.batch("train", 5, 4);
    const lossOf = (keepWeights: boolean): { logits: eg.Tensor; grads: eg.Tensor[] } => {
      const { logits } = m.teacherForced(batch, keepWeights);
      const params = m.parameters();
      for (const p of params) p.grad = null;
      eg.sum(eg.mul(logits, eg.sin(logits))).backward();
      return { logits, grads: params.map((p) => p.grad ?? eg.zerosLike(p)) };
    };
    const fused = lossOf(false);
    const stepwise = lossOf(true);
    const diff = (a: eg.Tensor, b: eg.Tensor): number => eg.max(eg.abs(eg.sub(a, b))).item();
    expect(diff(fused.logits, stepwise.logits)).toBeLessThan(1e-12);
    fused.grads.forEach((g, i) => expect(diff(g, stepwise.grads[i]!), `parameter ${i}`).toBeLessThan(1e-12));
  });
});

describe.each(VARIANTS)("Seq2Seq %o", (opts) => {
  it("shapes: a scalar loss, logits (Tout, B, V), int32 predictions that end in EOS", () => {
    const m = small(opts);
    const batch = task.batch("train", 5, 1);
    const loss = m.loss(batch);
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.item())).toBe(true);
    expect(loss.item()).toBeGreaterThan(0);
    const { logits } = m.teacherForced(batch, false);
    expect(logits.shape).toEqual([batch.target.shape[1], 5, V]);
    m.eval();
    const pred = m.predict(batch);
    expect(pred.dtype).toBe("int32");
    expect(pred.shape[0]).toBe(5);
    for (let b = 0; b < 5; b++) {
      const row = Array.from(pred.data.subarray(b * pred.shape[1]!, (b + 1) * pred.shape[1]!));
      // a row ends at its EOS, or unfinished at its length limit (then only padding follows)
      const len = row.includes(2) ? row.indexOf(2) + 1 : row.findLastIndex((id) => id !== 0) + 1;
      // at most ceil(2 * source length) + 1 tokens, then padding
      expect(len).toBeLessThanOrEqual(2 * batch.inputLengths.data[b]! + 1);
      expect(row.slice(len).every((id) => id === 0)).toBe(true);
      expect(row.slice(0, len).every((id) => id >= 0 && id < V)).toBe(true);
    }
  });

  it("padding never changes a row's results: a row alone equals the same row in a padded batch", () => {
    const m = small(opts, 3);
    m.eval();
    const batch = task.batch("validation", 6, 2);
    const lens = Array.from(batch.inputLengths.data);
    expect(new Set(lens).size).toBeGreaterThan(1); // the batch really is padded
    const { logits } = eg.noGrad(() => m.teacherForced(batch, false));
    const pred = m.predict(batch);
    const [Tout, B] = [logits.shape[0]!, logits.shape[1]!];
    for (let b = 0; b < B; b++) {
      const alone = rowAlone(batch, b);
      const own = eg.noGrad(() => m.teacherForced(alone, false)).logits;
      for (let t = 0; t < own.shape[0]!; t++) {
        for (let v = 0; v < V; v++) expect(own.data[t * V + v]).toBeCloseTo(logits.data[(t * B + b) * V + v]!, 4);
      }
      expect(Tout).toBeGreaterThanOrEqual(own.shape[0]!);
      const ownPred = Array.from(m.predict(alone).data);
      const row = Array.from(pred.data.subarray(b * pred.shape[1]!, (b + 1) * pred.shape[1]!));
      expect(row.slice(0, ownPred.length)).toEqual(ownPred);
      expect(row.slice(ownPred.length).every((id) => id === 0)).toBe(true);
    }
  });

  it("state dict round trip: another model given the weights computes the same loss and predictions", () => {
    const a = small(opts, 1);
    const b = small(opts, 2);
    const batch = task.batch("validation", 4, 0);
    a.eval();
    b.eval();
    expect(b.loss(batch).item()).not.toBe(a.loss(batch).item());
    const sd = a.stateDict();
    expect([...sd.keys()].slice(0, 2)).toEqual(["srcEmbed.weight", "encoder.weightIh_l0"]);
    const res = b.loadStateDict(sd);
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.loss(batch).item()).toBe(a.loss(batch).item());
    expect(Array.from(b.predict(batch).data)).toEqual(Array.from(a.predict(batch).data));
  });

  it("inspect: the tokens in and out and an (output x input) attention map whose rows sum to 1", () => {
    const m = small(opts, 4);
    m.eval();
    const batch = task.batch("validation", 3, 1);
    const ins = m.inspect(batch);
    const n = batch.inputLengths.data[0]!;
    expect(ins.input).toEqual(Array.from(batch.input.data.subarray(0, n), (id) => task.vocabulary[id]));
    const predicted = Array.from(m.predict(rowAlone(batch, 0)).data, (id) => task.vocabulary[id]);
    expect(ins.output).toEqual(predicted);
    if (opts.attention === "none") {
      expect(ins.maps).toEqual([]);
      return;
    }
    expect(ins.maps).toHaveLength(1);
    const map = ins.maps[0]!;
    expect(map.name).toBe("decoder attention");
    expect([map.rowAxis, map.colAxis]).toEqual(["output", "input"]);
    expect(map.rowLabels).toEqual(ins.output);
    expect(map.colLabels).toEqual(ins.input);
    expect(map.values).toHaveLength(ins.output.length * n);
    for (let r = 0; r < ins.output.length; r++) {
      const row = Array.from(map.values.subarray(r * n, (r + 1) * n));
      expect(row.every((w) => w >= 0)).toBe(true);
      const total = row.reduce((s, w) => s + w, 0);
      // local-p's Gaussian is not renormalised (Luong et al.): its rows sum to at most 1
      if (opts.luongMode === "local-p") expect(total).toBeLessThanOrEqual(1 + 1e-5);
      else expect(total).toBeCloseTo(1, 5);
    }
  });
});

describe("Seq2Seq learning on reverse (lengths 1-6)", () => {
  it.each([
    ["none", 30],
    ["luong-general", 30],
  ] as const)("%s: the validation loss falls", (attention, steps) => {
    const m = new Seq2Seq(V, V, { attention, embedDim: 8, hiddenSize: 16, generator: new eg.Generator(5) });
    const { before, after } = train(m, steps, 0.02);
    expect(after).toBeLessThan(0.75 * before);
  });

  it("bahdanau: high exact match, and beam search agrees with greedy where greedy is right; beam 1 is greedy exactly", () => {
    // small but wide enough to learn in few steps (the ts backend must finish well within 10 s)
    const m = new Seq2Seq(V, V, { attention: "bahdanau", embedDim: 8, hiddenSize: 32, generator: new eg.Generator(1) });
    const { before, after } = train(m, 60, 0.03);
    expect(after).toBeLessThan(0.15 * before);
    const valid = task.batch("validation", 64, 0);
    const greedy = m.predict(valid);
    const greedyEval = eg.tasks.summarize(task.evaluate(greedy, valid));
    expect(greedyEval.exactMatch).toBeGreaterThanOrEqual(0.8);
    m.decoding.beamSize = 1;
    expect(Array.from(m.predict(valid).data)).toEqual(Array.from(greedy.data));
    m.decoding.beamSize = 4;
    const beamEval = eg.tasks.summarize(task.evaluate(m.predict(valid), valid));
    expect(beamEval.exactMatch).toBeGreaterThanOrEqual(greedyEval.exactMatch! - 1 / 64);
  });
});
