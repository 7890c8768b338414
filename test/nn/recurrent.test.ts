import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { maxAbsDiff, onTs, setParam } from "./helpers.js";
import * as nn from "../../src/nn/index.js";

const f64 = (shape: number[], seed: number): eg.Tensor => eg.randn(shape, { dtype: "float64", generator: new eg.Generator(seed) });
const f32 = (shape: number[], seed: number): eg.Tensor => eg.randn(shape, { generator: new eg.Generator(seed) });

describe("recurrent cells", () => {
  it("RNNCell computes act(x W_ih^T + b_ih + h W_hh^T + b_hh)", () => {
    const cell = new nn.RNNCell(2, 3, { nonlinearity: "relu", generator: new eg.Generator(1) });
    const xs = f32([4, 2], 2);
    const h = f32([4, 3], 3);
    const y = cell.forward(xs, h);
    const want = xs
      .matmul(cell.weightIh, { transB: true })
      .add(cell.biasIh!)
      .add(h.matmul(cell.weightHh, { transB: true }))
      .add(cell.biasHh!)
      .relu();
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-6);
    // unbatched input and omitted state (zeros)
    const single = cell.forward(xs.slice([0]));
    expect(single.shape).toEqual([3]);
    expect(maxAbsDiff(single, cell.forward(xs.slice([[0, 1]]), eg.zeros([1, 3])).reshape([3]))).toBe(0);
    expect(() => cell.forward(eg.zeros([4, 3]))).toThrow(eg.ShapeError);
    expect(() => cell.forward(xs, eg.zeros([4, 2]))).toThrow(eg.ShapeError);
  });

  it("LSTMCell and GRUCell equal one step of single-layer LSTM and GRU; PyTorch parameter names", () => {
    const g = new eg.Generator(4);
    const lstmCell = new nn.LSTMCell(3, 5, { generator: g });
    expect(lstmCell.namedParameters().map(([k, t]) => `${k}:${t.shape.join("x")}`)).toEqual([
      "weightIh:20x3",
      "weightHh:20x5",
      "biasIh:20",
      "biasHh:20",
    ]);
    const lstm = new nn.LSTM(3, 5);
    const map = (k: string): string => `${k}_l0`;
    lstm.loadStateDict(new Map([...lstmCell.stateDict()].map(([k, v]) => [map(k), v])));
    const xs = f32([2, 3], 5);
    const h = f32([2, 5], 6);
    const c = f32([2, 5], 7);
    const step = lstmCell.forward(xs, { h, c });
    const seq = lstm.forward(xs.unsqueeze(0), { h0: h.unsqueeze(0), c0: c.unsqueeze(0) });
    expect(maxAbsDiff(step.h, seq.output.reshape([2, 5]))).toBeLessThan(1e-6);
    expect(maxAbsDiff(step.c, seq.cN.reshape([2, 5]))).toBeLessThan(1e-6);

    const gruCell = new nn.GRUCell(3, 5, { generator: g });
    const gru = new nn.GRU(3, 5);
    gru.loadStateDict(new Map([...gruCell.stateDict()].map(([k, v]) => [map(k), v])));
    expect(maxAbsDiff(gruCell.forward(xs, h), gru.forward(xs.unsqueeze(0), { h0: h.unsqueeze(0) }).hN.reshape([2, 5]))).toBeLessThan(1e-6);
  });

  it("GRUCell follows PyTorch's formulation (r gates W_hn h + b_hn)", () => {
    const cell = new nn.GRUCell(1, 1, { generator: new eg.Generator(8) });
    const [wir, wiz, win] = Array.from(cell.weightIh.data);
    const [whr, whz, whn] = Array.from(cell.weightHh.data);
    const [bir, biz, bin] = Array.from(cell.biasIh!.data);
    const [bhr, bhz, bhn] = Array.from(cell.biasHh!.data);
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    const [xv, hv] = [0.7, -0.4];
    const r = sig(wir! * xv + bir! + whr! * hv + bhr!);
    const z = sig(wiz! * xv + biz! + whz! * hv + bhz!);
    const n = Math.tanh(win! * xv + bin! + r * (whn! * hv + bhn!));
    expect(cell.forward(eg.tensor([[xv]]), eg.tensor([[hv]])).item()).toBeCloseTo((1 - z) * n + z * hv, 6);
  });

  it("forgetBias sets the forget-gate slice of the biases", () => {
    const cell = new nn.LSTMCell(2, 3, { forgetBias: 1 });
    expect(Array.from(cell.biasIh!.data.subarray(3, 6))).toEqual([1, 1, 1]);
    expect(Array.from(cell.biasHh!.data.subarray(3, 6))).toEqual([0, 0, 0]);
    const lstm = new nn.LSTM(2, 3, { numLayers: 2, bidirectional: true, forgetBias: 2 });
    const b = lstm.namedParameters().find(([k]) => k === "biasIh_l1_reverse")![1];
    expect(Array.from(b.data.subarray(3, 6))).toEqual([2, 2, 2]);
  });

  it("gradcheck through LSTMCell and GRUCell (float64, ts)", () => {
    onTs(() => {
      const lstm = new nn.LSTMCell(3, 2, { dtype: "float64", generator: new eg.Generator(9) });
      const keys = ["weightIh", "weightHh", "biasIh", "biasHh"];
      const params = keys.map((k) => lstm.stateDict().get(k)!);
      const r = eg.gradcheck(
        (xs, h, c, ...ps) => {
          keys.forEach((k, i) => setParam(lstm, k, ps[i]!));
          const s = lstm.forward(xs, { h: h, c: c });
          return eg.concat([s.h, s.c], -1);
        },
        [f64([2, 3], 1), f64([2, 2], 2), f64([2, 2], 3), ...params],
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
      const gru = new nn.GRUCell(3, 2, { dtype: "float64", generator: new eg.Generator(10) });
      const gp = keys.map((k) => gru.stateDict().get(k)!);
      const r2 = eg.gradcheck(
        (xs, h, ...ps) => {
          keys.forEach((k, i) => setParam(gru, k, ps[i]!));
          return gru.forward(xs, h);
        },
        [f64([2, 3], 4), f64([2, 2], 5), ...gp],
      );
      expect(r2.ok, JSON.stringify(r2)).toBe(true);
    });
  });
});

describe("multi-layer recurrent modules", () => {
  it("returns PyTorch shapes for every layout", () => {
    const lstm = new nn.LSTM(3, 4, { numLayers: 3, bidirectional: true });
    const r = lstm.forward(f32([5, 2, 3], 1));
    expect([r.output.shape, r.hN.shape, r.cN.shape]).toEqual([
      [5, 2, 8],
      [6, 2, 4],
      [6, 2, 4],
    ]);
    const gru = new nn.GRU(3, 4, { numLayers: 2, batchFirst: true });
    const g = gru.forward(f32([2, 5, 3], 2));
    expect([g.output.shape, g.hN.shape]).toEqual([
      [2, 5, 4],
      [2, 2, 4],
    ]);
    // unbatched (T, F) equals a batch of one
    const u = gru.forward(f32([5, 3], 3));
    expect([u.output.shape, u.hN.shape]).toEqual([
      [5, 4],
      [2, 4],
    ]);
    const b1 = gru.forward(f32([5, 3], 3).unsqueeze(0));
    expect(maxAbsDiff(u.output, b1.output.reshape([5, 4]))).toBe(0);
    // the last output of the forward direction is hN of the last layer
    const rnn = new nn.RNN(3, 4, { numLayers: 2 });
    const o = rnn.forward(f32([5, 2, 3], 4));
    expect(maxAbsDiff(o.output.slice([4]), o.hN.slice([1]))).toBe(0);
  });

  it("validates input, states and lengths", () => {
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    expect(() => lstm.forward(eg.zeros([5, 2, 2]))).toThrow(/LSTM: input \[5, 2, 2\]/);
    expect(() => lstm.forward(eg.zeros([0, 2, 3]))).toThrow(eg.ShapeError);
    expect(() => lstm.forward(eg.zeros([5, 2, 3]), { h0: eg.zeros([1, 2, 4]) })).toThrow(/h0 \[1, 2, 4\] must be \[2, 2, 4\]/);
    expect(() => lstm.forward(eg.zeros([5, 2, 3]), { lengths: [5] })).toThrow(eg.ShapeError);
    expect(() => lstm.forward(eg.zeros([5, 2, 3]), { lengths: [5, 6] })).toThrow(eg.ArgumentError);
    expect(() => new nn.GRU(3, 4, { dropout: 2 })).toThrow(eg.ArgumentError);
    expect(() => new nn.RNN(3, 4, { nonlinearity: "sigmoid" as never })).toThrow(eg.ArgumentError);
  });

  it("padded steps change neither state nor output: equal to running each sequence alone", () => {
    const lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, generator: new eg.Generator(5) });
    const xs = f32([3, 6, 3], 6);
    const h0 = f32([4, 3, 4], 7);
    const c0 = f32([4, 3, 4], 8);
    const lengths = [6, 2, 4];
    const all = lstm.forward(xs, { h0, c0, lengths: eg.tensor(lengths, { dtype: "int32" }) });
    lengths.forEach((len, b) => {
      const one = lstm.forward(
        xs.slice([
          [b, b + 1],
          [0, len],
        ]),
        { h0: h0.slice([null, [b, b + 1]]), c0: c0.slice([null, [b, b + 1]]) },
      );
      expect(
        maxAbsDiff(
          all.output.slice([
            [b, b + 1],
            [0, len],
          ]),
          one.output,
        ),
      ).toBeLessThan(1e-6);
      expect(maxAbsDiff(all.hN.slice([null, [b, b + 1]]), one.hN)).toBeLessThan(1e-6);
      expect(maxAbsDiff(all.cN.slice([null, [b, b + 1]]), one.cN)).toBeLessThan(1e-6);
      const padded = all.output.slice([b, [len, 6]]);
      expect(Array.from(padded.data).every((v) => v === 0)).toBe(true);
    });
  });

  it("padded steps produce zero gradient to padded inputs", () => {
    const gru = new nn.GRU(2, 3, { numLayers: 2, bidirectional: true, generator: new eg.Generator(9) });
    const xs = f32([5, 2, 2], 10);
    xs.requiresGrad = true;
    const { output, hN } = gru.forward(xs, { lengths: [5, 3] });
    output.square().sum().add(hN.sum()).backward();
    const g = xs.grad!;
    for (let t = 0; t < 5; t++) {
      for (let b = 0; b < 2; b++) {
        const v = [0, 1].map((i) => g.data[(t * 2 + b) * 2 + i]!);
        if (b === 1 && t >= 3) expect(v).toEqual([0, 0]);
        else expect(Math.abs(v[0]!) + Math.abs(v[1]!)).toBeGreaterThan(0);
      }
    }
  });

  it("gradcheck through a 2-layer bidirectional LSTM with lengths (float64, ts)", () => {
    onTs(() => {
      const lstm = new nn.LSTM(2, 2, {
        numLayers: 2,
        bidirectional: true,
        batchFirst: true,
        dtype: "float64",
        generator: new eg.Generator(11),
      });
      const keys = lstm.namedParameters().map(([k]) => k);
      const params = keys.map((k) => lstm.stateDict().get(k)!);
      const r = eg.gradcheck(
        (xs, h0, c0, ...ps) => {
          keys.forEach((k, i) => setParam(lstm, k, ps[i]!));
          const out = lstm.forward(xs, { h0: h0, c0: c0, lengths: [4, 2] });
          return eg.concat([out.output.reshape([-1]), out.hN.reshape([-1]), out.cN.reshape([-1])]);
        },
        [f64([2, 4, 2], 12), f64([4, 2, 2], 13), f64([4, 2, 2], 14), ...params],
      );
      expect(r.ok, JSON.stringify(r)).toBe(true);
    });
  });

  it("applies dropout between layers only in training mode", () => {
    const gru = new nn.GRU(3, 8, { numLayers: 2, dropout: 0.5, generator: new eg.Generator(15) });
    const xs = f32([4, 2, 3], 16);
    const a = gru.forward(xs, { generator: new eg.Generator(1) }).output;
    const b = gru.forward(xs, { generator: new eg.Generator(2) }).output;
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
    gru.eval();
    expect(maxAbsDiff(gru.forward(xs).output, gru.forward(xs).output)).toBe(0);
    const single = new nn.GRU(3, 8, { numLayers: 1, dropout: 0.5 });
    expect(maxAbsDiff(single.forward(xs).output, single.forward(xs).output)).toBe(0);
  });
});

describe("learning", () => {
  it("LSTM + Linear learns to echo the bit from 3 steps earlier with plain SGD", () => {
    const gen = new eg.Generator(42);
    const lstm = new nn.LSTM(1, 8, { batchFirst: true, forgetBias: 1, generator: gen });
    const head = new nn.Linear(8, 1, { generator: gen });
    const params = [...lstm.parameters(), ...head.parameters()];
    const [batch, steps, delay, lr] = [16, 8, 3, 1.5];
    const makeBatch = (): { xs: eg.Tensor; ys: eg.Tensor } => {
      const bits = eg.randint(0, 2, [batch, steps], { generator: gen }).to("float32");
      // the target at t is the input at t - delay; the first `delay` steps have no target
      return { xs: bits.unsqueeze(-1), ys: bits.slice([null, [0, steps - delay]]) };
    };
    const logitsOf = (xs: eg.Tensor): eg.Tensor =>
      head
        .forward(lstm.forward(xs).output)
        .reshape([batch, steps])
        .slice([null, [delay, steps]]);
    const lossOf = (xs: eg.Tensor, ys: eg.Tensor): eg.Tensor => eg.binaryCrossEntropyWithLogits(logitsOf(xs), ys);
    const evaluate = (): { loss: number; accuracy: number } =>
      eg.noGrad(() => {
        let [loss, correct, total] = [0, 0, 0];
        for (let k = 0; k < 4; k++) {
          const { xs, ys } = makeBatch();
          const logits = logitsOf(xs);
          loss += eg.binaryCrossEntropyWithLogits(logits, ys).item() / 4;
          for (let i = 0; i < logits.size; i++) if (logits.data[i]! > 0 === (ys.data[i] === 1)) correct++;
          total += logits.size;
        }
        return { loss, accuracy: correct / total };
      });
    const before = evaluate();
    for (let step = 0; step < 400; step++) {
      const { xs, ys } = makeBatch();
      lossOf(xs, ys).backward();
      for (const p of params) {
        const g = p.grad!;
        for (let i = 0; i < p.size; i++) p.data[i]! -= lr * g.data[i]!;
        p.grad = null;
      }
    }
    const after = evaluate();
    expect(before.accuracy).toBeLessThan(0.7);
    expect(after.loss).toBeLessThan(before.loss / 10);
    expect(after.accuracy).toBeGreaterThan(0.95);
  });
});
