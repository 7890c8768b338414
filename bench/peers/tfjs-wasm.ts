/**
 * TF.js with the wasm backend, in this process. The .wasm binaries are loaded from the local
 * node_modules/@tensorflow/tfjs-backend-wasm/dist/ folder (no network). The multithreaded SIMD
 * variant is tried first; TF.js disables it in Node (tfjs#3830: its pthread workers are created
 * from blob: URLs, which Node's Worker rejects), so it is forced on, and when it fails the SIMD
 * (then plain) single-threaded variant runs. Which one ran is reported.
 */
import { createRequire } from "node:module";
import path from "node:path";

export type Tf = typeof import("@tensorflow/tfjs-core");

export interface TfjsWasm {
  tf: Tf;
  variant: "threaded-simd" | "simd" | "plain";
  threads: number;
  version: string;
  /** Why the threaded variant did not run, when it did not. */
  threadedError?: string;
}

/** Runs `fn` with console.warn/error/log captured (TF.js prints banners and init failures). */
async function captureConsole<T>(fn: () => Promise<T>): Promise<{ value: T; output: string[] }> {
  const output: string[] = [];
  const saved = { warn: console.warn, error: console.error, log: console.log };
  const capture = (...args: unknown[]): void => {
    output.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
  };
  console.warn = capture;
  console.error = capture;
  console.log = capture;
  try {
    return { value: await fn(), output };
  } finally {
    Object.assign(console, saved);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function loadTfjsWasm(): Promise<{ ok: true; value: TfjsWasm } | { ok: false; reason: string }> {
  let tf: Tf;
  let wasm: typeof import("@tensorflow/tfjs-backend-wasm");
  let distDir: string;
  try {
    tf = await import("@tensorflow/tfjs-core");
    wasm = await import("@tensorflow/tfjs-backend-wasm");
    const require = createRequire(import.meta.url);
    distDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm")) + path.sep;
  } catch (err) {
    return { ok: false, reason: `TF.js wasm not installed (${err instanceof Error ? err.message.split("\n")[0] : String(err)})` };
  }
  wasm.setWasmPaths(distDir);

  const attempt = async (threaded: boolean): Promise<{ ok: boolean; output: string[] }> => {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", threaded);
    try {
      const { value, output } = await captureConsole(() => withTimeout(tf.setBackend("wasm"), 60_000, "TF.js wasm initialisation"));
      return { ok: value && tf.getBackend() === "wasm", output };
    } catch (err) {
      return { ok: false, output: [err instanceof Error ? err.message : String(err)] };
    }
  };

  const threaded = await attempt(true);
  let threadedError: string | undefined;
  if (!threaded.ok) {
    const line = threaded.output.find((l) => /Error|failed/i.test(l) && !/Initialization of backend/.test(l)) ?? threaded.output[0];
    threadedError = line?.split("\n")[0]?.trim() ?? "initialisation failed";
    const single = await attempt(false);
    if (!single.ok)
      return { ok: false, reason: `TF.js wasm backend failed to initialise: ${single.output.join(" | ") || "unknown error"}` };
  }
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  const result: TfjsWasm = {
    tf,
    variant: threaded.ok ? "threaded-simd" : simd ? "simd" : "plain",
    threads: threaded.ok ? wasm.getThreadsCount() : 1,
    version: wasm.version_wasm,
  };
  if (threadedError !== undefined) result.threadedError = threadedError;
  return { ok: true, value: result };
}
