// MemN2N: shapes, position encoding, weight tying, state dicts, gradients, linear start, random
// noise, inspection, and learning bAbI task 1.
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { MemN2N, memn2nSpec, type MemN2NOptions } from "../../src/memory/memn2n.js";
import { positionEncoding } from "../../src/memory/sentence-encoding.js";
import { createModel } from "../../src/models/registry.js";
import { createTask } from "../../src/tasks/registry.js";
import type { BabiTask } from "../../src/tasks/babi/task.js";

const ints = (data: number[][] | number[][][]): Tensor => eg.tensor(data, { dtype: "int32" });

// two stories of up to 3 sentences of 4 words over a vocabulary of 9 (0 = PAD); the second has 2 sentences
const STORY = ints([
  [
    [1, 2, 3, 0],
    [4, 5, 0, 0],
    [6, 7, 8, 2],
  ],
  [
    [3, 3, 1, 0],
    [8, 0, 0, 0],
    [0, 0, 0, 0],
  ],
]);
const QUERY = ints([
  [5, 6, 0, 0],
  [2, 0, 0, 0],
]);
const LENGTHS = eg.tensor([3, 2], { dtype: "int32" });

function model(opts: MemN2NOptions = {}): MemN2N {
  return new MemN2N(9, { memorySize: 5, embeddingDim: 6, hops: 3, generator: new eg.Generator(1), ...opts });
}

describe("MemN2N", () => {
  it("maps a story and a query to answer logits and per-hop weights over the sentences", () => {
    const m = model();
    m.eval();
    const { logits, attention } = m.forward(STORY, QUERY, { lengths: LENGTHS });
    expect(logits.shape).toEqual([2, 9]);
    expect(attention).toHaveLength(3);
    for (const p of attention) {
      expect(p.shape).toEqual([2, 3]);
      const [a, b, c, d, e, f] = Array.from(p.data);
      expect(a! + b! + c!).toBeCloseTo(1, 5);
      expect(d! + e!).toBeCloseTo(1, 5);
      expect(f).toBe(0); // the padding slot of the second story
    }
    // without lengths, a story ends at its last sentence holding a word
    expect(Array.from(m.forward(STORY, QUERY).logits.data)).toEqual(Array.from(logits.data));
  });

  it("follows the paper's position-encoding formula l_kj = (1 - j/J) - (k/d)(1 - 2j/J)", () => {
    const J = 4;
    const d = 6;
    const pe = positionEncoding(J, d);
    for (let j = 1; j <= J; j++) {
      for (let k = 1; k <= d; k++) expect(pe[(j - 1) * d + (k - 1)]).toBeCloseTo(1 - j / J - (k / d) * (1 - (2 * j) / J), 12);
    }
    expect(pe[0]).toBeCloseTo(0.75 - (1 / 6) * 0.5, 12); // j = 1, k = 1
    // in the model: one linear hop's score is exactly m_i . u with m_i = sum_j l_j o A x_ij over the sentence's own J
    const net = new MemN2N(9, {
      memorySize: 5,
      embeddingDim: d,
      hops: 1,
      temporal: false,
      linearStartSteps: 1,
      generator: new eg.Generator(2),
    });
    expect(net.linearStart).toBe(true);
    const { attention } = net.forward(STORY, QUERY, { lengths: LENGTHS });
    const embed = (table: Tensor, ids: number[]): number[] => {
      const words = ids.filter((id) => id !== 0);
      const l = positionEncoding(words.length, d);
      return Array.from({ length: d }, (_, k) => words.reduce((s, id, j) => s + l[j * d + k]! * table.data[id * d + k]!, 0));
    };
    const u = embed(net.queryTable(), [5, 6]);
    const rows = [
      [1, 2, 3],
      [4, 5],
      [6, 7, 8, 2],
    ];
    rows.forEach((ids, i) => {
      const m = embed(net.memoryTable(0), ids);
      expect(attention[0]!.data[i]).toBeCloseTo(
        m.reduce((s, x, k) => s + x * u[k]!, 0),
        5,
      );
    });
  });

  it("follows the reference code's weights l_kj = 1 + 4 (k - (d+1)/2)(j - (W+1)/2) / (d W) over the padded width W", () => {
    const d = 4;
    const pe = positionEncoding(5, d, "position-reference");
    expect(pe[0]).toBeCloseTo(1 + (4 * (1 - 2.5) * (1 - 3)) / 20, 12); // j = 1, k = 1: 1.6
    expect(pe[2 * d + 3]).toBeCloseTo(1, 12); // the middle word (j = 3) weighs 1 in every dimension
    expect(pe[4 * d + 3]).toBeCloseTo(1 + (4 * 1.5 * 2) / 20, 12); // j = 5, k = 4: 1.6
    expect(() => positionEncoding(3, d, "sinusoid" as never)).toThrow(
      /^positionEncoding: encoding must be one of bow, position, position-reference/,
    );
    // in the model the width is the story's W (4 here) for every sentence, however many words it has
    const net = new MemN2N(9, {
      memorySize: 5,
      embeddingDim: d,
      hops: 1,
      temporal: false,
      encoding: "position-reference",
      linearStartSteps: 1,
      generator: new eg.Generator(3),
    });
    const { attention } = net.forward(STORY, QUERY, { lengths: LENGTHS });
    const l = positionEncoding(4, d, "position-reference");
    const embed = (table: Tensor, ids: number[]): number[] =>
      Array.from({ length: d }, (_, k) => ids.reduce((s, id, j) => s + (id === 0 ? 0 : l[j * d + k]! * table.data[id * d + k]!), 0));
    const u = embed(net.queryTable(), Array.from(QUERY.data.subarray(0, 4)));
    [
      [1, 2, 3, 0],
      [4, 5, 0, 0],
      [6, 7, 8, 2],
    ].forEach((ids, i) => {
      const m = embed(net.memoryTable(0), ids);
      expect(attention[0]!.data[i]).toBeCloseTo(
        m.reduce((s, x, k) => s + x * u[k]!, 0),
        5,
      );
    });
  });

  it("attendEmpty: the memorySize - n empty slots join each softmax with score 0, as zero memories would", () => {
    const net = model({ attendEmpty: true, temporal: false, hops: 1 });
    net.eval();
    const { attention, logits } = net.forward(STORY, QUERY, { lengths: LENGTHS });
    // raw scores from linear start, then the softmax with 5 - n blanks of score 0 by hand
    net.linearStart = true;
    const raw = net.forward(STORY, QUERY, { lengths: LENGTHS }).attention[0]!.data;
    net.linearStart = false;
    [3, 2].forEach((n, b) => {
      const e = Array.from({ length: n }, (_, i) => Math.exp(raw[b * 3 + i]!));
      const z = e.reduce((a, x) => a + x, 0) + (5 - n);
      e.forEach((x, i) => expect(attention[0]!.data[b * 3 + i]).toBeCloseTo(x / z, 6));
      if (n < 3) expect(attention[0]!.data[b * 3 + n]).toBe(0);
    });
    // the same model over the story padded with PAD sentences to all 5 slots, every slot counted
    const padded = new eg.Tensor(new Int32Array(2 * 5 * 4), [2, 5, 4], "int32");
    for (let b = 0; b < 2; b++) padded.data.set(STORY.data.subarray(b * 12, (b + 1) * 12), b * 20);
    const masked = model({ temporal: false, hops: 1 });
    masked.loadStateDict(net.stateDict());
    masked.eval();
    const full = masked.forward(padded, QUERY, { lengths: eg.tensor([5, 5], { dtype: "int32" }) }).logits;
    Array.from(full.data).forEach((v, i) => expect(logits.data[i]).toBeCloseTo(v, 6));
    // a story that fills the memory leaves nothing to attend besides its sentences
    const filled = model({ attendEmpty: true, temporal: false, hops: 1, memorySize: 3 });
    filled.eval();
    const p = filled.forward(STORY, QUERY, { lengths: eg.tensor([3, 3], { dtype: "int32" }) }).attention[0]!.data;
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
  });

  it("bag-of-words encoding ignores word order", () => {
    const net = model({ encoding: "bow", temporal: false });
    net.eval();
    const swapped = ints([
      [
        [3, 2, 1, 0],
        [5, 4, 0, 0],
        [2, 8, 7, 6],
      ],
      [
        [1, 3, 3, 0],
        [8, 0, 0, 0],
        [0, 0, 0, 0],
      ],
    ]);
    const a = net.forward(STORY, QUERY).logits.data;
    const b = net.forward(swapped, QUERY).logits.data;
    a.forEach((x, i) => expect(b[i]).toBeCloseTo(x, 5));
    const pe = model({ temporal: false });
    expect(Array.from(pe.forward(swapped, QUERY).logits.data)).not.toEqual(Array.from(pe.forward(STORY, QUERY).logits.data));
  });

  it("ties adjacent layers: B = A^1, A^(k+1) = C^k, W^T = C^K, and the temporal tables alike", () => {
    const m = model({ hops: 3 });
    expect(m.queryTable()).toBe(m.memoryTable(0));
    for (let k = 0; k < 2; k++) expect(m.memoryTable(k + 1)).toBe(m.outputTable(k));
    expect(m.answerTable()).toBe(m.outputTable(2));
    expect(m.temporalTables(1)!.memory).toBe(m.temporalTables(0)!.output);
    expect(m.parameters()).toHaveLength(8);
    expect(m.numParameters()).toBe(4 * 9 * 6 + 4 * 5 * 6);
    expect([...m.stateDict().keys()]).toEqual([
      "tables.0",
      "tables.1",
      "tables.2",
      "tables.3",
      "temporal.0",
      "temporal.1",
      "temporal.2",
      "temporal.3",
    ]);
  });

  it("ties layer-wise: one A and one C for every hop, separate B and W, and a hop map H", () => {
    const m = model({ tying: "layerwise" });
    expect(m.memoryTable(0)).toBe(m.memoryTable(2));
    expect(m.outputTable(0)).toBe(m.outputTable(2));
    expect(new Set([m.queryTable(), m.memoryTable(0), m.outputTable(0), m.answerTable()]).size).toBe(4);
    expect(m.hop!.shape).toEqual([6, 6]);
    expect(m.numParameters()).toBe(4 * 9 * 6 + 2 * 5 * 6 + 36);
    expect([...m.stateDict().keys()]).toContain("hop");
    // H matters: u^(k+1) = H u^k + o^k
    m.eval();
    const before = Array.from(m.forward(STORY, QUERY).logits.data);
    m.hop!.data.fill(0);
    expect(Array.from(m.forward(STORY, QUERY).logits.data)).not.toEqual(before);
  });

  it("computes its state-dict size from a config without building, for every tying and option", () => {
    const task = createTask("babi", { size: 100, memorySize: 20 });
    const configs = [{}, { hops: 1 }, { tying: "layerwise", embeddingDim: 7 }, { temporal: false, hops: 2, linearStartSteps: 0 }];
    for (const config of configs) {
      const { model: built, config: full } = createModel("memn2n", config, task);
      const elements = [...built.stateDict().values()].reduce((n, t) => n + t.size, 0);
      expect(memn2nSpec.parameterCount(full, task)).toBe(elements);
      // the weights, plus the linear-start counter when there is a linear-start schedule
      expect(elements).toBe(built.numParameters() + ((full.linearStartSteps as number) > 0 ? 1 : 0));
    }
    expect(() => createModel("memn2n", {}, createTask("copy"))).toThrow(/handles qa tasks; copy is a bits task/);
    expect(() => createModel("memn2n", { tying: "sideways" }, task)).toThrow(/^memn2n: option tying must be one of adjacent, layerwise/);
    expect(() => createModel("memn2n", { randomNoise: 2 }, task)).toThrow(/^memn2n: option randomNoise must be a number in \[0, 1\]/);
  });

  it("round-trips its state dict", () => {
    const a = model({ tying: "layerwise" });
    const b = model({ tying: "layerwise", generator: new eg.Generator(99) });
    a.eval();
    b.eval();
    expect(Array.from(b.forward(STORY, QUERY).logits.data)).not.toEqual(Array.from(a.forward(STORY, QUERY).logits.data));
    const sd = new Map([...a.stateDict()].map(([k, t]) => [k, new eg.Tensor(t.data.slice(), t.shape, t.dtype)]));
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(b.forward(STORY, QUERY).logits.data)).toEqual(Array.from(a.forward(STORY, QUERY).logits.data));
  });

  it("passes a float64 gradient check through every table, the temporal rows and H", () => {
    const prev = eg.getBackend();
    eg.setBackend("ts");
    try {
      for (const tying of ["adjacent", "layerwise"] as const) {
        for (const linear of [false, true]) {
          const m = new MemN2N(9, { memorySize: 4, embeddingDim: 3, hops: 2, tying, dtype: "float64", generator: new eg.Generator(5) });
          m.eval();
          m.linearStart = linear;
          const slots = m as unknown as { tables: Tensor[]; temporal: Tensor[]; hop: Tensor | null };
          const params = [...slots.tables, ...slots.temporal, ...(slots.hop ? [slots.hop] : [])];
          const r = eg.gradcheck((...ps: Tensor[]) => {
            ps.slice(0, slots.tables.length).forEach((p, i) => (slots.tables[i] = p));
            ps.slice(slots.tables.length, slots.tables.length + slots.temporal.length).forEach((p, i) => (slots.temporal[i] = p));
            if (slots.hop) slots.hop = ps[ps.length - 1]!;
            return m.forward(STORY, QUERY, { lengths: LENGTHS }).logits;
          }, params);
          expect(r.ok, `${tying} linear=${linear}: ${JSON.stringify(r.worst)}`).toBe(true);
        }
      }
    } finally {
      eg.setBackend(prev);
    }
  });

  it("drops the memory softmax during linear start and restores it after linearStartSteps training batches", () => {
    const task = createTask("babi", { size: 100, memorySize: 20 });
    const m = new MemN2N(task.inputSize, { memorySize: 20, linearStartSteps: 2, generator: new eg.Generator(3) });
    const batch = task.batch("train", 4, 0);
    const rowSums = (): number[] => {
      const p = m.forward(batch.input, batch.query!, { lengths: batch.inputLengths }).attention[0]!;
      return Array.from(eg.sum(p, -1).data);
    };
    expect(m.linearStart).toBe(true);
    expect(rowSums().some((s) => Math.abs(s - 1) > 1e-3)).toBe(true);
    m.eval();
    m.loss(batch); // evaluation does not count
    m.train();
    m.loss(batch);
    expect(m.linearStart).toBe(true);
    m.loss(batch);
    expect(m.linearStart).toBe(false);
    expect(m.trainedBatches).toBe(2);
    for (const s of rowSums()) expect(s).toBeCloseTo(1, 5);
    // the phase travels with the state dict: a model rebuilt from this one's weights is past linear start
    const rebuilt = new MemN2N(task.inputSize, { memorySize: 20, linearStartSteps: 2 });
    expect(rebuilt.linearStart).toBe(true);
    rebuilt.loadStateDict(m.stateDict());
    expect(rebuilt.linearStart).toBe(false);
    const early = new MemN2N(task.inputSize, { memorySize: 20, linearStartSteps: 3 });
    early.loadStateDict(m.stateDict());
    expect(early.linearStart).toBe(true);
  });

  it("adds random-noise ages only in training, drawn from its generator", () => {
    const task = createTask("babi", { taskId: 2, size: 100, memorySize: 30 });
    const batch = task.batch("train", 8, 0);
    const run = (m: MemN2N): number[] => Array.from(m.forward(batch.input, batch.query!, { lengths: batch.inputLengths }).logits.data);
    const make = (randomNoise: number): MemN2N =>
      new MemN2N(task.inputSize, { memorySize: 30, randomNoise, generator: new eg.Generator(4) });
    const noisy = make(0.5);
    const clean = make(0);
    noisy.eval();
    clean.eval();
    expect(run(noisy)).toEqual(run(clean));
    noisy.train();
    clean.train();
    expect(run(clean)).toEqual(run(make(0).eval()));
    const a = run(noisy);
    expect(a).not.toEqual(run(clean));
    expect(run(noisy)).not.toEqual(a); // a fresh draw each batch
  });

  it("rejects bad inputs with messages naming the op", () => {
    const m = model();
    expect(() => m.forward(eg.zeros([2, 3, 4]), QUERY)).toThrow(/^MemN2N\.forward: story must be int32 ids, got float32/);
    expect(() => m.forward(STORY, ints([[1, 2]]))).toThrow(/^MemN2N\.forward: expected story \[B, S, W\] and query \[B, Wq\]/);
    expect(() => m.forward(ints([[[9]]]), ints([[1]]))).toThrow(/^MemN2N\.forward: id 9 is outside the vocabulary \[0, 9\)/);
    expect(() => m.forward(eg.zeros([1, 6, 2], { dtype: "int32" }), ints([[1, 0]]))).toThrow(/has 6 sentences, more than memorySize 5/);
    expect(() => m.forward(STORY, QUERY, { lengths: eg.tensor([4, 1], { dtype: "int32" }) })).toThrow(
      /a length of 4 sentences does not fit S = 3/,
    );
    expect(() => new MemN2N(9, { tying: "tied" as never })).toThrow(/^MemN2N: tying must be one of adjacent, layerwise/);
  });

  it("inspects per-hop attention over the first story's sentences", () => {
    const task = createTask("babi", { size: 100, memorySize: 20 }) as BabiTask;
    const { model: m } = createModel("memn2n", { hops: 2, linearStartSteps: 0, attendEmpty: false }, task);
    const batch = task.batch("test", 3, 0);
    const view = (m as MemN2N).inspect(batch);
    const example = task.examples.test[0]!;
    const n = example.sentences.length;
    expect(view.input).toHaveLength(n + 1);
    expect(view.input[0]).toBe(example.sentences[0]!.toLowerCase().replace(".", ""));
    expect(view.input[n]).toBe(`${example.question.toLowerCase().replace("?", "")}?`);
    expect(view.output).toHaveLength(1);
    const [map] = view.maps;
    expect(map!.rowLabels).toEqual(["hop 1", "hop 2"]);
    expect(map!.colLabels).toEqual(view.input.slice(0, n));
    expect(map!.values).toHaveLength(2 * n);
    for (let k = 0; k < 2; k++) expect(map!.values.slice(k * n, (k + 1) * n).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
  });

  it("learns bAbI task 1 (single supporting fact) well above chance", () => {
    eg.manualSeed(0);
    const task = createTask("babi", { taskId: 1, size: 1000 }) as BabiTask;
    const m = new MemN2N(task.inputSize, { memorySize: 50, generator: new eg.Generator(7) });
    const opt = new eg.optim.Adam(m.parameters(), { lr: 0.02 });
    const accuracy = (): number =>
      eg.noGrad(() => {
        m.eval();
        const evaluations = [0, 1, 2, 3].map((i) => {
          const b = task.batch("test", 50, i);
          return task.evaluate(m.predict(b), b);
        });
        m.train();
        return eg.tasks.summarize(eg.tasks.combineEvaluations(evaluations)).accuracy!;
      });
    const before = accuracy();
    let first = 0;
    let last = 0;
    for (let step = 0; step < 100; step++) {
      opt.zeroGrad();
      const loss = m.loss(task.batch("train", 32, step));
      loss.backward();
      eg.optim.clipGradNorm(m.parameters(), 40);
      opt.step();
      if (step < 10) first += loss.item() / 10;
      if (step >= 90) last += loss.item() / 10;
    }
    expect(last).toBeLessThan(0.7 * first);
    // six places: chance is about 1/6
    expect(before).toBeLessThan(0.35);
    expect(accuracy()).toBeGreaterThan(0.5);
  });
});
