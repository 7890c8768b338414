// Atomic checkpoint writes: a process killed with SIGKILL at random moments while saving in a tight
// loop never leaves a broken checkpoint, only the previous or the new complete version (and stray
// temp files, which are never taken for the checkpoint).
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as eg from "../../src/index.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { tempDir } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const SCRIPT = join(import.meta.dirname, "save-loop.ts");

/**
 * Starts the saving loop in `dir` and SIGKILLs it `delayMs` after it printed "ready" (or, with
 * `afterSave`, after its first completed save). Resolves once the child is gone.
 */
function killRound(dir: string, delayMs: number, afterSave: boolean): Promise<{ saves: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.includes(afterSave ? "saved\n" : "ready\n")) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`save-loop exited with ${code ?? signal}: ${err}`));
      else resolve({ saves: out.split("\n").filter((l) => l === "saved").length });
    });
  });
}

describe("atomic checkpoint save", () => {
  it("survives 15 kill -9 rounds: the checkpoint is always absent (before any save) or complete", { timeout: 60_000 }, async () => {
    const dir = tempDir("kill-");
    const path = join(dir, "checkpoint.safetensors");
    const g = new eg.Generator(2024);
    let everSaved = false;
    const seen = new Set<number>();
    for (let round = 0; round < 15; round++) {
      // even rounds may die before the first save; odd ones die while overwriting a complete file
      const { saves } = await killRound(dir, 5 + g.randint(0, 56), round % 2 === 1);
      everSaved ||= saves > 0;
      // temp files are hidden and end in .tmp; the only other name is the checkpoint itself
      const visible = readdirSync(dir).filter((n) => !(n.startsWith(".") && n.endsWith(".tmp")));
      expect(visible.every((n) => n === "checkpoint.safetensors")).toBe(true);
      if (visible.length === 0) {
        expect(everSaved).toBe(false); // once written, a checkpoint never disappears
        await expect(loadCheckpoint(path)).rejects.toThrow(/cannot read/);
        continue;
      }
      everSaved = true;
      const ck = await loadCheckpoint(path);
      const step = ck.meta.step;
      expect([1, 2]).toContain(step);
      seen.add(step);
      const w = ck.model.get("w")!.data;
      expect(w.length).toBe(1 << 20);
      expect(w.every((v) => v === step)).toBe(true);
      expect(Array.from(ck.model.get("b")!.data)).toEqual([step, step]);
    }
    expect(everSaved).toBe(true);
    expect(seen.size).toBeGreaterThan(0);
  });
});
