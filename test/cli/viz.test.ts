// `engram viz`: the rendering path with an injected inspectable model (no registry model has
// `inspect` yet), and the command line's errors and exit codes on real checkpoints.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "fast-png";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as eg from "../../src/index.js";
import { main } from "../../src/cli/main.js";
import { runViz, vizCommand, type LoadedModel } from "../../src/cli/viz.js";
import type { Inspection, InspectableModel, TaskModel, WeightMap } from "../../src/models/task-model.js";
import { createTask } from "../../src/tasks/registry.js";
import type { Batch, Task } from "../../src/tasks/task.js";
import { tempDir } from "../train/helpers.js";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" "))),
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ") + "\n")),
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    }),
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    }),
  ];
  try {
    return { code: await main(args), out: out.join("\n"), err: err.join("") };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

afterEach(() => {
  const leaked = process.exitCode;
  process.exitCode = undefined;
  expect(leaked).toBeUndefined();
});

/** A stand-in attention model: one "decoder attention" map, output x input, from the batch it is given. */
class FakeAttention extends eg.nn.Module implements TaskModel, InspectableModel {
  seen: Batch[] = [];
  constructor(
    readonly task: Task,
    readonly extraMaps: WeightMap[] = [],
  ) {
    super();
  }
  forward(): eg.Tensor {
    throw new Error("not used");
  }
  loss(): eg.Tensor {
    throw new Error("not used");
  }
  predict(): eg.Tensor {
    throw new Error("not used");
  }
  inspect(batch: Batch): Inspection {
    this.seen.push(batch);
    const input = Array.from(batch.input.data.slice(0, batch.input.shape[1]), (id) => this.task.vocabulary[id]!);
    const output = Array.from(batch.target.data.slice(0, batch.target.shape[1]), (id) => this.task.vocabulary[id]!);
    const values = new Float32Array(output.length * input.length);
    output.forEach((_, i) => (values[i * input.length + Math.max(0, input.length - 1 - i)] = 1));
    const map: WeightMap = { name: "decoder attention", rowAxis: "output", colAxis: "input", rowLabels: output, colLabels: input, values };
    return { input, output, maps: [map, ...this.extraMaps] };
  }
}

const reverse = createTask("reverse", { maxLength: 5 });
/** reverse with a fromText this test controls (the real one belongs to the tasks' own tests). */
const texts: string[] = [];
const reverseWithText: Task = Object.assign(Object.create(reverse) as Task, {
  fromText(text: string): Batch {
    texts.push(text);
    return reverse.batch("validation", 1, text.length);
  },
});

function loaded(model: TaskModel, task: Task, dir: string): LoadedModel {
  return { model, task, meta: { model: { name: "fake", config: {} }, step: 7 }, path: join(dir, "checkpoint.safetensors") };
}

describe("runViz (injected model)", () => {
  it("writes SVG, PNG, HTML and bertviz files and returns their paths; terminal output is returned", () => {
    const dir = tempDir("viz-");
    const model = new FakeAttention(reverse);
    const out = join(dir, "pictures");
    const r = runViz(loaded(model, reverse, dir), { format: "svg,png,html,bertviz,terminal", example: 3, out, color: "none", width: 60 });
    expect(r.files).toEqual(["0-decoder-attention.svg", "0-decoder-attention.png", "report.html", "bertviz.json"].map((f) => join(out, f)));
    expect(readdirSync(out).sort()).toEqual(["0-decoder-attention.png", "0-decoder-attention.svg", "bertviz.json", "report.html"]);
    // example 3 of the test split, and nothing else
    expect(model.seen).toHaveLength(1);
    expect(Array.from(model.seen[0]!.input.data)).toEqual(Array.from(reverse.batch("test", 1, 3).input.data));
    const inspection = model.inspect(reverse.batch("test", 1, 3));
    const svg = readFileSync(join(out, "0-decoder-attention.svg"), "utf8");
    expect(svg).toContain(">decoder attention</text>");
    const png = decode(readFileSync(join(out, "0-decoder-attention.png")));
    expect(png.width).toBe(
      inspection.input.length * Math.min(16, Math.floor(1024 / Math.max(inspection.input.length, inspection.output.length))),
    );
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("<title>fake on reverse</title>");
    expect(html).toContain("step 7, test example 3");
    const bv = JSON.parse(readFileSync(join(out, "bertviz.json"), "utf8")) as Record<string, unknown>;
    expect(bv.encoder_tokens).toEqual(inspection.input);
    expect(bv.decoder_tokens).toEqual(inspection.output);
    expect(r.terminal).toMatch(/^decoder attention {2}\(output x input, \d+ x \d+\)\n/);
    expect(r.terminal).not.toContain("\x1b");
    expect(r.notes).toEqual([]);
  });

  it("builds the batch from --input through the task's fromText, and defaults to viz/ beside the checkpoint", () => {
    const dir = tempDir("viz-");
    const model = new FakeAttention(reverseWithText);
    const r = runViz(loaded(model, reverseWithText, dir), { input: "abc", format: "svg" });
    expect(texts.at(-1)).toBe("abc");
    expect(Array.from(model.seen[0]!.input.data)).toEqual(Array.from(reverse.batch("validation", 1, 3).input.data));
    expect(r.files).toEqual([join(dir, "viz", "0-decoder-attention.svg")]);
  });

  it("selects maps with --map (a name or a family) and suggests names on a typo", () => {
    const dir = tempDir("viz-");
    const extra = [0, 1].map((head) => ({
      name: `encoder layer 0 head ${head}`,
      layer: 0,
      head,
      rowAxis: "query",
      colAxis: "key",
      rowLabels: ["a", "b"],
      colLabels: ["a", "b"],
      values: Float32Array.of(1, 0, 0, 1),
    }));
    const model = new FakeAttention(reverse, extra);
    const r = runViz(loaded(model, reverse, dir), { format: "svg,bertviz", map: "encoder", out: dir });
    expect(r.files.map((f) => f.slice(dir.length + 1))).toEqual([
      "0-encoder-layer-0-head-0.svg",
      "1-encoder-layer-0-head-1.svg",
      "bertviz.json",
    ]);
    const bv = JSON.parse(readFileSync(join(dir, "bertviz.json"), "utf8")) as { tokens: string[]; attention: number[][][][] };
    expect(bv.tokens).toEqual(["a", "b"]);
    expect(bv.attention).toEqual([
      [
        [
          [1, 0],
          [0, 1],
        ],
        [
          [1, 0],
          [0, 1],
        ],
      ],
    ]);
    expect(() => runViz(loaded(model, reverse, dir), { format: "svg", map: "encodr", out: dir })).toThrow(
      /^viz: no weight map named "encodr" \(did you mean "encoder"\?\); maps are /,
    );
  });

  it("writes nothing when one format cannot take the maps", () => {
    const dir = tempDir("viz-");
    const memory = ["read", "write"].map((name) => ({
      name: `${name} head 0`,
      head: 0,
      rowAxis: "time",
      colAxis: "memory slot",
      rowLabels: ["t0", "t1"],
      colLabels: ["m0", "m1", "m2"],
      values: new Float32Array(6),
    }));
    const model = new FakeAttention(reverse, memory);
    const out = join(dir, "o");
    expect(() => runViz(loaded(model, reverse, dir), { format: "svg,bertviz", map: "read", out })).not.toThrow();
    expect(() => runViz(loaded(model, reverse, dir), { format: "svg,bertviz", out: join(dir, "p") })).toThrow(
      /^bertviz: both "decoder attention" and "read" look like cross attention; choose one with --map/,
    );
    expect(existsSync(join(dir, "p"))).toBe(false);
  });

  it("keeps file names inside the output directory whatever the maps are called", () => {
    const dir = tempDir("viz-");
    const hostile = {
      name: "../../etc/passwd",
      rowAxis: "r",
      colAxis: "c",
      rowLabels: ["x"],
      colLabels: ["y"],
      values: Float32Array.of(1),
    };
    const r = runViz(loaded(new FakeAttention(reverse, [hostile]), reverse, dir), {
      format: "svg",
      map: "../../etc/passwd",
      out: join(dir, "o"),
    });
    expect(r.files).toEqual([join(dir, "o", "0-etc-passwd.svg")]);
  });

  it("adds the run's learning curves to the report and as SVG; a damaged log only loses them", () => {
    const dir = tempDir("viz-");
    writeFileSync(
      join(dir, "metrics.jsonl"),
      '{"step":1,"loss":2,"split":"train"}\n{"step":1,"split":"validation","loss":2,"accuracy":0.5}\n',
    );
    const r = runViz(loaded(new FakeAttention(reverse), reverse, dir), { format: "svg,html" });
    expect(r.files.map((f) => f.slice(dir.length + 1))).toEqual([
      "viz/0-decoder-attention.svg",
      "viz/curves-loss.svg",
      "viz/curves-metrics.svg",
      "viz/report.html",
    ]);
    expect(readFileSync(join(dir, "viz", "report.html"), "utf8")).toContain("Learning curves");
    writeFileSync(join(dir, "metrics.jsonl"), "{broken\n");
    const again = runViz(loaded(new FakeAttention(reverse), reverse, dir), { format: "html" });
    expect(again.notes).toEqual([expect.stringMatching(/^curves left out: .*metrics\.jsonl: metricsSeries: line 1 is not JSON/)]);
    expect(readFileSync(join(dir, "viz", "report.html"), "utf8")).not.toContain("Learning curves");
  });

  it("refuses non-inspectable models, text for tasks without fromText, and bad flags", () => {
    const dir = tempDir("viz-");
    const copy = createTask("copy", { width: 3, maxLength: 3 });
    const lstm = eg.createModel("lstm", { hiddenSize: 4 }, copy).model;
    expect(() => runViz({ ...loaded(lstm, copy, dir), meta: { model: { name: "lstm", config: {} }, step: 1 } }, {})).toThrow(
      /^viz: model lstm \(in .*checkpoint\.safetensors\) cannot show its weights/,
    );
    const fake = new FakeAttention(copy);
    expect(() => runViz(loaded(fake, copy, dir), { input: "101" })).toThrow(
      /^viz: task copy \(a bits task\) takes no text input; use --example N to show example N of its test split/,
    );
    expect(() => runViz(loaded(fake, copy, dir), { input: "1", example: 2 })).toThrow(/^viz: give --input or --example, not both/);
    expect(() => runViz(loaded(fake, copy, dir), { format: "svg,pgn" })).toThrow(/^viz: unknown format "pgn" \(did you mean "png"\?\)/);
    expect(fake.seen).toHaveLength(0);
  });

  it("vizCommand checks the flags before loading anything, then renders what the loader gives", async () => {
    const dir = tempDir("viz-");
    const load = vi.fn((_: string) => Promise.resolve(loaded(new FakeAttention(reverse), reverse, dir)));
    await expect(vizCommand("somewhere", { format: "gif" }, load)).rejects.toThrow(/unknown format "gif"/);
    expect(load).not.toHaveBeenCalled();
    const r = await vizCommand("somewhere", { format: "terminal", color: "truecolor" }, load);
    expect(load).toHaveBeenCalledWith("somewhere");
    expect(r.files).toEqual([]);
    expect(r.terminal).toContain("\x1b[38;2;");
    expect(existsSync(join(dir, "viz"))).toBe(false);
  });
});

describe("engram viz (command line)", () => {
  const dir = tempDir("viz-cli-");
  const run = join(dir, "lstm-copy");

  it("exits 2 naming the model when the checkpoint's model cannot be inspected", async () => {
    const trained = await cli("train", "lstm", "--task", "copy", "--steps", "2", "--batch-size", "2", "--out", run);
    expect(trained.code).toBe(0);
    const r = await cli("viz", run);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^engram: viz: model lstm \(in .*checkpoint\.safetensors\) cannot show its weights/);
    expect(r.out).toBe("");
    expect(existsSync(join(run, "viz"))).toBe(false);
  });

  it("exits 1 on a missing checkpoint and 2 on bad flags", async () => {
    const missing = await cli("viz", join(dir, "nowhere"));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^engram: loadSafetensors: cannot read /);
    for (const [args, message] of [
      [["--format", "pgn"], /unknown format "pgn" \(did you mean "png"\?\)/],
      [["--input", "x", "--example", "1"], /give --input or --example, not both/],
      [["--example", "-1"], /--example must be an integer >= 0/],
      [["--width", "5"], /--width must be an integer >= 20/],
      [["--fromat", "svg"], /unknown option '--fromat'/],
    ] as const) {
      const r = await cli("viz", run, ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it("has --help with examples", async () => {
    const r = await cli("viz", "--help");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: engram viz \[options\] <checkpoint>/);
    expect(r.out).toContain("--format <list>");
    expect(r.out).toMatch(/Examples:\n {2}engram viz runs\/seq2seq-reverse --input "abc"/);
  });
});
