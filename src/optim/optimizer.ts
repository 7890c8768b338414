/**
 * The optimizer contract: parameter groups with their own hyperparameters, per-parameter state
 * (named buffers shaped like the parameter plus a step count), and a state dict that captures all
 * of it so a resumed run continues bit for bit.
 *
 * Updates are fused single-pass kernels over the parameter's typed array (K.sgdUpdate,
 * K.adamUpdate, ...), written in place. They touch no ops, so nothing is recorded on the autograd
 * tape (the same effect as running under noGrad). The arithmetic follows PyTorch's order of
 * operations; intermediates are doubles and every state buffer and the parameter round to their
 * dtype once per step, which keeps float32 results within a few ulps of PyTorch.
 */
import { Tensor } from "../autograd/tensor.js";
import type { FloatArray, TypedArray } from "../backend/kernels.js";
import { allocate, isFloat } from "../core/dtype.js";
import { ArgumentError, CheckpointError, DTypeError, fmtShape, ShapeError } from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";

export type HyperValue = number | boolean | readonly number[];

/**
 * Hyperparameters of one group: every optimizer has at least a learning rate, and all values are
 * HyperValues. `Optimizer` (that is, `Optimizer<Hyper>`) accepts any optimizer.
 */
export type Hyper = { lr: number };

export type ParamGroup<H extends Hyper> = H & { params: Tensor[] };

/** A group as passed to a constructor: parameters plus overrides of the optimizer's defaults. */
export type ParamGroupInput<H extends Hyper> = Partial<H> & { params: readonly Tensor[] };

export type ParamsInput<H extends Hyper> = readonly Tensor[] | readonly ParamGroupInput<H>[];

/** Mutable per-parameter state. */
export interface ParamState {
  step: number;
  buffers: Map<string, FloatArray>;
}

export interface ParamStateDict {
  step: number;
  buffers: Record<string, Tensor>;
}

/**
 * Parameters are numbered in group order, as in PyTorch; `state` is keyed by that number and holds
 * only parameters that have been stepped. Tensors are copies, so later steps do not change a dict.
 */
export interface OptimizerStateDict {
  state: Record<string, ParamStateDict>;
  paramGroups: ParamGroupStateDict[];
}

/** A group's hyperparameters by name, plus the indices of its parameters. */
export interface ParamGroupStateDict {
  [hyper: string]: HyperValue;
  params: number[];
}

function copyHyper(v: HyperValue): HyperValue {
  return typeof v === "object" ? [...v] : v;
}

function sameKind(a: HyperValue, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && b.length === a.length && b.every((x) => typeof x === "number");
  return typeof a === typeof b;
}

/** Argument check shared by the optimizers and schedules: a finite number within bounds. */
export function checkNumber(
  op: string,
  what: string,
  v: unknown,
  opts: { min?: number; max?: number; below?: number; integer?: boolean } = {},
): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ArgumentError(`${op}: ${what} must be a finite number, got ${String(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw new ArgumentError(`${op}: ${what} must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new ArgumentError(`${op}: ${what} must be >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new ArgumentError(`${op}: ${what} must be <= ${opts.max}, got ${v}`);
  if (opts.below !== undefined && v >= opts.below) throw new ArgumentError(`${op}: ${what} must be < ${opts.below}, got ${v}`);
  return v;
}

export function checkBoolean(op: string, what: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new ArgumentError(`${op}: ${what} must be a boolean, got ${String(v)}`);
  return v;
}

/** Array.isArray narrows to any[]; this keeps the element type unknown. */
function isList(x: unknown): x is readonly unknown[] {
  return Array.isArray(x);
}

export abstract class Optimizer<H extends Hyper = Hyper> {
  readonly paramGroups: ParamGroup<H>[] = [];
  private state = new Map<Tensor, ParamState>();

  private readonly defaults: H;

  /**
   * @param name used in error messages ("Adam: lr must be >= 0, got -1")
   * @param defaults every hyperparameter's default; `options` overrides them for all groups
   * @param bufferNames every state buffer this optimizer may create; loadStateDict accepts no others
   */
  protected constructor(
    readonly name: string,
    params: ParamsInput<H>,
    defaults: H,
    options: Partial<H>,
    private readonly bufferNames: readonly string[],
  ) {
    if (typeof options !== "object" || options === null) throw new ArgumentError(`${name}: options must be an object`);
    this.defaults = this.withOverrides(name, defaults, options);
    this.validateGroup(this.defaults);
    if (!Array.isArray(params)) throw new ArgumentError(`${name}: params must be an array of Tensors or of parameter groups`);
    if (params.length === 0) throw new ArgumentError(`${name}: got an empty parameter list`);
    const groups = params.every((p) => p instanceof Tensor)
      ? [{ params: params as readonly Tensor[] }]
      : (params as readonly ParamGroupInput<H>[]);
    for (const g of groups) this.addParamGroup(g as ParamGroupInput<H>);
  }

  /** Checks a group's hyperparameters (throws ArgumentError naming the bad one). */
  protected abstract validateGroup(group: H): void;

  /**
   * Updates one parameter in place. `state.step` already counts this step. `grad` has the
   * parameter's size (its dtype may differ).
   */
  protected abstract update(param: FloatArray, grad: TypedArray, group: ParamGroup<H>, state: ParamState): void;

  addParamGroup(group: ParamGroupInput<H>): void {
    const op = `${this.name}.addParamGroup`;
    if (typeof group !== "object" || group === null || !isList(group.params)) {
      throw new ArgumentError(`${op}: a parameter group must be an object with a params array`);
    }
    const params: unknown[] = [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${op}: params must be Tensors, got ${typeof p}`);
      p.assertAlive(op);
      if (!isFloat(p.dtype))
        throw new DTypeError(`${op}: parameters must be float32 or float64, got ${p.dtype} of shape ${fmtShape(p.shape)}`);
      if (!p.isLeaf)
        throw new ArgumentError(
          `${op}: cannot optimize a non-leaf tensor of shape ${fmtShape(p.shape)} (it is the output of ${p.gradFn!.name})`,
        );
      if (seen.has(p)) throw new ArgumentError(`${op}: a parameter of shape ${fmtShape(p.shape)} appears more than once`);
      seen.add(p);
    }
    const { params: _, ...overrides } = group;
    const hyper = this.withOverrides(op, this.defaults, overrides as unknown as Partial<H>);
    this.validateGroup(hyper);
    this.paramGroups.push({ ...hyper, params: params as Tensor[] });
  }

  /** `base` with the defined entries of `overrides`; a key the optimizer does not know (a typo) is an error. */
  private withOverrides(op: string, base: H, overrides: Partial<H>): H {
    const out = { ...base };
    for (const [key, v] of Object.entries(overrides) as [keyof H & string, HyperValue | undefined][]) {
      if (!Object.hasOwn(base, key))
        throw new ArgumentError(`${op}: unknown option ${JSON.stringify(key)} (expected ${Object.keys(base).join(", ")})`);
      if (v !== undefined) out[key] = copyHyper(v) as H[typeof key];
    }
    return out;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const grad = p.grad;
        if (grad === null) continue;
        p.assertAlive(`${this.name}.step`);
        if (grad.size !== p.size) {
          throw new ShapeError(
            `${this.name}.step: gradient of shape ${fmtShape(grad.shape)} does not match parameter of shape ${fmtShape(p.shape)}`,
          );
        }
        let st = this.state.get(p);
        if (st === undefined) {
          st = { step: 0, buffers: new Map() };
          this.state.set(p, st);
        }
        st.step++;
        this.update(p.data as FloatArray, grad.data, group, st);
      }
    }
  }

  /** Drops every parameter's gradient (set to null: the next backward allocates a fresh one). */
  zeroGrad(): void {
    for (const group of this.paramGroups) for (const p of group.params) p.grad = null;
  }

  /** The named state buffer of a parameter, created filled with `init` on first use. */
  protected buffer(state: ParamState, name: string, like: FloatArray, init = 0): FloatArray {
    let b = state.buffers.get(name);
    if (b === undefined) {
      b = allocate(like instanceof Float64Array ? "float64" : "float32", like.length) as FloatArray;
      if (init !== 0) b.fill(init);
      state.buffers.set(name, b);
    }
    return b;
  }

  /** State buffers of `param`, or undefined before its first step (for inspection and tests). */
  getState(param: Tensor): { step: number; buffers: Record<string, Tensor> } | undefined {
    const st = this.state.get(param);
    return st && this.exportState(param, st);
  }

  private exportState(p: Tensor, st: ParamState): ParamStateDict {
    const buffers: Record<string, Tensor> = {};
    for (const [k, b] of st.buffers) buffers[k] = new Tensor(b.slice(), p.shape, p.dtype);
    return { step: st.step, buffers };
  }

  stateDict(): OptimizerStateDict {
    const state: Record<string, ParamStateDict> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const out: ParamGroupStateDict = { params: [] };
      for (const key of Object.keys(this.defaults) as (keyof H & string)[]) out[key] = copyHyper(g[key] as HyperValue);
      for (const p of g.params) {
        const st = this.state.get(p);
        if (st) state[String(index)] = this.exportState(p, st);
        out.params.push(index++);
      }
      return out;
    });
    return { state, paramGroups };
  }

  /**
   * Restores hyperparameters and state from `stateDict()` output. Everything is checked before
   * anything changes: a mismatched dict raises CheckpointError and leaves the optimizer as it was.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    const bad: (msg: string) => never = (msg) => {
      throw new CheckpointError(`${op}: ${msg}`);
    };
    if (typeof sd !== "object" || sd === null || !Array.isArray(sd.paramGroups) || typeof sd.state !== "object" || sd.state === null) {
      return bad("expected an object with state and paramGroups");
    }
    if (sd.paramGroups.length !== this.paramGroups.length)
      bad(`state dict has ${sd.paramGroups.length} parameter groups, optimizer has ${this.paramGroups.length}`);

    const params = this.paramGroups.flatMap((g) => g.params);
    const hypers: H[] = this.paramGroups.map((group, gi) => {
      const loaded = sd.paramGroups[gi]!;
      if (!Array.isArray(loaded.params) || loaded.params.length !== group.params.length) {
        bad(
          `group ${gi} has ${Array.isArray(loaded.params) ? loaded.params.length : "no"} parameters in the state dict, ${group.params.length} in the optimizer`,
        );
      }
      const hyper = { ...this.defaults };
      for (const key of Object.keys(this.defaults) as (keyof H & string)[]) {
        const v: unknown = loaded[key];
        if (!sameKind(this.defaults[key] as HyperValue, v))
          bad(`group ${gi}: ${key} is ${JSON.stringify(v)}, expected a value like ${JSON.stringify(this.defaults[key])}`);
        hyper[key] = copyHyper(v as HyperValue) as H[typeof key];
      }
      try {
        this.validateGroup(hyper);
      } catch (e) {
        bad(`group ${gi}: ${(e as Error).message}`);
      }
      return hyper;
    });

    const state = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= params.length)
        bad(`state key ${JSON.stringify(key)} is not a parameter index in [0, ${params.length})`);
      const p = params[index]!;
      if (typeof entry !== "object" || entry === null || typeof entry.buffers !== "object" || entry.buffers === null)
        bad(`state ${key} must hold step and buffers`);
      if (!Number.isSafeInteger(entry.step) || entry.step < 0)
        bad(`state ${key}: step must be a non-negative integer, got ${String(entry.step)}`);
      const buffers = new Map<string, FloatArray>();
      for (const [name, t] of Object.entries(entry.buffers)) {
        if (!this.bufferNames.includes(name))
          bad(`state ${key}: unknown buffer ${JSON.stringify(name)} (${this.name} keeps ${this.bufferNames.join(", ")})`);
        if (!(t instanceof Tensor)) return bad(`state ${key}.${name} is not a Tensor`);
        if (t.dtype !== p.dtype || !shapesEqual(t.shape, p.shape)) {
          bad(`state ${key}.${name} is ${t.dtype} ${fmtShape(t.shape)} but the parameter is ${p.dtype} ${fmtShape(p.shape)}`);
        }
        buffers.set(name, t.data.slice() as FloatArray);
      }
      state.set(p, { step: entry.step, buffers });
    }

    this.paramGroups.forEach((g, gi) => Object.assign(g, hypers[gi]));
    this.state = state;
  }
}
