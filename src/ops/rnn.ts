/**
 * Recurrent-network ops: the fused LSTM and GRU cells, the per-step gate pre-activations of a
 * recurrent layer (used by src/nn/rnn.ts), and per-step views of a sequence tensor.
 *
 * Several return tensors that are slices of one buffer, while the autograd engine records one
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
import { concat, narrow, reshape, split, transpose, unsqueeze } from "./shape.js";
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

// ---------------------------------------------------------------- GRU cell

/**
 * One GRU step (PyTorch's gates r, z, n) from the input projection `xp` = x W_ih^T + b_ih (B, 3H),
 * the recurrent projection `hp` = h W_hh^T + b_hh (B, 3H) and the state `h` (B, H):
 * h' = (1 - z) n + z h with r = σ(xp_r + hp_r), z = σ(xp_z + hp_z), n = tanh(xp_n + r hp_n).
 * One fused kernel computes h' and keeps r, z, n and hp_n for one fused backward.
 */
export function gruCell(xp: Tensor, hp: Tensor, h: Tensor): Tensor {
  const op = "gruCell";
  floatArg(op, xp, "input projection", 2);
  floatArg(op, hp, "recurrent projection", 2);
  floatArg(op, h, "hidden state", 2);
  const dtype = sameDType(op, xp, "input projection", h, "hidden state");
  sameDType(op, hp, "recurrent projection", h, "hidden state");
  const [batch, hidden] = h.shape as [number, number];
  for (const [t, what] of [
    [xp, "input projection"],
    [hp, "recurrent projection"],
  ] as const) {
    if (t.shape[0] !== batch || t.shape[1] !== 3 * hidden) {
      throw new ShapeError(
        `${op}: ${what} ${fmtShape(t.shape)} must be [${batch}, ${3 * hidden}] (batch, 3 * hidden) for hidden state ${fmtShape(h.shape)}`,
      );
    }
  }
  const out = Tensor.empty([batch, hidden], dtype);
  if (!needsGrad(xp, hp, h)) {
    K.gruCell(xp.data as FloatArray, hp.data as FloatArray, h.data as FloatArray, out.data as FloatArray, null, batch, hidden);
    return out;
  }
  const saved = allocate(dtype, 4 * batch * hidden) as FloatArray;
  K.gruCell(xp.data as FloatArray, hp.data as FloatArray, h.data as FloatArray, out.data as FloatArray, saved, batch, hidden);
  return record(op, out, [xp, hp, h], (g) => {
    if (isGradEnabled()) {
      const d = gruCellGradComposite(xp, hp, h, g);
      return [xp.requiresGrad ? d.dxp : null, hp.requiresGrad ? d.dhp : null, h.requiresGrad ? d.dh : null];
    }
    const dXp = Tensor.empty(xp.shape, dtype);
    const dHp = hp.requiresGrad ? Tensor.empty(hp.shape, dtype) : null;
    const dH = h.requiresGrad ? Tensor.empty(h.shape, dtype) : null;
    K.gruCellGrad(
      saved,
      h.data as FloatArray,
      g.data as FloatArray,
      dXp.data as FloatArray,
      (dHp?.data as FloatArray | undefined) ?? null,
      (dH?.data as FloatArray | undefined) ?? null,
      batch,
      hidden,
    );
    return [xp.requiresGrad ? dXp : null, dHp, dH];
  });
}

/** gruCell's backward written with ops (recomputing the gates), for createGraph: dh is the direct path z dh' only. */
function gruCellGradComposite(xp: Tensor, hp: Tensor, h: Tensor, g: Tensor): { dxp: Tensor; dhp: Tensor; dh: Tensor } {
  const hidden = h.shape[1]!;
  const [xr, xz, xn] = split(xp, hidden, 1) as [Tensor, Tensor, Tensor];
  const [hr, hz, hn] = split(hp, hidden, 1) as [Tensor, Tensor, Tensor];
  const r = sigmoid(add(xr, hr));
  const z = sigmoid(add(xz, hz));
  const n = tanh(add(xn, mul(r, hn)));
  // h' = n + z (h - n)
  const dn = mul(mul(g, sub(1, z)), sub(1, square(n)));
  const dz = mul(mul(g, sub(h, n)), mul(z, sub(1, z)));
  const dr = mul(mul(dn, hn), mul(r, sub(1, r)));
  return { dxp: concat([dr, dz, dn], 1), dhp: concat([dr, dz, mul(dn, r)], 1), dh: mul(g, z) };
}

// ---------------------------------------------------------------- per-step views

/**
 * The slices x[0], ..., x[T-1] of `x` (T, ...) as zero-copy views, like split(x, 1, 0) without the
 * leading axis. Their gradients meet in one buffer (see the file comment), so a loop that reads
 * every step back-propagates with one allocation instead of T zero-padded copies and adds.
 */
export function unbindSteps(x: Tensor): Tensor[] {
  const op = "unbindSteps";
  assertTensor(op, x, "input");
  if (x.ndim < 1) throw new ShapeError(`${op}: input must have a leading axis, got shape ${fmtShape(x.shape)}`);
  const count = x.shape[0]!;
  // the recorded owner shares x's storage; its backward hands the assembled buffer on to x
  const owner = new Tensor(x.data, x.shape, x.dtype);
  const shared = newShared(count);
  if (needsGrad(x)) {
    record(op, owner, [x], (g) => {
      takeShared(shared, g, count);
      return [g];
    });
  }
  return sliceViews("unbindStepsView", owner, shared);
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

// ---------------------------------------------------------------- GRU layer recurrence

/** A GRU layer's time loop: step(t, h) is the new state h' (B, H) from step t's input and h. */
export interface GruRecurrence {
  step(t: number, h: Tensor): Tensor;
}

/**
 * The time loop of a GRU layer over `x` (T, B, F) with `wIh` (3H, F), `wHh` (3H, H) and the
 * optional biases `bIh`, `bHh` (3H). The input projections x W_ih^T + b_ih of every step are one
 * recorded node (one GEMM), read per step through zero-copy views as in recurrentProjection. A
 * step computes hp = h W_hh^T + b_hh and the fused cell (gruCell's kernels) as one node, whose
 * backward gives h its gradient. W_hh and b_hh get theirs once, from the projection node: the
 * gradient of hp_t equals that of step t's input projection G[t] but for the n slice, which is
 * scaled by that step's r, so dW_hh = dHp^T [h_0; ...; h_{T-1}] is one GEMM and db_hh one column
 * sum. In a recorded backward (createGraph) each step gives W_hh and b_hh their gradients instead.
 *
 * step(t, h) must be called at most once per t, with h of shape (B, H).
 */
export function gruRecurrence(x: Tensor, wIh: Tensor, bIh: Tensor | null, wHh: Tensor, bHh: Tensor | null): GruRecurrence {
  const op = "gruRecurrence";
  floatArg(op, x, "input", 3);
  floatArg(op, wIh, "input weight", 2);
  floatArg(op, wHh, "recurrent weight", 2);
  const dtype = sameDType(op, x, "input", wIh, "input weight");
  sameDType(op, x, "input", wHh, "recurrent weight");
  const [steps, batch, features] = x.shape as [number, number, number];
  const [gates, hidden] = wHh.shape as [number, number];
  if (gates !== 3 * hidden) throw new ShapeError(`${op}: recurrent weight ${fmtShape(wHh.shape)} must be [3 * hidden, hidden]`);
  if (wIh.shape[0] !== gates || wIh.shape[1] !== features) {
    throw new ShapeError(`${op}: input weight ${fmtShape(wIh.shape)} must be [${gates}, ${features}] for input ${fmtShape(x.shape)}`);
  }
  const biases: Tensor[] = [];
  for (const [b, what] of [
    [bIh, "input bias"],
    [bHh, "recurrent bias"],
  ] as const) {
    if (b === null) continue;
    floatArg(op, b, what, 1);
    sameDType(op, b, what, x, "input");
    if (b.shape[0] !== gates) throw new ShapeError(`${op}: ${what} ${fmtShape(b.shape)} must be [${gates}]`);
    biases.push(b);
  }
  const rows = steps * batch;
  const xp = Tensor.empty([steps, batch, gates], dtype);
  const xd = xp.data as FloatArray;
  if (features > 0 && xp.size > 0) K.matmul(x.data as FloatArray, wIh.data as FloatArray, xd, 1, rows, gates, features, false, true, 0, 0);
  const rowBias = (n: number): Int32Array =>
    packLayout(
      [n, gates],
      [
        [gates, 1],
        [0, 1],
      ],
    );
  if (bIh && xp.size > 0) K.binary(B_ADD, xd, bIh.data, xd, rowBias(rows));
  const inputs = [x, wIh, wHh, ...biases];
  const hPrev = new Array<Tensor | undefined>(steps);
  const savedAt = new Array<FloatArray | undefined>(steps);
  const shared = newShared(steps);
  const track = needsGradAny(inputs);
  if (track) {
    record(op, xp, inputs, (g) => {
      takeShared(shared, g, steps);
      const g2 = reshape(g, [rows, gates]);
      const dx = x.requiresGrad ? reshape(matmul(g2, wIh), x.shape) : null;
      const dWih = wIh.requiresGrad ? matmul(g2, reshape(x, [rows, features]), { transA: true }) : null;
      const dbIh = bIh?.requiresGrad ? sum(g2, 0) : null;
      let dWhh: Tensor | null = null;
      let dbHh: Tensor | null = null;
      // recorded (createGraph): every step gave W_hh and b_hh their gradients
      if ((wHh.requiresGrad || bHh?.requiresGrad) && !isGradEnabled()) {
        const dHp = recurrentGateGrad(g, savedAt, hidden);
        if (wHh.requiresGrad) dWhh = recurrentWeightGrad(dHp, hPrev, batch, hidden);
        if (bHh?.requiresGrad) dbHh = sum(reshape(dHp, [rows, gates]), 0);
      }
      return [dx, dWih, dWhh, ...(bIh ? [dbIh] : []), ...(bHh ? [dbHh] : [])];
    });
  }
  const xs = sliceViews("gruRecurrenceStep", xp, shared);
  // W_hh^T (H, 3H) copied once per sequence (see recurrentProjection)
  const wT = noGrad(() => transpose(wHh, 0, 1));
  const biasLayout = rowBias(batch);
  // hp is only read by the forward kernel (which saves its n slice), so one buffer serves every step
  const hp = allocate(dtype, batch * gates) as FloatArray;
  return {
    step(t: number, h: Tensor): Tensor {
      if (!Number.isInteger(t) || t < 0 || t >= steps) throw new ArgumentError(`${op}: step ${t} is out of range for ${steps} steps`);
      floatArg(op, h, "hidden state", 2);
      sameDType(op, h, "hidden state", wHh, "recurrent weight");
      if (h.shape[0] !== batch || h.shape[1] !== hidden) {
        throw new ShapeError(`${op}: hidden state ${fmtShape(h.shape)} must be [${batch}, ${hidden}]`);
      }
      const xt = xs[t]!;
      if (hidden > 0 && hp.length > 0)
        K.matmul(h.data as FloatArray, wT.data as FloatArray, hp, 1, batch, gates, hidden, false, false, 0, 0);
      else hp.fill(0);
      if (bHh && hp.length > 0) K.binary(B_ADD, hp, bHh.data, hp, biasLayout);
      const out = Tensor.empty([batch, hidden], dtype);
      const stepInputs = [xt, h, wHh, ...(bHh ? [bHh] : [])];
      if (!needsGradAny(stepInputs)) {
        K.gruCell(xt.data as FloatArray, hp, h.data as FloatArray, out.data as FloatArray, null, batch, hidden);
        return out;
      }
      const saved = allocate(dtype, 4 * batch * hidden) as FloatArray;
      K.gruCell(xt.data as FloatArray, hp, h.data as FloatArray, out.data as FloatArray, saved, batch, hidden);
      if (track) {
        hPrev[t] = h;
        savedAt[t] = saved;
      }
      return record("gruStep", out, stepInputs, (g) => {
        if (isGradEnabled()) {
          // The recorded backward recomputes both projections from the parameters rather than
          // reading the view xt: a later backward through it must not add to xt's gradient, from
          // which the projection node derives W_hh's (it assumes only this step's forward reads xt).
          const xt2 = reshape(narrow(x, 0, t, 1), [batch, features]);
          const xpT = bIh ? add(matmul(xt2, wIh, { transB: true }), bIh) : matmul(xt2, wIh, { transB: true });
          const hpT = bHh ? add(matmul(h, wHh, { transB: true }), bHh) : matmul(h, wHh, { transB: true });
          const { dxp, dhp, dh } = gruCellGradComposite(xpT, hpT, h, g);
          return [
            xt.requiresGrad ? dxp : null,
            h.requiresGrad ? add(dh, matmul(dhp, wHh)) : null,
            wHh.requiresGrad ? matmul(dhp, h, { transA: true }) : null,
            ...(bHh ? [bHh.requiresGrad ? sum(dhp, 0) : null] : []),
          ];
        }
        const dXp = Tensor.empty([batch, gates], dtype);
        let dH: Tensor | null = null;
        if (h.requiresGrad) {
          const dHp = allocate(dtype, batch * gates) as FloatArray;
          dH = Tensor.empty(h.shape, dtype);
          K.gruCellGrad(
            saved,
            h.data as FloatArray,
            g.data as FloatArray,
            dXp.data as FloatArray,
            dHp,
            dH.data as FloatArray,
            batch,
            hidden,
          );
          // dh = z dh' + dhp W_hh
          const viaW = allocate(dtype, batch * hidden) as FloatArray;
          if (gates > 0 && viaW.length > 0) K.matmul(dHp, wHh.data as FloatArray, viaW, 1, batch, hidden, gates, false, false, 0, 0);
          if (viaW.length > 0) {
            STEP_LAYOUT[1] = viaW.length;
            K.binary(B_ADD, dH.data, viaW, dH.data, STEP_LAYOUT);
          }
        } else {
          K.gruCellGrad(saved, h.data as FloatArray, g.data as FloatArray, dXp.data as FloatArray, null, null, batch, hidden);
        }
        return [xt.requiresGrad ? dXp : null, dH, null, ...(bHh ? [null] : [])];
      });
    },
  };
}

/** The gradient of every step's hp (T, B, 3H): G with each n slice scaled by that step's r; steps never taken are zeros. */
function recurrentGateGrad(g: Tensor, savedAt: readonly (FloatArray | undefined)[], hidden: number): Tensor {
  const [steps, batch, gates] = g.shape as [number, number, number];
  const out = Tensor.empty(g.shape, g.dtype);
  const od = out.data as FloatArray;
  const gd = g.data as FloatArray;
  for (let t = 0; t < steps; t++) {
    const saved = savedAt[t];
    if (!saved) continue;
    const base = t * batch * gates;
    od.set(gd.subarray(base, base + batch * gates), base);
    for (let b = 0; b < batch; b++) {
      const row = base + b * gates + 2 * hidden;
      const r = b * 4 * hidden; // r is the first slice of each saved row
      for (let j = 0; j < hidden; j++) od[row + j]! *= saved[r + j]!;
    }
  }
  return out;
}
