/**
 * Fuzzing the op surface: fuzz-worker.ts makes tens of thousands of random, mostly invalid calls in
 * a child process on the active backend (native on the native passes of the suite), so a crash or
 * a hang in the addon shows up as a signal, a non-zero exit or a timeout here instead of taking the
 * test runner down. Deterministic: the worker draws everything from the seed.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER = join("test", "fuzz", "fuzz-worker.ts");
const SEED = 20_240;
const CALLS = 20_000;

interface Summary {
  seed: number;
  hugeEmpty: boolean;
  backend: string;
  calls: number;
  ok: number;
  engramErrors: number;
  otherErrors: number;
  failuresByOp: Record<string, number>;
  failures: { call: number; op: string; error: string }[];
  digest: number;
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  summary: Summary | null;
}

const backend = eg.getBackend();

function fuzz(seed: number, calls: number, hugeEmpty = false): Run {
  const args = ["--import", "tsx", WORKER, String(seed), String(calls), ...(hugeEmpty ? ["huge-empty"] : [])];
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ENGRAM_BACKEND: backend },
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("FUZZ-SUMMARY "));
  return {
    status: r.status,
    signal: r.signal,
    stderr: r.stderr,
    summary: line ? (JSON.parse(line.slice("FUZZ-SUMMARY ".length)) as Summary) : null,
  };
}

/** What a failed assertion should show: how the child ended and the first errors of the wrong type. */
function report(run: Run): string {
  const s = run.summary;
  const failures = s ? s.failures.map((f) => `  call ${f.call} ${f.op}: ${f.error}`).join("\n") : "";
  return [
    `status ${run.status}, signal ${run.signal}`,
    s
      ? `calls ${s.calls}, ok ${s.ok}, EngramErrors ${s.engramErrors}, other errors ${s.otherErrors} ${JSON.stringify(s.failuresByOp)}`
      : "no summary",
    failures,
    run.stderr.slice(-2000),
  ].join("\n");
}

function expectSurvived(run: Run): Summary {
  expect(run.signal, report(run)).toBeNull();
  expect(run.status, report(run)).toBe(0);
  expect(run.summary, report(run)).not.toBeNull();
  return run.summary!;
}

describe(`fuzzing the op surface on the ${backend} backend`, () => {
  let main: Run;
  beforeAll(() => {
    main = fuzz(SEED, CALLS);
  });

  it(`survives ${CALLS} random calls: no crash, no hang, every call returns or throws`, () => {
    const s = expectSurvived(main);
    expect(s.backend).toBe(backend);
    expect(s.calls).toBeGreaterThanOrEqual(10_000);
    expect(s.ok + s.engramErrors + s.otherErrors).toBe(s.calls);
    // the mix is meaningful: plenty of calls get through to the kernels and plenty are rejected
    expect(s.ok, report(main)).toBeGreaterThan(s.calls * 0.2);
    expect(s.engramErrors, report(main)).toBeGreaterThan(s.calls * 0.2);
  });

  it("is deterministic for a seed", () => {
    const a = expectSurvived(fuzz(7, 1500));
    const b = expectSurvived(fuzz(7, 1500));
    expect(b).toEqual(a);
    expect(expectSurvived(fuzz(8, 1500)).digest).not.toBe(a.digest);
  });

  it("every thrown error is an EngramError", () => {
    const s = expectSurvived(main);
    expect(s.otherErrors, report(main)).toBe(0);
  });

  // zeros([0, 2 ** 40]) once passed the shape check (it holds no elements), and split(t, 1, 1) on it
  // then pushed 2**40 pieces until V8 aborted the process (seed 6 reached it within 20,000 calls)
  it("survives empty tensors with a 2**40 dimension, with EngramErrors only", () => {
    const run = fuzz(6, CALLS, true);
    const s = expectSurvived(run);
    expect(s.otherErrors, report(run)).toBe(0);
  });
});
