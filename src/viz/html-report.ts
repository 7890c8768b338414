/**
 * One self-contained HTML file for an inspection: inline CSS and JavaScript, no network, no CDN.
 * Maps are grouped by family (`mapGroup`) with layer and head selectors, and drawn on a <canvas>
 * from data embedded in the page (values as base64 little-endian float32), one pixel per cell in
 * an offscreen image that is then scaled: a 1,000 x 1,000 map draws in milliseconds and hovering
 * any cell shows its row and column labels and value. An optional section holds SVG charts
 * (learning curves).
 *
 * Safety: the data sits in a <script type="application/json"> block with every "<" written as
 * \u003c, so no label can close the block; the page's script shows labels only through
 * textContent and fillText, never as markup.
 */
import type { Inspection, WeightMap } from "../models/task-model.js";
import { COLORMAP, finiteRange, hex } from "./colormap.js";
import { lineChartSvg } from "./line-chart-svg.js";
import { escapeXml } from "./markup.js";
import type { Chart } from "./metrics-curves.js";
import { checkInspection, mapGroup } from "./weight-map.js";

export interface HtmlReportOptions {
  /** Page heading (default "Engram inspection"). */
  title?: string;
  /** Lines shown under the heading, e.g. the checkpoint, model and task. */
  subtitle?: readonly string[];
  /** Charts for the curves section (see `trainingCharts`); omitted when empty. */
  charts?: readonly Chart[];
}

const B64 = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 61; // "="

/** Standard base64 of `bytes`, written into a byte buffer (portable: no Buffer; fast on megabytes). */
export function base64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const rest = bytes.length - i;
    const a = bytes[i]!;
    const b = rest > 1 ? bytes[i + 1]! : 0;
    const c = rest > 2 ? bytes[i + 2]! : 0;
    out[o++] = B64[a >> 2]!;
    out[o++] = B64[((a & 3) << 4) | (b >> 4)]!;
    out[o++] = rest > 1 ? B64[((b & 15) << 2) | (c >> 6)]! : PAD;
    out[o++] = rest > 2 ? B64[c & 63]! : PAD;
  }
  return new TextDecoder().decode(out);
}

/** Little-endian float32 bytes of `values`, whatever the platform's byte order. */
function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

interface EmbeddedMap {
  name: string;
  layer: number | null;
  head: number | null;
  rowAxis: string;
  colAxis: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  min: number;
  max: number;
  values: string;
}

/** The JSON the page reads: maps, their families, the colour table. */
export interface ReportData {
  input: readonly string[];
  output: readonly string[];
  groups: { name: string; maps: number[] }[];
  maps: EmbeddedMap[];
  colormap: string;
}

export function reportData(inspection: Inspection): ReportData {
  checkInspection("htmlReport", inspection);
  const groups = new Map<string, number[]>();
  const maps = inspection.maps.map((m: WeightMap, i): EmbeddedMap => {
    const g = mapGroup(m);
    groups.set(g, [...(groups.get(g) ?? []), i]);
    const { min, max } = finiteRange(m.values);
    return {
      name: m.name,
      layer: m.layer ?? null,
      head: m.head ?? null,
      rowAxis: m.rowAxis,
      colAxis: m.colAxis,
      rowLabels: m.rowLabels,
      colLabels: m.colLabels,
      min,
      max,
      values: base64(float32Bytes(m.values)),
    };
  });
  return {
    input: inspection.input,
    output: inspection.output,
    groups: [...groups].map(([name, idx]) => ({ name, maps: idx })),
    maps,
    colormap: COLORMAP.map((c) => hex(c).slice(1)).join(""),
  };
}

/** JSON that cannot end the <script> element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.sub { color: #555; margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.tokens { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; margin: 2px 0; }
.controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; margin: 12px 0; }
.controls label { display: flex; gap: 6px; align-items: center; }
#stage { position: relative; overflow: auto; max-width: 100%; max-height: 85vh; border: 1px solid #ddd; }
#map { display: block; cursor: crosshair; }
#tip { position: fixed; pointer-events: none; background: rgba(20,20,20,.9); color: #fff; padding: 4px 8px; border-radius: 4px;
  font: 12px ui-monospace, Menlo, Consolas, monospace; white-space: pre; display: none; z-index: 2; }
#bar { display: flex; gap: 8px; align-items: center; font: 12px ui-monospace, Menlo, Consolas, monospace; margin-top: 8px; }
#bar canvas { width: 256px; height: 12px; border: 1px solid #444; }
.curves svg { max-width: 100%; height: auto; margin: 8px 16px 8px 0; }
`;

/**
 * The page's script (plain ES2017, no modules). It reads #engram-data, fills the selectors, and
 * redraws on every change; a map's pixels are computed once and cached.
 */
const SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("engram-data").textContent);
  var FONT = 11, CHAR = FONT * 0.62, MAX_LABEL = 16, MAX_SIDE = 16000;
  var lut = new Uint8Array(768);
  for (var k = 0; k < 256; k++) for (var c = 0; c < 3; c++) lut[k * 3 + c] = parseInt(data.colormap.substr(k * 6 + c * 2, 2), 16);
  var $ = function (id) { return document.getElementById(id); };
  var groupSel = $("group"), layerSel = $("layer"), headSel = $("head"), zoom = $("zoom"), canvas = $("map"), tip = $("tip");
  var cache = {};
  var geom = null;

  function floats(s) {
    var bin = atob(s), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var view = new DataView(bytes.buffer), out = new Float32Array(bin.length >> 2);
    for (var j = 0; j < out.length; j++) out[j] = view.getFloat32(j * 4, true);
    return out;
  }
  function colorIndex(v, min, max) {
    if (!isFinite(v)) return -1;
    if (!(max > min)) return 0;
    return Math.min(255, Math.max(0, Math.round(((v - min) / (max - min)) * 255)));
  }
  function format(v) {
    if (!isFinite(v)) return String(v);
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
  }
  function cut(s, n) { var ch = Array.from(s); return ch.length <= n ? s : ch.slice(0, n - 1).join("") + "\\u2026"; }
  function option(sel, value, text) { var o = document.createElement("option"); o.value = String(value); o.textContent = text; sel.appendChild(o); }
  function clear(sel) { while (sel.firstChild) sel.removeChild(sel.firstChild); }

  /** The map's cells as an offscreen canvas, one pixel per cell (computed once per map). */
  function image(index) {
    if (cache[index]) return cache[index];
    var m = data.maps[index], rows = m.rowLabels.length, cols = m.colLabels.length;
    var values = floats(m.values);
    var off = document.createElement("canvas");
    off.width = cols; off.height = rows;
    var octx = off.getContext("2d"), img = octx.createImageData(cols, rows);
    for (var i = 0; i < values.length; i++) {
      var ci = colorIndex(values[i], m.min, m.max), p = i * 4;
      if (ci < 0) { img.data[p] = img.data[p + 1] = img.data[p + 2] = 128; }
      else { img.data[p] = lut[ci * 3]; img.data[p + 1] = lut[ci * 3 + 1]; img.data[p + 2] = lut[ci * 3 + 2]; }
      img.data[p + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    cache[index] = { canvas: off, values: values, image: img };
    return cache[index];
  }

  function current() {
    var g = data.groups[Number(groupSel.value)];
    for (var i = 0; i < g.maps.length; i++) {
      var m = data.maps[g.maps[i]];
      if ((m.layer === null || String(m.layer) === layerSel.value) && (m.head === null || String(m.head) === headSel.value)) return g.maps[i];
    }
    return g.maps[0];
  }

  function fillLayerHead() {
    var g = data.groups[Number(groupSel.value)], layers = [], heads = [];
    g.maps.forEach(function (i) {
      var m = data.maps[i];
      if (m.layer !== null && layers.indexOf(m.layer) < 0) layers.push(m.layer);
      if (m.head !== null && heads.indexOf(m.head) < 0) heads.push(m.head);
    });
    layers.sort(function (a, b) { return a - b; });
    heads.sort(function (a, b) { return a - b; });
    [[layerSel, layers, "layer "], [headSel, heads, "head "]].forEach(function (x) {
      var keep = x[0].value;
      clear(x[0]);
      x[1].forEach(function (v) { option(x[0], v, x[2] + v); });
      if (x[1].map(String).indexOf(keep) >= 0) x[0].value = keep;
      x[0].parentNode.style.display = x[1].length > 0 ? "" : "none";
    });
  }

  function longest(labels, step) {
    var n = 1;
    for (var i = 0; i < labels.length; i += step) n = Math.max(n, Math.min(MAX_LABEL, Array.from(labels[i]).length) + (step > 1 ? String(i).length + 1 : 0));
    return n;
  }

  function draw() {
    var index = current(), m = data.maps[index], rows = m.rowLabels.length, cols = m.colLabels.length;
    var pic = image(index);
    var z = Number(zoom.value);
    var avail = Math.max(200, (canvas.parentNode.clientWidth || 900) - 160);
    var cell = z > 0 ? z : Math.min(24, avail / Math.max(rows, cols));
    cell = Math.min(cell, MAX_SIDE / Math.max(rows, cols));
    var step = Math.max(1, Math.ceil((FONT * 1.1) / cell));
    var left = longest(m.rowLabels, step) * CHAR + 12, top = longest(m.colLabels, step) * CHAR + 12;
    var w = Math.ceil(left + cols * cell + 8), h = Math.ceil(top + rows * cell + 8);
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(pic.canvas, left, top, cols * cell, rows * cell);
    ctx.fillStyle = "#222"; ctx.font = FONT + "px ui-monospace, Menlo, Consolas, monospace"; ctx.textBaseline = "middle";
    var label = function (labels, i) {
      if (step === 1) return cut(labels[i], MAX_LABEL);
      return labels[i] === String(i) ? labels[i] : i + " " + cut(labels[i], 8);
    };
    ctx.textAlign = "right";
    for (var i = 0; i < rows; i += step) ctx.fillText(label(m.rowLabels, i), left - 4, top + (i + 0.5) * cell);
    ctx.textAlign = "left";
    for (var j = 0; j < cols; j += step) {
      ctx.save(); ctx.translate(left + (j + 0.5) * cell, top - 4); ctx.rotate(-Math.PI / 2); ctx.fillText(label(m.colLabels, j), 0, 0); ctx.restore();
    }
    geom = { index: index, left: left, top: top, cell: cell, rows: rows, cols: cols };
    $("mapname").textContent = m.name + "  (" + m.rowAxis + " x " + m.colAxis + ", " + rows + " x " + cols + ")";
    $("min").textContent = "min " + format(m.min);
    $("max").textContent = "max " + format(m.max);
  }

  /** The cell under a mouse position, or null. */
  function cellAt(clientX, clientY) {
    if (!geom) return null;
    var r = canvas.getBoundingClientRect();
    var col = Math.floor((clientX - r.left - geom.left) / geom.cell), row = Math.floor((clientY - r.top - geom.top) / geom.cell);
    return row >= 0 && row < geom.rows && col >= 0 && col < geom.cols ? { row: row, col: col } : null;
  }

  canvas.addEventListener("mousemove", function (e) {
    var at = cellAt(e.clientX, e.clientY);
    if (!at) { tip.style.display = "none"; return; }
    var m = data.maps[geom.index], v = cache[geom.index].values[at.row * geom.cols + at.col];
    tip.textContent = m.rowAxis + " " + at.row + "  " + JSON.stringify(m.rowLabels[at.row]) + "\\n" +
      m.colAxis + " " + at.col + "  " + JSON.stringify(m.colLabels[at.col]) + "\\nvalue " + format(v);
    tip.style.display = "block";
    tip.style.left = e.clientX + 14 + "px";
    tip.style.top = e.clientY + 14 + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });

  data.groups.forEach(function (g, i) { option(groupSel, i, g.name + (g.maps.length > 1 ? " (" + g.maps.length + " maps)" : "")); });
  groupSel.parentNode.style.display = data.groups.length > 1 ? "" : "none";
  groupSel.addEventListener("change", function () { fillLayerHead(); draw(); });
  layerSel.addEventListener("change", draw);
  headSel.addEventListener("change", draw);
  zoom.addEventListener("input", function () { $("zoomval").textContent = Number(zoom.value) > 0 ? zoom.value + " px" : "fit"; draw(); });
  window.addEventListener("resize", function () { if (Number(zoom.value) === 0) draw(); });

  var bar = $("barimg"), bctx = bar.getContext("2d"), bimg = bctx.createImageData(256, 1);
  for (var b = 0; b < 256; b++) { bimg.data[b * 4] = lut[b * 3]; bimg.data[b * 4 + 1] = lut[b * 3 + 1]; bimg.data[b * 4 + 2] = lut[b * 3 + 2]; bimg.data[b * 4 + 3] = 255; }
  bctx.putImageData(bimg, 0, 0);

  fillLayerHead();
  draw();
})();
`;

/** The report as one HTML document. */
export function htmlReport(inspection: Inspection, opts: HtmlReportOptions = {}): string {
  const data = reportData(inspection);
  const title = opts.title ?? "Engram inspection";
  const charts = opts.charts ?? [];
  const tokens = (name: string, list: readonly string[]): string =>
    list.length === 0 ? "" : `<p class="tokens"><b>${name}</b> ${list.map((t) => escapeXml(t)).join(" ")}</p>`;
  return [
    "<!DOCTYPE html>",
    `<html lang="en">`,
    "<head>",
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeXml(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeXml(title)}</h1>`,
    ...(opts.subtitle ?? []).map((l) => `<p class="sub">${escapeXml(l)}</p>`),
    tokens("input", data.input),
    tokens("output", data.output),
    `<div class="controls">`,
    `<label>map <select id="group"></select></label>`,
    `<label>layer <select id="layer"></select></label>`,
    `<label>head <select id="head"></select></label>`,
    `<label>cell size <input id="zoom" type="range" min="0" max="32" step="1" value="0"> <span id="zoomval">fit</span></label>`,
    "</div>",
    `<div id="mapname" class="sub"></div>`,
    `<div id="stage"><canvas id="map" width="1" height="1"></canvas></div>`,
    `<div id="bar"><span id="min"></span><canvas id="barimg" width="256" height="1"></canvas><span id="max"></span></div>`,
    `<div id="tip"></div>`,
    ...(charts.length > 0
      ? [
          `<section class="curves">`,
          "<h2>Learning curves</h2>",
          ...charts.map((c) => lineChartSvg(c.series, { ...c.options, standalone: false })),
          "</section>",
        ]
      : []),
    `<script type="application/json" id="engram-data">${scriptJson(data)}</script>`,
    `<script>${SCRIPT}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
