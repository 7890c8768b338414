/**
 * Reference kernels in plain TypeScript: complete, portable (no Node imports, so they bundle for
 * browsers) and the definition of every kernel's semantics; native kernels are tested against them.
 */
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, type Kernels, type Layout } from "../kernels.js";
import { additiveScoresGradTs, additiveScoresTs } from "./additive.js";
import { sdpaBackwardTs, sdpaForwardTs } from "./attention.js";
import {
  fastWeightsSequenceGradTs,
  fastWeightsSequenceTs,
  memoryWriteGradTs,
  memoryWriteTs,
  ntmAddressingGradTs,
  ntmAddressingTs,
  sentenceEncodeGradTs,
  sentenceEncodeTs,
} from "./memory.js";
import { erf, gelu, geluGrad, geluTanh, geluTanhGrad, roundHalfEven, sigmoid, softplus, TWO_OVER_SQRT_PI } from "./math.js";

type Fn1 = (x: number, p0: number, p1: number) => number;
type Fn2 = (a: number, b: number) => number;

const unaryFns: Record<(typeof UNARY_OPS)[number], Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps 0 and NaN
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  relu: (x) => (x > 0 ? x : x !== x ? x : 0),
  sigmoid,
  tanh: Math.tanh,
  softplus,
  silu: (x) => x * sigmoid(x),
  gelu,
  geluTanh,
  elu: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  leakyRelu: (x, s) => (x > 0 ? x : x * s),
  erf,
  clamp: (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x),
  powScalar: (x, p) => Math.pow(x, p),
  affine: (x, a, b) => x * a + b,
  logicalNot: (x) => (x === 0 ? 1 : 0),
  isFinite: (x) => (Number.isFinite(x) ? 1 : 0),
};
const unaryTable: Fn1[] = UNARY_OPS.map((n) => unaryFns[n]);

/** Derivative f'(x) given x and y = f(x). */
type Grad1 = (x: number, y: number, p0: number, p1: number) => number;
const unaryGrads: Partial<Record<(typeof UNARY_OPS)[number], Grad1>> = {
  neg: () => -1,
  abs: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  sign: () => 0,
  exp: (_x, y) => y,
  log: (x) => 1 / x,
  log1p: (x) => 1 / (1 + x),
  sqrt: (_x, y) => 0.5 / y,
  rsqrt: (_x, y) => -0.5 * y * y * y,
  square: (x) => 2 * x,
  reciprocal: (_x, y) => -y * y,
  sin: Math.cos,
  cos: (x) => -Math.sin(x),
  floor: () => 0,
  ceil: () => 0,
  round: () => 0,
  relu: (x) => (x > 0 ? 1 : 0),
  sigmoid: (_x, y) => y * (1 - y),
  tanh: (_x, y) => 1 - y * y,
  softplus: (x) => (x > 20 ? 1 : sigmoid(x)), // the forward is exactly x above 20
  silu: (x) => {
    const s = sigmoid(x);
    return s * (1 + x * (1 - s));
  },
  gelu: geluGrad,
  geluTanh: geluTanhGrad,
  elu: (x, y, a) => (x > 0 ? 1 : y + a),
  leakyRelu: (x, _y, s) => (x > 0 ? 1 : s),
  erf: (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x),
  clamp: (x, _y, lo, hi) => (x >= lo && x <= hi ? 1 : 0),
  powScalar: (x, _y, p) => (p === 0 ? 0 : p * Math.pow(x, p - 1)),
  affine: (_x, _y, a) => a,
};
const gradTable: (Grad1 | undefined)[] = UNARY_OPS.map((n) => unaryGrads[n]);

const cmp =
  (f: (a: number, b: number) => boolean): Fn2 =>
  (a, b) =>
    f(a, b) ? 1 : 0;
const binaryFns: Record<(typeof BINARY_OPS)[number], Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  minimum: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)),
  maximum: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)),
  eq: cmp((a, b) => a === b),
  ne: cmp((a, b) => a !== b),
  lt: cmp((a, b) => a < b),
  le: cmp((a, b) => a <= b),
  gt: cmp((a, b) => a > b),
  ge: cmp((a, b) => a >= b),
  logicalAnd: cmp((a, b) => a !== 0 && b !== 0),
  logicalOr: cmp((a, b) => a !== 0 || b !== 0),
  logicalXor: cmp((a, b) => (a !== 0) !== (b !== 0)),
};
const binaryTable: Fn2[] = BINARY_OPS.map((n) => binaryFns[n]);
const INT_DIV = BINARY_OPS.indexOf("div");

/**
 * Calls visit(outIndex, offset0, offset1, ...) for every element of a packed layout, walking the
 * last axis in the inner loop.
 */
function forEachOffset(layout: Layout, operands: number, visit: (i: number, offs: Int32Array | number[]) => void): void {
  const nd = layout[0]!;
  const shape = layout.subarray(1, 1 + nd);
  const idx = new Array<number>(nd).fill(0);
  const offs = new Array<number>(operands).fill(0);
  let total = 1;
  for (let d = 0; d < nd; d++) total *= shape[d]!;
  for (let i = 0; i < total; i++) {
    visit(i, offs);
    // increment the multi-index and the operand offsets
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < operands; k++) offs[k]! += layout[1 + nd * (k + 1) + d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < operands; k++) offs[k]! -= layout[1 + nd * (k + 1) + d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

function isContiguous(layout: Layout, k: number): boolean {
  // after packing, a contiguous operand is one axis with stride 1
  return layout[0] === 1 && layout[3 + k] === 1;
}

export const tsKernels: Kernels = {
  unary(op, x, out, p0, p1) {
    const f = unaryTable[op]!;
    const n = x.length;
    if (out instanceof Int32Array) {
      for (let i = 0; i < n; i++) out[i] = Math.trunc(f(x[i]!, p0, p1));
    } else {
      for (let i = 0; i < n; i++) out[i] = f(x[i]!, p0, p1);
    }
  },

  unaryGrad(op, x, y, dy, dx, p0, p1) {
    const g = gradTable[op];
    if (!g) throw new Error(`unaryGrad: op ${UNARY_OPS[op]} has no derivative`);
    for (let i = 0; i < x.length; i++) dx[i] = dy[i]! * g(x[i]!, y[i]!, p0, p1);
  },

  binary(op, a, b, out, layout) {
    let f = binaryTable[op]!;
    if (op === INT_DIV && a instanceof Int32Array && out instanceof Int32Array) f = (u, v) => Math.trunc(u / v);
    if (isContiguous(layout, 0) && isContiguous(layout, 1)) {
      for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, b[i]!);
      return;
    }
    forEachOffset(layout, 2, (i, o) => {
      out[i] = f(a[o[0]!]!, b[o[1]!]!);
    });
  },

  where(cond, a, b, out, layout) {
    forEachOffset(layout, 3, (i, o) => {
      out[i] = cond[o[0]!] ? a[o[1]!]! : b[o[2]!]!;
    });
  },

  reduce(op, x, out, outer, n, inner) {
    const name = REDUCE_OPS[op]!;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * n * inner + j;
        let acc: number;
        switch (name) {
          case "sum":
          case "mean": {
            acc = 0;
            for (let r = 0; r < n; r++) acc += x[base + r * inner]!;
            if (name === "mean") acc /= n;
            break;
          }
          case "prod": {
            acc = 1;
            for (let r = 0; r < n; r++) acc *= x[base + r * inner]!;
            break;
          }
          case "max":
          case "min": {
            const isMax = name === "max";
            acc = isMax ? -Infinity : Infinity;
            for (let r = 0; r < n; r++) {
              const v = x[base + r * inner]!;
              if (v !== v) {
                acc = NaN;
                break;
              }
              if (isMax ? v > acc : v < acc) acc = v;
            }
            break;
          }
          case "argmax":
          case "argmin": {
            const isMax = name === "argmax";
            let best = isMax ? -Infinity : Infinity;
            acc = 0;
            for (let r = 0; r < n; r++) {
              const v = x[base + r * inner]!;
              if (v !== v) {
                acc = r; // NaN wins, like PyTorch
                break;
              }
              if (r === 0 || (isMax ? v > best : v < best)) {
                best = v;
                acc = r;
              }
            }
            break;
          }
          case "logSumExp": {
            let m = -Infinity;
            for (let r = 0; r < n; r++) m = Math.max(m, x[base + r * inner]!);
            if (m === -Infinity || m !== m) {
              acc = m;
              break;
            }
            if (m === Infinity) {
              acc = Infinity;
              break;
            }
            let s = 0;
            for (let r = 0; r < n; r++) s += Math.exp(x[base + r * inner]! - m);
            acc = m + Math.log(s);
            break;
          }
        }
        out[o * inner + j] = acc;
      }
    }
  },

  matmul(a, b, out, batch, m, n, k, transA, transB, strideA, strideB) {
    // (i, p) of op(A) and (p, j) of op(B) as flat-index strides
    const aRow = transA ? 1 : k;
    const aCol = transA ? m : 1;
    const bRow = transB ? 1 : n;
    const bCol = transB ? k : 1;
    const row = new Float64Array(n);
    for (let bt = 0; bt < batch; bt++) {
      const ao = bt * strideA;
      const bo = bt * strideB;
      const oo = bt * m * n;
      for (let i = 0; i < m; i++) {
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const av = a[ao + i * aRow + p * aCol]!;
          const bb = bo + p * bRow;
          for (let j = 0; j < n; j++) row[j]! += av * b[bb + j * bCol]!;
        }
        for (let j = 0; j < n; j++) out[oo + i * n + j] = row[j]!;
      }
    }
  },

  softmax(x, out, outer, n, log) {
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, x[base + j]!);
      if (m === -Infinity) {
        for (let j = 0; j < n; j++) out[base + j] = log ? -Infinity : 0;
        continue;
      }
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[base + j]! - m);
      if (log) {
        const ls = m + Math.log(s);
        for (let j = 0; j < n; j++) out[base + j] = x[base + j]! - ls;
      } else {
        const inv = 1 / s;
        for (let j = 0; j < n; j++) out[base + j] = Math.exp(x[base + j]! - m) * inv;
      }
    }
  },

  softmaxGrad(y, dy, dx, outer, n, log) {
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      let s = 0;
      if (log) {
        for (let j = 0; j < n; j++) s += dy[base + j]!;
        for (let j = 0; j < n; j++) dx[base + j] = dy[base + j]! - Math.exp(y[base + j]!) * s;
      } else {
        for (let j = 0; j < n; j++) s += dy[base + j]! * y[base + j]!;
        for (let j = 0; j < n; j++) dx[base + j] = y[base + j]! * (dy[base + j]! - s);
      }
    }
  },

  layerNorm(x, gamma, beta, out, mean, rstd, outer, n, eps) {
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      let mu = 0;
      for (let j = 0; j < n; j++) mu += x[base + j]!;
      mu /= n;
      let v = 0;
      for (let j = 0; j < n; j++) {
        const d = x[base + j]! - mu;
        v += d * d;
      }
      const r = 1 / Math.sqrt(v / n + eps);
      mean[o] = mu;
      rstd[o] = r;
      for (let j = 0; j < n; j++) {
        let y = (x[base + j]! - mu) * r;
        if (gamma) y *= gamma[j]!;
        if (beta) y += beta[j]!;
        out[base + j] = y;
      }
    }
  },

  layerNormGrad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, outer, n) {
    if (dgamma) dgamma.fill(0);
    if (dbeta) dbeta.fill(0);
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      const mu = mean[o]!;
      const r = rstd[o]!;
      // dxhat = dy * gamma; dx = r * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      let s1 = 0;
      let s2 = 0;
      for (let j = 0; j < n; j++) {
        const xh = (x[base + j]! - mu) * r;
        const g = dy[base + j]! * (gamma ? gamma[j]! : 1);
        s1 += g;
        s2 += g * xh;
        if (dgamma) dgamma[j]! += dy[base + j]! * xh;
        if (dbeta) dbeta[j]! += dy[base + j]!;
      }
      s1 /= n;
      s2 /= n;
      for (let j = 0; j < n; j++) {
        const xh = (x[base + j]! - mu) * r;
        const g = dy[base + j]! * (gamma ? gamma[j]! : 1);
        dx[base + j] = r * (g - s1 - xh * s2);
      }
    }
  },

  stridedCopy(x, out, offset, layout) {
    forEachOffset(layout, 1, (i, o) => {
      out[i] = x[offset + o[0]!]!;
    });
  },

  stridedScatter(src, out, offset, layout, accumulate) {
    if (accumulate) {
      forEachOffset(layout, 1, (i, o) => {
        out[offset + o[0]!]! += src[i]!;
      });
    } else {
      forEachOffset(layout, 1, (i, o) => {
        out[offset + o[0]!] = src[i]!;
      });
    }
  },

  gather(x, index, out, outer, n, inner, k) {
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++)
        for (let i = 0; i < inner; i++) {
          const t = (o * k + j) * inner + i;
          out[t] = x[(o * n + index[t]!) * inner + i]!;
        }
  },

  scatterAdd(src, index, out, outer, n, inner, k) {
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++)
        for (let i = 0; i < inner; i++) {
          const t = (o * k + j) * inner + i;
          out[(o * n + index[t]!) * inner + i]! += src[t]!;
        }
  },

  indexSelect(x, index, out, outer, n, inner, k) {
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++) {
        const from = (o * n + index[j]!) * inner;
        const to = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[to + i] = x[from + i]!;
      }
  },

  indexAdd(src, index, out, outer, n, inner, k) {
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < k; j++) {
        const to = (o * n + index[j]!) * inner;
        const from = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[to + i]! += src[from + i]!;
      }
  },

  cast(x, out) {
    if (out instanceof Uint8Array) {
      for (let i = 0; i < x.length; i++) out[i] = x[i] !== 0 ? 1 : 0;
    } else if (out instanceof Int32Array && !(x instanceof Int32Array || x instanceof Uint8Array)) {
      for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]!);
    } else {
      out.set(x);
    }
  },

  lstmCell(gates, c, h, cOut, saved, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gr = b * 4 * H;
      const sr = b * 5 * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[gr + j]!);
        const f = sigmoid(gates[gr + H + j]!);
        const g = Math.tanh(gates[gr + 2 * H + j]!);
        const o = sigmoid(gates[gr + 3 * H + j]!);
        const cn = f * c[b * H + j]! + i * g;
        const t = Math.tanh(cn);
        cOut[b * H + j] = cn;
        h[b * H + j] = o * t;
        if (saved) {
          saved[sr + j] = i;
          saved[sr + H + j] = f;
          saved[sr + 2 * H + j] = g;
          saved[sr + 3 * H + j] = o;
          saved[sr + 4 * H + j] = t;
        }
      }
    }
  },

  lstmCellGrad(saved, c, dH, dCOut, dGates, dC, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gr = b * 4 * H;
      const sr = b * 5 * H;
      for (let j = 0; j < H; j++) {
        const i = saved[sr + j]!;
        const f = saved[sr + H + j]!;
        const g = saved[sr + 2 * H + j]!;
        const o = saved[sr + 3 * H + j]!;
        const t = saved[sr + 4 * H + j]!;
        const dh = dH ? dH[b * H + j]! : 0;
        // total gradient of c': directly, and through h = o tanh(c')
        const dc = (dCOut ? dCOut[b * H + j]! : 0) + dh * o * (1 - t * t);
        dGates[gr + j] = dc * g * i * (1 - i);
        dGates[gr + H + j] = dc * c[b * H + j]! * f * (1 - f);
        dGates[gr + 2 * H + j] = dc * i * (1 - g * g);
        dGates[gr + 3 * H + j] = dh * t * o * (1 - o);
        if (dC) dC[b * H + j] = dc * f;
      }
    }
  },

  ntmAddressing: ntmAddressingTs,
  ntmAddressingGrad: ntmAddressingGradTs,
  memoryWrite: memoryWriteTs,
  memoryWriteGrad: memoryWriteGradTs,
  gruCell(xp, hp, h, out, saved, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gr = b * 3 * H;
      const sr = b * 4 * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(xp[gr + j]! + hp[gr + j]!);
        const z = sigmoid(xp[gr + H + j]! + hp[gr + H + j]!);
        const hn = hp[gr + 2 * H + j]!;
        const n = Math.tanh(xp[gr + 2 * H + j]! + r * hn);
        const hj = h[b * H + j]!;
        out[b * H + j] = n + z * (hj - n);
        if (saved) {
          saved[sr + j] = r;
          saved[sr + H + j] = z;
          saved[sr + 2 * H + j] = n;
          saved[sr + 3 * H + j] = hn;
        }
      }
    }
  },

  gruCellGrad(saved, h, dOut, dXp, dHp, dH, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gr = b * 3 * H;
      const sr = b * 4 * H;
      for (let j = 0; j < H; j++) {
        const r = saved[sr + j]!;
        const z = saved[sr + H + j]!;
        const n = saved[sr + 2 * H + j]!;
        const hn = saved[sr + 3 * H + j]!;
        const d = dOut[b * H + j]!;
        // h' = n + z (h - n)
        const dn = d * (1 - z) * (1 - n * n);
        const dz = d * (h[b * H + j]! - n) * z * (1 - z);
        const dr = dn * hn * r * (1 - r);
        dXp[gr + j] = dr;
        dXp[gr + H + j] = dz;
        dXp[gr + 2 * H + j] = dn;
        if (dHp) {
          dHp[gr + j] = dr;
          dHp[gr + H + j] = dz;
          dHp[gr + 2 * H + j] = dn * r;
        }
        if (dH) dH[b * H + j] = d * z;
      }
    }
  },

  sentenceEncode: sentenceEncodeTs,
  sentenceEncodeGrad: sentenceEncodeGradTs,
  fastWeightsSequence: fastWeightsSequenceTs,
  fastWeightsSequenceGrad: fastWeightsSequenceGradTs,
  additiveScores: additiveScoresTs,
  additiveScoresGrad: additiveScoresGradTs,
  sdpaForward: sdpaForwardTs,
  sdpaBackward: sdpaBackwardTs,

  tri(x, out, batch, rows, cols, diag, upper) {
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) {
          const t = (b * rows + i) * cols + j;
          const keep = upper ? j - i >= diag : j - i <= diag;
          out[t] = keep ? x[t]! : 0;
        }
  },

  sgdUpdate(p, g, buf, lr, momentum, dampening, wd, nesterov, firstStep) {
    const n = p.length;
    if (buf === null) {
      for (let i = 0; i < n; i++) {
        const d = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
        p[i] = p[i]! - lr * d;
      }
      return;
    }
    // PyTorch seeds the buffer with the first gradient itself (no dampening); on a zero buffer the
    // coefficients (0, 1) give exactly that without a per-element branch.
    const keep = firstStep ? 0 : momentum;
    const add = firstStep ? 1 : 1 - dampening;
    for (let i = 0; i < n; i++) {
      const d = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
      buf[i] = keep * buf[i]! + add * d;
      const b = buf[i]!;
      p[i] = p[i]! - lr * (nesterov ? d + momentum * b : b);
    }
  },

  adamUpdate(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, decoupled, biasCorrection1, biasCorrection2) {
    const stepSize = lr / biasCorrection1;
    const bc2Sqrt = Math.sqrt(biasCorrection2);
    const l2 = decoupled ? 0 : wd;
    const decay = decoupled ? 1 - lr * wd : 1;
    const n = p.length;
    for (let i = 0; i < n; i++) {
      if (decay !== 1) p[i] = p[i]! * decay;
      const gi = l2 !== 0 ? g[i]! + l2 * p[i]! : g[i]!;
      m[i] = m[i]! * beta1 + (1 - beta1) * gi;
      v[i] = v[i]! * beta2 + (1 - beta2) * gi * gi;
      let vi = v[i]!;
      if (vmax !== null) {
        // torch.maximum propagates NaN
        if (vi > vmax[i]! || vi !== vi) vmax[i] = vi;
        vi = vmax[i]!;
      }
      const denom = Math.sqrt(vi) / bc2Sqrt + eps;
      p[i] = p[i]! + -stepSize * (m[i]! / denom);
    }
  },

  rmspropUpdate(p, g, sq, avgG, buf, lr, alpha, eps, wd, momentum) {
    const n = p.length;
    for (let i = 0; i < n; i++) {
      const gi = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
      sq[i] = sq[i]! * alpha + (1 - alpha) * gi * gi;
      let avg: number;
      if (avgG !== null) {
        avgG[i] = avgG[i]! * alpha + (1 - alpha) * gi;
        const a = avgG[i]!;
        avg = Math.sqrt(sq[i]! - a * a) + eps;
      } else avg = Math.sqrt(sq[i]!) + eps;
      if (buf !== null) {
        buf[i] = buf[i]! * momentum + gi / avg;
        p[i] = p[i]! - lr * buf[i]!;
      } else p[i] = p[i]! + -lr * (gi / avg);
    }
  },

  adagradUpdate(p, g, sum, lr, lrDecay, wd, eps, step) {
    const clr = lr / (1 + (step - 1) * lrDecay);
    const n = p.length;
    for (let i = 0; i < n; i++) {
      const gi = wd !== 0 ? g[i]! + wd * p[i]! : g[i]!;
      sum[i] = sum[i]! + gi * gi;
      p[i] = p[i]! + -clr * (gi / (Math.sqrt(sum[i]!) + eps));
    }
  },
};
