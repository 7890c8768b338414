/**
 * The "OpenBLAS called directly" peer: compiles openblas-gemm.c into a temporary directory with
 * the system C compiler ($CC or cc) against OpenBLAS (pkg-config flags when available, else
 * -lopenblas), runs it once for all requested sizes, and deletes the directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TimingOptions } from "../harness.js";
import { runJsonPeer, runProcess, type PeerResult } from "./process.js";

const SOURCE = fileURLToPath(new URL("./openblas-gemm.c", import.meta.url));

export interface OpenblasInfo {
  config: string;
  corename: string;
  threads: number;
}

export interface OpenblasPeerRow {
  op: "gemm" | "memcpy";
  n?: number;
  bytes?: number;
  median_ms: number;
  iterations: number;
  repeats: number;
}

export interface OpenblasPeerOutput {
  info: OpenblasInfo;
  rows: OpenblasPeerRow[];
}

export interface OpenblasRequest {
  gemmSizes: readonly number[];
  memcpyBytes: readonly number[];
  timing: TimingOptions;
}

export function timingArgs(t: TimingOptions): string[] {
  return [
    ["--warmup-ms", t.warmupMs],
    ["--target-ms", t.targetRepeatMs],
    ["--repeats", t.repeats],
    ["--min-repeats", t.minRepeats],
    ["--max-iterations", t.maxIterations],
    ["--budget-ms", t.budgetMs],
  ].flatMap(([k, v]) => [String(k), String(v)]);
}

/** Compiler flags for OpenBLAS: pkg-config's when it knows openblas, else plain -lopenblas. */
async function openblasFlags(): Promise<{ cflags: string[]; libs: string[]; source: string }> {
  const res = await runProcess("pkg-config", ["--cflags", "--libs", "openblas"], { timeoutMs: 10_000 });
  if (res.ok && res.value.code === 0) {
    const flags = res.value.stdout.trim().split(/\s+/).filter(Boolean);
    return {
      cflags: flags.filter((f) => !f.startsWith("-l") && !f.startsWith("-L")),
      libs: flags.filter((f) => f.startsWith("-l") || f.startsWith("-L")),
      source: "pkg-config openblas",
    };
  }
  return { cflags: [], libs: ["-lopenblas"], source: "-lopenblas (pkg-config has no openblas)" };
}

/** Explains a failed compile in one line (missing header and missing library are the usual cases). */
export function explainCompileError(stderr: string): string {
  if (/cblas\.h.*(No such file|not found)/i.test(stderr)) return "OpenBLAS headers missing (cblas.h not found; install libopenblas-dev)";
  if (/cannot find -lopenblas|library not found for -lopenblas/i.test(stderr))
    return "OpenBLAS library missing (-lopenblas not found; install libopenblas-dev)";
  if (/undefined reference to .openblas_/.test(stderr))
    return "cblas.h/libblas found but they are not OpenBLAS (openblas_* symbols missing)";
  const first = stderr.split("\n").find((l) => /error/i.test(l)) ?? stderr.split("\n")[0] ?? "";
  return `compile failed: ${first.trim()}`;
}

export async function runOpenblasPeer(req: OpenblasRequest): Promise<PeerResult<OpenblasPeerOutput> & { compile?: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "engram-bench-"));
  try {
    const cc = process.env["CC"] ?? "cc";
    const exe = path.join(dir, "openblas-gemm");
    const flags = await openblasFlags();
    const args = ["-O2", "-std=c11", ...flags.cflags, SOURCE, "-o", exe, ...flags.libs];
    const compiled = await runProcess(cc, args, { timeoutMs: 120_000 });
    if (!compiled.ok)
      return { ok: false, reason: compiled.reason.endsWith("not found") ? `no C compiler (${compiled.reason})` : compiled.reason };
    if (compiled.value.code !== 0) return { ok: false, reason: explainCompileError(compiled.stderr) };
    const workloads = [...req.gemmSizes.map((n) => `gemm:${n}`), ...req.memcpyBytes.map((b) => `memcpy:${b}`)];
    const res = await runJsonPeer<OpenblasPeerOutput>(exe, [...timingArgs(req.timing), ...workloads], { timeoutMs: 600_000 });
    return {
      ...res,
      compile: `${cc} ${args.map((a) => (a === SOURCE ? "bench/peers/openblas-gemm.c" : a === exe ? "$TMP/openblas-gemm" : a)).join(" ")} (flags from ${flags.source})`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
