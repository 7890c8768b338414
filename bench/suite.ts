/** The contract between bench/main.ts and a suite (bench/suites/*.ts, listed in suites/index.ts). */
import type { Row, TimingOptions } from "./harness.js";

export interface SuiteContext {
  quick: boolean;
  timing: TimingOptions;
  /** False when --only excludes this workload/contender pair: do not run it, emit no row. */
  selected(workload: string, contender: string): boolean;
  /** Progress for the terminal (stderr), so stdout stays the report. */
  log(message: string): void;
}

export interface SuiteResult {
  rows: Row[];
  notes: string[];
  /** Self-description of each contender (versions, BLAS, threads, variant that ran). */
  contenders: Record<string, Record<string, unknown>>;
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

/** --only matching: case-insensitive substring of the workload or the contender. */
export function matchesOnly(only: string | undefined, workload: string, contender: string): boolean {
  if (only === undefined) return true;
  const needle = only.toLowerCase();
  return workload.toLowerCase().includes(needle) || contender.toLowerCase().includes(needle);
}
