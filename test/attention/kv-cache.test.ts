/**
 * KVCache with MultiHeadAttention: a prompt then single-token steps equals one causal forward over
 * the whole sequence (standard, grouped-query and multi-query heads), static cross-attention caches,
 * gradient behaviour, and errors.
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { KVCache } from "../../src/attention/kv-cache.js";
import { keyPaddingMask } from "../../src/attention/masks.js";
import { MultiHeadAttention } from "../../src/attention/multi-head.js";
import { maxAbsDiff } from "../nn/helpers.js";
import { randn } from "./helpers.js";

const E = 8;
const H = 4;

/** Positions [start, start + len) of a (B, L, ...) tensor. */
const steps = (x: eg.Tensor, start: number, len: number): eg.Tensor => eg.narrow(x, 1, start, len);

/** Runs a prompt of n tokens then one token per step through a cache; returns outputs (B, L, E) and per-step weights. */
function decode(
  m: MultiHeadAttention,
  x: eg.Tensor,
  n: number,
  cache: KVCache,
  averageWeights: boolean,
): { output: eg.Tensor; weights: eg.Tensor[] } {
  const outs: eg.Tensor[] = [];
  const weights: eg.Tensor[] = [];
  const total = x.shape[1]!;
  for (let at = 0; at < total; at += at === 0 ? n : 1) {
    const len = at === 0 ? n : 1;
    const xt = steps(x, at, len);
    const r = m.forward(xt, xt, xt, { cache, isCausal: true, averageWeights });
    expect(cache.length).toBe(at + len);
    outs.push(r.output);
    weights.push(r.weights!);
  }
  return { output: eg.concat(outs, 1), weights };
}

describe.each([
  ["standard", H],
  ["grouped-query", 2],
  ["multi-query", 1],
] as const)("KVCache decoding equals a full causal recompute (%s heads)", (_name, numKVHeads) => {
  const [B, n, m] = [3, 4, 14];
  const L = n + m;
  const layer = new MultiHeadAttention(E, H, { numKVHeads, generator: new eg.Generator(11) });
  const x = randn([B, L, E], 12);

  it.each([
    ["growing storage", undefined],
    ["preallocated storage", L],
  ] as const)("outputs and weights to 1e-5 (%s)", (_storage, maxLength) => {
    eg.noGrad(() => {
      const full = layer.forward(x, x, x, { isCausal: true, averageWeights: false });
      const cache = new KVCache(maxLength === undefined ? {} : { maxLength });
      const dec = decode(layer, x, n, cache, false);
      expect(maxAbsDiff(dec.output, full.output)).toBeLessThan(1e-5);
      // step t attends over keys 0..t: its row of the full weights, cut to the cached length
      let at = 0;
      for (const w of dec.weights) {
        const len = w.shape[2]!;
        const lk = w.shape[3]!;
        expect(lk).toBe(at + len);
        const ref = eg.narrow(eg.narrow(full.weights!, 2, at, len), 3, 0, lk);
        expect(maxAbsDiff(w, ref)).toBeLessThan(1e-5);
        at += len;
      }
      // the cache holds the projected, head-split keys and values
      const k = eg.transpose(layer.kProj.forward(x).reshape([B, L, numKVHeads, E / H]), 1, 2);
      expect(maxAbsDiff(cache.keys()!, k)).toBeLessThan(1e-6);
      expect(cache.values()!.shape).toEqual([B, numKVHeads, L, E / H]);
    });
  });

  it("head-averaged weights, sequence-first layout and a key padding mask", () => {
    const seqFirst = new MultiHeadAttention(E, H, { numKVHeads, batchFirst: false, generator: new eg.Generator(11) });
    const xs = eg.transpose(x, 0, 1);
    const lengths = [L, L - 3, 2];
    const pad = keyPaddingMask(lengths, L);
    eg.noGrad(() => {
      const full = seqFirst.forward(xs, xs, xs, { isCausal: true, keyPaddingMask: pad });
      const cache = new KVCache();
      const prompt = eg.narrow(xs, 0, 0, n);
      const outs = [seqFirst.forward(prompt, prompt, prompt, { cache, isCausal: true, keyPaddingMask: eg.narrow(pad, 1, 0, n) }).output];
      for (let t = n; t < L; t++) {
        const xt = eg.narrow(xs, 0, t, 1);
        const r = seqFirst.forward(xt, xt, xt, { cache, isCausal: true, keyPaddingMask: eg.narrow(pad, 1, 0, t + 1) });
        expect(r.weights!.shape).toEqual([B, 1, t + 1]);
        expect(maxAbsDiff(r.weights!, eg.narrow(eg.narrow(full.weights!, 1, t, 1), 2, 0, t + 1))).toBeLessThan(1e-5);
        outs.push(r.output);
      }
      expect(maxAbsDiff(eg.concat(outs, 0), full.output)).toBeLessThan(1e-5);
    });
  });
});

describe("KVCache gradients", () => {
  it("a cached prefill under grad backpropagates like the uncached layer; earlier entries get no gradient", () => {
    const m = new MultiHeadAttention(E, H, { numKVHeads: 2, dtype: "float64", generator: new eg.Generator(3) });
    const x = randn([2, 5, E], 4, "float64");
    m.forward(x, x, x, { isCausal: true }).output.square().sum().backward();
    const ref = m.parameters().map((p) => p.grad!);
    m.zeroGrad();
    const cache = new KVCache();
    m.forward(x, x, x, { cache, isCausal: true }).output.square().sum().backward();
    m.parameters().forEach((p, i) => expect(maxAbsDiff(p.grad!, ref[i]!)).toBeLessThan(1e-12));

    // a step: its own token gets a gradient, the prompt (stored data now) does not
    const prompt = x.detach();
    prompt.requiresGrad = true;
    const step = randn([2, 1, E], 5, "float64");
    step.requiresGrad = true;
    const c2 = new KVCache();
    m.forward(prompt, prompt, prompt, { cache: c2, isCausal: true });
    m.forward(step, step, step, { cache: c2, isCausal: true }).output.sum().backward();
    expect(step.grad!.data.some((g) => g !== 0)).toBe(true);
    expect(prompt.grad).toBeNull();
  });
});

describe("static cross-attention cache", () => {
  it("projects the memory once and matches uncached cross-attention at every step", () => {
    const m = new MultiHeadAttention(E, H, { kdim: 6, vdim: 5, numKVHeads: 2, generator: new eg.Generator(21) });
    const memory = randn([2, 7, 6], 22);
    const memValues = randn([2, 7, 5], 23);
    const queries = randn([2, 4, E], 24);
    let projections = 0;
    const kForward = m.kProj.forward.bind(m.kProj);
    m.kProj.forward = (t: eg.Tensor): eg.Tensor => {
      projections++;
      return kForward(t);
    };
    const cache = new KVCache({ static: true });
    const pad = keyPaddingMask([7, 4], 7);
    eg.noGrad(() => {
      for (let t = 0; t < 4; t++) {
        const qt = steps(queries, t, 1);
        const cached = m.forward(qt, memory, memValues, { cache, keyPaddingMask: pad });
        const plain = m.forward(qt, memory, memValues, { keyPaddingMask: pad });
        expect(maxAbsDiff(cached.output, plain.output)).toBeLessThan(1e-6);
        expect(maxAbsDiff(cached.weights!, plain.weights!)).toBeLessThan(1e-6);
        expect(cache.length).toBe(7);
      }
    });
    // one projection for the cache's first call, one per uncached reference call
    expect(projections).toBe(1 + 4);
  });
});

describe("KVCache errors", () => {
  const m = new MultiHeadAttention(E, H, { numKVHeads: 2, generator: new eg.Generator(31) });
  const x = randn([2, 3, E], 32);
  const x1 = randn([2, 1, E], 33);

  it("a wrong batch size names the layer and both shapes", () => {
    const cache = new KVCache();
    eg.noGrad(() => {
      m.forward(x, x, x, { cache, isCausal: true });
      const y = randn([3, 1, E], 34);
      expect(() => m.forward(y, y, y, { cache, isCausal: true })).toThrow(eg.ShapeError);
      expect(() => m.forward(y, y, y, { cache, isCausal: true })).toThrow(
        /^MultiHeadAttention: new keys \[3, 2, 1, 2\] .*cached keys \[2, 2, 3, 2\]/,
      );
      // after reset the cache takes a new batch
      cache.reset();
      expect(cache.length).toBe(0);
      expect(cache.batchSize).toBe(0);
      m.forward(y, y, y, { cache, isCausal: true });
      expect(cache.batchSize).toBe(3);
    });
  });

  it("overflowing maxLength throws and leaves the cache unchanged", () => {
    const cache = new KVCache({ maxLength: 4 });
    eg.noGrad(() => {
      m.forward(x, x, x, { cache, isCausal: true });
      m.forward(x1, x1, x1, { cache, isCausal: true });
      expect(() => m.forward(x1, x1, x1, { cache, isCausal: true })).toThrow(
        /^MultiHeadAttention: appending keys \[2, 2, 1, 2\] \(1 positions\) to 4 cached positions exceeds the cache's maxLength 4/,
      );
      expect(cache.length).toBe(4);
    });
  });

  it("mixing layers, kinds and alignments is rejected", () => {
    const other = new MultiHeadAttention(E, H, { numKVHeads: 2, generator: new eg.Generator(35) });
    const cache = new KVCache();
    const cross = new KVCache({ static: true });
    eg.noGrad(() => {
      m.forward(x, x, x, { cache, isCausal: true });
      expect(() => other.forward(x1, x1, x1, { cache, isCausal: true })).toThrow(
        /^MultiHeadAttention: this KVCache belongs to another layer/,
      );
      expect(() => m.forward(x1, x1, x1, { cache, isCausal: true, causalAlignment: "start" })).toThrow(/causalAlignment must be "end"/);
      m.forward(x1, x, x, { cache: cross });
      expect(() => m.forward(x1, x1, x1, { cache: cross })).toThrow(
        /^MultiHeadAttention: the static cache was filled from key \[2, 3, 8\]/,
      );
      expect(() => m.forward(x1, x, x, { cache: cross, isCausal: true })).toThrow(/static/);
      expect(() => other.forward(x1, x, x, { cache: cross })).toThrow(/another layer/);
      expect(() => m.forward(randn([1, 1, E], 36), x, x, { cache: cross })).toThrow(eg.ShapeError);
      expect(() => m.forward(x1, x, x, { cache: {} as KVCache })).toThrow(/^MultiHeadAttention: cache must be a KVCache/);
    });
    expect(() => new KVCache({ maxLength: 0 })).toThrow(/^KVCache: maxLength/);
    expect(() => new KVCache({ static: "yes" as unknown as boolean })).toThrow(eg.ArgumentError);
  });
});
