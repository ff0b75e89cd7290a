import type { ActInfo, UpdateStats } from './sac.js';

/**
 * What the SAC agent did in one segment (between two spot checks), for diagnosing a policy
 * that collapses (docs/explore.md "Diagnosing SAC"): the policy's pre-squash action
 * statistics, the share of squashed actions saturated at the box's edge, the temperatures
 * and entropies, the critics' values and targets, the rewards it saw and how many
 * distinct designs it visited. Logged in `curves.json` per run (`sacStats`).
 */
export interface SacSegmentStats {
  readonly segment: number;
  /** Environment steps and gradient updates so far (cumulative). */
  readonly steps: number;
  readonly updates: number;
  /** Steps of the segment: uniform random (warm-up or epsilon), from the policy, refined by MPC. */
  readonly randomSteps: number;
  readonly policySteps: number;
  readonly mpcSteps: number;
  /** Over the policy's actions: mean |mu| and mean sigma before the tanh, share of |a| > 0.99 (sampled), share of |tanh(mu)| > 0.99. */
  readonly meanAbsMu: number;
  readonly meanSigma: number;
  readonly saturated: number;
  readonly meanSaturated: number;
  /** Over the segment's updates (means): temperatures, continuous entropy estimate -log pi_c, discrete entropy, Q at the replayed action, target y, critic loss. */
  readonly alphaC: number | null;
  readonly alphaD: number | null;
  readonly entropyC: number | null;
  readonly entropyD: number | null;
  readonly qMean: number | null;
  readonly targetMean: number | null;
  readonly criticLoss: number | null;
  /** Step rewards of the segment: mean, sd, quantiles, and the share of feasible designs. */
  readonly reward: { readonly mean: number; readonly sd: number; readonly min: number; readonly p50: number; readonly p90: number; readonly max: number };
  readonly feasibleShare: number;
  /** Distinct designs the segment's steps produced, and over the run so far. */
  readonly distinctDesigns: number;
  readonly distinctDesignsSoFar: number;
}

const avg = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Accumulates one segment's statistics. */
export class SegmentStatsAccumulator {
  private randomSteps = 0;
  private policySteps = 0;
  private mpcSteps = 0;
  private absMu = 0;
  private sigma = 0;
  private sat = 0;
  private meanSat = 0;
  private contValues = 0;
  private readonly updates: UpdateStats[] = [];
  private readonly rewards: number[] = [];
  private feasible = 0;
  private readonly designs = new Set<number>();

  /** One environment step: how the action was chosen, the reward and the design's hash (`designHash`). */
  step(a: ActInfo, reward: number, feasible: boolean, designKey: number, seen: Set<number>): void {
    if (a.source === 'random') this.randomSteps++;
    else {
      this.policySteps++;
      if (a.mpc) this.mpcSteps++;
      const C = a.continuous.length;
      for (let j = 0; j < C; j++) {
        this.absMu += Math.abs(a.mu![j]);
        this.sigma += Math.exp(a.logStd![j]);
        if (Math.abs(a.continuous[j]) > 0.99) this.sat++;
        if (Math.abs(Math.tanh(a.mu![j])) > 0.99) this.meanSat++;
      }
      this.contValues += C;
    }
    this.rewards.push(reward);
    if (feasible) this.feasible++;
    this.designs.add(designKey);
    seen.add(designKey);
  }

  update(u: UpdateStats): void {
    this.updates.push(u);
  }

  finish(segment: number, steps: number, updates: number, seenSoFar: number): SacSegmentStats {
    const r = [...this.rewards].sort((a, b) => a - b);
    const q = (p: number) => (r.length ? r[Math.min(r.length - 1, Math.floor(p * r.length))] : 0);
    const m = avg(r) ?? 0;
    const per = (f: (u: UpdateStats) => number) => avg(this.updates.map(f));
    const v = this.contValues || 1;
    return {
      segment,
      steps,
      updates,
      randomSteps: this.randomSteps,
      policySteps: this.policySteps,
      mpcSteps: this.mpcSteps,
      meanAbsMu: this.absMu / v,
      meanSigma: this.sigma / v,
      saturated: this.sat / v,
      meanSaturated: this.meanSat / v,
      alphaC: per((u) => u.alphaC),
      alphaD: per((u) => u.alphaD),
      entropyC: per((u) => -u.logPiMean),
      entropyD: per((u) => u.entropyD),
      qMean: per((u) => u.qMean),
      targetMean: per((u) => u.targetMean),
      criticLoss: per((u) => u.criticLoss),
      reward: { mean: m, sd: Math.sqrt(avg(r.map((x) => (x - m) ** 2)) ?? 0), min: r[0] ?? 0, p50: q(0.5), p90: q(0.9), max: r[r.length - 1] ?? 0 },
      feasibleShare: r.length ? this.feasible / r.length : 0,
      distinctDesigns: this.designs.size,
      distinctDesignsSoFar: seenSoFar,
    };
  }
}

/** A 52-bit FNV-1a hash of a design's key: distinct designs are counted by it (a collision in 2^52 is negligible). */
export function designHash(key: string): number {
  let lo = 0x811c9dc5;
  let hi = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    lo ^= key.charCodeAt(i);
    hi ^= lo >>> 24;
    lo = Math.imul(lo, 0x01000193) >>> 0;
    hi = Math.imul(hi, 0x01000193) >>> 0;
  }
  return (hi & 0xfffff) * 2 ** 32 + lo;
}
