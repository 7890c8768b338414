// The README's main job: the demo trains an attention seq2seq on dates and draws its attention.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/demo.js";
import { buildProgram } from "../../src/cli/main.js";

describe("engram demo", () => {
  const dir = mkdtempSync(join(tmpdir(), "engram-demo-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("trains the date normaliser (loss falls), scores it on unseen dates and writes the heat map", async () => {
    const lines: string[] = [];
    const out = join(dir, "run");
    // a shrunken run: the full demo (400 steps, hidden 64) reaches ~100% exact match
    const r = await runDemo({
      steps: 30,
      seed: 1,
      out,
      input: "Sat 29 Feb 2020",
      hiddenSize: 16,
      embedDim: 8,
      testExamples: 32,
      progress: false,
      log: (l) => lines.push(l),
      width: 100,
      color: "none",
    });
    expect(r.lastLoss).toBeLessThan(r.firstLoss * 0.6);
    expect(r.exactMatch).toBeGreaterThanOrEqual(0);
    expect(lines[0]).toMatch(/^engram demo: seq2seq with Bahdanau attention/);
    expect(lines.join("\n")).toMatch(/exact match on 32 unseen dates/);
    // the heat map is drawn for the requested date, in every format
    for (const ext of [".svg", ".png", ".html"]) expect(r.files.some((f) => f.endsWith(ext))).toBe(true);
    for (const f of r.files) expect(existsSync(f)).toBe(true);
    const svg = readFileSync(
      r.files.find((f) => f.endsWith(".svg"))!,
      "utf8",
    );
    expect(svg).toContain("<svg");
    expect(svg).toContain("F"); // the input's characters label the columns
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(true);
  });
});

describe("engram command line", () => {
  it("lists its commands in --help", () => {
    const help = buildProgram().helpInformation();
    for (const command of ["demo", "train", "eval", "viz", "doctor"]) expect(help).toMatch(command);
  });
});
