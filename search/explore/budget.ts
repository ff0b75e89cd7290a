import { InputError } from '../../sim/validate/inputError.js';

/**
 * How a run's budgets are spent (docs/explore.md "Budgets"). Per node and algorithm:
 *
 * - surrogate evaluations: episodes x (episode steps + 1): SAC scores each episode's
 *   start design and every step's design, the baselines score as many designs; split
 *   evenly over the segments between spot checks (each gets episodes / S episodes);
 * - simulator calls: `simBudget`; S = episodes / spotCheckEvery spot checks of
 *   m = floor((simBudget - F) / S) designs each, F = min(16, ceil(simBudget / 10)) (40% of m,
 *   rounded half up, the most uncertain, the rest the best predicted), and the final
 *   simulations take the rest, simBudget - S m >= F.
 */

export interface ExploreBudget {
  readonly episodesPerNode: number;
  readonly episodeSteps: number;
  readonly spotCheckEvery: number;
  readonly simBudgetPerNode: number;
}

export interface BudgetPlan extends ExploreBudget {
  readonly segments: number;
  /** Episodes per node in each segment (SAC). */
  readonly episodesPerSegment: number;
  /** Surrogate evaluations per node in each segment: episodesPerSegment x (episodeSteps + 1). */
  readonly stepsPerSegment: number;
  readonly spotTop: number;
  readonly spotUncertain: number;
  readonly finalPerNode: number;
}

/** Defaults: the at least 200 simulator calls and 20,000 environment steps per node. */
export const BUDGET_DEFAULTS: ExploreBudget = { episodesPerNode: 2000, episodeSteps: 10, spotCheckEvery: 100, simBudgetPerNode: 200 };

export function planBudget(b: ExploreBudget): BudgetPlan {
  const whole = (flag: string, v: number, fix: string) => {
    if (!(Number.isSafeInteger(v) && v >= 1)) throw new InputError('command line', flag, v, 'a whole number >= 1', fix);
  };
  whole('--episodes', b.episodesPerNode, 'e.g. --episodes 2000');
  whole('--episode-steps', b.episodeSteps, 'e.g. --episode-steps 10');
  whole('--spot-check-every', b.spotCheckEvery, 'e.g. --spot-check-every 100');
  whole('--sim-budget', b.simBudgetPerNode, 'e.g. --sim-budget 200');
  if (b.spotCheckEvery > b.episodesPerNode) throw new InputError('command line', '--spot-check-every', b.spotCheckEvery, `at most --episodes (${b.episodesPerNode}): a run needs at least one spot check`, `e.g. --spot-check-every ${Math.max(1, Math.floor(b.episodesPerNode / 10))}`);
  const segments = Math.floor(b.episodesPerNode / b.spotCheckEvery);
  const finalPerNode = Math.min(16, Math.ceil(b.simBudgetPerNode / 10));
  const m = Math.floor((b.simBudgetPerNode - finalPerNode) / segments);
  if (m < 1) {
    const need = finalPerNode + segments;
    throw new InputError('command line', '--sim-budget', b.simBudgetPerNode, `below one spot check: ${segments} spot checks of at least 1 design plus ${finalPerNode} final simulations need at least ${need} simulator calls per node`, `raise --sim-budget to ${need} or more, or spot-check less often (--spot-check-every)`);
  }
  // 40% of each spot check (rounded half up) to the most uncertain designs, at least one design to the best
  const spotUncertain = Math.floor(0.4 * m + 0.5);
  const spotTop = m - spotUncertain;
  const episodesPerSegment = Math.floor(b.episodesPerNode / segments);
  // the final simulations take what the spot checks leave, so the whole budget is spent
  return { ...b, segments, episodesPerSegment, stepsPerSegment: episodesPerSegment * (b.episodeSteps + 1), spotTop, spotUncertain, finalPerNode: b.simBudgetPerNode - segments * m };
}
