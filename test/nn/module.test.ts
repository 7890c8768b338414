import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import * as nn from "../../src/nn/index.js";

const { Module, Linear, LayerNorm, Embedding, Sequential, ModuleList, Dropout, param } = nn;

class Block extends Module {
  attn = new Linear(4, 4, { generator: new eg.Generator(1) });
  norm = new LayerNorm(4);
  forward(x: eg.Tensor): eg.Tensor {
    return this.norm.forward(this.attn.forward(x));
  }
}

/** A language-model-like module: embedding tied to the output projection, blocks in an array, a Map of heads, a buffer. */
class TiedModel extends Module {
  embed = new Embedding(10, 4, { generator: new eg.Generator(2) });
  layers = [new Block(), new Block()];
  heads = new Map<string, InstanceType<typeof Linear>>([["cls", new Linear(4, 2)]]);
  scale = param(eg.ones([1]));
  out = new Linear(4, 10, { bias: false });
  steps: eg.Tensor;
  config = { hidden: 4 };

  constructor() {
    super();
    this.out.weight = this.embed.weight; // tied
    this.steps = this.registerBuffer("steps", eg.zeros([1]));
    this.registerBuffer("scratch", eg.zeros([2]), { persistent: false });
  }

  forward(ids: eg.Tensor): eg.Tensor {
    let h = this.embed.forward(ids);
    for (const l of this.layers) h = l.forward(h);
    return this.out.forward(h.mul(this.scale));
  }
}

describe("Module: discovery and keys", () => {
  it("names parameters by dotted field paths through fields, arrays and Maps, tied once", () => {
    const m = new TiedModel();
    expect(m.namedParameters().map(([k]) => k)).toEqual([
      "scale",
      "embed.weight",
      "layers.0.attn.weight",
      "layers.0.attn.bias",
      "layers.0.norm.weight",
      "layers.0.norm.bias",
      "layers.1.attn.weight",
      "layers.1.attn.bias",
      "layers.1.norm.weight",
      "layers.1.norm.bias",
      "heads.cls.weight",
      "heads.cls.bias",
    ]);
    expect(m.parameters()).toHaveLength(12);
    expect(m.parameters()).toContain(m.out.weight);
    expect(m.numParameters()).toBe(1 + 40 + 2 * (20 + 8) + 10);
  });

  it("lists buffers and keeps non-persistent ones out of the state dict", () => {
    const m = new TiedModel();
    expect(m.namedBuffers().map(([k]) => k)).toEqual(["steps", "scratch"]);
    expect(m.buffers()[0]).toBe(m.steps);
    const keys = [...m.stateDict().keys()];
    expect(keys).toContain("steps");
    expect(keys).not.toContain("scratch");
    expect(keys.filter((k) => k.endsWith("weight") && k.startsWith("out"))).toEqual([]);
    expect(() => m.registerBuffer("scale", eg.zeros([1]))).toThrow(/already a parameter/);
    expect(() => m.registerBuffer("a.b", eg.zeros([1]))).toThrow(eg.ArgumentError);
  });

  it("walks children and modules once each and terminates on cycles", () => {
    const m = new TiedModel();
    expect([...m.namedChildren()].map(([k]) => k)).toEqual(["embed", "layers.0", "layers.1", "heads.cls", "out"]);
    const names = [...m.namedModules()].map(([k]) => k);
    expect(names[0]).toBe("");
    expect(names).toContain("layers.1.norm");
    expect(new Set(names).size).toBe(names.length);
    const a = new Sequential(new Linear(2, 2));
    (a as unknown as Record<string, unknown>).self = a; // a cycle must not hang the walk
    expect(a.namedParameters().map(([k]) => k)).toEqual(["0.weight", "0.bias"]);
    expect([...a.modules()]).toHaveLength(2);
  });

  it("keeps a frozen param() in the state dict and ignores plain tensors", () => {
    class M extends Module {
      frozen = param(eg.ones([2]));
      cache = eg.zeros([3]);
      forward(): eg.Tensor {
        return this.frozen;
      }
    }
    const m = new M();
    m.frozen.requiresGrad = false;
    expect([...m.stateDict().keys()]).toEqual(["frozen"]);
    expect(m.numParameters({ trainableOnly: true })).toBe(0);
    expect(m.numParameters()).toBe(2);
  });
});

describe("Module: state dict", () => {
  it("stateDict shares storage; loadStateDict copies values and keeps parameter identity", () => {
    const a = new TiedModel();
    const b = new TiedModel();
    const w = b.layers[0]!.attn.weight;
    const sd = a.stateDict();
    expect(sd.get("embed.weight")!.data).toBe(a.embed.weight.data);
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.layers[0]!.attn.weight).toBe(w);
    expect(w.data).not.toBe(a.layers[0]!.attn.weight.data);
    expect(Array.from(w.data)).toEqual(Array.from(a.layers[0]!.attn.weight.data));
    const ids = eg.tensor([[1, 2, 3]], { dtype: "int32" });
    expect(b.forward(ids).toArray()).toEqual(a.forward(ids).toArray());
  });

  it("accepts a tied parameter under any of its paths and plain objects", () => {
    const a = new TiedModel();
    const b = new TiedModel();
    const sd = Object.fromEntries(a.stateDict());
    sd["out.weight"] = sd["embed.weight"]!;
    delete sd["embed.weight"];
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(b.embed.weight.data)).toEqual(Array.from(a.embed.weight.data));
  });

  it("strict loading throws a CheckpointError naming missing and unexpected keys, and writes nothing", () => {
    const a = new TiedModel();
    const b = new TiedModel();
    const before = Array.from(b.embed.weight.data);
    const sd = a.stateDict();
    sd.delete("layers.1.norm.bias");
    sd.set("layers.2.norm.bias", eg.zeros([4]));
    expect(() => b.loadStateDict(sd)).toThrow(eg.CheckpointError);
    expect(() => b.loadStateDict(sd)).toThrow(/missing keys: layers\.1\.norm\.bias; unexpected keys: layers\.2\.norm\.bias/);
    expect(Array.from(b.embed.weight.data)).toEqual(before);
    const res = b.loadStateDict(sd, { strict: false });
    expect(res).toEqual({ missingKeys: ["layers.1.norm.bias"], unexpectedKeys: ["layers.2.norm.bias"] });
    expect(Array.from(b.embed.weight.data)).toEqual(Array.from(a.embed.weight.data));
  });

  it("shape and dtype mismatches always throw, naming the key and both shapes", () => {
    const m = new Linear(3, 2);
    const sd = new Map([
      ["weight", eg.zeros([3, 2])],
      ["bias", eg.zeros([2])],
    ]);
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(eg.ShapeError);
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(
      'loadStateDict: shape mismatch for "weight": checkpoint has [3, 2], module has [2, 3]',
    );
    const sd64 = new Map([["bias", eg.zeros([2], { dtype: "float64" })]]);
    expect(() => m.loadStateDict(sd64, { strict: false })).toThrow(eg.DTypeError);
    expect(() => m.loadStateDict(new Map([["bias", [1, 2]]]) as never, { strict: false })).toThrow(eg.ArgumentError);
  });

  it("loads buffers", () => {
    const a = new TiedModel();
    a.steps.data[0] = 42;
    const b = new TiedModel();
    b.loadStateDict(a.stateDict());
    expect(b.steps.item()).toBe(42);
  });
});

describe("Module: modes and utilities", () => {
  it("train()/eval() set the flag recursively and switch Dropout", () => {
    const m = new Sequential(new Linear(8, 8), new Dropout(0.5, { generator: new eg.Generator(3) }));
    const x = eg.ones([4, 8]);
    expect(m.training).toBe(true);
    const y1 = m.forward(x);
    const zeros = Array.from(y1.data).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(4);
    m.eval();
    expect([...m.modules()].every((c) => !c.training)).toBe(true);
    const lin = m[0]! as InstanceType<typeof Linear>;
    expect(m.forward(x).toArray()).toEqual(lin.forward(x).toArray());
    m.train();
    expect(m[1]!.training).toBe(true);
  });

  it("zeroGrad clears gradients; apply visits children before parents", () => {
    const m = new Block();
    m.forward(eg.ones([1, 4]))
      .sum()
      .backward();
    expect(m.attn.weight.grad).not.toBeNull();
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    const seen: string[] = [];
    m.apply((c) => seen.push(c.constructor.name));
    expect(seen).toEqual(["LayerNorm", "Linear", "Block"]);
  });

  it("summary counts tied parameters once", () => {
    const m = new TiedModel();
    const s = m.summary();
    expect(s).toMatch(/^Module\s+Type\s+Params/);
    expect(s).toContain(`Total params: ${m.numParameters()} (trainable: ${m.numParameters()})`);
    expect(m.numParameters()).toBe(107);
    expect(s).toMatch(/\n {2}out\s+Linear\s+40\n/);
    expect(s).toMatch(/\n {2}layers\.1\s+Block\s+28\n {4}attn\s+Linear\s+20\n/);
  });

  it("ModuleList indexes, iterates and rejects forward", () => {
    const list = new ModuleList([new Linear(2, 3), new Linear(3, 1)]);
    expect(list.length).toBe(2);
    expect(list.at(-1)).toBe(list[1]);
    expect([...list]).toHaveLength(2);
    expect(() => list.at(2)).toThrow(eg.ArgumentError);
    expect(() => list.forward()).toThrow(/no forward/);
    expect(list.namedParameters().map(([k]) => k)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
  });
});

describe("torch key mapping", () => {
  const pairs: [string, string][] = [
    ["weight_ih_l0", "weightIh_l0"],
    ["rnn.bias_hh_l1_reverse", "rnn.biasHh_l1_reverse"],
    ["weight_hh", "weightHh"],
    ["layers.0.self_attn.in_proj_weight", "layers.0.selfAttn.inProjWeight"],
    ["encoder.layers.11.linear1.bias", "encoder.layers.11.linear1.bias"],
    ["bn.running_mean", "bn.runningMean"],
    ["0.weight", "0.weight"],
  ];
  it.each(pairs)("%s <-> %s", (torchKey, engramKey) => {
    expect(nn.torchToEngramKey(torchKey)).toBe(engramKey);
    expect(nn.engramToTorchKey(engramKey)).toBe(torchKey);
  });
});
