// Fast weights (Ba et al. 2016): the recurrence against a hand-written explicit-A reference (both
// formulations), layer normalisation, the attention coefficients, gradients, the QA model and its
// spec, and learning on associative retrieval.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { FastWeights, FastWeightsQA, fastWeightsSpec, lastStates, readingSequence } from "../../src/memory/fast-weights.js";
import { AssociativeRetrievalTask } from "../../src/tasks/associative-retrieval.js";
import type { Batch } from "../../src/tasks/task.js";
import { maxAbsDiff, onTs, setParam } from "../nn/helpers.js";

type Formulation = "attention" | "matrix";
const FORMULATIONS: readonly Formulation[] = ["attention", "matrix"];

interface Reference {
  /** [t][b][i] */
  h: number[][][];
  /** queries[s][t][b][i]: the state h^s the inner step s multiplied by A_{t-1} */
  queries: number[][][][];
  /** fast[t][b]: A_{t-1} as an H x H matrix */
  fast: number[][][][];
}

/**
 * The paper's recurrence with an explicit fast-weight matrix, from the module's parameters, in
 * plain float64 loops: pre = W h + C x + b, h^0 = f(pre), h^{s+1} = f(LN(pre + A h^s)),
 * A <- lambda A + eta h h^T after each step.
 */
function reference(m: FastWeights, x: eg.Tensor): Reference {
  const [B, T, I] = x.shape as [number, number, number];
  const H = m.hiddenSize;
  const C = m.inputWeight.data;
  const W = m.recurrentWeight.data;
  const bias = m.bias.data;
  const gain = m.norm?.weight?.data;
  const shift = m.norm?.bias?.data;
  const f = m.activation === "relu" ? (v: number): number => Math.max(0, v) : Math.tanh;
  const ln = (z: number[]): number[] => {
    if (!m.norm) return z;
    const mu = z.reduce((a, v) => a + v, 0) / H;
    const variance = z.reduce((a, v) => a + (v - mu) ** 2, 0) / H;
    return z.map((v, i) => ((v - mu) / Math.sqrt(variance + m.norm!.eps)) * gain![i]! + shift![i]!);
  };
  const zeros = (): number[][] => Array.from({ length: H }, () => new Array<number>(H).fill(0));
  let A = Array.from({ length: B }, zeros);
  let h = Array.from({ length: B }, () => new Array<number>(H).fill(0));
  const out: Reference = { h: [], queries: Array.from({ length: m.innerSteps }, () => []), fast: [] };
  for (let t = 0; t < T; t++) {
    out.fast.push(A.map((a) => a.map((r) => [...r])));
    const pre = Array.from({ length: B }, (_, b) =>
      Array.from({ length: H }, (_, i) => {
        let v = bias[i]!;
        for (let j = 0; j < I; j++) v += C[i * I + j]! * x.data[(b * T + t) * I + j]!;
        for (let j = 0; j < H; j++) v += W[i * H + j]! * h[b]![j]!;
        return v;
      }),
    );
    let hs = pre.map((p) => p.map(f));
    for (let s = 0; s < m.innerSteps; s++) {
      out.queries[s]!.push(hs.map((r) => [...r]));
      hs = hs.map((q, b) => {
        const z = pre[b]!.map((p, i) => p + A[b]![i]!.reduce((acc, a, j) => acc + a * q[j]!, 0));
        return ln(z).map(f);
      });
    }
    h = hs;
    out.h.push(h);
    A = A.map((a, b) => a.map((r, i) => r.map((v, j) => m.decay * v + m.fastLearningRate * h[b]![i]! * h[b]![j]!)));
  }
  return out;
}

const randn = (shape: number[], seed: number, dtype: "float32" | "float64" = "float64"): eg.Tensor =>
  eg.randn(shape, { dtype, generator: new eg.Generator(seed) });

/** Module output (B, T, H) as [t][b][i]. */
const byStep = (output: eg.Tensor): number[][][] => {
  const [B, T, H] = output.shape as [number, number, number];
  return Array.from({ length: T }, (_, t) =>
    Array.from({ length: B }, (_, b) => Array.from(output.data.subarray((b * T + t) * H, (b * T + t + 1) * H))),
  );
};

const maxDiff = (a: number[][][], b: number[][][]): number => {
  let m = 0;
  a.forEach((x, i) => x.forEach((y, j) => y.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i]![j]![k]!))))));
  return m;
};

function layer(opts: ConstructorParameters<typeof FastWeights>[2] = {}, seed = 1): FastWeights {
  const m = new FastWeights(4, 5, { dtype: "float64", generator: new eg.Generator(seed), ...opts });
  // a recurrent matrix and norm affine away from their starting values, so every parameter matters
  m.recurrentWeight.data.set(randn([5, 5], seed + 10).mul(0.4).data);
  if (m.norm) {
    m.norm.weight!.data.set(
      randn([5], seed + 11)
        .mul(0.3)
        .add(1).data,
    );
    m.norm.bias!.data.set(randn([5], seed + 12).mul(0.2).data);
  }
  return m;
}

describe("FastWeights recurrence", () => {
  const x = randn([3, 6, 4], 7);
  for (const activation of ["relu", "tanh"] as const) {
    for (const innerSteps of [1, 3]) {
      it(`matches the explicit-A reference in both formulations (${activation}, S = ${innerSteps})`, () => {
        const ref = reference(layer({ activation, innerSteps }), x);
        for (const formulation of FORMULATIONS) {
          const got = layer({ activation, innerSteps, formulation }).forward(x).output;
          expect(got.shape).toEqual([3, 6, 5]);
          expect(maxDiff(byStep(got), ref.h), formulation).toBeLessThan(1e-12);
        }
      });
    }
  }

  it("matches without layer normalisation, with other decay and fast learning rates", () => {
    const opts = { layerNorm: false, decay: 0.5, fastLearningRate: 1.5, activation: "tanh" as const, innerSteps: 2 };
    const ref = reference(layer(opts), x);
    for (const formulation of FORMULATIONS)
      expect(maxDiff(byStep(layer({ ...opts, formulation }).forward(x).output), ref.h)).toBeLessThan(1e-12);
  });

  it("the fast memory changes the result (A h is not a no-op)", () => {
    const withMemory = layer({ activation: "tanh" }).forward(x).output;
    const without = layer({ activation: "tanh", fastLearningRate: 0 }).forward(x).output;
    expect(maxAbsDiff(withMemory, without)).toBeGreaterThan(1e-2);
    // step 0 reads an empty memory, so it cannot differ
    expect(maxDiff(byStep(withMemory).slice(0, 1), byStep(without).slice(0, 1))).toBe(0);
  });

  it("normalises the inner loop's pre-activation: atanh(h) has zero mean and unit variance per row", () => {
    const m = new FastWeights(4, 16, { dtype: "float64", activation: "tanh", generator: new eg.Generator(3) });
    expect(m.namedParameters().map(([k]) => k)).toEqual(["inputWeight", "bias", "recurrentWeight", "norm.weight", "norm.bias"]);
    const h = m.forward(randn([2, 5, 4], 4)).output.data;
    for (let row = 0; row < 10; row++) {
      const z = Array.from(h.subarray(row * 16, (row + 1) * 16), Math.atanh);
      const mu = z.reduce((a, v) => a + v, 0) / 16;
      const variance = z.reduce((a, v) => a + (v - mu) ** 2, 0) / 16;
      expect(Math.abs(mu)).toBeLessThan(1e-9);
      expect(Math.abs(variance - 1)).toBeLessThan(1e-3); // 1 - eps / (var + eps)
    }
    const plain = new FastWeights(4, 16, { dtype: "float64", activation: "tanh", layerNorm: false, generator: new eg.Generator(3) });
    expect(plain.namedParameters().map(([k]) => k)).toEqual(["inputWeight", "bias", "recurrentWeight"]);
    const z = Array.from(plain.forward(randn([2, 5, 4], 4)).output.data.subarray(0, 16), Math.atanh);
    const variance = z.reduce((a, v) => a + v * v, 0) / 16;
    expect(Math.abs(variance - 1)).toBeGreaterThan(0.1);
  });

  it("returns the attention coefficients eta lambda^(t-1-tau) h_tau . h^s, which rebuild A_(t-1) h^s", () => {
    for (const formulation of FORMULATIONS) {
      const m = layer({ innerSteps: 2, formulation });
      const ref = reference(layer({ innerSteps: 2 }), x);
      const { output, attention } = m.forward(x, { returnAttention: true });
      expect(attention).toHaveLength(2);
      const T = 6;
      const H = 5;
      for (let s = 0; s < 2; s++) {
        const a = attention![s]!;
        expect(a.shape).toEqual([3, T, T]);
        for (let b = 0; b < 3; b++) {
          for (let t = 0; t < T; t++) {
            for (let tau = t; tau < T; tau++) expect(a.data[(b * T + t) * T + tau]).toBe(0);
            // sum_tau a[t, tau] h_tau = A_(t-1) q with the reference's explicit matrix
            const q = ref.queries[s]![t]![b]!;
            for (let i = 0; i < H; i++) {
              let viaAttention = 0;
              for (let tau = 0; tau < t; tau++) viaAttention += a.data[(b * T + t) * T + tau]! * output.data[(b * T + tau) * H + i]!;
              const viaMatrix = ref.fast[t]![b]![i]!.reduce((acc, v, j) => acc + v * q[j]!, 0);
              expect(Math.abs(viaAttention - viaMatrix)).toBeLessThan(1e-12);
            }
          }
        }
      }
    }
  });

  it("picks the attention form for sequences no longer than the hidden size", () => {
    const m = new FastWeights(3, 8);
    expect([m.formulationFor(8), m.formulationFor(9)]).toEqual(["attention", "matrix"]);
    expect(new FastWeights(3, 8, { formulation: "matrix" }).formulationFor(2)).toBe("matrix");
  });

  it("float32 gives the float64 result to single precision on this backend", () => {
    const m32 = new FastWeights(4, 5, { generator: new eg.Generator(1) });
    const m64 = layer({}, 1);
    m64.recurrentWeight.data.set(m32.recurrentWeight.data);
    m64.norm!.weight!.data.fill(1);
    m64.norm!.bias!.data.fill(0);
    const y32 = m32.forward(eg.cast(x, "float32")).output;
    expect(y32.dtype).toBe("float32");
    expect(maxDiff(byStep(y32), reference(m64, x).h)).toBeLessThan(1e-4);
  });

  it("rejects bad inputs and options, naming the op", () => {
    const m = new FastWeights(4, 5);
    expect(() => m.forward(eg.zeros([2, 3]))).toThrow(/^FastWeights\.forward: input \[2, 3\] must be \(batch, time >= 1, 4\)/);
    expect(() => m.forward(eg.zeros([2, 0, 4]))).toThrow(eg.ShapeError);
    expect(() => m.forward(eg.zeros([2, 3, 4], { dtype: "float64" }))).toThrow(/^FastWeights\.forward: input must be float32, got float64/);
    expect(() => new FastWeights(4, 5, { decay: 1.5 })).toThrow(/^FastWeights: decay must be a number in \[0, 1\], got 1.5/);
    expect(() => new FastWeights(4, 5, { innerSteps: 0 })).toThrow(/^FastWeights: innerSteps must be an integer >= 1/);
    expect(() => new FastWeights(4, 5, { activation: "sigmoid" as never })).toThrow(/^FastWeights: activation must be one of relu, tanh/);
    expect(() => new FastWeights(4, 5, { formulation: "dense" as never })).toThrow(eg.ArgumentError);
  });
});

describe("FastWeights gradients", () => {
  for (const formulation of FORMULATIONS) {
    it(`pass a float64 gradient check (${formulation} form, S = 2)`, () => {
      onTs(() => {
        const m = new FastWeights(3, 3, {
          dtype: "float64",
          activation: "tanh",
          innerSteps: 2,
          formulation,
          generator: new eg.Generator(5),
        });
        m.recurrentWeight.data.set(randn([3, 3], 6).mul(0.5).data);
        const keys = ["inputWeight", "bias", "recurrentWeight", "norm.weight", "norm.bias"];
        const params = new Map(m.namedParameters());
        const r = eg.gradcheck(
          (input, ...ps) => {
            keys.forEach((k, i) => setParam(m, k, ps[i]!));
            return m.forward(input).output;
          },
          [randn([2, 4, 3], 8), ...keys.map((k) => params.get(k)!.detach())],
          { atol: 1e-6, rtol: 1e-4 },
        );
        expect(r.ok, JSON.stringify(r.worst)).toBe(true);
      });
    });
  }
});

describe("FastWeightsQA", () => {
  const task = new AssociativeRetrievalTask({ seed: 3, minPairs: 2, maxPairs: 3 });

  it("reads each row up to its own length (padding after it changes nothing)", () => {
    const m = new FastWeightsQA(task.inputSize, 8, { generator: new eg.Generator(2), dtype: "float64" });
    const batch = task.batch("train", 6, 0);
    const lengths = Array.from(batch.inputLengths.data);
    expect(new Set(lengths).size).toBe(2); // K = 2 and 3 in one batch: 7 and 9 symbols
    const logits = m.predict(batch);
    expect(logits.shape).toEqual([6, 1, task.vocabulary.length]);
    for (let b = 0; b < 6; b++) {
      const alone = task.fromText(
        Array.from(
          batch.input.data.subarray(b * batch.input.shape[1]!, b * batch.input.shape[1]! + lengths[b]!),
          (id) => task.vocabulary[id],
        ).join(""),
      );
      const single = m.predict(alone);
      for (let v = 0; v < task.vocabulary.length; v++) expect(single.data[v]).toBeCloseTo(logits.data[b * task.vocabulary.length + v]!, 10);
    }
  });

  it("lastStates picks each row's last step", () => {
    const states = eg.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], { shape: [2, 3, 2] });
    expect(Array.from(lastStates(states, Int32Array.of(2, 3)).data)).toEqual([3, 4, 11, 12]);
  });

  it("reads a bAbI story word by word, then its question", () => {
    const story: Batch = {
      input: eg.tensor([5, 6, 0, 7, 0, 0, 8, 9, 9], { shape: [1, 3, 3], dtype: "int32" }),
      query: eg.tensor([4, 3, 0], { shape: [1, 3], dtype: "int32" }),
      target: eg.tensor([1], { shape: [1, 1], dtype: "int32" }),
      inputLengths: eg.tensor([2], { shape: [1], dtype: "int32" }),
      targetLengths: eg.tensor([1], { shape: [1], dtype: "int32" }),
      mask: eg.ones([1, 1]),
    };
    const { ids, lengths } = readingSequence("test", story, 10);
    expect(Array.from(ids.data)).toEqual([5, 6, 7, 4, 3]);
    expect(Array.from(lengths)).toEqual([5]);
    expect(() => readingSequence("test", { ...story, query: undefined }, 10)).toThrow(
      /^test: a story batch \[B, S, W\] needs its question/,
    );
    expect(() => readingSequence("test", story, 9)).toThrow(/^test: id 9 is outside the vocabulary \[0, 9\)/);
    const badQuery = { ...story, query: eg.tensor([4, 12, 0], { shape: [1, 3], dtype: "int32" }) };
    expect(() => readingSequence("test", badQuery, 10)).toThrow(/^test: id 12 is outside the vocabulary \[0, 10\)/);
  });

  it("inspects the fast-weight attention as step x past-step maps", () => {
    const m = new FastWeightsQA(task.inputSize, 8, { generator: new eg.Generator(2), innerSteps: 2, vocabulary: task.vocabulary });
    const batch = task.fromText("c9k8j3??k");
    const view = m.inspect(batch);
    expect(view.input.join("")).toBe("c9k8j3??k");
    expect(view.output).toHaveLength(1);
    expect(view.maps.map((w) => w.name)).toEqual(["fast-weight attention, inner step 1", "fast-weight attention, inner step 2"]);
    for (const map of view.maps) {
      expect(map.values).toHaveLength(81);
      expect(map.rowLabels).toEqual(view.input);
      expect(map.values[0]).toBe(0); // step 0 has no past
      expect(map.values[8 * 9]).not.toBe(0); // the query step reads step 0
    }
    expect(m.training).toBe(true);
  });

  it("has the spec's parameter count, a stable state dict, and round-trips it", () => {
    for (const config of [{}, { headSize: 0, layerNorm: false, hiddenSize: 7 }] as eg.ModelConfig[]) {
      const { model } = eg.createModel("fast-weights", config, task);
      const full = { ...fastWeightsSpec.defaults, ...config };
      expect(model.numParameters()).toBe(fastWeightsSpec.parameterCount(full, task));
    }
    const make = (seed: number): FastWeightsQA => new FastWeightsQA(task.inputSize, 6, { headSize: 5, generator: new eg.Generator(seed) });
    const a = make(1);
    expect([...a.stateDict().keys()]).toEqual([
      "rnn.inputWeight",
      "rnn.bias",
      "rnn.recurrentWeight",
      "rnn.norm.weight",
      "rnn.norm.bias",
      "hidden.weight",
      "hidden.bias",
      "output.weight",
      "output.bias",
    ]);
    const b = make(2);
    const batch = task.batch("test", 4, 0);
    expect(maxAbsDiff(a.predict(batch), b.predict(batch))).toBeGreaterThan(1e-3);
    b.loadStateDict(a.stateDict());
    expect(maxAbsDiff(a.predict(batch), b.predict(batch))).toBe(0);
  });

  it("rejects bad spec options", () => {
    expect(() => eg.createModel("fast-weights", { decay: 2 }, task)).toThrow(/^fast-weights: option decay must be a number in \[0, 1\]/);
    expect(() => eg.createModel("fast-weights", { activation: "gelu" }, task)).toThrow(
      /^fast-weights: option activation must be one of relu, tanh/,
    );
    expect(() => eg.createModel("fast-weights", { innerSteps: 0 }, task)).toThrow(
      /^fast-weights: option innerSteps must be an integer >= 1/,
    );
  });

  it("learns associative retrieval with two pairs well above chance", () => {
    // K = 2: chance is 1 in 10 digits; a reader that finds the digits but not which key they belong
    // to gets ~55%; full retrieval needs thousands of steps (see docs), out of a unit test's budget.
    eg.manualSeed(0);
    const easy = new AssociativeRetrievalTask({ seed: 1, minPairs: 2, maxPairs: 2 });
    const model = new FastWeightsQA(easy.inputSize, 32, { generator: new eg.Generator(0) });
    const opt = new eg.optim.Adam(model.parameters(), { lr: 1e-2 });
    const accuracy = (): number => {
      const batch = easy.batch("validation", 200, 0);
      const { accuracy: a } = eg.noGrad(() => easy.evaluate(model.predict(batch), batch));
      return a!.sum / a!.count;
    };
    const before = accuracy();
    let first = 0;
    let last = 0;
    for (let step = 0; step < 120; step++) {
      const loss = model.loss(easy.batch("train", 32, step));
      if (step === 0) first = loss.item();
      last = loss.item();
      model.zeroGrad();
      loss.backward();
      eg.optim.clipGradNorm(model.parameters(), 5);
      opt.step();
    }
    expect(last).toBeLessThan(first / 2);
    expect(before).toBeLessThan(0.2);
    expect(accuracy()).toBeGreaterThan(0.4);
  });
});
