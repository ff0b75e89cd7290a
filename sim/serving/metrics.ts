import type { ScheduleResult } from './scheduler.js';
import { REJECT_REASONS } from './scheduler.js';

/**
 * Serving metrics from a schedule (docs/serving.md), the figures serving
 * users read (Vidur, vLLM, DistServe): TTFT (arrival to first token, queueing included),
 * ITL (every gap between consecutive tokens of a request), TPOT (a request's mean gap:
 * (last token - first token) / (tokens - 1)), end-to-end latency (arrival to last token),
 * each at p50/p90/p99 (nearest rank, as sim/power/metrics.ts); throughput; and, for SLOs on
 * TTFT and TPOT, SLO attainment (the share of all requests, rejected ones included, that
 * meet both) and goodput (such requests per second). Times in ms at the edges of this file.
 */

export interface Dist {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
  readonly count: number;
  /** The distribution for plots: the value at every half percentile, 0 to 100 (201 values). */
  readonly quantiles: readonly number[];
}

export interface Slo {
  readonly ttftMs: number;
  readonly itlMs: number;
}

export interface ServingMetrics {
  readonly tokensPerSecond: number;
  readonly requestsPerSecond: number;
  readonly ttftMs: Dist;
  readonly itlMs: Dist;
  readonly tpotMs: Dist;
  readonly e2eMs: Dist;
  readonly slo: Slo;
  /** Share of all requests (rejected included) meeting both SLOs. */
  readonly sloAttainment: number;
  /** Requests meeting both SLOs per second of the window. */
  readonly goodputRequestsPerSecond: number;
  /** Tokens of those requests per second. */
  readonly goodputTokensPerSecond: number;
  readonly requests: { readonly total: number; readonly served: number; readonly rejected: Readonly<Record<string, number>>; readonly preempted: number };
  /** Seconds from the first arrival to the last token. */
  readonly windowSeconds: number;
}

/** Nearest-rank percentiles of a sorted array (the p-th percentile is the ceil(p/100 x n)-th smallest). */
export function rank(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Distribution of `values` (sorted in place), scaled by `scale`. */
export function dist(values: Float64Array, scale = 1): Dist {
  values.sort();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const n = values.length;
  const quantiles = n ? Array.from({ length: 201 }, (_, k) => rank(values, k / 2) * scale) : [];
  return { p50: rank(values, 50) * scale, p90: rank(values, 90) * scale, p99: rank(values, 99) * scale, mean: n ? (sum / n) * scale : 0, max: n ? values[n - 1] * scale : 0, count: n, quantiles };
}

export function servingMetrics(s: ScheduleResult, clockMHz: number, slo: Slo): ServingMetrics {
  const msPerCycle = 1 / (clockMHz * 1000);
  const N = s.arrivalCycles.length;
  const ttft: number[] = [];
  const tpot: number[] = [];
  const e2e: number[] = [];
  const rejected: Record<string, number> = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0]));
  let firstArrival = Number.POSITIVE_INFINITY;
  let lastDone = 0;
  let good = 0;
  let goodTokens = 0;
  let preempted = 0;
  for (let i = 0; i < N; i++) {
    if (s.preemptions[i] > 0) preempted++;
    if (s.rejected[i] >= 0) {
      rejected[REJECT_REASONS[s.rejected[i]]]++;
      continue;
    }
    const a = s.arrivalCycles[i];
    firstArrival = Math.min(firstArrival, a);
    lastDone = Math.max(lastDone, s.doneCycles[i]);
    const t = (s.firstTokenCycles[i] - a) * msPerCycle;
    const p = s.tokens[i] > 1 ? ((s.doneCycles[i] - s.firstTokenCycles[i]) * msPerCycle) / (s.tokens[i] - 1) : 0;
    ttft.push(t);
    if (s.tokens[i] > 1) tpot.push(p);
    e2e.push((s.doneCycles[i] - a) * msPerCycle);
    if (t <= slo.ttftMs && p <= slo.itlMs) {
      good++;
      goodTokens += s.tokens[i];
    }
  }
  const served = ttft.length;
  const windowSeconds = served ? Math.max(1, lastDone - firstArrival) / (clockMHz * 1e6) : 0;
  const per = (x: number) => (windowSeconds > 0 ? x / windowSeconds : 0);
  return {
    tokensPerSecond: per(s.generatedTokens),
    requestsPerSecond: per(served),
    ttftMs: dist(Float64Array.from(ttft)),
    itlMs: dist(Float64Array.from(s.itlCycles), msPerCycle),
    tpotMs: dist(Float64Array.from(tpot)),
    e2eMs: dist(Float64Array.from(e2e)),
    slo,
    sloAttainment: N ? good / N : 0,
    goodputRequestsPerSecond: per(good),
    goodputTokensPerSecond: per(goodTokens),
    requests: { total: N, served, rejected, preempted },
    windowSeconds,
  };
}
