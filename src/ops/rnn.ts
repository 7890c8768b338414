/**
 * Recurrent-network ops: the fused LSTM cell, and the per-step gate pre-activations of a recurrent
 * layer (used by src/nn/rnn.ts).
 *
 * Both return several tensors that are slices of one buffer, while the autograd engine records one
 * output per node. They record the buffer (the "owner") and hand out zero-copy views of its
 * slices along the first axis. The engine would sum the views' gradients with zero-padded copies
 * and adds; instead every view writes its gradient into one shared buffer of the owner's shape
 * and only the first view to run returns it (the others return null), so the owner receives the
 * complete gradient with one allocation and one copy per slice. This is exact because a view's
 * only input is the owner: when any view's backward runs, the owner's runs later in the same pass
 * (it comes after its consumers in topological order, and grad() keeps a view only if it keeps the
 * owner), and the owner's backward resets the buffer for the next pass. When the backward pass is
 * itself recorded (createGraph) the views and owners use composites written with ops instead.
 */
import { K } from "../backend/index.js";
import { BINARY_OPS, opCode, type FloatArray } from "../backend/kernels.js";
import { allocate, isFloat, type DType } from "../core/dtype.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { packLayout, sizeOf } from "../core/shape.js";
import { isGradEnabled, needsGrad, needsGradAny, noGrad, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { add, filled, mul, sigmoid, square, sub, tanh } from "./elementwise.js";
import { matmul } from "./linalg.js";
import { sum } from "./reduce.js";
import { concat, reshape, split, transpose, unsqueeze } from "./shape.js";
import { assertTensor } from "./util.js";

const B_ADD = opCode(BINARY_OPS, "add");
/** [ndim 1, size, stride 1, stride 1]: kernels are synchronous and keep no reference, so one layout serves every step. */
const STEP_LAYOUT = new Int32Array([1, 0, 1, 1]);

// ---------------------------------------------------------------- shared-gradient views

/** The gradient buffer the views of one owner write into during a backward pass. */
interface SharedGrad {
  buffer: Tensor | null;
  /** Which slices the current pass has written (the others are zeros). */
  written: boolean[];
}

/** Zero-copy views of the slices of `owner` along axis 0; see the file comment for their backward. */
function sliceViews(name: string, owner: Tensor, shared: SharedGrad): Tensor[] {
  const count = owner.shape[0]!;
  const rest = owner.shape.slice(1);
  const step = sizeOf(rest);
  const track = needsGrad(owner);
  return Array.from({ length: count }, (_, k) => {
    const view = new Tensor(owner.data.subarray(k * step, (k + 1) * step), rest, owner.dtype);
    if (track) {
      record(name, view, [owner], (g) => {
        if (isGradEnabled()) return [placeSlice(g, k, count)];
        const first = shared.buffer === null;
        shared.buffer ??= Tensor.empty(owner.shape, owner.dtype);
        shared.buffer.data.set(g.data, k * step);
        shared.written[k] = true;
        return [first ? shared.buffer : null];
      });
    }
    return view;
  });
}

/** Recorded (createGraph) adjoint of slice k of `count`: zeros with g at slice k. */
function placeSlice(g: Tensor, k: number, count: number): Tensor {
  const parts: Tensor[] = [];
  if (k > 0) parts.push(filled([k, ...g.shape], 0, g.dtype));
  parts.push(unsqueeze(g, 0));
  if (k < count - 1) parts.push(filled([count - 1 - k, ...g.shape], 0, g.dtype));
  return parts.length === 1 ? parts[0]! : concat(parts, 0);
}

/**
 * Called first by an owner's backward: ends the pass. Returns which slices of `g` hold gradients
 * (all of them when g is not the shared buffer, e.g. in a recorded pass).
 */
function takeShared(shared: SharedGrad, g: Tensor, count: number): boolean[] {
  const written = g === shared.buffer ? shared.written : new Array<boolean>(count).fill(true);
  shared.buffer = null;
  shared.written = new Array<boolean>(count).fill(false);
  return written;
}

function newShared(count: number): SharedGrad {
  return { buffer: null, written: new Array<boolean>(count).fill(false) };
}

function floatArg(op: string, x: unknown, what: string, ndim: number): Tensor {
  const t = assertTensor(op, x, what);
  if (!isFloat(t.dtype))
    throw new DTypeError(`${op}: ${what} must be float32 or float64, got ${t.dtype} tensor of shape ${fmtShape(t.shape)}`);
  if (t.ndim !== ndim) throw new ShapeError(`${op}: ${what} must be ${ndim}-D, got shape ${fmtShape(t.shape)}`);
  return t;
}

function sameDType(op: string, a: Tensor, aName: string, b: Tensor, bName: string): DType {
  if (a.dtype !== b.dtype) throw new DTypeError(`${op}: ${aName} dtype ${a.dtype} differs from ${bName} dtype ${b.dtype}`);
  return a.dtype;
}

// ---------------------------------------------------------------- LSTM cell

export interface LstmCellResult {
  /** Hidden state h' = σ(o) tanh(c'), (B, H). */
  h: Tensor;
  /** Cell state c' = σ(f) c + σ(i) tanh(g), (B, H). */
  c: Tensor;
}

/**
 * One LSTM step from the gate pre-activations `gates` = x W_ih^T + b_ih + h W_hh^T + b_hh (B, 4H),
 * stacked i, f, g, o like PyTorch, and the cell state `c` (B, H). One fused kernel computes h' and
 * c' and keeps the activated gates and tanh(c') for one fused backward.
 */
export function lstmCell(gates: Tensor, c: Tensor): LstmCellResult {
  const op = "lstmCell";
  floatArg(op, gates, "gates", 2);
  floatArg(op, c, "cell state", 2);
  const dtype = sameDType(op, gates, "gates", c, "cell state");
  const [batch, hidden] = c.shape as [number, number];
  if (gates.shape[0] !== batch || gates.shape[1] !== 4 * hidden) {
    throw new ShapeError(
      `${op}: gates ${fmtShape(gates.shape)} must be [${batch}, ${4 * hidden}] (batch, 4 * hidden) for cell state ${fmtShape(c.shape)}`,
    );
  }
  const n = batch * hidden;
  if (!needsGrad(gates, c)) {
    const h = Tensor.empty([batch, hidden], dtype);
    const cNext = Tensor.empty([batch, hidden], dtype);
    K.lstmCell(gates.data as FloatArray, c.data as FloatArray, h.data as FloatArray, cNext.data as FloatArray, null, batch, hidden);
    return { h, c: cNext };
  }
  // (2, B, H): h' then c', recorded as one node; h' and c' are views of it
  const packed = Tensor.empty([2, batch, hidden], dtype);
  const out = packed.data as FloatArray;
  const saved = allocate(dtype, 5 * n) as FloatArray;
  K.lstmCell(gates.data as FloatArray, c.data as FloatArray, out.subarray(0, n), out.subarray(n), saved, batch, hidden);
  const shared = newShared(2);
  record(op, packed, [gates, c], (g) => {
    const [hasDh, hasDc] = takeShared(shared, g, 2) as [boolean, boolean];
    if (needsGrad(g, gates, c)) return lstmCellGradComposite(gates, c, g);
    const gd = g.data as FloatArray;
    const dGates = Tensor.empty(gates.shape, dtype);
    const dC = c.requiresGrad ? Tensor.empty(c.shape, dtype) : null;
    K.lstmCellGrad(
      saved,
      c.data as FloatArray,
      hasDh ? gd.subarray(0, n) : null,
      hasDc ? gd.subarray(n) : null,
      dGates.data as FloatArray,
      (dC?.data as FloatArray | undefined) ?? null,
      batch,
      hidden,
    );
    return [gates.requiresGrad ? dGates : null, dC];
  });
  const [h, cNext] = sliceViews("lstmCellOutput", packed, shared) as [Tensor, Tensor];
  return { h, c: cNext };
}

/** lstmCell's backward written with ops (recomputing the activations), for createGraph. */
function lstmCellGradComposite(gates: Tensor, c: Tensor, g: Tensor): (Tensor | null)[] {
  const hidden = c.shape[1]!;
  const [pi, pf, pg, po] = split(gates, hidden, 1) as [Tensor, Tensor, Tensor, Tensor];
  const i = sigmoid(pi);
  const f = sigmoid(pf);
  const gg = tanh(pg);
  const o = sigmoid(po);
  const t = tanh(add(mul(f, c), mul(i, gg)));
  const [dh, dcOut] = split(g, 1, 0).map((s) => reshape(s, c.shape)) as [Tensor, Tensor];
  // total gradient of c': directly, and through h' = o tanh(c')
  const dc = add(dcOut, mul(mul(dh, o), sub(1, square(t))));
  const dGates = concat(
    [
      mul(mul(dc, gg), mul(i, sub(1, i))),
      mul(mul(dc, c), mul(f, sub(1, f))),
      mul(mul(dc, i), sub(1, square(gg))),
      mul(mul(dh, t), mul(o, sub(1, o))),
    ],
    1,
  );
  return [gates.requiresGrad ? dGates : null, c.requiresGrad ? mul(dc, f) : null];
}

// ---------------------------------------------------------------- recurrent layer projections

/** Gate pre-activations of a recurrent layer, one time step at a time. */
export interface RecurrentProjection {
  /** xp[t] + h W_hh^T, (B, G). */
  step(t: number, h: Tensor): Tensor;
}

/**
 * The gate pre-activations of a recurrent layer, x_t W_ih^T + b + h W_hh^T, for the layer's time
 * loop: `x` (T, B, F), `wIh` (G, F), `biases` (each (G), summed into b) and `wHh` (G, H).
 *
 * The input projections of every step, x W_ih^T + b (T, B, G), are one recorded node computed by
 * one GEMM with the biases added in place (RNN and LSTM fold b_hh in here, once per sequence).
 * Step t reads slice t through a zero-copy view (shared-gradient, see the file comment), so the
 * backward assembles their gradient G in one buffer instead of T zero-padded copies. The per-step
 * products h W_hh^T give their gradient to h only; W_hh's gradient is computed once by the
 * projection node, as G^T [h_0; ...; h_{T-1}] (G, T*B) x (T*B, H): one large GEMM instead of T
 * small ones and T accumulations. That is exact because G[t] is the gradient of step t's
 * pre-activation (slice t and h W_hh^T are only added). In a recorded backward (createGraph) each
 * step gives W_hh its own gradient instead, so second derivatives through h's gradient see W_hh.
 *
 * step(t, h) must be called at most once per t, with h of shape (B, H).
 */
export function recurrentProjection(x: Tensor, wIh: Tensor, biases: readonly Tensor[], wHh: Tensor): RecurrentProjection {
  const op = "recurrentProjection";
  floatArg(op, x, "input", 3);
  floatArg(op, wIh, "input weight", 2);
  floatArg(op, wHh, "recurrent weight", 2);
  const dtype = sameDType(op, x, "input", wIh, "input weight");
  sameDType(op, x, "input", wHh, "recurrent weight");
  const [steps, batch, features] = x.shape as [number, number, number];
  const [gates, hidden] = wHh.shape as [number, number];
  if (wIh.shape[0] !== gates || wIh.shape[1] !== features) {
    throw new ShapeError(`${op}: input weight ${fmtShape(wIh.shape)} must be [${gates}, ${features}] for input ${fmtShape(x.shape)}`);
  }
  biases.forEach((b, i) => {
    floatArg(op, b, `bias ${i}`, 1);
    sameDType(op, b, `bias ${i}`, x, "input");
    if (b.shape[0] !== gates) throw new ShapeError(`${op}: bias ${i} ${fmtShape(b.shape)} must be [${gates}]`);
  });
  const rows = steps * batch;
  // (T, B, G) = x W_ih^T + sum of biases, in one buffer
  const xp = Tensor.empty([steps, batch, gates], dtype);
  const xd = xp.data as FloatArray;
  if (features > 0 && xp.size > 0) K.matmul(x.data as FloatArray, wIh.data as FloatArray, xd, 1, rows, gates, features, false, true, 0, 0);
  if (xp.size > 0) {
    const layout = packLayout(
      [rows, gates],
      [
        [gates, 1],
        [0, 1],
      ],
    );
    for (const b of biases) K.binary(B_ADD, xd, b.data, xd, layout); // elementwise: in place is safe
  }
  const inputs = [x, wIh, wHh, ...biases];
  const hPrev = new Array<Tensor | undefined>(steps);
  const shared = newShared(steps);
  const track = needsGradAny(inputs);
  if (track) {
    record(op, xp, inputs, (g) => {
      takeShared(shared, g, steps);
      const g2 = reshape(g, [rows, gates]);
      const dx = x.requiresGrad ? reshape(matmul(g2, wIh), x.shape) : null;
      const dWih = wIh.requiresGrad ? matmul(g2, reshape(x, [rows, features]), { transA: true }) : null;
      // recorded (createGraph): every step gave W_hh its gradient
      const dWhh = wHh.requiresGrad && !isGradEnabled() ? recurrentWeightGrad(g, hPrev, batch, hidden) : null;
      const db = biases.some((b) => b.requiresGrad) ? sum(g2, 0) : null;
      return [dx, dWih, dWhh, ...biases.map((b) => (b.requiresGrad ? db : null))];
    });
  }
  const xs = sliceViews("recurrentProjectionStep", xp, shared);
  // W_hh^T (H, G) copied once per sequence: the per-step h W_hh^T then multiplies untransposed
  // operands, which the built-in GEMM runs faster at these shapes (37 vs 62 us for (32, 128) x (128, 512))
  const wT = noGrad(() => transpose(wHh, 0, 1));
  return {
    step(t: number, h: Tensor): Tensor {
      if (!Number.isInteger(t) || t < 0 || t >= steps) throw new ArgumentError(`${op}: step ${t} is out of range for ${steps} steps`);
      floatArg(op, h, "hidden state", 2);
      sameDType(op, h, "hidden state", wHh, "recurrent weight");
      if (h.shape[0] !== batch || h.shape[1] !== hidden) {
        throw new ShapeError(`${op}: hidden state ${fmtShape(h.shape)} must be [${batch}, ${hidden}]`);
      }
      if (track) hPrev[t] = h;
      return stepGates(xs[t]!, h, wHh, wT);
    },
  };
}

/**
 * xs + h W^T as one node (h W^T computed as h · wT with wT = W^T contiguous, then xs added in
 * place). Outside createGraph its backward gives W no gradient: the projection's owner does.
 */
function stepGates(xs: Tensor, h: Tensor, w: Tensor, wT: Tensor): Tensor {
  const [batch, hidden] = h.shape as [number, number];
  const gates = w.shape[0]!;
  const out = Tensor.empty([batch, gates], h.dtype);
  const od = out.data as FloatArray;
  if (hidden > 0 && out.size > 0) K.matmul(h.data as FloatArray, wT.data as FloatArray, od, 1, batch, gates, hidden, false, false, 0, 0);
  if (out.size > 0) {
    STEP_LAYOUT[1] = out.size;
    K.binary(B_ADD, od, xs.data, od, STEP_LAYOUT); // contiguous and elementwise: in place is safe
  }
  if (needsGrad(xs, h, w)) {
    record("recurrentStep", out, [xs, h, w], (g) => {
      if (isGradEnabled()) {
        return [xs.requiresGrad ? g : null, h.requiresGrad ? matmul(g, w) : null, w.requiresGrad ? matmul(g, h, { transA: true }) : null];
      }
      let dh: Tensor | null = null;
      if (h.requiresGrad) {
        dh = Tensor.empty(h.shape, h.dtype);
        if (gates > 0 && dh.size > 0)
          K.matmul(g.data as FloatArray, w.data as FloatArray, dh.data as FloatArray, 1, batch, hidden, gates, false, false, 0, 0);
      }
      return [xs.requiresGrad ? g : null, dh, null];
    });
  }
  return out;
}

/** dW = sum_t dXp[t]^T h_{t-1}: (G, T*B) x (T*B, H) in one GEMM; steps never taken contribute nothing. */
function recurrentWeightGrad(g: Tensor, hPrev: readonly (Tensor | undefined)[], batch: number, hidden: number): Tensor {
  const steps = hPrev.length;
  const gates = g.shape[2]!;
  const hs = Tensor.empty([steps * batch, hidden], g.dtype);
  hPrev.forEach((h, t) => {
    if (h) hs.data.set(h.data, t * batch * hidden);
  });
  const dW = Tensor.empty([gates, hidden], g.dtype);
  if (steps * batch === 0) dW.data.fill(0);
  else if (dW.size > 0)
    K.matmul(g.data as FloatArray, hs.data as FloatArray, dW.data as FloatArray, 1, gates, hidden, steps * batch, true, false, 0, 0);
  return dW;
}
