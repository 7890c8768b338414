/**
 * Progress reporting for long work: an in-place bar with ETA and live values on a TTY, and plain
 * periodic lines otherwise (logs, CI), so the same code serves a person and a log file.
 */

export interface ProgressOptions {
  total: number;
  /** Steps already done when the display starts (a resumed run), so the ETA follows this run's pace. */
  initial?: number;
  /** Label before the bar, e.g. "train". */
  label?: string;
  /** Where to write; defaults to process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Plain mode: write a line every this many steps (default: about 20 lines per run). */
  every?: number;
  /** Minimum milliseconds between TTY redraws. */
  redrawMs?: number;
  /** Injected clock (tests). */
  now?: () => number;
}

/** 75 -> "1m15s", 3725 -> "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function formatValues(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4)}`)
    .join("  ");
}

export class Progress {
  private readonly total: number;
  private readonly initial: number;
  private readonly label: string;
  private readonly stream: NonNullable<ProgressOptions["stream"]>;
  private readonly tty: boolean;
  private readonly every: number;
  private readonly redrawMs: number;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(opts: ProgressOptions) {
    this.total = Math.max(1, opts.total);
    this.initial = opts.initial ?? 0;
    this.label = opts.label ?? "";
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.every = opts.every ?? Math.max(1, Math.round(this.total / 20));
    this.redrawMs = opts.redrawMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Reports that `done` of `total` steps are complete, with the current values (loss, ...). */
  update(done: number, values: Record<string, number> = {}): void {
    const t = this.now();
    const elapsed = (t - this.start) / 1000;
    const eta = done > this.initial ? (elapsed / (done - this.initial)) * (this.total - done) : NaN;
    const head = `${this.label ? this.label + " " : ""}`;
    if (this.tty) {
      if (t - this.lastDraw < this.redrawMs && done < this.total) return;
      this.lastDraw = t;
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 70));
      const filled = Math.round((width * done) / this.total);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      const pct = `${Math.floor((100 * done) / this.total)}%`.padStart(4);
      this.stream.write(
        `\r\x1b[2K${head}${bar} ${pct} ${done}/${this.total}  ${formatValues(values)}  ${formatDuration(elapsed)}<${formatDuration(eta)}`,
      );
      this.drawn = true;
    } else if (done % this.every === 0 || done === this.total) {
      this.stream.write(
        `${head}step ${done}/${this.total}  ${formatValues(values)}  elapsed ${formatDuration(elapsed)}  eta ${formatDuration(eta)}\n`,
      );
    }
  }

  /** Writes a line above the bar (TTY) or as is (plain). */
  log(line: string): void {
    if (this.tty && this.drawn) this.stream.write(`\r\x1b[2K`);
    this.stream.write(line + "\n");
    this.lastDraw = -Infinity;
  }

  /** Ends the bar with a newline so later output starts on its own line. */
  finish(): void {
    if (this.tty && this.drawn) this.stream.write("\n");
    this.drawn = false;
  }
}
