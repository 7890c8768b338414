/**
 * Free decoding for autoregressive models, generic over a step function so the seq2seq models and
 * the Transformer share it: greedy search and beam search with length normalisation.
 *
 * A model exposes its decoder as a `StepDecoder<S>`: an opaque state S holding one row per live
 * hypothesis (recurrent states, KV caches, the encoder memory of each row's example...), a `step`
 * that feeds one token per row and returns the next-token log-probabilities of every row, and a
 * `select` that gathers rows (to reorder beams, to expand an example into several hypotheses, and
 * to drop the rows of examples that are done). Searches start from a state with one row per example.
 *
 * Beam search keeps up to K live hypotheses per example (per-example beams, all examples' rows in
 * one step call). Each step ranks the candidates y + v of every live hypothesis y of an example by
 * raw log-probability (at one step they all have the same length, so the length penalty does not
 * reorder them) and scans them best first, as fairseq does: an EOS candidate among the first K is
 * finished and kept; other EOS candidates are dropped; the best K non-EOS candidates stay live. A
 * hypothesis that reaches the example's maximum length without EOS is finished as it is. An example
 * is done when it has K finished hypotheses (or no live ones); its answer is the finished hypothesis
 * with the highest normalised score log P(Y) / lp(|Y|), |Y| counting EOS, with
 *   "gnmt":  lp = ((5 + |Y|) / 6)^alpha   (Wu et al. 2016, GNMT)
 *   "power": lp = |Y|^alpha               (alpha = 1: mean log-probability per token)
 * alpha = 0 ranks by raw log-probability. With K = 1 this is exactly greedy search: the best
 * candidate is the argmax (ties go to the lower token id in both), and an EOS ends the example.
 */
import { ArgumentError } from "../core/errors.js";

/** A model's decoder seen one token at a time. */
export interface StepDecoder<S> {
  /** Vocabulary size V: `step` returns V log-probabilities per row. */
  readonly vocabSize: number;
  /** Feeds `tokens` (one per row of `state`); returns log-probabilities (rows x V, row-major) of the next token and the new state. */
  step(tokens: Int32Array, state: S): { logProbs: ArrayLike<number>; state: S };
  /** The state of rows `rows` of `state`, in that order (a row may repeat). */
  select(state: S, rows: Int32Array): S;
}

export type LengthPenaltyForm = "gnmt" | "power";

export interface SearchOptions {
  /** First token fed to every example. */
  bos: number;
  /** Token that ends a hypothesis. */
  eos: number;
  /** Per example: the most tokens a hypothesis may have, EOS included (>= 1). */
  maxLengths: readonly number[];
}

export interface BeamSearchOptions extends SearchOptions {
  /** Hypotheses kept per example (K >= 1). */
  beamSize: number;
  /** alpha of the length penalty (default 0: raw log-probability). */
  lengthPenalty?: number;
  /** Form of the length penalty (default "gnmt"). */
  lengthPenaltyForm?: LengthPenaltyForm;
}

export interface Hypothesis {
  /** Token ids, ending in EOS unless the maximum length cut the hypothesis. */
  tokens: number[];
  /** log P(tokens): the sum of the chosen tokens' log-probabilities. */
  score: number;
  /** score / lp(tokens.length), what beam search ranks finished hypotheses by. */
  normalized: number;
}

/** The length penalty lp(|Y|) that normalised scores divide by. */
export function lengthPenalty(length: number, alpha: number, form: LengthPenaltyForm = "gnmt"): number {
  return form === "gnmt" ? Math.pow((5 + length) / 6, alpha) : Math.pow(length, alpha);
}

function checkSearch(op: string, count: number, opts: SearchOptions): void {
  for (const [what, v] of [
    ["bos", opts.bos],
    ["eos", opts.eos],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`${op}: ${what} must be a non-negative integer, got ${String(v)}`);
  }
  if (!Array.isArray(opts.maxLengths) || opts.maxLengths.length !== count) {
    throw new ArgumentError(`${op}: maxLengths must list one maximum length per example (${count})`);
  }
  opts.maxLengths.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`${op}: maxLengths[${i}] must be an integer >= 1, got ${String(n)}`);
  });
}

function checkLogProbs(op: string, logProbs: ArrayLike<number>, rows: number, vocab: number): void {
  if (logProbs.length !== rows * vocab) {
    throw new ArgumentError(`${op}: the step function returned ${logProbs.length} log-probabilities for ${rows} rows of ${vocab} tokens`);
  }
}

/** Greedy search: the most probable next token at every step, for every example (one row each in `initial`). */
export function greedySearch<S>(decoder: StepDecoder<S>, initial: S, opts: SearchOptions): Hypothesis[] {
  const op = "greedySearch";
  const count = opts.maxLengths.length;
  checkSearch(op, count, opts);
  const V = decoder.vocabSize;
  const hyps: Hypothesis[] = Array.from({ length: count }, () => ({ tokens: [], score: 0, normalized: 0 }));
  let live = Array.from({ length: count }, (_, i) => i); // example of each row
  let state = initial;
  let tokens = new Int32Array(count).fill(opts.bos);
  while (live.length > 0) {
    const out = decoder.step(tokens, state);
    checkLogProbs(op, out.logProbs, live.length, V);
    state = out.state;
    const keep: number[] = [];
    const next: number[] = [];
    live.forEach((ex, r) => {
      let best = 0;
      for (let v = 1; v < V; v++) if (out.logProbs[r * V + v]! > out.logProbs[r * V + best]!) best = v;
      const h = hyps[ex]!;
      h.tokens.push(best);
      h.score += out.logProbs[r * V + best]!;
      if (best !== opts.eos && h.tokens.length < opts.maxLengths[ex]!) {
        keep.push(r);
        next.push(best);
      }
    });
    if (keep.length === 0) break;
    if (keep.length < live.length) state = decoder.select(state, Int32Array.from(keep));
    live = keep.map((r) => live[r]!);
    tokens = Int32Array.from(next);
  }
  for (const h of hyps) h.normalized = h.score;
  return hyps;
}

interface Live {
  tokens: number[];
  score: number;
}

/** Beam search (see the file comment) over every example of `initial` (one row each); returns each example's best hypothesis. */
export function beamSearch<S>(decoder: StepDecoder<S>, initial: S, opts: BeamSearchOptions): Hypothesis[] {
  const op = "beamSearch";
  const count = opts.maxLengths.length;
  checkSearch(op, count, opts);
  const K = opts.beamSize;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`${op}: beamSize must be an integer >= 1, got ${String(K)}`);
  const alpha = opts.lengthPenalty ?? 0;
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) throw new ArgumentError(`${op}: lengthPenalty must be a finite number`);
  const form = opts.lengthPenaltyForm ?? "gnmt";
  if (form !== "gnmt" && form !== "power")
    throw new ArgumentError(`${op}: lengthPenaltyForm must be "gnmt" or "power", got ${String(form)}`);
  const V = decoder.vocabSize;
  const finished: Hypothesis[][] = Array.from({ length: count }, () => []);
  const finish = (ex: number, tokens: number[], score: number): void => {
    finished[ex]!.push({ tokens, score, normalized: score / lengthPenalty(tokens.length, alpha, form) });
  };
  // beams[ex]: live hypotheses of example ex; rows of the state are the live hypotheses of every
  // example that is not done, example by example
  let beams: Live[][] = Array.from({ length: count }, () => [{ tokens: [], score: 0 }]);
  let active = Array.from({ length: count }, (_, i) => i);
  let state = initial;
  let tokens = new Int32Array(count).fill(opts.bos);
  while (active.length > 0) {
    const out = decoder.step(tokens, state);
    const rows = active.reduce((n, ex) => n + beams[ex]!.length, 0);
    checkLogProbs(op, out.logProbs, rows, V);
    state = out.state;
    const lp = out.logProbs;
    const parents: number[] = [];
    const nextTokens: number[] = [];
    const nextActive: number[] = [];
    const nextBeams: Live[][] = beams.map(() => []);
    let base = 0;
    for (const ex of active) {
      const beam = beams[ex]!;
      const n = beam.length * V;
      // candidate i extends hypothesis floor(i / V) by token i % V
      const total = (i: number): number => beam[Math.floor(i / V)]!.score + lp[base * V + i]!;
      // best first; ties by (hypothesis, token) order, so K = 1 agrees with greedy's argmax
      const top = topCandidates(n, total, Math.min(n, 2 * K));
      const atLimit = beam[0]!.tokens.length + 1 >= opts.maxLengths[ex]!;
      const kept: Live[] = [];
      for (let rank = 0; rank < top.length && kept.length < K; rank++) {
        const i = top[rank]!;
        const parent = beam[Math.floor(i / V)]!;
        const v = i % V;
        const seq = [...parent.tokens, v];
        if (v === opts.eos || atLimit) {
          if (rank < K) finish(ex, seq, total(i));
        } else {
          kept.push({ tokens: seq, score: total(i) });
          parents.push(base + Math.floor(i / V));
          nextTokens.push(v);
        }
      }
      if (finished[ex]!.length >= K || kept.length === 0) {
        // done: drop this example's rows again
        parents.length -= kept.length;
        nextTokens.length -= kept.length;
      } else {
        nextBeams[ex] = kept;
        nextActive.push(ex);
      }
      base += beam.length;
    }
    if (nextActive.length === 0) break;
    const identity = parents.length === rows && parents.every((p, i) => p === i);
    if (!identity) state = decoder.select(state, Int32Array.from(parents));
    beams = nextBeams;
    active = nextActive;
    tokens = Int32Array.from(nextTokens);
  }
  return finished.map((list) => list.reduce((best, h) => (h.normalized > best.normalized ? h : best)));
}

/** The `k` best of candidates 0 .. n-1 by `score` (descending, ties by lower index), by insertion into a short sorted list. */
function topCandidates(n: number, score: (i: number) => number, k: number): number[] {
  const top: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = score(i);
    if (top.length === k && !(s > scores[k - 1]!)) continue;
    // insertion into the sorted list; equal scores keep the earlier index first
    let at = top.length === k ? k - 1 : top.length;
    while (at > 0 && s > scores[at - 1]!) at--;
    top.splice(at, 0, i);
    scores.splice(at, 0, s);
    if (top.length > k) {
      top.pop();
      scores.pop();
    }
  }
  return top;
}

/** Hypotheses as int32 ids, one row each, padded with `pad` to the longest: what a token task's `evaluate` takes. */
export function hypothesisIds(hyps: readonly Hypothesis[], pad = 0): { data: Int32Array; shape: [number, number] } {
  const width = Math.max(1, ...hyps.map((h) => h.tokens.length));
  const data = new Int32Array(hyps.length * width).fill(pad);
  hyps.forEach((h, b) => data.set(h.tokens, b * width));
  return { data, shape: [hyps.length, width] };
}
