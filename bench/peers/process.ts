/**
 * Runs a peer program and reads the JSON it prints. Peers inherit this process's environment
 * unchanged (OPENBLAS_* included), so they run under the same conditions as the in-process
 * contenders. Failures of any kind come back as a reason string, never as an exception.
 */
import { spawn } from "node:child_process";

export type PeerResult<T> = { ok: true; value: T; stderr: string } | { ok: false; reason: string };

export interface RunOptions {
  timeoutMs: number;
  /** Written to the child's stdin (then closed). */
  input?: string;
  cwd?: string;
}

/** The last line of the output that parses as a JSON object (peers may print progress before it). */
export function lastJsonLine(stdout: string): unknown {
  const lines = stdout.split("\n").map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line) as unknown;
    } catch {
      // Not JSON after all; keep looking further up.
    }
  }
  return undefined;
}

function tail(text: string, lines = 3): string {
  return text.trim().split("\n").slice(-lines).join(" | ");
}

export function runProcess(cmd: string, args: readonly string[], opts: RunOptions): Promise<PeerResult<{ stdout: string; code: number }>> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const child = spawn(cmd, args, { env: process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: err.code === "ENOENT" ? `${cmd} not found` : `${cmd}: ${err.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ ok: false, reason: `${cmd} timed out after ${Math.round(opts.timeoutMs / 1000)} s` });
      else if (signal) resolve({ ok: false, reason: `${cmd} killed by ${signal}${stderr ? `: ${tail(stderr)}` : ""}` });
      else resolve({ ok: true, value: { stdout, code: code ?? 0 }, stderr });
    });
    // A child that exits before reading its stdin would otherwise raise EPIPE here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs a peer that prints one JSON object; a non-zero exit or missing JSON is a failure. */
export async function runJsonPeer<T>(cmd: string, args: readonly string[], opts: RunOptions): Promise<PeerResult<T>> {
  const res = await runProcess(cmd, args, opts);
  if (!res.ok) return res;
  const parsed = lastJsonLine(res.value.stdout);
  if (res.value.code !== 0 && parsed === undefined) {
    return { ok: false, reason: `${cmd} exited with code ${res.value.code}${res.stderr ? `: ${tail(res.stderr)}` : ""}` };
  }
  if (parsed === undefined) return { ok: false, reason: `${cmd} printed no JSON${res.stderr ? `: ${tail(res.stderr)}` : ""}` };
  return { ok: true, value: parsed as T, stderr: res.stderr };
}
