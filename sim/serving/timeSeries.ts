/**
 * Quantities over simulated time kept in a bounded number of bins from `startCycles`:
 * when time runs past the last bin, neighbouring bins merge (sums add, maxima take the
 * larger) and the bin width doubles, so memory stays fixed however long the trace.
 */
class Bins {
  width: number;
  readonly sum: Float64Array;
  readonly max: Float64Array;

  constructor(
    readonly startCycles: number,
    initialWidthCycles: number,
    readonly count: number,
  ) {
    this.width = Math.max(1, initialWidthCycles);
    this.sum = new Float64Array(count);
    this.max = new Float64Array(count);
  }

  /** The bin holding cycle t, after merging bins until one does. */
  at(t: number): number {
    while (t - this.startCycles >= this.width * this.count) {
      const half = this.count / 2;
      for (let i = 0; i < half; i++) {
        this.sum[i] = this.sum[2 * i] + this.sum[2 * i + 1];
        this.max[i] = Math.max(this.max[2 * i], this.max[2 * i + 1]);
      }
      this.sum.fill(0, half);
      this.max.fill(0, half);
      this.width *= 2;
    }
    return Math.max(0, Math.floor((t - this.startCycles) / this.width));
  }

  /** Bins in use up to `endCycles`. */
  used(endCycles: number): number {
    this.at(Math.max(this.startCycles, endCycles - 1));
    return Math.max(1, Math.min(this.count, Math.ceil((endCycles - this.startCycles) / this.width)));
  }
}

/**
 * A piecewise-constant signal (queue length, KV tokens in use): each bin holds the
 * time-weighted mean and the maximum of the signal over its span.
 */
export class BinnedSeries {
  private readonly bins: Bins;
  private value = 0;
  private since: number;

  constructor(startCycles: number, initialWidthCycles: number, bins = 512) {
    this.bins = new Bins(startCycles, initialWidthCycles, bins);
    this.since = startCycles;
  }

  /** The signal takes `value` from cycle `at` on (at never decreases). */
  set(at: number, value: number): void {
    if (value === this.value) return;
    this.advance(at);
    this.value = value;
    const b = this.bins.at(at);
    if (value > this.bins.max[b]) this.bins.max[b] = value;
  }

  /** Integrate the current value from `since` to `at`. */
  private advance(at: number): void {
    if (at <= this.since) return;
    const bins = this.bins;
    bins.at(at);
    let t = this.since;
    while (t < at) {
      const b = bins.at(t);
      const end = Math.min(at, bins.startCycles + (b + 1) * bins.width);
      bins.sum[b] += this.value * (end - t);
      if (this.value > bins.max[b]) bins.max[b] = this.value;
      t = end;
    }
    this.since = at;
  }

  /** Bins up to `endCycles`: start cycle, mean and max of each. */
  finish(endCycles: number): { readonly widthCycles: number; readonly startCycles: number[]; readonly mean: number[]; readonly max: number[] } {
    this.advance(endCycles);
    const bins = this.bins;
    const used = bins.used(endCycles);
    const startCycles: number[] = [];
    const mean: number[] = [];
    const max: number[] = [];
    for (let b = 0; b < used; b++) {
      const s = bins.startCycles + b * bins.width;
      startCycles.push(s);
      mean.push(bins.sum[b] / Math.max(1, Math.min(bins.width, endCycles - s)));
      max.push(bins.max[b]);
    }
    return { widthCycles: bins.width, startCycles, mean, max };
  }
}

/** Counts of an event over simulated time (tokens generated per bin). */
export class BinnedCounts {
  private readonly bins: Bins;

  constructor(startCycles: number, initialWidthCycles: number, bins = 512) {
    this.bins = new Bins(startCycles, initialWidthCycles, bins);
  }

  add(at: number, n = 1): void {
    this.bins.sum[this.bins.at(at)] += n;
  }

  finish(endCycles: number): { readonly widthCycles: number; readonly counts: number[] } {
    const used = this.bins.used(endCycles);
    return { widthCycles: this.bins.width, counts: Array.from(this.bins.sum.subarray(0, used)) };
  }
}
