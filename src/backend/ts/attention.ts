/**
 * Reference fused attention kernels (sdpaForward / sdpaBackward in ../kernels.ts). One query row at
 * a time: its scores against every visible key live in one row buffer (O(lk) memory, never
 * lq x lk), the softmax is exact (max, exp, sum) and the backward recomputes each probability
 * from the saved log-sum-exp, with D_i = rowsum(dO_i * O_i) standing in for sum_j P_ij dP_ij
 * (FlashAttention-2). Arithmetic is in doubles; float32 results round once when stored.
 */
import { SDPA_GEOM_HEADER, sdpaDropThreshold, sdpaKeepHash, sdpaRowKey, type FloatArray } from "../kernels.js";

interface Geom {
  nb: number;
  lq: number;
  lk: number;
  e: number;
  ev: number;
  causal: boolean;
  shift: number;
  msi: number;
  msj: number;
  off: Int32Array;
}

function parse(geom: Int32Array): Geom {
  const [nb, lq, lk, e, ev, causal, shift, msi, msj] = geom as unknown as number[];
  return { nb: nb!, lq: lq!, lk: lk!, e: e!, ev: ev!, causal: causal === 1, shift: shift!, msi: msi!, msj: msj!, off: geom };
}

/** Keys [0, end) a query row may see before the explicit mask. */
function visibleEnd(g: Geom, i: number): number {
  return g.causal ? Math.max(0, Math.min(g.lk, i + g.shift + 1)) : g.lk;
}

/**
 * Scaled, masked scores of row i of matrix b into s[0..end) (-Infinity where masked); returns
 * their maximum.
 */
function scoreRow(
  g: Geom,
  q: FloatArray,
  k: FloatArray,
  mask: Uint8Array | null,
  b: number,
  i: number,
  end: number,
  scale: number,
  s: Float64Array,
): number {
  const qo = g.off[SDPA_GEOM_HEADER + b]! + i * g.e;
  const ko = g.off[SDPA_GEOM_HEADER + g.nb + b]!;
  const mo = g.off[SDPA_GEOM_HEADER + 3 * g.nb + b]! + i * g.msi;
  let max = -Infinity;
  for (let j = 0; j < end; j++) {
    if (mask !== null && mask[mo + j * g.msj] === 0) {
      s[j] = -Infinity;
      continue;
    }
    let dot = 0;
    const kj = ko + j * g.e;
    for (let c = 0; c < g.e; c++) dot += q[qo + c]! * k[kj + c]!;
    const x = dot * scale;
    s[j] = x;
    if (x > max) max = x;
  }
  return max;
}

export function sdpaForwardTs(
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  mask: Uint8Array | null,
  out: FloatArray,
  lse: FloatArray,
  geom: Int32Array,
  scale: number,
  dropout: number,
  seed0: number,
  seed1: number,
): void {
  const g = parse(geom);
  const s = new Float64Array(g.lk);
  const acc = new Float64Array(g.ev);
  const threshold = sdpaDropThreshold(dropout);
  const inv = 1 / (1 - dropout);
  for (let b = 0; b < g.nb; b++) {
    const vo = g.off[SDPA_GEOM_HEADER + 2 * g.nb + b]!;
    for (let i = 0; i < g.lq; i++) {
      const end = visibleEnd(g, i);
      const max = scoreRow(g, q, k, mask, b, i, end, scale, s);
      const oo = (b * g.lq + i) * g.ev;
      if (max === -Infinity) {
        out.fill(0, oo, oo + g.ev);
        lse[b * g.lq + i] = -Infinity;
        continue;
      }
      let l = 0;
      for (let j = 0; j < end; j++) {
        const p = Math.exp(s[j]! - max); // masked: exp(-Infinity) = 0
        s[j] = p;
        l += p;
      }
      lse[b * g.lq + i] = max + Math.log(l);
      acc.fill(0);
      const row = dropout > 0 ? sdpaRowKey(seed0, seed1, b, i) : 0;
      for (let j = 0; j < end; j++) {
        let w = s[j]! / l;
        if (w === 0) continue;
        if (dropout > 0) w = sdpaKeepHash(row, j) >= threshold ? w * inv : 0;
        const vj = vo + j * g.ev;
        for (let c = 0; c < g.ev; c++) acc[c] = acc[c]! + w * v[vj + c]!;
      }
      for (let c = 0; c < g.ev; c++) out[oo + c] = acc[c]!;
    }
  }
}

export function sdpaBackwardTs(
  q: FloatArray,
  k: FloatArray,
  v: FloatArray,
  mask: Uint8Array | null,
  out: FloatArray,
  dOut: FloatArray,
  lse: FloatArray,
  dq: FloatArray,
  dk: FloatArray,
  dv: FloatArray,
  geom: Int32Array,
  scale: number,
  dropout: number,
  seed0: number,
  seed1: number,
): void {
  const g = parse(geom);
  const s = new Float64Array(g.lk);
  const dqRow = new Float64Array(g.e);
  const dkAcc = new Float64Array(g.lk * g.e);
  const dvAcc = new Float64Array(g.lk * g.ev);
  const threshold = sdpaDropThreshold(dropout);
  const inv = 1 / (1 - dropout);
  for (let b = 0; b < g.nb; b++) {
    const qb = g.off[SDPA_GEOM_HEADER + b]!;
    const ko = g.off[SDPA_GEOM_HEADER + g.nb + b]!;
    const vo = g.off[SDPA_GEOM_HEADER + 2 * g.nb + b]!;
    dkAcc.fill(0);
    dvAcc.fill(0);
    for (let i = 0; i < g.lq; i++) {
      const end = visibleEnd(g, i);
      const m = lse[b * g.lq + i]!;
      const oo = (b * g.lq + i) * g.ev;
      dqRow.fill(0);
      if (m !== -Infinity) {
        scoreRow(g, q, k, mask, b, i, end, scale, s);
        // D_i = sum_j P_ij dP_ij = dO_i . O_i (O already carries the dropout)
        let d = 0;
        for (let c = 0; c < g.ev; c++) d += dOut[oo + c]! * out[oo + c]!;
        const row = dropout > 0 ? sdpaRowKey(seed0, seed1, b, i) : 0;
        const qo = qb + i * g.e;
        for (let j = 0; j < end; j++) {
          const p = Math.exp(s[j]! - m);
          if (p === 0) continue;
          const z = dropout > 0 ? (sdpaKeepHash(row, j) >= threshold ? inv : 0) : 1;
          const vj = vo + j * g.ev;
          let dp = 0;
          if (z !== 0) {
            for (let c = 0; c < g.ev; c++) {
              dvAcc[j * g.ev + c] = dvAcc[j * g.ev + c]! + p * z * dOut[oo + c]!;
              dp += dOut[oo + c]! * v[vj + c]!;
            }
          }
          const ds = p * (dp * z - d) * scale;
          const kj = ko + j * g.e;
          for (let c = 0; c < g.e; c++) {
            dqRow[c] = dqRow[c]! + ds * k[kj + c]!;
            dkAcc[j * g.e + c] = dkAcc[j * g.e + c]! + ds * q[qo + c]!;
          }
        }
      }
      const dqo = (b * g.lq + i) * g.e;
      for (let c = 0; c < g.e; c++) dq[dqo + c] = dqRow[c]!;
    }
    dk.set(dkAcc, b * g.lk * g.e);
    dv.set(dvAcc, b * g.lk * g.ev);
  }
}
