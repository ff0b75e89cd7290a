import { Rng } from '../../sim/random/rng.js';
import type { Design } from '../../sim/design/design.js';
import type { AlgorithmName } from './algorithm.js';
import type { BudgetPlan } from './budget.js';
import { compareSimulated, type RunResult, type SimulatedDesign } from './run.js';

/**
 * The run folder's summary.json (docs/explore.md "Results"): per node and algorithm the
 * best simulated PPA score and its design file, the simulator and surrogate calls, the
 * surrogate's error on the final simulations and the wall time, per seed and over seeds;
 * and SAC against each baseline: the mean difference of the best simulated scores with a
 * bootstrap 95% confidence interval, whether or not it is significant. Every score here
 * is a simulated one.
 */

export interface SeedEntry {
  readonly seed: number;
  readonly runId: string;
  readonly bestSimulatedPpaScore: number | null;
  readonly feasible: boolean;
  readonly bestDesignFile: string | null;
  readonly simulatorCalls: number;
  readonly surrogateCalls: number;
  readonly surrogateErrorOnFinal: RunResult['nodes'][number]['surrogateErrorOnFinal'];
  readonly wallSeconds: number;
  /** The best design's simulated figures and the surrogate's prediction logged before its first simulation. */
  readonly simulated: SimulatedDesign['simulated'] | null;
  readonly predictedBeforeSimulation: { readonly objective: number; readonly tokensPerSecond: number; readonly powerW: number; readonly areaMm2: number; readonly pFeasible: number } | null;
}

export interface AlgoEntry {
  readonly bestSimulatedPpaScore: number | null;
  readonly bestDesignFile: string | null;
  readonly meanBestScore: number | null;
  readonly sdBestScore: number | null;
  readonly simulatorCalls: number;
  readonly surrogateCalls: number;
  readonly surrogateErrorOnFinal: SeedEntry['surrogateErrorOnFinal'];
  readonly wallSeconds: number;
  readonly seeds: readonly SeedEntry[];
}

export interface Comparison {
  readonly against: AlgorithmName;
  readonly n: { readonly sac: number; readonly other: number };
  readonly sacMean: number;
  readonly sacSd: number;
  readonly otherMean: number;
  readonly otherSd: number;
  /** mean(SAC) - mean(other) of the best simulated PPA scores. */
  readonly meanDifference: number;
  /** Bootstrap 95% interval of the difference (10,000 resamples of each group), null with one seed. */
  readonly ci95: readonly [number, number] | null;
  readonly significant: boolean | null;
}

export interface ExploreSummary {
  readonly kind: 'tessera-explore-summary';
  readonly model: string;
  readonly nodes: readonly number[];
  readonly algorithms: readonly AlgorithmName[];
  readonly seeds: readonly number[];
  readonly budget: BudgetPlan;
  readonly perNode: Readonly<Record<string, Readonly<Record<string, AlgoEntry>>>>;
  readonly comparisons: Readonly<Record<string, readonly Comparison[]>>;
  readonly runs: readonly { readonly runId: string; readonly algo: AlgorithmName; readonly seed: number; readonly wallSeconds: number; readonly mpcSteps: number; readonly rescoringCalls: number }[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** Bootstrap 95% interval of mean(a) - mean(b), resampling each group with replacement. */
export function bootstrapDifference(a: readonly number[], b: readonly number[], resamples = 10_000, seed = 20260101): readonly [number, number] | null {
  if (a.length < 2 || b.length < 2) return null;
  const rng = new Rng(seed, 'explore/bootstrap');
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < a.length; i++) sa += a[rng.int(0, a.length - 1)];
    for (let i = 0; i < b.length; i++) sb += b[rng.int(0, b.length - 1)];
    diffs[r] = sa / a.length - sb / b.length;
  }
  diffs.sort();
  return [diffs[Math.floor(0.025 * resamples)], diffs[Math.ceil(0.975 * resamples) - 1]];
}

/** Design file name for a run's best design at a node. */
export const designFileName = (runId: string, node: number) => `designs/${runId}-${node}nm.json`;

export function buildSummary(model: string, results: readonly RunResult[], wallSeconds: ReadonlyMap<string, number>): ExploreSummary {
  const nodes = results[0].nodes.map((n) => n.node);
  const algorithms = [...new Set(results.map((r) => r.algo))];
  const seeds = [...new Set(results.map((r) => r.seed))];
  const perNode: Record<string, Record<string, AlgoEntry>> = {};
  const comparisons: Record<string, Comparison[]> = {};
  for (const node of nodes) {
    perNode[node] = {};
    for (const algo of algorithms) {
      const entries: SeedEntry[] = results
        .filter((r) => r.algo === algo)
        .map((r) => {
          const n = r.nodes.find((x) => x.node === node)!;
          const best = n.best;
          return {
            seed: r.seed,
            runId: r.runId,
            bestSimulatedPpaScore: best ? best.simulated.score : null,
            feasible: best?.simulated.feasible ?? false,
            bestDesignFile: best ? designFileName(r.runId, node) : null,
            simulatorCalls: n.simulatorCalls,
            surrogateCalls: n.surrogateCalls,
            surrogateErrorOnFinal: n.surrogateErrorOnFinal,
            wallSeconds: wallSeconds.get(r.runId) ?? 0,
            simulated: best?.simulated ?? null,
            predictedBeforeSimulation: best ? { objective: best.predicted.objective, tokensPerSecond: best.predicted.tokensPerSecond, powerW: best.predicted.powerW, areaMm2: best.predicted.areaMm2, pFeasible: best.predicted.pFeasible } : null,
          };
        });
      const scores = entries.flatMap((e) => (e.bestSimulatedPpaScore === null ? [] : [e.bestSimulatedPpaScore]));
      const bestEntry = [...entries].sort((a, b) => (b.bestSimulatedPpaScore ?? -Infinity) - (a.bestSimulatedPpaScore ?? -Infinity))[0];
      const errs = (k: 'mapeTokens' | 'mapePower' | 'maeObjective') => {
        const xs = entries.flatMap((e) => (e.surrogateErrorOnFinal[k] === null ? [] : [e.surrogateErrorOnFinal[k]!]));
        return xs.length ? mean(xs) : null;
      };
      perNode[node][algo] = {
        bestSimulatedPpaScore: bestEntry?.bestSimulatedPpaScore ?? null,
        bestDesignFile: bestEntry?.bestDesignFile ?? null,
        meanBestScore: scores.length ? mean(scores) : null,
        sdBestScore: scores.length ? sd(scores) : null,
        simulatorCalls: mean(entries.map((e) => e.simulatorCalls)),
        surrogateCalls: mean(entries.map((e) => e.surrogateCalls)),
        surrogateErrorOnFinal: { mapeTokens: errs('mapeTokens'), mapePower: errs('mapePower'), maeObjective: errs('maeObjective') },
        wallSeconds: mean(entries.map((e) => e.wallSeconds)),
        seeds: entries,
      };
    }
    const sacScores = (perNode[node].sac?.seeds ?? []).flatMap((e) => (e.bestSimulatedPpaScore === null ? [] : [e.bestSimulatedPpaScore]));
    comparisons[node] = algorithms
      .filter((a) => a !== 'sac' && perNode[node].sac)
      .map((other) => {
        const o = perNode[node][other].seeds.flatMap((e) => (e.bestSimulatedPpaScore === null ? [] : [e.bestSimulatedPpaScore]));
        const ci = bootstrapDifference(sacScores, o);
        return { against: other, n: { sac: sacScores.length, other: o.length }, sacMean: mean(sacScores), sacSd: sd(sacScores), otherMean: mean(o), otherSd: sd(o), meanDifference: mean(sacScores) - mean(o), ci95: ci, significant: ci ? ci[0] > 0 || ci[1] < 0 : null };
      });
  }
  return {
    kind: 'tessera-explore-summary',
    model,
    nodes,
    algorithms,
    seeds,
    budget: results[0].plan,
    perNode,
    comparisons,
    runs: results.map((r) => ({ runId: r.runId, algo: r.algo, seed: r.seed, wallSeconds: wallSeconds.get(r.runId) ?? 0, mpcSteps: r.mpcSteps, rescoringCalls: r.rescoringCalls })),
  };
}

/** The best simulated design of a node over every run (for `designs/best-<node>nm.json`). */
export function bestOverRuns(results: readonly RunResult[], node: number): { runId: string; design: Design; s: SimulatedDesign } | undefined {
  const all = results.flatMap((r) => {
    const b = r.nodes.find((n) => n.node === node)?.best;
    return b ? [{ runId: r.runId, design: b.design, s: b }] : [];
  });
  return all.sort((a, b) => compareSimulated(a.s, b.s) || (a.runId < b.runId ? -1 : 1))[0];
}
