// The fused MemN2N sentence encoder and fast-weights sequence ops: equal to hand-written
// references, gradient-checked in float64, differentiable twice through their compositions, and
// the native float32 kernels agree with the ts reference kernels.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { FastWeights, fastWeightsSequence, type FastWeightsActivation } from "../../src/memory/fast-weights.js";
import { encodeSentences, SENTENCE_ENCODINGS, type SentenceEncoding } from "../../src/memory/sentence-encoding.js";
import { rng } from "../helpers/rng.js";
import { maxAbsDiff, onTs } from "../nn/helpers.js";

type DT = "float32" | "float64";
const param = (t: eg.Tensor): eg.Tensor => {
  t.requiresGrad = true;
  return t;
};
const uniform = (next: () => number, shape: number[], lo: number, hi: number, dtype: DT): eg.Tensor =>
  eg.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * next()),
    { shape, dtype },
  );

/** rows x words ids in [1, V) with PAD runs: some rows end early, one has a PAD inside, one is empty. */
function sentenceIds(next: () => number, lead: number[], words: number, V: number): eg.Tensor {
  const rows = lead.reduce((a, b) => a * b, 1);
  const ids = new Int32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    const n = r === rows - 1 ? 0 : 1 + Math.floor(next() * words);
    for (let j = 0; j < n; j++) ids[r * words + j] = 1 + Math.floor(next() * (V - 1));
    if (r === 0 && n > 2) ids[r * words + 1] = 0; // a PAD among the words still counts as a position
  }
  return new eg.Tensor(ids, [...lead, words], "int32");
}

/**
 * sum_j l_j o table[x_j] (+ temporal[age]) in plain float64 loops: the paper's weights over the row's
 * own J words (up to its last word), the reference code's over the full width W, or 1.
 */
function encodeReference(table: eg.Tensor, ids: eg.Tensor, encoding: SentenceEncoding, temporal?: eg.Tensor, ages?: eg.Tensor): number[] {
  const d = table.shape[1]!;
  const words = ids.shape[ids.ndim - 1]!;
  const rows = ids.size / words;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let J = 0;
    for (let j = 0; j < words; j++) if (ids.data[r * words + j] !== 0) J = j + 1;
    const weight = (j: number, k: number): number => {
      if (encoding === "bow") return 1;
      if (encoding === "position") return 1 - j / J - (k / d) * (1 - (2 * j) / J);
      return 1 + (4 * (k - (d + 1) / 2) * (j - (words + 1) / 2)) / (d * words);
    };
    for (let k = 0; k < d; k++) {
      let v = temporal && ages ? temporal.data[ages.data[r]! * d + k]! : 0;
      for (let j = 0; j < J; j++) {
        const id = ids.data[r * words + j]!;
        if (id !== 0) v += weight(j + 1, k + 1) * table.data[id * d + k]!;
      }
      out.push(v);
    }
  }
  return out;
}

describe("encodeSentences", () => {
  it("equals the paper's position / reference position / bag-of-words sums, with and without temporal rows", () => {
    const next = rng(1);
    const table = uniform(next, [9, 5], -1, 1, "float64");
    const temporal = uniform(next, [4, 5], -1, 1, "float64");
    const ids = sentenceIds(next, [2, 3], 6, 9);
    const ages = new eg.Tensor(Int32Array.from([3, 1, 0, 2, 2, 0]), [2, 3], "int32");
    for (const encoding of SENTENCE_ENCODINGS) {
      const plain = encodeSentences(table, ids, { encoding });
      expect(plain.shape).toEqual([2, 3, 5]);
      const ref = encodeReference(table, ids, encoding);
      plain.data.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 12));
      const timed = encodeSentences(table, ids, { encoding, temporal, ages });
      const refT = encodeReference(table, ids, encoding, temporal, ages);
      timed.data.forEach((v, i) => expect(v).toBeCloseTo(refT[i]!, 12));
    }
  });

  it("gradchecks in float64 through the table and the temporal rows; second derivatives run through the composition", () => {
    onTs(() => {
      const next = rng(2);
      const ids = sentenceIds(next, [3], 5, 7);
      const ages = new eg.Tensor(Int32Array.from([0, 2, 2]), [3], "int32");
      const weight = uniform(next, [3, 4], -1, 1, "float64");
      const xs = [uniform(next, [7, 4], -1, 1, "float64"), uniform(next, [3, 4], -1, 1, "float64")];
      for (const encoding of SENTENCE_ENCODINGS) {
        const fn = (t: eg.Tensor, tt: eg.Tensor): eg.Tensor => eg.mul(encodeSentences(t, ids, { encoding, temporal: tt, ages }), weight);
        const r = eg.gradcheck(fn, xs, { atol: 1e-6, rtol: 1e-4 });
        expect(r.ok, `${encoding}: ${JSON.stringify(r.worst)}`).toBe(true);
        // a loss quadratic in the encoding: its gradient depends on the table, so createGraph must keep the graph
        const second = (t: eg.Tensor): eg.Tensor => {
          const [dt] = eg.grad((tt) => eg.sum(eg.square(encodeSentences(tt, ids, { encoding }))), { createGraph: true })(t);
          return eg.sum(eg.square(dt!));
        };
        const r2 = eg.gradcheck(second, [xs[0]!], { atol: 1e-6, rtol: 1e-3 });
        expect(r2.ok, `${encoding}, second order: ${JSON.stringify(r2.worst)}`).toBe(true);
      }
    });
  });

  it("rejects ids and ages outside their tables and mismatched shapes, naming the op", () => {
    const table = eg.zeros([5, 3]);
    const ids = new eg.Tensor(Int32Array.from([1, 2, 5, 0]), [2, 2], "int32");
    expect(() => encodeSentences(table, ids)).toThrow(/^encodeSentences: id 5 is outside \[0, 5\)/);
    const ok = new eg.Tensor(Int32Array.from([1, 2, 4, 0]), [2, 2], "int32");
    const temporal = eg.zeros([2, 3]);
    expect(() => encodeSentences(table, ok, { temporal, ages: new eg.Tensor(Int32Array.from([0, 2]), [2], "int32") })).toThrow(
      /^encodeSentences: age 2/,
    );
    expect(() => encodeSentences(table, ok, { temporal, ages: new eg.Tensor(Int32Array.from([0, 1, 1]), [3], "int32") })).toThrow(
      /^encodeSentences: ages \[3\]/,
    );
    expect(() => encodeSentences(table, ok, { temporal })).toThrow(/^encodeSentences: temporal and ages go together/);
    expect(() => encodeSentences(table, eg.zeros([2, 2]))).toThrow(eg.DTypeError);
  });
});

/** FastWeights layer with random parameters (S = 1) and its fused inputs. */
function fastLayer(seed: number, I: number, H: number, activation: FastWeightsActivation, layerNorm: boolean, dtype: DT): FastWeights {
  const m = new FastWeights(I, H, { activation, layerNorm, dtype, decay: 0.9, fastLearningRate: 0.7, generator: new eg.Generator(seed) });
  const next = rng(seed);
  m.recurrentWeight = param(uniform(next, [H, H], -0.4, 0.4, dtype));
  if (m.norm) {
    m.norm.weight = param(uniform(next, [H], 0.5, 1.5, dtype));
    m.norm.bias = param(uniform(next, [H], -0.3, 0.3, dtype));
  }
  return m;
}

const sequenceOf = (m: FastWeights, xp: eg.Tensor, w: eg.Tensor, gain?: eg.Tensor, bias?: eg.Tensor): eg.Tensor =>
  fastWeightsSequence(xp, w, {
    decay: m.decay,
    fastLearningRate: m.fastLearningRate,
    activation: m.activation,
    norm: gain && bias ? { weight: gain, bias, eps: m.norm!.eps } : null,
  });

describe("fastWeightsSequence", () => {
  it("equals the layer's explicit fast-weight matrix form on the same inputs", () => {
    for (const activation of ["relu", "tanh"] as const)
      for (const layerNorm of [true, false]) {
        const m = fastLayer(3, 4, 6, activation, layerNorm, "float64");
        const x = uniform(rng(4), [2, 5, 4], -1, 1, "float64");
        const xp = eg.add(eg.matmul(x, eg.transpose(m.inputWeight, 0, 1)), m.bias);
        const fused = sequenceOf(m, xp, m.recurrentWeight, m.norm?.weight ?? undefined, m.norm?.bias ?? undefined);
        const matrix = new FastWeights(4, 6, {
          activation,
          layerNorm,
          decay: 0.9,
          fastLearningRate: 0.7,
          formulation: "matrix",
          dtype: "float64",
        });
        matrix.loadStateDict(m.stateDict());
        expect(maxAbsDiff(fused, matrix.forward(x).output), `${activation}, layer norm ${layerNorm}`).toBeLessThan(1e-12);
      }
  });

  it("gradchecks in float64 (relu and tanh, with and without layer norm) and has second derivatives", () => {
    onTs(() => {
      for (const activation of ["relu", "tanh"] as const)
        for (const layerNorm of [true, false]) {
          const m = fastLayer(5, 3, 4, activation, layerNorm, "float64");
          const next = rng(6);
          const xp = uniform(next, [2, 4, 4], -1, 1, "float64");
          const weight = uniform(next, [2, 4, 4], -1, 1, "float64");
          const params = [xp, m.recurrentWeight, ...(m.norm ? [m.norm.weight!, m.norm.bias!] : [])];
          const fn = (...a: eg.Tensor[]): eg.Tensor => eg.mul(sequenceOf(m, a[0]!, a[1]!, a[2], a[3]), weight);
          const r = eg.gradcheck(fn, params, { atol: 1e-6, rtol: 1e-4 });
          expect(r.ok, `${activation}, layer norm ${layerNorm}: ${JSON.stringify(r.worst)}`).toBe(true);
        }
      const m = fastLayer(7, 3, 3, "tanh", true, "float64");
      const xp = uniform(rng(8), [1, 3, 3], -1, 1, "float64");
      const second = (w: eg.Tensor): eg.Tensor => {
        const [dw] = eg.grad((ww) => eg.sum(eg.square(sequenceOf(m, xp, ww, m.norm!.weight!, m.norm!.bias!))), { createGraph: true })(w);
        return eg.sum(eg.square(dw!));
      };
      const r = eg.gradcheck(second, [m.recurrentWeight], { atol: 1e-6, rtol: 1e-3 });
      expect(r.ok, JSON.stringify(r.worst)).toBe(true);
    });
  });

  it("rejects mismatched shapes and options, naming the op", () => {
    const m = fastLayer(1, 2, 3, "relu", true, "float32");
    const xp = eg.zeros([2, 4, 3]);
    expect(() => sequenceOf(m, xp, eg.zeros([3, 2]))).toThrow(/^fastWeightsSequence: recurrentWeight/);
    expect(() => sequenceOf(m, eg.zeros([2, 3]), m.recurrentWeight)).toThrow(/^fastWeightsSequence: xp/);
    expect(() => sequenceOf(m, xp, m.recurrentWeight, eg.zeros([2]), eg.zeros([2]))).toThrow(/^fastWeightsSequence: layer-norm/);
    expect(() => fastWeightsSequence(xp, m.recurrentWeight, { decay: 2, fastLearningRate: 0.5, activation: "relu", norm: null })).toThrow(
      /^fastWeightsSequence: decay/,
    );
  });
});

describe("fused sequence kernels: native float32 equals the ts reference", () => {
  /** Output and every input gradient of fn(...xs) weighted by w, on one backend. */
  const run = (backend: "native" | "ts", fn: (...a: eg.Tensor[]) => eg.Tensor, xs: eg.Tensor[], w: eg.Tensor): eg.Tensor[] => {
    const prev = eg.backendInfo().backend;
    eg.setBackend(backend);
    try {
      return [eg.noGrad(() => fn(...xs)), ...eg.grad((...a: eg.Tensor[]) => eg.sum(eg.mul(fn(...a), w)))(...xs)];
    } finally {
      eg.setBackend(prev);
    }
  };
  const close = (a: eg.Tensor[], b: eg.Tensor[], what: string, tol: number): void =>
    a.forEach((t, i) =>
      expect(maxAbsDiff(t, b[i]!), `${what} tensor ${i}`).toBeLessThan(tol * Math.max(1, ...Array.from(b[i]!.data, Math.abs))),
    );

  it.skipIf(!eg.backendInfo().nativeAvailable)("encodeSentences and fastWeightsSequence, forward and backward, with threads on", () => {
    const next = rng(10);
    const ids = sentenceIds(next, [32, 50], 6, 26);
    const ages = new eg.Tensor(
      Int32Array.from({ length: 32 * 50 }, (_, i) => i % 50),
      [32, 50],
      "int32",
    );
    const tables = [uniform(next, [26, 20], -1, 1, "float32"), uniform(next, [50, 20], -1, 1, "float32")];
    const wE = uniform(next, [32, 50, 20], -1, 1, "float32");
    for (const encoding of SENTENCE_ENCODINGS) {
      const fnE = (t: eg.Tensor, tt: eg.Tensor): eg.Tensor => encodeSentences(t, ids, { encoding, temporal: tt, ages });
      close(run("native", fnE, tables, wE), run("ts", fnE, tables, wE), `encodeSentences (${encoding})`, 1e-5);
    }
    for (const activation of ["relu", "tanh"] as const) {
      const m = fastLayer(11, 3, 64, activation, true, "float32");
      const xs = [uniform(next, [16, 11, 64], -1, 1, "float32"), m.recurrentWeight, m.norm!.weight!, m.norm!.bias!];
      const wF = uniform(next, [16, 11, 64], -1, 1, "float32");
      const fnF = (...a: eg.Tensor[]): eg.Tensor => sequenceOf(m, a[0]!, a[1]!, a[2], a[3]);
      close(run("native", fnF, xs, wF), run("ts", fnF, xs, wF), `fastWeightsSequence (${activation})`, 1e-4);
    }
  });
});
