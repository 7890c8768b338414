/**
 * Engram modules loaded with PyTorch 1.13 state dicts reproduce PyTorch's outputs (and, for the
 * packed-sequence cases, gradients). Fixtures come from scripts/gen-nn-fixtures.py.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import type { Module as ModuleT } from "../../src/nn/index.js";
import { maxAbsDiff } from "./helpers.js";
import * as nn from "../../src/nn/index.js";

interface Enc {
  shape: number[];
  data: number[];
}
type Dtype = "float32" | "float64";

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/nn/${name}.json`, import.meta.url), "utf8")) as T;
}

function dec(e: Enc, dtype: Dtype | "int32" = "float32"): eg.Tensor {
  return eg.tensor(
    dtype === "float64" ? Float64Array.from(e.data) : dtype === "int32" ? Int32Array.from(e.data) : Float32Array.from(e.data),
    { shape: e.shape },
  );
}

/**
 * Loads a PyTorch state dict the way a user would: PyTorch-named tensors written as safetensors,
 * decoded, and loaded through loadTorchStateDict, strictly.
 */
function loadTorch(m: ModuleT, sd: Record<string, Enc>, dtype: Dtype): void {
  const file = eg.encodeSafetensors(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, dec(v, dtype)])));
  expect(eg.loadTorchStateDict(m, eg.decodeSafetensors(file).tensors)).toEqual({ missingKeys: [], unexpectedKeys: [] });
  // and back: Engram keys map onto exactly PyTorch's keys, in PyTorch's order
  expect([...eg.torchStateDict(m).keys()]).toEqual(Object.keys(sd));
}

const tol: Record<Dtype, number> = { float32: 1e-5, float64: 1e-10 };

describe.each(["float32", "float64"] as const)("PyTorch parity (%s)", (dtype) => {
  it("Linear", () => {
    const f = load<{ config: { inFeatures: number; outFeatures: number }; stateDict: Record<string, Enc>; input: Enc; output: Enc }>(
      "linear",
    );
    const m = new nn.Linear(f.config.inFeatures, f.config.outFeatures, { dtype });
    loadTorch(m, f.stateDict, dtype);
    expect(maxAbsDiff(m.forward(dec(f.input, dtype)), dec(f.output, "float64"))).toBeLessThan(tol[dtype]);
  });

  it("Embedding with paddingIdx (output and weight gradient)", () => {
    const f = load<{
      config: { numEmbeddings: number; embeddingDim: number; paddingIdx: number };
      stateDict: Record<string, Enc>;
      ids: Enc;
      output: Enc;
      upstream: Enc;
      gradWeight: Enc;
    }>("embedding");
    const m = new nn.Embedding(f.config.numEmbeddings, f.config.embeddingDim, { paddingIdx: f.config.paddingIdx, dtype });
    loadTorch(m, f.stateDict, dtype);
    const out = m.forward(dec(f.ids, "int32"));
    expect(maxAbsDiff(out, dec(f.output, "float64"))).toBeLessThan(tol[dtype]);
    out.mul(dec(f.upstream, dtype)).sum().backward();
    expect(maxAbsDiff(m.weight.grad!, dec(f.gradWeight, "float64"))).toBeLessThan(tol[dtype]);
  });

  it("LayerNorm", () => {
    const f = load<{ config: { normalizedShape: number[]; eps: number }; stateDict: Record<string, Enc>; input: Enc; output: Enc }>(
      "layer-norm",
    );
    const m = new nn.LayerNorm(f.config.normalizedShape, { eps: f.config.eps, dtype });
    loadTorch(m, f.stateDict, dtype);
    expect(maxAbsDiff(m.forward(dec(f.input, dtype)), dec(f.output, "float64"))).toBeLessThan(tol[dtype]);
  });

  interface RecurrentCase {
    batchFirst: boolean;
    lengths?: number[];
    stateDict: Record<string, Enc>;
    input: Enc;
    h0: Enc;
    c0?: Enc;
    output: Enc;
    hN: Enc;
    cN?: Enc;
    upstream?: Enc;
    upstreamH?: Enc;
    upstreamC?: Enc;
    gradInput?: Enc;
    gradParams?: Record<string, Enc>;
  }
  interface RecurrentFixture {
    config: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean };
    cases: RecurrentCase[];
  }

  describe.each(["lstm", "gru"] as const)("%s: 2 layers, bidirectional", (kind) => {
    const f = load<RecurrentFixture>(kind);
    const label = (c: RecurrentCase): string =>
      `batchFirst=${c.batchFirst}${c.lengths ? `, lengths=[${c.lengths.join(", ")}] with gradients` : ""}`;
    it.each(f.cases.map((c) => [label(c), c] as const))("%s", (_label, c) => {
      const { inputSize, hiddenSize, ...rest } = f.config;
      const opts = { ...rest, batchFirst: c.batchFirst, dtype };
      const m = kind === "lstm" ? new nn.LSTM(inputSize, hiddenSize, opts) : new nn.GRU(inputSize, hiddenSize, opts);
      loadTorch(m, c.stateDict, dtype);
      const input = dec(c.input, dtype);
      input.requiresGrad = true;
      const seqOpts = { h0: dec(c.h0, dtype), lengths: c.lengths ?? null };
      const res = m instanceof nn.LSTM ? m.forward(input, { ...seqOpts, c0: dec(c.c0!, dtype) }) : m.forward(input, seqOpts);
      expect(maxAbsDiff(res.output, dec(c.output, "float64"))).toBeLessThan(tol[dtype]);
      expect(maxAbsDiff(res.hN, dec(c.hN, "float64"))).toBeLessThan(tol[dtype]);
      if ("cN" in res) expect(maxAbsDiff(res.cN as eg.Tensor, dec(c.cN!, "float64"))).toBeLessThan(tol[dtype]);
      if (!c.gradParams) return;
      let loss = res.output
        .mul(dec(c.upstream!, dtype))
        .sum()
        .add(res.hN.mul(dec(c.upstreamH!, dtype)).sum());
      if ("cN" in res) loss = loss.add((res.cN as eg.Tensor).mul(dec(c.upstreamC!, dtype)).sum());
      loss.backward();
      expect(maxAbsDiff(input.grad!, dec(c.gradInput!, "float64"))).toBeLessThan(tol[dtype]);
      const params = new Map(m.namedParameters());
      for (const [k, g] of Object.entries(c.gradParams)) {
        expect(maxAbsDiff(params.get(nn.torchToEngramKey(k))!.grad!, dec(g, "float64")), k).toBeLessThan(tol[dtype]);
      }
    });
  });
});
