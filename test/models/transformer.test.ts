/**
 * Transformer layers, stacks, the encoder-decoder TaskModel and the decoder-only language model:
 * shapes and weights, causality, padding invariance, norm placement, RoPE / ALiBi, weight tying,
 * state dicts, parameter counts, inspection, generation, and two small learning runs.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { alibiBias } from "../../src/attention/positional.js";
import { keyPaddingMask } from "../../src/attention/masks.js";
import { createModel } from "../../src/models/registry.js";
import { TransformerDecoderLayer, TransformerEncoderLayer, type RelativePosition } from "../../src/models/transformer-layers.js";
import {
  Transformer,
  TransformerDecoder,
  TransformerEncoder,
  TransformerLM,
  transformerSpec,
  type PositionalEncodingKind,
  type TransformerOptions,
} from "../../src/models/transformer.js";
import { createTask } from "../../src/tasks/registry.js";
import { summarize } from "../../src/tasks/metrics.js";
import { maxAbsDiff, onTs } from "../nn/helpers.js";

const gen = (seed: number): eg.Generator => new eg.Generator(seed);
const randn = (shape: number[], seed: number): eg.Tensor => eg.randn(shape, { dtype: "float64", generator: gen(seed) });
const ids = (rows: number[][]): eg.Tensor => eg.tensor(rows, { dtype: "int32" });
const randomIds = (b: number, t: number, low: number, high: number, seed: number): eg.Tensor =>
  eg.randint(low, high, [b, t], { generator: gen(seed) });
const POSITIONAL: readonly PositionalEncodingKind[] = ["sinusoidal", "learned", "rope", "alibi", "none"];
const RELATIVE: readonly RelativePosition[] = ["none", "rope", "alibi"];
const f64 = { dtype: "float64" as const, dropout: 0 };

/** Every element of rows [0, upto) of (B, T, ...) tensors equal within tol. */
function prefixDiff(a: eg.Tensor, b: eg.Tensor, upto: number): number {
  return maxAbsDiff(eg.narrow(a, 1, 0, upto), eg.narrow(b, 1, 0, upto));
}

function rowSumsNear1(w: eg.Tensor): boolean {
  const n = w.shape[w.ndim - 1]!;
  for (let r = 0; r < w.size / n; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += w.data[r * n + j]!;
    if (Math.abs(s - 1) > 1e-6) return false;
  }
  return true;
}

describe("TransformerEncoderLayer / TransformerDecoderLayer", () => {
  it("shapes and per-head weights (rows sum to 1) for every relative position kind", () => {
    for (const relativePosition of RELATIVE) {
      const enc = new TransformerEncoderLayer(8, 2, { ...f64, relativePosition, generator: gen(1) });
      const x = randn([2, 5, 8], 2);
      const r = enc.forward(x, { needWeights: true, keyPaddingMask: keyPaddingMask([5, 3], 5) });
      expect(r.output.shape).toEqual([2, 5, 8]);
      expect(r.weights!.shape).toEqual([2, 2, 5, 5]);
      expect(rowSumsNear1(r.weights!)).toBe(true);
      // batch row 1: keys 3 and 4 are padding
      for (let i = 0; i < 2 * 5; i++) for (const j of [3, 4]) expect(r.weights!.data[50 + i * 5 + j]).toBe(0);
      expect(enc.forward(x).weights).toBeNull();

      const decoder = new TransformerDecoderLayer(8, 2, { ...f64, relativePosition, generator: gen(3) });
      const d = decoder.forward(randn([2, 4, 8], 4), x, { needWeights: true });
      expect(d.output.shape).toEqual([2, 4, 8]);
      expect(d.selfWeights!.shape).toEqual([2, 2, 4, 4]);
      expect(d.crossWeights!.shape).toEqual([2, 2, 4, 5]);
      expect(rowSumsNear1(d.selfWeights!) && rowSumsNear1(d.crossWeights!)).toBe(true);
      // the decoder's self-attention is causal by default
      expect(d.selfWeights!.data[1]).toBe(0);
    }
  });

  it("causal: the output at position t does not depend on inputs after t", () => {
    for (const relativePosition of RELATIVE) {
      const enc = new TransformerEncoderLayer(8, 2, { ...f64, relativePosition, norm: "pre", generator: gen(5) });
      const dec = new TransformerDecoderLayer(8, 2, { ...f64, relativePosition, generator: gen(6) });
      const x = randn([2, 6, 8], 7);
      const memory = randn([2, 3, 8], 8);
      for (const t of [0, 2, 4]) {
        // replace every position after t
        const y = eg.concat([eg.narrow(x, 1, 0, t + 1), randn([2, 5 - t, 8], 9 + t)], 1);
        expect(prefixDiff(enc.forward(x, { isCausal: true }).output, enc.forward(y, { isCausal: true }).output, t + 1)).toBeLessThan(1e-12);
        expect(prefixDiff(dec.forward(x, memory).output, dec.forward(y, memory).output, t + 1)).toBeLessThan(1e-12);
        // and without the causal mask it does
        expect(prefixDiff(enc.forward(x).output, enc.forward(y).output, t + 1)).toBeGreaterThan(1e-6);
      }
    }
  });

  it("padding invariance: padded keys change nothing at the real positions", () => {
    for (const relativePosition of RELATIVE) {
      const enc = new TransformerEncoderLayer(8, 2, { ...f64, relativePosition, generator: gen(10) });
      const short = randn([1, 3, 8], 11);
      const padded = eg.concat([short, randn([1, 2, 8], 12)], 1);
      const alone = enc.forward(short).output;
      const withPad = enc.forward(padded, { keyPaddingMask: keyPaddingMask([3], 5) }).output;
      expect(prefixDiff(alone, withPad, 3)).toBeLessThan(1e-12);
    }
  });

  it("post-norm outputs are layer-normalised; pre-norm outputs are the residual stream", () => {
    const x = randn([2, 4, 8], 13);
    const post = new TransformerEncoderLayer(8, 2, { ...f64, norm: "post", generator: gen(14) });
    const pre = new TransformerEncoderLayer(8, 2, { ...f64, norm: "pre" });
    pre.loadStateDict(post.stateDict());
    const yPost = post.forward(x).output;
    const yPre = pre.forward(x).output;
    const rows = (t: eg.Tensor): number[][] => Array.from({ length: t.size / 8 }, (_, r) => Array.from(t.data.subarray(r * 8, r * 8 + 8)));
    for (const row of rows(yPost)) {
      const m = row.reduce((a, b) => a + b) / 8;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 8;
      expect(Math.abs(m)).toBeLessThan(1e-9);
      expect(v).toBeCloseTo(1, 3);
    }
    // pre-norm: y = x + attn(ln1(x)) + ff(ln2(...)); feeding x + c shifts nothing inside the norms, so y shifts by c
    const shifted = pre.forward(eg.add(x, 3)).output;
    expect(maxAbsDiff(shifted, eg.add(yPre, 3))).toBeLessThan(1e-9);
    expect(maxAbsDiff(yPre, yPost)).toBeGreaterThan(0.1);
  });

  it("RoPE and ALiBi make attention depend on relative position only; without them identical tokens attend uniformly", () => {
    // every position holds the same vector, so only position information can tell keys apart
    const same = eg.expand(randn([1, 1, 8], 15), [1, 5, 8]);
    for (const relativePosition of RELATIVE) {
      const layer = new TransformerEncoderLayer(8, 2, { ...f64, relativePosition, generator: gen(16) });
      const w = layer.forward(same, { needWeights: true }).weights!;
      const logW = (h: number, i: number, j: number): number => Math.log(w.data[(h * 5 + i) * 5 + j]!);
      if (relativePosition === "none") {
        expect(Array.from(w.data).every((x) => Math.abs(x - 0.2) < 1e-12)).toBe(true);
      } else if (relativePosition === "alibi") {
        // equal content scores cancel in the softmax: what is left is the ALiBi bias
        expect(maxAbsDiff(eg.reshape(w, [2, 5, 5]), eg.softmax(alibiBias(2, 5, 5, { dtype: "float64" }), -1))).toBeLessThan(1e-12);
      } else {
        // score(i, j) is a function of i - j: differences along a row repeat down the diagonals
        let worst = 0;
        let spread = 0;
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < 4; i++)
            for (let j = 1; j < 4; j++) {
              const here = logW(h, i, j) - logW(h, i, j - 1);
              worst = Math.max(worst, Math.abs(here - (logW(h, i + 1, j + 1) - logW(h, i + 1, j))));
              spread = Math.max(spread, Math.abs(here));
            }
        expect(worst).toBeLessThan(1e-9);
        expect(spread).toBeGreaterThan(1e-3);
      }
    }
  });

  it("ALiBi with zero query/key projections gives softmax of the ALiBi biases (causal: lower triangle)", () => {
    const layer = new TransformerEncoderLayer(8, 4, { ...f64, relativePosition: "alibi", generator: gen(17) });
    layer.selfAttn.qProj.weight.data.fill(0);
    layer.selfAttn.qProj.bias!.data.fill(0);
    const x = randn([1, 4, 8], 18);
    const w = layer.forward(x, { needWeights: true, isCausal: true }).weights!;
    const bias = alibiBias(4, 4, 4, { dtype: "float64" });
    const want = eg.softmax(bias, -1, { mask: eg.tril(eg.ones([4, 4], { dtype: "bool" })) });
    expect(maxAbsDiff(eg.reshape(w, [4, 4, 4]), want)).toBeLessThan(1e-12);
  });

  it("gradcheck through RoPE and ALiBi self-attention (float64, ts)", () => {
    onTs(() => {
      for (const relativePosition of ["rope", "alibi"] as const) {
        const layer = new TransformerEncoderLayer(4, 2, {
          ...f64,
          dimFeedforward: 6,
          relativePosition,
          activation: "gelu",
          generator: gen(19),
        });
        const kpm = keyPaddingMask([3, 2], 3);
        const r = eg.gradcheck((x) => layer.forward(x, { keyPaddingMask: kpm, isCausal: true }).output, [randn([2, 3, 4], 20)]);
        expect(r.ok, `${relativePosition}: ${JSON.stringify(r)}`).toBe(true);
      }
    });
  });

  it("batchFirst false takes and returns (L, B, E)", () => {
    const a = new TransformerDecoderLayer(8, 2, { ...f64, generator: gen(21) });
    const b = new TransformerDecoderLayer(8, 2, { ...f64, batchFirst: false });
    b.loadStateDict(a.stateDict());
    const tgt = randn([2, 3, 8], 22);
    const mem = randn([2, 4, 8], 23);
    const got = b.forward(eg.transpose(tgt, 0, 1), eg.transpose(mem, 0, 1)).output;
    expect(got.shape).toEqual([3, 2, 8]);
    expect(maxAbsDiff(eg.transpose(got, 0, 1), a.forward(tgt, mem).output)).toBeLessThan(1e-12);
  });

  it("dropout acts in training mode only", () => {
    const layer = new TransformerEncoderLayer(8, 2, { dtype: "float64", dropout: 0.3, generator: gen(24) });
    const x = randn([2, 4, 8], 25);
    expect(maxAbsDiff(layer.forward(x).output, layer.forward(x).output)).toBeGreaterThan(1e-6);
    layer.eval();
    expect(maxAbsDiff(layer.forward(x).output, layer.forward(x).output)).toBe(0);
  });

  it("state dict keys follow PyTorch's order; options and inputs are validated", () => {
    const layer = new TransformerDecoderLayer(8, 2);
    const keys = [...layer.stateDict().keys()];
    expect(keys.slice(0, 8)).toEqual(["qProj", "kProj", "vProj", "outProj"].flatMap((p) => [`selfAttn.${p}.weight`, `selfAttn.${p}.bias`]));
    expect(keys.slice(16)).toEqual([
      "linear1.weight",
      "linear1.bias",
      "linear2.weight",
      "linear2.bias",
      "norm1.weight",
      "norm1.bias",
      "norm2.weight",
      "norm2.bias",
      "norm3.weight",
      "norm3.bias",
    ]);
    expect(layer.linear1.weight.shape).toEqual([32, 8]);
    expect(() => new TransformerEncoderLayer(10, 3)).toThrow(/^TransformerEncoderLayer: dModel 10 must be divisible/);
    expect(() => new TransformerEncoderLayer(8, 2, { norm: "middle" as "pre" })).toThrow(eg.ArgumentError);
    expect(() => new TransformerEncoderLayer(8, 2, { activation: "tanh" as "relu" })).toThrow(eg.ArgumentError);
    expect(() => new TransformerEncoderLayer(6, 2, { relativePosition: "rope" })).toThrow(/even head size/);
    expect(() => new TransformerEncoderLayer(8, 2, { dropout: 1 })).toThrow(eg.ArgumentError);
    const enc = new TransformerEncoderLayer(8, 2, { relativePosition: "alibi" });
    expect(() => enc.forward(eg.zeros([2, 3, 7]))).toThrow(/^TransformerEncoderLayer: src must be \(B, L, 8\)/);
    expect(() => enc.forward(eg.zeros([2, 3, 8]), { keyPaddingMask: eg.ones([2, 3]) })).toThrow(eg.DTypeError);
    expect(() => enc.forward(eg.zeros([2, 3, 8]), { mask: eg.ones([3, 4], { dtype: "bool" }) })).toThrow(eg.ShapeError);
    expect(() => layer.forward(eg.zeros([2, 3, 8]), eg.zeros([3, 3, 8]))).toThrow(/different batch sizes/);
  });
});

describe("TransformerEncoder / TransformerDecoder stacks", () => {
  it("weights per layer; final norm by default for pre-norm only; layout handled once", () => {
    const pre = new TransformerEncoder(8, 2, 3, { ...f64, norm: "pre", generator: gen(26) });
    const post = new TransformerDecoder(8, 2, 2, { ...f64, norm: "post" });
    expect(pre.norm).not.toBeNull();
    expect(post.norm).toBeNull();
    expect(new TransformerDecoder(8, 2, 1, { norm: "post", finalNorm: true }).norm).not.toBeNull();
    const x = randn([2, 5, 8], 27);
    const r = pre.forward(x, { needWeights: true });
    expect(r.weights!).toHaveLength(3);
    const d = post.forward(randn([2, 3, 8], 28), r.output, { needWeights: true });
    expect(d.selfWeights!).toHaveLength(2);
    expect(d.crossWeights![1]!.shape).toEqual([2, 2, 3, 5]);
    const seqFirst = new TransformerEncoder(8, 2, 3, { ...f64, norm: "pre", batchFirst: false });
    seqFirst.loadStateDict(pre.stateDict());
    expect(maxAbsDiff(eg.transpose(seqFirst.forward(eg.transpose(x, 0, 1)).output, 0, 1), r.output)).toBeLessThan(1e-12);
    expect([...pre.stateDict().keys()].slice(-2)).toEqual(["norm.weight", "norm.bias"]);
  });
});

const reverse = createTask("reverse", { maxLength: 6 });
const small = (positional: PositionalEncodingKind, extra: TransformerOptions = {}): Transformer =>
  new Transformer(reverse.inputSize, reverse.outputSize, 8, 2, {
    ...f64,
    numEncoderLayers: 2,
    numDecoderLayers: 2,
    dimFeedforward: 16,
    positional,
    maxLength: 16,
    generator: gen(30),
    vocabulary: reverse.vocabulary,
    ...extra,
  });

describe("Transformer (encoder-decoder)", () => {
  it.each(POSITIONAL)("causal decoder and source padding invariance (%s positions)", (positional) => {
    const m = small(positional);
    const src = ids([
      [3, 4, 5, 6, 7],
      [8, 9, 10, 11, 12],
    ]);
    const tgt = randomIds(2, 6, 3, 13, 31);
    const kpm = keyPaddingMask([5, 3], 5);
    const full = m.forward(src, tgt, { srcKeyPaddingMask: kpm }).logits;
    for (const t of [0, 3]) {
      const changed = eg.concat([eg.narrow(tgt, 1, 0, t + 1), randomIds(2, 5 - t, 3, 13, 32 + t)], 1);
      expect(prefixDiff(full, m.forward(src, changed, { srcKeyPaddingMask: kpm }).logits, t + 1)).toBeLessThan(1e-10);
    }
    // row 1 has 3 real source tokens: the padded positions' ids do not matter
    const alone = m.forward(ids([[8, 9, 10]]), eg.narrow(tgt, 0, 1, 1)).logits;
    expect(maxAbsDiff(eg.narrow(full, 0, 1, 1), alone)).toBeLessThan(1e-10);
  });

  it("weight tying shares one Parameter, listed once, with both gradients accumulated", () => {
    const tied = small("sinusoidal", { tieEmbeddings: true, shareEmbeddings: true });
    expect(tied.outProj.weight).toBe(tied.tgtInput.embed.weight);
    expect(tied.srcInput.embed).toBe(tied.tgtInput.embed);
    const keys = [...tied.stateDict().keys()];
    expect(keys.filter((k) => k.endsWith("embed.weight"))).toEqual(["srcInput.embed.weight"]);
    expect(keys).not.toContain("outProj.weight");
    expect(keys).toContain("outProj.bias");
    expect(tied.parameters().filter((p) => p === tied.outProj.weight)).toHaveLength(1);
    // the same weights untied: the tied gradient is the sum of the three uses' gradients
    const untied = small("sinusoidal", { tieEmbeddings: false, shareEmbeddings: false });
    const sd = tied.stateDict();
    const w = sd.get("srcInput.embed.weight")!;
    untied.loadStateDict(new Map([...sd, ["tgtInput.embed.weight", w], ["outProj.weight", w]]));
    const batch = reverse.batch("train", 4, 0);
    tied.loss(batch).backward();
    untied.loss(batch).backward();
    const sumGrad = eg.add(eg.add(untied.srcInput.embed.weight.grad!, untied.tgtInput.embed.weight.grad!), untied.outProj.weight.grad!);
    expect(maxAbsDiff(tied.outProj.weight.grad!, sumGrad)).toBeLessThan(1e-10);
    expect(() => new Transformer(5, 6, 8, 2, { shareEmbeddings: true })).toThrow(/equal vocabularies/);
  });

  it("state dict round trip reproduces the outputs (learned positions, untied)", () => {
    const a = small("learned", { tieEmbeddings: false, generator: gen(33) });
    const b = small("learned", { tieEmbeddings: false, generator: gen(34) });
    const batch = reverse.batch("validation", 3, 0);
    const logits = (m: Transformer): eg.Tensor => m.forward(batch.input, batch.decoderInput!).logits;
    expect(maxAbsDiff(logits(a), logits(b))).toBeGreaterThan(1e-3);
    b.loadStateDict(a.stateDict());
    expect(maxAbsDiff(logits(a), logits(b))).toBe(0);
    expect([...a.stateDict().keys()]).toContain("tgtInput.pos.weight");
    const back = new Transformer(reverse.inputSize, reverse.outputSize, 8, 2, {
      ...f64,
      dimFeedforward: 16,
      numEncoderLayers: 1,
      positional: "learned",
      maxLength: 16,
    });
    expect(() => back.loadStateDict(a.stateDict())).toThrow(eg.CheckpointError);
  });

  it("parameterCount matches the built model for every positional encoding and tying option", () => {
    const configs: Record<string, number | string | boolean>[] = [];
    for (const positional of POSITIONAL)
      for (const tieEmbeddings of [true, false])
        for (const shareEmbeddings of [true, false])
          configs.push({
            dModel: 8,
            numHeads: 2,
            dimFeedforward: 12,
            numEncoderLayers: 1,
            numDecoderLayers: 2,
            maxLength: 20,
            positional,
            tieEmbeddings,
            shareEmbeddings,
            norm: positional === "none" ? "post" : "pre",
          });
    for (const config of configs) {
      const { model, config: full } = createModel("transformer", config, reverse);
      expect(transformerSpec.parameterCount(full, reverse), JSON.stringify(config)).toBe(model.numParameters());
    }
    const { model } = createModel("transformer", {}, reverse);
    expect(model).toBeInstanceOf(Transformer);
    expect(() => createModel("transformer", {}, createTask("copy", {}))).toThrow(/handles tokens tasks/);
    expect(() => createModel("transformer", { positional: "relative" }, reverse)).toThrow(/positional must be one of/);
    expect(() => createModel("transformer", { dModel: 10, numHeads: 4 }, reverse)).toThrow(/divisible/);
    expect(() => createModel("transformer", { dropout: 1 }, reverse)).toThrow(eg.ArgumentError);
  });

  it("predict decodes greedily: int32 ids, PAD after EOS, the argmax of a teacher-forced pass over them", () => {
    const m = small("rope").eval();
    const batch = reverse.batch("validation", 5, 0);
    const pred = m.predict(batch);
    expect(pred.dtype).toBe("int32");
    expect(pred.shape[0]).toBe(5);
    const t = pred.shape[1]!;
    // at most ceil(2 * length) + 1 tokens (maxLengthFactor 2)
    expect(t).toBeLessThanOrEqual(2 * Math.max(...batch.inputLengths.data) + 1);
    const rows = Array.from({ length: 5 }, (_, b) => Array.from(pred.data.subarray(b * t, (b + 1) * t)));
    const ends = rows.map((row, b) => (row.includes(2) ? row.indexOf(2) + 1 : 2 * batch.inputLengths.data[b]! + 1));
    rows.forEach((row, b) => expect(row.slice(ends[b]).every((id) => id === 0)).toBe(true));
    const decIn = eg.concat([eg.full([5, 1], 1, { dtype: "int32" }), eg.narrow(pred, 1, 0, t - 1)], 1);
    const logits = m.forward(batch.input, decIn, { srcKeyPaddingMask: keyPaddingMask(batch.inputLengths, batch.input.shape[1]) }).logits;
    const arg = eg.argmax(logits, -1);
    rows.forEach((row, b) => expect(Array.from(arg.data.subarray(b * t, b * t + ends[b]!))).toEqual(row.slice(0, ends[b])));
  });

  it("beam search: beam 1 equals greedy; hypothesis scores are the teacher-forced log-probabilities", () => {
    const m = small("sinusoidal", { generator: gen(35) }).eval();
    const batch = reverse.batch("validation", 4, 1);
    const greedy = Array.from(m.predict(batch).data);
    m.decoding.beamSize = 1;
    expect(Array.from(m.predict(batch).data)).toEqual(greedy);
    m.decoding = { ...m.decoding, beamSize: 3, lengthPenalty: 0 };
    const hyps = m.search(batch.input, batch.inputLengths);
    expect(hyps).toHaveLength(4);
    hyps.forEach((h, b) => {
      const len = batch.inputLengths.data[b]!;
      const src = eg.narrow(eg.narrow(batch.input, 0, b, 1), 1, 0, len);
      const decIn = ids([[1, ...h.tokens.slice(0, -1)]]);
      const logp = eg.logSoftmax(m.forward(src, decIn).logits, -1);
      const score = h.tokens.reduce((acc, tok, i) => acc + logp.data[i * reverse.outputSize + tok]!, 0);
      expect(Math.abs(score - h.score)).toBeLessThan(1e-9);
    });
    expect(() => small("none", { beamSize: -1 })).toThrow(/beamSize/);
    expect(() => small("none", { maxLengthFactor: 0 })).toThrow(/maxLengthFactor/);
  });

  it("inspect: one map per layer and head for encoder, decoder and cross-attention, labelled with tokens", () => {
    const m = small("alibi");
    const batch = reverse.batch("validation", 3, 0);
    const r = m.inspect(batch);
    expect(m.training).toBe(true); // restored
    const len = batch.inputLengths.data[0]!;
    expect(r.input).toEqual(Array.from(batch.input.data.subarray(0, len)).map((id) => reverse.vocabulary[id]));
    expect(r.maps).toHaveLength((2 + 2 + 2) * 2);
    const kinds = ["encoder self-attention", "decoder self-attention", "cross-attention"];
    for (const kind of kinds) {
      const maps = r.maps.filter((w) => w.name.startsWith(kind));
      expect(maps.map((w) => [w.layer, w.head])).toEqual([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]);
      for (const w of maps) {
        expect(w.values.length).toBe(w.rowLabels.length * w.colLabels.length);
        expect(rowSumsNear1(eg.tensor(w.values, { shape: [w.rowLabels.length, w.colLabels.length] }))).toBe(true);
      }
    }
    const cross = r.maps.find((w) => w.name === "cross-attention layer 1 head 0")!;
    expect(cross.rowLabels).toEqual(r.output);
    expect(cross.colLabels).toEqual(r.input);
    expect([cross.rowAxis, cross.colAxis]).toEqual(["output", "input"]);
    const self = r.maps.find((w) => w.name.startsWith("decoder self-attention"))!;
    expect(self.colLabels[0]).toBe("<bos>");
  });

  it("learns reverse (lengths 1-6) to high validation accuracy", () => {
    const task = reverse;
    const m = new Transformer(task.inputSize, task.outputSize, 16, 2, {
      numEncoderLayers: 1,
      numDecoderLayers: 1,
      dimFeedforward: 32,
      dropout: 0,
      norm: "pre",
      shareEmbeddings: true,
      generator: gen(1),
    });
    const steps = 600;
    const opt = new eg.optim.Adam(m.parameters(), { lr: 0.015 });
    const schedule = new eg.optim.LinearLR(opt, { startFactor: 1, endFactor: 0.1, totalIters: steps });
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const loss = m.loss(task.batch("train", 16, s));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      schedule.step();
      losses.push(loss.item());
    }
    m.eval();
    const val = task.batch("validation", 128, 0);
    const acc = summarize(
      task.evaluate(
        eg.noGrad(() => m.predict(val)),
        val,
      ),
    );
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-20))).toBeLessThan(0.1 * mean(losses.slice(0, 20)));
    expect(acc.tokenAccuracy).toBeGreaterThan(0.9);
    expect(acc.exactMatch).toBeGreaterThan(0.6);
  });
});

describe("TransformerLM", () => {
  it.each(POSITIONAL)("logits at t do not depend on tokens after t (%s positions)", (positional) => {
    const lm = new TransformerLM(11, 8, 2, { ...f64, numLayers: 2, positional, maxLength: 12, generator: gen(40) });
    const x = randomIds(2, 7, 0, 11, 41);
    const full = lm.forward(x).logits;
    expect(full.shape).toEqual([2, 7, 11]);
    for (const t of [0, 4]) {
      const y = eg.concat([eg.narrow(x, 1, 0, t + 1), randomIds(2, 6 - t, 0, 11, 42 + t)], 1);
      expect(prefixDiff(full, lm.forward(y).logits, t + 1)).toBeLessThan(1e-10);
    }
  });

  it("ties the head to the embedding; learned positions bound the length", () => {
    const lm = new TransformerLM(11, 8, 2, { positional: "learned", maxLength: 6, padId: 0 });
    expect(lm.head.weight).toBe(lm.input.embed.weight);
    expect([...lm.stateDict().keys()]).not.toContain("head.weight");
    // embedding, positions, 2 layers (attention, feed-forward, 2 norms), final norm (pre-norm default), head bias
    expect(lm.numParameters()).toBe(11 * 8 + 6 * 8 + 2 * (4 * 72 + 32 * 8 + 32 + 8 * 32 + 8 + 32) + 16 + 11);
    expect(() => lm.forward(eg.zeros([1, 7], { dtype: "int32" }))).toThrow(/exceeds maxLength 6/);
    expect(() => lm.loss(eg.zeros([2, 1], { dtype: "int32" }))).toThrow(eg.ShapeError);
    expect(() => lm.forward(eg.zeros([1, 3]))).toThrow(eg.DTypeError);
  });

  it("learns a counting pattern (next = previous + 1 mod V): loss falls, greedy generation continues it", () => {
    const v = 7;
    const lm = new TransformerLM(v, 16, 2, { numLayers: 1, dimFeedforward: 32, dropout: 0, norm: "pre", generator: gen(43) });
    const opt = new eg.optim.Adam(lm.parameters(), { lr: 0.01 });
    const g = gen(100);
    const batchOf = (): eg.Tensor => {
      const rows = Array.from({ length: 16 }, () => {
        const start = g.randint(0, v);
        return Array.from({ length: 8 }, (_, t) => (start + t) % v);
      });
      return ids(rows);
    };
    const losses: number[] = [];
    for (let s = 0; s < 80; s++) {
      const loss = lm.loss(batchOf());
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    expect(losses[0]!).toBeGreaterThan(1.2);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(0.05);
    lm.eval();
    const out = lm.generate(
      ids([
        [3, 4],
        [6, 0],
      ]),
      { maxNewTokens: 6, temperature: 0 },
    );
    expect(out.shape).toEqual([2, 8]);
    expect(Array.from(out.data)).toEqual([3, 4, 5, 6, 0, 1, 2, 3, 6, 0, 1, 2, 3, 4, 5, 6]);
  });

  it("generate: seeded sampling is reproducible, top-k 1 and temperature 0 are greedy, eosId stops rows", () => {
    const lm = new TransformerLM(9, 8, 2, { numLayers: 1, dropout: 0, generator: gen(44) });
    const prompt = ids([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const greedy = lm.generate(prompt, { maxNewTokens: 5, temperature: 0 });
    expect(Array.from(greedy.data.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(Array.from(lm.generate(prompt, { maxNewTokens: 5, topK: 1, generator: gen(45) }).data)).toEqual(Array.from(greedy.data));
    const a = lm.generate(prompt, { maxNewTokens: 5, temperature: 1.5, generator: gen(46) });
    const b = lm.generate(prompt, { maxNewTokens: 5, temperature: 1.5, generator: gen(46) });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    // stop at the first generated token of row 0: row 0 then repeats it while row 1 goes on
    const first = greedy.data[3]!;
    const stopped = lm.generate(prompt, { maxNewTokens: 5, temperature: 0, eosId: first });
    const row0 = Array.from(stopped.data.subarray(0, stopped.shape[1]));
    expect(row0.slice(3).every((id) => id === first)).toBe(true);
    expect(lm.generate(prompt, { maxNewTokens: 0 }).shape).toEqual([2, 3]);
    expect(() => lm.generate(prompt, { maxNewTokens: -1 })).toThrow(eg.ArgumentError);
    expect(() => lm.generate(prompt, { maxNewTokens: 2, temperature: -1 })).toThrow(/^sampleTokens: temperature/);
  });
});
