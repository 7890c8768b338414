/**
 * Reverse-mode autograd: grad mode, op recording and an iterative backward pass (no recursion, so
 * graphs hundreds of thousands of nodes deep, such as long unrolled NTMs, do not overflow the stack).
 */
import { ArgumentError, DTypeError, EngramError, fmtShape } from "../core/errors.js";
import { shapesEqual } from "../core/shape.js";
import { Tensor, type GradFn } from "./tensor.js";

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording on or off, restoring the previous mode even if fn throws. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn without recording any op (inference, evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(a: Tensor, b?: Tensor, c?: Tensor): boolean {
  return gradEnabled && (a.requiresGrad || (b !== undefined && b.requiresGrad) || (c !== undefined && c.requiresGrad));
}

export function needsGradAny(ts: readonly Tensor[]): boolean {
  return gradEnabled && ts.some((t) => t.requiresGrad);
}

/** Attaches a backward rule to `out` when any input requires grad. Returns `out`. */
export function record(
  name: string,
  out: Tensor,
  inputs: readonly Tensor[],
  backward: (grad: Tensor) => readonly (Tensor | null)[],
): Tensor {
  if (!gradEnabled) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (any) out.setGradFn({ name, inputs, backward } satisfies GradFn);
  return out;
}

type AddFn = (a: Tensor, b: Tensor) => Tensor;
type AddIntoFn = (dst: Tensor, src: Tensor) => void;

/**
 * Tensor addition (recorded under createGraph) and in-place dst += src (same shape and dtype) used
 * to accumulate gradients; supplied by the ops layer (which sits above this one).
 */
let addFn: AddFn | null = null;
let addIntoFn: AddIntoFn | null = null;
export function setGradAccumulator(fn: AddFn, into: AddIntoFn): void {
  addFn = fn;
  addIntoFn = into;
}

export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default: the value of createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients. */
  createGraph?: boolean;
}

/** Nodes in reverse topological order (outputs first), found without recursion. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i]!;
      if (child.requiresGrad && child.gradFn && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/** The nodes of `order` (outputs first) whose backward leads to some wanted tensor. */
function nodesLeadingTo(order: readonly Tensor[], wanted: ReadonlyMap<Tensor, number>): Set<Tensor> {
  const needed = new Set<Tensor>();
  // walking inputs-first, every input of a node is decided before the node itself
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k]!;
    if ((t.gradFn?.inputs ?? []).some((i) => wanted.has(i) || needed.has(i))) needed.add(t);
  }
  return needed;
}

/**
 * Computes gradients of `root` with respect to every leaf that requires grad (accumulated into
 * `.grad`) or, when `inputs` is given, returns the gradients for those tensors instead.
 */
export function runBackward(
  root: Tensor,
  seed: Tensor | null,
  opts: BackwardOptions = {},
  inputs?: readonly Tensor[],
): (Tensor | null)[] | undefined {
  if (!root.requiresGrad)
    throw new ArgumentError("backward: tensor does not require grad (did you forget requiresGrad, or run under noGrad?)");
  if (seed === null && root.size !== 1) {
    throw new ArgumentError(
      `backward: gradient can be implicit only for one-element outputs, got shape ${fmtShape(root.shape)}; pass a seed gradient`,
    );
  }
  const grad0 = seed ?? Tensor.empty(root.shape, root.dtype);
  if (seed === null) grad0.data.fill(1);
  else if (!shapesEqual(seed.shape, root.shape)) {
    throw new ArgumentError(`backward: seed gradient shape ${fmtShape(seed.shape)} does not match output shape ${fmtShape(root.shape)}`);
  } else if (seed.dtype !== root.dtype) {
    // a seed of another dtype would silently change the dtype of every gradient (and leaf .grad)
    throw new DTypeError(
      `backward: seed gradient dtype ${seed.dtype} does not match output dtype ${root.dtype} (shape ${fmtShape(root.shape)})`,
    );
  }
  if (addFn === null || addIntoFn === null) throw new EngramError("backward: ops layer not loaded");
  const add = addFn;
  const addInto = addIntoFn;
  const wanted = inputs ? new Map(inputs.map((t, i) => [t, i])) : null;
  const results: (Tensor | null)[] | undefined = inputs ? inputs.map(() => null) : undefined;

  withGradMode(opts.createGraph === true, () => {
    const grads = new Map<Tensor, Tensor>([[root, grad0]]);
    // Sums this pass allocated, still waiting in `grads`: no op or caller holds them yet, so further
    // contributions are added in place (a tensor used at every step of a loop then costs one buffer,
    // not one per step). Backward rules may hand the same tensor to several inputs, so a gradient an
    // op returned is never written to; a recorded pass (createGraph) keeps every sum a graph node.
    const owned = new Set<Tensor>();
    const accumulate = (t: Tensor, g: Tensor): void => {
      const prev = grads.get(t);
      if (!prev) grads.set(t, g);
      else if (owned.has(prev) && prev.dtype === g.dtype) addInto(prev, g);
      else {
        const sum = add(prev, g);
        if (opts.createGraph !== true) owned.add(sum);
        grads.set(t, sum);
      }
    };
    const order = topoOrder(root);
    const needed = wanted ? nodesLeadingTo(order, wanted) : null;
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      // from here on g is handed out (to t's backward, .grad or grad()'s results): never written again
      owned.delete(g);
      if (wanted?.has(t)) results![wanted.get(t)!] = g;
      if (t.gradFn === null) {
        // leaf
        if (!wanted) depositLeafGrad(t, g, add, addInto);
        continue;
      }
      // grad() runs (and frees) only the part of the graph between root and its inputs, so tensors
      // computed outside fn keep their graphs for a later backward, and no work is wasted on them
      if (needed && !needed.has(t)) continue;
      if (t.retainsGrad && !wanted) t.grad = t.grad ? add(t.grad, g) : g;
      const fn = t.gradFn;
      if (fn.backward === null) {
        throw new EngramError(`backward: the graph through ${fn.name} was already freed; pass { retainGraph: true } to backward twice`);
      }
      const gs = fn.backward(g);
      fn.inputs.forEach((inp, i) => {
        const gi = gs[i];
        if (!gi || !inp.requiresGrad) return;
        if (!shapesEqual(gi.shape, inp.shape)) {
          throw new EngramError(
            `backward: ${fn.name} produced a gradient of shape ${fmtShape(gi.shape)} for an input of shape ${fmtShape(inp.shape)}`,
          );
        }
        if (inp.gradFn === null && !wanted) depositLeafGrad(inp, gi, add, addInto);
        else accumulate(inp, gi);
      });
      // Like PyTorch, createGraph keeps the graph by default: the recorded backward refers to forward
      // outputs (exp's derivative is its output), so a second backward runs through this node again.
      if (!(opts.retainGraph ?? opts.createGraph === true)) fn.backward = null;
    }
    // leaves asked for by grad(): their sums are complete once every node has run. A leaf root was
    // already handled (and removed from `grads`) in the loop, so only leaves still pending are read.
    if (wanted) for (const [t, i] of wanted) if (t.gradFn === null && grads.has(t)) results![i] = grads.get(t)!;
  });
  return results;
}

function depositLeafGrad(t: Tensor, g: Tensor, add: AddFn, addInto: AddIntoFn): void {
  if (!t.requiresGrad) return;
  if (t.grad === null) {
    // Backward rules may hand the same tensor to several inputs (add passes its gradient through),
    // and leaf grads are later accumulated in place, so a plain gradient is copied once here.
    t.grad = g.gradFn ? g : new Tensor(g.data.slice(), t.shape, g.dtype);
  } else if (g.gradFn === null && t.grad.gradFn === null && g.dtype === t.grad.dtype) {
    addInto(t.grad, g); // one kernel call: a weight used at every step of a loop gets a deposit per step
  } else if (g.gradFn === null && t.grad.gradFn === null) {
    const d = t.grad.data;
    const s = g.data;
    for (let i = 0; i < d.length; i++) d[i]! += s[i]!;
  } else {
    t.grad = add(t.grad, g);
  }
}
