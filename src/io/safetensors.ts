/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON header
 * (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {...}}`)
 * and a byte buffer in which every tensor's bytes sit at [begin, end) relative to the buffer start.
 *
 * Decoding trusts nothing: every check happens before any tensor is allocated, tensors must tile the
 * buffer exactly, and no allocation exceeds twice the input size (float16 widens to float32), so a
 * hostile file gives a CheckpointError instead of a crash or an absurd allocation.
 */
import { Tensor } from "../autograd/tensor.js";
import type { TypedArray } from "../backend/kernels.js";
import { allocate, type DType } from "../core/dtype.js";
import { ArgumentError, CheckpointError, fmtShape } from "../core/errors.js";
import { MAX_SIZE } from "../core/shape.js";
import { JsonSyntaxError, parseJson, type JsonValue } from "./header-json.js";

export interface SafetensorsContent {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** The reference implementation's limit; a larger header is corrupt or hostile. */
export const MAX_HEADER_BYTES = 100_000_000;
const MAX_NDIM = 64;
const METADATA_KEY = "__metadata__";

/** How each file dtype is stored and which Engram dtype it decodes to. */
const FILE_DTYPES = {
  F64: { bytes: 8, dtype: "float64" },
  F32: { bytes: 4, dtype: "float32" },
  F16: { bytes: 2, dtype: "float32" },
  BF16: { bytes: 2, dtype: "float32" },
  I64: { bytes: 8, dtype: "int32" },
  I32: { bytes: 4, dtype: "int32" },
  I16: { bytes: 2, dtype: "int32" },
  U16: { bytes: 2, dtype: "int32" },
  I8: { bytes: 1, dtype: "int32" },
  U8: { bytes: 1, dtype: "int32" },
  BOOL: { bytes: 1, dtype: "bool" },
} as const satisfies Record<string, { bytes: number; dtype: DType }>;
type FileDType = keyof typeof FILE_DTYPES;

const ENCODED: Record<DType, FileDType> = { float64: "F64", float32: "F32", int32: "I32", bool: "BOOL" };

// Typed arrays use the host byte order and the format is little-endian; every JS engine in use is
// little-endian, and the check keeps a big-endian host from silently reading garbage.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(op: string): void {
  if (!LITTLE_ENDIAN) throw new CheckpointError(`${op}: big-endian hosts are not supported`);
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Serializes tensors (float32, float64, int32, bool) and optional string metadata. Tensors are laid
 * out largest element first, then by name, with the header padded to 8 bytes, so every tensor is
 * aligned to its element size in the file.
 */
export function encode(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const op = "safetensors.encode";
  assertLittleEndian(op);
  if (typeof tensors !== "object" || tensors === null) throw new ArgumentError(`${op}: tensors must be a record of name -> Tensor`);
  const entries: [string, Tensor][] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new ArgumentError(`${op}: ${METADATA_KEY} is reserved and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: entry ${JSON.stringify(name)} is not a Tensor`);
    t.assertAlive(op);
    entries.push([name, t]);
  }
  entries.sort(([na, a], [nb, b]) => b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT || (na < nb ? -1 : na > nb ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        throw new ArgumentError(`${op}: metadata value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const begin = offset;
    offset += t.data.byteLength;
    // defineProperty: a tensor called "__proto__" must become a key, not a prototype
    Object.defineProperty(header, name, {
      value: { dtype: ENCODED[t.dtype], shape: [...t.shape], data_offsets: [begin, offset] },
      enumerable: true,
    });
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }

  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, Math.floor(json.length / 2 ** 32), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    if (t.dtype === "bool") {
      // the format's BOOL is exactly 0 or 1
      const d = t.data;
      for (let i = 0; i < d.length; i++) out[at + i] = d[i] !== 0 ? 1 : 0;
    } else out.set(bytesOf(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  fileDType: FileDType;
  shape: number[];
  begin: number;
  end: number;
}

function isRecord(v: JsonValue | undefined): v is Map<string, JsonValue> {
  return v instanceof Map;
}

/** Reads the header and checks every entry and the layout of the byte buffer; allocates nothing large. */
function readHeader(op: string, bytes: Uint8Array): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  const bad: (msg: string) => never = (msg) => {
    throw new CheckpointError(`${op}: ${msg}`);
  };
  if (bytes.length < 8) bad(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_HEADER_BYTES) bad(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen > bytes.length - 8) bad(`header length ${headerLen} exceeds the ${bytes.length - 8} bytes after the length field`);

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return bad("header is not valid UTF-8");
  }
  let root: JsonValue;
  try {
    root = parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return bad(`header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!isRecord(root)) return bad("header must be a JSON object");

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of root) {
    if (name === METADATA_KEY) {
      if (!isRecord(info)) return bad(`${METADATA_KEY} must be an object of strings`);
      for (const [k, v] of info) {
        if (typeof v !== "string") bad(`${METADATA_KEY} value for ${JSON.stringify(k)} must be a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!isRecord(info)) return bad(`${where}: entry must be an object with dtype, shape and data_offsets`);
    const dtype = info.get("dtype");
    if (typeof dtype !== "string") return bad(`${where}: missing or non-string dtype`);
    if (!Object.hasOwn(FILE_DTYPES, dtype))
      bad(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(FILE_DTYPES).join(", ")})`);
    const fileDType = dtype as FileDType;

    const shape = info.get("shape");
    if (!Array.isArray(shape)) return bad(`${where}: shape must be an array`);
    if (shape.length > MAX_NDIM) bad(`${where}: shape has ${shape.length} dimensions, more than ${MAX_NDIM}`);
    let count = 1;
    for (const d of shape) {
      if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > MAX_SIZE) {
        bad(`${where}: shape ${JSON.stringify(shape)} must hold integers in [0, ${MAX_SIZE}]`);
      }
      count *= d;
    }
    if (count > MAX_SIZE) bad(`${where}: shape ${JSON.stringify(shape)} has ${count} elements, more than ${MAX_SIZE}`);

    const offsets = info.get("data_offsets");
    if (!Array.isArray(offsets) || offsets.length !== 2) return bad(`${where}: data_offsets must be [begin, end]`);
    const [begin, end] = offsets;
    if (
      typeof begin !== "number" ||
      typeof end !== "number" ||
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      begin < 0 ||
      end < begin
    ) {
      return bad(`${where}: data_offsets ${JSON.stringify(offsets)} must be integers with 0 <= begin <= end`);
    }
    const expected = count * FILE_DTYPES[fileDType].bytes;
    if (end - begin !== expected) {
      bad(
        `${where}: ${fileDType} shape ${fmtShape(shape as number[])} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, fileDType, shape: shape as number[], begin, end });
  }

  // Tensors must tile the buffer: sorted by position, each starts where the previous ended.
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const byPos = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of byPos) {
    if (e.begin < at)
      bad(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${at})`);
    if (e.begin > at) bad(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${at}`);
    if (e.end > dataLen)
      bad(`data truncated: tensor ${JSON.stringify(e.name)} ends at byte ${e.end} but the data section has ${dataLen} bytes`);
    at = e.end;
  }
  if (at !== dataLen) bad(`tensors cover ${at} bytes but the data section has ${dataLen} bytes`);
  return { entries, metadata, dataStart };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeEntry(op: string, e: Entry, bytes: Uint8Array, dataStart: number): Tensor {
  const spec = FILE_DTYPES[e.fileDType];
  const n = (e.end - e.begin) / spec.bytes;
  const start = bytes.byteOffset + dataStart + e.begin;
  const src = bytes.subarray(dataStart + e.begin, dataStart + e.end);
  const out = allocate(spec.dtype, n);
  const view = new DataView(bytes.buffer, start, e.end - e.begin);
  switch (e.fileDType) {
    case "F64":
    case "F32":
    case "I32":
      bytesOf(out).set(src);
      break;
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = src[i] !== 0 ? 1 : 0;
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case "BF16": {
      // bfloat16 is the top half of a float32
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case "I64":
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        if (!((hi === 0 && lo < 2 ** 31) || (hi === -1 && lo >= 2 ** 31))) {
          const value = BigInt(hi) * 2n ** 32n + BigInt(lo);
          throw new CheckpointError(`${op}: tensor ${JSON.stringify(e.name)}: I64 value ${value} at index ${i} does not fit in int32`);
        }
        out[i] = lo | 0;
      }
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case "U16":
      for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case "U8":
      out.set(src);
      break;
  }
  return new Tensor(out, e.shape, spec.dtype);
}

/**
 * Parses a safetensors file. F32/F64/I32/BOOL keep their dtype; F16 and BF16 widen to float32;
 * I64, I16, U16, I8 and U8 become int32 (I64 values outside the int32 range are an error). Any
 * malformed input raises CheckpointError.
 */
export function decode(bytes: Uint8Array): SafetensorsContent {
  const op = "safetensors.decode";
  assertLittleEndian(op);
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`${op}: expected a Uint8Array`);
  const { entries, metadata, dataStart } = readHeader(op, bytes);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    Object.defineProperty(tensors, e.name, {
      value: decodeEntry(op, e, bytes, dataStart),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { tensors, metadata };
}
