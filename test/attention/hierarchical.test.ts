/**
 * HierarchicalAttention: depth ceil(log_b N) and a gradient path from every input, streaming equals
 * batch at every step, gradcheck, a marked-item retrieval task, state dicts and errors.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { HierarchicalAttention } from "../../src/attention/hierarchical.js";
import { rng } from "../helpers/rng.js";
import { maxAbsDiff, onTs, setParam } from "../nn/helpers.js";
import { randn } from "./helpers.js";

describe("HierarchicalAttention structure", () => {
  it.each([
    [2, 1, 0],
    [2, 2, 1],
    [2, 5, 3],
    [2, 16, 4],
    [3, 9, 2],
    [3, 10, 3],
    [4, 64, 3],
  ])("branching %i, N = %i: depth %i, blocks per level, weights sum to 1 over real children", (b, n, depth) => {
    const m = new HierarchicalAttention(4, { branching: b, maxLength: 64, generator: new eg.Generator(1) });
    const r = m.forward(randn([2, n, 4], 2));
    expect(r.depth).toBe(depth);
    expect(r.weights.length).toBe(depth);
    expect(r.output.shape).toEqual([2, 4]);
    let count = n;
    for (const w of r.weights) {
      const blocks = Math.ceil(count / b);
      expect(w.shape).toEqual([2, blocks, b]);
      for (let i = 0; i < 2 * blocks; i++) {
        const children = Math.min(b, count - (i % blocks) * b);
        const row = Array.from(w.data.subarray(i * b, (i + 1) * b));
        expect(row.slice(0, children).reduce((a, c) => a + c, 0)).toBeCloseTo(1, 5);
        row.slice(children).forEach((x) => expect(x).toBe(0));
      }
      count = blocks;
    }
  });

  it("every input has a nonzero gradient path to the output", () => {
    const m = new HierarchicalAttention(5, { branching: 3, maxLength: 30, generator: new eg.Generator(3) });
    const x = randn([2, 23, 5], 4);
    const [g] = eg.grad((t: eg.Tensor) => m.forward(t).output.sum())(x);
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 23; i++) {
        const gi = Array.from(g!.data.subarray((b * 23 + i) * 5, (b * 23 + i + 1) * 5));
        expect(gi.some((v) => Math.abs(v) > 1e-9)).toBe(true);
      }
    // inputs of another batch row never reach this row's output
    const [g0] = eg.grad((t: eg.Tensor) => eg.narrow(m.forward(t).output, 0, 0, 1).sum())(x);
    expect(Array.from(g0!.data.subarray(23 * 5)).every((v) => v === 0)).toBe(true);
  });
});

describe("HierarchicalAttention streaming", () => {
  it.each([
    [2, false],
    [3, true],
  ])("branching %i (state query %s): the stream equals forward() on the prefix at every step", (b, withQuery) => {
    const n = 20;
    const m = new HierarchicalAttention(4, {
      branching: b,
      maxLength: 27,
      ...(withQuery ? { queryDim: 3 } : {}),
      generator: new eg.Generator(5),
    });
    const x = randn([3, n, 4], 6);
    const query = withQuery ? { query: randn([3, 3], 7) } : {};
    const s = m.stream(3, query);
    for (let t = 1; t <= n; t++) {
      const step = s.push(eg.narrow(x, 1, t - 1, 1).reshape([3, 4]));
      const full = m.forward(eg.narrow(x, 1, 0, t), query);
      expect(s.length).toBe(t);
      expect(step.depth).toBe(full.depth);
      expect(maxAbsDiff(step.output, full.output)).toBeLessThan(1e-5);
      step.weights.forEach((w, l) => {
        const last = full.weights[l]!;
        expect(maxAbsDiff(w, eg.narrow(last, 1, last.shape[1]! - 1, 1).reshape([3, b]))).toBeLessThan(1e-6);
      });
    }
  });

  it("gradients flow through the stream to earlier inputs", () => {
    const m = new HierarchicalAttention(3, { branching: 2, maxLength: 8, dtype: "float64", generator: new eg.Generator(8) });
    const xs = Array.from({ length: 6 }, (_, i) => {
      const t = randn([1, 3], 10 + i, "float64");
      t.requiresGrad = true;
      return t;
    });
    const s = m.stream(1);
    let out: eg.Tensor | null = null;
    for (const x of xs) out = s.push(x).output;
    out!.sum().backward();
    const [ref] = eg.grad((t: eg.Tensor) => m.forward(t).output.sum())(
      eg.stack(
        xs.map((x) => x.detach()),
        1,
      ),
    );
    xs.forEach((x, i) => expect(maxAbsDiff(x.grad!, eg.narrow(ref!, 1, i, 1).reshape([1, 3]))).toBeLessThan(1e-12));
  });
});

describe("HierarchicalAttention gradcheck (float64, ts)", () => {
  it("inputs, state query and level parameters", () => {
    onTs(() => {
      const m = new HierarchicalAttention(3, {
        branching: 2,
        maxLength: 8,
        queryDim: 2,
        dtype: "float64",
        generator: new eg.Generator(20),
      });
      const x = randn([2, 5, 3], 21, "float64");
      const q = randn([2, 2], 22, "float64");
      const keys = ["levels.0.keyProj.weight", "levels.1.query", "levels.2.valueProj.weight", "levels.1.queryProj.weight"];
      const params = keys.map((k) => m.stateDict().get(k)!);
      const res = eg.gradcheck(
        (xx: eg.Tensor, qq: eg.Tensor, ...ps: eg.Tensor[]) => {
          keys.forEach((k, i) => setParam(m, k, ps[i]!));
          return m.forward(xx, { query: qq }).output;
        },
        [x, q, ...params],
      );
      expect(res.ok).toBe(true);
      expect(res.maxAbsError).toBeLessThan(1e-7);
    });
  });
});

/** Sequences of N vectors: dims 0..3 random values, dim 4 marks one position; the target is the marked values. */
function markedBatch(next: () => number, batch: number, n: number): { x: eg.Tensor; y: eg.Tensor } {
  const x = new Float32Array(batch * n * 5);
  const y = new Float32Array(batch * 4);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) for (let c = 0; c < 4; c++) x[(b * n + i) * 5 + c] = next() * 2 - 1;
    const mark = Math.floor(next() * n);
    x[(b * n + mark) * 5 + 4] = 1;
    y.set(x.subarray((b * n + mark) * 5, (b * n + mark) * 5 + 4), b * 4);
  }
  return { x: eg.tensor(x, { shape: [batch, n, 5] }), y: eg.tensor(y, { shape: [batch, 4] }) };
}

describe("HierarchicalAttention learning", () => {
  it("retrieves the marked item of a 64-vector sequence (loss falls)", () => {
    const n = 64;
    const enc = new HierarchicalAttention(5, { branching: 4, maxLength: n, generator: new eg.Generator(30) });
    const readout = new eg.nn.Linear(5, 4, { generator: new eg.Generator(31) });
    const opt = new eg.optim.Adam([...enc.parameters(), ...readout.parameters()], { lr: 0.03 });
    const evalBatch = markedBatch(rng(32), 64, n);
    const evalLoss = (): number => eg.noGrad(() => eg.mseLoss(readout.forward(enc.forward(evalBatch.x).output), evalBatch.y).item());
    const before = evalLoss();
    const next = rng(33);
    for (let step = 0; step < 150; step++) {
      const { x, y } = markedBatch(next, 32, n);
      opt.zeroGrad();
      eg.mseLoss(readout.forward(enc.forward(x).output), y).backward();
      opt.step();
    }
    const after = evalLoss();
    expect(before).toBeGreaterThan(0.2);
    // a mean-predictor stays near 0.33 (the variance of U(-1, 1)); retrieval drives the error towards 0
    expect(after).toBeLessThan(0.02);
  });
});

describe("HierarchicalAttention state dict and errors", () => {
  it("state dict keys and round trip", () => {
    const make = (seed: number): HierarchicalAttention =>
      new HierarchicalAttention(3, { branching: 3, maxLength: 10, queryDim: 2, generator: new eg.Generator(seed) });
    const a = make(40);
    expect([...a.stateDict().keys()]).toEqual(
      [0, 1, 2].flatMap((l) => [
        `levels.${l}.query`,
        `levels.${l}.keyProj.weight`,
        `levels.${l}.valueProj.weight`,
        `levels.${l}.queryProj.weight`,
      ]),
    );
    const b = make(41);
    const x = randn([2, 10, 3], 42);
    const q = randn([2, 2], 43);
    expect(maxAbsDiff(a.forward(x, { query: q }).output, b.forward(x, { query: q }).output)).toBeGreaterThan(1e-3);
    b.loadStateDict(a.stateDict());
    expect(maxAbsDiff(a.forward(x, { query: q }).output, b.forward(x, { query: q }).output)).toBe(0);
  });

  it("rejects bad inputs with errors naming the op and shapes", () => {
    const m = new HierarchicalAttention(3, { maxLength: 8 });
    expect(() => m.forward(randn([2, 9, 3], 1))).toThrow(
      /^HierarchicalAttention: x \[2, 9, 3\] has N = 9 vectors; N must be in \[1, maxLength = 8\]/,
    );
    expect(() => m.forward(randn([2, 0, 3], 1))).toThrow(eg.ShapeError);
    expect(() => m.forward(randn([2, 4, 2], 1))).toThrow(/^HierarchicalAttention: x must be \(B, N, D = 3\), got \[2, 4, 2\]/);
    expect(() => m.forward(randn([2, 4, 3], 1), { query: randn([2, 2], 2) })).toThrow(/without queryDim/);
    expect(() => new HierarchicalAttention(3, { maxLength: 8, branching: 1 })).toThrow(
      /^HierarchicalAttention: branching must be an integer >= 2/,
    );
    expect(() => new HierarchicalAttention(3, {} as { maxLength: number })).toThrow(/maxLength/);
    const withQ = new HierarchicalAttention(3, { maxLength: 8, queryDim: 2 });
    expect(() => withQ.forward(randn([2, 4, 3], 1))).toThrow(/pass opts.query/);
    expect(() => withQ.forward(randn([2, 4, 3], 1), { query: randn([3, 2], 2) })).toThrow(
      /query must be \(B, queryDim\) = \(2, 2\), got \[3, 2\]/,
    );
    const s = m.stream(2);
    expect(() => s.push(randn([3, 3], 1))).toThrow(/^HierarchicalAttention.stream: each step takes x \(B, D\) = \(2, 3\), got \[3, 3\]/);
    for (let i = 0; i < 8; i++) s.push(randn([2, 3], i));
    expect(() => s.push(randn([2, 3], 9))).toThrow(/already holds maxLength = 8/);
    expect(() => m.stream(0)).toThrow(eg.ArgumentError);
  });
});
