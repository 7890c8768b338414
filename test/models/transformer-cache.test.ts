/**
 * Incremental decoding with KV caches in the Transformer: layers and stacks fed a prompt then one
 * position per call equal a full causal forward (every relative position kind, pre/post norm);
 * greedy and beam search with a TransformerCache equal recomputing the prefix (tokens and
 * log-probabilities, every positional kind, beams reordered and finished examples dropped);
 * TransformerLM.generate with a cache equals generation without; cache row selection and errors.
 */
import { describe, expect, it, vi } from "vitest";
import * as eg from "../../src/index.js";
import { KVCache } from "../../src/attention/kv-cache.js";
import { keyPaddingMask } from "../../src/attention/masks.js";
import {
  selectCacheRows,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
  type NormPlacement,
  type RelativePosition,
} from "../../src/models/transformer-layers.js";
import {
  Transformer,
  TransformerCache,
  TransformerDecoder,
  TransformerEncoder,
  TransformerLM,
  type PositionalEncodingKind,
  type TransformerOptions,
} from "../../src/models/transformer.js";
import type { Hypothesis } from "../../src/models/beam-search.js";
import { maxAbsDiff } from "../nn/helpers.js";

const gen = (seed: number): eg.Generator => new eg.Generator(seed);
const randn = (shape: number[], seed: number): eg.Tensor => eg.randn(shape, { generator: gen(seed) });
const ids = (rows: number[][]): eg.Tensor => eg.tensor(rows, { dtype: "int32" });
const POSITIONAL: readonly PositionalEncodingKind[] = ["sinusoidal", "learned", "rope", "alibi", "none"];
const RELATIVE: readonly RelativePosition[] = ["none", "rope", "alibi"];
const NORMS: readonly NormPlacement[] = ["pre", "post"];
const TOL = 1e-5;

/** Feeds x (B, L, E) as a prompt of n positions then one position per call; returns the outputs concatenated along L. */
function incremental(x: eg.Tensor, n: number, run: (chunk: eg.Tensor, at: number) => eg.Tensor): eg.Tensor {
  const outs: eg.Tensor[] = [];
  const total = x.shape[1]!;
  for (let at = 0; at < total; at += at === 0 ? n : 1) outs.push(run(eg.narrow(x, 1, at, at === 0 ? n : 1), at));
  return eg.concat(outs, 1);
}

describe.each(NORMS)("cached layers equal a full causal forward (%s-norm)", (norm) => {
  const [B, L, n, E] = [2, 9, 3, 16];
  const x = randn([B, L, E], 1);
  const memory = randn([B, 5, E], 2);

  it.each(RELATIVE)("encoder layer, causal, with %s relative positions: outputs and weights", (relativePosition) => {
    const layer = new TransformerEncoderLayer(E, 4, { dropout: 0, norm, relativePosition, generator: gen(3) });
    eg.noGrad(() => {
      const full = layer.forward(x, { isCausal: true, needWeights: true });
      const cache = new KVCache();
      let at = 0;
      const out = incremental(x, n, (chunk) => {
        const r = layer.forward(chunk, { isCausal: true, needWeights: true, cache });
        const len = chunk.shape[1]!;
        expect(r.weights!.shape).toEqual([B, 4, len, at + len]);
        const ref = eg.narrow(eg.narrow(full.weights!, 2, at, len), 3, 0, at + len);
        expect(maxAbsDiff(r.weights!, ref)).toBeLessThan(TOL);
        at += len;
        return r.output;
      });
      expect(cache.length).toBe(L);
      expect(maxAbsDiff(out, full.output)).toBeLessThan(TOL);
    });
  });

  it.each(RELATIVE)("decoder layer with %s relative positions: self cache plus static cross cache", (relativePosition) => {
    const layer = new TransformerDecoderLayer(E, 4, { dropout: 0, norm, relativePosition, generator: gen(4) });
    const memPad = keyPaddingMask([5, 3], 5);
    eg.noGrad(() => {
      const full = layer.forward(x, memory, { memoryKeyPaddingMask: memPad }).output;
      const selfCache = new KVCache({ maxLength: L });
      const crossCache = new KVCache({ static: true });
      const out = incremental(
        x,
        n,
        (chunk) => layer.forward(chunk, memory, { memoryKeyPaddingMask: memPad, selfCache, crossCache }).output,
      );
      expect(maxAbsDiff(out, full)).toBeLessThan(TOL);
      expect(crossCache.length).toBe(5);
    });
  });
});

describe("cached layers: padding masks over the cached keys, row selection, errors", () => {
  const E = 8;

  it.each(RELATIVE)("a target key padding mask covers every cached key (%s)", (relativePosition) => {
    const layer = new TransformerEncoderLayer(E, 2, { dropout: 0, relativePosition, generator: gen(5) });
    const x = randn([2, 6, E], 6);
    const pad = keyPaddingMask([6, 4], 6);
    eg.noGrad(() => {
      const full = layer.forward(x, { isCausal: true, keyPaddingMask: pad }).output;
      const cache = new KVCache();
      const out = incremental(
        x,
        2,
        (chunk, at) => layer.forward(chunk, { isCausal: true, cache, keyPaddingMask: eg.narrow(pad, 1, 0, at + chunk.shape[1]!) }).output,
      );
      expect(maxAbsDiff(out, full)).toBeLessThan(TOL);
      expect(() => layer.forward(eg.narrow(x, 1, 0, 1), { isCausal: true, cache, keyPaddingMask: pad })).toThrow(eg.ShapeError);
    });
  });

  it.each(RELATIVE)(
    "selectCacheRows reorders and repeats rows: later steps equal a forward over the selected inputs (%s)",
    (relativePosition) => {
      const layer = new TransformerDecoderLayer(E, 2, { dropout: 0, relativePosition, generator: gen(7) });
      const x = randn([3, 5, E], 8);
      const memory = randn([3, 4, E], 9);
      const rows = eg.tensor([2, 0, 0, 1], { dtype: "int32" });
      eg.noGrad(() => {
        const selfCache = new KVCache();
        const crossCache = new KVCache({ static: true });
        layer.forward(eg.narrow(x, 1, 0, 3), memory, { selfCache, crossCache });
        const picked = eg.indexSelect(memory, 0, rows);
        selectCacheRows(selfCache, layer.selfAttn, rows);
        selectCacheRows(crossCache, layer.crossAttn, rows, picked);
        expect(selfCache.batchSize).toBe(4);
        const xs = eg.indexSelect(x, 0, rows);
        const tail = [3, 4].map((t) => layer.forward(eg.narrow(xs, 1, t, 1), picked, { selfCache, crossCache }).output);
        const ref = eg.narrow(layer.forward(xs, picked).output, 1, 3, 2);
        expect(maxAbsDiff(eg.concat(tail, 1), ref)).toBeLessThan(TOL);
        // a static cache needs the memory of its selected rows, with one row each
        expect(() => selectCacheRows(crossCache, layer.crossAttn, rows)).toThrow(/^selectCacheRows: a static cache/);
        expect(() => selectCacheRows(crossCache, layer.crossAttn, rows, memory)).toThrow(eg.ShapeError);
      });
    },
  );

  it("validates the caches a layer is given", () => {
    const enc = new TransformerEncoderLayer(E, 2, { dropout: 0, relativePosition: "rope" });
    const dec = new TransformerDecoderLayer(E, 2, { dropout: 0 });
    const x = randn([1, 2, E], 10);
    eg.noGrad(() => {
      expect(() => enc.forward(x, { cache: new KVCache({ static: true }), isCausal: true })).toThrow(
        /^TransformerEncoderLayer: a self-attention cache cannot be static/,
      );
      expect(() => enc.forward(x, { cache: {} as KVCache })).toThrow(/must be a KVCache/);
      expect(() => dec.forward(x, x, { crossCache: new KVCache() })).toThrow(
        /^TransformerDecoderLayer: crossCache must be a static KVCache/,
      );
      const seqFirst = new TransformerDecoderLayer(E, 2, { dropout: 0, batchFirst: false });
      expect(() => seqFirst.forward(x, x, { crossCache: new KVCache({ static: true }) })).toThrow(/batch-first/);
      // one cache per layer: another layer's cache is refused
      const cache = new KVCache();
      enc.forward(x, { cache, isCausal: true });
      const other = new TransformerEncoderLayer(E, 2, { dropout: 0, relativePosition: "rope" });
      expect(() => other.forward(x, { cache, isCausal: true })).toThrow(/belongs to another layer/);
    });
  });
});

describe("TransformerCache on the stacks", () => {
  const E = 16;

  it.each(NORMS)("decoder stack (%s-norm, final norm) with a cache equals the full forward; select with memory", (norm) => {
    const dec = new TransformerDecoder(E, 4, 2, { dropout: 0, norm, relativePosition: "rope", generator: gen(11) });
    const tgt = randn([2, 7, E], 12);
    const memory = randn([2, 3, E], 13);
    eg.noGrad(() => {
      const cache = new TransformerCache(dec);
      expect(cache.cross).toHaveLength(2);
      const out = incremental(tgt, 4, (chunk) => dec.forward(chunk, memory, { cache }).output);
      expect(cache.length).toBe(7);
      expect(maxAbsDiff(out, dec.forward(tgt, memory).output)).toBeLessThan(TOL);
      // rows [1, 1, 0]: one more step equals a full forward over the selected rows
      const rows = eg.tensor([1, 1, 0], { dtype: "int32" });
      const mem = eg.indexSelect(memory, 0, rows);
      cache.select([1, 1, 0], { memory: mem });
      const next = randn([3, 1, E], 14);
      const full = dec.forward(eg.concat([eg.indexSelect(tgt, 0, rows), next], 1), mem).output;
      expect(maxAbsDiff(dec.forward(next, mem, { cache }).output, eg.narrow(full, 1, 7, 1))).toBeLessThan(TOL);
    });
  });

  it("errors: a cache of another stack, memory for an encoder cache, a sequence-first decoder", () => {
    const enc = new TransformerEncoder(E, 4, 1, { dropout: 0 });
    const enc2 = new TransformerEncoder(E, 4, 1, { dropout: 0 });
    const x = randn([1, 2, E], 15);
    eg.noGrad(() => {
      const cache = new TransformerCache(enc, { maxLength: 2 });
      expect(() => enc2.forward(x, { cache, isCausal: true })).toThrow(
        /^TransformerEncoder: this TransformerCache was made for another stack/,
      );
      expect(() => cache.select([0], { memory: x })).toThrow(/^TransformerCache.select: memory is for decoder caches/);
      enc.forward(x, { cache, isCausal: true });
      // maxLength 2: a third position does not fit
      expect(() => enc.forward(eg.narrow(x, 1, 0, 1), { cache, isCausal: true })).toThrow(eg.ShapeError);
      cache.reset();
      expect(cache.length).toBe(0);
      const seqFirst = new TransformerDecoder(E, 4, 1, { dropout: 0, batchFirst: false });
      expect(() => seqFirst.forward(x, x, { cache: new TransformerCache(seqFirst) })).toThrow(
        /^TransformerDecoder: a cache needs a batch-first decoder/,
      );
      expect(() => new TransformerCache({} as TransformerEncoder)).toThrow(eg.ArgumentError);
      expect(() => new TransformerCache(enc, { maxLength: 0 })).toThrow(eg.ArgumentError);
    });
  });
});

const V = 12;
const model = (positional: PositionalEncodingKind, norm: NormPlacement, opts: TransformerOptions = {}): Transformer =>
  new Transformer(V, V, 16, 4, { dropout: 0, dimFeedforward: 32, positional, norm, maxLength: 32, generator: gen(20), ...opts }).eval();
const SRC = ids([
  [3, 4, 5, 6, 7, 8, 9],
  [10, 11, 3, 0, 0, 0, 0],
  [5, 5, 6, 7, 11, 0, 0],
]);
const SRC_LENGTHS = [7, 3, 5];

/** Both decodings of m: with the cache (the default) and recomputing the prefix. */
function bothWays(m: Transformer): { cached: Hypothesis[]; recomputed: Hypothesis[] } {
  m.decoding = { ...m.decoding, useCache: true };
  const cached = m.search(SRC, SRC_LENGTHS);
  m.decoding = { ...m.decoding, useCache: false };
  const recomputed = m.search(SRC, SRC_LENGTHS);
  return { cached, recomputed };
}

function expectSameHypotheses(a: readonly Hypothesis[], b: readonly Hypothesis[]): void {
  expect(a.map((h) => h.tokens)).toEqual(b.map((h) => h.tokens));
  a.forEach((h, i) => {
    expect(Math.abs(h.score - b[i]!.score)).toBeLessThan(TOL);
    expect(Math.abs(h.normalized - b[i]!.normalized)).toBeLessThan(TOL);
  });
}

describe.each(NORMS)("Transformer decoding with the cache equals recomputing the prefix (%s-norm)", (norm) => {
  it.each(POSITIONAL)("greedy, %s positions: same tokens, same scores; per-step log-probabilities to 1e-5", (positional) => {
    const m = model(positional, norm);
    const { cached, recomputed } = bothWays(m);
    expectSameHypotheses(cached, recomputed);
    // not a degenerate comparison: some hypothesis runs several steps
    expect(Math.max(...cached.map((h) => h.tokens.length))).toBeGreaterThan(3);

    // every step's full log-probability row: fed one token at a time vs one teacher-forced pass
    const tokens = cached[0]!.tokens;
    const decIn = [m.bosId, ...tokens.slice(0, -1)];
    eg.noGrad(() => {
      const src = eg.narrow(SRC, 0, 0, 1);
      const { memory } = m.encode(src);
      const ref = eg.logSoftmax(m.forward(src, ids([decIn])).logits, -1);
      const cache = new TransformerCache(m.decoder);
      const steps = decIn.map((tok) => eg.logSoftmax(m.outProj.forward(m.decodeHidden(ids([[tok]]), memory, { cache }).hidden), -1));
      expect(maxAbsDiff(eg.concat(steps, 1), ref)).toBeLessThan(TOL);
    });
  });
});

describe("Transformer beam search with the cache", () => {
  it.each(POSITIONAL)("beam 3, %s positions: equals recomputing; beams reorder and finished examples drop their rows", (positional) => {
    const m = model(positional, "pre", { beamSize: 3, lengthPenalty: 0.6 });
    const select = vi.spyOn(TransformerCache.prototype, "select");
    try {
      const { cached, recomputed } = bothWays(m);
      expectSameHypotheses(cached, recomputed);
      // the cached search reordered beams within examples (no memory) and changed the examples' rows (memory)
      const calls = select.mock.calls;
      expect(calls.some(([, opts]) => opts?.memory === undefined)).toBe(true);
      expect(calls.filter(([, opts]) => opts?.memory !== undefined).length).toBeGreaterThanOrEqual(2);
    } finally {
      select.mockRestore();
    }
  });

  it("beam 1 with the cache equals greedy with the cache", () => {
    const m = model("rope", "post");
    const greedy = m.search(SRC, SRC_LENGTHS);
    m.decoding = { ...m.decoding, beamSize: 1, lengthPenalty: 0 };
    expectSameHypotheses(m.search(SRC, SRC_LENGTHS), greedy);
    expect(() => model("none", "pre", { useCache: "yes" as unknown as boolean })).toThrow(/^Transformer: useCache must be a boolean/);
  });
});

describe("TransformerLM.generate with the cache", () => {
  const VOCAB = 13;
  const lm = (positional: PositionalEncodingKind, norm: NormPlacement, maxLength = 40): TransformerLM =>
    new TransformerLM(VOCAB, 16, 4, {
      dropout: 0,
      numLayers: 2,
      dimFeedforward: 32,
      positional,
      norm,
      maxLength,
      generator: gen(30),
    }).eval();
  const prompt = ids([
    [1, 5, 7, 2],
    [3, 3, 9, 12],
  ]);

  describe.each(NORMS)("%s-norm", (norm) => {
    it.each(POSITIONAL)(
      "%s positions: seeded sampling gives the same tokens; logits fed step by step equal the full forward",
      (positional) => {
        const m = lm(positional, norm);
        const opts = { maxNewTokens: 12, temperature: 1.2, topK: 8 };
        const cached = m.generate(prompt, { ...opts, generator: gen(31) });
        const recomputed = m.generate(prompt, { ...opts, generator: gen(31), useCache: false });
        expect(cached.shape).toEqual([2, 16]);
        expect(Array.from(cached.data)).toEqual(Array.from(recomputed.data));
        const greedy = m.generate(prompt, { maxNewTokens: 6, temperature: 0, eosId: 4 });
        expect(Array.from(greedy.data)).toEqual(
          Array.from(m.generate(prompt, { maxNewTokens: 6, temperature: 0, eosId: 4, useCache: false }).data),
        );

        eg.noGrad(() => {
          const full = eg.logSoftmax(m.forward(cached).logits, -1);
          const cache = new TransformerCache(m.blocks);
          const parts = [m.forward(eg.narrow(cached, 1, 0, 4), { cache }).logits];
          for (let t = 4; t < 16; t++) parts.push(m.forward(eg.narrow(cached, 1, t, 1), { cache }).logits);
          expect(maxAbsDiff(eg.logSoftmax(eg.concat(parts, 1), -1), full)).toBeLessThan(TOL);
        });
      },
    );
  });

  it("learned positions: the cached length counts towards maxLength; useCache is validated", () => {
    const m = lm("learned", "pre", 8);
    expect(m.generate(prompt, { maxNewTokens: 4, generator: gen(32) }).shape).toEqual([2, 8]);
    eg.noGrad(() => {
      const cache = new TransformerCache(m.blocks);
      m.forward(eg.tensor([[1, 2, 3, 4, 5, 6]], { dtype: "int32" }), { cache });
      expect(() => m.forward(eg.tensor([[1, 2, 3]], { dtype: "int32" }), { cache })).toThrow(
        /^TransformerLM: sequence length 9 exceeds maxLength 8/,
      );
      const other = new TransformerCache(new TransformerEncoder(16, 4, 2, { dropout: 0 }));
      expect(() => m.forward(prompt, { cache: other })).toThrow(/made for another stack/);
    });
    expect(() => m.generate(prompt, { maxNewTokens: 1, useCache: 1 as unknown as boolean })).toThrow(
      /^TransformerLM.generate: useCache must be a boolean/,
    );
  });
});
