#!/usr/bin/env node
// The whole test suite, once per backend configuration:
//   native  (GEMM through OpenBLAS when the build linked it)
//   native  with the built-in GEMM kernel (ENGRAM_GEMM=builtin)
//   ts      (the portable reference kernels)
// Tests that do not depend on the active backend (the kernel-level native == ts suite, the benchmark
// harness) run in the first pass only. Ends with one `N passed, N failed` line over all passes.
// Extra arguments are passed to vitest (e.g. a file filter).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BACKEND_INDEPENDENT = ["test/backend/**", "test/bench/**"];

// The native default GEMM is the built-in kernel where OpenBLAS would run pre-AVX2 code, so the
// OpenBLAS pass forces it. Without a linked OpenBLAS that pass cannot run: a failure in CI (which
// installs it), a loud skip elsewhere.
let blas = "none";
const status = new URL("../build/engram-native.json", import.meta.url);
if (existsSync(status)) blas = JSON.parse(readFileSync(status, "utf8")).blas ?? "none";
const openblas = blas === "openblas";
const passes = [
  { name: "native+openblas", env: { ENGRAM_BACKEND: "native", ENGRAM_GEMM: "openblas" }, exclude: [], skip: !openblas },
  { name: "native+builtin-gemm", env: { ENGRAM_BACKEND: "native", ENGRAM_GEMM: "builtin" }, exclude: BACKEND_INDEPENDENT },
  { name: "ts", env: { ENGRAM_BACKEND: "ts" }, exclude: BACKEND_INDEPENDENT },
];

const extra = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "engram-test-"));
let passed = 0;
let failed = 0;
const summary = [];
for (const pass of passes) {
  if (pass.skip && process.env.CI !== "true") {
    console.log(`\n=== ${pass.name}: SKIPPED (the native addon is not linked with OpenBLAS; see \`npx engram doctor\`) ===`);
    summary.push(`${pass.name}: skipped`);
    continue;
  }
  if (pass.skip) {
    console.log(`\n=== ${pass.name}: FAILED (CI expects the native addon linked with OpenBLAS; build status: ${blas}) ===`);
    failed += 1;
    summary.push(`${pass.name}: failed (no OpenBLAS)`);
    continue;
  }
  const out = join(dir, `${pass.name}.json`);
  const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...extra];
  for (const e of pass.exclude) args.push("--exclude", e);
  console.log(`\n=== ${pass.name} ===`);
  const r = spawnSync("npx", args, { stdio: "inherit", env: { ...process.env, ...pass.env } });
  let p = 0;
  let f = 0;
  try {
    const res = JSON.parse(readFileSync(out, "utf8"));
    p = res.numPassedTests;
    // a file that fails to load counts as a failed suite with no failed test in it
    f = res.numFailedTests || (res.numFailedTestSuites ?? 0);
  } catch {
    f = 1; // vitest died before writing results
  }
  if (r.status !== 0 && f === 0) f = 1; // a failure vitest did not count as a test (e.g. a broken config)
  passed += p;
  failed += f;
  summary.push(`${pass.name}: ${p} passed, ${f} failed`);
}
rmSync(dir, { recursive: true, force: true });
console.log("\n" + summary.join("\n"));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
