/** Helpers shared by the attention tests: seeded inputs, reference softmax, a retrieval task. */
import * as eg from "../../src/index.js";
import { rng } from "../helpers/rng.js";

export const randn = (shape: number[], seed: number, dtype: "float32" | "float64" = "float32"): eg.Tensor =>
  eg.randn(shape, { generator: new eg.Generator(seed), dtype });
export const fill = (t: eg.Tensor, values: readonly number[]): void => t.data.set(values);
export const softmax = (xs: readonly number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
};
export const rowSums = (w: eg.Tensor): number[] => {
  const s = w.shape[w.ndim - 1]!;
  return Array.from({ length: w.size / s }, (_, r) => Array.from(w.data.subarray(r * s, (r + 1) * s)).reduce((a, b) => a + b, 0));
};

/** Sequences of S distinct one-hot symbols from a vocabulary of V; the query repeats one of them. */
export function retrievalBatch(
  next: () => number,
  B: number,
  S: number,
  V: number,
  Dv: number,
): { q: eg.Tensor; k: eg.Tensor; v: eg.Tensor; y: eg.Tensor } {
  const q = new Float32Array(B * V);
  const k = new Float32Array(B * S * V);
  const v = new Float32Array(B * S * Dv);
  const y = new Float32Array(B * Dv);
  for (let b = 0; b < B; b++) {
    const symbols = Array.from({ length: V }, (_, i) => i);
    for (let i = V - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [symbols[i], symbols[j]] = [symbols[j]!, symbols[i]!];
    }
    for (let s = 0; s < S; s++) k[(b * S + s) * V + symbols[s]!] = 1;
    for (let i = 0; i < S * Dv; i++) v[b * S * Dv + i] = next() * 2 - 1;
    const target = Math.floor(next() * S);
    q[b * V + symbols[target]!] = 1;
    y.set(v.subarray((b * S + target) * Dv, (b * S + target + 1) * Dv), b * Dv);
  }
  return {
    q: eg.tensor(q, { shape: [B, V] }),
    k: eg.tensor(k, { shape: [B, S, V] }),
    v: eg.tensor(v, { shape: [B, S, Dv] }),
    y: eg.tensor(y, { shape: [B, Dv] }),
  };
}

/**
 * Trains `m` with Adam on fresh retrieval batches and returns the mean-squared error on a fixed
 * evaluation batch before and after (B 32, S 5 symbols of V 8, values of Dv 4).
 */
export function retrievalLearning(
  m: eg.nn.Module & { forward(q: eg.Tensor, k: eg.Tensor, v: eg.Tensor): { output: eg.Tensor } },
  opts: { seed: number; evalSeed: number; steps?: number; lr?: number },
): { before: number; after: number } {
  const [B, S, V, Dv] = [32, 5, 8, 4];
  const opt = new eg.optim.Adam(m.parameters(), { lr: opts.lr ?? 0.05 });
  const next = rng(opts.seed);
  const evalBatch = retrievalBatch(rng(opts.evalSeed), 64, S, V, Dv);
  const evalLoss = (): number => eg.mseLoss(m.forward(evalBatch.q, evalBatch.k, evalBatch.v).output, evalBatch.y).item();
  const before = evalLoss();
  for (let step = 0; step < (opts.steps ?? 200); step++) {
    const { q, k, v, y } = retrievalBatch(next, B, S, V, Dv);
    opt.zeroGrad();
    eg.mseLoss(m.forward(q, k, v).output, y).backward();
    opt.step();
  }
  return { before, after: evalLoss() };
}
