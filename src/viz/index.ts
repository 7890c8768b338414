/** Seeing attention and memory: heat maps (SVG, PNG, terminal, HTML report), bertviz export, line charts. */
export { COLORMAP, COLORMAP_SIZE, MISSING_COLOR, colorIndex, colorOf, finiteRange, hex, type Rgb } from "./colormap.js";
export { heatmapSvg, type HeatmapSvgOptions } from "./heatmap-svg.js";
export { heatmapPixels, heatmapPng, type HeatmapPngOptions } from "./heatmap-png.js";
export { ansi256, heatmapTerminal, terminalColorMode, type ColorMode, type HeatmapTerminalOptions } from "./heatmap-terminal.js";
export { htmlReport, reportData, type HtmlReportOptions, type ReportData } from "./html-report.js";
export {
  bertvizData,
  bertvizJson,
  type BertvizData,
  type BertvizEncoderDecoder,
  type BertvizSelfAttention,
  type LayerStack,
} from "./bertviz.js";
export { lineChartSvg, niceTicks, type LineChartOptions, type Series } from "./line-chart-svg.js";
export { metricsSeries, trainingCharts, type Chart } from "./metrics-curves.js";
export { checkInspection, checkWeightMap, mapGroup, selectMaps } from "./weight-map.js";
