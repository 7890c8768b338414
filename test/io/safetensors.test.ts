/**
 * safetensors: round trips of every dtype (0-d and size-0 included), a file laid out by a PyTorch
 * script, a table of hostile files that must each give a CheckpointError, and a mutation fuzz loop
 * that may only ever decode or throw CheckpointError.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { decode, encode, MAX_HEADER_BYTES } from "../../src/io/safetensors.js";
import { loadSafetensors, saveSafetensors, writeFileAtomic } from "../../src/io/safetensors-file.js";
import { rng } from "../helpers/rng.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "io");

/** Builds a file from a header object and a data section, the way a hostile writer would. */
function rawFile(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  opts: { headerLen?: number; headerText?: string } = {},
): Uint8Array {
  const json = new TextEncoder().encode(opts.headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  const len = opts.headerLen ?? json.length;
  view.setUint32(0, len % 2 ** 32, true);
  view.setUint32(4, Math.floor(len / 2 ** 32), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function sample(): Record<string, eg.Tensor> {
  return {
    weight: eg.tensor([
      [1.5, -2, 3.25],
      [0, 1e-30, -7],
    ]),
    bias: eg.tensor([0.1, 0.2, 0.3], { dtype: "float64" }),
    ids: eg.tensor([[-5, 2147483647, -2147483648]], { dtype: "int32" }),
    mask: eg.tensor([true, false, true, true]),
  };
}

describe("safetensors encode/decode", () => {
  it("round-trips every dtype, 0-d and size-0 tensors, metadata and odd names", () => {
    eg.manualSeed(0);
    const tensors: Record<string, eg.Tensor> = {
      ...sample(),
      scalar: eg.tensor(3.5),
      scalarInt: eg.tensor(7, { dtype: "int32" }),
      scalarBool: eg.tensor(true),
      empty: eg.zeros([0, 4]),
      emptyInt: eg.zeros([3, 0], { dtype: "int32" }),
      emptyBool: eg.zeros([0], { dtype: "bool" }),
      special: eg.tensor([NaN, Infinity, -Infinity, -0]),
      "layers.0.attn.q_proj.weight": eg.randn([2, 3, 4]),
      'ünïcødé "quoted" \\ name': eg.ones([1]),
      ["__proto__"]: eg.tensor([9]),
      "": eg.tensor([1, 2], { dtype: "float64" }),
    };
    const metadata = { format: "pt", note: "línea\nnueva", empty: "" };
    const bytes = encode(tensors, metadata);
    const { tensors: back, metadata: meta } = decode(bytes);
    expect(meta).toEqual(metadata);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const u = back[name]!;
      expect(u.dtype, name).toBe(t.dtype);
      expect(u.shape, name).toEqual(t.shape);
      expect(Array.from(u.data), name).toEqual(Array.from(t.data));
      expect(u.data).not.toBe(t.data);
    }
    expect(Object.is(back.special!.data[3], -0)).toBe(true);
  });

  it("aligns every tensor to its element size and pads the header with spaces", () => {
    const bytes = encode({
      a: eg.tensor([true]),
      b: eg.tensor([1], { dtype: "float64" }),
      c: eg.tensor([2]),
      d: eg.tensor([3], { dtype: "int32" }),
    });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
    expect(header.b!.data_offsets).toEqual([0, 8]); // float64 first
    expect(header.c!.data_offsets[0] % 4).toBe(0);
    expect(header.d!.data_offsets[0] % 4).toBe(0);
    expect(header.a!.data_offsets).toEqual([16, 17]);
    expect(Object.keys(header)).not.toContain("__metadata__");
  });

  it("writes bool as exact 0/1 bytes and decodes any non-zero byte as true", () => {
    const raw = new Uint8Array([0, 2, 1, 255]);
    const t = new eg.Tensor(raw, [4], "bool");
    const bytes = encode({ m: t });
    expect(Array.from(bytes.subarray(bytes.length - 4))).toEqual([0, 1, 1, 1]);
    bytes[bytes.length - 1] = 7;
    expect(Array.from(decode(bytes).tensors.m!.data)).toEqual([0, 1, 1, 1]);
  });

  it("decodes from a Uint8Array that is a view at an odd offset of a larger buffer", () => {
    const bytes = encode(sample(), { k: "v" });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const { tensors } = decode(big.subarray(3));
    expect(tensors.weight!.toArray()).toEqual(sample().weight!.toArray());
    expect(Array.from(tensors.bias!.data)).toEqual([0.1, 0.2, 0.3]);
  });

  it("rejects bad arguments to encode", () => {
    expect(() => encode({ __metadata__: eg.tensor([1]) })).toThrow(/safetensors.encode: __metadata__ is reserved/);
    expect(() => encode({ a: [1, 2] as unknown as eg.Tensor })).toThrow(eg.ArgumentError);
    expect(() => encode({ a: eg.tensor([1]) }, { k: 3 as unknown as string })).toThrow(/metadata value for "k" must be a string/);
    const gone = eg.tensor([1]);
    gone.dispose();
    expect(() => encode({ gone })).toThrow(/disposed/);
  });
});

describe("safetensors fixture written by a PyTorch script", () => {
  interface Expected {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; shape: number[]; values: (number | boolean | string)[] }>;
  }
  const expected = JSON.parse(readFileSync(join(FIXTURES, "torch-tensors.json"), "utf8")) as Expected;
  const DTYPE: Record<string, eg.DType> = { F64: "float64", F32: "float32", F16: "float32", BF16: "float32", BOOL: "bool" };

  it("decodes every dtype to the values PyTorch wrote", () => {
    const { tensors, metadata } = decode(readFileSync(join(FIXTURES, "torch-tensors.safetensors")));
    expect(metadata).toEqual(expected.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, e] of Object.entries(expected.tensors)) {
      const t = tensors[name]!;
      expect(t.dtype, name).toBe(DTYPE[e.dtype] ?? "int32");
      expect(t.shape, name).toEqual(e.shape);
      const want = e.values.map((v) =>
        v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v === true ? 1 : v === false ? 0 : v,
      );
      const got = Array.from(t.data);
      if (e.dtype === "F32" || e.dtype === "F16" || e.dtype === "BF16")
        expect(got, name).toEqual(want.map((v) => Math.fround(v as number)));
      else expect(got, name).toEqual(want);
    }
    // -0 survives float16 decoding
    expect(Object.is(tensors["f16.vector"]!.data[1], -0)).toBe(true);
  });
});

describe("safetensors hostile input", () => {
  const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);
  const entry = (dtype: string, shape: unknown, offsets: unknown): unknown => ({ dtype, shape, data_offsets: offsets });
  const hugeLen = new Uint8Array(16);
  new DataView(hugeLen.buffer).setUint32(4, 0xffffffff, true);

  const CASES: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /too short for the 8-byte header length/],
    ["7 bytes", new Uint8Array(7), /too short/],
    ["header length 2^64-ish", hugeLen, /exceeds the 100000000-byte limit/],
    ["header length over the limit", rawFile({}, undefined, { headerLen: MAX_HEADER_BYTES + 1 }), /exceeds the 100000000-byte limit/],
    ["header length past end of file", rawFile({}, undefined, { headerLen: 50 }), /exceeds the 2 bytes after the length field/],
    ["empty header", rawFile(null, undefined, { headerText: "" }), /not valid JSON: .*end of input/],
    ["header not JSON", rawFile(null, undefined, { headerText: "{'a': 1}" }), /not valid JSON/],
    ["header truncated JSON", rawFile(null, undefined, { headerText: '{"a": {"dtype": "F32"' }), /not valid JSON/],
    ["header JSON array", rawFile([1, 2]), /header must be a JSON object/],
    ["header JSON string", rawFile("x"), /header must be a JSON object/],
    ["header trailing garbage", rawFile(null, undefined, { headerText: "{} x" }), /trailing characters/],
    [
      "header invalid UTF-8",
      (() => {
        const b = rawFile(null, undefined, { headerText: '{"\u00e9": 1}' });
        b[10] = 0xff;
        return b;
      })(),
      /not valid UTF-8/,
    ],
    ["deeply nested header", rawFile(null, undefined, { headerText: "[".repeat(100_000) }), /nesting deeper than 64/],
    [
      "duplicate tensor key",
      rawFile(null, f32(2), {
        headerText: '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      }),
      /duplicate key "a"/,
    ],
    [
      "duplicate field key",
      rawFile(null, f32(1), { headerText: '{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}' }),
      /duplicate key "dtype"/,
    ],
    ["entry not an object", rawFile({ a: [1, 2] }), /tensor "a": entry must be an object/],
    ["missing dtype", rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor "a": missing or non-string dtype/],
    ["unknown dtype", rawFile({ a: entry("F8_E4M3", [1], [0, 1]) }, new Uint8Array(1)), /unsupported dtype "F8_E4M3"/],
    ["dtype wrong case", rawFile({ a: entry("f32", [1], [0, 4]) }, f32(1)), /unsupported dtype "f32"/],
    ["dtype inherited name", rawFile({ a: entry("toString", [1], [0, 4]) }, f32(1)), /unsupported dtype "toString"/],
    ["shape not an array", rawFile({ a: entry("F32", 4, [0, 16]) }, f32(4)), /shape must be an array/],
    ["negative shape", rawFile({ a: entry("F32", [-1, 4], [0, 16]) }, f32(4)), /shape \[-1,4\] must hold integers/],
    ["fractional shape", rawFile({ a: entry("F32", [1.5], [0, 4]) }, f32(1)), /must hold integers/],
    ["string shape entry", rawFile({ a: entry("F32", ["2"], [0, 8]) }, f32(2)), /must hold integers/],
    ["huge shape entry", rawFile({ a: entry("F32", [1e300], [0, 4]) }, f32(1)), /must hold integers/],
    ["huge element count", rawFile({ a: entry("F32", [65536, 65536], [0, 4]) }, f32(1)), /has 4294967296 elements/],
    ["too many dims", rawFile({ a: entry("F32", new Array<number>(65).fill(1), [0, 4]) }, f32(1)), /65 dimensions/],
    ["offsets missing", rawFile({ a: { dtype: "F32", shape: [1] } }, f32(1)), /data_offsets must be \[begin, end\]/],
    ["offsets of length 3", rawFile({ a: entry("F32", [1], [0, 4, 8]) }, f32(1)), /data_offsets must be \[begin, end\]/],
    ["offsets reversed", rawFile({ a: entry("F32", [0], [4, 0]) }, f32(1)), /0 <= begin <= end/],
    ["offsets negative", rawFile({ a: entry("F32", [1], [-4, 0]) }, f32(1)), /0 <= begin <= end/],
    [
      "offsets beyond 2^53",
      rawFile(null, f32(1), { headerText: '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}' }),
      /0 <= begin <= end/,
    ],
    [
      "shape/size mismatch",
      rawFile({ a: entry("F32", [3], [0, 8]) }, f32(2)),
      /F32 shape \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/,
    ],
    [
      "offsets past the end",
      rawFile({ a: entry("F32", [4], [0, 16]) }, f32(2)),
      /data truncated: tensor "a" ends at byte 16 but the data section has 8 bytes/,
    ],
    ["gap between tensors", rawFile({ a: entry("F32", [1], [0, 4]), b: entry("F32", [1], [8, 12]) }, f32(3)), /leave a gap after byte 4/],
    ["gap at start", rawFile({ a: entry("F32", [1], [4, 8]) }, f32(2)), /leave a gap after byte 0/],
    [
      "overlapping tensors",
      rawFile({ a: entry("F32", [2], [0, 8]), b: entry("F32", [2], [4, 12]) }, f32(3)),
      /overlap the previous tensor/,
    ],
    ["two tensors on the same bytes", rawFile({ a: entry("F32", [1], [0, 4]), b: entry("I32", [1], [0, 4]) }, f32(1)), /overlap/],
    [
      "trailing bytes not covered",
      rawFile({ a: entry("F32", [1], [0, 4]) }, f32(2)),
      /tensors cover 4 bytes but the data section has 8 bytes/,
    ],
    ["data with no tensors", rawFile({}, f32(1)), /tensors cover 0 bytes but the data section has 4/],
    ["metadata not an object", rawFile({ __metadata__: "x" }), /__metadata__ must be an object of strings/],
    ["metadata with a number", rawFile({ __metadata__: { epoch: 3 } }), /__metadata__ value for "epoch" must be a string/],
    [
      "I64 value outside int32",
      rawFile({ a: entry("I64", [1], [0, 8]) }, new Uint8Array([0, 0, 0, 128, 0, 0, 0, 0])),
      /I64 value 2147483648 at index 0 does not fit in int32/,
    ],
    [
      "I64 value far below int32",
      rawFile({ a: entry("I64", [1], [0, 8]) }, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 128])),
      /I64 value -9223372036854775808/,
    ],
  ];

  for (const [name, bytes, message] of CASES) {
    it(`rejects ${name}`, () => {
      let err: unknown;
      try {
        decode(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(eg.CheckpointError);
      expect((err as Error).message).toMatch(/^safetensors\.decode: /);
      expect((err as Error).message).toMatch(message);
    });
  }

  it("accepts the edge cases right next to the hostile ones", () => {
    expect(decode(rawFile({})).tensors).toEqual({});
    expect(decode(rawFile(null, undefined, { headerText: "  {}  \n\t " })).tensors).toEqual({});
    const mixed = decode(
      rawFile(
        { a: entry("I64", [2], [0, 16]), e: entry("F32", [0, 5], [16, 16]), __metadata__: { ["__proto__"]: "x" } },
        new Uint8Array([255, 255, 255, 127, 0, 0, 0, 0, 0, 0, 0, 128, 255, 255, 255, 255]),
      ),
    );
    expect(Array.from(mixed.tensors.a!.data)).toEqual([2147483647, -2147483648]);
    expect(mixed.tensors.e!.shape).toEqual([0, 5]);
    expect(Object.getOwnPropertyDescriptor(mixed.metadata, "__proto__")?.value).toBe("x");
    // unknown extra fields in an entry are tolerated, as the reference reader does
    expect(decode(rawFile({ a: { ...(entry("F32", [1], [0, 4]) as object), extra: 1 } }, f32(1))).tensors.a!.shape).toEqual([1]);
  });

  it("survives 2,000 random mutations of a valid file: every outcome is a result or a CheckpointError", () => {
    const valid = encode(
      {
        w: eg.tensor(
          Float32Array.from({ length: 12 }, (_, i) => i * 0.37 - 2),
          { shape: [3, 4] },
        ),
        b: eg.tensor([1, 2], { dtype: "float64" }),
        i: eg.tensor([[1, -2]], { dtype: "int32" }),
        m: eg.tensor([true, false]),
        s: eg.tensor(1),
      },
      { k: "v" },
    );
    const headerLen = new DataView(valid.buffer).getUint32(0, true);
    const rand = rng(2024);
    const pick = (n: number): number => Math.floor(rand() * n);
    let decoded = 0;
    let rejected = 0;
    const kinds = new Set<string>();
    for (let iter = 0; iter < 2000; iter++) {
      let b = valid.slice();
      const mutations = 1 + pick(4);
      for (let m = 0; m < mutations; m++) {
        const kind = pick(6);
        // aim most mutations at the length field and the header, where the parsing happens
        const at = rand() < 0.8 ? pick(8 + headerLen) : pick(b.length);
        if (kind === 0) b[at] = pick(256);
        else if (kind === 1) b[at] = b[at]! ^ (1 << pick(8));
        else if (kind === 2) b = b.slice(0, pick(b.length + 1));
        else if (kind === 3) b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + 1)]);
        else if (kind === 4) b = new Uint8Array([...b.subarray(0, at), '{}[],:"0-9e.'.charCodeAt(pick(12)), ...b.subarray(at)]);
        else b[at] = "0123456789".charCodeAt(pick(10));
      }
      try {
        const { tensors } = decode(b);
        for (const t of Object.values(tensors)) expect(t.size).toBe(t.shape.reduce((x, y) => x * y, 1));
        decoded++;
      } catch (e) {
        if (!(e instanceof eg.CheckpointError)) throw new Error(`mutation ${iter} raised ${String(e)}`);
        kinds.add(e.message.replace(/[0-9"[\]].*/, ""));
        rejected++;
      }
    }
    expect(decoded + rejected).toBe(2000);
    expect(rejected).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(0);
    // the mutations reach many different checks, not just the first one
    expect(kinds.size).toBeGreaterThan(8);
  });
});

describe("safetensors files", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "engram-safetensors-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("saves atomically, overwrites, leaves no temp files and loads back", async () => {
    const path = join(dir, "model.safetensors");
    await saveSafetensors(path, { a: eg.tensor([1, 2, 3]) }, { step: "1" });
    await saveSafetensors(path, sample(), { step: "2" });
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
    const { tensors, metadata } = await loadSafetensors(path);
    expect(metadata).toEqual({ step: "2" });
    expect(Object.keys(tensors).sort()).toEqual(["bias", "ids", "mask", "weight"]);
    expect(tensors.mask!.toArray()).toEqual([true, false, true, true]);
  });

  it("names the file in load errors", async () => {
    const missing = join(dir, "missing.safetensors");
    await expect(loadSafetensors(missing)).rejects.toThrow(
      new RegExp(`^loadSafetensors: cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
    const corrupt = join(dir, "corrupt.safetensors");
    await writeFile(corrupt, new Uint8Array([1, 2, 3]));
    const err = await loadSafetensors(corrupt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(eg.CheckpointError);
    expect((err as Error).message).toBe(
      `loadSafetensors: ${corrupt}: safetensors.decode: file is 3 bytes, too short for the 8-byte header length`,
    );
  });

  it("fails cleanly when the directory does not exist, without leaving anything behind", async () => {
    const path = join(dir, "no-such-dir", "x.safetensors");
    await expect(saveSafetensors(path, sample())).rejects.toThrow(eg.CheckpointError);
    await expect(writeFileAtomic(path, "x")).rejects.toThrow(/^writeFileAtomic: cannot write/);
  });

  it("writeFileAtomic replaces text content", async () => {
    const path = join(dir, "config.json");
    await writeFileAtomic(path, "{}");
    await writeFileAtomic(path, '{"a":1}');
    expect(await readFile(path, "utf8")).toBe('{"a":1}');
  });
});
