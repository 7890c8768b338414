/**
 * Backend selection. `K` is the active kernel table (a live binding read on every op); the ts
 * kernels are always there, and a native table registered by the Node entry point overrides them
 * kernel by kernel. This file has no Node-only imports, so it bundles for browsers.
 */
import { BackendError } from "../core/errors.js";
import type { Kernels } from "./kernels.js";
import { tsKernels } from "./ts/kernels.js";

export type BackendName = "native" | "ts";

export interface NativeInfo {
  blas: string;
  openblas: boolean;
  openblasVersion?: string;
  gemmKernel: string;
  threads: number;
  cpu: Record<string, boolean>;
}

export interface BackendInfo {
  backend: BackendName;
  nativeAvailable: boolean;
  /** Why the native backend is unavailable, when it is. */
  nativeError?: string;
  native?: NativeInfo;
}

interface NativeRegistration {
  kernels?: Kernels;
  info?: () => NativeInfo;
  error?: string;
  setGemm?: (name: "openblas" | "builtin") => void;
  setThreads?: (n: number) => void;
}

export let K: Kernels = tsKernels;
let current: BackendName = "ts";
let native: NativeRegistration = { error: "the native backend is only available in Node.js" };

/** Called once by the Node entry point with the result of loading the addon. */
export function registerNative(reg: NativeRegistration): void {
  native = reg;
}

export function setBackend(name: BackendName): void {
  if (name === "ts") {
    K = tsKernels;
  } else if (name === "native") {
    if (!native.kernels) throw new BackendError(`setBackend: native backend unavailable: ${native.error ?? "not registered"}`);
    K = native.kernels;
  } else {
    throw new BackendError(`setBackend: unknown backend ${JSON.stringify(name)} (expected "native" or "ts")`);
  }
  current = name;
}

export function getBackend(): BackendName {
  return current;
}

export function backendInfo(): BackendInfo {
  const info: BackendInfo = { backend: current, nativeAvailable: native.kernels !== undefined };
  if (native.error) info.nativeError = native.error;
  if (native.info) info.native = native.info();
  return info;
}

/** Switches the native GEMM between OpenBLAS and the built-in kernel (tests and benchmarks). */
export function setNativeGemm(name: "openblas" | "builtin"): void {
  if (!native.setGemm) throw new BackendError(`setNativeGemm: native backend unavailable: ${native.error ?? "not registered"}`);
  native.setGemm(name);
}

export function setNativeThreads(n: number): void {
  if (!native.setThreads) throw new BackendError(`setNativeThreads: native backend unavailable: ${native.error ?? "not registered"}`);
  native.setThreads(n);
}
