/**
 * Addressing ops shared by the memory-augmented networks (NTM, DNC). Every op is batched: the
 * leading axis is the batch B, heads sit on axis 1 and memory slots on the last axis, so one call
 * addresses every head of every example.
 *
 *   contentAddressing   w = softmax_i(beta * cos(k, M_i))           NTM eq. 5-6, DNC C(M, k, beta)
 *   interpolate         w = g w_content + (1 - g) w_prev              NTM eq. 7
 *   circularShift       w~(i) = sum_d w(i - d mod N) s(d)             NTM eq. 8
 *   sharpen             w(i) = w~(i)^gamma / sum_j w~(j)^gamma        NTM eq. 9
 *   eraseAndAdd         M' = M o prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T
 *   updateUsage, allocationWeighting, updateLinkMatrix, updatePrecedence, directionalWeights (DNC)
 *
 * Content addressing is the softmax attention of src/attention (softmax over query . key scores)
 * with cosine scores and a per-head temperature beta; the key-side normalisation is folded into
 * the (B, H, N) scores so the memory (B, N, W) is never divided through at every step.
 */
import { isGradEnabled, needsGrad, needsGradAny, record, runBackward } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { K } from "../backend/index.js";
import { ntmAddressingSavedSize, type FloatArray, type NtmAddressingArrays } from "../backend/kernels.js";
import { allocate } from "../core/dtype.js";
import { DTypeError, EngramError, fmtShape, ShapeError } from "../core/errors.js";
import { full } from "../ops/creation.js";
import { add, log, mul, neg, rsqrt, square, sub } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { softmax } from "../ops/nn.js";
import { prod, sum } from "../ops/reduce.js";
import { concat, indexSelect, reshape, unsqueeze } from "../ops/shape.js";
import { assertNumber, assertTensor } from "../ops/util.js";

/** Added to squared norms before the square root, so an all-zero key or memory row gives cosine 0, not NaN. */
export const COSINE_EPS = 1e-6;
/** Added to weights before the log of sharpening, so a zero weight stays finite (and its gradient too). */
export const SHARPEN_EPS = 1e-12;
/** DeepMind's floor on usage before allocation: keeps the cumulative products away from exact zeros. */
export const USAGE_EPS = 1e-6;

type Float = "float32" | "float64";

/** Checks a float tensor of the given rank; returns its dtype. */
function floatOf(op: string, x: unknown, what: string, ndim: number): Float {
  const t = assertTensor(op, x, what);
  if (t.dtype !== "float32" && t.dtype !== "float64")
    throw new DTypeError(`${op}: ${what} must be float32 or float64, got ${t.dtype} tensor of shape ${fmtShape(t.shape)}`);
  if (t.ndim !== ndim) throw new ShapeError(`${op}: ${what} must be ${ndim}-D, got shape ${fmtShape(t.shape)}`);
  return t.dtype;
}

/** Checks that every tensor shares the first one's dtype. */
function sameDType(op: string, named: readonly (readonly [string, Tensor])[]): void {
  const [name0, t0] = named[0]!;
  for (const [name, t] of named) {
    if (t.dtype !== t0.dtype) throw new DTypeError(`${op}: ${name} dtype ${t.dtype} differs from ${name0} dtype ${t0.dtype}`);
  }
}

function expectShape(op: string, what: string, t: Tensor, want: readonly number[], context: string): void {
  if (t.ndim !== want.length || t.shape.some((d, i) => d !== want[i]))
    throw new ShapeError(`${op}: ${what} ${fmtShape(t.shape)} must be ${fmtShape(want)} ${context}`);
}

export interface ContentAddressingOptions {
  /** Added to the squared norms of keys and memory rows (default 1e-6). */
  eps?: number;
}

/**
 * keys (B, H, W), memory (B, N, W), strength (B, H) -> weights (B, H, N):
 *   w[b, h, i] = softmax_i(strength[b, h] * k . M_i / (sqrt(|k|^2 + eps) sqrt(|M_i|^2 + eps)))
 * Finite (and uniform) on an all-zero memory. Strengths are used as given: NTM passes softplus,
 * DNC 1 + softplus of the controller's output.
 */
export function contentAddressing(keys: Tensor, memory: Tensor, strength: Tensor, opts: ContentAddressingOptions = {}): Tensor {
  const op = "contentAddressing";
  floatOf(op, keys, "keys", 3);
  floatOf(op, memory, "memory", 3);
  floatOf(op, strength, "strength", 2);
  sameDType(op, [
    ["keys", keys],
    ["memory", memory],
    ["strength", strength],
  ]);
  const [batch, heads, width] = keys.shape as [number, number, number];
  expectShape(op, "memory", memory, [batch, memory.shape[1]!, width], `(batch, slots, width) for keys ${fmtShape(keys.shape)}`);
  expectShape(op, "strength", strength, [batch, heads], `(batch, heads) for keys ${fmtShape(keys.shape)}`);
  const eps = assertNumber(op, opts.eps ?? COSINE_EPS, "eps", { min: 0, finite: true });
  const dots = matmul(keys, memory, { transB: true }); // (B, H, N)
  const keyScale = mul(rsqrt(add(sum(square(keys), -1, { keepDim: true }), eps)), unsqueeze(strength, -1)); // (B, H, 1)
  const rowScale = unsqueeze(rsqrt(add(sum(square(memory), -1), eps)), 1); // (B, 1, N)
  return softmax(mul(mul(dots, keyScale), rowScale), -1);
}

/** content, previous (B, H, N), gate (B, H) in [0, 1] -> g content + (1 - g) previous. */
export function interpolate(content: Tensor, previous: Tensor, gate: Tensor): Tensor {
  const op = "interpolate";
  floatOf(op, content, "content weights", 3);
  floatOf(op, previous, "previous weights", 3);
  floatOf(op, gate, "gate", 2);
  sameDType(op, [
    ["content weights", content],
    ["previous weights", previous],
    ["gate", gate],
  ]);
  expectShape(op, "previous weights", previous, content.shape, "(the content weights' shape)");
  expectShape(op, "gate", gate, content.shape.slice(0, 2), `(batch, heads) for weights ${fmtShape(content.shape)}`);
  return add(previous, mul(unsqueeze(gate, -1), sub(content, previous)));
}

/** Gather index for circularShift: entry i * S + k is slot (i - (k - half)) mod N. Cached per (N, S). */
const shiftIndexCache = new Map<string, Tensor>();
function shiftIndex(slots: number, shifts: number): Tensor {
  const key = `${slots},${shifts}`;
  let idx = shiftIndexCache.get(key);
  if (idx === undefined) {
    const half = (shifts - 1) / 2;
    const data = new Int32Array(slots * shifts);
    for (let i = 0; i < slots; i++) {
      for (let k = 0; k < shifts; k++) data[i * shifts + k] = (((i - (k - half)) % slots) + slots) % slots;
    }
    idx = new Tensor(data, [slots * shifts], "int32");
    shiftIndexCache.set(key, idx);
  }
  return idx;
}

/**
 * weights (B, H, N), shift (B, H, S) with S = 2s + 1 odd: the distribution over rotations
 * -s..s (entry k is rotation k - s; +1 moves each weight to the next slot, wrapping around):
 *   out(i) = sum_k weights((i - (k - s)) mod N) shift(k)
 * One gather of the S rotated copies (B, H, N, S) and one batched matmul with the shift vector;
 * rotations larger than N wrap around more than once.
 */
export function circularShift(weights: Tensor, shift: Tensor): Tensor {
  const op = "circularShift";
  floatOf(op, weights, "weights", 3);
  floatOf(op, shift, "shift", 3);
  sameDType(op, [
    ["weights", weights],
    ["shift", shift],
  ]);
  const [batch, heads, slots] = weights.shape as [number, number, number];
  const shifts = shift.shape[2]!;
  if (shifts % 2 !== 1) throw new ShapeError(`${op}: shift ${fmtShape(shift.shape)} must have an odd size S = 2s + 1 (rotations -s..s)`);
  expectShape(op, "shift", shift, [batch, heads, shifts], `(batch, heads, S) for weights ${fmtShape(weights.shape)}`);
  if (slots === 0) return weights;
  const rotated = reshape(indexSelect(weights, 2, shiftIndex(slots, shifts)), [batch, heads, slots, shifts]);
  return reshape(matmul(rotated, unsqueeze(shift, -1)), [batch, heads, slots]);
}

export interface SharpenOptions {
  /** Added to the weights before the power (default 1e-12), so zero weights stay finite. */
  eps?: number;
}

/**
 * weights (B, H, N) >= 0, gamma (B, H) >= 1 -> (w + eps)^gamma / sum_j (w_j + eps)^gamma, computed
 * as softmax(gamma * log(w + eps)): the normaliser never divides by zero and large gamma cannot
 * overflow.
 */
export function sharpen(weights: Tensor, gamma: Tensor, opts: SharpenOptions = {}): Tensor {
  const op = "sharpen";
  floatOf(op, weights, "weights", 3);
  floatOf(op, gamma, "gamma", 2);
  sameDType(op, [
    ["weights", weights],
    ["gamma", gamma],
  ]);
  expectShape(op, "gamma", gamma, weights.shape.slice(0, 2), `(batch, heads) for weights ${fmtShape(weights.shape)}`);
  const eps = assertNumber(op, opts.eps ?? SHARPEN_EPS, "eps", { min: 0, finite: true });
  return softmax(mul(log(add(weights, eps)), unsqueeze(gamma, -1)), -1);
}

/**
 * memory (B, N, W), weights (B, Hw, N), erase (B, Hw, W) in [0, 1], add (B, Hw, W) ->
 *   M o prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T
 * (NTM eq. 3-4; with several heads the erasures multiply and the adds sum, so head order does not
 * matter). One fused loop forward and one backward: no outer-product or keep-factor temporaries of
 * the memory's size. Higher-order gradients (createGraph) go through the composition of ops.
 */
export function eraseAndAdd(memory: Tensor, weights: Tensor, erase: Tensor, addVectors: Tensor): Tensor {
  const op = "eraseAndAdd";
  floatOf(op, memory, "memory", 3);
  floatOf(op, weights, "weights", 3);
  floatOf(op, erase, "erase", 3);
  floatOf(op, addVectors, "add", 3);
  sameDType(op, [
    ["memory", memory],
    ["weights", weights],
    ["erase", erase],
    ["add", addVectors],
  ]);
  const [batch, slots, width] = memory.shape as [number, number, number];
  const heads = weights.shape[1]!;
  const ctx = `for memory ${fmtShape(memory.shape)}`;
  expectShape(op, "weights", weights, [batch, heads, slots], `(batch, heads, slots) ${ctx}`);
  expectShape(op, "erase", erase, [batch, heads, width], `(batch, heads, width) ${ctx}`);
  expectShape(op, "add", addVectors, [batch, heads, width], `(batch, heads, width) ${ctx}`);
  const out = Tensor.empty(memory.shape, memory.dtype);
  const inputs = [memory, weights, erase, addVectors];
  const d = inputs.map((t) => t.data as FloatArray) as [FloatArray, FloatArray, FloatArray, FloatArray];
  K.memoryWrite(...d, out.data as FloatArray, batch, heads, slots, width);
  if (needsGradAny(inputs)) {
    record(op, out, inputs, (g) => {
      if (isGradEnabled()) return compositeGrad(() => eraseAndAddComposite(memory, weights, erase, addVectors), inputs, g);
      const grads = inputs.map((t) => Tensor.empty(t.shape, t.dtype));
      const dd = grads.map((t) => t.data as FloatArray) as [FloatArray, FloatArray, FloatArray, FloatArray];
      K.memoryWriteGrad(...d, g.data as FloatArray, ...dd, batch, heads, slots, width);
      return grads.map((t, i) => (inputs[i]!.requiresGrad ? t : null));
    });
  }
  return out;
}

/** eraseAndAdd written with ops: the graph a recorded backward (createGraph) differentiates. */
function eraseAndAddComposite(memory: Tensor, weights: Tensor, erase: Tensor, addVectors: Tensor): Tensor {
  const [batch, slots, width] = memory.shape as [number, number, number];
  let keep: Tensor;
  if (weights.shape[1] === 1) {
    // 1 - w e^T as one matmul of [w; 1]^T and [-e; 1] (2 rows each)
    const ones = (n: number): Tensor => full([batch, 1, n], 1, { dtype: memory.dtype });
    keep = matmul(concat([weights, ones(slots)], 1), concat([neg(erase), ones(width)], 1), { transA: true });
  } else {
    keep = prod(sub(1, mul(unsqueeze(weights, -1), unsqueeze(erase, 2))), 1); // (B, Hw, N, W) -> (B, N, W)
  }
  return add(mul(memory, keep), matmul(weights, addVectors, { transA: true }));
}

// ---------------------------------------------------------------- DNC dynamic memory allocation

/**
 * DNC usage update (retention):
 *   psi = prod_r (1 - f_r w^r_prev),  u = (u_prev + w^w_prev - u_prev o w^w_prev) o psi
 * usage, writeWeights (B, N) (the previous step's write weighting), freeGates (B, R) in [0, 1],
 * readWeights (B, R, N) (the previous step's read weightings) -> (B, N), in [0, 1].
 */
export function updateUsage(usage: Tensor, writeWeights: Tensor, freeGates: Tensor, readWeights: Tensor): Tensor {
  const op = "updateUsage";
  floatOf(op, usage, "usage", 2);
  floatOf(op, writeWeights, "write weights", 2);
  floatOf(op, freeGates, "free gates", 2);
  floatOf(op, readWeights, "read weights", 3);
  sameDType(op, [
    ["usage", usage],
    ["write weights", writeWeights],
    ["free gates", freeGates],
    ["read weights", readWeights],
  ]);
  const [batch, slots] = usage.shape as [number, number];
  const reads = freeGates.shape[1]!;
  expectShape(op, "write weights", writeWeights, usage.shape, "(the usage's shape)");
  expectShape(op, "free gates", freeGates, [batch, reads], `(batch, read heads) for usage ${fmtShape(usage.shape)}`);
  expectShape(op, "read weights", readWeights, [batch, reads, slots], `(batch, read heads, slots) for usage ${fmtShape(usage.shape)}`);
  const retention = prod(sub(1, mul(unsqueeze(freeGates, -1), readWeights)), 1); // (B, N)
  return mul(add(usage, mul(writeWeights, sub(1, usage))), retention);
}

/**
 * DNC allocation weighting: with phi the slots sorted by ascending usage (ties by slot index),
 *   a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i],   u = eps + (1 - eps) usage
 * usage (B, N) in [0, 1] -> (B, N), summing to at most 1. A custom op: the sort runs in the forward
 * pass and its permutation is a constant of the backward (as in DeepMind's implementation), whose
 * gradient is computed in O(N) per row without dividing by usages. First-order gradients only.
 */
export function allocationWeighting(usage: Tensor, opts: { eps?: number } = {}): Tensor {
  const op = "allocationWeighting";
  floatOf(op, usage, "usage", 2);
  const eps = assertNumber(op, opts.eps ?? USAGE_EPS, "eps", { min: 0, max: 1 });
  const [batch, slots] = usage.shape as [number, number];
  const src = usage.data as FloatArray;
  const out = Tensor.empty(usage.shape, usage.dtype);
  const dst = out.data as FloatArray;
  const order = new Int32Array(batch * slots); // per row: slots by ascending usage
  const floored = new Float64Array(slots);
  const rowOrder = Array.from({ length: slots }, (_, i) => i);
  for (let b = 0; b < batch; b++) {
    const base = b * slots;
    for (let i = 0; i < slots; i++) floored[i] = eps + (1 - eps) * src[base + i]!;
    for (let i = 0; i < slots; i++) rowOrder[i] = i;
    rowOrder.sort((x, y) => floored[x]! - floored[y]! || x - y);
    let running = 1;
    for (let j = 0; j < slots; j++) {
      const s = rowOrder[j]!;
      order[base + j] = s;
      dst[base + s] = (1 - floored[s]!) * running;
      running *= floored[s]!;
    }
  }
  if (needsGrad(usage)) {
    record(op, out, [usage], (g) => {
      if (isGradEnabled()) throw new EngramError(`${op}: higher-order gradients (createGraph) are not supported`);
      const gd = g.data as FloatArray;
      const dUsage = Tensor.empty(usage.shape, usage.dtype);
      const du = dUsage.data as FloatArray;
      const prefix = new Float64Array(slots); // prod of the usages sorted before position j
      for (let b = 0; b < batch; b++) {
        const base = b * slots;
        let running = 1;
        for (let j = 0; j < slots; j++) {
          prefix[j] = running;
          running *= eps + (1 - eps) * src[base + order[base + j]!]!;
        }
        // a_j = (1 - u_j) P_j with P_j = prod_{i<j} u_i. da_j/du_j = -P_j; for k < j,
        // da_j/du_k = (1 - u_j) prod_{i<j, i != k} u_i, so dL/du_k = P_k (S_k - g_k) with
        // S_k = sum_{j>k} g_j (1 - u_j) prod_{k<i<j} u_i, built from the back: S_k = c_{k+1} + u_{k+1} S_{k+1}
        let tail = 0;
        for (let j = slots - 1; j >= 0; j--) {
          const s = order[base + j]!;
          const u = eps + (1 - eps) * src[base + s]!;
          du[base + s] = (1 - eps) * prefix[j]! * (tail - gd[base + s]!);
          tail = gd[base + s]! * (1 - u) + u * tail;
        }
      }
      return [dUsage];
    });
  }
  return out;
}

/** Off-diagonal ones (N, N), cached per size and dtype: the link matrix keeps a zero diagonal. */
const offDiagonalCache = new Map<string, Tensor>();
function offDiagonal(slots: number, dtype: Float): Tensor {
  const key = `${slots},${dtype}`;
  let m = offDiagonalCache.get(key);
  if (m === undefined) {
    m = Tensor.empty([slots, slots], dtype);
    m.data.fill(1);
    for (let i = 0; i < slots; i++) m.data[i * slots + i] = 0;
    offDiagonalCache.set(key, m);
  }
  return m;
}

/**
 * DNC temporal link matrix: L[i, j] = (1 - w[i] - w[j]) L_prev[i, j] + w[i] p_prev[j], L[i, i] = 0.
 * link (B, N, N), precedence (B, N) (the previous step's), writeWeights (B, N) -> (B, N, N).
 * L[i, j] is how much slot i was written right after slot j.
 */
export function updateLinkMatrix(link: Tensor, precedence: Tensor, writeWeights: Tensor): Tensor {
  const op = "updateLinkMatrix";
  const dtype = floatOf(op, link, "link", 3);
  floatOf(op, precedence, "precedence", 2);
  floatOf(op, writeWeights, "write weights", 2);
  sameDType(op, [
    ["link", link],
    ["precedence", precedence],
    ["write weights", writeWeights],
  ]);
  const [batch, slots] = writeWeights.shape as [number, number];
  expectShape(op, "link", link, [batch, slots, slots], `(batch, slots, slots) for write weights ${fmtShape(writeWeights.shape)}`);
  expectShape(op, "precedence", precedence, writeWeights.shape, "(the write weights' shape)");
  const wi = unsqueeze(writeWeights, 2); // (B, N, 1)
  const wj = unsqueeze(writeWeights, 1); // (B, 1, N)
  const decayed = mul(sub(sub(1, wi), wj), link);
  return mul(add(decayed, mul(wi, unsqueeze(precedence, 1))), offDiagonal(slots, dtype));
}

/** DNC precedence: p = (1 - sum_i w[i]) p_prev + w. precedence, writeWeights (B, N) -> (B, N). */
export function updatePrecedence(precedence: Tensor, writeWeights: Tensor): Tensor {
  const op = "updatePrecedence";
  floatOf(op, precedence, "precedence", 2);
  floatOf(op, writeWeights, "write weights", 2);
  sameDType(op, [
    ["precedence", precedence],
    ["write weights", writeWeights],
  ]);
  expectShape(op, "write weights", writeWeights, precedence.shape, "(the precedence's shape)");
  return add(mul(sub(1, sum(writeWeights, -1, { keepDim: true })), precedence), writeWeights);
}

/**
 * DNC forward and backward weightings from the link matrix (B, N, N) and the previous read
 * weightings (B, R, N): forward f = L w (the slots written after the ones read), backward
 * b = L^T w; both (B, R, N).
 */
export function directionalWeights(link: Tensor, readWeights: Tensor): { forward: Tensor; backward: Tensor } {
  const op = "directionalWeights";
  floatOf(op, link, "link", 3);
  floatOf(op, readWeights, "read weights", 3);
  sameDType(op, [
    ["link", link],
    ["read weights", readWeights],
  ]);
  const [batch, , slots] = readWeights.shape as [number, number, number];
  expectShape(op, "link", link, [batch, slots, slots], `(batch, slots, slots) for read weights ${fmtShape(readWeights.shape)}`);
  return { forward: matmul(readWeights, link, { transB: true }), backward: matmul(readWeights, link) };
}

// ---------------------------------------------------------------- fused NTM addressing

export interface NtmAddressingOptions {
  /** Added to the squared norms of keys and memory rows (default 1e-6), as in contentAddressing. */
  cosineEps?: number;
  /** Added to the weights before the power of sharpening (default 1e-12), as in sharpen. */
  sharpenEps?: number;
}

/**
 * The NTM's whole addressing (eq. 5-9) as one op:
 *   sharpen(circularShift(interpolate(contentAddressing(keys, memory, strength), previous, gate), shift), gamma)
 * keys (B, H, W), memory (B, N, W), strength, gate, gamma (B, H), shift (B, H, S), previous (B, H, N)
 * -> weights (B, H, N), the composition of those four ops with the same epsilons. It runs as one
 * loop per head forward and one backward, with no temporaries of the memory's size: the composition
 * records some twenty ops per call, several (B, N, W) large, and those dominated an NTM step.
 * Higher-order gradients (createGraph) go through the composition.
 */
export function ntmAddressing(
  keys: Tensor,
  memory: Tensor,
  strength: Tensor,
  gate: Tensor,
  shift: Tensor,
  gamma: Tensor,
  previous: Tensor,
  opts: NtmAddressingOptions = {},
): Tensor {
  const op = "ntmAddressing";
  const dtype = floatOf(op, keys, "keys", 3);
  floatOf(op, memory, "memory", 3);
  floatOf(op, strength, "strength", 2);
  floatOf(op, gate, "gate", 2);
  floatOf(op, shift, "shift", 3);
  floatOf(op, gamma, "gamma", 2);
  floatOf(op, previous, "previous weights", 3);
  const inputs = [keys, memory, strength, gate, shift, gamma, previous];
  sameDType(op, [
    ["keys", keys],
    ["memory", memory],
    ["strength", strength],
    ["gate", gate],
    ["shift", shift],
    ["gamma", gamma],
    ["previous weights", previous],
  ]);
  const [batch, heads, width] = keys.shape as [number, number, number];
  const slots = memory.shape[1]!;
  const shifts = shift.shape[2]!;
  const ctx = `for keys ${fmtShape(keys.shape)}`;
  expectShape(op, "memory", memory, [batch, slots, width], `(batch, slots, width) ${ctx}`);
  expectShape(op, "strength", strength, [batch, heads], `(batch, heads) ${ctx}`);
  expectShape(op, "gate", gate, [batch, heads], `(batch, heads) ${ctx}`);
  expectShape(op, "gamma", gamma, [batch, heads], `(batch, heads) ${ctx}`);
  if (shifts % 2 !== 1) throw new ShapeError(`${op}: shift ${fmtShape(shift.shape)} must have an odd size S = 2s + 1 (rotations -s..s)`);
  expectShape(op, "shift", shift, [batch, heads, shifts], `(batch, heads, S) ${ctx}`);
  expectShape(op, "previous weights", previous, [batch, heads, slots], `(batch, heads, slots) ${ctx}, memory ${fmtShape(memory.shape)}`);
  const cosEps = assertNumber(op, opts.cosineEps ?? COSINE_EPS, "cosineEps", { min: 0, finite: true });
  const sharpEps = assertNumber(op, opts.sharpenEps ?? SHARPEN_EPS, "sharpenEps", { min: 0, finite: true });
  const out = Tensor.empty([batch, heads, slots], dtype);
  if (out.size === 0) return out;
  const track = needsGradAny(inputs);
  const x = inputs.map((t) => t.data as FloatArray) as NtmAddressingArrays;
  const saved = track ? (allocate(dtype, ntmAddressingSavedSize(batch, heads, slots)) as FloatArray) : null;
  K.ntmAddressing(...x, out.data as FloatArray, saved, batch, heads, slots, width, shifts, cosEps, sharpEps);
  if (track) {
    record(op, out, inputs, (g) => {
      if (isGradEnabled()) {
        const composite = (): Tensor =>
          sharpen(circularShift(interpolate(contentAddressing(keys, memory, strength, { eps: cosEps }), previous, gate), shift), gamma, {
            eps: sharpEps,
          });
        return compositeGrad(composite, inputs, g);
      }
      const grads = inputs.map((t) => Tensor.empty(t.shape, dtype));
      const dx = grads.map((t) => t.data as FloatArray) as NtmAddressingArrays;
      K.ntmAddressingGrad(...x, out.data as FloatArray, saved!, g.data as FloatArray, ...dx, batch, heads, slots, width, shifts, sharpEps);
      return grads.map((t, i) => (inputs[i]!.requiresGrad ? t : null));
    });
  }
  return out;
}

/**
 * The gradient of a fused op for a recorded backward (createGraph): rebuilds the op as its
 * composition of primitives and differentiates that with the graph kept.
 */
function compositeGrad(composite: () => Tensor, inputs: readonly Tensor[], g: Tensor): (Tensor | null)[] {
  return runBackward(composite(), g, { createGraph: true }, inputs)!;
}
