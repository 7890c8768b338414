/**
 * The PyTorch peer. Runs torch_engine.py with /usr/bin/python3 (Debian's python3-torch lives
 * there; the python3 first on PATH may be a different interpreter without torch). Set
 * ENGRAM_BENCH_PYTHON to use another interpreter. A missing interpreter or torch gives a skip
 * reason, never an exception.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TimingOptions } from "../harness.js";
import { runJsonPeer, type PeerResult } from "./process.js";

export const DEFAULT_PYTHON = "/usr/bin/python3";

export interface TorchRequest {
  timing: TimingOptions;
  /** Intra-op threads for torch (the same count the native backend uses). */
  threads?: number;
  gemm?: number[];
  elementwise?: { op: string; n: number }[];
  overhead?: { name: string; n: number }[];
  /** Optimizer steps on one float32 parameter of n elements (name: "adam"). */
  optimizer?: { name: string; n: number }[];
}

export interface TorchInfo {
  python: string;
  torch: string;
  threads_default: number;
  threads: number;
  blas_info: string;
  blas_libs: string[];
  uses_openblas: boolean;
  openblas_corename?: string;
  openblas_config?: string;
  openblas_threads?: number;
  [key: string]: unknown;
}

export interface TorchRow {
  kind: "gemm" | "elementwise" | "overhead" | "optimizer";
  n: number;
  op?: string;
  name?: string;
  median_ms: number;
  iterations: number;
  repeats: number;
}

type TorchOutput = { info: TorchInfo; rows: TorchRow[] } | { skipped: string };

export function pythonPath(): string {
  return process.env["ENGRAM_BENCH_PYTHON"] ?? DEFAULT_PYTHON;
}

export async function runTorchPeer(script: string, req: TorchRequest): Promise<PeerResult<{ info: TorchInfo; rows: TorchRow[] }>> {
  const python = pythonPath();
  if (!existsSync(python)) return { ok: false, reason: `${python} not found (set ENGRAM_BENCH_PYTHON to a python with torch)` };
  const scriptPath = fileURLToPath(new URL(script, import.meta.url));
  const res = await runJsonPeer<TorchOutput>(python, [scriptPath], { timeoutMs: 900_000, input: JSON.stringify(req) });
  if (!res.ok) return res;
  if ("skipped" in res.value) return { ok: false, reason: res.value.skipped };
  return { ok: true, value: res.value, stderr: res.stderr };
}

/** One line for the table notes: version, threads and the BLAS it really loaded. */
export function describeTorch(info: TorchInfo): string {
  const blas = info.uses_openblas
    ? `uses OpenBLAS (loaded: ${info.blas_libs.map((l) => l.split("/").pop()).join(", ")}; core ${info.openblas_corename ?? "?"}, ${info.openblas_threads ?? "?"} OpenBLAS threads)`
    : `does NOT use OpenBLAS (BLAS_INFO=${info.blas_info || "?"}, loaded: ${info.blas_libs.join(", ") || "no BLAS library"}): its GEMM is not the same BLAS as the other rows`;
  return `pytorch ${info.torch} (${info.python}), ${info.threads} intra-op threads (default ${info.threads_default}), ${blas}`;
}
