/**
 * Reference additive-attention score kernels (additiveScores / additiveScoresGrad in
 * ../kernels.ts): one pass over (batch, steps, srcLen, hidden) each way, tanh(q + k) recomputed
 * rather than stored. Sums are in doubles; float32 results round when stored.
 */
import type { Kernels } from "../kernels.js";

export const additiveScoresTs: Kernels["additiveScores"] = (q, k, v, out, batch, steps, srcLen, hidden) => {
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < steps; t++) {
      const qo = (b * steps + t) * hidden;
      for (let s = 0; s < srcLen; s++) {
        const ko = (b * srcLen + s) * hidden;
        let acc = 0;
        for (let h = 0; h < hidden; h++) acc += v[h]! * Math.tanh(q[qo + h]! + k[ko + h]!);
        out[(b * steps + t) * srcLen + s] = acc;
      }
    }
};

export const additiveScoresGradTs: Kernels["additiveScoresGrad"] = (q, k, v, g, dq, dk, dv, batch, steps, srcLen, hidden) => {
  const dvSum = new Float64Array(dv ? hidden : 0);
  const dqRow = new Float64Array(hidden);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < steps; t++) {
      const qo = (b * steps + t) * hidden;
      dqRow.fill(0);
      for (let s = 0; s < srcLen; s++) {
        const ko = (b * srcLen + s) * hidden;
        const ds = g[(b * steps + t) * srcLen + s]!;
        for (let h = 0; h < hidden; h++) {
          const th = Math.tanh(q[qo + h]! + k[ko + h]!);
          const d = ds * v[h]! * (1 - th * th);
          dqRow[h] = dqRow[h]! + d;
          if (dk) dk[ko + h] = dk[ko + h]! + d;
          if (dv) dvSum[h] = dvSum[h]! + ds * th;
        }
      }
      if (dq) dq.set(dqRow, qo);
    }
  if (dv) for (let h = 0; h < hidden; h++) dv[h] = dv[h]! + dvSum[h]!;
};
