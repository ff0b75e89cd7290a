import type { CounterRecord } from '../counters/counter.js';
import type { ChipArea } from './area.js';
import type { EnergyResult } from './energy.js';
import { powerOf } from './energy.js';

/**
 * Chip metrics from one run: J/token, W, mm2, TOPS/mm2, W/mm2 and, from the simulator's
 * time and token counts, tokens/s and latency percentiles.
 */

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

/** Nearest-rank percentiles (p-th percentile = the ceil(p/100 x n)-th smallest value). */
export function percentiles(values: readonly number[]): Percentiles | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number) => v[Math.max(0, Math.ceil((p / 100) * v.length) - 1)];
  return { p50: at(50), p90: at(90), p99: at(99), max: v[v.length - 1], count: v.length };
}

export interface RunFacts {
  readonly counters: CounterRecord;
  /** Tokens generated in the simulated window (the tokens/s and J/token numerator). */
  readonly tokens: number;
  /** Time to first token per request (ms), when known. */
  readonly ttftMs?: readonly number[];
  /** Inter-token latencies (ms), when known. */
  readonly itlMs?: readonly number[];
}

export interface Metrics {
  readonly seconds: number;
  readonly tokens: number;
  readonly tokensPerSecond: number;
  readonly energyJ: number;
  readonly energyPerTokenJ: number;
  /**
   * energyPerTokenJ split: what the counted activity cost (active) and what the chip spends
   * whatever it does (idle: leakage and the routers' always-running clocks) over the window.
   */
  readonly activeEnergyPerTokenJ: number;
  readonly idleEnergyPerTokenJ: number;
  readonly powerW: number;
  readonly areaMm2: number;
  /** Operations per second: 2 per MAC plus one per vector ALU and special-function op. */
  readonly opsPerSecond: number;
  readonly topsPerMm2: number;
  readonly powerDensityWPerMm2: number;
  readonly ttftMs?: Percentiles;
  readonly itlMs?: Percentiles;
}

export function metrics(energy: EnergyResult, area: ChipArea, run: RunFacts): Metrics {
  const p = powerOf(energy);
  const ops = 2 * (run.counters['tile.macs'] ?? 0) + (run.counters['tile.vectorAluOps'] ?? 0) + (run.counters['tile.sfuOps'] ?? 0);
  const opsPerSecond = ops / energy.seconds;
  const energyJ = energy.totalPj * 1e-12;
  return {
    seconds: energy.seconds,
    tokens: run.tokens,
    tokensPerSecond: run.tokens / energy.seconds,
    energyJ,
    energyPerTokenJ: run.tokens > 0 ? energyJ / run.tokens : Number.POSITIVE_INFINITY,
    activeEnergyPerTokenJ: run.tokens > 0 ? (energy.activePj * 1e-12) / run.tokens : Number.POSITIVE_INFINITY,
    idleEnergyPerTokenJ: run.tokens > 0 ? (energy.idlePj * 1e-12) / run.tokens : Number.POSITIVE_INFINITY,
    powerW: p.totalW,
    areaMm2: area.totalMm2,
    opsPerSecond,
    topsPerMm2: opsPerSecond / 1e12 / area.totalMm2,
    powerDensityWPerMm2: p.totalW / area.totalMm2,
    ttftMs: run.ttftMs ? percentiles(run.ttftMs) : undefined,
    itlMs: run.itlMs ? percentiles(run.itlMs) : undefined,
  };
}
