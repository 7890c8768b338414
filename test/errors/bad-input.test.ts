/**
 * Bad input gets an EngramError: one row per (op, kind of mistake) with the error class it must
 * raise and a pattern for its message, which starts with the op name and shows the shapes involved.
 * Every row runs on every available backend (validation happens before any kernel, so the answer
 * must not depend on the backend).
 */
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

type ErrorClass = typeof eg.EngramError;

interface Case {
  op: string;
  what: string;
  call: () => unknown;
  type: ErrorClass;
  message: RegExp;
}

const f32 = (shape: number[]): eg.Tensor => eg.zeros(shape);
const i32 = (values: number[]): eg.Tensor => eg.tensor(values, { dtype: "int32" });
const x23 = (): eg.Tensor => eg.randn([2, 3]);
const disposed = (): eg.Tensor => {
  const t = eg.ones([2, 3]);
  t.dispose();
  return t;
};
/** Casts for calls that break the static types on purpose. */
const bad = <T>(v: unknown): T => v as T;

const { ShapeError, DTypeError, ArgumentError, EngramError } = eg;

const CASES: Case[] = [
  // ------------------------------------------------------------ shapes
  {
    op: "matmul",
    what: "inner dimensions differ",
    call: () => eg.matmul(f32([2, 3]), f32([4, 5])),
    type: ShapeError,
    message: /^matmul: .*\[2, 3\].*\[4, 5\]/,
  },
  {
    op: "matmul",
    what: "inner dimensions differ with transB",
    call: () => eg.matmul(f32([2, 3]), f32([4, 5]), { transB: true }),
    type: ShapeError,
    message: /^matmul: .*\[2, 3\].*\[4, 5\]\^T/,
  },
  {
    op: "matmul",
    what: "vector of the wrong length",
    call: () => eg.matmul(f32([2, 3]), f32([4])),
    type: ShapeError,
    message: /^matmul: .*\[2, 3\].*\[4/,
  },
  {
    op: "matmul",
    what: "0-d operand",
    call: () => eg.matmul(eg.tensor(1), f32([2, 3])),
    type: ShapeError,
    message: /^matmul: .*\[\].*\[2, 3\]/,
  },
  {
    op: "matmul",
    what: "batch dimensions that do not broadcast",
    call: () => eg.matmul(f32([2, 3, 4]), f32([3, 4, 5])),
    type: ShapeError,
    message: /^matmul: .*\[2, 3, 4\].*\[3, 4, 5\]/,
  },
  {
    op: "bmm",
    what: "2-D operands",
    call: () => eg.bmm(f32([2, 3]), f32([3, 2])),
    type: ShapeError,
    message: /^bmm: .*\[2, 3\].*\[3, 2\]/,
  },
  {
    op: "bmm",
    what: "different batch sizes",
    call: () => eg.bmm(f32([2, 3, 4]), f32([3, 4, 5])),
    type: ShapeError,
    message: /^bmm: .*\[2, 3, 4\].*\[3, 4, 5\]/,
  },
  { op: "outer", what: "2-D operand", call: () => eg.outer(f32([2, 2]), f32([3])), type: ShapeError, message: /^outer: .*\[2, 2\].*\[3\]/ },
  {
    op: "add",
    what: "shapes that do not broadcast",
    call: () => eg.add(f32([2, 3]), f32([4])),
    type: ShapeError,
    message: /^add: .*\[2, 3\].*\[4\]/,
  },
  {
    op: "mul",
    what: "shapes that do not broadcast",
    call: () => eg.mul(f32([5, 1, 3]), f32([2, 4])),
    type: ShapeError,
    message: /^mul: .*\[5, 1, 3\].*\[2, 4\]/,
  },
  {
    op: "maximum",
    what: "shapes that do not broadcast",
    call: () => eg.maximum(f32([3]), f32([2])),
    type: ShapeError,
    message: /^maximum: .*\[3\].*\[2\]/,
  },
  {
    op: "where",
    what: "condition that does not broadcast",
    call: () => eg.where(eg.tensor([true, false]), f32([3]), 0),
    type: ShapeError,
    message: /^where: .*\[2\].*\[3\]/,
  },
  {
    op: "concat",
    what: "shapes differ off the axis",
    call: () => eg.concat([f32([2, 3]), f32([3, 3])], 1),
    type: ShapeError,
    message: /^concat: .*\[2, 3\].*\[3, 3\]/,
  },
  {
    op: "concat",
    what: "different ranks",
    call: () => eg.concat([f32([2, 3]), f32([2])], 0),
    type: ShapeError,
    message: /^concat: .*\[2, 3\].*\[2\]/,
  },
  {
    op: "concat",
    what: "0-d tensors",
    call: () => eg.concat([eg.tensor(1), eg.tensor(2)]),
    type: ShapeError,
    message: /^concat: .*\[\]/,
  },
  {
    op: "stack",
    what: "different shapes",
    call: () => eg.stack([f32([2, 3]), f32([3, 2])]),
    type: ShapeError,
    message: /^stack: .*\[2, 3\].*\[3, 2\]/,
  },
  {
    op: "reshape",
    what: "size mismatch",
    call: () => eg.reshape(f32([2, 3]), [4, 2]),
    type: ShapeError,
    message: /^reshape: .*\[2, 3\].*\[4, 2\]/,
  },
  {
    op: "reshape",
    what: "two inferred dimensions",
    call: () => eg.reshape(f32([2, 3]), [-1, -1]),
    type: ShapeError,
    message: /^reshape: .*\[-1, -1\]/,
  },
  {
    op: "reshape",
    what: "inferred dimension that does not divide",
    call: () => eg.reshape(f32([2, 3]), [4, -1]),
    type: ShapeError,
    message: /^reshape: .*\[2, 3\].*\[4, -1\]/,
  },
  {
    op: "expand",
    what: "non-singleton dimension",
    call: () => eg.expand(f32([2, 3]), [4, 3]),
    type: ShapeError,
    message: /^expand: .*\[2, 3\].*\[4, 3\]/,
  },
  {
    op: "expand",
    what: "fewer dimensions",
    call: () => eg.expand(f32([2, 3]), [3]),
    type: ShapeError,
    message: /^expand: .*\[2, 3\].*\[3\]/,
  },
  {
    op: "split",
    what: "sizes that do not add up",
    call: () => eg.split(f32([5, 2]), [2, 2]),
    type: ShapeError,
    message: /^split: .*\[2, 2\].*\[5, 2\]/,
  },
  { op: "tril", what: "1-D input", call: () => eg.tril(f32([3])), type: ShapeError, message: /^tril: .*\[3\]/ },
  {
    op: "gather",
    what: "index shape differs off the axis",
    call: () => eg.gather(f32([2, 3]), 1, eg.zeros([3, 3], { dtype: "int32" })),
    type: ShapeError,
    message: /^gather: .*\[3, 3\].*\[2, 3\]/,
  },
  {
    op: "scatterAdd",
    what: "src shape differs from index",
    call: () => eg.scatterAdd(f32([2, 3]), 1, eg.zeros([2, 2], { dtype: "int32" }), f32([2, 3])),
    type: ShapeError,
    message: /^scatterAdd: .*\[2, 2\].*\[2, 3\]/,
  },
  {
    op: "indexSelect",
    what: "2-D index",
    call: () => eg.indexSelect(f32([2, 3]), 0, eg.zeros([1, 1], { dtype: "int32" })),
    type: ShapeError,
    message: /^indexSelect: .*\[1, 1\]/,
  },
  {
    op: "layerNorm",
    what: "normalizedShape off the trailing axes",
    call: () => eg.layerNorm(f32([2, 3]), [2]),
    type: ShapeError,
    message: /^layerNorm: .*\[2\].*\[2, 3\]/,
  },
  {
    op: "layerNorm",
    what: "weight of the wrong shape",
    call: () => eg.layerNorm(f32([2, 3]), [3], f32([2])),
    type: ShapeError,
    message: /^layerNorm: .*\[2\].*\[3\]/,
  },
  {
    op: "softmax",
    what: "mask that does not broadcast",
    call: () => eg.softmax(x23(), -1, { mask: eg.tensor([true, false]) }),
    type: ShapeError,
    message: /^softmax: .*\[2\].*\[2, 3\]/,
  },
  {
    op: "softmax",
    what: "mask broadcasting the input up",
    call: () => eg.softmax(f32([3]), -1, { mask: eg.ones([2, 3], { dtype: "bool" }) }),
    type: ShapeError,
    message: /^softmax: .*\[2, 3\].*\[3\]/,
  },
  {
    op: "crossEntropy",
    what: "target shape mismatch",
    call: () => eg.crossEntropy(x23(), i32([0, 1, 2])),
    type: ShapeError,
    message: /^crossEntropy: .*\[3\].*\[2, 3\]/,
  },
  {
    op: "crossEntropy",
    what: "probability target shape mismatch",
    call: () => eg.crossEntropy(x23(), f32([3, 2])),
    type: ShapeError,
    message: /^crossEntropy: .*\[3, 2\].*\[2, 3\]/,
  },
  {
    op: "mseLoss",
    what: "shape mismatch",
    call: () => eg.mseLoss(f32([2, 3]), f32([3])),
    type: ShapeError,
    message: /^mseLoss: .*\[2, 3\].*\[3\]/,
  },
  {
    op: "einsum",
    what: "subscripts that do not match the rank",
    call: () => eg.einsum("ij,jk->ik", f32([2, 3, 1]), f32([3, 2])),
    type: ShapeError,
    message: /^einsum: .*\[2, 3, 1\]/,
  },
  {
    op: "einsum",
    what: "inconsistent sizes",
    call: () => eg.einsum("ij,jk->ik", f32([2, 3]), f32([2, 3])),
    type: ShapeError,
    message: /^einsum: .*3.*2/,
  },
  {
    op: "multinomial",
    what: "3-D probs",
    call: () => eg.multinomial(eg.ones([2, 2, 2]), 1),
    type: ShapeError,
    message: /^multinomial: .*\[2, 2, 2\]/,
  },
  {
    op: "backward",
    what: "seed of the wrong shape",
    call: () => eg.mul(eg.ones([2, 3], { requiresGrad: true }), 2).backward(f32([3])),
    type: ArgumentError,
    message: /^backward: .*\[3\].*\[2, 3\]/,
  },
  {
    op: "backward",
    what: "implicit seed for a non-scalar",
    call: () => eg.mul(eg.ones([2, 3], { requiresGrad: true }), 2).backward(),
    type: ArgumentError,
    message: /^backward: .*\[2, 3\]/,
  },

  // ------------------------------------------------------------ dtypes
  {
    op: "softmax",
    what: "int32 input",
    call: () => eg.softmax(eg.zeros([2, 3], { dtype: "int32" })),
    type: DTypeError,
    message: /^softmax: .*int32.*\[2, 3\]/,
  },
  {
    op: "logSoftmax",
    what: "bool input",
    call: () => eg.logSoftmax(eg.zeros([2], { dtype: "bool" })),
    type: DTypeError,
    message: /^logSoftmax: .*bool/,
  },
  {
    op: "layerNorm",
    what: "int32 input",
    call: () => eg.layerNorm(eg.zeros([2, 3], { dtype: "int32" }), [3]),
    type: DTypeError,
    message: /^layerNorm: .*int32/,
  },
  {
    op: "dropout",
    what: "int32 input",
    call: () => eg.dropout(eg.zeros([2], { dtype: "int32" })),
    type: DTypeError,
    message: /^dropout: .*int32/,
  },
  {
    op: "crossEntropy",
    what: "int32 logits",
    call: () => eg.crossEntropy(eg.zeros([2, 3], { dtype: "int32" }), i32([0, 1])),
    type: DTypeError,
    message: /^crossEntropy: .*int32/,
  },
  {
    op: "crossEntropy",
    what: "bool target",
    call: () => eg.crossEntropy(x23(), eg.tensor([true, false])),
    type: DTypeError,
    message: /^crossEntropy: .*bool.*\[2\]/,
  },
  {
    op: "nllLoss",
    what: "float32 target of class shape",
    call: () => eg.nllLoss(x23(), f32([2])),
    type: DTypeError,
    message: /^nllLoss: .*float32/,
  },
  {
    op: "gather",
    what: "float32 index",
    call: () => eg.gather(x23(), 1, f32([2, 3])),
    type: DTypeError,
    message: /^gather: .*float32.*\[2, 3\]/,
  },
  {
    op: "indexSelect",
    what: "bool index",
    call: () => eg.indexSelect(x23(), 0, eg.tensor([true])),
    type: DTypeError,
    message: /^indexSelect: .*bool/,
  },
  {
    op: "scatterAdd",
    what: "float32 index",
    call: () => eg.scatterAdd(x23(), 1, f32([2, 3]), x23()),
    type: DTypeError,
    message: /^scatterAdd: .*float32/,
  },
  { op: "oneHot", what: "float32 index", call: () => eg.oneHot(f32([2]), 3), type: DTypeError, message: /^oneHot: .*float32/ },
  {
    op: "where",
    what: "int32 condition",
    call: () => eg.where(eg.zeros([2, 3], { dtype: "int32" }), x23(), 0),
    type: DTypeError,
    message: /^where: .*int32/,
  },
  {
    op: "softmax",
    what: "float32 mask",
    call: () => eg.softmax(x23(), -1, { mask: f32([2, 3]) }),
    type: DTypeError,
    message: /^softmax: .*mask.*float32/,
  },
  {
    op: "bernoulli",
    what: "int32 probabilities",
    call: () => eg.bernoulli(eg.zeros([2], { dtype: "int32" })),
    type: DTypeError,
    message: /^bernoulli: .*int32/,
  },
  {
    op: "requiresGrad",
    what: "on an int32 tensor",
    call: () => eg.zeros([2], { dtype: "int32", requiresGrad: true }),
    type: DTypeError,
    message: /^requiresGrad: .*int32/,
  },
  {
    op: "tensor",
    what: "unknown dtype",
    call: () => eg.tensor([1], { dtype: bad("float16") }),
    type: DTypeError,
    message: /^tensor: .*float16/,
  },
  {
    op: "full",
    what: "unknown dtype",
    call: () => eg.full([2], 1, { dtype: bad("float16") }),
    type: DTypeError,
    message: /^full: .*float16/,
  },
  {
    op: "cast",
    what: "unknown dtype",
    call: () => eg.cast(x23(), bad("float16")),
    type: DTypeError,
    message: /^cast: .*float16/,
  },
  {
    op: "arange",
    what: "unknown dtype",
    call: () => eg.arange(0, 5, 1, { dtype: bad("float16") }),
    type: DTypeError,
    message: /^arange: .*float16/,
  },
  {
    op: "linspace",
    what: "unknown dtype",
    call: () => eg.linspace(0, 1, 3, { dtype: bad("float16") }),
    type: DTypeError,
    message: /^linspace: .*float16/,
  },
  {
    op: "randn",
    what: "int32 dtype",
    call: () => eg.randn([2], { dtype: bad("int32") }),
    type: DTypeError,
    message: /^randn: .*int32/,
  },
  {
    op: "oneHot",
    what: "unknown dtype",
    call: () => eg.oneHot(i32([1]), 3, { dtype: bad("float16") }),
    type: DTypeError,
    message: /^oneHot: .*float16/,
  },

  // ------------------------------------------------------------ options that must be finite numbers
  {
    op: "layerNorm",
    what: "eps NaN",
    call: () => eg.layerNorm(x23(), [3], null, null, NaN),
    type: ArgumentError,
    message: /^layerNorm: eps/,
  },
  {
    op: "layerNorm",
    what: "eps negative",
    call: () => eg.layerNorm(x23(), [3], null, null, -1),
    type: ArgumentError,
    message: /^layerNorm: eps/,
  },
  {
    op: "layerNorm",
    what: "eps Infinity",
    call: () => eg.layerNorm(x23(), [3], null, null, Infinity),
    type: ArgumentError,
    message: /^layerNorm: eps/,
  },
  { op: "dropout", what: "p NaN", call: () => eg.dropout(x23(), NaN), type: ArgumentError, message: /^dropout: p/ },
  { op: "dropout", what: "p above 1", call: () => eg.dropout(x23(), 1.5), type: ArgumentError, message: /^dropout: p/ },
  { op: "norm", what: "p NaN", call: () => eg.norm(x23(), NaN), type: ArgumentError, message: /^norm: p/ },
  { op: "norm", what: "p zero", call: () => eg.norm(x23(), 0), type: ArgumentError, message: /^norm: p/ },
  { op: "leakyRelu", what: "slope NaN", call: () => eg.leakyRelu(x23(), NaN), type: ArgumentError, message: /^leakyRelu: negativeSlope/ },
  { op: "elu", what: "alpha not a number", call: () => eg.elu(x23(), bad("1")), type: ArgumentError, message: /^elu: alpha/ },
  { op: "softplus", what: "beta NaN", call: () => eg.softplus(x23(), { beta: NaN }), type: ArgumentError, message: /^softplus: beta/ },
  { op: "clamp", what: "min NaN", call: () => eg.clamp(x23(), NaN, 1), type: ArgumentError, message: /^clamp: min/ },
  { op: "clamp", what: "min above max", call: () => eg.clamp(x23(), 2, 1), type: ArgumentError, message: /^clamp: min/ },
  {
    op: "softmax",
    what: "temperature NaN",
    call: () => eg.softmax(x23(), -1, { temperature: NaN }),
    type: ArgumentError,
    message: /^softmax: temperature/,
  },
  {
    op: "softmax",
    what: "temperature zero",
    call: () => eg.softmax(x23(), -1, { temperature: 0 }),
    type: ArgumentError,
    message: /^softmax: temperature/,
  },
  {
    op: "softmax",
    what: "temperature Infinity",
    call: () => eg.softmax(x23(), -1, { temperature: Infinity }),
    type: ArgumentError,
    message: /^softmax: temperature/,
  },
  {
    op: "crossEntropy",
    what: "labelSmoothing NaN",
    call: () => eg.crossEntropy(x23(), i32([0, 1]), { labelSmoothing: NaN }),
    type: ArgumentError,
    message: /^crossEntropy: labelSmoothing/,
  },
  {
    op: "crossEntropy",
    what: "labelSmoothing above 1",
    call: () => eg.crossEntropy(x23(), i32([0, 1]), { labelSmoothing: 2 }),
    type: ArgumentError,
    message: /^crossEntropy: labelSmoothing/,
  },
  {
    op: "crossEntropy",
    what: "unknown reduction",
    call: () => eg.crossEntropy(x23(), i32([0, 1]), { reduction: bad("avg") }),
    type: ArgumentError,
    message: /^crossEntropy: reduction/,
  },
  {
    op: "var",
    what: "correction NaN",
    call: () => eg.variance(x23(), 0, { correction: NaN }),
    type: ArgumentError,
    message: /^var: correction/,
  },
  { op: "randn", what: "std negative", call: () => eg.randn([2], { std: -1 }), type: ArgumentError, message: /^randn: std/ },
  { op: "randn", what: "mean NaN", call: () => eg.randn([2], { mean: NaN }), type: ArgumentError, message: /^randn: mean/ },
  {
    op: "randn",
    what: "std Infinity",
    call: () => eg.randn([2], { std: Infinity }),
    type: ArgumentError,
    message: /^randn: std/,
  },
  { op: "arange", what: "step zero", call: () => eg.arange(0, 5, 0), type: ArgumentError, message: /^arange: step/ },
  { op: "arange", what: "end NaN", call: () => eg.arange(0, NaN), type: ArgumentError, message: /^arange: end/ },
  { op: "arange", what: "end Infinity", call: () => eg.arange(0, Infinity), type: ArgumentError, message: /^arange: end/ },
  { op: "linspace", what: "steps NaN", call: () => eg.linspace(0, 1, NaN), type: ArgumentError, message: /^linspace: steps/ },
  { op: "bernoulli", what: "p NaN", call: () => eg.bernoulli(NaN), type: ArgumentError, message: /^bernoulli: p/ },
  {
    op: "bernoulli",
    what: "probabilities containing NaN",
    call: () => eg.bernoulli(eg.tensor([0.5, NaN])),
    type: ArgumentError,
    message: /^bernoulli: .*NaN.*\[2\]/,
  },
  {
    op: "gelu",
    what: "unknown approximation",
    call: () => eg.gelu(x23(), { approximate: bad("fast") }),
    type: ArgumentError,
    message: /^gelu: approximate/,
  },

  // ------------------------------------------------------------ sizes
  { op: "full", what: "negative size", call: () => eg.full([-1], 0), type: ShapeError, message: /^full: .*\[-1\]/ },
  { op: "full", what: "2**31 elements", call: () => eg.full([2 ** 31], 0), type: ShapeError, message: /^full: .*\[2147483648\]/ },
  { op: "full", what: "non-integer size", call: () => eg.full([2.5], 0), type: ShapeError, message: /^full: .*\[2.5\]/ },
  { op: "full", what: "NaN size", call: () => eg.full([NaN], 0), type: ShapeError, message: /^full: .*\[NaN\]/ },
  { op: "full", what: "shape not an array", call: () => eg.full(bad(3), 0), type: ArgumentError, message: /^full: shape/ },
  {
    op: "zeros",
    what: "negative size",
    call: () => eg.zeros([-1]),
    type: ShapeError,
    message: /^zeros: .*\[-1\]/,
  },
  {
    op: "zeros",
    what: "2**31 elements",
    call: () => eg.zeros([2 ** 31]),
    type: ShapeError,
    message: /^zeros: .*\[2147483648\]/,
  },
  {
    op: "ones",
    what: "non-integer size",
    call: () => eg.ones([1.5, 2]),
    type: ShapeError,
    message: /^ones: .*\[1.5, 2\]/,
  },
  {
    op: "eye",
    what: "negative size",
    call: () => eg.eye(-1),
    type: ShapeError,
    message: /^eye: /,
  },
  {
    op: "zeros",
    what: "a dimension above 2**31 next to a zero",
    call: () => eg.zeros([0, 2 ** 40]),
    type: ShapeError,
    message: /^zeros: .*\[0, 1099511627776\]/,
  },
  { op: "randn", what: "1e12 elements", call: () => eg.randn([1e12]), type: ShapeError, message: /^randn: .*\[1000000000000\]/ },
  { op: "randn", what: "negative size", call: () => eg.randn([3, -2]), type: ShapeError, message: /^randn: .*\[3, -2\]/ },
  { op: "rand", what: "non-integer size", call: () => eg.rand([0.5]), type: ShapeError, message: /^rand: .*\[0.5\]/ },
  {
    op: "randint",
    what: "2**40 elements",
    call: () => eg.randint(0, 3, [2 ** 20, 2 ** 20]),
    type: ShapeError,
    message: /^randint: .*\[1048576, 1048576\]/,
  },
  { op: "randint", what: "high not above low", call: () => eg.randint(3, 3, [2]), type: ArgumentError, message: /^randint: high/ },
  { op: "arange", what: "2**40 elements", call: () => eg.arange(0, 2 ** 40), type: ShapeError, message: /^arange: .*1099511627776/ },
  { op: "linspace", what: "negative steps", call: () => eg.linspace(0, 1, -1), type: ArgumentError, message: /^linspace: steps/ },
  { op: "linspace", what: "2**31 steps", call: () => eg.linspace(0, 1, 2 ** 31), type: ShapeError, message: /^linspace: .*2147483648/ },
  {
    op: "tensor",
    what: "typed array and shape disagree",
    call: () => eg.tensor(new Float32Array(6), { shape: [4] }),
    type: ShapeError,
    message: /^tensor: .*\[4\].*6/,
  },
  { op: "tensor", what: "ragged nested array", call: () => eg.tensor([[1, 2], [3]]), type: ShapeError, message: /^tensor: ragged/ },
  {
    op: "reshape",
    what: "negative size",
    call: () => eg.reshape(f32([2, 3]), [-2, -3]),
    type: ShapeError,
    message: /^reshape: .*\[-2, -3\]/,
  },
  {
    op: "reshape",
    what: "non-integer size",
    call: () => eg.reshape(f32([2, 3]), [1.5, 4]),
    type: ShapeError,
    message: /^reshape: .*\[1.5, 4\]/,
  },
  {
    op: "expand",
    what: "2**40 elements",
    call: () => eg.expand(f32([1, 3]), [2 ** 40, 3]),
    type: ShapeError,
    message: /^expand: .*\[1099511627776, 3\]/,
  },
  { op: "split", what: "size zero", call: () => eg.split(f32([4]), 0), type: ArgumentError, message: /^split: size/ },
  { op: "chunk", what: "chunks NaN", call: () => eg.chunk(f32([4]), NaN), type: ArgumentError, message: /^chunk: chunks/ },
  { op: "repeat", what: "negative repeat", call: () => eg.repeat(f32([2]), [-1]), type: ArgumentError, message: /^repeat: .*\[2\]/ },
  { op: "pad", what: "odd number of pads", call: () => eg.pad(f32([2, 3]), [1]), type: ArgumentError, message: /^pad: .*\[1\]/ },
  { op: "pad", what: "crop below zero", call: () => eg.pad(f32([2, 3]), [-2, -2]), type: ShapeError, message: /^pad: .*\[2, 3\]/ },
  {
    op: "pad",
    what: "2**33 padding",
    call: () => eg.pad(f32([2, 3]), [2 ** 33, 0]),
    type: ShapeError,
    message: /^pad: .*8589934592/,
  },
  {
    op: "oneHot",
    what: "2**40 classes",
    call: () => eg.oneHot(i32([1]), 2 ** 40),
    type: ShapeError,
    message: /^oneHot: .*1099511627776/,
  },
  {
    op: "multinomial",
    what: "numSamples zero",
    call: () => eg.multinomial(eg.ones([3]), 0),
    type: ArgumentError,
    message: /^multinomial: numSamples/,
  },
  {
    op: "Tensor",
    what: "constructor with data shorter than the shape",
    call: () => new eg.Tensor(new Float32Array(2), [100], "float32"),
    type: ShapeError,
    message: /\[100\]/,
  },

  {
    op: "data",
    what: "assigning storage shorter than the shape (it would reach the kernels)",
    call: () => {
      const t = eg.zeros([40, 40]);
      t.data = new Float32Array(4);
      return eg.matmul(t, t);
    },
    type: ShapeError,
    message: /^data: storage holds 4 elements, shape \[40, 40\] needs 1600/,
  },

  // ------------------------------------------------------------ indices
  {
    op: "gather",
    what: "index out of range",
    call: () => eg.gather(x23(), 1, eg.full([2, 3], 3, { dtype: "int32" })),
    type: ArgumentError,
    message: /^gather: index 3 .*size 3/,
  },
  {
    op: "gather",
    what: "negative index",
    call: () => eg.gather(x23(), 0, eg.full([1, 3], -1, { dtype: "int32" })),
    type: ArgumentError,
    message: /^gather: index -1/,
  },
  {
    op: "indexSelect",
    what: "index out of range",
    call: () => eg.indexSelect(x23(), 1, i32([0, 5])),
    type: ArgumentError,
    message: /^indexSelect: index 5 .*size 3/,
  },
  {
    op: "indexSelect",
    what: "negative index past the start",
    call: () => eg.indexSelect(x23(), 1, i32([-4])),
    type: ArgumentError,
    message: /^indexSelect: index -4/,
  },
  {
    op: "scatterAdd",
    what: "index out of range",
    call: () => eg.scatterAdd(x23(), 0, eg.full([2, 3], 2, { dtype: "int32" }), x23()),
    type: ArgumentError,
    message: /^scatterAdd: index 2/,
  },
  {
    op: "indexSelect",
    what: "0-d input with an empty index",
    call: () => eg.indexSelect(eg.tensor(5), 0, eg.zeros([0], { dtype: "int32" })),
    type: ShapeError,
    message: /^indexSelect: .*\[\]/,
  },
  { op: "oneHot", what: "index out of range", call: () => eg.oneHot(i32([0, 3]), 3), type: ArgumentError, message: /^oneHot: index 3/ },
  { op: "oneHot", what: "negative index", call: () => eg.oneHot(i32([-1]), 3), type: ArgumentError, message: /^oneHot: index -1/ },
  {
    op: "oneHot",
    what: "non-integer numClasses",
    call: () => eg.oneHot(i32([0]), 2.5),
    type: ArgumentError,
    message: /^oneHot: numClasses/,
  },
  { op: "oneHot", what: "zero classes", call: () => eg.oneHot(i32([0]), 0), type: ArgumentError, message: /^oneHot: numClasses/ },
  {
    op: "crossEntropy",
    what: "class index out of range",
    call: () => eg.crossEntropy(x23(), i32([0, 3])),
    type: ArgumentError,
    message: /^crossEntropy: index 3/,
  },
  { op: "narrow", what: "start out of range", call: () => eg.narrow(x23(), 1, 4, 1), type: ArgumentError, message: /^narrow: start/ },
  { op: "narrow", what: "non-integer start", call: () => eg.narrow(x23(), 1, 0.5, 1), type: ArgumentError, message: /^narrow: start/ },
  { op: "narrow", what: "length past the end", call: () => eg.narrow(x23(), 1, 2, 2), type: ArgumentError, message: /^narrow: length/ },
  { op: "narrow", what: "negative length", call: () => eg.narrow(x23(), 1, 0, -1), type: ArgumentError, message: /^narrow: length/ },
  { op: "slice", what: "index out of range", call: () => eg.slice(x23(), [2]), type: ArgumentError, message: /^slice: index 2 .*\[2, 3\]/ },
  { op: "slice", what: "non-integer index", call: () => eg.slice(x23(), [0.5]), type: ArgumentError, message: /^slice: index 0.5/ },
  { op: "slice", what: "non-integer bound", call: () => eg.slice(x23(), [[0, 1.5]]), type: ArgumentError, message: /^slice: bounds/ },
  { op: "slice", what: "step zero", call: () => eg.slice(x23(), [[0, 2, 0]]), type: ArgumentError, message: /^slice: step/ },
  { op: "slice", what: "more specs than axes", call: () => eg.slice(x23(), [0, 0, 0]), type: ArgumentError, message: /^slice: .*\[2, 3\]/ },

  // ------------------------------------------------------------ axes
  { op: "sum", what: "axis out of range", call: () => eg.sum(x23(), 2), type: ArgumentError, message: /^sum: axis 2 .*2 dimensions/ },
  { op: "sum", what: "negative axis out of range", call: () => eg.sum(x23(), -3), type: ArgumentError, message: /^sum: axis -3/ },
  { op: "sum", what: "non-integer axis", call: () => eg.sum(x23(), 0.5), type: ArgumentError, message: /^sum: axis 0.5/ },
  { op: "sum", what: "repeated axis", call: () => eg.sum(x23(), [0, -2]), type: ArgumentError, message: /^sum: repeated axis/ },
  {
    op: "sum",
    what: "axis given as a string",
    call: () => eg.sum(x23(), bad("0")),
    type: ArgumentError,
    message: /^sum: /,
  },
  { op: "mean", what: "axis out of range", call: () => eg.mean(x23(), [0, 5]), type: ArgumentError, message: /^mean: axis 5/ },
  { op: "max", what: "axis NaN", call: () => eg.max(x23(), NaN), type: ArgumentError, message: /^max: axis NaN/ },
  { op: "argmax", what: "axis out of range", call: () => eg.argmax(x23(), 2), type: ArgumentError, message: /^argmax: axis 2/ },
  { op: "max", what: "reduction over an empty axis", call: () => eg.max(f32([0, 3]), 0), type: ShapeError, message: /^max: .*\[0, 3\]/ },
  { op: "softmax", what: "axis out of range", call: () => eg.softmax(x23(), 2), type: ArgumentError, message: /^softmax: axis 2/ },
  {
    op: "logSoftmax",
    what: "non-integer axis",
    call: () => eg.logSoftmax(x23(), 1.5),
    type: ArgumentError,
    message: /^logSoftmax: axis 1.5/,
  },
  { op: "permute", what: "repeated axis", call: () => eg.permute(x23(), [0, 0]), type: ArgumentError, message: /^permute: repeated axis/ },
  { op: "permute", what: "wrong length", call: () => eg.permute(x23(), [0]), type: ArgumentError, message: /^permute: .*\[2, 3\]/ },
  { op: "permute", what: "axis out of range", call: () => eg.permute(x23(), [0, 2]), type: ArgumentError, message: /^permute: axis 2/ },
  { op: "transpose", what: "axis out of range", call: () => eg.transpose(x23(), 0, 5), type: ArgumentError, message: /^transpose: axis 5/ },
  { op: "unsqueeze", what: "axis out of range", call: () => eg.unsqueeze(x23(), 4), type: ArgumentError, message: /^unsqueeze: axis 4/ },
  { op: "squeeze", what: "axis out of range", call: () => eg.squeeze(x23(), 3), type: ArgumentError, message: /^squeeze: axis 3/ },
  {
    op: "flatten",
    what: "start after end",
    call: () => eg.flatten(f32([2, 3, 4]), 2, 1),
    type: ArgumentError,
    message: /^flatten: .*\[2, 3, 4\]/,
  },
  { op: "concat", what: "axis out of range", call: () => eg.concat([x23(), x23()], 2), type: ArgumentError, message: /^concat: axis 2/ },
  { op: "stack", what: "axis out of range", call: () => eg.stack([x23(), x23()], 4), type: ArgumentError, message: /^stack: axis 4/ },
  {
    op: "gather",
    what: "axis out of range",
    call: () => eg.gather(x23(), 2, eg.zeros([2, 3], { dtype: "int32" })),
    type: ArgumentError,
    message: /^gather: axis 2/,
  },
  {
    op: "indexSelect",
    what: "axis out of range",
    call: () => eg.indexSelect(x23(), -3, i32([0])),
    type: ArgumentError,
    message: /^indexSelect: axis -3/,
  },
  { op: "narrow", what: "axis out of range", call: () => eg.narrow(x23(), 2, 0, 1), type: ArgumentError, message: /^narrow: axis 2/ },
  { op: "flip", what: "axis out of range", call: () => eg.flip(x23(), [0, 2]), type: ArgumentError, message: /^flip: axis 2/ },
  {
    op: "flip",
    what: "axes null",
    call: () => eg.flip(x23(), bad(null)),
    type: ArgumentError,
    message: /^flip: /,
  },
  { op: "split", what: "axis out of range", call: () => eg.split(x23(), 1, 3), type: ArgumentError, message: /^split: axis 3/ },
  { op: "roll", what: "axis out of range", call: () => eg.roll(x23(), 1, 2), type: ArgumentError, message: /^roll: axis 2/ },
  {
    op: "norm",
    what: "axis out of range",
    call: () => eg.norm(x23(), 2, 2),
    type: ArgumentError,
    message: /^norm: axis 2/,
  },
  {
    op: "cosineSimilarity",
    what: "axis out of range",
    call: () => eg.cosineSimilarity(x23(), x23(), 2),
    type: ArgumentError,
    message: /^cosineSimilarity: axis 2/,
  },
  {
    op: "layerNorm",
    what: "normalizedShape null",
    call: () => eg.layerNorm(x23(), bad(null)),
    type: ArgumentError,
    message: /^layerNorm: normalizedShape/,
  },
  {
    op: "expand",
    what: "shape null",
    call: () => eg.expand(x23(), bad(null)),
    type: ShapeError,
    message: /^expand: .*\[2, 3\]/,
  },
  {
    op: "split",
    what: "sizes null",
    call: () => eg.split(x23(), bad(null)),
    type: ArgumentError,
    message: /^split: /,
  },

  // ------------------------------------------------------------ arguments that are not tensors
  {
    op: "exp",
    what: "a JS array",
    call: () => eg.exp(bad([1, 2])),
    type: ArgumentError,
    message: /^exp: input must be a Tensor, got an array/,
  },
  { op: "exp", what: "null", call: () => eg.exp(bad(null)), type: ArgumentError, message: /^exp: input must be a Tensor, got null/ },
  { op: "relu", what: "undefined", call: () => eg.relu(bad(undefined)), type: ArgumentError, message: /^relu: input must be a Tensor/ },
  { op: "sigmoid", what: "a string", call: () => eg.sigmoid(bad("x")), type: ArgumentError, message: /^sigmoid: input must be a Tensor/ },
  { op: "add", what: "two numbers", call: () => eg.add(1, 2), type: ArgumentError, message: /^add: / },
  {
    op: "add",
    what: "null and a tensor",
    call: () => eg.add(bad(null), x23()),
    type: ArgumentError,
    message: /^add: first operand must be a Tensor/,
  },
  {
    op: "mul",
    what: "a tensor and an array",
    call: () => eg.mul(x23(), bad([1, 2, 3])),
    type: ArgumentError,
    message: /^mul: second operand must be a Tensor, got an array/,
  },
  { op: "pow", what: "a string exponent", call: () => eg.pow(x23(), bad("2")), type: ArgumentError, message: /^pow: / },
  {
    op: "matmul",
    what: "null operand",
    call: () => eg.matmul(x23(), bad(null)),
    type: ArgumentError,
    message: /^matmul: second operand must be a Tensor/,
  },
  {
    op: "matmul",
    what: "nested arrays",
    call: () => eg.matmul(bad([[1]]), x23()),
    type: ArgumentError,
    message: /^matmul: first operand must be a Tensor, got an array/,
  },
  { op: "sum", what: "null", call: () => eg.sum(bad(null)), type: ArgumentError, message: /^sum: input must be a Tensor/ },
  {
    op: "softmax",
    what: "undefined",
    call: () => eg.softmax(bad(undefined)),
    type: ArgumentError,
    message: /^softmax: input must be a Tensor/,
  },
  {
    op: "reshape",
    what: "a string",
    call: () => eg.reshape(bad("abc"), [3]),
    type: ArgumentError,
    message: /^reshape: input must be a Tensor/,
  },
  { op: "reshape", what: "shape not an array", call: () => eg.reshape(x23(), bad(6)), type: ArgumentError, message: /^reshape: shape/ },
  { op: "concat", what: "null list", call: () => eg.concat(bad(null)), type: ArgumentError, message: /^concat: / },
  {
    op: "concat",
    what: "null element",
    call: () => eg.concat([x23(), bad(null)]),
    type: ArgumentError,
    message: /^concat: tensor 1 must be a Tensor/,
  },
  {
    op: "gather",
    what: "array index",
    call: () => eg.gather(x23(), 0, bad([0])),
    type: ArgumentError,
    message: /^gather: index must be a Tensor/,
  },
  {
    op: "where",
    what: "boolean condition",
    call: () => eg.where(bad(true), x23(), 0),
    type: ArgumentError,
    message: /^where: condition must be a Tensor/,
  },
  {
    op: "layerNorm",
    what: "string weight",
    call: () => eg.layerNorm(x23(), [3], bad("w")),
    type: ArgumentError,
    message: /^layerNorm: weight must be a Tensor/,
  },
  {
    op: "crossEntropy",
    what: "array target",
    call: () => eg.crossEntropy(x23(), bad([0, 1])),
    type: ArgumentError,
    message: /^crossEntropy: target must be a Tensor/,
  },
  { op: "zerosLike", what: "null", call: () => eg.zerosLike(bad(null)), type: ArgumentError, message: /^zerosLike: / },
  { op: "tensor", what: "null", call: () => eg.tensor(bad(null)), type: ArgumentError, message: /^tensor: / },
  { op: "tensor", what: "a string", call: () => eg.tensor(bad("abc")), type: ArgumentError, message: /^tensor: / },
  { op: "tensor", what: "an array holding a string", call: () => eg.tensor(bad([1, "a"])), type: ArgumentError, message: /^tensor: / },
  { op: "einsum", what: "equation not a string", call: () => eg.einsum(bad(3), x23()), type: ArgumentError, message: /^einsum: equation/ },

  // ------------------------------------------------------------ disposed tensors
  { op: "exp", what: "disposed input", call: () => eg.exp(disposed()), type: EngramError, message: /^exp: .*disposed/ },
  {
    op: "matmul",
    what: "disposed operand",
    call: () => eg.matmul(x23(), disposed()),
    type: EngramError,
    message: /^matmul: .*\[2, 3\].*disposed/,
  },
  { op: "sum", what: "disposed input through the method", call: () => disposed().sum(), type: EngramError, message: /^sum: .*disposed/ },
  { op: "item", what: "disposed tensor", call: () => disposed().item(), type: EngramError, message: /^item: .*disposed/ },
  { op: "toArray", what: "disposed tensor", call: () => disposed().toArray(), type: EngramError, message: /^toArray: .*disposed/ },
];

const BACKENDS: eg.BackendName[] = eg.backendInfo().nativeAvailable ? ["native", "ts"] : ["ts"];

function thrownBy(backend: eg.BackendName, call: () => unknown): unknown {
  const prev = eg.getBackend();
  eg.setBackend(backend);
  try {
    call();
  } catch (e) {
    return e;
  } finally {
    eg.setBackend(prev);
  }
  return undefined;
}

describe.each(BACKENDS)("bad input on the %s backend", (backend) => {
  for (const c of CASES) {
    it(`${c.op}: ${c.what}`, () => {
      const err = thrownBy(backend, c.call);
      expect(err, "expected an EngramError, nothing was thrown").toBeInstanceOf(eg.EngramError);
      expect(err).toBeInstanceOf(c.type);
      expect((err as Error).message).toMatch(c.message);
    });
  }

  it("every row has a distinct op and description", () => {
    const keys = CASES.map((c) => `${c.op}: ${c.what}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
