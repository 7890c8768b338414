/**
 * Learning-rate schedules. Step-based schedules are closed forms of the epoch counter, lr =
 * rule(baseLr, epoch), applied to every parameter group: the counter and base rates are the whole
 * state, so a resumed run gets exactly the rates of an uninterrupted one. Creating a schedule sets
 * the epoch-0 rate at once (as PyTorch does); call `step()` after each `optimizer.step()`.
 * ReduceLROnPlateau instead reacts to a metric and multiplies the current rates.
 */
import { ArgumentError, CheckpointError } from "../core/errors.js";
import { checkNumber } from "./optimizer.js";

/** What a schedule needs from an optimizer: its groups' learning rates. */
export interface HasParamGroups {
  readonly paramGroups: readonly { lr: number }[];
}

export interface LRSchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
}

function groupsOf(op: string, optimizer: HasParamGroups): readonly { lr: number }[] {
  const groups: unknown = typeof optimizer === "object" && optimizer !== null ? optimizer.paramGroups : undefined;
  if (!Array.isArray(groups)) throw new ArgumentError(`${op}: expected an optimizer with paramGroups`);
  return optimizer.paramGroups;
}

export abstract class LRScheduler {
  /** Each group's learning rate when the schedule was created. */
  baseLrs: number[];
  /** Number of `step()` calls so far. */
  lastEpoch = 0;

  protected constructor(
    readonly name: string,
    readonly optimizer: HasParamGroups,
    private readonly rule: (baseLr: number, epoch: number) => number,
  ) {
    this.baseLrs = groupsOf(name, optimizer).map((g, i) => checkNumber(name, `group ${i} lr`, g.lr, { min: 0 }));
    this.apply();
  }

  /** The learning rate of a group with base rate `baseLr` at `epoch`, without changing anything. */
  lrAt(baseLr: number, epoch: number): number {
    return this.rule(baseLr, epoch);
  }

  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** Current learning rate of each group. */
  get lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.rule(this.baseLrs[i]!, this.lastEpoch);
    });
  }

  stateDict(): LRSchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores the counter and base rates and sets the groups' rates to match. */
  loadStateDict(sd: LRSchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (typeof sd !== "object" || sd === null) throw new CheckpointError(`${op}: expected an object with lastEpoch and baseLrs`);
    if (!Number.isSafeInteger(sd.lastEpoch) || sd.lastEpoch < 0)
      throw new CheckpointError(`${op}: lastEpoch must be a non-negative integer, got ${String(sd.lastEpoch)}`);
    const n = this.optimizer.paramGroups.length;
    if (
      !Array.isArray(sd.baseLrs) ||
      sd.baseLrs.length !== n ||
      !sd.baseLrs.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0)
    ) {
      throw new CheckpointError(`${op}: baseLrs must hold ${n} non-negative numbers, got ${JSON.stringify(sd.baseLrs)}`);
    }
    this.lastEpoch = sd.lastEpoch;
    this.baseLrs = [...sd.baseLrs];
    this.apply();
  }
}

/** lr = baseLr * gamma^floor(epoch / stepSize) (torch StepLR). */
export class StepLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, opts: { stepSize: number; gamma?: number }) {
    const stepSize = checkNumber("StepLR", "stepSize", opts?.stepSize, { min: 1, integer: true });
    const gamma = checkNumber("StepLR", "gamma", opts.gamma ?? 0.1, { min: 0 });
    super("StepLR", optimizer, (base, epoch) => base * gamma ** Math.floor(epoch / stepSize));
  }
}

/**
 * Piecewise constant: phases [[start, factor], ...] with starts 0 = s_0 < s_1 < ...; lr = baseLr *
 * factor_i from step s_i until the next phase (torch LambdaLR with a step function). E.g. the MemN2N
 * reference code's bAbI schedule: half the rate for the 20 linear-start epochs, then the full rate
 * halved every 25 epochs.
 */
export class PhasedLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, opts: { phases: readonly (readonly [number, number])[] }) {
    const at = checkPhases("PhasedLR", opts?.phases);
    super("PhasedLR", optimizer, (base, epoch) => {
      let factor = at[0]![1];
      for (const [start, f] of at) if (epoch >= start) factor = f;
      return base * factor;
    });
  }
}

/**
 * PhasedLR's phases checked: a non-empty list of [start, factor], starts integers from 0 upwards,
 * factors >= 0. Returned as a fresh list; `op` begins the messages (the CLI checks its settings with it).
 */
export function checkPhases(op: string, phases: unknown): [number, number][] {
  if (!Array.isArray(phases) || phases.length === 0) throw new ArgumentError(`${op}: phases must be a non-empty list of [start, factor]`);
  const at: [number, number][] = [];
  (phases as unknown[]).forEach((ph, i) => {
    if (!Array.isArray(ph) || ph.length !== 2)
      throw new ArgumentError(`${op}: phase ${i} must be [start, factor], got ${JSON.stringify(ph)}`);
    const [s0, f0] = ph as unknown[];
    const start = checkNumber(op, `phase ${i} start`, s0, { min: i === 0 ? 0 : at[i - 1]![0] + 1, integer: true });
    if (i === 0 && start !== 0) throw new ArgumentError(`${op}: the first phase must start at step 0, got ${start}`);
    at.push([start, checkNumber(op, `phase ${i} factor`, f0, { min: 0 })]);
  });
  return at;
}

/** lr = baseLr * gamma^epoch (torch ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, opts: { gamma: number }) {
    const gamma = checkNumber("ExponentialLR", "gamma", opts?.gamma, { min: 0 });
    super("ExponentialLR", optimizer, (base, epoch) => base * gamma ** epoch);
  }
}

/**
 * Linear warmup: the factor on baseLr moves linearly from startFactor to endFactor over totalIters
 * steps and then stays (torch LinearLR, same defaults).
 */
export class LinearLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, opts: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    const start = checkNumber("LinearLR", "startFactor", opts.startFactor ?? 1 / 3, { min: 0 });
    const end = checkNumber("LinearLR", "endFactor", opts.endFactor ?? 1, { min: 0 });
    const total = checkNumber("LinearLR", "totalIters", opts.totalIters ?? 5, { min: 1, integer: true });
    super("LinearLR", optimizer, (base, epoch) => base * (start + ((end - start) * Math.min(epoch, total)) / total));
  }
}

/**
 * Linear warmup from startFactor * baseLr to baseLr over warmupSteps, then a half cosine from baseLr
 * down to minLr at totalSteps, then minLr. Equals torch SequentialLR(LinearLR, CosineAnnealingLR)
 * up to totalSteps.
 */
export class CosineWarmupLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, opts: { warmupSteps: number; totalSteps: number; startFactor?: number; minLr?: number }) {
    const op = "CosineWarmupLR";
    const warmup = checkNumber(op, "warmupSteps", opts?.warmupSteps, { min: 0, integer: true });
    const total = checkNumber(op, "totalSteps", opts.totalSteps, { min: warmup + 1, integer: true });
    const start = checkNumber(op, "startFactor", opts.startFactor ?? 0, { min: 0, max: 1 });
    const minLr = checkNumber(op, "minLr", opts.minLr ?? 0, { min: 0 });
    super(op, optimizer, (base, epoch) => {
      if (epoch < warmup) return base * (start + ((1 - start) * epoch) / warmup);
      const progress = Math.min(epoch - warmup, total - warmup) / (total - warmup);
      return minLr + ((base - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
    });
  }
}

/**
 * The Transformer ("Noam") schedule: lr = baseLr * scale * min(step^-0.5, step * warmupSteps^-1.5)
 * with step = epoch + 1, so it rises linearly for warmupSteps steps and then decays as 1/sqrt(step).
 * scale is dModel^-0.5 when dModel is given, else sqrt(warmupSteps) so the peak rate is baseLr.
 */
export class InverseSqrtLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, opts: { warmupSteps: number; dModel?: number }) {
    const op = "InverseSqrtLR";
    const warmup = checkNumber(op, "warmupSteps", opts?.warmupSteps, { min: 1, integer: true });
    const scale = opts.dModel === undefined ? Math.sqrt(warmup) : checkNumber(op, "dModel", opts.dModel, { min: 1 }) ** -0.5;
    super(op, optimizer, (base, epoch) => {
      const step = epoch + 1;
      return base * scale * Math.min(step ** -0.5, step * warmup ** -1.5);
    });
  }
}

export interface ReduceLROnPlateauOptions {
  /** "min": lower metric is better (a loss); "max": higher is better (an accuracy). Default "min". */
  mode?: "min" | "max";
  /** Multiplier applied to the rates on a plateau. Default 0.1. */
  factor?: number;
  /** Bad epochs tolerated before reducing. Default 10. */
  patience?: number;
  /** Improvement needed to count as better. Default 1e-4. */
  threshold?: number;
  /** "rel": relative to the best value; "abs": absolute. Default "rel". */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting bad epochs again. Default 0. */
  cooldown?: number;
  /** Lower bound of each group's rate (one number for all groups, or one per group). Default 0. */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped. Default 1e-8. */
  eps?: number;
}

export interface ReduceLROnPlateauStateDict {
  lastEpoch: number;
  /** null until a first metric has been seen (JSON has no Infinity). */
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
}

/** Reduces every group's rate by `factor` when the metric has not improved for `patience` epochs (torch ReduceLROnPlateau). */
export class ReduceLROnPlateau {
  readonly name = "ReduceLROnPlateau";
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  lastEpoch = 0;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;

  constructor(
    readonly optimizer: HasParamGroups,
    opts: ReduceLROnPlateauOptions = {},
  ) {
    const op = this.name;
    const groups = groupsOf(op, optimizer);
    this.mode = opts.mode ?? "min";
    if (this.mode !== "min" && this.mode !== "max")
      throw new ArgumentError(`${op}: mode must be "min" or "max", got ${JSON.stringify(this.mode)}`);
    this.thresholdMode = opts.thresholdMode ?? "rel";
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new ArgumentError(`${op}: thresholdMode must be "rel" or "abs", got ${JSON.stringify(this.thresholdMode)}`);
    }
    this.factor = checkNumber(op, "factor", opts.factor ?? 0.1, { min: 0, below: 1 });
    this.patience = checkNumber(op, "patience", opts.patience ?? 10, { min: 0, integer: true });
    this.threshold = checkNumber(op, "threshold", opts.threshold ?? 1e-4, { min: 0 });
    this.cooldown = checkNumber(op, "cooldown", opts.cooldown ?? 0, { min: 0, integer: true });
    this.eps = checkNumber(op, "eps", opts.eps ?? 1e-8, { min: 0 });
    const minLr = opts.minLr ?? 0;
    if (typeof minLr === "number") this.minLrs = groups.map(() => checkNumber(op, "minLr", minLr, { min: 0 }));
    else {
      if (!Array.isArray(minLr) || minLr.length !== groups.length)
        throw new ArgumentError(`${op}: expected ${groups.length} minLr values, one per group`);
      this.minLrs = minLr.map((v, i) => checkNumber(op, `minLr[${i}]`, v, { min: 0 }));
    }
    this.best = this.worst;
  }

  private get worst(): number {
    return this.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const best = this.best;
    if (this.mode === "min") return this.thresholdMode === "rel" ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === "rel" ? a > best * (1 + this.threshold) : a > best + this.threshold;
  }

  /** Records one epoch's metric and reduces the rates if it has plateaued. A NaN metric counts as a bad epoch. */
  step(metric: number): void {
    if (typeof metric !== "number") throw new ArgumentError(`${this.name}.step: metric must be a number, got ${typeof metric}`);
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  get lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): ReduceLROnPlateauStateDict {
    return {
      lastEpoch: this.lastEpoch,
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
    };
  }

  /** Restores the counters; the rates themselves live in the optimizer's state dict. */
  loadStateDict(sd: ReduceLROnPlateauStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (typeof sd !== "object" || sd === null) throw new CheckpointError(`${op}: expected an object`);
    for (const key of ["lastEpoch", "numBadEpochs", "cooldownCounter"] as const) {
      if (!Number.isSafeInteger(sd[key]) || sd[key] < 0)
        throw new CheckpointError(`${op}: ${key} must be a non-negative integer, got ${String(sd[key])}`);
    }
    if (sd.best !== null && (typeof sd.best !== "number" || Number.isNaN(sd.best)))
      throw new CheckpointError(`${op}: best must be a number or null, got ${String(sd.best)}`);
    this.lastEpoch = sd.lastEpoch;
    this.best = sd.best ?? this.worst;
    this.numBadEpochs = sd.numBadEpochs;
    this.cooldownCounter = sd.cooldownCounter;
  }
}
