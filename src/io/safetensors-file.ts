/**
 * Node-only file helpers: safetensors to and from disk, and the atomic write that checkpoints use
 * so a crash mid-write never leaves a truncated file under the final name.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Tensor } from "../autograd/tensor.js";
import { CheckpointError, EngramError } from "../core/errors.js";
import { decode, encode, type SafetensorsContent } from "./safetensors.js";

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes `data` to `path` atomically: a temp file in the same directory is written and fsynced,
 * renamed over `path`, and the directory is fsynced so the rename itself survives a power loss.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, "wx", 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    await syncDir(dir);
  } catch (e) {
    if (!renamed) await unlink(tmp).catch(() => undefined);
    throw new CheckpointError(`writeFileAtomic: cannot write ${path}: ${reason(e)}`);
  }
}

async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its rename is durable enough on NTFS.
  if (process.platform === "win32") return;
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Encodes tensors (and string metadata) as safetensors and writes them atomically to `path`. */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encode(tensors, metadata));
}

/** Reads and decodes a safetensors file; any failure is a CheckpointError that names the file. */
export async function loadSafetensors(path: string): Promise<SafetensorsContent> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CheckpointError(`loadSafetensors: cannot read ${path}: ${reason(e)}`);
  }
  try {
    return decode(bytes);
  } catch (e) {
    if (e instanceof EngramError) throw new CheckpointError(`loadSafetensors: ${path}: ${e.message}`);
    throw e;
  }
}
