/**
 * Loads the native addon (build/Release/engram_native.node). Node-only: browser code never imports
 * this file. Works from src/ (tests run the TypeScript directly) and from dist/ (compiled), by
 * walking up to the package root instead of assuming a depth.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NATIVE_ABI_VERSION, type NativeAddon } from "./binding.js";

export type NativeLoadResult = { addon: NativeAddon; error?: undefined } | { addon?: undefined; error: string };

/** The nearest ancestor directory holding the engram package.json, or null. */
export function findPackageRoot(start: string): string | null {
  let dir = start;
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "engram") return dir;
      } catch {
        // unreadable package.json: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Why the install-time build failed, from build/engram-native.json, if it says so. */
function buildFailure(root: string): string | null {
  try {
    const status = JSON.parse(readFileSync(join(root, "build", "engram-native.json"), "utf8")) as {
      ok?: unknown;
      reason?: unknown;
    };
    return status.ok === false && typeof status.reason === "string" ? status.reason : null;
  } catch {
    return null;
  }
}

let cached: NativeLoadResult | undefined;

export function loadNative(): NativeLoadResult {
  cached ??= load();
  return cached;
}

function load(): NativeLoadResult {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (!root) return { error: "cannot locate the engram package root (package.json) from the native loader" };
  const file = join(root, "build", "Release", "engram_native.node");
  if (!existsSync(file)) {
    const reason = buildFailure(root);
    return {
      error: reason
        ? `the native addon failed to build: ${reason}`
        : `the native addon is not built (${file} is missing); run \`npm run build:native\``,
    };
  }
  // OpenBLAS worker threads busy-wait ~0.1 s after each call by default, starving the native
  // pool's threads on the same cores; a short spin (2^18 cycles) before sleeping avoids that.
  // Read once when the library loads, so it must be set before the require below.
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "18";
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    if (addon.abiVersion !== NATIVE_ABI_VERSION) {
      return {
        error: `the native addon is stale (ABI ${String(addon.abiVersion)}, expected ${NATIVE_ABI_VERSION}); run \`npm run build:native\``,
      };
    }
    return { addon };
  } catch (err) {
    return { error: `the native addon failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
}
