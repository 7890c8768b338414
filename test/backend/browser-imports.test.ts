// The browser entry must not pull in Node-only modules: walk its static import graph.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

function importGraph(entry: string): { files: Set<string>; external: Map<string, string> } {
  const files = new Set<string>();
  const external = new Map<string, string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, "utf8");
    // static imports and re-exports, including `import type` (harmless but followed for simplicity)
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith(".")) stack.push(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      else external.set(spec, file);
    }
  }
  return { files, external };
}

it("src/browser.ts reaches no Node-only import", () => {
  const { files, external } = importGraph(join(src, "browser.ts"));
  expect(files.size).toBeGreaterThan(10);
  // registry packages allowed on the browser path: pure JavaScript, no Node built-ins
  const browserSafe = new Set(["fast-png"]);
  expect([...external.keys()].filter((spec) => !browserSafe.has(spec))).toEqual([]);
  expect([...files].some((f) => f.includes(`${join("backend", "native")}`))).toBe(false);
});
