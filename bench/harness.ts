import Benchmark from 'benchmark';

/**
 * Small helpers over benchmark.js: run one function as a benchmark and report
 * `unitsPerCall x hz` (e.g. events per second), with the relative margin of error.
 */
export interface Measured {
  name: string;
  perSecond: number;
  rmePercent: number;
  samples: number;
}

export function measure(name: string, fn: () => void, unitsPerCall: number, opts: { minSamples?: number; maxTime?: number } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const b = new Benchmark(name, fn, { minSamples: opts.minSamples ?? 5, maxTime: opts.maxTime ?? 3, initCount: 1 });
    b.on('complete', () => {
      if ((b as any).error) reject((b as any).error);
      else resolve({ name, perSecond: b.hz * unitsPerCall, rmePercent: b.stats.rme, samples: b.stats.sample.length });
    });
    b.on('error', (e: any) => reject(e.target?.error ?? e));
    b.run({ async: false });
  });
}

export function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

/** One result line: name, rate with unit, error margin and the target if any. */
export function report(m: Measured, unit: string, target?: number): string {
  const verdict = target === undefined ? '' : m.perSecond >= target ? `  (target ${fmtRate(target)}: met)` : `  (target ${fmtRate(target)}: MISSED)`;
  return `  ${m.name.padEnd(44)} ${fmtRate(m.perSecond).padStart(9)} ${unit}  ±${m.rmePercent.toFixed(1)}%${verdict}`;
}

/** A benchmark suite: `run` prints its figures and returns them for the summary. */
export interface BenchSuite {
  name: string;
  run(print: (line: string) => void): Promise<Measured[]>;
}
