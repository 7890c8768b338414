/**
 * MemN2N's sentence encoder as one op: word ids (..., W) with PAD 0 and an embedding table (V, d) ->
 *   m = sum_j l_j o table[x_j]  (+ temporal[age] when a temporal table and ages are given)   (..., d)
 * with word weights l_kj (j = 1..J, k = 1..d) by `encoding` (SENTENCE_ENCODINGS in kernels.ts):
 * "position", the paper's l_kj = (1 - j/J) - (k/d)(1 - 2j/J) over the row's own J words;
 * "position-reference", the official code's l_kj = 1 + 4 (k - (d+1)/2)(j - (W+1)/2) / (d W) over the
 * row's full width W (so it depends on how wide the rows are padded); "bow", l = 1. PAD words count
 * for nothing.
 *
 * One loop over the words forward and one scatter backward, with no temporaries: written with ops it
 * is a gather of (..., W, d) rows, a product and a sum (or, as MemN2N computed it before, GEMMs with
 * a (rows x V) coefficient matrix), and those allocations dominated a MemN2N training step.
 * Higher-order gradients (createGraph) go through the op composition.
 */
import { isGradEnabled, needsGradAny, record, runBackward } from "../autograd/engine.js";
import { Tensor } from "../autograd/tensor.js";
import { K } from "../backend/index.js";
import { opCode, SENTENCE_ENCODINGS, sentenceWeightTerms, type FloatArray, type SentenceEncoding } from "../backend/kernels.js";
import { ArgumentError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { add } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { indexSelect, reshape } from "../ops/shape.js";
import { assertTensor } from "../ops/util.js";

export { SENTENCE_ENCODINGS, type SentenceEncoding };

export interface EncodeSentencesOptions {
  /** "position" (default), "position-reference" or "bow". */
  encoding?: SentenceEncoding;
  /** Temporal rows (M, d), added at `ages`. */
  temporal?: Tensor;
  /** int32 (the ids' shape without its last axis), each in [0, M): the temporal row of each sentence. */
  ages?: Tensor;
}

/** table (V, d) float, ids int32 (..., W) -> (..., d). */
export function encodeSentences(table: Tensor, ids: Tensor, opts: EncodeSentencesOptions = {}): Tensor {
  const op = "encodeSentences";
  assertTensor(op, table, "table");
  assertTensor(op, ids, "ids");
  if (table.dtype !== "float32" && table.dtype !== "float64")
    throw new DTypeError(`${op}: table must be float32 or float64, got ${table.dtype}`);
  if (table.ndim !== 2) throw new ShapeError(`${op}: table must be (vocabulary, dim), got ${fmtShape(table.shape)}`);
  if (ids.dtype !== "int32") throw new DTypeError(`${op}: ids must be int32, got ${ids.dtype}`);
  if (ids.ndim < 1) throw new ShapeError(`${op}: ids must be (..., words), got ${fmtShape(ids.shape)}`);
  const encoding = checkEncoding(op, opts.encoding ?? "position");
  const [V, d] = table.shape as [number, number];
  const words = ids.shape[ids.ndim - 1]!;
  const lead = ids.shape.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  checkIds(op, "id", ids, V);
  const { temporal, ages } = opts;
  if ((temporal === undefined) !== (ages === undefined)) throw new ArgumentError(`${op}: temporal and ages go together`);
  if (temporal !== undefined && ages !== undefined) {
    assertTensor(op, temporal, "temporal");
    assertTensor(op, ages, "ages");
    if (temporal.dtype !== table.dtype)
      throw new DTypeError(`${op}: temporal dtype ${temporal.dtype} differs from table dtype ${table.dtype}`);
    if (temporal.ndim !== 2 || temporal.shape[1] !== d)
      throw new ShapeError(`${op}: temporal ${fmtShape(temporal.shape)} must be (rows, ${d}) for table ${fmtShape(table.shape)}`);
    if (ages.dtype !== "int32") throw new DTypeError(`${op}: ages must be int32, got ${ages.dtype}`);
    if (ages.ndim !== lead.length || ages.shape.some((n, i) => n !== lead[i]))
      throw new ShapeError(`${op}: ages ${fmtShape(ages.shape)} must be ${fmtShape(lead)} for ids ${fmtShape(ids.shape)}`);
    checkIds(op, "age", ages, temporal.shape[0]!);
  }
  const out = Tensor.empty([...lead, d], table.dtype);
  if (out.size === 0) return out;
  const code = opCode(SENTENCE_ENCODINGS, encoding);
  const x = ids.data as Int32Array;
  const a = ages ? (ages.data as Int32Array) : null;
  K.sentenceEncode(
    x,
    table.data as FloatArray,
    temporal ? (temporal.data as FloatArray) : null,
    a,
    out.data as FloatArray,
    rows,
    words,
    d,
    code,
  );
  const inputs = temporal ? [table, temporal] : [table];
  if (needsGradAny(inputs)) {
    record(op, out, inputs, (g) => {
      if (isGradEnabled()) {
        const composite = encodeComposite(table, ids, code, temporal && ages ? { temporal, ages } : null);
        return runBackward(composite, g, { createGraph: true }, inputs)!;
      }
      const dTable = Tensor.empty(table.shape, table.dtype);
      const dTemporal = temporal ? Tensor.empty(temporal.shape, temporal.dtype) : null;
      K.sentenceEncodeGrad(
        x,
        a,
        g.data as FloatArray,
        dTable.data as FloatArray,
        dTemporal ? (dTemporal.data as FloatArray) : null,
        rows,
        words,
        d,
        code,
      );
      return [table.requiresGrad ? dTable : null, ...(temporal ? [temporal.requiresGrad ? dTemporal : null] : [])];
    });
  }
  return out;
}

/**
 * The word weights l_kj of a J-word sentence as a [J, d] row-major array: the paper's ("position",
 * default), the reference code's ("position-reference", for rows padded to exactly J words) or 1.
 */
export function positionEncoding(J: number, d: number, encoding: SentenceEncoding = "position"): Float64Array {
  const code = opCode(SENTENCE_ENCODINGS, checkEncoding("positionEncoding", encoding));
  const out = new Float64Array(J * d);
  for (let j = 1; j <= J; j++) {
    const [a, b] = sentenceWeightTerms(code, j, J, J, d);
    for (let k = 1; k <= d; k++) out[(j - 1) * d + (k - 1)] = a + (k / d) * b;
  }
  return out;
}

function checkEncoding(op: string, encoding: unknown): SentenceEncoding {
  if (!(SENTENCE_ENCODINGS as readonly unknown[]).includes(encoding))
    throw new ArgumentError(`${op}: encoding must be one of ${SENTENCE_ENCODINGS.join(", ")}, got ${JSON.stringify(encoding)}`);
  return encoding as SentenceEncoding;
}

function checkIds(op: string, what: string, ids: Tensor, bound: number): void {
  const x = ids.data;
  for (let i = 0; i < x.length; i++) {
    const id = x[i]!;
    if (!(id >= 0 && id < bound)) throw new ArgumentError(`${op}: ${what} ${id} is outside [0, ${bound})`);
  }
}

/**
 * encodeSentences written with ops (the graph a recorded backward differentiates): since
 * l_kj = a_j + (k/d) b_j (sentenceWeightTerms), the encoding is a coefficient matrix [a; b]
 * (rows x 2 x V) times the table, the halves combined by a product with [I; diag(k/d)]; BoW is a
 * word-count matrix times the table.
 */
function encodeComposite(table: Tensor, ids: Tensor, code: number, time: { temporal: Tensor; ages: Tensor } | null): Tensor {
  const [V, d] = table.shape as [number, number];
  const words = ids.shape[ids.ndim - 1]!;
  const lead = ids.shape.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  const position = code !== opCode(SENTENCE_ENCODINGS, "bow");
  const halves = position ? 2 : 1;
  const dtype = table.dtype as "float32" | "float64";
  const coef = Tensor.empty([rows * halves, V], dtype);
  const x = ids.data;
  for (let r = 0; r < rows; r++) {
    let J = 0;
    for (let j = 0; j < words; j++) if (x[r * words + j] !== 0) J = j + 1;
    for (let j = 1; j <= J; j++) {
      const id = x[r * words + j - 1]!;
      if (id === 0) continue;
      const [a, b] = sentenceWeightTerms(code, j, J, words, d);
      coef.data[halves * r * V + id]! += a;
      if (position) coef.data[(2 * r + 1) * V + id]! += b;
    }
  }
  let out: Tensor;
  if (!position) out = matmul(coef, table);
  else {
    const combine = Tensor.empty([2 * d, d], dtype);
    for (let k = 0; k < d; k++) {
      combine.data[k * d + k] = 1;
      combine.data[(d + k) * d + k] = (k + 1) / d;
    }
    out = matmul(reshape(matmul(coef, table), [rows, 2 * d]), combine);
  }
  if (time !== null) out = add(out, indexSelect(time.temporal, 0, reshape(time.ages, [rows])));
  return reshape(out, [...lead, d]);
}
