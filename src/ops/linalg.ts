/** matmul (batch broadcasting, transpose flags), bmm, outer, and einsum for two-operand contractions. */
import { K } from "../backend/index.js";
import type { FloatArray } from "../backend/kernels.js";
import { promoteTypes } from "../core/dtype.js";
import { ArgumentError, fmtShape, ShapeError } from "../core/errors.js";
import { checkShape, sizeOf, tryBroadcastShapes } from "../core/shape.js";
import { needsGrad, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { cast, mul } from "./elementwise.js";
import { sum, sumTo } from "./reduce.js";
import { expand, permute, reshape, squeeze, unsqueeze } from "./shape.js";
import { assertTensor, optionsOf } from "./util.js";

export interface MatmulOptions {
  /** Use a's last two axes transposed (no copy is made). */
  transA?: boolean;
  transB?: boolean;
}

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted to a row or column and the extra
 * axis removed afterwards; leading (batch) axes broadcast. transA/transB multiply by a's or b's
 * transpose of the last two axes without copying (attention uses them for Q K^T).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  assertTensor("matmul", a, "first operand");
  assertTensor("matmul", b, "second operand");
  optionsOf("matmul", opts);
  const ta = opts.transA === true;
  const tb = opts.transB === true;
  if (a.ndim === 0 || b.ndim === 0)
    throw new ShapeError(`matmul: both operands need at least 1 dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  let dtype = promoteTypes(a.dtype, b.dtype);
  if (dtype === "int32" || dtype === "bool") dtype = "float32";
  let x = a.dtype === dtype ? a : cast(a, dtype);
  let y = b.dtype === dtype ? b : cast(b, dtype);
  const vecA = x.ndim === 1;
  const vecB = y.ndim === 1;
  if (vecA) x = reshape(x, ta ? [x.size, 1] : [1, x.size]);
  if (vecB) y = reshape(y, tb ? [1, y.size] : [y.size, 1]);
  let out = matmulNd(x, y, ta, tb, a, b);
  if (vecA) out = squeeze(out, -2);
  if (vecB) out = squeeze(out, -1);
  return out;
}

/** `orig` are the operands as the caller passed them (before 1-D promotion), for messages. */
function matmulNd(a: Tensor, b: Tensor, ta: boolean, tb: boolean, origA: Tensor, origB: Tensor): Tensor {
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const m = ta ? ac : ar;
  const k = ta ? ar : ac;
  const kb = tb ? bc : br;
  const n = tb ? br : bc;
  const shapes = `${fmtShape(origA.shape)}${ta ? "^T" : ""} and ${fmtShape(origB.shape)}${tb ? "^T" : ""}`;
  if (k !== kb) throw new ShapeError(`matmul: shapes ${shapes} are not aligned (${k} != ${kb})`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batchShape = tryBroadcastShapes(batchA, batchB);
  if (batchShape === null) throw new ShapeError(`matmul: batch dimensions of ${shapes} cannot be broadcast together`);
  checkShape("matmul", [...batchShape, m, n], ` (the product of ${shapes})`);
  // (..., m, k) @ (k, n): fold the batch into the rows, one GEMM
  if (b.ndim === 2 && a.ndim > 2 && !ta) {
    const rows = sizeOf(a.shape.slice(0, -1));
    const out = gemm(reshape(a, [rows, k]), b, 1, rows, n, k, false, tb, 0, 0);
    return reshape(out, [...a.shape.slice(0, -1), n]);
  }
  const batch = sizeOf(batchShape);
  const sizeA = sizeOf(batchA);
  const sizeB = sizeOf(batchB);
  // an operand whose batch is entirely broadcast uses stride 0; a partial broadcast is materialised
  const xa = sizeA === batch || sizeA === 1 ? a : expand(a, [...batchShape, ar, ac]);
  const xb = sizeB === batch || sizeB === 1 ? b : expand(b, [...batchShape, br, bc]);
  // stride 0 also when the batch is empty (batch 0): backward then views the operand as one matrix
  const strideA = sizeOf(xa.shape.slice(0, -2)) === 1 && batch !== 1 ? 0 : ar * ac;
  const strideB = sizeOf(xb.shape.slice(0, -2)) === 1 && batch !== 1 ? 0 : br * bc;
  const out = gemm(xa, xb, batch, m, n, k, ta, tb, strideA, strideB);
  return reshape(out, [...batchShape, m, n]);
}

/** One recorded batched GEMM over flat operands; gradients use the same kernel with flipped flags. */
function gemm(
  a: Tensor,
  b: Tensor,
  batch: number,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
  strideA: number,
  strideB: number,
): Tensor {
  const out = Tensor.empty([batch, m, n], a.dtype);
  if (out.size > 0) {
    if (k === 0) out.data.fill(0);
    else K.matmul(a.data as FloatArray, b.data as FloatArray, out.data as FloatArray, batch, m, n, k, ta, tb, strideA, strideB);
  }
  if (needsGrad(a, b)) {
    record("matmul", out, [a, b], (g) => {
      const g3 = reshape(g, [batch, m, n]);
      const a3 = reshape(a, strideA === 0 ? [1, ...a.shape.slice(-2)] : [batch, ...a.shape.slice(-2)]);
      const b3 = reshape(b, strideB === 0 ? [1, ...b.shape.slice(-2)] : [batch, ...b.shape.slice(-2)]);
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      if (a.requiresGrad) {
        // C = op(A) op(B): dA = G op(B)^T, or for a transposed A, op(B) G^T
        const d = ta ? matmul(b3, g3, { transA: tb, transB: true }) : matmul(g3, b3, { transB: !tb });
        da = reshape(sumTo(d, a3.shape), a.shape);
      }
      if (b.requiresGrad) {
        const d = tb ? matmul(g3, a3, { transA: true, transB: ta }) : matmul(a3, g3, { transA: !ta });
        db = reshape(sumTo(d, b3.shape), b.shape);
      }
      return [da, db];
    });
  }
  return out;
}

/** Batched matrix product of two 3-D tensors with equal batch size. */
export function bmm(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  assertTensor("bmm", a, "first operand");
  assertTensor("bmm", b, "second operand");
  optionsOf("bmm", opts);
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(`bmm: expected two 3-D tensors with the same batch size, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return matmul(a, b, opts);
}

/** Outer product of two vectors. */
export function outer(a: Tensor, b: Tensor): Tensor {
  assertTensor("outer", a, "first operand");
  assertTensor("outer", b, "second operand");
  if (a.ndim !== 1 || b.ndim !== 1)
    throw new ShapeError(`outer: expected two 1-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  checkShape("outer", [a.size, b.size]);
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

/**
 * Einstein summation for the contractions attention and memory models use: one or two operands,
 * explicit or implicit output ("bij,bjk->bik", "bhqd,bhkd->bhqk", "ij->ji", "ii" is rejected).
 * Two-operand contractions run as one batched GEMM. Not supported (clear error): ellipsis,
 * repeated letters within one operand (diagonals), more than two operands.
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (typeof equation !== "string") throw new ArgumentError("einsum: equation must be a string");
  operands.forEach((t, i) => assertTensor("einsum", t, `operand ${i}`));
  const eq = equation.replace(/\s+/g, "");
  if (eq.includes(".")) throw new ArgumentError(`einsum: ellipsis is not supported in "${equation}"`);
  const [lhs, rhsRaw] = eq.split("->") as [string, string | undefined];
  const inputs = lhs.split(",");
  if (inputs.length !== operands.length)
    throw new ArgumentError(`einsum: "${equation}" names ${inputs.length} operands, got ${operands.length}`);
  if (inputs.length > 2) throw new ArgumentError(`einsum: at most two operands are supported, got ${inputs.length} in "${equation}"`);
  const sizes = new Map<string, number>();
  inputs.forEach((spec, i) => {
    const t = operands[i]!;
    if (!/^[a-zA-Z]*$/.test(spec)) throw new ArgumentError(`einsum: invalid subscripts "${spec}" in "${equation}"`);
    if (spec.length !== t.ndim)
      throw new ShapeError(`einsum: subscripts "${spec}" do not match operand ${i} of shape ${fmtShape(t.shape)}`);
    if (new Set(spec).size !== spec.length) throw new ArgumentError(`einsum: repeated subscript in "${spec}" (diagonals) is not supported`);
    [...spec].forEach((c, d) => {
      const prev = sizes.get(c);
      const s = t.shape[d]!;
      if (prev !== undefined && prev !== s) throw new ShapeError(`einsum: subscript ${c} has sizes ${prev} and ${s} in "${equation}"`);
      sizes.set(c, s);
    });
  });
  const counts = new Map<string, number>();
  for (const c of inputs.join("")) counts.set(c, (counts.get(c) ?? 0) + 1);
  const rhs =
    rhsRaw ??
    [...counts.keys()]
      .filter((c) => counts.get(c) === 1)
      .sort()
      .join("");
  for (const c of rhs)
    if (!sizes.has(c)) throw new ArgumentError(`einsum: output subscript ${c} does not appear in the inputs of "${equation}"`);
  if (new Set(rhs).size !== rhs.length) throw new ArgumentError(`einsum: repeated output subscript in "${equation}"`);
  checkShape(
    "einsum",
    [...rhs].map((c) => sizes.get(c)!),
    ` (the output of "${equation}")`,
  );

  if (operands.length === 1) {
    const spec = inputs[0]!;
    const summed = [...spec].map((c, i) => (rhs.includes(c) ? -1 : i)).filter((i) => i >= 0);
    const reduced = summed.length > 0 ? sum(operands[0]!, summed) : operands[0]!;
    const kept = [...spec].filter((c) => rhs.includes(c));
    return permute(
      reduced,
      [...rhs].map((c) => kept.indexOf(c)),
    );
  }

  // Sum out letters that appear in only one operand and not in the output, then contract.
  let [A, B] = operands as [Tensor, Tensor];
  let [sa, sb] = inputs as [string, string];
  const dropOnly = (t: Tensor, s: string, other: string): [Tensor, string] => {
    const axes = [...s].map((c, i) => (!rhs.includes(c) && !other.includes(c) ? i : -1)).filter((i) => i >= 0);
    if (axes.length === 0) return [t, s];
    return [sum(t, axes), [...s].filter((_, i) => !axes.includes(i)).join("")];
  };
  [A, sa] = dropOnly(A, sa, sb);
  [B, sb] = dropOnly(B, sb, sa);
  const batch = [...sa].filter((c) => sb.includes(c) && rhs.includes(c));
  const contract = [...sa].filter((c) => sb.includes(c) && !rhs.includes(c));
  const keepA = [...sa].filter((c) => !sb.includes(c));
  const keepB = [...sb].filter((c) => !sa.includes(c));
  const size = (cs: string[]): number => cs.reduce((p, c) => p * sizes.get(c)!, 1);
  const a3 = reshape(
    permute(
      A,
      [...batch, ...keepA, ...contract].map((c) => sa.indexOf(c)),
    ),
    [size(batch), size(keepA), size(contract)],
  );
  const b3 = reshape(
    permute(
      B,
      [...batch, ...contract, ...keepB].map((c) => sb.indexOf(c)),
    ),
    [size(batch), size(contract), size(keepB)],
  );
  const prodShape = [...batch, ...keepA, ...keepB];
  const res = reshape(
    matmul(a3, b3),
    prodShape.map((c) => sizes.get(c)!),
  );
  return permute(
    res,
    [...rhs].map((c) => prodShape.indexOf(c)),
  );
}
