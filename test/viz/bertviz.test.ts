// bertviz export: the keyword arguments of head_view/model_view, per layer [heads][queries][keys].
import { describe, expect, it } from "vitest";
import type { WeightMap } from "../../src/models/task-model.js";
import { bertvizData, bertvizJson, type BertvizEncoderDecoder } from "../../src/viz/bertviz.js";
import { Transformer } from "../../src/models/transformer.js";
import { createTask } from "../../src/tasks/registry.js";
import { weightMap } from "./helpers.js";

const TOKENS = ["a", "b", "c"];

/** Layer l, head h of a family: value 100 l + 10 h + k at flat index k. */
function family(name: string, layers: number, heads: number, rows = TOKENS, cols = TOKENS): WeightMap[] {
  const maps: WeightMap[] = [];
  for (let layer = 0; layer < layers; layer++)
    for (let head = 0; head < heads; head++)
      maps.push(
        weightMap(rows.length, cols.length, {
          name: `${name} layer ${layer} head ${head}`,
          layer,
          head,
          rowLabels: rows,
          colLabels: cols,
          values: Float32Array.from({ length: rows.length * cols.length }, (_, k) => 100 * layer + 10 * head + k),
        }),
      );
  return maps;
}

describe("bertvizData", () => {
  it("stacks a self-attention model as { tokens, attention[layer][head][query][key] }", () => {
    // maps in any order: the stack follows the layer and head numbers
    const data = bertvizData(family("encoder", 2, 3).reverse());
    expect(Object.keys(data)).toEqual(["tokens", "attention"]);
    if (!("attention" in data)) throw new Error("expected self attention");
    expect(data.tokens).toEqual(TOKENS);
    expect(data.attention).toHaveLength(2);
    expect(data.attention[0]).toHaveLength(3);
    expect(data.attention[1]![2]).toEqual([
      [120, 121, 122],
      [123, 124, 125],
      [126, 127, 128],
    ]);
  });

  it("exports an encoder-decoder model with encoder, decoder and cross attention", () => {
    const dec = ["x", "y"];
    const maps = [...family("encoder", 1, 2), ...family("decoder self", 1, 2, dec, dec), ...family("decoder cross", 1, 2, dec, TOKENS)];
    const data = bertvizData(maps);
    expect(Object.keys(data).sort()).toEqual([
      "cross_attention",
      "decoder_attention",
      "decoder_tokens",
      "encoder_attention",
      "encoder_tokens",
    ]);
    if ("attention" in data) throw new Error("expected encoder-decoder");
    expect(data.encoder_tokens).toEqual(TOKENS);
    expect(data.decoder_tokens).toEqual(dec);
    expect(data.cross_attention![0]![1]).toEqual([
      [10, 11, 12],
      [13, 14, 15],
    ]);
    expect(data.decoder_attention![0]![0]).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it("exports a seq2seq model's single attention map as one-layer, one-head cross attention", () => {
    const map = weightMap(2, 3, {
      name: "decoder attention",
      rowLabels: ["x", "y"],
      colLabels: TOKENS,
      values: Float32Array.of(0.1, 0.2, 0.7, 1, 0, 0),
    });
    const data = JSON.parse(bertvizJson([map])) as Record<string, unknown>;
    expect(data).toEqual({
      encoder_tokens: TOKENS,
      decoder_tokens: ["x", "y"],
      cross_attention: [
        [
          [
            [0.1, 0.2, 0.7],
            [1, 0, 0],
          ],
        ],
      ],
    });
  });

  it("writes non-finite values as 0 so the JSON stays valid", () => {
    const map = weightMap(1, 2, { rowLabels: ["a"], colLabels: ["b", "c"], values: Float32Array.of(Number.NaN, Infinity) });
    expect(bertvizJson([map])).toContain("[[[[0,0]]]]");
  });

  it("says why maps do not fit the layout", () => {
    const incomplete = family("encoder", 2, 2).slice(0, 3);
    expect(() => bertvizData(incomplete)).toThrow(/^bertviz: "encoder" has no map for layer 1 head 1/);
    const twice = [...family("encoder", 1, 1), ...family("encoder", 1, 1)];
    expect(() => bertvizData(twice)).toThrow(/two maps for layer 0 head 0/);
    const memory = [
      weightMap(4, 8, { name: "read head 0", rowAxis: "time", colAxis: "memory slot" }),
      weightMap(4, 8, { name: "write head 0", rowAxis: "time", colAxis: "memory slot" }),
    ];
    expect(() => bertvizData(memory)).toThrow(/both "read head 0" and "write head 0" look like cross attention; choose one with --map/);
    expect(() => bertvizData([])).toThrow(/no weight maps/);
    const mixed = [...family("encoder", 1, 1), weightMap(3, 3, { name: "encoder layer 0 head 1", layer: 0, head: 1 })];
    expect(() => bertvizData(mixed)).toThrow(/do not share their row and column tokens/);
  });
});

describe("bertviz export of a whole Transformer", () => {
  it("puts encoder, decoder and cross attention in one model_view file", () => {
    const task = createTask("reverse", { maxLength: 5 });
    const model = new Transformer(task.inputSize, task.outputSize, 8, 2, { numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16 });
    const inspection = model.inspect(task.fromText!("1234"));
    const d = bertvizData(inspection.maps) as BertvizEncoderDecoder;
    expect(d.encoder_tokens).toHaveLength(4);
    expect(d.encoder_attention).toHaveLength(2);
    expect(d.decoder_attention).toHaveLength(1);
    expect(d.cross_attention).toHaveLength(1);
    // decoder tokens are the tokens fed to the decoder: BOS, then the output shifted by one
    expect(d.decoder_tokens[0]).toBe("1"); // BOS (id 1; the bare model has no vocabulary)
    expect(d.decoder_tokens).toHaveLength(inspection.output.length);
    expect(d.cross_attention![0]![0]).toHaveLength(inspection.output.length);
  });
});
