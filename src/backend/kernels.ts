/**
 * The kernel contract every backend implements. Kernels work on flat, contiguous typed arrays plus
 * small integer shape descriptions; they never allocate their outputs and never validate: the op
 * layer (src/ops) checks every argument before a kernel runs, so the native addon only ever sees
 * well-formed calls.
 *
 * Op codes are the indices into the `*_OPS` tables below; native code switches on the same numbers
 * (native/kernels/ops.h mirrors these tables, keep them in the same order).
 */

export type FloatArray = Float32Array | Float64Array;
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Elementwise unary ops. `p0`/`p1` are op parameters (alpha, slope, clamp bounds, exponent, scale/shift). */
export const UNARY_OPS = [
  "neg", // -x
  "abs",
  "sign",
  "exp",
  "log",
  "log1p",
  "sqrt",
  "rsqrt",
  "square",
  "reciprocal",
  "sin",
  "cos",
  "floor",
  "ceil",
  "round", // half to even, like PyTorch
  "relu",
  "sigmoid",
  "tanh",
  "softplus", // log(1 + exp(x)), stable for large |x|
  "silu", // x * sigmoid(x)
  "gelu", // x * Phi(x), erf form
  "geluTanh", // tanh approximation
  "elu", // p0 = alpha
  "leakyRelu", // p0 = negative slope
  "erf",
  "clamp", // p0 = min, p1 = max (either may be +-Infinity)
  "powScalar", // x ** p0
  "affine", // x * p0 + p1
  "logicalNot", // bool -> bool
  "isFinite", // any -> bool
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Elementwise binary ops with broadcasting. Comparisons and logical ops write bool (Uint8Array) outputs. */
export const BINARY_OPS = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "minimum",
  "maximum",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "logicalAnd",
  "logicalOr",
  "logicalXor",
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Reductions over the middle axis of an (outer, n, inner) view. arg* write Int32Array. */
export const REDUCE_OPS = ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "logSumExp"] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

export function opCode<T extends string>(table: readonly T[], name: T): number {
  return table.indexOf(name);
}

/**
 * How MemN2N's sentence encoder weighs word j (1-based) of a row, l_kj = a_j + (k/d) b_j for
 * k = 1..d (opCode of this table is the kernels' `encoding`):
 * - "bow": l = 1;
 * - "position": the paper's l_kj = (1 - j/J) - (k/d)(1 - 2j/J) over the row's own J words;
 * - "position-reference": the official MemN2N code's l_kj = 1 + 4 (k - (d+1)/2)(j - (W+1)/2) / (d W)
 *   over the row's full width W (build_model.m in facebook/MemNN), which produced the paper's
 *   tables: weights centred on 1, so a sentence stays close to its bag of words.
 * native/kernels/memory.cc computes the same terms.
 */
export const SENTENCE_ENCODINGS = ["bow", "position", "position-reference"] as const;
export type SentenceEncoding = (typeof SENTENCE_ENCODINGS)[number];

/** [a_j, b_j] of SENTENCE_ENCODINGS[encoding] for word j of a row of J words (last non-PAD) and width W. */
export function sentenceWeightTerms(encoding: number, j: number, J: number, W: number, d: number): [number, number] {
  if (encoding === 1) return [1 - j / J, (2 * j) / J - 1];
  if (encoding === 2) {
    const c = j - (W + 1) / 2;
    return [1 - (2 * (d + 1) * c) / (d * W), (4 * c) / W];
  }
  return [1, 0];
}

/**
 * Broadcast layout for elementwise kernels, packed in one Int32Array so a native call marshals a
 * single object: [ndim, shape[0..ndim), stridesOfOperand0[0..ndim), stridesOfOperand1..., ...].
 * A stride of 0 broadcasts that operand along the axis. Callers collapse adjacent dimensions first,
 * so ndim is usually 1 or 2. The output is always contiguous in `shape`.
 */
export type Layout = Int32Array;

/**
 * Geometry of a fused attention call, packed like a Layout: [nb, lq, lk, e, ev, causal, shift,
 * maskStrideI, maskStrideJ] then four runs of nb element offsets: where matrix b of q (lq, e),
 * k (lk, e), v (lk, ev) and the mask start. Rows of q, k, v are contiguous; the mask is read at
 * maskOffset[b] + i * maskStrideI + j * maskStrideJ (strides 0 broadcast). With causal = 1 query i
 * sees keys j <= i + shift. Offsets of broadcast operands repeat, so nothing is copied.
 */
export const SDPA_GEOM_HEADER = 9;

/**
 * The dropout decision of fused attention for weight (i, j) of matrix b: murmur3's 32-bit
 * finaliser chained over the seed words and the indices; kept iff the hash >= p * 2^32.
 * native/kernels/sdpa_impl.h computes the same integers.
 */
export function sdpaRowKey(seed0: number, seed1: number, b: number, i: number): number {
  return fmix32(fmix32(seed0 ^ fmix32(b ^ seed1)) ^ Math.imul(i + 1, 0x9e3779b9));
}
export function sdpaKeepHash(rowKey: number, j: number): number {
  return fmix32(rowKey ^ Math.imul(j + 1, 0x85ebca77));
}
/** floor(p * 2^32): hashes at or above it keep their weight. */
export function sdpaDropThreshold(p: number): number {
  return Math.floor(p * 4294967296);
}
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface Kernels {
  /** out[i] = f(x[i]); x and out have the same length. int32 supports neg/abs/sign/square/relu/clamp/affine. */
  unary(op: number, x: TypedArray, out: TypedArray, p0: number, p1: number): void;
  /** dx[i] = dy[i] * f'(x[i]) for float ops; `y` is the forward output (some derivatives use it). */
  unaryGrad(op: number, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray, p0: number, p1: number): void;
  /** out = a (op) b with broadcasting described by `layout` (operands a, b). a and b share a dtype. */
  binary(op: number, a: TypedArray, b: TypedArray, out: TypedArray, layout: Layout): void;
  /** out = cond ? a : b, layout operands (cond, a, b). */
  where(cond: Uint8Array, a: TypedArray, b: TypedArray, out: TypedArray, layout: Layout): void;
  /** Reduce the middle axis of x viewed as (outer, n, inner); out has outer*inner entries. */
  reduce(op: number, x: TypedArray, out: TypedArray, outer: number, n: number, inner: number): void;
  /**
   * out[b] = opA(a[b]) @ opB(b[b]) for b < batch, with opA(a) of shape (m, k) and opB(b) of (k, n).
   * a[b] starts at b*strideA (0 broadcasts one matrix), likewise b; out[b] at b*m*n.
   * transA: a[b] is stored (k, m); transB: b[b] is stored (n, k).
   */
  matmul(
    a: FloatArray,
    b: FloatArray,
    out: FloatArray,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
  ): void;
  /** Softmax (or log-softmax) over the last axis of (outer, n). A row of only -Infinity gives zeros (log: -Infinity). */
  softmax(x: FloatArray, out: FloatArray, outer: number, n: number, log: boolean): void;
  /** Backward of softmax given its output y: dx = y*(dy - sum(dy*y)); log form: dx = dy - exp(y)*sum(dy). */
  softmaxGrad(y: FloatArray, dy: FloatArray, dx: FloatArray, outer: number, n: number, log: boolean): void;
  /** Layer norm over the last axis of (outer, n); writes per-row mean and rstd for the backward. */
  layerNorm(
    x: FloatArray,
    gamma: FloatArray | null,
    beta: FloatArray | null,
    out: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    outer: number,
    n: number,
    eps: number,
  ): void;
  /** dx, and (when given) dgamma/dbeta, which are overwritten (not accumulated). */
  layerNormGrad(
    x: FloatArray,
    gamma: FloatArray | null,
    mean: FloatArray,
    rstd: FloatArray,
    dy: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray | null,
    dbeta: FloatArray | null,
    outer: number,
    n: number,
  ): void;
  /** out[i] = x[offset + sum_d idx_d(i) * strides_d]; layout = [ndim, shape..., strides...]; strides may be 0 or negative. */
  stridedCopy(x: TypedArray, out: TypedArray, offset: number, layout: Layout): void;
  /** out[offset + sum_d idx_d(i) * strides_d] (+)= src[i]; with accumulate, repeated targets add up. */
  stridedScatter(src: TypedArray, out: TypedArray, offset: number, layout: Layout, accumulate: boolean): void;
  /** x (outer, n, inner), index (outer, k, inner) int32 in [0, n): out[o,j,i] = x[o, index[o,j,i], i]. */
  gather(x: TypedArray, index: Int32Array, out: TypedArray, outer: number, n: number, inner: number, k: number): void;
  /** out (outer, n, inner) += src (outer, k, inner) at index (outer, k, inner). */
  scatterAdd(src: TypedArray, index: Int32Array, out: TypedArray, outer: number, n: number, inner: number, k: number): void;
  /** x (outer, n, inner), index (k) in [0, n): out[o,j,i] = x[o, index[j], i]. */
  indexSelect(x: TypedArray, index: Int32Array, out: TypedArray, outer: number, n: number, inner: number, k: number): void;
  /** out (outer, n, inner) += src (outer, k, inner) at rows index (k). */
  indexAdd(src: TypedArray, index: Int32Array, out: TypedArray, outer: number, n: number, inner: number, k: number): void;
  /** Element-wise conversion between dtypes (float -> int truncates toward zero; bool is x != 0). */
  cast(x: TypedArray, out: TypedArray): void;
  /** Keep the lower (upper=false: j <= i + diag) or upper (j >= i + diag) triangle of each (rows, cols) matrix, zero elsewhere. */
  tri(x: TypedArray, out: TypedArray, batch: number, rows: number, cols: number, diag: number, upper: boolean): void;
  /**
   * LSTM cell over rows of `batch`: gates (batch, 4*hidden) are pre-activations in PyTorch order
   * i, f, g, o and c (batch, hidden) the previous cell state; writes c' = σ(f) c + σ(i) tanh(g) to
   * cOut and h = σ(o) tanh(c') to h (both (batch, hidden)). When `saved` (batch, 5*hidden) is given,
   * each row receives σ(i), σ(f), tanh(g), σ(o) and tanh(c') for lstmCellGrad. Outputs never
   * overlap inputs (native kernels assume it).
   */
  lstmCell(
    gates: FloatArray,
    c: FloatArray,
    h: FloatArray,
    cOut: FloatArray,
    saved: FloatArray | null,
    batch: number,
    hidden: number,
  ): void;
  /**
   * Backward of lstmCell from its `saved` buffer and the previous cell state c: the gradients of h
   * and of c' (either may be null, meaning zero) give dGates (batch, 4*hidden) and, when dC is
   * given, the gradient of c (batch, hidden). Outputs are overwritten.
   */
  lstmCellGrad(
    saved: FloatArray,
    c: FloatArray,
    dH: FloatArray | null,
    dCOut: FloatArray | null,
    dGates: FloatArray,
    dC: FloatArray | null,
    batch: number,
    hidden: number,
  ): void;
  /**
   * GRU cell over rows of `batch` (PyTorch's gates r, z, n): xp = x W_ih^T + b_ih and
   * hp = h W_hh^T + b_hh (batch, 3*hidden), h (batch, hidden) the previous state; writes
   * h' = (1 - z) n + z h to out, with r = σ(xp_r + hp_r), z = σ(xp_z + hp_z) and
   * n = tanh(xp_n + r hp_n). When `saved` (batch, 4*hidden) is given, each row receives r, z, n and
   * hp_n for gruCellGrad. Outputs never overlap inputs.
   */
  gruCell(xp: FloatArray, hp: FloatArray, h: FloatArray, out: FloatArray, saved: FloatArray | null, batch: number, hidden: number): void;
  /**
   * Backward of gruCell from its `saved` buffer, the previous state h and the gradient dOut of h':
   * dXp (batch, 3*hidden), and when given dHp (batch, 3*hidden; equal to dXp but for the n slice,
   * which is scaled by r) and dH (batch, hidden: the direct path z dOut only, not the one through
   * hp). Outputs are overwritten.
   */
  gruCellGrad(
    saved: FloatArray,
    h: FloatArray,
    dOut: FloatArray,
    dXp: FloatArray,
    dHp: FloatArray | null,
    dH: FloatArray | null,
    batch: number,
    hidden: number,
  ): void;

  /**
   * Additive (Bahdanau) attention scores: out[b,t,s] = sum_h v[h] tanh(q[b,t,h] + k[b,s,h]) for
   * q (batch, steps, hidden), k (batch, srcLen, hidden) and v (hidden); out (batch, steps, srcLen)
   * is overwritten (zeros when hidden = 0). tanh(q + k) is never stored.
   */
  additiveScores(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    out: FloatArray,
    batch: number,
    steps: number,
    srcLen: number,
    hidden: number,
  ): void;
  /**
   * Backward of additiveScores from its inputs and the scores' gradient g (batch, steps, srcLen),
   * recomputing tanh(q + k) in the same pass. With d = g[b,t,s] v[h] (1 - tanh²): dq[b,t,h] =
   * sum_s d is overwritten; dk[b,s,h] += sum_t d and dv[h] += sum_{b,t,s} g[b,t,s] tanh(..) are
   * accumulated, so a decoder loop sums every step's into one buffer. Any of dq, dk, dv may be null;
   * outputs never overlap inputs.
   */
  additiveScoresGrad(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    g: FloatArray,
    dq: FloatArray | null,
    dk: FloatArray | null,
    dv: FloatArray | null,
    batch: number,
    steps: number,
    srcLen: number,
    hidden: number,
  ): void;

  /**
   * Fused scaled-dot-product attention forward over `nb` (batch, head) matrices described by `geom`
   * (see SdpaGeometry): out[b] (lq, ev) = dropout(softmax(scale q[b] k[b]^T, masked)) v[b] and the
   * log-sum-exp of each masked, scaled score row in lse[b] (lq); a row with no key left gets zeros
   * and lse = -Infinity. Dropout (p = `dropout`, kept weights scaled by 1/(1-p)) keeps weight (i, j)
   * of matrix b iff sdpaKeepHash(sdpaRowKey(seed0, seed1, b, i), j) >= sdpaDropThreshold(p): a
   * counter-based hash, so the backward regenerates the same decisions and every backend makes
   * them bit for bit alike.
   * `mask` (bool, true = attend) is null when absent. out and lse are contiguous (nb, lq, ...).
   */
  sdpaForward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    mask: Uint8Array | null,
    out: FloatArray,
    lse: FloatArray,
    geom: Int32Array,
    scale: number,
    dropout: number,
    seed0: number,
    seed1: number,
  ): void;
  /**
   * Backward of sdpaForward from its inputs, output `out`, `lse` and the output gradient dOut
   * (nb, lq, ev): writes dq (nb, lq, e), dk (nb, lk, e) and dv (nb, lk, ev) per broadcast matrix
   * (the op layer sums them over broadcast axes). Probabilities are recomputed blockwise from lse.
   */
  sdpaBackward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    mask: Uint8Array | null,
    out: FloatArray,
    dOut: FloatArray,
    lse: FloatArray,
    dq: FloatArray,
    dk: FloatArray,
    dv: FloatArray,
    geom: Int32Array,
    scale: number,
    dropout: number,
    seed0: number,
    seed1: number,
  ): void;

  /**
   * The NTM's addressing over `batch` x `heads` rows (semantics: ntmAddressing in
   * src/memory/addressing.ts): keys (batch, heads, width), memory (batch, slots, width), strength,
   * gate, gamma (batch, heads), shift (batch, heads, shifts; rotation q reads slot
   * (i + (shifts - 1) / 2 - q) mod slots), previous (batch, heads, slots) -> out (batch, heads, slots).
   * When `saved` (ntmAddressingSavedSize) is given it receives what ntmAddressingGrad reads.
   */
  ntmAddressing(
    keys: FloatArray,
    memory: FloatArray,
    strength: FloatArray,
    gate: FloatArray,
    shift: FloatArray,
    gamma: FloatArray,
    previous: FloatArray,
    out: FloatArray,
    saved: FloatArray | null,
    batch: number,
    heads: number,
    slots: number,
    width: number,
    shifts: number,
    cosineEps: number,
    sharpenEps: number,
  ): void;
  /** Backward of ntmAddressing from its inputs, output, saved buffer and dOut; every gradient buffer is overwritten. */
  ntmAddressingGrad(
    keys: FloatArray,
    memory: FloatArray,
    strength: FloatArray,
    gate: FloatArray,
    shift: FloatArray,
    gamma: FloatArray,
    previous: FloatArray,
    out: FloatArray,
    saved: FloatArray,
    dOut: FloatArray,
    dKeys: FloatArray,
    dMemory: FloatArray,
    dStrength: FloatArray,
    dGate: FloatArray,
    dShift: FloatArray,
    dGamma: FloatArray,
    dPrevious: FloatArray,
    batch: number,
    heads: number,
    slots: number,
    width: number,
    shifts: number,
    sharpenEps: number,
  ): void;
  /**
   * Erase-and-add memory write: out = memory o prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T per batch
   * entry; memory, out (batch, slots, width), weights (batch, heads, slots), erase, add (batch, heads, width).
   */
  memoryWrite(
    memory: FloatArray,
    weights: FloatArray,
    erase: FloatArray,
    add: FloatArray,
    out: FloatArray,
    batch: number,
    heads: number,
    slots: number,
    width: number,
  ): void;
  /** Backward of memoryWrite given dOut; every gradient buffer is overwritten. */
  memoryWriteGrad(
    memory: FloatArray,
    weights: FloatArray,
    erase: FloatArray,
    add: FloatArray,
    dOut: FloatArray,
    dMemory: FloatArray,
    dWeights: FloatArray,
    dErase: FloatArray,
    dAdd: FloatArray,
    batch: number,
    heads: number,
    slots: number,
    width: number,
  ): void;
  /**
   * MemN2N sentence encoding (semantics: encodeSentences in src/memory/sentence-encoding.ts): per
   * row r of `words` ids (PAD 0), out[r] = sum_j l_j o table[ids[r, j]] (+ temporal[ages[r]] when
   * given), l_kj as sentenceWeightTerms gives for `encoding` (an index into SENTENCE_ENCODINGS).
   * ids within [0, vocab), ages within the temporal rows: the caller checks.
   */
  sentenceEncode(
    ids: Int32Array,
    table: FloatArray,
    temporal: FloatArray | null,
    ages: Int32Array | null,
    out: FloatArray,
    rows: number,
    words: number,
    dim: number,
    encoding: number,
  ): void;
  /** Backward of sentenceEncode: dTable (vocab, dim) and dTemporal are overwritten. */
  sentenceEncodeGrad(
    ids: Int32Array,
    ages: Int32Array | null,
    dOut: FloatArray,
    dTable: FloatArray,
    dTemporal: FloatArray | null,
    rows: number,
    words: number,
    dim: number,
    encoding: number,
  ): void;
  /**
   * The fast-weights recurrence over a whole sequence, attention form, one inner step (semantics:
   * fastWeightsSequence in src/memory/fast-weights.ts): inputs xp (batch, steps, hidden) = C x_t + b,
   * w (hidden, hidden), layer-norm gain and bias (hidden, or null without layer norm) -> out (batch,
   * steps, hidden), every h_t. When `saved` (fastWeightsSavedSize) is given it receives what
   * fastWeightsSequenceGrad reads.
   */
  fastWeightsSequence(
    xp: FloatArray,
    w: FloatArray,
    gain: FloatArray | null,
    bias: FloatArray | null,
    out: FloatArray,
    saved: FloatArray | null,
    batch: number,
    steps: number,
    hidden: number,
    decay: number,
    eta: number,
    relu: boolean,
    eps: number,
  ): void;
  /** Backward of fastWeightsSequence from out, saved and dOut; every gradient buffer is overwritten. */
  fastWeightsSequenceGrad(
    w: FloatArray,
    gain: FloatArray | null,
    out: FloatArray,
    saved: FloatArray,
    dOut: FloatArray,
    dXp: FloatArray,
    dW: FloatArray,
    dGain: FloatArray | null,
    dBias: FloatArray | null,
    batch: number,
    steps: number,
    hidden: number,
    decay: number,
    eta: number,
    relu: boolean,
  ): void;

  // Optimizer updates: one fused in-place pass per parameter, following PyTorch's single-tensor
  // algorithms. Intermediates are doubles and p and every state buffer round to their dtype once,
  // in the order the ts kernels write them, so native results equal ts results bit for bit.
  // State buffers have p's length; `g` may be of another element type (it is read as numbers).

  /**
   * SGD: d = g + weightDecay p; with a momentum buffer buf = momentum buf + (1 - dampening) d
   * (buf = d on the first step), d = nesterov ? d + momentum buf : buf; then p -= lr d.
   * `momentumBuffer` null means momentum 0.
   */
  sgdUpdate(
    p: FloatArray,
    g: TypedArray,
    momentumBuffer: FloatArray | null,
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov: boolean,
    firstStep: boolean,
  ): void;
  /**
   * Adam / AdamW with optional AMSGrad (`maxExpAvgSq` non-null). `decoupled` applies weight decay to
   * p (p *= 1 - lr weightDecay) instead of adding it to the gradient. The bias corrections
   * 1 - beta^step come from the caller: JS and C++ pow need not round alike, everything else here
   * is correctly rounded arithmetic.
   */
  adamUpdate(
    p: FloatArray,
    g: TypedArray,
    expAvg: FloatArray,
    expAvgSq: FloatArray,
    maxExpAvgSq: FloatArray | null,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    biasCorrection1: number,
    biasCorrection2: number,
  ): void;
  /** RMSprop (eps outside the square root); `gradAvg` non-null centers it, `momentumBuffer` non-null adds momentum. */
  rmspropUpdate(
    p: FloatArray,
    g: TypedArray,
    squareAvg: FloatArray,
    gradAvg: FloatArray | null,
    momentumBuffer: FloatArray | null,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
    momentum: number,
  ): void;
  /** Adagrad at 1-based `step`: lr decays to lr / (1 + (step - 1) lrDecay). */
  adagradUpdate(
    p: FloatArray,
    g: TypedArray,
    sum: FloatArray,
    lr: number,
    lrDecay: number,
    weightDecay: number,
    eps: number,
    step: number,
  ): void;
}

export type KernelName = keyof Kernels;

/** keys, memory, strength, gate, shift, gamma, previous (or their gradients), in ntmAddressing's order. */
export type NtmAddressingArrays = [FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray];

/**
 * Elements of ntmAddressing's saved buffer: per (batch, head) the cosines, content weights and
 * shifted weights (3 slots) and the key norm, then per batch entry the memory row norms (slots).
 */
export function ntmAddressingSavedSize(batch: number, heads: number, slots: number): number {
  return batch * heads * (3 * slots + 1) + batch * slots;
}

/**
 * Elements of fastWeightsSequence's saved buffer: per step and batch row the pre-activation and the
 * normalised input of the layer norm (hidden each), its reciprocal standard deviation, and the
 * scores h_tau . h^0 against the earlier states (steps).
 */
export function fastWeightsSavedSize(batch: number, steps: number, hidden: number): number {
  return steps * batch * (2 * hidden + 1 + steps);
}
