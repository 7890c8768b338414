/**
 * Peak-memory probe for the attention suite's causal-inference workload, run by
 * bench/suites/attention.ts in a fresh child process (so the high-water mark is this workload's):
 *
 *   node --import tsx bench/attention-memory.ts '{"batch":1,"heads":8,"seq":4096,"head_dim":64,"backend":"native"}'
 *
 * Allocates q, k, v, runs one small call (code paths and thread scratch warmed), reads VmHWM, runs one causal
 * scaledDotProductAttention call and prints {"peak_delta_kb", "first_value"} as one JSON line.
 */
import { readFileSync } from "node:fs";

interface Request {
  batch: number;
  heads: number;
  seq: number;
  head_dim: number;
  backend: "native" | "ts";
}

function vmHwmKb(): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line === undefined ? -1 : Number(line.split(/\s+/)[1]);
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? "{}") as Request;
  const eg = await import("../src/index.js");
  const { scaledDotProductAttention } = await import("../src/attention/sdpa.js");
  eg.setBackend(req.backend);
  const gen = new eg.Generator(0);
  const shape = [req.batch, req.heads, req.seq, req.head_dim];
  const [q, k, v] = [0, 1, 2].map(() => eg.randn(shape, { generator: gen }));
  const small = eg.randn([1, 1, 64, req.head_dim], { generator: gen });
  eg.noGrad(() => scaledDotProductAttention(small, small, small, { isCausal: true }));
  const before = vmHwmKb();
  const out = eg.noGrad(() => scaledDotProductAttention(q!, k!, v!, { isCausal: true }).output);
  const peak = vmHwmKb();
  process.stdout.write(JSON.stringify({ peak_delta_kb: peak - before, first_value: eg.mean(out).item() }) + "\n");
}

await main();
