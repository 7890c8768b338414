/** Screen table and JSON document for a suite's rows (pure functions). */
import type { EnvReport, MachineInfo } from "./env.js";
import { formatEnv } from "./env.js";
import type { Row } from "./harness.js";

export interface BenchDocument {
  suite: string;
  /** The command that produced the document. */
  command: string;
  date: string;
  quick: boolean;
  only?: string;
  machine: MachineInfo;
  /** The environment when the bench started. */
  env: EnvReport;
  /** Present when a library changed a recorded variable during the run: the state at the end. */
  env_at_end?: EnvReport;
  /** What each contender is, as it identified itself (versions, BLAS, threads, variants). */
  contenders: Record<string, Record<string, unknown>>;
  notes: string[];
  rows: Row[];
}

export function formatTime(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (abs >= 1) return `${ms.toFixed(abs >= 100 ? 1 : 2)} ms`;
  const us = ms * 1000;
  return `${us.toFixed(Math.abs(us) >= 100 ? 1 : 2)} µs`;
}

function formatThroughput(row: Row): string {
  if (row.gflops !== undefined) return `${row.gflops.toFixed(row.gflops >= 100 ? 1 : 2)} GFLOP/s`;
  if (row.gbps !== undefined) return `${row.gbps.toFixed(2)} GB/s`;
  return "";
}

export function formatRatio(ratio: number): string {
  if (ratio >= 10) return `${ratio.toFixed(1)}x`;
  if (ratio >= 0.1) return `${ratio.toFixed(2)}x`;
  return `${ratio.toPrecision(2)}x`;
}

function formatTarget(row: Row): string {
  const t = row.target;
  if (!t) return "";
  const parts: string[] = [];
  if (t.minRatio !== undefined) parts.push(`>=${t.minRatio}x`);
  if (t.maxUs !== undefined) parts.push(`<=${t.maxUs} µs`);
  const verdict = row.meets_target === undefined ? "?" : row.meets_target ? "ok" : "MISS";
  return `${parts.join(" ")} ${verdict}`;
}

/** Rows grouped by group, then workload (in first-seen order), one aligned table. */
export function formatTable(rows: readonly Row[]): string {
  const header = ["contender", "time", "throughput", "ratio", "target", "note"];
  const cells = (r: Row): string[] => {
    const name = r.reference ? `${r.contender} (ref)` : r.contender;
    if (r.median_ms === null) return [name, "-", "", "", "", `skipped: ${r.skipped ?? "no reason given"}`];
    return [
      name,
      formatTime(r.median_ms),
      formatThroughput(r),
      r.ratio === undefined ? "" : formatRatio(r.ratio),
      formatTarget(r),
      r.note ?? "",
    ];
  };
  const all = rows.map(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...all.map((c) => c[i]!.length)));
  // Right-align the numeric columns.
  const numeric = new Set([1, 2, 3]);
  const line = (c: readonly string[]): string =>
    "  " +
    c
      .map((v, i) => (i === c.length - 1 ? v : numeric.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();

  const out: string[] = [];
  let group: string | undefined;
  let workload: string | undefined;
  rows.forEach((r, i) => {
    if (r.group !== group) {
      group = r.group;
      workload = undefined;
      out.push("", `== ${group} ==`);
    }
    if (r.workload !== workload) {
      workload = r.workload;
      out.push("", r.workload, line(header));
    }
    out.push(line(all[i]!));
  });
  return out.join("\n").replace(/^\n/, "");
}

export function formatHeader(doc: BenchDocument): string {
  const m = doc.machine;
  const lines = [
    `Engram bench: ${doc.suite}${doc.quick ? " (--quick: smoke-test sizes, numbers not meaningful)" : ""}${doc.only ? ` (--only ${doc.only})` : ""}`,
    `${doc.date}  ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.platform}, Node ${m.node}, load ${m.load_avg_1}`,
    ...formatEnv(doc.env).map((l) => `env: ${l}`),
  ];
  if (m.load_avg_1 > m.cores / 2)
    lines.push(`warning: load average ${m.load_avg_1} on ${m.cores} cores: other processes are competing for the CPU`);
  return lines.join("\n");
}

export function formatNotes(doc: BenchDocument): string {
  if (doc.notes.length === 0) return "";
  return ["Notes:", ...doc.notes.map((n) => `  - ${n}`)].join("\n");
}

/** Rounds to `digits` significant digits (JSON readability; the medians keep more). */
export function roundSig(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

export function toJson(doc: BenchDocument): string {
  const rows = doc.rows.map((r) => {
    const out: Row = { ...r, median_ms: r.median_ms === null ? null : roundSig(r.median_ms, 6) };
    if (r.gflops !== undefined) out.gflops = roundSig(r.gflops, 4);
    if (r.gbps !== undefined) out.gbps = roundSig(r.gbps, 4);
    if (r.ratio !== undefined) out.ratio = roundSig(r.ratio, 4);
    return out;
  });
  return JSON.stringify({ ...doc, rows }, null, 2) + "\n";
}
