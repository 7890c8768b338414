/**
 * Shape and indexing ops. `reshape` shares storage; everything else copies through two kernels:
 * stridedCopy (permute, expand, slice, flip) and stridedScatter (their backward), plus the
 * index kernels (gather, scatterAdd, indexSelect, indexAdd).
 */
import { K } from "../backend/index.js";
import { promoteTypes, type DType } from "../core/dtype.js";
import { ArgumentError, describe, fmtShape, fmtValue, ShapeError } from "../core/errors.js";
import { checkShape, normAxes, normAxis, packLayout, shapesEqual, sizeOf, stridesOf, type Shape } from "../core/shape.js";
import { needsGrad, needsGradAny, record } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { cast, filled } from "./elementwise.js";
import { inversePerm, sumTo } from "./reduce.js";
import { assertHasDims, assertInt, assertNumber, assertTensor, checkIndices, dtypeOption, isList, optionsOf } from "./util.js";

// ---------------------------------------------------------------- views

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor("reshape", x);
  if (!isList(shape)) throw new ArgumentError(`reshape: shape must be an array, got ${describe(shape)}`);
  let infer = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new ShapeError(`reshape: only one dimension can be -1 in ${fmtShape(shape)}`);
      infer = i;
    } else {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`reshape: invalid shape ${fmtShape(shape)}`);
      known *= d;
    }
  });
  const target = [...shape];
  if (infer >= 0) {
    if (known === 0 || x.size % known !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    target[infer] = x.size / known;
  }
  if (sizeOf(target) !== x.size)
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
  if (shapesEqual(target, x.shape)) return x;
  // an empty tensor reshapes into any shape with a 0 in it, but not into one with a huge dimension
  checkShape("reshape", target);
  const out = new Tensor(x.data, target, x.dtype);
  if (needsGrad(x)) record("reshape", out, [x], (g) => [reshape(g, x.shape)]);
  return out;
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  assertTensor("flatten", x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis("flatten", startDim, x.ndim);
  const e = normAxis("flatten", endDim, x.ndim);
  if (s > e) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${fmtShape(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  assertTensor("squeeze", x);
  const drop = axes === undefined ? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normAxes("squeeze", axes, x.ndim);
  return reshape(
    x,
    x.shape.filter((d, i) => !(drop.includes(i) && d === 1)),
  );
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  assertTensor("unsqueeze", x);
  const a = normAxis("unsqueeze", axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

// ---------------------------------------------------------------- strided copies

/** Copies the strided view (offset, shape, strides) of x into a new contiguous tensor. */
function stridedView(op: string, x: Tensor, offset: number, shape: number[], strides: number[], backward: (g: Tensor) => Tensor): Tensor {
  const out = Tensor.empty(shape, x.dtype);
  if (out.size > 0) K.stridedCopy(x.data, out.data, offset, packLayout(shape, [strides]));
  if (needsGrad(x)) record(op, out, [x], (g) => [backward(g)]);
  return out;
}

/** A slice-like strided view (distinct positions, no broadcast); its backward is scatterView. */
function sliceView(x: Tensor, offset: number, shape: number[], strides: number[]): Tensor {
  return stridedView("slice", x, offset, shape, strides, (g) => scatterView(g, x.shape, offset, shape, strides));
}

/**
 * Adjoint of sliceView: zeros of `shape` with g written at the view's positions. Recorded (its own
 * backward is the view again) so that slices stay differentiable when the backward pass is
 * itself differentiated (createGraph).
 */
function scatterView(g: Tensor, shape: Shape, offset: number, viewShape: number[], strides: number[]): Tensor {
  const out = filled(shape, 0, g.dtype);
  if (g.size > 0) K.stridedScatter(g.data, out.data, offset, packLayout(viewShape, [strides]), false);
  if (needsGrad(g)) record("sliceBackward", out, [g], (gg) => [sliceView(gg, offset, viewShape, strides)]);
  return out;
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  assertTensor("permute", x);
  if (!isList(perm) || perm.length !== x.ndim) {
    throw new ArgumentError(`permute: permutation ${fmtValue(perm)} does not match the ${x.ndim} dimensions of ${fmtShape(x.shape)}`);
  }
  const p = perm.map((a) => normAxis("permute", a, x.ndim));
  if (new Set(p).size !== p.length) throw new ArgumentError(`permute: repeated axis in ${fmtValue(perm)}`);
  if (p.every((a, i) => a === i)) return x;
  const st = stridesOf(x.shape);
  const inv = inversePerm(p);
  return stridedView(
    "permute",
    x,
    0,
    p.map((a) => x.shape[a]!),
    p.map((a) => st[a]!),
    (g) => permute(g, inv),
  );
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  assertTensor("transpose", x);
  if (x.ndim < 2 && dim0 === -2 && dim1 === -1) return x;
  const a = normAxis("transpose", dim0, x.ndim);
  const b = normAxis("transpose", dim1, x.ndim);
  if (a === b) return x;
  const perm = [...x.shape.keys()];
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Broadcasts x to `shape` (a -1 keeps that dimension), materialising the copy. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor("expand", x);
  if (!isList(shape))
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)}: the target shape must be an array, got ${describe(shape)}`);
  if (shape.length < x.ndim) throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  const lead = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  checkShape("expand", target);
  const st = stridesOf(x.shape);
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const s = x.shape[i - lead]!;
    if (s === d) return st[i - lead]!;
    if (s === 1) return 0;
    throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  });
  if (shapesEqual(target, x.shape)) return x;
  return stridedView("expand", x, 0, target, strides, (g) => sumTo(g, x.shape));
}

export type SliceSpec = number | null | readonly [number | null, number | null, number?] | { start?: number; end?: number; step?: number };

/**
 * Python-style slicing, one spec per leading axis: a number picks one index (dropping the axis),
 * null keeps the axis, [start, end, step] or { start, end, step } slices it (negative values count
 * from the end; a negative step walks backwards).
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  assertTensor("slice", x);
  if (!isList(specs) || specs.length > x.ndim) {
    throw new ArgumentError(`slice: ${isList(specs) ? specs.length : "non-array"} specs for a tensor of shape ${fmtShape(x.shape)}`);
  }
  const st = stridesOf(x.shape);
  let offset = 0;
  const shape: number[] = [];
  const strides: number[] = [];
  x.shape.forEach((n, axis) => {
    const spec = specs[axis] ?? null;
    if (spec === null) {
      shape.push(n);
      strides.push(st[axis]!);
      return;
    }
    if (typeof spec === "number") {
      if (!Number.isInteger(spec) || spec < -n || spec >= n) {
        throw new ArgumentError(`slice: index ${spec} is out of range for axis ${axis} of size ${n} (shape ${fmtShape(x.shape)})`);
      }
      offset += (spec < 0 ? spec + n : spec) * st[axis]!;
      return;
    }
    const [start, end, step] = rangeSpec(spec, axis);
    const [s0, len, stp] = resolveRange(x, axis, start, end, step ?? 1);
    offset += s0 * st[axis]!;
    shape.push(len);
    strides.push(stp * st[axis]!);
  });
  return sliceView(x, offset, shape, strides);
}

/** The [start, end, step] of a range spec: an array of at most 3 entries or a { start, end, step } object. */
function rangeSpec(spec: unknown, axis: number): [number | null, number | null, number | undefined] {
  if (Array.isArray(spec)) {
    const list = spec as unknown[];
    if (list.length > 3) throw new ArgumentError(`slice: a range on axis ${axis} is [start, end, step], got ${list.length} entries`);
    return [(list[0] ?? null) as number | null, (list[1] ?? null) as number | null, (list[2] ?? undefined) as number | undefined];
  }
  if (typeof spec === "object" && spec !== null && Object.getPrototypeOf(spec) === Object.prototype) {
    const r = spec as { start?: number | null; end?: number | null; step?: number | null };
    return [r.start ?? null, r.end ?? null, r.step ?? undefined];
  }
  throw new ArgumentError(
    `slice: spec for axis ${axis} must be an index, null, [start, end, step] or { start, end, step }, got ${describe(spec)}`,
  );
}

function resolveRange(x: Tensor, axis: number, start: number | null, end: number | null, step: number): [number, number, number] {
  const n = x.shape[axis]!;
  if (!Number.isInteger(step) || step === 0)
    throw new ArgumentError(`slice: step must be a non-zero integer, got ${fmtValue(step)} on axis ${axis}`);
  for (const v of [start, end]) {
    if (v !== null && !Number.isInteger(v)) throw new ArgumentError(`slice: bounds must be integers, got ${fmtValue(v)} on axis ${axis}`);
  }
  const norm = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  let s: number;
  let e: number;
  if (step > 0) {
    s = start === null ? 0 : norm(start, 0, n);
    e = end === null ? n : norm(end, 0, n);
  } else {
    s = start === null ? n - 1 : norm(start, -1, n - 1);
    e = end === null ? -1 : end < 0 && end + n < 0 ? -1 : norm(end, -1, n - 1);
  }
  const len = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
  return [len === 0 ? 0 : s, len, step];
}

export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  assertTensor("narrow", x);
  assertHasDims("narrow", x);
  const a = normAxis("narrow", axis, x.ndim);
  const n = x.shape[a]!;
  assertNumber("narrow", start, "start", { integer: true, min: -n, max: n });
  const s = start < 0 ? start + n : start;
  assertNumber("narrow", length, "length", { integer: true, min: 0, max: n - s });
  const specs: SliceSpec[] = x.shape.map(() => null);
  specs[a] = [s, s + length, 1];
  return slice(x, specs);
}

export function flip(x: Tensor, axes: number | readonly number[]): Tensor {
  assertTensor("flip", x);
  const ax = normAxes("flip", axes, x.ndim);
  const st = stridesOf(x.shape);
  let offset = 0;
  const strides = st.map((s, i) => {
    if (!ax.includes(i)) return s;
    offset += (x.shape[i]! - 1) * s;
    return -s;
  });
  if (x.size === 0) offset = 0;
  return stridedView("flip", x, offset, [...x.shape], strides, (g) => flip(g, ax));
}

// ---------------------------------------------------------------- joins and splits

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isList(tensors) || tensors.length === 0) throw new ArgumentError("concat: expected a non-empty array of tensors");
  tensors.forEach((t, i) => assertTensor("concat", t, `tensor ${i}`));
  const first = tensors[0]!;
  if (tensors.some((t) => t.ndim === 0)) {
    throw new ShapeError(
      `concat: 0-d tensors cannot be concatenated (shapes ${tensors.map((u) => fmtShape(u.shape)).join(", ")}); use stack`,
    );
  }
  const a = normAxis("concat", axis, first.ndim);
  // mixed dtypes promote like arithmetic (an int32 tensor joined with a float32 one gives float32)
  const dtype = tensors.reduce<DType>((d, t) => promoteTypes(d, t.dtype), first.dtype);
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes ${tensors.map((u) => fmtShape(u.shape)).join(", ")} differ outside axis ${axis}`);
    }
  }
  const parts = tensors.map((t) => (t.dtype === dtype ? t : cast(t, dtype)));
  const sizes = parts.map((t) => t.shape[a]!);
  const total = sizes.reduce((s, v) => s + v, 0);
  const shape = [...first.shape];
  shape[a] = total;
  checkShape("concat", shape);
  const out = Tensor.empty(shape, dtype);
  const outer = sizeOf(shape.slice(0, a));
  const inner = sizeOf(shape.slice(a + 1));
  let at = 0;
  for (const t of parts) {
    const block = t.shape[a]! * inner;
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * block, (o + 1) * block), o * total * inner + at * inner);
    at += t.shape[a]!;
  }
  if (needsGradAny(parts)) {
    record("concat", out, parts, (g) => {
      let s = 0;
      return parts.map((t) => {
        const piece = t.requiresGrad ? narrow(g, a, s, t.shape[a]!) : null;
        s += t.shape[a]!;
        return piece;
      });
    });
  }
  return out;
}

export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!isList(tensors) || tensors.length === 0) throw new ArgumentError("stack: expected a non-empty array of tensors");
  tensors.forEach((t, i) => assertTensor("stack", t, `tensor ${i}`));
  const first = tensors[0]!;
  for (const t of tensors) {
    if (!shapesEqual(t.shape, first.shape))
      throw new ShapeError(`stack: all tensors must have the same shape, got ${tensors.map((u) => fmtShape(u.shape)).join(", ")}`);
  }
  const a = normAxis("stack", axis, first.ndim + 1);
  return concat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

/** Splits along `axis` into pieces of `size` (the last may be smaller) or of the listed sizes. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  assertTensor("split", x);
  assertHasDims("split", x);
  const a = normAxis("split", axis, x.ndim);
  const n = x.shape[a]!;
  let list: number[];
  if (typeof sizes === "number") {
    assertNumber("split", sizes, "size", { integer: true, min: 1 });
    list = [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else if (isList(sizes)) {
    list = [...sizes] as number[];
    if (list.some((s) => !Number.isInteger(s) || s < 0) || list.reduce((s, v) => s + v, 0) !== n) {
      throw new ShapeError(`split: sizes ${fmtShape(list)} do not add up to ${n}, the size of axis ${axis} of ${fmtShape(x.shape)}`);
    }
  } else {
    throw new ArgumentError(`split: sizes must be a positive integer or an array of sizes, got ${describe(sizes)}`);
  }
  let s = 0;
  return list.map((len) => {
    const piece = narrow(x, a, s, len);
    s += len;
    return piece;
  });
}

/** Splits into `chunks` pieces of equal size (the last may be smaller), like torch.chunk. */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  assertTensor("chunk", x);
  assertHasDims("chunk", x);
  assertNumber("chunk", chunks, "chunks", { integer: true, min: 1 });
  const n = x.shape[normAxis("chunk", axis, x.ndim)]!;
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

/**
 * Constant padding. `pads` lists [before, after] pairs starting from the LAST axis, like
 * torch.nn.functional.pad: [left, right, top, bottom, ...]. Negative pads crop.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  assertTensor("pad", x);
  if (!isList(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.ndim || pads.some((p) => !Number.isInteger(p))) {
    throw new ArgumentError(`pad: pads must be integer [before, after] pairs for at most ${x.ndim} axes, got ${fmtValue(pads)}`);
  }
  let cur = x;
  // crop first (negative pads), then pad
  const specs: SliceSpec[] = x.shape.map(() => null);
  const shape = [...x.shape];
  for (let k = 0; k < pads.length / 2; k++) {
    const axis = x.ndim - 1 - k;
    const before = pads[2 * k]!;
    const after = pads[2 * k + 1]!;
    const start = Math.max(0, -before);
    const end = x.shape[axis]! - Math.max(0, -after);
    if (end < start) throw new ShapeError(`pad: pads ${fmtValue(pads)} crop axis ${axis} of ${fmtShape(x.shape)} below zero`);
    if (before < 0 || after < 0) specs[axis] = [start, end, 1];
    shape[axis] = x.shape[axis]! + before + after;
  }
  checkShape("pad", shape, ` (input ${fmtShape(x.shape)} with pads ${fmtValue(pads)})`);
  if (specs.some((s) => s !== null)) cur = slice(cur, specs);
  const st = stridesOf(shape);
  let offset = 0;
  for (let k = 0; k < pads.length / 2; k++) offset += Math.max(0, pads[2 * k]!) * st[x.ndim - 1 - k]!;
  const out = filled(shape, value, cur.dtype);
  if (cur.size > 0) K.stridedScatter(cur.data, out.data, offset, packLayout(cur.shape, [st]), false);
  if (needsGrad(cur)) {
    // the gradient is g cropped to where the input was written: a slice, differentiable again
    const src = cur;
    record("pad", out, [cur], (g) => [sliceView(g, offset, [...src.shape], st)]);
  }
  return out;
}

/** Circular shift along axes (elements shifted past the end come back at the start). */
export function roll(x: Tensor, shifts: number | readonly number[], axes?: number | readonly number[]): Tensor {
  assertTensor("roll", x);
  if (axes === undefined) {
    if (typeof shifts !== "number") throw new ArgumentError(`roll: without axes, shifts must be one integer, got ${describe(shifts)}`);
    assertNumber("roll", shifts, "shift", { integer: true });
    return reshape(roll(reshape(x, [x.size]), shifts, 0), x.shape);
  }
  assertHasDims("roll", x);
  const sh = typeof shifts === "number" ? [shifts] : isList(shifts) ? [...shifts] : null;
  const ax = typeof axes === "number" ? [axes] : isList(axes) ? [...axes] : null;
  if (sh === null) throw new ArgumentError(`roll: shifts must be an integer or an array of integers, got ${describe(shifts)}`);
  if (ax === null) throw new ArgumentError(`roll: axes must be an integer or an array of integers, got ${describe(axes)}`);
  if (sh.length !== ax.length) throw new ArgumentError(`roll: ${sh.length} shifts for ${ax.length} axes`);
  let out = x;
  sh.forEach((s, i) => {
    assertNumber("roll", s, "shift", { integer: true });
    const a = normAxis("roll", ax[i], x.ndim);
    const n = x.shape[a]!;
    if (n === 0) return;
    const k = ((s % n) + n) % n;
    if (k === 0) return;
    out = concat([narrow(out, a, n - k, k), narrow(out, a, 0, n - k)], a);
  });
  return out;
}

/** Tiles x: repeat(x, [2, 3]) stacks 2 copies along axis -2 and 3 along axis -1, like torch.repeat. */
export function repeat(x: Tensor, reps: readonly number[]): Tensor {
  assertTensor("repeat", x);
  if (!isList(reps) || reps.length < x.ndim || reps.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new ArgumentError(`repeat: reps ${fmtValue(reps)} must be non-negative integers, at least one per axis of ${fmtShape(x.shape)}`);
  }
  const lead = reps.length - x.ndim;
  const src = [...new Array<number>(lead).fill(1), ...x.shape];
  const shape = src.map((d, i) => d * reps[i]!);
  checkShape("repeat", shape, ` (${fmtShape(x.shape)} repeated ${fmtShape(reps)})`);
  const inter: number[] = [];
  const target: number[] = [];
  src.forEach((d, i) => {
    inter.push(1, d);
    target.push(reps[i]!, d);
  });
  return reshape(expand(reshape(x, inter), target), shape);
}

export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle("tril", x, diagonal, false);
}
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle("triu", x, diagonal, true);
}
function triangle(op: string, x: Tensor, diagonal: number, upper: boolean): Tensor {
  assertTensor(op, x);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected at least 2 dimensions, got ${fmtShape(x.shape)}`);
  assertNumber(op, diagonal, "diagonal", { integer: true });
  const rows = x.shape[x.ndim - 2]!;
  const cols = x.shape[x.ndim - 1]!;
  const batch = x.size / Math.max(rows * cols, 1);
  const out = Tensor.empty(x.shape, x.dtype);
  K.tri(x.data, out.data, x.size === 0 ? 0 : batch, rows, cols, diagonal, upper);
  if (needsGrad(x)) record(op, out, [x], (g) => [triangle(op, g, diagonal, upper)]);
  return out;
}

// ---------------------------------------------------------------- indexing

/** Splits x's shape around `axis` into (outer, n, inner); a 0-d tensor is one element along its axis 0. */
function around(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis] ?? 1, sizeOf(shape.slice(axis + 1))];
}

/** torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along axis; index matches x off-axis. */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  assertTensor("gather", x);
  assertTensor("gather", index, "index");
  assertInt("gather", index, "index");
  const a = normAxis("gather", axis, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== a && d !== x.shape[i])) {
    throw new ShapeError(
      `gather: index shape ${fmtShape(index.shape)} must match input shape ${fmtShape(x.shape)} except along axis ${axis}`,
    );
  }
  const [outer, n, inner] = around(x.shape, a);
  const idx = checkIndices("gather", index, n);
  const out = Tensor.empty(index.shape, x.dtype);
  K.gather(x.data, idx, out.data, outer, n, inner, index.shape[a] ?? 1);
  if (needsGrad(x)) record("gather", out, [x], (g) => [scatterAdd(filled(x.shape, 0, g.dtype), a, index, g)]);
  return out;
}

/** out = x with src added at index along axis (x[..., index[j], ...] += src[..., j, ...]). */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  assertTensor("scatterAdd", x);
  assertTensor("scatterAdd", index, "index");
  assertTensor("scatterAdd", src, "src");
  assertInt("scatterAdd", index, "index");
  const a = normAxis("scatterAdd", axis, x.ndim);
  if (!shapesEqual(index.shape, src.shape) || index.ndim !== x.ndim || index.shape.some((d, i) => i !== a && d !== x.shape[i])) {
    throw new ShapeError(
      `scatterAdd: index ${fmtShape(index.shape)} and src ${fmtShape(src.shape)} must have the same shape, matching input ${fmtShape(x.shape)} except along axis ${axis}`,
    );
  }
  const s = src.dtype === x.dtype ? src : cast(src, x.dtype);
  const [outer, n, inner] = around(x.shape, a);
  const idx = checkIndices("scatterAdd", index, n);
  const out = Tensor.empty(x.shape, x.dtype);
  out.data.set(x.data);
  K.scatterAdd(s.data, idx, out.data, outer, n, inner, index.shape[a] ?? 1);
  if (needsGrad(x, s)) record("scatterAdd", out, [x, s], (g) => [x.requiresGrad ? g : null, s.requiresGrad ? gather(g, a, index) : null]);
  return out;
}

/**
 * Picks entries of x along axis by a 1-D (or 0-d: one entry) int32 index, negative entries counting
 * from the end. A 0-d x is one element: its index must hold exactly one entry, 0 or -1, and the
 * result is 0-d (PyTorch 2 semantics; 1.13 read uninitialised memory for an empty index).
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  assertTensor("indexSelect", x);
  assertTensor("indexSelect", index, "index");
  assertInt("indexSelect", index, "index");
  if (index.ndim > 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const a = normAxis("indexSelect", axis, x.ndim);
  if (x.ndim === 0) {
    if (index.size !== 1) {
      throw new ShapeError(
        `indexSelect: a 0-d input ${fmtShape(x.shape)} takes exactly one index, got index of shape ${fmtShape(index.shape)}`,
      );
    }
    const idx = checkIndices("indexSelect", index, 1, true);
    return reshape(selectAlong(reshape(x, [1]), 0, idx), []);
  }
  return selectAlong(x, a, checkIndices("indexSelect", index, x.shape[a]!, true));
}

/** indexSelect on validated, non-negative indices; its backward is addAlong. */
function selectAlong(x: Tensor, a: number, idx: Int32Array): Tensor {
  const [outer, n, inner] = around(x.shape, a);
  const shape = [...x.shape];
  shape[a] = idx.length;
  const out = Tensor.empty(shape, x.dtype);
  K.indexSelect(x.data, idx, out.data, outer, n, inner, idx.length);
  if (needsGrad(x)) record("indexSelect", out, [x], (g) => [addAlong(g, x.shape, a, idx)]);
  return out;
}

/**
 * Adjoint of selectAlong: zeros of `shape` with the slices of g added at idx along axis a.
 * Recorded (its backward is selectAlong) so indexSelect is differentiable to any order.
 */
function addAlong(g: Tensor, shape: Shape, a: number, idx: Int32Array): Tensor {
  const [outer, n, inner] = around(shape, a);
  const out = filled(shape, 0, g.dtype);
  K.indexAdd(g.data, idx, out.data, outer, n, inner, idx.length);
  if (needsGrad(g)) record("indexAdd", out, [g], (gg) => [selectAlong(gg, a, idx)]);
  return out;
}

/** One-hot encoding of int32 class indices: shape [...index.shape, numClasses]. */
export function oneHot(index: Tensor, numClasses: number, opts: { dtype?: "float32" | "float64" | "int32" } = {}): Tensor {
  assertTensor("oneHot", index, "index");
  optionsOf("oneHot", opts);
  assertInt("oneHot", index, "index");
  assertNumber("oneHot", numClasses, "numClasses", { integer: true, min: 1 });
  const dtype = dtypeOption("oneHot", opts.dtype, "float32", ["float32", "float64", "int32"]);
  const shape = checkShape("oneHot", [...index.shape, numClasses]);
  const idx = checkIndices("oneHot", index, numClasses);
  const out = filled(shape, 0, dtype);
  for (let i = 0; i < idx.length; i++) out.data[i * numClasses + idx[i]!] = 1;
  return out;
}
