// Greedy and beam search over hand-built step functions (no model): exact probabilities, known answers.
import { describe, expect, it } from "vitest";
import { beamSearch, greedySearch, hypothesisIds, lengthPenalty, type StepDecoder } from "../../src/models/beam-search.js";
import { rng } from "../helpers/rng.js";

const BOS = 1;
const EOS = 2;

/** State: the prefix fed so far and the example of each row. */
interface Rows {
  prefixes: number[][];
  examples: number[];
}

/**
 * A decoder whose next-token distribution is `probs(example, prefix)` (prefix excludes BOS); it
 * records the row count of every step call.
 */
function tableDecoder(V: number, probs: (example: number, prefix: readonly number[]) => number[], calls: number[] = []): StepDecoder<Rows> {
  return {
    vocabSize: V,
    step(tokens, state) {
      calls.push(tokens.length);
      const prefixes = state.prefixes.map((p, r) => (tokens[r] === BOS && p.length === 0 ? [] : [...p, tokens[r]!]));
      const logProbs = new Float64Array(tokens.length * V);
      prefixes.forEach((p, r) => {
        const dist = probs(state.examples[r]!, p);
        expect(dist.length).toBe(V);
        dist.forEach((q, v) => (logProbs[r * V + v] = Math.log(q)));
      });
      return { logProbs, state: { prefixes, examples: state.examples } };
    },
    select(state, rows) {
      return { prefixes: Array.from(rows, (r) => state.prefixes[r]!), examples: Array.from(rows, (r) => state.examples[r]!) };
    },
  };
}

const start = (n: number): Rows => ({ prefixes: Array.from({ length: n }, () => []), examples: Array.from({ length: n }, (_, i) => i) });

// [pad, bos, eos, a, b, c]; zero stands for 1e-9 (the improbable candidates a beam still holds)
const P = (eos: number, a: number, b: number, c = 0): number[] => [1e-9, 1e-9, eos, a, b, c].map((x) => x || 1e-9);

/** Distribution over 6 tokens (PAD 0, BOS 1, EOS 2, a 3, b 4, c 5) from a table keyed by the prefix; EOS after any other prefix. */
function table(entries: Record<string, number[]>): (example: number, prefix: readonly number[]) => number[] {
  return (_, prefix) => entries[prefix.map((t) => "..eabc"[t]).join("")] ?? P(1, 0, 0);
}

describe("beam search", () => {
  it("finds the more probable sequence greedy misses", () => {
    // greedy: a (0.6), then EOS (0.5) -> 0.30; beam 2 keeps b (0.4), then EOS (1.0) -> 0.40
    const probs = table({ "": P(0, 0.6, 0.4), a: P(0.5, 0, 0, 0.3) });
    const opts = { bos: BOS, eos: EOS, maxLengths: [5] };
    const greedy = greedySearch(tableDecoder(6, probs), start(1), opts)[0]!;
    expect(greedy.tokens).toEqual([3, EOS]);
    expect(greedy.score).toBeCloseTo(Math.log(0.3), 6);
    const beam = beamSearch(tableDecoder(6, probs), start(1), { ...opts, beamSize: 2 })[0]!;
    expect(beam.tokens).toEqual([4, EOS]);
    expect(beam.score).toBeCloseTo(Math.log(0.4), 6);
  });

  it("length normalisation changes the choice as expected", () => {
    // "EOS" has log P = log 0.55 = -0.60; "a EOS" has log(0.45 * 0.8) = -1.02: raw prefers the short
    // one, per-token (power, alpha 1) the long one (-0.51 per token)
    const probs = table({ "": P(0.55, 0.45, 0), a: P(0.8, 0.2, 0) });
    const run = (alpha: number, form: "gnmt" | "power"): number[] =>
      beamSearch(tableDecoder(6, probs), start(1), {
        bos: BOS,
        eos: EOS,
        maxLengths: [2],
        beamSize: 2,
        lengthPenalty: alpha,
        lengthPenaltyForm: form,
      })[0]!.tokens;
    expect(run(0, "gnmt")).toEqual([EOS]);
    expect(run(1, "power")).toEqual([3, EOS]);
    // GNMT: lp(1) = 1, lp(2) = (7/6)^alpha; the long one wins when 1.02 / (7/6)^alpha < 0.60, alpha > 3.45
    expect(run(3, "gnmt")).toEqual([EOS]);
    expect(run(4, "gnmt")).toEqual([3, EOS]);
    const best = beamSearch(tableDecoder(6, probs), start(1), {
      bos: BOS,
      eos: EOS,
      maxLengths: [2],
      beamSize: 2,
      lengthPenalty: 1,
      lengthPenaltyForm: "power",
    })[0]!;
    expect(best.normalized).toBeCloseTo(Math.log(0.36) / 2, 6);
  });

  it("keeps finished hypotheses: an early EOS beats longer ones found later", () => {
    // step 1: EOS 0.5 finishes; a 0.3 and b 0.2 go on but every continuation is improbable
    const probs = table({ "": P(0.5, 0.3, 0.2), a: P(0.1, 0.45, 0.45), b: P(0.1, 0.45, 0.45) });
    const hyp = beamSearch(tableDecoder(6, probs), start(1), { bos: BOS, eos: EOS, maxLengths: [5], beamSize: 2 })[0]!;
    expect(hyp.tokens).toEqual([EOS]);
  });

  it("cuts hypotheses at the maximum length without EOS", () => {
    const probs = (): number[] => P(0.1, 0.9, 0);
    for (const search of [
      greedySearch,
      (d: StepDecoder<Rows>, s: Rows, o: { bos: number; eos: number; maxLengths: number[] }) => beamSearch(d, s, { ...o, beamSize: 3 }),
    ]) {
      const hyps = search(tableDecoder(6, probs), start(2), { bos: BOS, eos: EOS, maxLengths: [3, 1] });
      expect(hyps.map((h) => h.tokens)).toEqual([[3, 3, 3], [3]]);
      expect(hyps[0]!.score).toBeCloseTo(3 * Math.log(0.9), 6);
    }
  });

  it("beam size 1 is greedy search exactly, on random step functions and several examples", () => {
    const V = 7;
    for (let seed = 0; seed < 20; seed++) {
      // a random but fixed distribution per (example, prefix)
      const cache = new Map<string, number[]>();
      const next = rng(seed);
      const probs = (ex: number, prefix: readonly number[]): number[] => {
        const key = `${ex}:${prefix.join(",")}`;
        let d = cache.get(key);
        if (!d) {
          const w = Array.from({ length: V }, () => next() ** 3);
          w[EOS] = w[EOS]! * (1 + prefix.length);
          const z = w.reduce((a, b) => a + b, 0);
          d = w.map((x) => x / z);
          cache.set(key, d);
        }
        return d;
      };
      const maxLengths = [1, 4, 6, 9];
      const greedyCalls: number[] = [];
      const beamCalls: number[] = [];
      const greedy = greedySearch(tableDecoder(V, probs, greedyCalls), start(4), { bos: BOS, eos: EOS, maxLengths });
      const beam = beamSearch(tableDecoder(V, probs, beamCalls), start(4), {
        bos: BOS,
        eos: EOS,
        maxLengths,
        beamSize: 1,
        lengthPenalty: 0.6,
      });
      expect(beam.map((h) => h.tokens)).toEqual(greedy.map((h) => h.tokens));
      expect(beam.map((h) => h.score)).toEqual(greedy.map((h) => h.score));
      // same live rows at every step: examples that are done are dropped in both
      expect(beamCalls).toEqual(greedyCalls);
      greedy.forEach((h, i) => {
        expect(h.tokens.length).toBeLessThanOrEqual(maxLengths[i]!);
        if (h.tokens.length < maxLengths[i]!) expect(h.tokens.at(-1)).toBe(EOS);
      });
    }
  });

  it("runs every example's beam in one step call and drops examples that are done", () => {
    const calls: number[] = [];
    // example 0 ends at once (EOS certain), example 1 runs to its maximum length 4
    const probs = (ex: number): number[] => (ex === 0 ? P(1, 0, 0) : P(0.01, 0.5, 0.49));
    const hyps = beamSearch(tableDecoder(6, probs, calls), start(2), { bos: BOS, eos: EOS, maxLengths: [5, 4], beamSize: 3 });
    expect(hyps[0]!.tokens).toEqual([EOS]);
    expect(hyps[1]!.tokens).toHaveLength(4);
    // step 1: one row per example; step 2: three hypotheses each (example 0 has one finished of the
    // three it needs, and carries two improbable ones that end now); then example 1 alone
    expect(calls).toEqual([2, 6, 3, 3]);
  });

  it("validates its options and the step function's output", () => {
    const probs = (): number[] => P(1, 0, 0);
    const opts = { bos: BOS, eos: EOS, maxLengths: [3] };
    expect(() => beamSearch(tableDecoder(6, probs), start(1), { ...opts, beamSize: 0 })).toThrow(
      /^beamSearch: beamSize must be an integer >= 1/,
    );
    expect(() => greedySearch(tableDecoder(6, probs), start(1), { ...opts, maxLengths: [0] })).toThrow(/^greedySearch: maxLengths\[0\]/);
    expect(() => greedySearch(tableDecoder(6, probs), start(1), { ...opts, maxLengths: 3 as unknown as number[] })).toThrow(
      /one maximum length per example/,
    );
    expect(() =>
      beamSearch(
        tableDecoder(5, () => [0.2, 0.2, 0.2, 0.2, 0.2]),
        start(1),
        { ...opts, beamSize: 2, lengthPenaltyForm: "log" as "gnmt" },
      ),
    ).toThrow(/lengthPenaltyForm/);
    const wrong: StepDecoder<Rows> = { ...tableDecoder(6, probs), vocabSize: 5 };
    expect(() => greedySearch(wrong, start(1), opts)).toThrow(
      /^greedySearch: the step function returned 6 log-probabilities for 1 rows of 5 tokens/,
    );
  });

  it("length penalties and padded ids", () => {
    expect(lengthPenalty(1, 0.6)).toBe(1);
    expect(lengthPenalty(7, 1)).toBeCloseTo(2, 12);
    expect(lengthPenalty(4, 0.5, "power")).toBe(2);
    const ids = hypothesisIds([
      { tokens: [3, 2], score: 0, normalized: 0 },
      { tokens: [2], score: 0, normalized: 0 },
    ]);
    expect(ids.shape).toEqual([2, 2]);
    expect(Array.from(ids.data)).toEqual([3, 2, 2, 0]);
  });
});
