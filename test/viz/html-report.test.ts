// The HTML report: self-contained, safe embedded data, and a page script that really draws the
// selected map and answers hover (run here against a small stand-in for the DOM).
import { describe, expect, it } from "vitest";
import type { Inspection } from "../../src/models/task-model.js";
import { COLORMAP } from "../../src/viz/colormap.js";
import { base64, htmlReport, reportData, type ReportData } from "../../src/viz/html-report.js";
import { trainingCharts } from "../../src/viz/metrics-curves.js";
import { weightMap } from "./helpers.js";

const EVIL = `</script><script>alert(1)</script><!--`;

function inspection(): Inspection {
  const maps = [];
  for (let layer = 0; layer < 2; layer++)
    for (let head = 0; head < 2; head++)
      maps.push(
        weightMap(3, 3, {
          name: `encoder layer ${layer} head ${head}`,
          layer,
          head,
          rowLabels: ["a", EVIL, "c"],
          colLabels: ["a", EVIL, "c"],
          values: Float32Array.from({ length: 9 }, (_, k) => (k === 4 * head + layer ? 1 : 0)),
        }),
      );
  maps.push(weightMap(2, 3, { name: "cross", values: Float32Array.of(0, 0.5, 1, Number.NaN, 0.25, 0.75) }));
  return { input: ["a", EVIL, "c"], output: ["x", "y"], maps };
}

function embedded(html: string): ReportData {
  const m = /<script type="application\/json" id="engram-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]!) as ReportData;
}

function pageScript(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  expect(scripts).toHaveLength(1);
  return scripts[0]![1]!;
}

describe("htmlReport", () => {
  const html = htmlReport(inspection(), {
    title: "seq2seq on reverse",
    subtitle: ["checkpoint runs/x"],
    charts: trainingCharts('{"step":1,"loss":2,"split":"train"}\n{"step":2,"loss":1,"split":"train"}\n'),
  });

  it("is one self-contained file: no URLs in src or href, no external scripts or styles", () => {
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  });

  it("embeds valid JSON that no label can break out of", () => {
    // the only "</script>" occurrences are the two closing tags
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain("<script><script>");
    expect(html).not.toContain("alert(1)</script>");
    const data = embedded(html);
    expect(data.input[1]).toBe(EVIL);
    expect(data.maps[0]!.rowLabels[1]).toBe(EVIL);
    expect(data.groups).toEqual([
      { name: "encoder", maps: [0, 1, 2, 3] },
      { name: "cross", maps: [4] },
    ]);
    expect(data.maps[4]).toMatchObject({ name: "cross", layer: null, head: null, min: 0, max: 1 });
    // the escaped markup is shown as text in the page
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(1)");
  });

  it("stores values as little-endian float32 base64, exactly", () => {
    const data = embedded(html);
    const bytes = Buffer.from(data.maps[4]!.values, "base64");
    const values = Array.from({ length: 6 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(values).toEqual([0, 0.5, 1, Number.NaN, 0.25, 0.75]);
    for (const n of [0, 1, 2, 3, 4, 5, 1000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      expect(base64(b)).toBe(Buffer.from(b).toString("base64"));
    }
  });

  it("includes the learning curves as inline SVG without a namespace URL", () => {
    expect(html).toContain("<h2>Learning curves</h2>");
    expect(html).toMatch(/<svg width="[\d.]+" height="[\d.]+"/);
    expect(htmlReport(inspection())).not.toContain("Learning curves");
  });

  it("is deterministic", () => {
    expect(htmlReport(inspection())).toBe(htmlReport(inspection()));
  });

  it("rejects an inspection without maps", () => {
    expect(() => reportData({ input: [], output: [], maps: [] })).toThrow(/^htmlReport: the model returned no weight maps/);
  });
});

/** Just enough DOM for the page script: elements by id, selects, canvases that record what they draw. */
class FakeElement {
  textContent = "";
  value = "";
  style: Record<string, string> = {};
  children: FakeElement[] = [];
  parentNode: FakeElement | null = null;
  clientWidth = 900;
  width = 1;
  height = 1;
  listeners = new Map<string, (e: unknown) => void>();
  drawn: { image?: Uint8ClampedArray; texts: string[] } = { texts: [] };
  constructor(readonly tag: string) {}
  get firstChild(): FakeElement | null {
    return this.children[0] ?? null;
  }
  appendChild(c: FakeElement): void {
    c.parentNode = this;
    this.children.push(c);
    if (this.tag === "select" && this.children.length === 1) this.value = c.value;
  }
  removeChild(c: FakeElement): void {
    this.children = this.children.filter((x) => x !== c);
    if (this.tag === "select" && this.children.length === 0) this.value = "";
  }
  addEventListener(type: string, fn: (e: unknown) => void): void {
    this.listeners.set(type, fn);
  }
  getBoundingClientRect(): { left: number; top: number } {
    return { left: 0, top: 0 };
  }
  getContext(): unknown {
    const noop = (): void => {};
    return {
      createImageData: (w: number, h: number) => ({ data: new Uint8ClampedArray(w * h * 4) }),
      putImageData: (img: { data: Uint8ClampedArray }) => void (this.drawn.image = img.data),
      fillText: (t: string) => void this.drawn.texts.push(t),
      drawImage: noop,
      fillRect: noop,
      setTransform: noop,
      save: noop,
      restore: noop,
      translate: noop,
      rotate: noop,
    };
  }
}

function runPage(html: string): { byId: Map<string, FakeElement>; created: FakeElement[] } {
  const byId = new Map<string, FakeElement>();
  for (const m of html.matchAll(/<(\w+)[^>]*\bid="([\w-]+)"/g)) {
    const el = new FakeElement(m[1]!);
    byId.set(m[2]!, el);
    const parent = new FakeElement("label");
    el.parentNode = parent;
  }
  byId.get("engram-data")!.textContent = /id="engram-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
  byId.get("zoom")!.value = "0";
  const created: FakeElement[] = [];
  const document = {
    getElementById: (id: string) => byId.get(id) ?? null,
    createElement: (tag: string) => {
      const el = new FakeElement(tag);
      created.push(el);
      return el;
    },
  };
  const window = { devicePixelRatio: 1, addEventListener: () => {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the page's own script is the test
  const page = new Function("document", "window", pageScript(html)) as (d: unknown, w: unknown) => void;
  page(document, window);
  return { byId, created };
}

describe("the report's page script", () => {
  it("fills the selectors, draws the first map's pixels and labels, and shows a hovered cell", () => {
    const { byId, created } = runPage(htmlReport(inspection()));
    const group = byId.get("group")!;
    expect(group.children.map((o) => o.textContent)).toEqual(["encoder (4 maps)", "cross"]);
    expect(byId.get("layer")!.children.map((o) => o.textContent)).toEqual(["layer 0", "layer 1"]);
    expect(byId.get("head")!.children.map((o) => o.textContent)).toEqual(["head 0", "head 1"]);
    expect(byId.get("mapname")!.textContent).toBe("encoder layer 0 head 0  (output x input, 3 x 3)");
    // layer 0 head 0 has its 1 at flat index 0
    const pixels = created.find((e) => e.tag === "canvas")!.drawn.image!;
    expect(Array.from(pixels.slice(0, 4))).toEqual([...COLORMAP[255]!, 255]);
    expect(Array.from(pixels.slice(4, 8))).toEqual([...COLORMAP[0]!, 255]);
    const canvas = byId.get("map")!;
    expect(canvas.drawn.texts).toContain(EVIL.slice(0, 15) + "…");

    // the page lays the grid out after the longest label; hover the middle of cell (1, 2)
    const mousemove = canvas.listeners.get("mousemove")!;
    const left = 16 * 11 * 0.62 + 12;
    const top = 16 * 11 * 0.62 + 12;
    mousemove({ clientX: left + 24 * 2.5, clientY: top + 24 * 1.5 });
    expect(byId.get("tip")!.textContent).toBe(`output 1  ${JSON.stringify(EVIL)}\ninput 2  "c"\nvalue 0`);
    expect(byId.get("tip")!.style.display).toBe("block");
    mousemove({ clientX: 1, clientY: 1 });
    expect(byId.get("tip")!.style.display).toBe("none");
  });

  it("switches to another layer and head, and to the ungrouped map with its missing value in grey", () => {
    const { byId, created } = runPage(htmlReport(inspection()));
    const layer = byId.get("layer")!;
    const head = byId.get("head")!;
    layer.value = "1";
    head.value = "1";
    layer.listeners.get("change")!({});
    expect(byId.get("mapname")!.textContent).toMatch(/^encoder layer 1 head 1 /);
    // layer 1 head 1: the 1 at flat index 5
    const last = created.filter((e) => e.tag === "canvas").at(-1)!.drawn.image!;
    expect(Array.from(last.slice(20, 24))).toEqual([...COLORMAP[255]!, 255]);
    const group = byId.get("group")!;
    group.value = "1";
    group.listeners.get("change")!({});
    expect(byId.get("mapname")!.textContent).toBe("cross  (output x input, 2 x 3)");
    expect(layer.parentNode!.style.display).toBe("none");
    const cross = created.filter((e) => e.tag === "canvas").at(-1)!.drawn.image!;
    expect(Array.from(cross.slice(12, 16))).toEqual([128, 128, 128, 255]);
    expect(byId.get("min")!.textContent).toBe("min 0");
    expect(byId.get("max")!.textContent).toBe("max 1");
  });

  it("handles a 1,200 x 1,200 map: one pixel per cell, labels thinned", () => {
    const n = 1200;
    const values = new Float32Array(n * n);
    for (let i = 0; i < n; i++) values[i * n + ((i * 7) % n)] = 1;
    const html = htmlReport({ input: [], output: [], maps: [weightMap(n, n, { values })] });
    expect(html.length).toBeLessThan(8_000_000);
    const { byId, created } = runPage(html);
    const pixels = created.find((e) => e.tag === "canvas")!.drawn.image!;
    expect(pixels.length).toBe(n * n * 4);
    const at = (i: number, j: number): number[] => Array.from(pixels.slice((i * n + j) * 4, (i * n + j) * 4 + 3));
    expect(at(5, 35)).toEqual(COLORMAP[255]);
    expect(at(5, 36)).toEqual(COLORMAP[0]);
    const texts = byId.get("map")!.drawn.texts;
    expect(texts.length).toBeGreaterThan(20);
    expect(texts.length).toBeLessThan(n / 5);
    expect(byId.get("group")!.parentNode!.style.display).toBe("none");
  });
});
