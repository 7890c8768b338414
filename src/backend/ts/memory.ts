/**
 * Memory-network kernels (semantics: ntmAddressing and eraseAndAdd in src/memory/addressing.ts),
 * the reference the native ones (native/kernels/memory.cc) follow. Sums run in doubles.
 */
import { sentenceWeightTerms, type Kernels } from "../kernels.js";

/** Rotation q of ntmAddressing reads slot (i + offsets[q]) mod n; offsets in [0, n). */
function shiftOffsets(n: number, shifts: number): Int32Array {
  const half = (shifts - 1) / 2;
  const offsets = new Int32Array(shifts);
  for (let q = 0; q < shifts; q++) offsets[q] = (((half - q) % n) + n) % n;
  return offsets;
}

export const ntmAddressingTs: Kernels["ntmAddressing"] = (
  k,
  m,
  beta,
  gate,
  s,
  gamma,
  prev,
  out,
  saved,
  batch,
  heads,
  n,
  w,
  shifts,
  cosEps,
  sharpEps,
) => {
  const offsets = shiftOffsets(n, shifts);
  const normsAt = batch * heads * (3 * n + 1);
  const rowNorm = new Float64Array(n);
  const cos = new Float64Array(n);
  const wc = new Float64Array(n);
  const wg = new Float64Array(n);
  const wt = new Float64Array(n);
  const ws = new Float64Array(n);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const mo = (b * n + i) * w;
      let ss = 0;
      for (let j = 0; j < w; j++) ss += m[mo + j]! * m[mo + j]!;
      rowNorm[i] = Math.sqrt(ss + cosEps);
    }
    if (saved) saved.set(rowNorm, normsAt + b * n);
    for (let h = 0; h < heads; h++) {
      const bh = b * heads + h;
      const ko = bh * w;
      let ks = 0;
      for (let j = 0; j < w; j++) ks += k[ko + j]! * k[ko + j]!;
      const kn = Math.sqrt(ks + cosEps);
      // content weights: softmax_i(beta cos(k, M_i))
      const bt = beta[bh]!;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        const mo = (b * n + i) * w;
        let dot = 0;
        for (let j = 0; j < w; j++) dot += k[ko + j]! * m[mo + j]!;
        cos[i] = dot / (kn * rowNorm[i]!);
        wc[i] = bt * cos[i]!;
        if (wc[i]! > max) max = wc[i]!;
      }
      softmaxInPlace(wc, max);
      // interpolation, then the rotation wt(i) = sum_q wg((i + offsets[q]) mod N) s(q)
      const o = bh * n;
      const gt = gate[bh]!;
      for (let i = 0; i < n; i++) wg[i] = prev[o + i]! + gt * (wc[i]! - prev[o + i]!);
      wt.fill(0);
      for (let q = 0; q < shifts; q++) {
        const sq = s[bh * shifts + q]!;
        const off = offsets[q]!;
        for (let i = 0; i < n; i++) wt[i]! += wg[i + off < n ? i + off : i + off - n]! * sq;
      }
      // sharpening: softmax_i(gamma log(wt + eps))
      const gm = gamma[bh]!;
      max = -Infinity;
      for (let i = 0; i < n; i++) {
        ws[i] = gm * Math.log(wt[i]! + sharpEps);
        if (ws[i]! > max) max = ws[i]!;
      }
      softmaxInPlace(ws, max);
      for (let i = 0; i < n; i++) out[o + i] = ws[i]!;
      if (saved) {
        const at = bh * (3 * n + 1);
        saved.set(cos, at);
        saved.set(wc, at + n);
        saved.set(wt, at + 2 * n);
        saved[at + 3 * n] = kn;
      }
    }
  }
};

/** x <- softmax(x), given max(x). */
function softmaxInPlace(x: Float64Array, max: number): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(x[i]! - max);
    sum += x[i]!;
  }
  for (let i = 0; i < x.length; i++) x[i]! /= sum;
}

export const ntmAddressingGradTs: Kernels["ntmAddressingGrad"] = (
  k,
  m,
  beta,
  gate,
  s,
  gamma,
  prev,
  out,
  saved,
  dOut,
  dk,
  dm,
  dBeta,
  dGate,
  ds,
  dGamma,
  dPrev,
  batch,
  heads,
  n,
  w,
  shifts,
  sharpEps,
) => {
  const offsets = shiftOffsets(n, shifts);
  const normsAt = batch * heads * (3 * n + 1);
  const dwt = new Float64Array(n);
  const wg = new Float64Array(n);
  const dwg = new Float64Array(n);
  const dcos = new Float64Array(n);
  const dmRow = new Float64Array(n * w);
  const rowSelf = new Float64Array(n); // sum_h dcos_hi cos_hi / rn_i^2: the row-norm part of dM
  for (let b = 0; b < batch; b++) {
    dmRow.fill(0);
    rowSelf.fill(0);
    for (let h = 0; h < heads; h++) {
      const bh = b * heads + h;
      const o = bh * n;
      const at = bh * (3 * n + 1);
      const kn = saved[at + 3 * n]!;
      // sharpening: y = softmax(gamma l), l = log(wt + eps)
      let dot = 0;
      for (let i = 0; i < n; i++) dot += dOut[o + i]! * out[o + i]!;
      const gm = gamma[bh]!;
      let dgm = 0;
      for (let i = 0; i < n; i++) {
        const dy = out[o + i]! * (dOut[o + i]! - dot);
        const wti = saved[at + 2 * n + i]! + sharpEps;
        dgm += dy * Math.log(wti);
        dwt[i] = (gm * dy) / wti;
      }
      dGamma[bh] = dgm;
      // rotation: wt(i) gets wg(i + off_q) s(q)
      const gt = gate[bh]!;
      for (let i = 0; i < n; i++) wg[i] = prev[o + i]! + gt * (saved[at + n + i]! - prev[o + i]!);
      dwg.fill(0);
      for (let q = 0; q < shifts; q++) {
        const sq = s[bh * shifts + q]!;
        const off = offsets[q]!;
        let dsq = 0;
        for (let i = 0; i < n; i++) {
          const src = i + off < n ? i + off : i + off - n;
          dsq += dwt[i]! * wg[src]!;
          dwg[src]! += dwt[i]! * sq;
        }
        ds[bh * shifts + q] = dsq;
      }
      // interpolation, then the content softmax
      let dg = 0;
      let dot2 = 0;
      for (let i = 0; i < n; i++) {
        const wci = saved[at + n + i]!;
        dg += dwg[i]! * (wci - prev[o + i]!);
        dPrev[o + i] = (1 - gt) * dwg[i]!;
        dot2 += gt * dwg[i]! * wci;
      }
      dGate[bh] = dg;
      const bt = beta[bh]!;
      let dbt = 0;
      let keySelf = 0; // sum_i dcos_i cos_i
      for (let i = 0; i < n; i++) {
        const wci = saved[at + n + i]!;
        const dz = wci * (gt * dwg[i]! - dot2);
        const c = saved[at + i]!;
        dbt += dz * c;
        dcos[i] = bt * dz;
        keySelf += dcos[i]! * c;
      }
      dBeta[bh] = dbt;
      // cosine: c_i = k . M_i / (kn rn_i)
      const ko = bh * w;
      for (let j = 0; j < w; j++) dk[ko + j] = (-keySelf * k[ko + j]!) / (kn * kn);
      for (let i = 0; i < n; i++) {
        const rn = saved[normsAt + b * n + i]!;
        const a = dcos[i]! / (kn * rn);
        const mo = (b * n + i) * w;
        for (let j = 0; j < w; j++) {
          dk[ko + j]! += a * m[mo + j]!;
          dmRow[i * w + j]! += a * k[ko + j]!;
        }
        rowSelf[i]! += (dcos[i]! * saved[at + i]!) / (rn * rn);
      }
    }
    for (let i = 0; i < n; i++) {
      const mo = (b * n + i) * w;
      for (let j = 0; j < w; j++) dm[mo + j] = dmRow[i * w + j]! - rowSelf[i]! * m[mo + j]!;
    }
  }
};

/** out = M o prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T, batched. */
export const memoryWriteTs: Kernels["memoryWrite"] = (m, w, e, a, out, batch, heads, n, width) => {
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const mo = (b * n + i) * width;
      for (let j = 0; j < width; j++) {
        let keep = 1;
        let added = 0;
        for (let h = 0; h < heads; h++) {
          const wi = w[(b * heads + h) * n + i]!;
          const v = (b * heads + h) * width + j;
          keep *= 1 - wi * e[v]!;
          added += wi * a[v]!;
        }
        out[mo + j] = m[mo + j]! * keep + added;
      }
    }
  }
};

/** Gradients of memoryWrite given dOut (g); every output buffer is overwritten. */
export const memoryWriteGradTs: Kernels["memoryWriteGrad"] = (m, w, e, a, g, dm, dw, de, da, batch, heads, n, width) => {
  de.fill(0);
  da.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const mo = (b * n + i) * width;
      for (let h = 0; h < heads; h++) dw[(b * heads + h) * n + i] = 0;
      for (let j = 0; j < width; j++) {
        const gij = g[mo + j]!;
        const mij = m[mo + j]!;
        let keep = 1;
        for (let h = 0; h < heads; h++) keep *= 1 - w[(b * heads + h) * n + i]! * e[(b * heads + h) * width + j]!;
        dm[mo + j] = gij * keep;
        for (let h = 0; h < heads; h++) {
          const wi = w[(b * heads + h) * n + i]!;
          const v = (b * heads + h) * width + j;
          // prod of the other heads' erase factors, without dividing by this head's (it may be 0)
          let others = 1;
          for (let h2 = 0; h2 < heads; h2++) if (h2 !== h) others *= 1 - w[(b * heads + h2) * n + i]! * e[(b * heads + h2) * width + j]!;
          const erased = gij * mij * others;
          dw[(b * heads + h) * n + i]! += gij * a[v]! - erased * e[v]!;
          de[v]! -= erased * wi;
          da[v]! += gij * wi;
        }
      }
    }
  }
};

/** k/d for k = 1..d. */
function dimFractions(dim: number): Float64Array {
  return Float64Array.from({ length: dim }, (_, k) => (k + 1) / dim);
}

/** Words of row r up to its last non-PAD one. */
function rowLength(ids: Int32Array, r: number, words: number): number {
  let J = 0;
  for (let j = 0; j < words; j++) if (ids[r * words + j] !== 0) J = j + 1;
  return J;
}

export const sentenceEncodeTs: Kernels["sentenceEncode"] = (ids, table, temporal, ages, out, rows, words, dim, encoding) => {
  const acc = new Float64Array(dim);
  const kd = dimFractions(dim);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    const J = rowLength(ids, r, words);
    for (let j = 1; j <= J; j++) {
      const id = ids[r * words + j - 1]!;
      if (id === 0) continue;
      const [a, b] = sentenceWeightTerms(encoding, j, J, words, dim);
      for (let k = 0; k < dim; k++) acc[k]! += (a + kd[k]! * b) * table[id * dim + k]!;
    }
    if (temporal !== null && ages !== null) for (let k = 0; k < dim; k++) acc[k]! += temporal[ages[r]! * dim + k]!;
    for (let k = 0; k < dim; k++) out[r * dim + k] = acc[k]!;
  }
};

export const sentenceEncodeGradTs: Kernels["sentenceEncodeGrad"] = (ids, ages, g, dTable, dTemporal, rows, words, dim, encoding) => {
  dTable.fill(0);
  dTemporal?.fill(0);
  const kd = dimFractions(dim);
  for (let r = 0; r < rows; r++) {
    const J = rowLength(ids, r, words);
    for (let j = 1; j <= J; j++) {
      const id = ids[r * words + j - 1]!;
      if (id === 0) continue;
      const [a, b] = sentenceWeightTerms(encoding, j, J, words, dim);
      for (let k = 0; k < dim; k++) dTable[id * dim + k]! += (a + kd[k]! * b) * g[r * dim + k]!;
    }
    if (dTemporal !== null && ages !== null) for (let k = 0; k < dim; k++) dTemporal[ages[r]! * dim + k]! += g[r * dim + k]!;
  }
};

/** Offset of step t, batch row b in fastWeightsSequence's saved buffer: pre (H), xhat (H), rstd, scores (T). */
function fwSavedAt(t: number, b: number, batch: number, steps: number, hidden: number): number {
  return (t * batch + b) * (2 * hidden + 1 + steps);
}

export const fastWeightsSequenceTs: Kernels["fastWeightsSequence"] = (
  xp,
  w,
  gain,
  bias,
  out,
  saved,
  batch,
  steps,
  hidden,
  decay,
  eta,
  relu,
  eps,
) => {
  const H = hidden;
  const act = relu ? (v: number): number => (v > 0 ? v : 0) : Math.tanh;
  const pre = new Float64Array(H);
  const h0 = new Float64Array(H);
  const z = new Float64Array(H);
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const row = (b * steps + t) * H;
      const prev = row - H; // h_{t-1} of this batch row (t > 0)
      for (let k = 0; k < H; k++) {
        let s = xp[row + k]!;
        if (t > 0) for (let i = 0; i < H; i++) s += out[prev + i]! * w[k * H + i]!;
        pre[k] = s;
        z[k] = s;
      }
      const at = fwSavedAt(t, b, batch, steps, H);
      if (t > 0) {
        for (let k = 0; k < H; k++) h0[k] = act(pre[k]!);
        for (let tau = 0; tau < t; tau++) {
          const past = (b * steps + tau) * H;
          let score = 0;
          for (let k = 0; k < H; k++) score += out[past + k]! * h0[k]!;
          if (saved !== null) saved[at + 2 * H + 1 + tau] = score;
          const c = eta * decay ** (t - 1 - tau) * score;
          for (let k = 0; k < H; k++) z[k]! += c * out[past + k]!;
        }
      }
      let rstd = 1;
      if (gain !== null && bias !== null) {
        let mean = 0;
        for (let k = 0; k < H; k++) mean += z[k]!;
        mean /= H;
        let v = 0;
        for (let k = 0; k < H; k++) v += (z[k]! - mean) ** 2;
        rstd = 1 / Math.sqrt(v / H + eps);
        for (let k = 0; k < H; k++) z[k] = (z[k]! - mean) * rstd;
      }
      for (let k = 0; k < H; k++) out[row + k] = act(gain !== null && bias !== null ? z[k]! * gain[k]! + bias[k]! : z[k]!);
      if (saved !== null) {
        for (let k = 0; k < H; k++) {
          saved[at + k] = pre[k]!;
          saved[at + H + k] = z[k]!;
        }
        saved[at + 2 * H] = rstd;
      }
    }
  }
};

export const fastWeightsSequenceGradTs: Kernels["fastWeightsSequenceGrad"] = (
  w,
  gain,
  out,
  saved,
  g,
  dXp,
  dW,
  dGain,
  dBias,
  batch,
  steps,
  hidden,
  decay,
  eta,
  relu,
) => {
  const H = hidden;
  const act = relu ? (v: number): number => (v > 0 ? v : 0) : Math.tanh;
  // derivative of the activation from its output
  const dAct = relu ? (y: number): number => (y > 0 ? 1 : 0) : (y: number): number => 1 - y * y;
  const dH = Float64Array.from(g); // (B, T, H): gradient reaching each h_t, completed before step t is visited
  // sums over steps and rows in doubles, rounded once at the end
  const dw = new Float64Array(H * H);
  const dg = new Float64Array(H);
  const db = new Float64Array(H);
  const dz = new Float64Array(H);
  const h0 = new Float64Array(H);
  const dh0 = new Float64Array(H);
  const dpre = new Float64Array(H);
  for (let t = steps - 1; t >= 0; t--) {
    for (let b = 0; b < batch; b++) {
      const row = (b * steps + t) * H;
      const at = fwSavedAt(t, b, batch, steps, H);
      for (let k = 0; k < H; k++) dz[k] = dH[row + k]! * dAct(out[row + k]!);
      if (gain !== null) {
        // layer norm backward: dxhat = dy * gain; dz = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
        let m1 = 0;
        let m2 = 0;
        for (let k = 0; k < H; k++) {
          const xhat = saved[at + H + k]!;
          dg[k]! += dz[k]! * xhat;
          db[k]! += dz[k]!;
          dz[k] = dz[k]! * gain[k]!;
          m1 += dz[k]!;
          m2 += dz[k]! * xhat;
        }
        m1 /= H;
        m2 /= H;
        const rstd = saved[at + 2 * H]!;
        for (let k = 0; k < H; k++) dz[k] = rstd * (dz[k]! - m1 - saved[at + H + k]! * m2);
      }
      // dz is the gradient of pre (directly) and of the read
      dpre.set(dz);
      if (t > 0) {
        for (let k = 0; k < H; k++) {
          h0[k] = act(saved[at + k]!);
          dh0[k] = 0;
        }
        for (let tau = 0; tau < t; tau++) {
          const past = (b * steps + tau) * H;
          const c = eta * decay ** (t - 1 - tau);
          const score = saved[at + 2 * H + 1 + tau]!;
          let dScore = 0;
          for (let k = 0; k < H; k++) dScore += out[past + k]! * dz[k]!;
          dScore *= c;
          for (let k = 0; k < H; k++) {
            dH[past + k]! += c * score * dz[k]! + dScore * h0[k]!;
            dh0[k]! += dScore * out[past + k]!;
          }
        }
        for (let k = 0; k < H; k++) dpre[k]! += dh0[k]! * dAct(h0[k]!);
        // pre = xp + h_{t-1} W^T: dW += dpre^T h_{t-1}, dh_{t-1} += dpre W
        const prev = row - H;
        for (let k = 0; k < H; k++) {
          const dp = dpre[k]!;
          if (dp === 0) continue;
          for (let i = 0; i < H; i++) {
            dw[k * H + i]! += dp * out[prev + i]!;
            dH[prev + i]! += dp * w[k * H + i]!;
          }
        }
      }
      for (let k = 0; k < H; k++) dXp[row + k] = dpre[k]!;
    }
  }
  dW.set(dw);
  dGain?.set(dg);
  dBias?.set(db);
};
