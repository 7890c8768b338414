// The benchmark harness's pure logic: statistics, iteration planning, rows and ratios, table and
// JSON formatting, argument parsing, environment handling. No timing assertions.
import { describe, expect, it } from "vitest";
import { ArgsError, helpText, parseArgs } from "../../bench/args.js";
import { suggest } from "../../src/core/suggest.js";
import { describeEnv, envChanges, formatEnv, REEXEC_MARKER, unsetOpenblasEnv } from "../../bench/env.js";
import {
  applyRatios,
  DEFAULT_TIMING,
  measuredRow,
  median,
  perOp,
  planIterations,
  QUICK_TIMING,
  skippedRow,
  summarize,
  type TimingOptions,
  type Workload,
} from "../../bench/harness.js";
import { lastJsonLine } from "../../bench/peers/process.js";
import { explainCompileError, timingArgs } from "../../bench/peers/openblas.js";
import { formatRatio, formatTable, formatTime, roundSig, toJson, type BenchDocument } from "../../bench/report.js";
import { matchesOnly } from "../../bench/suite.js";
import { adamFirstStepError, elementwiseSampleError, engineSpecs, gemmSampleError } from "../../bench/suites/engine.js";

const timing: TimingOptions = { warmupMs: 10, targetRepeatMs: 100, repeats: 7, minRepeats: 3, maxIterations: 1000, budgetMs: 2000 };

const gemm: Workload = {
  name: "gemm 512x512x512 f32",
  group: "GEMM",
  reference: "openblas-c",
  params: { n: 512 },
  flops: 2 * 512 ** 3,
  targets: { "engram-native-openblas": { minRatio: 0.9 }, "engram-native-builtin": { minRatio: 0.5 } },
};

describe("median", () => {
  it("takes the middle of an odd count and the mean of the middle pair of an even count", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it("does not reorder its input", () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it("rejects an empty list", () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("planIterations", () => {
  it("runs fast functions enough times to fill a repeat", () => {
    expect(planIterations(0.01, timing)).toEqual({ iterations: 1000, repeats: 7 });
    expect(planIterations(1, timing)).toEqual({ iterations: 100, repeats: 7 });
    expect(planIterations(0.3, timing).iterations).toBe(334);
  });
  it("caps iterations per repeat", () => {
    expect(planIterations(1e-6, timing).iterations).toBe(timing.maxIterations);
  });
  it("runs slow functions once per repeat and cuts repeats to the budget, never below the minimum", () => {
    expect(planIterations(400, timing)).toEqual({ iterations: 1, repeats: 5 });
    expect(planIterations(5000, timing)).toEqual({ iterations: 1, repeats: 3 });
  });
  it("treats a zero or invalid estimate as a very fast call", () => {
    expect(planIterations(0, timing).iterations).toBe(timing.maxIterations);
    expect(planIterations(Number.NaN, timing).iterations).toBe(timing.maxIterations);
  });
  it("quick timing plans fewer repeats than the default", () => {
    expect(planIterations(1, QUICK_TIMING).repeats).toBeLessThan(planIterations(1, DEFAULT_TIMING).repeats);
  });
});

describe("summarize and perOp", () => {
  it("turns repeat totals into per-call statistics", () => {
    expect(summarize([10, 30, 20], 10)).toEqual({ medianMs: 2, minMs: 1, maxMs: 3, iterations: 10, repeats: 3 });
  });
  it("subtracts the fixed part of each call instead of amortising it", () => {
    // 5 ms fixed + 0.002 ms per op.
    expect(perOp(5, 5 + 1000 * 0.002, 1000)).toBeCloseTo(0.002, 12);
    expect(() => perOp(1, 2, 0)).toThrow(RangeError);
  });
});

describe("rows and ratios", () => {
  it("derives GFLOP/s and GB/s from the workload", () => {
    const row = measuredRow(gemm, "engram-native-openblas", 2);
    expect(row.gflops).toBeCloseTo((2 * 512 ** 3) / 2e6, 6);
    expect(row.gbps).toBeUndefined();
    const copy = measuredRow(
      { name: "add 1e6 f32", group: "Elementwise", reference: "memcpy-js", params: {}, bytes: 12e6 },
      "memcpy-js",
      1,
    );
    expect(copy.gbps).toBeCloseTo(12, 9);
  });
  it("marks the reference and carries targets, notes and params", () => {
    expect(measuredRow(gemm, "openblas-c", 1).reference).toBe(true);
    const row = measuredRow(gemm, "engram-native-builtin", 1, { note: "n", params: { iterations: 3 } });
    expect(row.target).toEqual({ minRatio: 0.5 });
    expect(row.note).toBe("n");
    expect(row.params).toEqual({ n: 512, iterations: 3 });
  });
  it("computes ratio = reference time / row time and checks targets", () => {
    const rows = applyRatios([
      measuredRow(gemm, "openblas-c", 2),
      measuredRow(gemm, "engram-native-openblas", 2.5),
      measuredRow(gemm, "engram-native-builtin", 3),
      skippedRow(gemm, "engram-ts", "too slow"),
    ]);
    expect(rows.map((r) => r.ratio)).toEqual([1, 0.8, 2 / 3, undefined]);
    expect(rows[1]!.meets_target).toBe(false);
    expect(rows[2]!.meets_target).toBe(true);
    expect(rows[3]!.meets_target).toBeUndefined();
  });
  it("leaves ratios out when the reference was skipped", () => {
    const rows = applyRatios([skippedRow(gemm, "openblas-c", "no cc"), measuredRow(gemm, "engram-native-openblas", 1)]);
    expect(rows[0]!.reference).toBe(true);
    expect(rows[1]!.ratio).toBeUndefined();
    expect(rows[1]!.meets_target).toBeUndefined();
  });
  it("checks absolute-time targets without a reference", () => {
    const w: Workload = {
      name: "add 1x8",
      group: "overhead",
      reference: "pytorch",
      params: {},
      targets: { "engram-native": { maxUs: 2 } },
    };
    expect(applyRatios([measuredRow(w, "engram-native", 0.0015)])[0]!.meets_target).toBe(true);
    expect(applyRatios([measuredRow(w, "engram-native", 0.0025)])[0]!.meets_target).toBe(false);
  });
});

describe("table and JSON", () => {
  const rows = applyRatios([
    measuredRow(gemm, "openblas-c", 2),
    measuredRow(gemm, "engram-native-openblas", 2.5),
    skippedRow(gemm, "engram-ts", "not run above n=512"),
    measuredRow({ name: "add 1x8", group: "Per-op overhead", reference: "pytorch", params: {} }, "pytorch", 0.0031),
  ]);

  it("formats times in s, ms or µs", () => {
    expect(formatTime(1234)).toBe("1.23 s");
    expect(formatTime(12.345)).toBe("12.35 ms");
    expect(formatTime(0.0015)).toBe("1.50 µs");
    expect(formatTime(0.25)).toBe("250.0 µs");
  });
  it("formats ratios with enough digits for tiny ones", () => {
    expect(formatRatio(1)).toBe("1.00x");
    expect(formatRatio(12.34)).toBe("12.3x");
    expect(formatRatio(0.0042)).toBe("0.0042x");
  });
  it("groups rows under group and workload headings, marks the reference and shows skips", () => {
    const table = formatTable(rows);
    const lines = table.split("\n");
    expect(lines[0]).toBe("== GEMM ==");
    expect(table).toContain("\ngemm 512x512x512 f32\n");
    expect(table.indexOf("== GEMM ==")).toBeLessThan(table.indexOf("== Per-op overhead =="));
    expect(table).toMatch(/openblas-c \(ref\) +2\.00 ms +134\.2 GFLOP\/s +1\.00x/);
    expect(table).toMatch(/engram-native-openblas +2\.50 ms .* 0\.80x +>=0\.9x MISS/);
    expect(table).toContain("skipped: not run above n=512");
    expect(table).toMatch(/pytorch \(ref\) +3\.10 µs/);
  });
  it("aligns the columns of a table", () => {
    const contenderLines = formatTable(rows)
      .split("\n")
      .filter((l) => l.includes(" ms "));
    const timeEnds = contenderLines.map((l) => l.indexOf(" ms") + 3);
    expect(new Set(timeEnds).size).toBe(1);
  });
  it("writes the document with the environment and rounded rows", () => {
    const doc: BenchDocument = {
      suite: "engine",
      command: "npm run bench -- engine",
      date: "2025-01-01T00:00:00.000Z",
      quick: false,
      machine: { cpu: "cpu", cores: 2, memory_gib: 8, platform: "linux", node: "v20", load_avg_1: 0 },
      env: describeEnv({ OPENBLAS_CORETYPE: "Haswell" }),
      contenders: {},
      notes: [],
      rows: [measuredRow(gemm, "openblas-c", 1.234567891)],
    };
    const parsed = JSON.parse(toJson(doc)) as BenchDocument;
    expect(parsed.env.vars["OPENBLAS_CORETYPE"]).toEqual({ set: true, value: "Haswell" });
    expect(parsed.env.vars["OPENBLAS_L2_SIZE"]).toEqual({ set: false });
    const row = parsed.rows[0]!;
    expect(row.median_ms).toBe(1.23457);
    expect(row.gflops).toBe(217.4);
    expect(Object.keys(row)).toEqual(expect.arrayContaining(["workload", "contender", "median_ms", "gflops", "params"]));
  });
  it("rounds to significant digits", () => {
    expect(roundSig(123456, 3)).toBe(123000);
    expect(roundSig(0.000123456, 2)).toBe(0.00012);
    expect(roundSig(0, 3)).toBe(0);
  });
});

describe("parseArgs", () => {
  it("reads the suite and every flag, in both --flag value and --flag=value forms", () => {
    expect(parseArgs(["engine", "--json", "out.json", "--quick", "--only=gemm", "--unset-openblas-env"])).toEqual({
      suite: "engine",
      json: "out.json",
      quick: true,
      only: "gemm",
      help: false,
      unsetOpenblasEnv: true,
    });
    expect(parseArgs(["--help"]).help).toBe(true);
    expect(parseArgs(["-h"]).help).toBe(true);
    expect(parseArgs([])).toEqual({ quick: false, help: false, unsetOpenblasEnv: false });
  });
  it("keeps an --only value that contains spaces", () => {
    expect(parseArgs(["engine", "--only", "gemm 512"]).only).toBe("gemm 512");
  });
  it("rejects unknown flags with a suggestion, missing values and a second suite", () => {
    expect(() => parseArgs(["--quik"])).toThrow(/unknown option --quik \(did you mean --quick\?\)/);
    expect(() => parseArgs(["engine", "--json"])).toThrow(ArgsError);
    expect(() => parseArgs(["engine", "--json", "--quick"])).toThrow(/--json needs a value/);
    expect(() => parseArgs(["engine", "--quick=yes"])).toThrow(/takes no value/);
    expect(() => parseArgs(["engine", "attention"])).toThrow(/already "engine"/);
  });
  it("suggests only close names", () => {
    expect(suggest("engin", ["engine", "memory"])).toBe("engine");
    expect(suggest("zzzzzzzz", ["engine"])).toBeUndefined();
  });
  it("lists suites and options in the help", () => {
    const text = helpText([{ name: "engine", description: "GEMM and friends" }]);
    expect(text).toContain("engine  GEMM and friends");
    for (const flag of ["--json", "--quick", "--only", "--unset-openblas-env", "--help"]) expect(text).toContain(flag);
  });
});

describe("environment", () => {
  it("records whether the OpenBLAS variables are set", () => {
    const report = describeEnv({ OPENBLAS_CORETYPE: "Haswell", PATH: "/bin" });
    expect(report.vars["OPENBLAS_CORETYPE"]).toEqual({ set: true, value: "Haswell" });
    expect(report.vars["OPENBLAS_L2_SIZE"]).toEqual({ set: false });
    expect(report.unset_by_bench).toBe(false);
    expect(formatEnv(report)).toContain("OPENBLAS_CORETYPE=Haswell");
  });
  it("builds the re-exec environment without them and remembers their values", () => {
    const env = unsetOpenblasEnv({ OPENBLAS_CORETYPE: "Haswell", OPENBLAS_L2_SIZE: "1048576", OMP_NUM_THREADS: "2", HOME: "/root" });
    expect(env["OPENBLAS_CORETYPE"]).toBeUndefined();
    expect(env["OPENBLAS_L2_SIZE"]).toBeUndefined();
    expect(env["OMP_NUM_THREADS"]).toBe("2");
    expect(env["HOME"]).toBe("/root");
    const report = describeEnv(env);
    expect(report.unset_by_bench).toBe(true);
    expect(report.original_values?.["OPENBLAS_CORETYPE"]).toEqual({ set: true, value: "Haswell" });
    expect(formatEnv(report)).toContain('OPENBLAS_CORETYPE not set (unset by --unset-openblas-env; was "Haswell")');
  });
  it("reports variables a library changed during the run", () => {
    const before = describeEnv({ OPENBLAS_CORETYPE: "Haswell" });
    expect(envChanges(before, describeEnv({ OPENBLAS_CORETYPE: "Haswell" }))).toEqual([]);
    expect(envChanges(before, describeEnv({ OPENBLAS_CORETYPE: "Haswell", OPENBLAS_THREAD_TIMEOUT: "18" }))).toEqual([
      'OPENBLAS_THREAD_TIMEOUT changed during the run: not set -> "18"',
    ]);
  });
  it("survives a hand-set marker that is not JSON", () => {
    expect(describeEnv({ [REEXEC_MARKER]: "1" }).unset_by_bench).toBe(true);
  });
});

describe("suite plumbing", () => {
  it("--only matches workloads or contenders, case-insensitively", () => {
    expect(matchesOnly(undefined, "gemm 64", "pytorch")).toBe(true);
    expect(matchesOnly("GEMM", "gemm 64", "pytorch")).toBe(true);
    expect(matchesOnly("torch", "gemm 64", "pytorch")).toBe(true);
    expect(matchesOnly("softmax", "gemm 64", "pytorch")).toBe(false);
  });
  it("plans every engine workload, fewer with --quick, and keeps the reference of a filtered workload", () => {
    const all = engineSpecs(false, () => true);
    expect(all.filter((s) => s.kind === "gemm").map((s) => s.w.params["n"])).toEqual([64, 128, 256, 512, 1024, 2048]);
    expect(all.filter((s) => s.kind === "elementwise")).toHaveLength(8);
    expect(all.filter((s) => s.kind === "overhead")).toHaveLength(2);
    expect(all.find((s) => s.kind === "optimizer")?.contenders).toEqual(["pytorch", "engram-native", "engram-ts"]);
    expect(engineSpecs(true, () => true).length).toBeLessThan(all.length);
    const torchOnly = engineSpecs(false, (w, c) => matchesOnly("pytorch", w, c));
    expect(torchOnly.find((s) => s.kind === "gemm")?.contenders).toEqual(["openblas-c", "pytorch"]);
    expect(engineSpecs(false, (w, c) => matchesOnly("nothing-matches", w, c))).toEqual([]);
  });
  it("sets targets only where the issue asks for them", () => {
    const specs = engineSpecs(false, () => true);
    expect(specs.find((s) => s.w.name.startsWith("gemm 256"))?.w.targets).toBeUndefined();
    expect(specs.find((s) => s.w.name.startsWith("gemm 512"))?.w.targets?.["engram-native-openblas"]).toEqual({ minRatio: 0.9 });
    expect(specs.find((s) => s.w.name.startsWith("add 1e6"))?.w.targets?.["engram-native"]).toEqual({ minRatio: 0.5 });
  });
  it("finds the JSON line of a peer's output", () => {
    expect(lastJsonLine('progress\n{"a":1}\n{"b":2}\n')).toEqual({ b: 2 });
    expect(lastJsonLine("{not json\n")).toBeUndefined();
  });
  it("passes the harness timing to the C peer", () => {
    expect(timingArgs(QUICK_TIMING)).toEqual([
      "--warmup-ms",
      "20",
      "--target-ms",
      "10",
      "--repeats",
      "3",
      "--min-repeats",
      "2",
      "--max-iterations",
      "100000",
      "--budget-ms",
      "300",
    ]);
  });
  it("explains the usual compile failures", () => {
    expect(explainCompileError("x.c:1:10: fatal error: cblas.h: No such file or directory")).toMatch(/headers missing/);
    expect(explainCompileError("/usr/bin/ld: cannot find -lopenblas")).toMatch(/library missing/);
  });
  it("spot-checks results so a wrong kernel is flagged", () => {
    const n = 4;
    const a = Float32Array.from({ length: n * n }, (_, i) => i % 5);
    const b = Float32Array.from({ length: n * n }, (_, i) => (i % 3) - 1);
    const c = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) c[i * n + j]! += a[i * n + k]! * b[k * n + j]!;
    expect(gemmSampleError(a, b, c, n)).toBe(0);
    expect(gemmSampleError(a, b, new Float32Array(n * n).fill(1), n)).toBeGreaterThan(0.1);
    const x = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i));
    const sm = new Float32Array(2000);
    for (let r = 0; r < 2; r++) {
      const row = x.subarray(r * 1000, r * 1000 + 1000);
      const max = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
      for (let k = 0; k < 1000; k++) sm[r * 1000 + k] = Math.exp(row[k]! - max) / sum;
    }
    expect(elementwiseSampleError("softmax", x, x, sm, 2000)).toBeLessThan(1e-5);
    expect(elementwiseSampleError("exp", x, x, x, 2000)).toBeGreaterThan(0.1);
    const lr = 1e-3;
    const grad = x.map((_, i) => Math.cos(i));
    const stepped = x.map((v, i) => v - lr * Math.sign(grad[i]!));
    expect(adamFirstStepError(x, grad, stepped, 2000, lr)).toBeLessThan(1e-3);
    expect(adamFirstStepError(x, grad, x, 2000, lr)).toBeGreaterThan(0.5);
  });
});
