import { Rng } from '../random/rng.js';
import type { CheckKind, HoldoutReport } from './holdout.js';
import type { StepTimer } from './scheduler.js';
import { shapeKind, type StepShape } from './shape.js';
import type { StepMemo, StepTiming } from './memo.js';
import type { ServingMetrics } from './metrics.js';

/**
 * The serving fidelity's error estimate per metric (docs/serving.md),
 * propagated from the held-out check of its step times (holdout.ts) through the scheduler:
 * the trace is served again `replays` times with every iteration's time divided by
 * (1 + e), e drawn (seeded) from the held-out relative errors of its kind (of the
 * overlapping steps for an iteration that starts while others are in flight), so each
 * replay is a run whose step times err as the held-out ones do; queueing and the
 * percentiles then amplify or average those errors as they would the real ones. Each
 * replay first resamples the held-out errors with replacement (a bootstrap), so the
 * replays also differ as much as a sample that small leaves the errors uncertain. The
 * estimate of a metric is its largest relative change over the replays. A trace longer
 * than `errorReplayRequests` is replayed on a seeded random window of that many requests
 * (against the same window served with the run's times).
 */
export interface ErrorEstimate {
  readonly tokensPerSecond: number;
  readonly ttftP50: number;
  readonly ttftP99: number;
  readonly itlP50: number;
  readonly itlP99: number;
  readonly e2eP50: number;
  readonly e2eP99: number;
  readonly replays: number;
  /** The window of requests replayed, when not the whole trace. */
  readonly window?: { readonly requests: number; readonly from: number };
  readonly basis: string;
}

/** Weight of the pooled errors in each kind's draw, in samples (see PerturbedTimer.time). */
export const PRIOR_SAMPLES = 4;

/** Memo times divided by (1 + e), e drawn from the held-out errors of the iteration's kind. */
export class PerturbedTimer implements StepTimer {
  private readonly all: number[];
  private readonly errors: Partial<Record<CheckKind, number[]>> = {};

  constructor(
    private readonly memo: StepMemo,
    held: Readonly<Partial<Record<CheckKind, readonly number[]>>>,
    private readonly rng: Rng,
  ) {
    // a bootstrap resample of each kind's errors
    for (const [kind, list] of Object.entries(held) as [CheckKind, readonly number[]][]) this.errors[kind] = list.map(() => list[rng.int(0, list.length - 1)]);
    this.all = Object.values(this.errors).flat() as number[];
  }

  time(shape: StepShape, timing: StepTiming, overlapping = false): number {
    const cycles = this.memo.predict(shape, timing);
    let list = (overlapping && this.errors['in-flight']?.length ? this.errors['in-flight'] : this.errors[shapeKind(shape)]) ?? this.all;
    // shrinkage toward the pooled errors: a kind with n samples draws from all kinds' errors
    // with probability PRIOR_SAMPLES / (n + PRIOR_SAMPLES), so that a few samples that
    // happened to agree (two prefill chunks both exact) do not claim the kind has no error
    if (list && this.rng.next() * (list.length + PRIOR_SAMPLES) < PRIOR_SAMPLES) list = this.all;
    if (!list || list.length === 0) return cycles;
    const f = 1 / (1 + list[this.rng.int(0, list.length - 1)]);
    for (let k = 0; k < timing.count; k++) timing.work[k] *= f;
    return cycles * f;
  }
}

/** The largest relative change of each metric over the replays. */
export function errorEstimate(base: ServingMetrics, replays: readonly ServingMetrics[], held: HoldoutReport, window?: { readonly requests: number; readonly from: number }): ErrorEstimate {
  const worst = (get: (m: ServingMetrics) => number) => {
    const b = get(base);
    return Math.max(0, ...replays.map((r) => (b !== 0 ? Math.abs(get(r) - b) / Math.abs(b) : 0)));
  };
  return {
    tokensPerSecond: worst((m) => m.tokensPerSecond),
    ttftP50: worst((m) => m.ttftMs.p50),
    ttftP99: worst((m) => m.ttftMs.p99),
    itlP50: worst((m) => m.itlMs.p50),
    itlP99: worst((m) => m.itlMs.p99),
    e2eP50: worst((m) => m.e2eMs.p50),
    e2eP99: worst((m) => m.e2eMs.p99),
    replays: replays.length,
    ...(window ? { window } : {}),
    basis: `${replays.length} replays of ${window ? `requests ${window.from} to ${window.from + window.requests - 1} of ` : ''}the trace with step times erring as the ${held.samples} held-out simulated iterations did (${held.byKind.map((k) => `${k.kind} ${k.samples}`).join(', ')})`,
  };
}

export function replayRng(seed: number, k: number): Rng {
  return new Rng(seed, `serving/replay/${k}`);
}
