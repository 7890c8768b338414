/**
 * PyTorch 1.13 parity of the Transformer layers and stacks (fixtures from
 * scripts/gen-transformer-fixtures.py): encoder and decoder layers, pre- and post-norm, relu and
 * gelu, masks (PyTorch's true = blocked, inverted here), sequence-first layout, and a whole
 * nn.Transformer; plus the loaders' strictness.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { keyPaddingMask } from "../../src/attention/masks.js";
import { TransformerDecoderLayer, TransformerEncoderLayer, type TransformerLayerOptions } from "../../src/models/transformer-layers.js";
import { TransformerDecoder, TransformerEncoder } from "../../src/models/transformer.js";
import {
  loadTorchTransformer,
  loadTorchTransformerDecoderLayer,
  loadTorchTransformerEncoder,
  loadTorchTransformerEncoderLayer,
} from "../../src/models/transformer-torch.js";
import { maxAbsDiff } from "../nn/helpers.js";

interface Enc {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  type: "encoderLayer" | "decoderLayer" | "transformer";
  config: {
    dModel: number;
    numHeads: number;
    dimFeedforward: number;
    norm: "pre" | "post";
    activation: "relu" | "gelu";
    layerNormEps: number;
    batchFirst: boolean;
    numLayers?: number;
  };
  stateDict: Record<string, Enc>;
  output: Enc;
  [input: string]: unknown;
}
type Dtype = "float32" | "float64";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/transformer.json", import.meta.url), "utf8")) as { cases: Case[] };

function dec(e: Enc, dtype: Dtype | "bool"): eg.Tensor {
  const data = dtype === "float64" ? Float64Array.from(e.data) : dtype === "float32" ? Float32Array.from(e.data) : Uint8Array.from(e.data);
  return eg.tensor(data, { shape: e.shape, ...(dtype === "bool" ? { dtype: "bool" as const } : {}) });
}

const field = (c: Case, name: string): Enc | undefined => c[name] as Enc | undefined;
/** A PyTorch attention mask (true = blocked) as an Engram one (true = attend). */
const attnMask = (c: Case, name: string): eg.Tensor | undefined => {
  const e = field(c, name);
  return e ? eg.logicalNot(dec(e, "bool")) : undefined;
};
const paddingMask = (c: Case, name: string): eg.Tensor | undefined => {
  const e = field(c, name);
  return e ? keyPaddingMask(dec(e, "bool")) : undefined;
};
const stateDict = (c: Case, dtype: Dtype): Record<string, eg.Tensor> =>
  Object.fromEntries(Object.entries(c.stateDict).map(([k, v]) => [k, dec(v, dtype)]));

function layerOptions(c: Case, dtype: Dtype): TransformerLayerOptions {
  const { dimFeedforward, norm, activation, layerNormEps, batchFirst } = c.config;
  return { dimFeedforward, norm, activation, layerNormEps, batchFirst, dropout: 0, dtype };
}

function run(c: Case, dtype: Dtype): eg.Tensor {
  const { dModel, numHeads } = c.config;
  const opts = layerOptions(c, dtype);
  const sd = stateDict(c, dtype);
  if (c.type === "encoderLayer") {
    const layer = new TransformerEncoderLayer(dModel, numHeads, opts).eval();
    loadTorchTransformerEncoderLayer(layer, sd);
    const mask = attnMask(c, "srcMask");
    const kpm = paddingMask(c, "srcKeyPaddingMask");
    return layer.forward(dec(field(c, "src")!, dtype), { ...(mask ? { mask } : {}), ...(kpm ? { keyPaddingMask: kpm } : {}) }).output;
  }
  if (c.type === "decoderLayer") {
    const layer = new TransformerDecoderLayer(dModel, numHeads, opts).eval();
    loadTorchTransformerDecoderLayer(layer, sd);
    const masks = {
      tgtMask: attnMask(c, "tgtMask"),
      memoryMask: attnMask(c, "memoryMask"),
      tgtKeyPaddingMask: paddingMask(c, "tgtKeyPaddingMask"),
      memoryKeyPaddingMask: paddingMask(c, "memoryKeyPaddingMask"),
    };
    const given = Object.fromEntries(Object.entries(masks).filter(([, m]) => m !== undefined));
    // PyTorch's layer is causal only through tgt_mask, so the built-in causal mask is switched off
    return layer.forward(dec(field(c, "tgt")!, dtype), dec(field(c, "memory")!, dtype), { ...given, tgtIsCausal: false }).output;
  }
  const stack = { ...opts, finalNorm: true };
  const encoder = new TransformerEncoder(dModel, numHeads, c.config.numLayers!, stack).eval();
  const decoder = new TransformerDecoder(dModel, numHeads, c.config.numLayers!, stack).eval();
  loadTorchTransformer(encoder, decoder, sd);
  const kpm = paddingMask(c, "srcKeyPaddingMask")!;
  const memory = encoder.forward(dec(field(c, "src")!, dtype), { keyPaddingMask: kpm }).output;
  return decoder.forward(dec(field(c, "tgt")!, dtype), memory, {
    tgtMask: attnMask(c, "tgtMask")!,
    tgtIsCausal: false,
    memoryKeyPaddingMask: kpm,
  }).output;
}

describe.each(["float32", "float64"] as const)("PyTorch Transformer parity (%s)", (dtype) => {
  const tol = dtype === "float32" ? 1e-5 : 1e-10;
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const out = run(c, dtype);
    expect(maxAbsDiff(out, dec(c.output, "float64"))).toBeLessThan(tol);
  });
});

describe("PyTorch Transformer loaders", () => {
  const encCase = fixture.cases.find((c) => c.type === "encoderLayer")!;
  const decCase = fixture.cases.find((c) => c.type === "decoderLayer")!;

  it("the built-in causal flag equals PyTorch's causal tgt_mask", () => {
    const c = decCase; // its tgt_mask is causal
    const layer = new TransformerDecoderLayer(c.config.dModel, c.config.numHeads, layerOptions(c, "float64")).eval();
    loadTorchTransformerDecoderLayer(layer, stateDict(c, "float64"));
    const out = layer.forward(dec(field(c, "tgt")!, "float64"), dec(field(c, "memory")!, "float64"), {
      tgtKeyPaddingMask: paddingMask(c, "tgtKeyPaddingMask")!,
      memoryKeyPaddingMask: paddingMask(c, "memoryKeyPaddingMask")!,
    }).output;
    expect(maxAbsDiff(out, dec(c.output, "float64"))).toBeLessThan(1e-10);
  });

  it("reject missing and unknown keys and keep the previous weights", () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const before = [...layer.stateDict()].map(([k, t]) => [k, Array.from(t.data)] as const);
    const sd = stateDict(encCase, "float32");
    const { "norm2.bias": _drop, ...missing } = sd;
    expect(() => loadTorchTransformerEncoderLayer(layer, missing)).toThrow(/^loadTorchTransformerEncoderLayer: .*norm2\.bias/);
    expect(() => loadTorchTransformerEncoderLayer(layer, { ...sd, "linear3.weight": eg.zeros([2]) })).toThrow(eg.CheckpointError);
    expect(() => loadTorchTransformerEncoderLayer(layer, { ...sd, "self_attn.bias_k": eg.zeros([1, 1, 8]) })).toThrow(
      /^loadTorchTransformerEncoderLayer: self_attn\.\*: .*bias_k/,
    );
    expect(() => loadTorchTransformerEncoderLayer(layer, { ...sd, "linear1.weight": eg.zeros([3, 8]) })).toThrow(eg.ShapeError);
    // attention weights were loaded before each failure was found; all were rolled back
    expect([...layer.stateDict()].map(([k, t]) => [k, Array.from(t.data)] as const)).toEqual(before);
    const decoder = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
    expect(() => loadTorchTransformerDecoderLayer(decoder, sd)).toThrow(
      /^loadTorchTransformerDecoderLayer: state dict has no multihead_attn\.\* keys/,
    );
    expect(() => loadTorchTransformerEncoderLayer(decoder as unknown as TransformerEncoderLayer, sd)).toThrow(eg.ArgumentError);
  });

  it("stacks: layer count and final norm must match", () => {
    const sd = Object.fromEntries(Object.entries(stateDict(encCase, "float32")).map(([k, t]) => [`layers.0.${k}`, t]));
    const one = new TransformerEncoder(8, 2, 1, { dimFeedforward: 16 });
    loadTorchTransformerEncoder(one, sd);
    expect(Array.from(one.layers[0]!.linear1.weight.data)).toEqual(
      Array.from(Float32Array.from(encCase.stateDict["linear1.weight"]!.data)),
    );
    expect(() => loadTorchTransformerEncoder(new TransformerEncoder(8, 2, 2, { dimFeedforward: 16 }), sd)).toThrow(/layers\.1/);
    expect(() => loadTorchTransformerEncoder(new TransformerEncoder(8, 2, 1, { dimFeedforward: 16, finalNorm: true }), sd)).toThrow(
      /final norm/,
    );
    const withNorm = { ...sd, "norm.weight": eg.ones([8]), "norm.bias": eg.zeros([8]) };
    expect(() => loadTorchTransformerEncoder(one, withNorm)).toThrow(/finalNorm true/);
    expect(() => loadTorchTransformerEncoder(one, { ...sd, "layers.1.linear1.weight": eg.zeros([16, 8]) })).toThrow(/layers\.1\.linear1/);
  });
});
