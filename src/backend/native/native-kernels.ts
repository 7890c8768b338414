/**
 * The native kernel table: every method calls the addon for the element types it implements
 * (float32 everywhere; int32 and bool for the integer-closed unary ops, binary ops, reductions,
 * casts and all data movement; float32 optimizer updates) and the ts reference kernels for the rest. float64 always goes to
 * the fallback. Routing is a few instanceof checks, cheap enough for the per-op hot path, and it
 * mirrors exactly what native/kernels/*.cc accept (the addon throws on anything else).
 */
import { BackendError } from "../../core/errors.js";
import {
  BINARY_OPS,
  fastWeightsSavedSize,
  ntmAddressingSavedSize,
  opCode,
  REDUCE_OPS,
  SDPA_GEOM_HEADER,
  UNARY_OPS,
  type Kernels,
  type Layout,
  type TypedArray,
  type UnaryOp,
} from "../kernels.js";
import type { NativeAddon } from "./binding.js";

const U_LOGICAL_NOT = opCode(UNARY_OPS, "logicalNot");
const U_IS_FINITE = opCode(UNARY_OPS, "isFinite");
const B_FIRST_BOOL_RESULT = opCode(BINARY_OPS, "eq"); // comparisons and logical ops write bool
const R_ARGMAX = opCode(REDUCE_OPS, "argmax");
const R_ARGMIN = opCode(REDUCE_OPS, "argmin");

const INT_UNARY = new Set<UnaryOp>(["neg", "abs", "sign", "square", "relu", "clamp", "affine"]);
/** By op code: the op has an int32 -> int32 native kernel. */
const intUnary: readonly boolean[] = UNARY_OPS.map((name) => INT_UNARY.has(name));

const isBoolUnary = (op: number): boolean => op === U_LOGICAL_NOT || op === U_IS_FINITE;

/** Data-movement kernels: any element type but float64, input and output of the same type. */
const sameNonF64 = (x: TypedArray, out: TypedArray): boolean => !(x instanceof Float64Array) && x.constructor === out.constructor;

const isIntOrBool = (a: TypedArray): a is Int32Array | Uint8Array => a instanceof Int32Array || a instanceof Uint8Array;

// ---------------------------------------------------------------- buffer guards
//
// The op layer sizes every buffer from the tensors' shapes, but a Tensor can be built (or its data
// replaced) with storage that does not match its shape. The ts kernels then read `undefined`; the
// addon would read or write past the end of the buffer and can take the process down. These
// checks cost a few comparisons per call and turn that into a BackendError.

function need(kernel: string, what: string, a: { length: number } | null, n: number): void {
  if (a !== null && a.length < n) {
    throw new BackendError(
      `${kernel}: ${what} holds ${a.length} elements where ${n} are needed (a tensor's data does not match its shape)`,
    );
  }
}

function same(kernel: string, a: { length: number }, b: { length: number }): void {
  if (a.length !== b.length) {
    throw new BackendError(`${kernel}: input holds ${a.length} elements and output ${b.length} (a tensor's data does not match its shape)`);
  }
}

/** Elements a packed layout covers (the output size of an elementwise or strided kernel). */
function layoutTotal(layout: Layout): number {
  let total = 1;
  for (let d = 0; d < layout[0]!; d++) total *= layout[1 + d]!;
  return total;
}

/** Checks that every offset operand `k` reaches through the layout, starting at `offset`, lies inside `a`. */
function within(kernel: string, what: string, a: { length: number }, offset: number, layout: Layout, k: number): void {
  const nd = layout[0]!;
  if (layoutTotal(layout) === 0) return;
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < nd; d++) {
    const reach = (layout[1 + d]! - 1) * layout[1 + nd * (k + 1) + d]!;
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (lo < 0 || hi >= a.length) {
    throw new BackendError(
      `${kernel}: ${what} holds ${a.length} elements but the layout reaches offsets ${lo}..${hi} (a tensor's data does not match its shape)`,
    );
  }
}

/**
 * Checks a fused-attention geometry against its operands: a well-formed header, and every
 * matrix offset (plus the reach of its rows, or of the mask strides) inside its buffer.
 */
function sdpaGuard(
  kernel: string,
  geom: Int32Array,
  q: { length: number },
  k: { length: number },
  v: { length: number },
  mask: { length: number } | null,
): void {
  const [nb, lq, lk, e, ev, causal, , msi, msj] = geom as unknown as number[];
  const dims = [nb, lq, lk, e, ev, msi, msj];
  if (
    geom.length < SDPA_GEOM_HEADER ||
    dims.some((d) => !(d! >= 0)) ||
    (causal !== 0 && causal !== 1) ||
    geom.length !== SDPA_GEOM_HEADER + 4 * nb!
  )
    throw new BackendError(`${kernel}: malformed attention geometry`);
  const reach = [lq! * e!, lk! * e!, lk! * ev!, lq! > 0 && lk! > 0 ? (lq! - 1) * msi! + (lk! - 1) * msj! + 1 : 0];
  const buffers = [q, k, v, mask];
  for (let t = 0; t < 4; t++) {
    const buf = buffers[t];
    if (buf === null || buf === undefined || reach[t] === 0) continue;
    for (let b = 0; b < nb!; b++) {
      const o = geom[SDPA_GEOM_HEADER + t * nb! + b]!;
      if (o < 0 || o + reach[t]! > buf.length)
        throw new BackendError(
          `${kernel}: operand ${t} holds ${buf.length} elements but matrix ${b} reaches ${o + reach[t]!} (a tensor's data does not match its shape)`,
        );
    }
  }
}

/** Optimizer updates run over p.length elements: the gradient and every state buffer must hold as many. */
function state(kernel: string, p: { length: number }, g: { length: number }, buffers: ({ length: number } | null)[]): void {
  need(kernel, "gradient", g, p.length);
  for (const b of buffers) need(kernel, "state buffer", b, p.length);
}

/** Every operand (null ones are absent) is float32: the element type the native optimizer updates implement. */
const allF32 = (...arrays: (TypedArray | null)[]): boolean => arrays.every((a) => a === null || a instanceof Float32Array);

export function createNativeKernels(addon: NativeAddon, fallback: Kernels): Kernels {
  return {
    unary(op, x, out, p0, p1) {
      same("unary", x, out);
      if (x instanceof Float32Array) {
        if (out instanceof Float32Array || (out instanceof Uint8Array && isBoolUnary(op))) return addon.unary(op, x, out, p0, p1);
      } else if (x instanceof Int32Array) {
        if ((out instanceof Int32Array && intUnary[op]) || (out instanceof Uint8Array && isBoolUnary(op))) {
          return addon.unary(op, x, out, p0, p1);
        }
      } else if (x instanceof Uint8Array && out instanceof Uint8Array && isBoolUnary(op)) {
        return addon.unary(op, x, out, p0, p1);
      }
      fallback.unary(op, x, out, p0, p1);
    },

    unaryGrad(op, x, y, dy, dx, p0, p1) {
      for (const a of [y, dy, dx]) same("unaryGrad", x, a);
      if (
        x instanceof Float32Array &&
        y instanceof Float32Array &&
        dy instanceof Float32Array &&
        dx instanceof Float32Array &&
        !isBoolUnary(op)
      ) {
        return addon.unaryGrad(op, x, y, dy, dx, p0, p1);
      }
      fallback.unaryGrad(op, x, y, dy, dx, p0, p1);
    },

    binary(op, a, b, out, layout) {
      need("binary", "output", out, layoutTotal(layout));
      within("binary", "first operand", a, 0, layout, 0);
      within("binary", "second operand", b, 0, layout, 1);
      const boolResult = op >= B_FIRST_BOOL_RESULT;
      if (a instanceof Float32Array) {
        if (b instanceof Float32Array && (boolResult ? out instanceof Uint8Array : out instanceof Float32Array)) {
          return addon.binary(op, a, b, out, layout);
        }
      } else if (isIntOrBool(a) && a.constructor === b.constructor) {
        if (boolResult ? out instanceof Uint8Array : isIntOrBool(out)) return addon.binary(op, a, b, out, layout);
      }
      fallback.binary(op, a, b, out, layout);
    },

    where(cond, a, b, out, layout) {
      need("where", "output", out, layoutTotal(layout));
      within("where", "condition", cond, 0, layout, 0);
      within("where", "first operand", a, 0, layout, 1);
      within("where", "second operand", b, 0, layout, 2);
      if (sameNonF64(a, out) && a.constructor === b.constructor) return addon.where(cond, a, b, out, layout);
      fallback.where(cond, a, b, out, layout);
    },

    reduce(op, x, out, outer, n, inner) {
      need("reduce", "input", x, outer * n * inner);
      need("reduce", "output", out, outer * inner);
      const arg = op === R_ARGMAX || op === R_ARGMIN;
      if (x instanceof Float32Array) {
        if (arg ? out instanceof Int32Array : out instanceof Float32Array) return addon.reduce(op, x, out, outer, n, inner);
      } else if (isIntOrBool(x)) {
        if (arg ? out instanceof Int32Array : !(out instanceof Float64Array)) return addon.reduce(op, x, out, outer, n, inner);
      }
      fallback.reduce(op, x, out, outer, n, inner);
    },

    matmul(a, b, out, batch, m, n, k, transA, transB, strideA, strideB) {
      if (batch > 0) {
        if (m * k > 0) need("matmul", "first operand", a, (batch - 1) * strideA + m * k);
        if (k * n > 0) need("matmul", "second operand", b, (batch - 1) * strideB + k * n);
        need("matmul", "output", out, batch * m * n);
      }
      if (a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array) {
        return addon.matmul(a, b, out, batch, m, n, k, transA, transB, strideA, strideB);
      }
      fallback.matmul(a, b, out, batch, m, n, k, transA, transB, strideA, strideB);
    },

    softmax(x, out, outer, n, log) {
      need("softmax", "input", x, outer * n);
      need("softmax", "output", out, outer * n);
      if (x instanceof Float32Array && out instanceof Float32Array) return addon.softmax(x, out, outer, n, log);
      fallback.softmax(x, out, outer, n, log);
    },

    softmaxGrad(y, dy, dx, outer, n, log) {
      for (const a of [y, dy, dx]) need("softmaxGrad", "buffer", a, outer * n);
      if (y instanceof Float32Array && dy instanceof Float32Array && dx instanceof Float32Array) {
        return addon.softmaxGrad(y, dy, dx, outer, n, log);
      }
      fallback.softmaxGrad(y, dy, dx, outer, n, log);
    },

    layerNorm(x, gamma, beta, out, mean, rstd, outer, n, eps) {
      need("layerNorm", "input", x, outer * n);
      need("layerNorm", "output", out, outer * n);
      need("layerNorm", "statistics", mean, outer);
      need("layerNorm", "statistics", rstd, outer);
      need("layerNorm", "weight", gamma, n);
      need("layerNorm", "bias", beta, n);
      if (
        x instanceof Float32Array &&
        out instanceof Float32Array &&
        mean instanceof Float32Array &&
        rstd instanceof Float32Array &&
        (gamma === null || gamma instanceof Float32Array) &&
        (beta === null || beta instanceof Float32Array)
      ) {
        return addon.layerNorm(x, gamma, beta, out, mean, rstd, outer, n, eps);
      }
      fallback.layerNorm(x, gamma, beta, out, mean, rstd, outer, n, eps);
    },

    layerNormGrad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, outer, n) {
      for (const a of [x, dy, dx]) need("layerNormGrad", "buffer", a, outer * n);
      for (const a of [mean, rstd]) need("layerNormGrad", "statistics", a, outer);
      for (const a of [gamma, dgamma, dbeta]) need("layerNormGrad", "weight", a, n);
      if (
        x instanceof Float32Array &&
        mean instanceof Float32Array &&
        rstd instanceof Float32Array &&
        dy instanceof Float32Array &&
        dx instanceof Float32Array &&
        (gamma === null || gamma instanceof Float32Array) &&
        (dgamma === null || dgamma instanceof Float32Array) &&
        (dbeta === null || dbeta instanceof Float32Array)
      ) {
        return addon.layerNormGrad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, outer, n);
      }
      fallback.layerNormGrad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, outer, n);
    },

    stridedCopy(x, out, offset, layout) {
      need("stridedCopy", "output", out, layoutTotal(layout));
      within("stridedCopy", "input", x, offset, layout, 0);
      if (sameNonF64(x, out)) return addon.stridedCopy(x, out, offset, layout);
      fallback.stridedCopy(x, out, offset, layout);
    },

    stridedScatter(src, out, offset, layout, accumulate) {
      need("stridedScatter", "source", src, layoutTotal(layout));
      within("stridedScatter", "output", out, offset, layout, 0);
      if (sameNonF64(src, out)) return addon.stridedScatter(src, out, offset, layout, accumulate);
      fallback.stridedScatter(src, out, offset, layout, accumulate);
    },

    gather(x, index, out, outer, n, inner, k) {
      need("gather", "input", x, outer * n * inner);
      need("gather", "index", index, outer * k * inner);
      need("gather", "output", out, outer * k * inner);
      if (sameNonF64(x, out)) return addon.gather(x, index, out, outer, n, inner, k);
      fallback.gather(x, index, out, outer, n, inner, k);
    },

    scatterAdd(src, index, out, outer, n, inner, k) {
      need("scatterAdd", "source", src, outer * k * inner);
      need("scatterAdd", "index", index, outer * k * inner);
      need("scatterAdd", "output", out, outer * n * inner);
      if (sameNonF64(src, out)) return addon.scatterAdd(src, index, out, outer, n, inner, k);
      fallback.scatterAdd(src, index, out, outer, n, inner, k);
    },

    indexSelect(x, index, out, outer, n, inner, k) {
      need("indexSelect", "input", x, outer * n * inner);
      need("indexSelect", "index", index, k);
      need("indexSelect", "output", out, outer * k * inner);
      if (sameNonF64(x, out)) return addon.indexSelect(x, index, out, outer, n, inner, k);
      fallback.indexSelect(x, index, out, outer, n, inner, k);
    },

    indexAdd(src, index, out, outer, n, inner, k) {
      need("indexAdd", "source", src, outer * k * inner);
      need("indexAdd", "index", index, k);
      need("indexAdd", "output", out, outer * n * inner);
      if (sameNonF64(src, out)) return addon.indexAdd(src, index, out, outer, n, inner, k);
      fallback.indexAdd(src, index, out, outer, n, inner, k);
    },

    cast(x, out) {
      same("cast", x, out);
      if (!(x instanceof Float64Array) && !(out instanceof Float64Array)) return addon.cast(x, out);
      fallback.cast(x, out);
    },

    lstmCell(gates, c, h, cOut, saved, batch, hidden) {
      const n = batch * hidden;
      need("lstmCell", "gates", gates, 4 * n);
      need("lstmCell", "cell state", c, n);
      need("lstmCell", "output", h, n);
      need("lstmCell", "output", cOut, n);
      need("lstmCell", "saved buffer", saved, 5 * n);
      if (
        gates instanceof Float32Array &&
        c instanceof Float32Array &&
        h instanceof Float32Array &&
        cOut instanceof Float32Array &&
        (saved === null || saved instanceof Float32Array)
      ) {
        return addon.lstmCell(gates, c, h, cOut, saved, batch, hidden);
      }
      fallback.lstmCell(gates, c, h, cOut, saved, batch, hidden);
    },

    lstmCellGrad(saved, c, dH, dCOut, dGates, dC, batch, hidden) {
      const n = batch * hidden;
      need("lstmCellGrad", "saved buffer", saved, 5 * n);
      need("lstmCellGrad", "cell state", c, n);
      for (const a of [dH, dCOut, dC]) need("lstmCellGrad", "gradient", a, n);
      need("lstmCellGrad", "gate gradient", dGates, 4 * n);
      if (
        saved instanceof Float32Array &&
        c instanceof Float32Array &&
        dGates instanceof Float32Array &&
        (dH === null || dH instanceof Float32Array) &&
        (dCOut === null || dCOut instanceof Float32Array) &&
        (dC === null || dC instanceof Float32Array)
      ) {
        return addon.lstmCellGrad(saved, c, dH, dCOut, dGates, dC, batch, hidden);
      }
      fallback.lstmCellGrad(saved, c, dH, dCOut, dGates, dC, batch, hidden);
    },

    ntmAddressing(k, m, beta, gate, s, gamma, prev, out, saved, batch, heads, slots, width, shifts, cosEps, sharpEps) {
      const [bh, bhn] = [batch * heads, batch * heads * slots];
      need("ntmAddressing", "keys", k, bh * width);
      need("ntmAddressing", "memory", m, batch * slots * width);
      for (const a of [beta, gate, gamma]) need("ntmAddressing", "per-head input", a, bh);
      need("ntmAddressing", "shift", s, bh * shifts);
      need("ntmAddressing", "previous weights", prev, bhn);
      need("ntmAddressing", "output", out, bhn);
      need("ntmAddressing", "saved buffer", saved, ntmAddressingSavedSize(batch, heads, slots));
      if (
        [k, m, beta, gate, s, gamma, prev, out].every((a) => a instanceof Float32Array) &&
        (saved === null || saved instanceof Float32Array)
      )
        return addon.ntmAddressing(k, m, beta, gate, s, gamma, prev, out, saved, batch, heads, slots, width, shifts, cosEps, sharpEps);
      fallback.ntmAddressing(k, m, beta, gate, s, gamma, prev, out, saved, batch, heads, slots, width, shifts, cosEps, sharpEps);
    },

    ntmAddressingGrad(
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
      slots,
      width,
      shifts,
      sharpEps,
    ) {
      const [bh, bhn] = [batch * heads, batch * heads * slots];
      for (const a of [k, dk]) need("ntmAddressingGrad", "keys", a, bh * width);
      for (const a of [m, dm]) need("ntmAddressingGrad", "memory", a, batch * slots * width);
      for (const a of [beta, gate, gamma, dBeta, dGate, dGamma]) need("ntmAddressingGrad", "per-head input", a, bh);
      for (const a of [s, ds]) need("ntmAddressingGrad", "shift", a, bh * shifts);
      for (const a of [prev, out, dOut, dPrev]) need("ntmAddressingGrad", "weights", a, bhn);
      need("ntmAddressingGrad", "saved buffer", saved, ntmAddressingSavedSize(batch, heads, slots));
      const all = [k, m, beta, gate, s, gamma, prev, out, saved, dOut, dk, dm, dBeta, dGate, ds, dGamma, dPrev];
      if (all.every((a) => a instanceof Float32Array))
        return addon.ntmAddressingGrad(
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
          slots,
          width,
          shifts,
          sharpEps,
        );
      fallback.ntmAddressingGrad(
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
        slots,
        width,
        shifts,
        sharpEps,
      );
    },

    memoryWrite(m, w, e, a, out, batch, heads, slots, width) {
      for (const x of [m, out]) need("memoryWrite", "memory", x, batch * slots * width);
      need("memoryWrite", "weights", w, batch * heads * slots);
      for (const x of [e, a]) need("memoryWrite", "erase/add vectors", x, batch * heads * width);
      if ([m, w, e, a, out].every((x) => x instanceof Float32Array)) return addon.memoryWrite(m, w, e, a, out, batch, heads, slots, width);
      fallback.memoryWrite(m, w, e, a, out, batch, heads, slots, width);
    },

    memoryWriteGrad(m, w, e, a, g, dm, dw, de, da, batch, heads, slots, width) {
      for (const x of [m, g, dm]) need("memoryWriteGrad", "memory", x, batch * slots * width);
      for (const x of [w, dw]) need("memoryWriteGrad", "weights", x, batch * heads * slots);
      for (const x of [e, a, de, da]) need("memoryWriteGrad", "erase/add vectors", x, batch * heads * width);
      if ([m, w, e, a, g, dm, dw, de, da].every((x) => x instanceof Float32Array))
        return addon.memoryWriteGrad(m, w, e, a, g, dm, dw, de, da, batch, heads, slots, width);
      fallback.memoryWriteGrad(m, w, e, a, g, dm, dw, de, da, batch, heads, slots, width);
    },

    gruCell(xp, hp, h, out, saved, batch, hidden) {
      const n = batch * hidden;
      need("gruCell", "input projection", xp, 3 * n);
      need("gruCell", "recurrent projection", hp, 3 * n);
      need("gruCell", "hidden state", h, n);
      need("gruCell", "output", out, n);
      need("gruCell", "saved buffer", saved, 4 * n);
      if (
        xp instanceof Float32Array &&
        hp instanceof Float32Array &&
        h instanceof Float32Array &&
        out instanceof Float32Array &&
        (saved === null || saved instanceof Float32Array)
      ) {
        return addon.gruCell(xp, hp, h, out, saved, batch, hidden);
      }
      fallback.gruCell(xp, hp, h, out, saved, batch, hidden);
    },

    gruCellGrad(saved, h, dOut, dXp, dHp, dH, batch, hidden) {
      const n = batch * hidden;
      need("gruCellGrad", "saved buffer", saved, 4 * n);
      need("gruCellGrad", "hidden state", h, n);
      need("gruCellGrad", "gradient", dOut, n);
      need("gruCellGrad", "input projection gradient", dXp, 3 * n);
      need("gruCellGrad", "recurrent projection gradient", dHp, 3 * n);
      need("gruCellGrad", "hidden state gradient", dH, n);
      if (
        saved instanceof Float32Array &&
        h instanceof Float32Array &&
        dOut instanceof Float32Array &&
        dXp instanceof Float32Array &&
        (dHp === null || dHp instanceof Float32Array) &&
        (dH === null || dH instanceof Float32Array)
      ) {
        return addon.gruCellGrad(saved, h, dOut, dXp, dHp, dH, batch, hidden);
      }
      fallback.gruCellGrad(saved, h, dOut, dXp, dHp, dH, batch, hidden);
    },

    sentenceEncode(ids, table, temporal, ages, out, rows, words, dim, encoding) {
      need("sentenceEncode", "ids", ids, rows * words);
      need("sentenceEncode", "output", out, rows * dim);
      if (ages !== null) need("sentenceEncode", "ages", ages, rows);
      if ([table, temporal ?? table, out].every((x) => x instanceof Float32Array))
        return addon.sentenceEncode(ids, table, temporal, ages, out, rows, words, dim, encoding);
      fallback.sentenceEncode(ids, table, temporal, ages, out, rows, words, dim, encoding);
    },

    sentenceEncodeGrad(ids, ages, g, dTable, dTemporal, rows, words, dim, encoding) {
      need("sentenceEncodeGrad", "ids", ids, rows * words);
      need("sentenceEncodeGrad", "gradient", g, rows * dim);
      if (ages !== null) need("sentenceEncodeGrad", "ages", ages, rows);
      if ([g, dTable, dTemporal ?? dTable].every((x) => x instanceof Float32Array))
        return addon.sentenceEncodeGrad(ids, ages, g, dTable, dTemporal, rows, words, dim, encoding);
      fallback.sentenceEncodeGrad(ids, ages, g, dTable, dTemporal, rows, words, dim, encoding);
    },

    fastWeightsSequence(xp, w, gain, bias, out, saved, batch, steps, hidden, decay, eta, relu, eps) {
      for (const x of [xp, out]) need("fastWeightsSequence", "states", x, batch * steps * hidden);
      need("fastWeightsSequence", "recurrent weight", w, hidden * hidden);
      for (const x of [gain, bias]) if (x !== null) need("fastWeightsSequence", "layer-norm parameters", x, hidden);
      if (saved !== null) need("fastWeightsSequence", "saved", saved, fastWeightsSavedSize(batch, steps, hidden));
      if ([xp, w, gain ?? w, bias ?? w, out, saved ?? w].every((x) => x instanceof Float32Array))
        return addon.fastWeightsSequence(xp, w, gain, bias, out, saved, batch, steps, hidden, decay, eta, relu, eps);
      fallback.fastWeightsSequence(xp, w, gain, bias, out, saved, batch, steps, hidden, decay, eta, relu, eps);
    },

    fastWeightsSequenceGrad(w, gain, out, saved, g, dXp, dW, dGain, dBias, batch, steps, hidden, decay, eta, relu) {
      for (const x of [out, g, dXp]) need("fastWeightsSequenceGrad", "states", x, batch * steps * hidden);
      for (const x of [w, dW]) need("fastWeightsSequenceGrad", "recurrent weight", x, hidden * hidden);
      for (const x of [gain, dGain, dBias]) if (x !== null) need("fastWeightsSequenceGrad", "layer-norm parameters", x, hidden);
      need("fastWeightsSequenceGrad", "saved", saved, fastWeightsSavedSize(batch, steps, hidden));
      if ([w, gain ?? w, out, saved, g, dXp, dW, dGain ?? w, dBias ?? w].every((x) => x instanceof Float32Array))
        return addon.fastWeightsSequenceGrad(w, gain, out, saved, g, dXp, dW, dGain, dBias, batch, steps, hidden, decay, eta, relu);
      fallback.fastWeightsSequenceGrad(w, gain, out, saved, g, dXp, dW, dGain, dBias, batch, steps, hidden, decay, eta, relu);
    },

    additiveScores(q, k, v, out, batch, steps, srcLen, hidden) {
      need("additiveScores", "queries", q, batch * steps * hidden);
      need("additiveScores", "keys", k, batch * srcLen * hidden);
      need("additiveScores", "score vector", v, hidden);
      need("additiveScores", "output", out, batch * steps * srcLen);
      if ([q, k, v, out].every((x) => x instanceof Float32Array)) return addon.additiveScores(q, k, v, out, batch, steps, srcLen, hidden);
      fallback.additiveScores(q, k, v, out, batch, steps, srcLen, hidden);
    },

    additiveScoresGrad(q, k, v, g, dq, dk, dv, batch, steps, srcLen, hidden) {
      for (const x of [q, dq]) need("additiveScoresGrad", "queries", x, batch * steps * hidden);
      for (const x of [k, dk]) need("additiveScoresGrad", "keys", x, batch * srcLen * hidden);
      for (const x of [v, dv]) need("additiveScoresGrad", "score vector", x, hidden);
      need("additiveScoresGrad", "gradient", g, batch * steps * srcLen);
      if ([q, k, v, g, dq ?? q, dk ?? q, dv ?? q].every((x) => x instanceof Float32Array))
        return addon.additiveScoresGrad(q, k, v, g, dq, dk, dv, batch, steps, srcLen, hidden);
      fallback.additiveScoresGrad(q, k, v, g, dq, dk, dv, batch, steps, srcLen, hidden);
    },

    sdpaForward(q, k, v, mask, out, lse, geom, scale, dropout, seed0, seed1) {
      sdpaGuard("sdpaForward", geom, q, k, v, mask);
      const [nb, lq, , , ev] = geom as unknown as number[];
      need("sdpaForward", "output", out, nb! * lq! * ev!);
      need("sdpaForward", "log-sum-exp", lse, nb! * lq!);
      if (
        q instanceof Float32Array &&
        k instanceof Float32Array &&
        v instanceof Float32Array &&
        out instanceof Float32Array &&
        lse instanceof Float32Array
      )
        return addon.sdpaForward(q, k, v, mask, out, lse, geom, scale, dropout, seed0, seed1);
      fallback.sdpaForward(q, k, v, mask, out, lse, geom, scale, dropout, seed0, seed1);
    },

    sdpaBackward(q, k, v, mask, out, dOut, lse, dq, dk, dv, geom, scale, dropout, seed0, seed1) {
      sdpaGuard("sdpaBackward", geom, q, k, v, mask);
      const [nb, lq, lk, e, ev] = geom as unknown as number[];
      need("sdpaBackward", "output", out, nb! * lq! * ev!);
      need("sdpaBackward", "output gradient", dOut, nb! * lq! * ev!);
      need("sdpaBackward", "log-sum-exp", lse, nb! * lq!);
      need("sdpaBackward", "q gradient", dq, nb! * lq! * e!);
      need("sdpaBackward", "k gradient", dk, nb! * lk! * e!);
      need("sdpaBackward", "v gradient", dv, nb! * lk! * ev!);
      const all = [q, k, v, out, dOut, lse, dq, dk, dv];
      if (all.every((a) => a instanceof Float32Array))
        return addon.sdpaBackward(q, k, v, mask, out, dOut, lse, dq, dk, dv, geom, scale, dropout, seed0, seed1);
      fallback.sdpaBackward(q, k, v, mask, out, dOut, lse, dq, dk, dv, geom, scale, dropout, seed0, seed1);
    },

    tri(x, out, batch, rows, cols, diag, upper) {
      need("tri", "input", x, batch * rows * cols);
      need("tri", "output", out, batch * rows * cols);
      if (sameNonF64(x, out)) return addon.tri(x, out, batch, rows, cols, diag, upper);
      fallback.tri(x, out, batch, rows, cols, diag, upper);
    },

    sgdUpdate(p, g, buf, lr, momentum, dampening, wd, nesterov, firstStep) {
      state("sgdUpdate", p, g, [buf]);
      if (allF32(p, g, buf)) return addon.sgdUpdate(p, g, buf, lr, momentum, dampening, wd, nesterov, firstStep);
      fallback.sgdUpdate(p, g, buf, lr, momentum, dampening, wd, nesterov, firstStep);
    },

    adamUpdate(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2) {
      state("adamUpdate", p, g, [m, v, vmax]);
      if (allF32(p, g, m, v, vmax)) return addon.adamUpdate(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2);
      fallback.adamUpdate(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2);
    },

    rmspropUpdate(p, g, sq, avgG, buf, lr, alpha, eps, wd, momentum) {
      state("rmspropUpdate", p, g, [sq, avgG, buf]);
      if (allF32(p, g, sq, avgG, buf)) return addon.rmspropUpdate(p, g, sq, avgG, buf, lr, alpha, eps, wd, momentum);
      fallback.rmspropUpdate(p, g, sq, avgG, buf, lr, alpha, eps, wd, momentum);
    },

    adagradUpdate(p, g, sum, lr, lrDecay, wd, eps, step) {
      state("adagradUpdate", p, g, [sum]);
      if (allF32(p, g, sum)) return addon.adagradUpdate(p, g, sum, lr, lrDecay, wd, eps, step);
      fallback.adagradUpdate(p, g, sum, lr, lrDecay, wd, eps, step);
    },
  };
}
