/**
 * The Module contract. A module is a plain object whose own enumerable fields hold its parameters
 * (tensors marked by `param()`, or any leaf tensor that requires grad), its child modules, and
 * arrays or Maps of either. Keys are dotted field paths (`layers.0.attn.qProj.weight`), in field
 * declaration order, so they are stable across runs and match PyTorch's registration order when
 * fields are declared in the same order. Buffers (state that is saved but not trained) are
 * registered explicitly with `registerBuffer`.
 */
import { Tensor } from "../autograd/tensor.js";
import type { DType } from "../core/dtype.js";
import { ArgumentError, CheckpointError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";

const parameterSet = new WeakSet<Tensor>();

/**
 * Marks a float tensor as a trainable parameter (sets requiresGrad) and returns it. A parameter
 * frozen later with `requiresGrad = false` stays a parameter: it keeps its state-dict key.
 */
export function param(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new ArgumentError("param: expected a Tensor");
  if (!t.isLeaf)
    throw new ArgumentError(`param: tensor of shape ${fmtShape(t.shape)} is the output of an op; pass a leaf (e.g. x.detach())`);
  t.requiresGrad = true;
  parameterSet.add(t);
  return t;
}

export function isParameter(x: unknown): x is Tensor {
  return x instanceof Tensor && x.isLeaf && (parameterSet.has(x) || x.requiresGrad);
}

export type StateDict = Map<string, Tensor>;

export interface LoadStateDictOptions {
  /** Throw a CheckpointError when keys are missing or unexpected (default true). */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export interface ParameterFloatOptions {
  /** Parameter dtype (float64 is for gradient checks). Default float32. */
  dtype?: "float32" | "float64";
}

/** A module whose forward maps one tensor to one tensor (what Sequential chains). */
export interface TensorToTensor {
  forward(x: Tensor): Tensor;
}

interface BufferEntry {
  tensor: Tensor;
  persistent: boolean;
}

/** One parameter or buffer as reached through one path (a tied tensor is reached more than once). */
interface StateEntry {
  name: string;
  tensor: Tensor;
}

export abstract class Module {
  /** Dropout and similar layers behave differently in training; switch with train() / eval(). */
  training = true;
  // An ES private field is not an own enumerable property, so the field walk never sees it.
  readonly #buffers = new Map<string, BufferEntry>();

  abstract forward(...args: never[]): unknown;

  /**
   * Registers (or replaces) a buffer saved in the state dict under this module's prefix. Buffers
   * are not parameters: optimizers never see them. Non-persistent buffers are left out of the state
   * dict. Returns the tensor so it can also be kept in a field.
   */
  registerBuffer(name: string, tensor: Tensor, opts: { persistent?: boolean } = {}): Tensor {
    if (typeof name !== "string" || name === "" || name.includes(".")) {
      throw new ArgumentError(`registerBuffer: name must be a non-empty string without dots, got ${JSON.stringify(name)}`);
    }
    if (!(tensor instanceof Tensor)) throw new ArgumentError(`registerBuffer: buffer ${JSON.stringify(name)} must be a Tensor`);
    if (Object.prototype.hasOwnProperty.call(this, name) && isParameter((this as unknown as Record<string, unknown>)[name])) {
      throw new ArgumentError(`registerBuffer: ${JSON.stringify(name)} is already a parameter of ${this.constructor.name}`);
    }
    this.#buffers.set(name, { tensor, persistent: opts.persistent ?? true });
    return tensor;
  }

  /** Immediate child modules with their field paths (a module held twice is listed once). */
  *namedChildren(): Generator<[string, Module]> {
    const seen = new Set<Module>();
    for (const [name, value] of ownMembers(this)) {
      if (value instanceof Module && !seen.has(value)) {
        seen.add(value);
        yield [name, value];
      }
    }
  }

  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module (named "") and every descendant, depth first, each listed once. */
  *namedModules(prefix = ""): Generator<[string, Module]> {
    const seen = new Set<Module>();
    const stack: [string, Module][] = [[prefix, this]];
    while (stack.length > 0) {
      const [name, m] = stack.pop()!;
      if (seen.has(m)) continue;
      seen.add(m);
      yield [name, m];
      const kids = [...m.namedChildren()].reverse();
      for (const [child, sub] of kids) stack.push([joinKey(name, child), sub]);
    }
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Parameters with dotted keys; a tied parameter is listed once, under the first path that reaches it. */
  namedParameters(): [string, Tensor][] {
    return dedupe(collect(this, "params")).map((e) => [e.name, e.tensor]);
  }

  parameters(): Tensor[] {
    return dedupe(collect(this, "params")).map((e) => e.tensor);
  }

  namedBuffers(): [string, Tensor][] {
    return dedupe(collect(this, "buffers")).map((e) => [e.name, e.tensor]);
  }

  buffers(): Tensor[] {
    return dedupe(collect(this, "buffers")).map((e) => e.tensor);
  }

  /**
   * Parameters then persistent buffers, each listed once, as detached tensors that share storage
   * with the module (writing into them writes into the module; copy them to snapshot).
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const e of dedupe(collect(this, "state"))) {
      out.set(e.name, new Tensor(e.tensor.data, e.tensor.shape, e.tensor.dtype));
    }
    return out;
  }

  /**
   * Copies values into the existing parameters and buffers (their identity is kept, so optimizer
   * references stay valid). Every key is checked before anything is written: a shape or dtype
   * mismatch throws (always), and with `strict` (the default) so do missing or unexpected keys. A
   * tied parameter may be supplied under any of its paths.
   */
  loadStateDict(sd: StateDict | Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const entries: [string, unknown][] = sd instanceof Map ? [...sd.entries()] : Object.entries(sd as object);
    const targets = collect(this, "state");
    const byName = new Map(targets.map((e) => [e.name, e.tensor]));
    const unexpectedKeys: string[] = [];
    const loaded = new Set<Tensor>();
    const writes: [Tensor, Tensor][] = [];
    for (const [key, value] of entries) {
      const target = byName.get(key);
      if (target === undefined) {
        unexpectedKeys.push(key);
        continue;
      }
      if (!(value instanceof Tensor)) throw new ArgumentError(`loadStateDict: value for ${JSON.stringify(key)} must be a Tensor`);
      if (!shapesEqual(value.shape, target.shape)) {
        throw new ShapeError(
          `loadStateDict: shape mismatch for ${JSON.stringify(key)}: checkpoint has ${fmtShape(value.shape)}, module has ${fmtShape(target.shape)}`,
        );
      }
      if (value.dtype !== target.dtype) {
        throw new DTypeError(
          `loadStateDict: dtype mismatch for ${JSON.stringify(key)}: checkpoint has ${value.dtype}, module has ${target.dtype} (shape ${fmtShape(target.shape)})`,
        );
      }
      value.assertAlive("loadStateDict");
      loaded.add(target);
      writes.push([target, value]);
    }
    const missingKeys = dedupe(targets)
      .filter((e) => !loaded.has(e.tensor))
      .map((e) => e.name);
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts: string[] = [];
      if (missingKeys.length > 0) parts.push(`missing keys: ${missingKeys.join(", ")}`);
      if (unexpectedKeys.length > 0) parts.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
      throw new CheckpointError(`loadStateDict: state dict does not match ${this.constructor.name} (${parts.join("; ")})`);
    }
    for (const [target, value] of writes) if (target.data !== value.data) target.data.set(value.data);
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (set to null, so the next backward allocates fresh ones). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every descendant and then on this module (children before parents, like PyTorch). */
  apply(fn: (m: Module) => void): this {
    const order = [...this.modules()].reverse();
    for (const m of order) fn(m);
    return this;
  }

  /** Number of parameter elements, tied parameters counted once. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  /**
   * A printable table: one row per module (indented by depth) with its type and the parameters in
   * its subtree, then the total. A tied parameter counts once in every sum.
   */
  summary(): string {
    const rows: [string, string, string][] = [["Module", "Type", "Params"]];
    // Rows are named relative to their parent module (`layers.0` under the root), indented by module depth.
    const seen = new Set<Module>();
    const visit = (m: Module, label: string, depth: number): void => {
      if (seen.has(m)) return;
      seen.add(m);
      rows.push([`${"  ".repeat(depth)}${label}`, m.constructor.name, fmtCount(m.numParameters())]);
      for (const [name, child] of m.namedChildren()) visit(child, name, depth + 1);
    };
    visit(this, "(root)", 0);
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: [string, string, string]): string =>
      `${r[0].padEnd(widths[0]!)}  ${r[1].padEnd(widths[1]!)}  ${r[2].padStart(widths[2]!)}`;
    const rule = "-".repeat(widths[0]! + widths[1]! + widths[2]! + 4);
    const total = this.numParameters();
    const trainable = this.numParameters({ trainableOnly: true });
    return [
      line(rows[0]!),
      rule,
      ...rows.slice(1).map(line),
      rule,
      `Total params: ${fmtCount(total)} (trainable: ${fmtCount(trainable)})`,
    ].join("\n");
  }

  /** Internal to the nn layer: this module's own registered buffers. */
  ownBuffers(): [string, Tensor, boolean][] {
    return [...this.#buffers].map(([name, b]) => [name, b.tensor, b.persistent]);
  }
}

function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

function joinKey(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

/**
 * The module's own members that can hold state, flattened out of arrays and Maps (nested
 * containers give nested keys: `blocks.0.1`). Other values (numbers, strings, plain objects) are
 * configuration and are skipped.
 */
function* ownMembers(m: Module): Generator<[string, Module | Tensor]> {
  for (const key of Object.keys(m)) yield* containerMembers(key, (m as unknown as Record<string, unknown>)[key]);
}

function* containerMembers(key: string, value: unknown): Generator<[string, Module | Tensor]> {
  if (value instanceof Module || value instanceof Tensor) {
    yield [key, value];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* containerMembers(joinKey(key, String(i)), value[i]);
  } else if (value instanceof Map) {
    for (const [k, v] of value as Map<unknown, unknown>) yield* containerMembers(joinKey(key, String(k)), v);
  }
}

type Kind = "params" | "buffers" | "persistent" | "state";

/**
 * Every (path, tensor) pair of the requested kind ("state" = parameters and persistent buffers),
 * module by module in pre-order with each module's parameters before its buffers, as PyTorch
 * orders a state dict. Tied tensors and shared submodules appear once per path. A module that
 * contains itself (directly or through descendants) is not entered twice on one path, so cycles
 * terminate.
 */
function collect(root: Module, kind: Kind): StateEntry[] {
  const out: StateEntry[] = [];
  const wantParams = kind === "params" || kind === "state";
  const visit = (m: Module, prefix: string, ancestors: Set<Module>): void => {
    ancestors.add(m);
    const members = [...ownMembers(m)];
    if (wantParams) {
      for (const [name, value] of members)
        if (value instanceof Tensor && isParameter(value)) out.push({ name: joinKey(prefix, name), tensor: value });
    }
    if (kind !== "params") {
      for (const [name, t, persistent] of m.ownBuffers())
        if (kind === "buffers" || persistent) out.push({ name: joinKey(prefix, name), tensor: t });
    }
    for (const [name, value] of members) {
      if (value instanceof Module && !ancestors.has(value)) visit(value, joinKey(prefix, name), ancestors);
    }
    ancestors.delete(m);
  };
  visit(root, "", new Set());
  return out;
}

function dedupe(entries: readonly StateEntry[]): StateEntry[] {
  const seen = new Set<Tensor>();
  return entries.filter((e) => {
    if (seen.has(e.tensor)) return false;
    seen.add(e.tensor);
    return true;
  });
}

/** The float dtype an nn constructor was asked for, validated. */
export function floatDType(op: string, dtype: DType | undefined): "float32" | "float64" {
  const d = dtype ?? "float32";
  if (d !== "float32" && d !== "float64") throw new DTypeError(`${op}: parameters must be float32 or float64, got ${String(d)}`);
  return d;
}
