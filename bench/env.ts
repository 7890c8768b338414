/**
 * The machine and environment a run happened in. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE change
 * which OpenBLAS kernels run, so they are recorded, printed, and (with --unset-openblas-env)
 * removed for the whole run by re-executing the bench: every contender, in-process or child
 * process, then sees the same environment.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** Variables --unset-openblas-env removes. */
export const OPENBLAS_ENV_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const;
/** Variables that change threading or Engram's kernel choice; recorded, never changed by the bench. */
const THREAD_ENV_VARS = [
  "OPENBLAS_NUM_THREADS",
  "OPENBLAS_THREAD_TIMEOUT",
  "OMP_NUM_THREADS",
  "GOTO_NUM_THREADS",
  "ENGRAM_NUM_THREADS",
  "ENGRAM_GEMM",
  "ENGRAM_ISA",
] as const;
/** Set in the re-executed child: JSON of the removed variables' original values. */
export const REEXEC_MARKER = "ENGRAM_BENCH_UNSET_OPENBLAS_ENV";

type Env = Readonly<Record<string, string | undefined>>;

export interface EnvVarState {
  set: boolean;
  value?: string;
}

export interface EnvReport {
  /** State of each OpenBLAS variable as every contender saw it. */
  vars: Record<string, EnvVarState>;
  /** True when this run is the re-execution made by --unset-openblas-env. */
  unset_by_bench: boolean;
  /** With unset_by_bench: the values the variables had before they were removed. */
  original_values?: Record<string, EnvVarState>;
}

function stateOf(env: Env, name: string): EnvVarState {
  const value = env[name];
  return value === undefined ? { set: false } : { set: true, value };
}

export function describeEnv(env: Env): EnvReport {
  const vars: Record<string, EnvVarState> = {};
  for (const name of [...OPENBLAS_ENV_VARS, ...THREAD_ENV_VARS]) vars[name] = stateOf(env, name);
  const marker = env[REEXEC_MARKER];
  if (marker === undefined) return { vars, unset_by_bench: false };
  let original_values: Record<string, EnvVarState> = {};
  try {
    original_values = JSON.parse(marker) as Record<string, EnvVarState>;
  } catch {
    // A hand-set marker that is not JSON still means "unset by the bench"; the originals are unknown.
  }
  return { vars, unset_by_bench: true, original_values };
}

/**
 * Variables whose state differs between two reports, as screen lines. Libraries may set some
 * while the bench runs (Engram's native loader sets OPENBLAS_THREAD_TIMEOUT before loading
 * OpenBLAS); peers started afterwards inherit the new value, so the change is reported.
 */
export function envChanges(before: EnvReport, after: EnvReport): string[] {
  const show = (st: EnvVarState | undefined): string => (st?.set ? JSON.stringify(st.value) : "not set");
  const lines: string[] = [];
  for (const [name, st] of Object.entries(after.vars)) {
    const old = before.vars[name];
    if (old?.set !== st.set || old.value !== st.value) lines.push(`${name} changed during the run: ${show(old)} -> ${show(st)}`);
  }
  return lines;
}

/** One line per variable for the screen. */
export function formatEnv(report: EnvReport): string[] {
  const lines: string[] = [];
  for (const [name, st] of Object.entries(report.vars)) {
    let text = st.set ? `${name}=${st.value ?? ""}` : `${name} not set`;
    const orig = report.original_values?.[name];
    if (report.unset_by_bench && (OPENBLAS_ENV_VARS as readonly string[]).includes(name)) {
      text += ` (unset by --unset-openblas-env; was ${orig?.set ? JSON.stringify(orig.value) : "not set"})`;
    }
    lines.push(text);
  }
  return lines;
}

/** The environment for the re-executed bench: OpenBLAS variables removed, originals in the marker. */
export function unsetOpenblasEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  const original: Record<string, EnvVarState> = {};
  for (const name of OPENBLAS_ENV_VARS) {
    original[name] = stateOf(env, name);
    delete out[name];
  }
  out[REEXEC_MARKER] = JSON.stringify(original);
  return out;
}

/**
 * Runs this same bench again (same Node flags and arguments) without the OpenBLAS variables and
 * returns its exit code. Output goes straight to this terminal.
 */
export function reexecWithoutOpenblasEnv(): number {
  const result = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: unsetOpenblasEnv(process.env),
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gib: number;
  platform: string;
  node: string;
  /** 1-minute load average at start: a busy machine makes every number slower. */
  load_avg_1: number;
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) cpu = line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // Not Linux: os.cpus() is good enough.
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    load_avg_1: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}
