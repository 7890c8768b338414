// Terminal heat maps: 24-bit and 256-colour escapes, NO_COLOR shading, width, hostile labels.
import { describe, expect, it } from "vitest";
import { COLORMAP } from "../../src/viz/colormap.js";
import { ansi256, heatmapTerminal, terminalColorMode } from "../../src/viz/heatmap-terminal.js";
import { weightMap } from "./helpers.js";

const ESC = "\x1b";
/** What a terminal shows: the text without colour escapes. */
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
const visible = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, "");

describe("heatmapTerminal", () => {
  const map = weightMap(2, 3, { name: "attn", values: Float32Array.of(0, 0.5, 1, 1, 0.5, 0) });

  it("colours cells with 24-bit escapes, two block characters per cell, with labels", () => {
    const out = heatmapTerminal(map, { color: "truecolor" });
    const [r, g, b] = COLORMAP[255]!;
    expect(out).toContain(`${ESC}[38;2;${r};${g};${b}m██${ESC}[0m`);
    const lines = visible(out).split("\n");
    expect(lines[0]).toBe("attn  (output x input, 2 x 3)");
    expect(lines[1]).toBe("   c c c");
    expect(lines[2]).toBe("   0 1 2");
    expect(lines[3]).toBe("r0 ██████");
    expect(lines[5]).toMatch(/^min 0 █{5} max 1$/);
  });

  it("falls back to the 256-colour palette", () => {
    const out = heatmapTerminal(map, { color: "256" });
    expect(out).toContain(`${ESC}[38;5;${ansi256(COLORMAP[0]!)}m`);
    expect(out).not.toContain("38;2;");
    expect(ansi256([255, 0, 0])).toBe(196);
    expect(ansi256([0, 0, 0])).toBe(16);
    expect(ansi256([255, 255, 255])).toBe(231);
    expect(ansi256([128, 128, 128])).toBe(244);
  });

  it("uses shading characters and no escapes without colour", () => {
    const out = heatmapTerminal(map, { color: "none" });
    expect(out).not.toContain(ESC);
    expect(out.split("\n")[3]).toBe("r0   ▒▒██");
    expect(out.split("\n")[4]).toBe("r1 ██▒▒  ");
  });

  it("respects NO_COLOR, COLORTERM and non-terminal output", () => {
    expect(terminalColorMode({ NO_COLOR: "1", COLORTERM: "truecolor" }, true)).toBe("none");
    expect(terminalColorMode({ NO_COLOR: "", COLORTERM: "truecolor" }, true)).toBe("truecolor");
    expect(terminalColorMode({ COLORTERM: "24bit" }, true)).toBe("truecolor");
    expect(terminalColorMode({}, true)).toBe("256");
    expect(terminalColorMode({ COLORTERM: "truecolor" }, false)).toBe("none");
  });

  it("fits the width: one character per cell, then cuts columns and says so", () => {
    const wide = weightMap(3, 200);
    for (const color of ["truecolor", "none"] as const) {
      const out = heatmapTerminal(wide, { width: 60, color });
      for (const line of visible(out).trimEnd().split("\n")) expect(Array.from(line).length).toBeLessThanOrEqual(60);
      // 60 columns less the label "r0" and a space
      expect(out).toMatch(/\n\(first 57 of 200 columns shown\)\n$/);
    }
    const mid = visible(heatmapTerminal(weightMap(1, 30), { width: 50, color: "none" })).split("\n");
    expect(Array.from(mid.find((l) => l.startsWith("r0 "))!).length).toBe(3 + 30);
  });

  it("shows control characters in labels as U+FFFD, so a label cannot drive the terminal", () => {
    const out = heatmapTerminal(weightMap(1, 1, { name: `x${ESC}]0;pwned\x07`, rowLabels: [`${ESC}[2J`], colLabels: ["\x9b"] }), {
      color: "none",
    });
    // eslint-disable-next-line no-control-regex -- no control character may survive
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(out).toContain("\ufffd[2J");
  });
});
