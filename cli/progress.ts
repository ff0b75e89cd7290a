import type { Io } from './io.js';

/**
 * Progress of long work on stderr, never on stdout (so `--json` output stays clean).
 * On a terminal: one line redrawn in place (done/total, share, rate, ETA, a detail).
 * Otherwise (a log file, CI): a plain line at the start, every `intervalMs` and at the end.
 * `quiet` turns it off. Hand-written rather than cli-progress: that package prints nothing
 * off a TTY unless told to, and then prints its bar format into logs; here the plain lines
 * are meant to be read in a log, and the clock is injectable so tests are exact.
 */

export interface ProgressOptions {
  /** What is being done ("labelling", "sim azure-conv"). */
  readonly label: string;
  /** Units of work in all (requests, designs, points); 0 or less when unknown. */
  readonly total: number;
  /** Name of a unit, plural ("requests"). */
  readonly unit?: string;
  readonly quiet?: boolean;
  /** Plain-line period off a terminal (default 10 s). */
  readonly intervalMs?: number;
  /** Redraw period on a terminal (default 100 ms). */
  readonly redrawMs?: number;
  /**
   * Print nothing until the work has run this long (default 0: a line at once). Work that
   * finishes sooner stays silent, so quick commands print no progress at all.
   */
  readonly delayMs?: number;
}

export interface Progress {
  /** Set the amount done (monotone) and an optional detail ("feasible 12, failed 0"). */
  update(done: number, detail?: string): void;
  /** Add `n` (default 1) to the amount done. */
  tick(n?: number, detail?: string): void;
  /** Print the final line (a summary replaces the detail). */
  finish(summary?: string): void;
}

const silent: Progress = { update() {}, tick() {}, finish() {} };

/** Seconds as `17 s`, `4 min 05 s` or `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Amounts done: whole numbers as they are, fractions (a point part-way through) to one decimal. */
function formatAmount(n: number): string {
  return Number.isInteger(n) ? String(n) : (Math.floor(n * 10) / 10).toFixed(1); // 4.99 done is not 5.0
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '-';
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toPrecision(2);
}

export function createProgress(io: Io, opts: ProgressOptions): Progress {
  if (opts.quiet) return silent;
  const now = io.now ?? (() => Date.now());
  const tty = io.stderrIsTTY;
  const period = tty ? (opts.redrawMs ?? 100) : (opts.intervalMs ?? 10_000);
  const unit = opts.unit ? ` ${opts.unit}` : '';
  const start = now();
  let done = 0;
  let detail = '';
  let lastDraw = -Infinity;
  let drawn = false;
  let finished = false;
  const delay = opts.delayMs ?? 0;

  const line = (final: boolean): string => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const parts: string[] = [];
    if (opts.total > 0) {
      const pct = Math.min(100, (100 * done) / opts.total);
      parts.push(`${formatAmount(done)}/${opts.total}${unit} (${pct.toFixed(0)}%)`);
    } else parts.push(`${formatAmount(done)}${unit}`);
    parts.push(`${formatRate(rate)}/s`);
    if (final) parts.push(`${formatDuration(elapsed)}`);
    else if (opts.total > 0 && rate > 0) parts.push(`ETA ${formatDuration((opts.total - done) / rate)}`);
    if (detail) parts.push(detail);
    return `${opts.label}: ${parts.join(', ')}`;
  };
  const draw = (final: boolean) => {
    drawn = true;
    lastDraw = now();
    if (tty) io.stderr(`\r\x1b[2K${line(final)}${final ? '\n' : ''}`);
    else io.stderr(`${line(final)}\n`);
  };
  if (delay <= 0) draw(false);
  return {
    update(d, det) {
      if (finished) return;
      done = Math.max(done, d);
      if (det !== undefined) detail = det;
      const t = now();
      if (drawn ? t - lastDraw >= period : t - start >= delay) draw(false);
    },
    tick(n = 1, det) {
      this.update(done + n, det);
    },
    finish(summary) {
      if (finished) return;
      finished = true;
      if (summary !== undefined) detail = summary;
      if (drawn) draw(true);
    },
  };
}
