import type { ModelCard } from '../../sim/model/card.js';
import type { Design } from '../../sim/design/design.js';
import type { TechTable } from '../../sim/tech/table.js';
import { commonValues } from '../../sim/tech/table.js';
import { dieLayout } from '../../sim/power/dies.js';
import { eq34Reward, ppaScore, type Constraints, type PpaResult, type Weights } from '../../sim/power/ppa.js';
import type { WorkloadReference } from '../../sim/power/reference.js';
import { normalCdf, TARGETS, type Surrogate } from '../surrogate/model.js';
import type { Analytic } from '../surrogate/features.js';
import type { LabelWorkload } from '../workload.js';
import { hazardStats, type HazardStats } from './hazards.js';
import { mappingSummary, type MappingSummary } from './mappingSummary.js';

/**
 * How the search scores a design without simulating it (docs/explore.md "Reward"): the
 * surrogate's predictions (tokens/s, power, energy, latencies, area where it is not exact)
 * with their uncertainty, the mapping summary (memory pressure, feasibility), the tile's
 * hazard statistics, the dies the area needs, and from those the PPA result under the
 * run's weights and constraints and the Eq. 34 reward. Every algorithm (SAC, random, grid,
 * GA) scores designs through this one function, so their surrogate budgets are counted
 * the same way: one surrogate call per design.
 */

export interface RewardSettings {
  /** s_mag of Eq. 34 (feasibility bonus and violation scale). */
  readonly sMag: number;
  /** lambda_mem: P_mem = lambda_mem min(1, max(0, M_used - M_budget)). */
  readonly lambdaMem: number;
  /** M_budget of P_mem in Eq. 17 units (1.5: every WMEM and DMEM byte in use). */
  readonly memoryBudget: number;
  /** lambda_haz: P_haz = lambda_haz x hazard score (in [0, 1]). */
  readonly lambdaHaz: number;
}

/** Defaults (docs/explore.md "Reward"): s_mag 1, lambda_mem 1 over M_budget 1.5, lambda_haz 0.25. */
export const REWARD_DEFAULTS: RewardSettings = { sMag: 1, lambdaMem: 1, memoryBudget: 1.5, lambdaHaz: 0.25 };

export interface SearchContext {
  readonly card: ModelCard;
  readonly tech: TechTable;
  readonly workload: LabelWorkload;
  readonly reference: WorkloadReference;
  readonly weights: Weights;
  /** The run's constraints: the user's budgets and SLOs plus the die limit (SEARCH_DEFAULT_CONSTRAINTS). */
  readonly constraints: Constraints;
  readonly reward: RewardSettings;
}

/** Log-space predictions of one design (natural logs of the original units). */
export interface Predicted {
  readonly logTokensPerSecond: number;
  readonly logPowerW: number;
  readonly logEnergyPerTokenJ: number;
  readonly logTtftMs: number;
  readonly logItlP50Ms: number;
  readonly logItlP99Ms: number;
  readonly logAreaMm2: number;
  /** Log-space sigmas of tokens/s, power and area (the 90% interval is +-1.645 sigma). */
  readonly sigmaTokens: number;
  readonly sigmaPower: number;
  readonly sigmaArea: number;
}

export interface DesignScore {
  readonly design: Design;
  readonly predicted: Predicted;
  readonly analytic: Analytic;
  readonly mapping: MappingSummary;
  readonly hazards: HazardStats;
  readonly dies: number;
  /** The PPA result on the predicted metrics, under the run's weights and constraints. */
  readonly ppa: PpaResult;
  /** P(feasible): mapping, dies, and the power and area budgets under the predicted distributions. */
  readonly pFeasible: number;
  readonly reward: number;
  readonly penalties: { readonly memory: number; readonly hazard: number };
}

const K = TARGETS.length;
const T = (name: string) => TARGETS.findIndex((t) => t.name === name);
const I = { tok: T('tokensPerSecond'), pow: T('powerW'), en: T('energyPerTokenJ'), ttft: T('ttftMs'), itl50: T('itlMsP50'), itl99: T('itlMsP99'), area: T('areaMm2') };

const percentiles = (p50: number, p99: number) => ({ p50, p90: p99, p99, max: p99, count: 1 });

/** Dies a design of uniform tiles needs under the reticle (the area model's die layout). */
export function diesOf(design: Design, areaMm2: number, tech: TechTable): number {
  const reticle = commonValues(tech).reticleLimitMm2;
  if (areaMm2 <= reticle) return 1;
  const n = design.mesh.rows * design.mesh.cols;
  return dieLayout(design.mesh.rows, design.mesh.cols, new Array<number>(n).fill(areaMm2 / n), reticle).count;
}

/** Score designs with one batched surrogate call (one call per design). */
export function scoreDesigns(designs: readonly Design[], surrogate: Surrogate, ctx: SearchContext): DesignScore[] {
  if (designs.length === 0) return [];
  const { mu, sigma, analytic } = surrogate.predictLog(designs);
  const c = ctx.constraints;
  const reticle = commonValues(ctx.tech).reticleLimitMm2;
  return designs.map((design, i) => {
    const m = (k: number) => mu[i * K + k];
    const predicted: Predicted = {
      logTokensPerSecond: m(I.tok),
      logPowerW: m(I.pow),
      logEnergyPerTokenJ: m(I.en),
      logTtftMs: m(I.ttft),
      logItlP50Ms: m(I.itl50),
      logItlP99Ms: m(I.itl99),
      logAreaMm2: m(I.area),
      sigmaTokens: sigma[i * K + I.tok],
      sigmaPower: sigma[i * K + I.pow],
      sigmaArea: sigma[i * K + I.area],
    };
    const mapping = mappingSummary(ctx.card, design, ctx.workload);
    const hazards = hazardStats(design);
    const area = Math.exp(predicted.logAreaMm2);
    const dies = diesOf(design, area, ctx.tech);
    const powerW = Math.exp(predicted.logPowerW);
    const metrics = {
      tokensPerSecond: Math.exp(predicted.logTokensPerSecond),
      powerW,
      areaMm2: area,
      // only the p99s meet the SLOs (ppaScore reads p99)
      itlMs: percentiles(Math.exp(predicted.logItlP50Ms), Math.exp(predicted.logItlP99Ms)),
      ttftMs: percentiles(Math.exp(predicted.logTtftMs), Math.exp(predicted.logTtftMs)),
    };
    const ppa = ppaScore(metrics, ctx.reference, { weights: ctx.weights, constraints: c, mappingFeasible: mapping.feasible, dies: { count: dies, reticleLimitMm2: reticle } });
    const r = ctx.reward;
    const penalties = { memory: r.lambdaMem * Math.min(1, Math.max(0, mapping.memoryPressure - r.memoryBudget)), hazard: r.lambdaHaz * hazards.score };
    const reward = eq34Reward(ppa, powerW, c, r.sMag, penalties);
    const below = (logValue: number, s: number, budget: number | undefined) => (budget === undefined ? 1 : s > 1e-6 ? normalCdf((Math.log(budget) - logValue) / s) : logValue <= Math.log(budget) ? 1 : 0);
    const diesOk = c.maxDies === undefined || dies <= c.maxDies ? 1 : 0;
    const pFeasible = (mapping.feasible ? 1 : 0) * diesOk * below(predicted.logPowerW, predicted.sigmaPower, c.powerBudgetW) * below(predicted.logAreaMm2, predicted.sigmaArea, c.areaBudgetMm2);
    return { design, predicted, analytic: analytic[i], mapping, hazards, dies, ppa, pFeasible, reward, penalties };
  });
}
