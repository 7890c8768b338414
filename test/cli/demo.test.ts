// The README's main job: the demo must actually learn (loss falls, accuracy rises) on every backend.
import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/demo.js";
import { buildProgram } from "../../src/cli/main.js";

describe("engram demo", () => {
  it("trains the spiral MLP: loss falls by 5x and accuracy exceeds 90%", () => {
    const lines: string[] = [];
    const r = runDemo({ steps: 300, hidden: 32, lr: 1, seed: 1, log: (l) => lines.push(l) });
    expect(r.lastLoss).toBeLessThan(r.firstLoss / 5);
    expect(r.accuracy).toBeGreaterThan(0.9);
    expect(lines[0]).toMatch(/^engram demo: /);
    expect(lines.at(-1)).toMatch(/training accuracy/);
  });

  it("is reproducible from its seed", () => {
    const run = () => runDemo({ steps: 20, hidden: 8, lr: 0.5, seed: 7, log: () => {} });
    expect(run()).toEqual(run());
  });
});

describe("engram command line", () => {
  it("lists its commands in --help", () => {
    const help = buildProgram().helpInformation();
    expect(help).toMatch(/demo/);
    expect(help).toMatch(/doctor/);
  });
});
