/**
 * The teacher-forced time loop of a GRU decoder with additive (Bahdanau) attention, as one
 * recorded op. Per step i, from the previous state s_{i-1} (s_0 = h0):
 *
 *   e_ij = v . tanh(W s_{i-1} + k_j)          k_j = U h_j, projected once per source by the caller
 *   a_i  = softmax_j(e_ij) over the attended positions,  c_i = sum_j a_ij h_j   (h_j: `values`)
 *   s_i  = GRU([x_i; c_i], s_{i-1})            W_ih columns [x; c], PyTorch's gates r, z, n
 *
 * and the output is [s_i; c_i] for every step, (T, B, H + A).
 *
 * Why one op: written with per-step ops, every step's backward allocates (B, S, H_a) and (B, S, A)
 * gradients for the keys and the values, and its own gradients of W, W_ih and W_hh, which the engine
 * then sums. Here the backward walks the steps itself: the keys' gradient accumulates in one buffer,
 * the values' gradient is one batched GEMM over all steps at the end (sum_i a_i^T dc_i), and every
 * weight gradient is one GEMM over the concatenated steps, e.g. dW_ih = dXp^T [x | c] with
 * (T*B) rows. Only what the recurrence forces stays per step: the products that carry the
 * gradient back to s_{i-1} and c_i. The scores are one fused kernel each way (K.additiveScores /
 * K.additiveScoresGrad, shared with attention/additive.ts): tanh(W s + k) (B, S, H_a) is never
 * stored, not even per step, and the backward's pass that recomputes it also adds the step's share
 * into the keys' and v's gradients. So the op keeps O(T B (S + H + A)) beside its inputs, not O(T B S H_a).
 *
 * Under createGraph the backward is the same loop written with ops (additiveGruDecoderComposite),
 * recorded, so higher-order gradients work.
 */
import { K } from "../backend/index.js";
import { BINARY_OPS, opCode, REDUCE_OPS, type FloatArray } from "../backend/kernels.js";
import { isGradEnabled, needsGradAny, noGrad, record, runBackward } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { allocate } from "../core/dtype.js";
import { DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { packLayout } from "../core/shape.js";
import { add, mul, tanh } from "./elementwise.js";
import { matmul } from "./linalg.js";
import { softmax } from "./nn.js";
import { sum } from "./reduce.js";
import { gruCell } from "./rnn.js";
import { concat, narrow, squeeze, stack, transpose, unsqueeze } from "./shape.js";
import { assertTensor } from "./util.js";

const OP = "additiveGruDecoder";
const B_ADD = opCode(BINARY_OPS, "add");
const R_SUM = opCode(REDUCE_OPS, "sum");

export interface AdditiveGruDecoderWeights {
  /** W (H_a, H): projects the previous state into the attention's tanh layer. */
  queryWeight: Tensor;
  /** v (H_a): the score vector. */
  scoreVector: Tensor;
  /** W_ih (3H, E + A): columns for x_i, then for c_i. */
  weightIh: Tensor;
  biasIh: Tensor | null;
  /** W_hh (3H, H). */
  weightHh: Tensor;
  biasHh: Tensor | null;
}

interface Dims {
  T: number;
  B: number;
  E: number;
  H: number;
  S: number;
  A: number;
  Ha: number;
  G: number;
}

function floatTensor(x: unknown, what: string, ndim: number): Tensor {
  const t = assertTensor(OP, x, what);
  if (t.dtype !== "float32" && t.dtype !== "float64")
    throw new DTypeError(`${OP}: ${what} must be float32 or float64, got ${t.dtype} tensor of shape ${fmtShape(t.shape)}`);
  if (t.ndim !== ndim) throw new ShapeError(`${OP}: ${what} must be ${ndim}-D, got shape ${fmtShape(t.shape)}`);
  return t;
}

function check(x: Tensor, h0: Tensor, values: Tensor, keys: Tensor, mask: Tensor | null, w: AdditiveGruDecoderWeights): Dims {
  floatTensor(x, "input", 3);
  floatTensor(h0, "initial state", 2);
  floatTensor(values, "values", 3);
  floatTensor(keys, "keys", 3);
  floatTensor(w.queryWeight, "query weight", 2);
  floatTensor(w.scoreVector, "score vector", 1);
  floatTensor(w.weightIh, "input weight", 2);
  floatTensor(w.weightHh, "recurrent weight", 2);
  const [T, B, E] = x.shape as [number, number, number];
  const H = h0.shape[1]!;
  const [, S, A] = values.shape as [number, number, number];
  const Ha = keys.shape[2]!;
  const G = 3 * H;
  const want = (t: Tensor, what: string, shape: number[]): void => {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new ShapeError(`${OP}: ${what} ${fmtShape(t.shape)} must be ${fmtShape(shape)} for input ${fmtShape(x.shape)}`);
  };
  want(h0, "initial state", [B, H]);
  if (values.shape[0] !== B) throw new ShapeError(`${OP}: values ${fmtShape(values.shape)} must be (B = ${B}, S, A)`);
  want(keys, "keys", [B, S, Ha]);
  want(w.queryWeight, "query weight", [Ha, H]);
  want(w.scoreVector, "score vector", [Ha]);
  want(w.weightIh, "input weight", [G, E + A]);
  want(w.weightHh, "recurrent weight", [G, H]);
  if (w.biasIh) want(floatTensor(w.biasIh, "input bias", 1), "input bias", [G]);
  if (w.biasHh) want(floatTensor(w.biasHh, "recurrent bias", 1), "recurrent bias", [G]);
  if (mask !== null) {
    assertTensor(OP, mask, "mask");
    if (mask.dtype !== "bool") throw new DTypeError(`${OP}: mask must be bool (true = attend), got ${mask.dtype}`);
    want(mask, "mask", [B, S]);
  }
  for (const [t, what] of [
    [h0, "initial state"],
    [values, "values"],
    [keys, "keys"],
    [w.queryWeight, "query weight"],
    [w.scoreVector, "score vector"],
    [w.weightIh, "input weight"],
    [w.weightHh, "recurrent weight"],
    [w.biasIh, "input bias"],
    [w.biasHh, "recurrent bias"],
  ] as const) {
    if (t && t.dtype !== x.dtype) throw new DTypeError(`${OP}: ${what} dtype ${t.dtype} differs from the input's ${x.dtype}`);
  }
  return { T, B, E, H, S, A, Ha, G };
}

/** out (m, n) = opA(a) (m, k) @ opB(b) (k, n); zeros when k = 0. */
function gemm(a: FloatArray, b: FloatArray, out: FloatArray, m: number, n: number, k: number, transA: boolean, transB: boolean): void {
  if (m === 0 || n === 0) return;
  if (k === 0) out.fill(0);
  else K.matmul(a, b, out, 1, m, n, k, transA, transB, 0, 0);
}

/** dst += src, both contiguous of the same length. */
function addInPlace(dst: FloatArray, src: FloatArray): void {
  if (dst.length > 0) K.binary(B_ADD, dst, src, dst, new Int32Array([1, dst.length, 1, 1]));
}

/** Contiguous copy of columns [from, from + count) of a (rows, cols) matrix, transposed to (count, rows) when asked. */
function columns(w: Tensor, from: number, count: number, transposed: boolean): FloatArray {
  return noGrad(() => {
    const block = narrow(w, 1, from, count);
    return (transposed ? transpose(block, 0, 1) : block).data as FloatArray;
  });
}

/**
 * Runs the decoder over `x` (T, B, E) from `h0` (B, H), attending over `values` (B, S, A) with the
 * projected `keys` (B, S, H_a) where `mask` (B, S; bool, true = attend; null: everywhere). Returns
 * (T, B, H + A): the state s_i then the context c_i of every step. A row with no attended position
 * gets a zero context. See the file comment for the equations.
 */
export function additiveGruDecoder(
  x: Tensor,
  h0: Tensor,
  values: Tensor,
  keys: Tensor,
  mask: Tensor | null,
  w: AdditiveGruDecoderWeights,
): Tensor {
  const d = check(x, h0, values, keys, mask, w);
  const { T, B, E, H, S, A, Ha, G } = d;
  const dtype = x.dtype as "float32" | "float64";
  const buf = (n: number): FloatArray => allocate(dtype, n) as FloatArray;
  const rows = T * B;
  const vd = values.data as FloatArray;
  const kd = keys.data as FloatArray;
  const v = w.scoreVector.data as FloatArray;
  // contiguous operands of the per-step products (copied once per call)
  const wqT = columns(w.queryWeight, 0, H, true); // (H, Ha)
  const wcT = columns(w.weightIh, E, A, true); // (A, G)
  const whhT = columns(w.weightHh, 0, H, true); // (H, G)
  const we = columns(w.weightIh, 0, E, false); // (G, E)
  const rowBias = packLayout(
    [B, G],
    [
      [G, 1],
      [0, 1],
    ],
  );
  // the inputs' share of every step's input projection, x W_e^T + b_ih: one GEMM (T*B, G)
  const xpAll = buf(rows * G);
  gemm(x.data as FloatArray, we, xpAll, rows, G, E, false, true);
  if (w.biasIh && xpAll.length > 0)
    K.binary(
      B_ADD,
      xpAll,
      w.biasIh.data,
      xpAll,
      packLayout(
        [rows, G],
        [
          [G, 1],
          [0, 1],
        ],
      ),
    );
  // 0 where attended, -Infinity elsewhere: added to the scores before the softmax
  let maskBias: FloatArray | null = null;
  if (mask !== null) {
    maskBias = buf(B * S);
    const md = mask.data;
    for (let i = 0; i < B * S; i++) if (md[i] === 0) maskBias[i] = -Infinity;
  }
  // states s_0..s_T, (T + 1, B, H): slice i is step i's previous state
  const states = buf((T + 1) * B * H);
  states.set(h0.data);
  const contexts = buf(rows * A);
  const queries = buf(rows * Ha); // W s_{i-1} per step
  const weights = buf(rows * S);
  const saved = buf(rows * 4 * H); // gruCell's saved gates per step
  const scores = buf(B * S);
  const xp = buf(B * G);
  const hp = buf(B * G);
  for (let t = 0; t < T; t++) {
    const h = states.subarray(t * B * H, (t + 1) * B * H);
    const wq = queries.subarray(t * B * Ha, (t + 1) * B * Ha);
    const a = weights.subarray(t * B * S, (t + 1) * B * S);
    const c = contexts.subarray(t * B * A, (t + 1) * B * A);
    gemm(h, wqT, wq, B, Ha, H, false, false);
    if (S > 0) {
      K.additiveScores(wq, kd, v, scores, B, 1, S, Ha);
      if (maskBias) addInPlace(scores, maskBias);
      K.softmax(scores, a, B, S, false);
      K.matmul(a, vd, c, B, 1, A, S, false, false, S, S * A);
    }
    gemm(c, wcT, xp, B, G, A, false, false);
    addInPlace(xp, xpAll.subarray(t * B * G, (t + 1) * B * G));
    gemm(h, whhT, hp, B, G, H, false, false);
    if (w.biasHh && hp.length > 0) K.binary(B_ADD, hp, w.biasHh.data, hp, rowBias);
    if (B * H > 0)
      K.gruCell(xp, hp, h, states.subarray((t + 1) * B * H, (t + 2) * B * H), saved.subarray(t * B * 4 * H, (t + 1) * B * 4 * H), B, H);
  }
  const out = Tensor.empty([T, B, H + A], dtype);
  const od = out.data as FloatArray;
  for (let r = 0; r < rows; r++) {
    od.set(states.subarray((B + r) * H, (B + r + 1) * H), r * (H + A));
    od.set(contexts.subarray(r * A, (r + 1) * A), r * (H + A) + H);
  }

  const inputs = [x, h0, values, keys, w.queryWeight, w.scoreVector, w.weightIh, w.weightHh, ...(w.biasIh ? [w.biasIh] : [])];
  if (w.biasHh) inputs.push(w.biasHh);
  if (!needsGradAny(inputs)) return out;
  return record(OP, out, inputs, (g) => {
    if (isGradEnabled()) return runBackward(additiveGruDecoderComposite(x, h0, values, keys, mask, w), g, { createGraph: true }, inputs)!;
    const gd = g.data as FloatArray;
    const wc = columns(w.weightIh, E, A, false); // (G, A)
    const whh = w.weightHh.data as FloatArray;
    const wqd = w.queryWeight.data as FloatArray;
    const dXp = buf(rows * G);
    const dHp = buf(rows * G);
    const dQueries = buf(rows * Ha);
    const dContexts = buf(rows * A);
    const dKeys = Tensor.empty(keys.shape, dtype);
    const dKd = dKeys.data as FloatArray;
    const dv = Tensor.empty([Ha], dtype);
    const dvd = dv.data as FloatArray;
    const carry = buf(B * H); // gradient of s_t from the steps after t
    const dh = buf(B * H);
    const viaW = buf(B * H);
    const dA = buf(B * S);
    const dScores = buf(B * S);
    // a step's rows of g (row stride H + A) added to a contiguous (B, H) or (B, A) operand
    const stateGrad = packLayout(
      [B, H],
      [
        [H, 1],
        [H + A, 1],
      ],
    );
    const contextGrad = packLayout(
      [B, A],
      [
        [A, 1],
        [H + A, 1],
      ],
    );
    for (let t = T - 1; t >= 0; t--) {
      const h = states.subarray(t * B * H, (t + 1) * B * H);
      const dXpT = dXp.subarray(t * B * G, (t + 1) * B * G);
      const dHpT = dHp.subarray(t * B * G, (t + 1) * B * G);
      const dc = dContexts.subarray(t * B * A, (t + 1) * B * A);
      // total gradient of s_t: the output's and the later steps'
      if (B * H > 0) K.binary(B_ADD, carry, gd.subarray(t * B * (H + A)), dh, stateGrad);
      if (B * H > 0) K.gruCellGrad(saved.subarray(t * B * 4 * H, (t + 1) * B * 4 * H), h, dh, dXpT, dHpT, carry, B, H);
      gemm(dHpT, whh, viaW, B, H, G, false, false);
      addInPlace(carry, viaW);
      // dc_t = the output's + dXp_t W_c
      gemm(dXpT, wc, dc, B, A, G, false, false);
      if (B * A > 0) K.binary(B_ADD, dc, gd.subarray(t * B * (H + A) + H), dc, contextGrad);
      if (S === 0 || Ha === 0) continue;
      // through the attention: c = a V, a = softmax(e), e = v . tanh(W s + k); one pass gives
      // W s's gradient and adds this step's into the keys' and v's
      const a = weights.subarray(t * B * S, (t + 1) * B * S);
      const dq = dQueries.subarray(t * B * Ha, (t + 1) * B * Ha);
      K.matmul(dc, vd, dA, B, 1, S, A, false, true, A, S * A);
      K.softmaxGrad(a, dA, dScores, B, S, false);
      K.additiveScoresGrad(queries.subarray(t * B * Ha, (t + 1) * B * Ha), kd, v, dScores, dq, dKd, dvd, B, 1, S, Ha);
      gemm(dq, wqd, viaW, B, H, Ha, false, false);
      addInPlace(carry, viaW);
    }
    const grads: (Tensor | null)[] = [];
    const need = (t: Tensor | null): boolean => t !== null && t.requiresGrad;
    // x: dXp W_e
    if (need(x)) {
      const dx = Tensor.empty(x.shape, dtype);
      gemm(dXp, we, dx.data as FloatArray, rows, E, G, false, false);
      grads.push(dx);
    } else grads.push(null);
    grads.push(need(h0) ? new Tensor(carry, h0.shape, dtype) : null);
    // values: dV_b = sum_t a_tb^T dc_tb, one batched GEMM over (B, T, S)^T (B, T, A)
    if (need(values)) {
      const dValues = Tensor.empty(values.shape, dtype);
      if (S > 0 && A > 0 && B > 0) {
        if (T === 0) dValues.data.fill(0);
        else {
          const aBT = buf(rows * S);
          const dcBT = buf(rows * A);
          for (let t = 0; t < T; t++)
            for (let b = 0; b < B; b++) {
              aBT.set(weights.subarray((t * B + b) * S, (t * B + b + 1) * S), (b * T + t) * S);
              dcBT.set(dContexts.subarray((t * B + b) * A, (t * B + b + 1) * A), (b * T + t) * A);
            }
          K.matmul(aBT, dcBT, dValues.data as FloatArray, B, S, A, T, true, false, T * S, T * A);
        }
      }
      grads.push(dValues);
    } else grads.push(null);
    grads.push(need(keys) ? dKeys : null);
    // weights: one GEMM each over the T*B rows of every step
    const prev = states.subarray(0, rows * H); // s_{t-1} of each step
    const weightGrad = (dOut: FloatArray, n: number, inp: FloatArray, k: number): Tensor => {
      const dW = Tensor.empty([n, k], dtype);
      gemm(dOut, inp, dW.data as FloatArray, n, k, rows, true, false);
      return dW;
    };
    grads.push(need(w.queryWeight) ? weightGrad(dQueries, Ha, prev, H) : null);
    grads.push(need(w.scoreVector) ? dv : null);
    if (need(w.weightIh)) {
      const xc = buf(rows * (E + A));
      const xd = x.data as FloatArray;
      for (let r = 0; r < rows; r++) {
        xc.set(xd.subarray(r * E, (r + 1) * E), r * (E + A));
        xc.set(contexts.subarray(r * A, (r + 1) * A), r * (E + A) + E);
      }
      grads.push(weightGrad(dXp, G, xc, E + A));
    } else grads.push(null);
    grads.push(need(w.weightHh) ? weightGrad(dHp, G, prev, H) : null);
    const biasGrad = (dOut: FloatArray): Tensor => {
      const db = Tensor.empty([G], dtype);
      if (rows === 0) db.data.fill(0);
      else K.reduce(R_SUM, dOut, db.data, 1, rows, G);
      return db;
    };
    if (w.biasIh) grads.push(need(w.biasIh) ? biasGrad(dXp) : null);
    if (w.biasHh) grads.push(need(w.biasHh) ? biasGrad(dHp) : null);
    return grads;
  });
}

/**
 * additiveGruDecoder written with ops, step by step: the definition the fused op implements, and
 * its backward under createGraph.
 */
export function additiveGruDecoderComposite(
  x: Tensor,
  h0: Tensor,
  values: Tensor,
  keys: Tensor,
  mask: Tensor | null,
  w: AdditiveGruDecoderWeights,
): Tensor {
  const { T, E, H, A } = check(x, h0, values, keys, mask, w);
  const we = narrow(w.weightIh, 1, 0, E);
  const wc = narrow(w.weightIh, 1, E, A);
  const affine = (inp: Tensor, weight: Tensor, bias: Tensor | null): Tensor => {
    const y = matmul(inp, weight, { transB: true });
    return bias ? add(y, bias) : y;
  };
  let h = h0;
  const outs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const wq = matmul(h, w.queryWeight, { transB: true }); // (B, Ha)
    const e = sum(mul(tanh(add(unsqueeze(wq, 1), keys)), w.scoreVector), -1); // (B, S)
    const a = softmax(e, -1, mask === null ? {} : { mask });
    const c = squeeze(matmul(unsqueeze(a, 1), values), 1); // (B, A)
    const xt = squeeze(narrow(x, 0, t, 1), 0);
    const xp = add(affine(xt, we, w.biasIh), matmul(c, wc, { transB: true }));
    h = gruCell(xp, affine(h, w.weightHh, w.biasHh), h);
    outs.push(concat([h, c], -1));
  }
  return T === 0 ? Tensor.empty([0, ...h0.shape.slice(0, 1), H + A], x.dtype) : stack(outs, 0);
}
