import { z } from 'zod';
import { parseInput, refineIssue } from '../validate/zod.js';
import type { Metrics } from './metrics.js';
import type { WorkloadReference } from './reference.js';

/**
 * The PPA score (docs/power.md "PPA score"). Higher is better.
 *
 *   J = w_perf log2(T / T_ref) - w_power log2(P / P_ref) - w_area log2(A / A_ref)
 *
 * against fixed per-workload references (T tokens/s, P watts, A mm2), so every halving of
 * power or area and every doubling of throughput is worth its weight at any node. A
 * feasible design scores S = 1 / (1 + 2^-J) in (0, 1) (0.5 = the reference); an
 * infeasible one scores -(sum of relative constraint violations) - (1 if the mapping
 * does not fit), always below every feasible design. The paper's lower-is-better score
 * corresponds to 1 - S; its reward (Eq. 34) has the same weighted form with min-max
 * normalised terms plus a feasibility bonus and violation penalty.
 */

export const WeightsSchema = z
  .strictObject({
    perf: z.number().gt(0).max(1).describe('weight of performance (tokens/s)'),
    power: z.number().gt(0).max(1).describe('weight of power'),
    area: z.number().gt(0).max(1).describe('weight of area'),
  })
  .superRefine((w, ctx) => {
    const sum = w.perf + w.power + w.area;
    if (Math.abs(sum - 1) > 1e-9) refineIssue(ctx, [], `weights must sum to 1 (perf ${w.perf} + power ${w.power} + area ${w.area} = ${sum})`, 'rescale the weights so they add up to 1, e.g. 0.4/0.4/0.2');
  });
export type Weights = z.output<typeof WeightsSchema>;

/** The paper's default (w_perf, w_power, w_area) = (0.4, 0.4, 0.2) (section 3.11, Eq. 34). */
export const DEFAULT_WEIGHTS: Weights = { perf: 0.4, power: 0.4, area: 0.2 };
/** The paper's low-power profile (0.2, 0.6, 0.2). */
export const LOW_POWER_WEIGHTS: Weights = { perf: 0.2, power: 0.6, area: 0.2 };
export const WEIGHT_PROFILES: Readonly<Record<string, Weights>> = { default: DEFAULT_WEIGHTS, 'low-power': LOW_POWER_WEIGHTS };

export function parseWeights(input: unknown, file = 'weights'): Weights {
  return parseInput(WeightsSchema, input, file);
}

export const ConstraintsSchema = z.strictObject({
  powerBudgetW: z.number().positive().optional().describe('maximum average power'),
  areaBudgetMm2: z.number().positive().optional().describe('maximum chip area'),
  latencySloMs: z.number().positive().optional().describe('maximum p99 inter-token latency'),
  ttftSloMs: z.number().positive().optional().describe('maximum p99 time to first token'),
  maxDies: z.number().int().min(1).optional().describe('most reticle-sized dies the design may need (1: it must fit one reticle)'),
});
export type Constraints = z.output<typeof ConstraintsSchema>;

/**
 * The search's default constraints (issue 16): a design must fit one reticle. The paper
 * presets exceed it, so `tessera sim` leaves it off unless asked (--reticle).
 */
export const SEARCH_DEFAULT_CONSTRAINTS: Constraints = { maxDies: 1 };

export interface Violations {
  readonly powerW: number;
  readonly areaMm2: number;
  readonly latencyMs: number;
  readonly ttftMs: number;
  /** Dies beyond constraints.maxDies. */
  readonly dies: number;
}

export interface PpaResult {
  /** Higher is better: (0, 1) when feasible, <= 0 when not. */
  readonly score: number;
  /** The weighted log-ratio objective J (0 at the reference). */
  readonly objective: number;
  /** The paper-style lower-is-better value 1 - score (feasible designs only). */
  readonly lowerIsBetter: number | null;
  readonly feasible: boolean;
  readonly violations: Violations;
  readonly reasons: readonly string[];
  readonly ratios: { readonly perf: number; readonly power: number; readonly area: number };
  readonly weights: Weights;
  readonly reference: WorkloadReference;
}

export interface PpaOptions {
  readonly weights?: Weights;
  readonly constraints?: Constraints;
  /** False when the mapping did not fit (weights or KV cache): infeasible whatever the budgets. */
  readonly mappingFeasible?: boolean;
  /** The dies the design needs and the reticle limit (checked against constraints.maxDies). */
  readonly dies?: { readonly count: number; readonly reticleLimitMm2: number };
}

export function ppaScore(m: Pick<Metrics, 'tokensPerSecond' | 'powerW' | 'areaMm2' | 'itlMs' | 'ttftMs'>, reference: WorkloadReference, options: PpaOptions = {}): PpaResult {
  const weights = parseWeights(options.weights ?? DEFAULT_WEIGHTS);
  const c = options.constraints ?? {};
  const ratios = { perf: m.tokensPerSecond / reference.tokensPerSecond, power: m.powerW / reference.powerW, area: m.areaMm2 / reference.areaMm2 };
  const objective = weights.perf * Math.log2(ratios.perf) - weights.power * Math.log2(ratios.power) - weights.area * Math.log2(ratios.area);
  const over = (v: number | undefined, budget: number | undefined) => (v === undefined || budget === undefined ? 0 : Math.max(0, v - budget));
  const violations: Violations = {
    powerW: over(m.powerW, c.powerBudgetW),
    areaMm2: over(m.areaMm2, c.areaBudgetMm2),
    latencyMs: over(m.itlMs?.p99, c.latencySloMs),
    ttftMs: over(m.ttftMs?.p99, c.ttftSloMs),
    dies: over(options.dies?.count, c.maxDies),
  };
  const reasons: string[] = [];
  let relative = 0;
  const note = (v: number, budget: number | undefined, what: string, unit: string) => {
    if (v > 0 && budget !== undefined) {
      relative += v / budget;
      reasons.push(`${what} over budget by ${v.toPrecision(4)} ${unit} (budget ${budget} ${unit})`);
    }
  };
  note(violations.powerW, c.powerBudgetW, 'power', 'W');
  note(violations.areaMm2, c.areaBudgetMm2, 'area', 'mm2');
  note(violations.latencyMs, c.latencySloMs, 'p99 inter-token latency', 'ms');
  note(violations.ttftMs, c.ttftSloMs, 'p99 TTFT', 'ms');
  if (violations.dies > 0 && options.dies && c.maxDies !== undefined) {
    relative += violations.dies / c.maxDies;
    reasons.push(`the chip needs ${options.dies.count} reticle-sized dies (area ${m.areaMm2.toPrecision(4)} mm2, reticle limit ${options.dies.reticleLimitMm2} mm2), more than the ${c.maxDies} allowed`);
  }
  if (c.maxDies !== undefined && !options.dies) reasons.push('a die limit was given but the die count is unknown');
  if (options.mappingFeasible === false) reasons.push('the mapping does not fit (weights or KV cache)');
  if (c.latencySloMs !== undefined && !m.itlMs) reasons.push('latency SLO given but no inter-token latencies were measured');
  if (c.ttftSloMs !== undefined && !m.ttftMs) reasons.push('TTFT SLO given but no TTFTs were measured');
  const unmeasured = (c.latencySloMs !== undefined && !m.itlMs) || (c.ttftSloMs !== undefined && !m.ttftMs) || (c.maxDies !== undefined && !options.dies);
  // log2 of a ratio needs a positive, finite metric: say which one is missing instead of scoring NaN
  for (const [what, v] of [['tokens/s', m.tokensPerSecond], ['power (W)', m.powerW], ['area (mm2)', m.areaMm2]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) reasons.push(`${what} is ${v}, not a positive finite number, so the PPA objective is undefined`);
  }
  const feasible = reasons.length === 0; // a non-finite objective always has a reason above
  const score = feasible ? 1 / (1 + 2 ** -objective) : -(relative + (options.mappingFeasible === false || unmeasured || !Number.isFinite(objective) ? 1 : 0));
  return { score, objective, lowerIsBetter: feasible ? 1 - score : null, feasible, violations, reasons, ratios, weights, reference };
}

/**
 * An objective as a sort key: an undefined one (NaN, or +-Infinity from a zero or
 * infinite metric) sorts last, so a zero-power or zero-area record never ranks first.
 */
const objectiveKey = (o: number) => (Number.isFinite(o) ? o : -Infinity);

/** b - a for sort keys that may be infinite (Infinity - Infinity would be NaN). */
const descending = (a: number, b: number) => (a === b ? 0 : b > a ? 1 : -1);

/**
 * Order designs best first: feasible before infeasible; feasible ones by objective;
 * infeasible ones by score (the smaller the total relative violation, the better), ties
 * (e.g. several designs whose mapping does not fit) broken by objective.
 */
export function comparePpa(a: PpaResult, b: PpaResult): number {
  if (a.feasible !== b.feasible) return a.feasible ? -1 : 1;
  if (a.feasible) return descending(a.objective, b.objective);
  return descending(a.score, b.score) || descending(objectiveKey(a.objective), objectiveKey(b.objective));
}

/**
 * Bounds that keep the Eq. 34 reward finite for every design (docs/explore.md "Reward"):
 * the objective is clipped to +-4 (a factor of 16 in every term at once; an undefined
 * objective, from a zero metric, counts as -4) and each constraint's relative overrun to 1.
 */
export const EQ34_OBJECTIVE_CLIP = 4;
export const EQ34_OVERRUN_CAP = 1;

/** The paper's P_mem and P_haz (Eq. 34), each already weighted by its lambda. */
export interface Eq34Penalties {
  /** P_mem = lambda_mem max(0, M_used - M_budget) (>= 0). */
  readonly memory?: number;
  /** P_haz = lambda_haz TotalHazardScore (>= 0). */
  readonly hazard?: number;
}

/**
 * The paper's reward (Eq. 34) in Tessera's terms, for the search: R = alpha P_norm -
 * beta P_power - gamma A_norm + B_feas - P_viol - P_mem - P_haz with (alpha, beta, gamma) =
 * weights, the normalised terms replaced by log2 ratios to the workload reference (the
 * objective J, clipped to +-EQ34_OBJECTIVE_CLIP), B_feas = s_mag (1 + (P_budget - P) /
 * P_budget) when feasible (s_mag without a power budget), and for an infeasible design
 * P_viol = s_mag (1 + v) v^2 summed over the violated constraints (power, area, inter-token
 * latency, TTFT, dies; v the relative overrun capped at EQ34_OVERRUN_CAP) plus s_mag when
 * any reason makes it infeasible. Finite for every design: in [-4 - 10 s_mag - s_mag -
 * penalties, 4 + 2 s_mag].
 */
export function eq34Reward(r: PpaResult, powerW: number, constraints: Constraints = {}, sMag = 1, penalties: Eq34Penalties = {}): number {
  const base = Number.isFinite(r.objective) ? Math.min(EQ34_OBJECTIVE_CLIP, Math.max(-EQ34_OBJECTIVE_CLIP, r.objective)) : -EQ34_OBJECTIVE_CLIP;
  const extra = (penalties.memory ?? 0) + (penalties.hazard ?? 0);
  const budget = constraints.powerBudgetW;
  if (r.feasible) return base + (budget ? sMag * (1 + (budget - powerW) / budget) : sMag) - extra;
  const c = constraints;
  const v = r.violations;
  let viol = 0;
  for (const [over, limit] of [[v.powerW, c.powerBudgetW], [v.areaMm2, c.areaBudgetMm2], [v.latencyMs, c.latencySloMs], [v.ttftMs, c.ttftSloMs], [v.dies, c.maxDies]] as const) {
    if (limit === undefined || !(over > 0)) continue;
    const x = Math.min(EQ34_OVERRUN_CAP, over / limit);
    viol += sMag * (1 + x) * x * x;
  }
  return base - viol - (r.reasons.length ? sMag : 0) - extra;
}
