/**
 * Timing and result rows shared by every suite. The planning and statistics are pure functions
 * (tested in test/bench/harness.test.ts); `measure` is the only function that reads the clock.
 * The C and Python peers implement the same plan (warm-up, calibrate, fixed iterations per repeat,
 * median of repeats) with the same numbers, so every contender is timed the same way.
 */

export interface TimingOptions {
  /** Keep calling the function for this long before timing (JIT, caches, thread pools, page faults). */
  warmupMs: number;
  /** Each repeat runs the function enough times to last about this long. */
  targetRepeatMs: number;
  /** Repeats whose per-call times are summarised by their median. */
  repeats: number;
  /** Fewest repeats, used when one call is so slow that `repeats` would exceed `budgetMs`. */
  minRepeats: number;
  /** Cap on calls per repeat (very fast functions). */
  maxIterations: number;
  /** Rough time budget for one measurement after warm-up. */
  budgetMs: number;
}

export const DEFAULT_TIMING: TimingOptions = {
  warmupMs: 200,
  targetRepeatMs: 100,
  repeats: 7,
  minRepeats: 3,
  maxIterations: 1_000_000,
  budgetMs: 4000,
};

export const QUICK_TIMING: TimingOptions = {
  warmupMs: 20,
  targetRepeatMs: 10,
  repeats: 3,
  minRepeats: 2,
  maxIterations: 100_000,
  budgetMs: 300,
};

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface IterationPlan {
  iterations: number;
  repeats: number;
}

/**
 * Calls per repeat and number of repeats, from an estimate of one call's duration: enough calls
 * that a repeat lasts `targetRepeatMs` (timer resolution and loop overhead become negligible),
 * and fewer repeats (down to `minRepeats`) when a single call already blows the budget.
 */
export function planIterations(perCallMs: number, opts: TimingOptions): IterationPlan {
  const perCall = Number.isFinite(perCallMs) && perCallMs > 0 ? perCallMs : 1e-6;
  const iterations = Math.max(1, Math.min(opts.maxIterations, Math.ceil(opts.targetRepeatMs / perCall)));
  const repeatMs = iterations * perCall;
  const affordable = Math.floor(opts.budgetMs / repeatMs);
  const repeats = Math.max(opts.minRepeats, Math.min(opts.repeats, affordable));
  return { iterations, repeats };
}

export interface Measurement {
  /** Median over repeats of the mean time of one call within a repeat. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  iterations: number;
  repeats: number;
}

/** Summarises per-repeat totals (each `iterations` calls long) into per-call statistics. */
export function summarize(repeatTotalsMs: readonly number[], iterations: number): Measurement {
  const perCall = repeatTotalsMs.map((t) => t / iterations);
  return {
    medianMs: median(perCall),
    minMs: Math.min(...perCall),
    maxMs: Math.max(...perCall),
    iterations,
    repeats: perCall.length,
  };
}

/** Times a synchronous function: warm-up, calibration from the warm-up calls, then timed repeats. */
export function measure(fn: () => void, opts: TimingOptions): Measurement {
  const now = (): number => performance.now();
  const warmStart = now();
  fn();
  // The first call often pays one-off costs (allocation, thread start-up): calibrate without it.
  const calStart = now();
  let calls = 0;
  let warmEnd = calStart;
  while (calls < 1 || warmEnd - warmStart < opts.warmupMs) {
    fn();
    calls++;
    warmEnd = now();
  }
  const plan = planIterations((warmEnd - calStart) / calls, opts);
  const totals: number[] = [];
  for (let r = 0; r < plan.repeats; r++) {
    const t0 = now();
    for (let i = 0; i < plan.iterations; i++) fn();
    totals.push(now() - t0);
  }
  return summarize(totals, plan.iterations);
}

/**
 * Per-op cost of a call that runs `n` ops plus a fixed part (e.g. sum + backward start), given
 * the time of the same call with 0 ops: the fixed part is subtracted, not amortised.
 */
export function perOp(fixedCallMs: number, chainCallMs: number, n: number): number {
  if (!(n > 0)) throw new RangeError("perOp: the chain needs at least one op");
  return (chainCallMs - fixedCallMs) / n;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** What a row is compared against: a ratio to the reference (>= min), or an absolute time. */
export interface Target {
  minRatio?: number;
  maxUs?: number;
}

/**
 * One (workload, contender) result. Field names are the JSON schema (snake_case on purpose:
 * the JSON is read by scripts in other languages).
 */
export interface Row {
  workload: string;
  /** Heading the table groups workloads under ("GEMM", "Elementwise", ...). */
  group: string;
  contender: string;
  /** Null when skipped. */
  median_ms: number | null;
  gflops?: number;
  gbps?: number;
  /** Reference time / this time: above 1 is faster than the reference. */
  ratio?: number;
  /** This row is the workload's reference. */
  reference?: boolean;
  target?: Target;
  meets_target?: boolean;
  skipped?: string;
  note?: string;
  params: Record<string, unknown>;
}

/** A workload's description, shared by its rows. */
export interface Workload {
  name: string;
  group: string;
  /** Contender id every other row of the workload is compared with. */
  reference: string;
  params: Record<string, unknown>;
  /** Floating point operations per call (GFLOP/s column). */
  flops?: number;
  /** Bytes read + written per call (GB/s column). */
  bytes?: number;
  /** Targets by contender id. */
  targets?: Record<string, Target>;
}

export interface RowExtras {
  note?: string;
  params?: Record<string, unknown>;
}

export function measuredRow(w: Workload, contender: string, medianMs: number, extras: RowExtras = {}): Row {
  const row: Row = { workload: w.name, group: w.group, contender, median_ms: medianMs, params: { ...w.params, ...extras.params } };
  if (w.flops !== undefined && medianMs > 0) row.gflops = w.flops / (medianMs * 1e6);
  if (w.bytes !== undefined && medianMs > 0) row.gbps = w.bytes / (medianMs * 1e6);
  if (contender === w.reference) row.reference = true;
  const target = w.targets?.[contender];
  if (target) row.target = target;
  if (extras.note !== undefined) row.note = extras.note;
  return row;
}

export function skippedRow(w: Workload, contender: string, reason: string): Row {
  const row: Row = { workload: w.name, group: w.group, contender, median_ms: null, skipped: reason, params: { ...w.params } };
  if (contender === w.reference) row.reference = true;
  return row;
}

/** Fills `ratio` (reference time / row time) and `meets_target` for every measured row. */
export function applyRatios(rows: readonly Row[]): Row[] {
  const refMs = new Map<string, number>();
  for (const r of rows) if (r.reference && r.median_ms !== null) refMs.set(r.workload, r.median_ms);
  return rows.map((r) => {
    const out: Row = { ...r };
    const ref = refMs.get(r.workload);
    if (r.median_ms !== null && ref !== undefined && r.median_ms > 0) out.ratio = ref / r.median_ms;
    if (r.target && r.median_ms !== null) {
      const checks: boolean[] = [];
      if (r.target.minRatio !== undefined && out.ratio !== undefined) checks.push(out.ratio >= r.target.minRatio);
      if (r.target.maxUs !== undefined) checks.push(r.median_ms * 1000 <= r.target.maxUs);
      if (checks.length > 0) out.meets_target = checks.every(Boolean);
    }
    return out;
  });
}
