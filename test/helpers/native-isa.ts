// Settings of the native addon the kernel tests vary: the SIMD instruction sets this CPU can run (a
// describe block per set, switching the addon to it and back, so every variant is compared with ts)
// and the thread count (a kernel must give the same bits on 1 thread and on several).
import { afterAll, beforeAll, describe, expect } from "vitest";
import type { NativeAddon, NativeIsa } from "../../src/backend/native/binding.js";

export function supportedIsas(addon: NativeAddon | undefined): NativeIsa[] {
  if (!addon) return [];
  const cpu = addon.info().cpu;
  const out: NativeIsa[] = ["scalar"];
  if (cpu.avx2 && cpu.fma) out.push("avx2");
  if (cpu.avx512f && cpu.avx2 && cpu.fma) out.push("avx512");
  return out;
}

/**
 * `run()` on 1 thread and on max(2, the addon's threads), the thread count restored afterwards even
 * if it throws: [one thread's result, several threads' result].
 */
export function onOneAndSeveralThreads<T>(addon: NativeAddon, run: () => T): [T, T] {
  const threads = addon.info().threads;
  try {
    addon.setThreads(1);
    const one = run();
    addon.setThreads(Math.max(2, threads));
    return [one, run()];
  } finally {
    addon.setThreads(threads);
  }
}

/** `describe("isa <name>")` for every supported instruction set, with the addon switched to it meanwhile. */
export function describeEachIsa(addon: NativeAddon | undefined, body: (isa: NativeIsa) => void): void {
  for (const isa of supportedIsas(addon)) {
    describe(`isa ${isa}`, () => {
      let previous: NativeIsa = "scalar";
      beforeAll(() => {
        previous = addon!.info().gemmKernel;
        expect(addon!.setIsa(isa)).toBe(isa);
      });
      afterAll(() => {
        addon!.setIsa(previous);
      });
      body(isa);
    });
  }
}
