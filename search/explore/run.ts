import type { Design } from '../../sim/design/design.js';
import type { ModelCard } from '../../sim/model/card.js';
import type { TechTable } from '../../sim/tech/table.js';
import { MAX_CLOCK_MHZ, type ProcessNodeNm } from '../../sim/tech/nodes.js';
import type { Constraints, Weights } from '../../sim/power/ppa.js';
import { referenceFor } from '../../sim/power/reference.js';
import type { LabelRecord } from '../label/job.js';
import { LABEL_WORKLOADS } from '../workload.js';
import { Surrogate, type SurrogateBundle } from '../surrogate/model.js';
import { fineTuneSurrogate, type FineTuneOptions } from '../surrogate/finetune.js';
import { DesignEnv } from '../env/env.js';
import { scoreDesigns, type DesignScore, type RewardSettings, type SearchContext } from '../env/evaluate.js';
import { SacSearch, type SacSearchState } from '../sac/loop.js';
import type { SacArgs } from '../sac/sac.js';
import type { SacSegmentStats } from '../sac/stats.js';
import { RandomSearch } from '../baselines/random.js';
import { GridSearch } from '../baselines/grid.js';
import { GeneticSearch } from '../baselines/ga.js';
import { Archive, entryOf, spotCheckPicks, type ArchiveEntry } from './archive.js';
import type { AlgorithmName, SearchAlgorithm, SegmentContext } from './algorithm.js';
import { planBudget, type BudgetPlan, type ExploreBudget } from './budget.js';
import { simulatedResult, type SimulatedResult } from './simulated.js';
import { designFromValues } from '../space.js';

/**
 * One explore run: an algorithm and a seed over every node of the run (docs/explore.md
 * "The loop"). Segment by segment: the algorithm spends its surrogate evaluations, then a
 * spot check simulates the archive's best and most uncertain designs, logs the
 * surrogate's error on them (its prediction logged before the simulation), adds the labels
 * and fine-tunes the surrogate, re-scores the archive with it and writes a checkpoint.
 * At the end the best unsimulated designs are simulated, and each node's result is its
 * best simulated design. The run is a pure function of its spec and the simulation results
 * (which are pure functions of the designs), so it is the same on any worker and after any
 * number of interruptions: a checkpoint holds every bit of state and random streams are
 * named by counters.
 */

export interface RunSpec {
  readonly runId: string;
  readonly algo: AlgorithmName;
  readonly seed: number;
  readonly modelName: string;
  readonly card: ModelCard;
  readonly tech: TechTable;
  readonly workload: string;
  readonly nodes: readonly ProcessNodeNm[];
  readonly budget: ExploreBudget;
  readonly weights: Weights;
  readonly constraints: Constraints;
  readonly reward: RewardSettings;
  readonly sac: SacArgs;
  readonly surrogate: SurrogateBundle;
  /** The labels the initial surrogate was trained on (fine-tuning keeps them in the mix). */
  readonly baseLabels: readonly LabelRecord[];
  readonly fineTune: FineTuneOptions;
  readonly archiveSize: number;
  /** `--design`: episodes start here (retargeted to each node's clock cap); frozen dimensions keep its values. */
  readonly start?: Design;
  readonly freeze: readonly string[];
}

export interface SpotLog {
  readonly segment: number;
  readonly node: number;
  readonly phase: 'spot' | 'final';
  readonly designs: number;
  /** Over the simulated (feasible) designs: MAPE of tokens/s and power, mean |J_pred - J_sim|. */
  readonly mapeTokens: number | null;
  readonly mapePower: number | null;
  readonly maeObjective: number | null;
  /** Share whose predicted feasibility (P >= 0.5) matched the simulated one. */
  readonly feasibilityAgreement: number;
}

export interface SimulatedDesign {
  readonly key: string;
  readonly node: number;
  readonly design: Design;
  readonly phase: 'spot' | 'final';
  readonly segment: number;
  /** The surrogate's prediction logged before the first simulation. */
  readonly predicted: Omit<ArchiveEntry, 'design' | 'key'>;
  readonly simulated: SimulatedResult;
}

export interface CurvePoint {
  readonly segment: number;
  readonly node: number;
  readonly surrogateCalls: number;
  readonly simulatorCalls: number;
  readonly bestPredictedReward: number;
  readonly bestSimulatedScore: number | null;
  /** Mean episode return (SAC) or mean batch best (baselines) in the segment. */
  readonly meanEpisodeValue: number;
}

export interface NodeCounters {
  surrogateCalls: number;
  simulatorCalls: number;
}

export interface RunCheckpoint {
  readonly kind: 'tessera-explore-checkpoint';
  readonly runId: string;
  readonly segmentsDone: number;
  readonly finished: boolean;
  readonly algorithm: unknown;
  readonly surrogate: SurrogateBundle;
  readonly added: readonly LabelRecord[];
  readonly archives: Readonly<Record<string, readonly ArchiveEntry[]>>;
  readonly simulated: readonly SimulatedDesign[];
  readonly spotLog: readonly SpotLog[];
  readonly curves: readonly CurvePoint[];
  readonly counters: Readonly<Record<string, NodeCounters>>;
  readonly rescoringCalls: number;
}

export interface RunProgress {
  readonly runId: string;
  readonly node: number;
  /** Episodes (or equivalent batches of episode steps) done at this node. */
  readonly episodes: number;
  readonly bestSimulatedScore: number | null;
  readonly surrogateMapeTokens: number | null;
}

/** What a run needs from outside: simulations, checkpoint storage and progress. */
export interface RunHost {
  simulate(designs: readonly Design[]): Promise<LabelRecord[]>;
  loadCheckpoint(): RunCheckpoint | undefined;
  saveCheckpoint(c: RunCheckpoint): void;
  progress(p: RunProgress): void;
}

export interface NodeResult {
  readonly node: number;
  readonly best: SimulatedDesign | null;
  readonly simulatorCalls: number;
  readonly surrogateCalls: number;
  /** Over the final simulations: MAPE of tokens/s and power, mean |J error|. */
  readonly surrogateErrorOnFinal: { readonly mapeTokens: number | null; readonly mapePower: number | null; readonly maeObjective: number | null };
}

export interface RunResult {
  readonly runId: string;
  readonly algo: AlgorithmName;
  readonly seed: number;
  readonly plan: BudgetPlan;
  readonly nodes: readonly NodeResult[];
  readonly simulated: readonly SimulatedDesign[];
  readonly spotLog: readonly SpotLog[];
  readonly curves: readonly CurvePoint[];
  readonly rescoringCalls: number;
  readonly mpcSteps: number;
  /** SAC's training statistics per segment (empty for the baselines). */
  readonly sacStats: readonly SacSegmentStats[];
}

export function searchContext(spec: Pick<RunSpec, 'card' | 'tech' | 'workload' | 'weights' | 'constraints' | 'reward'>): SearchContext {
  return { card: spec.card, tech: spec.tech, workload: LABEL_WORKLOADS[spec.workload], reference: referenceFor(spec.card), weights: spec.weights, constraints: spec.constraints, reward: spec.reward };
}

/** `design` moved to `node` with its clock capped at the node's maximum (the retargeting). */
export function retarget(design: Design, node: ProcessNodeNm, name = design.name): Design {
  const values = new Map<string, any>();
  const walk = (o: any, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, p);
      else values.set(p, v);
    }
  };
  walk(design, '');
  values.set('processNodeNm', node);
  values.set('clockMHz', Math.min(design.clockMHz, MAX_CLOCK_MHZ[node]));
  values.delete('kind');
  values.delete('schemaVersion');
  values.delete('name');
  values.delete('description');
  values.delete('source');
  values.delete('tileOverrides');
  const d = designFromValues(values, name);
  return design.tileOverrides.length ? { ...d, tileOverrides: design.tileOverrides } : d;
}

function makeAlgorithm(spec: RunSpec, state: unknown, plan: BudgetPlan): SearchAlgorithm {
  switch (spec.algo) {
    case 'sac':
      return new SacSearch(spec.sac, plan.episodesPerSegment * plan.segments, spec.seed, state as SacSearchState | undefined);
    case 'random':
      return new RandomSearch();
    case 'grid':
      return new GridSearch(state as any);
    case 'ga':
      return new GeneticSearch(state as any);
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Errors of the predictions logged before simulation against the simulations. */
function errorsOf(ds: readonly SimulatedDesign[]): { mapeTokens: number | null; mapePower: number | null; maeObjective: number | null; feasibilityAgreement: number } {
  const ok = ds.filter((d) => d.simulated.status === 'ok' && d.simulated.tokensPerSecond > 0 && d.simulated.powerW > 0);
  return {
    mapeTokens: mean(ok.map((d) => (100 * Math.abs(d.predicted.tokensPerSecond - d.simulated.tokensPerSecond)) / d.simulated.tokensPerSecond)),
    mapePower: mean(ok.map((d) => (100 * Math.abs(d.predicted.powerW - d.simulated.powerW)) / d.simulated.powerW)),
    maeObjective: mean(ok.filter((d) => d.simulated.objective !== null && Number.isFinite(d.predicted.objective)).map((d) => Math.abs(d.predicted.objective - d.simulated.objective!))),
    feasibilityAgreement: ds.length ? ds.filter((d) => d.predicted.pFeasible >= 0.5 === d.simulated.feasible).length / ds.length : 1,
  };
}

/** Best first: feasible before infeasible, then by simulated score, then by key (stable). */
export function compareSimulated(a: SimulatedDesign, b: SimulatedDesign): number {
  if (a.simulated.feasible !== b.simulated.feasible) return a.simulated.feasible ? -1 : 1;
  return b.simulated.score - a.simulated.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export async function runSearch(spec: RunSpec, host: RunHost): Promise<RunResult> {
  const plan = planBudget(spec.budget);
  const ctx = searchContext(spec);
  const fctx = { card: spec.card, tech: spec.tech, workload: ctx.workload };
  const cp = host.loadCheckpoint();
  let bundle = cp?.surrogate ?? spec.surrogate;
  let surrogate = new Surrogate(bundle, fctx);
  const added: LabelRecord[] = [...(cp?.added ?? [])];
  const simulated: SimulatedDesign[] = [...(cp?.simulated ?? [])];
  const simulatedKeys = new Set(simulated.map((s) => s.key));
  const spotLog: SpotLog[] = [...(cp?.spotLog ?? [])];
  const curves: CurvePoint[] = [...(cp?.curves ?? [])];
  const counters = new Map<number, NodeCounters>(spec.nodes.map((n) => [n, { ...(cp?.counters[n] ?? { surrogateCalls: 0, simulatorCalls: 0 }) }]));
  let rescoringCalls = cp?.rescoringCalls ?? 0;
  const archives = new Map(spec.nodes.map((n) => [n, new Archive(spec.archiveSize, cp?.archives[n] ?? [])]));
  const starts = new Map(spec.nodes.map((n) => [n, spec.start ? retarget(spec.start, n, `${spec.card.name}-${n}nm`) : undefined]));
  const envs = new Map(spec.nodes.map((n) => [n, new DesignEnv(ctx, n, () => surrogate, plan.episodeSteps, spec.freeze, starts.get(n) ?? spec.start)]));
  const algorithm = makeAlgorithm(spec, cp?.algorithm, plan);
  let segmentValues = new Map<number, number[]>();

  const bestSimulated = (node: number) => simulated.filter((s) => s.node === node).sort(compareSimulated)[0];
  const simulateAndLog = async (picks: { node: ProcessNodeNm; entry: ArchiveEntry }[], segment: number, phase: 'spot' | 'final') => {
    const labels = await host.simulate(picks.map((p) => p.entry.design));
    const fresh: SimulatedDesign[] = picks.map(({ node, entry }, i) => {
      const { design, key, ...predicted } = entry;
      return { key, node, design, phase, segment, predicted, simulated: simulatedResult(labels[i], ctx) };
    });
    for (const f of fresh) {
      simulated.push(f);
      simulatedKeys.add(f.key);
      counters.get(f.node)!.simulatorCalls++;
    }
    added.push(...labels);
    for (const node of spec.nodes) {
      const mine = fresh.filter((f) => f.node === node);
      if (mine.length) spotLog.push({ segment, node, phase, designs: mine.length, ...errorsOf(mine) });
    }
    return labels;
  };

  const segmentContext = (segment: number): SegmentContext => ({
    nodes: spec.nodes,
    envs,
    score: (node, designs) => {
      counters.get(node)!.surrogateCalls += designs.length;
      return scoreDesigns(designs, surrogate, ctx);
    },
    offer: (node, s: DesignScore) => archives.get(node)!.offer(s, counters.get(node)!.surrogateCalls + envs.get(node)!.surrogateCalls),
    best: (node) => archives.get(node)!.best()?.design,
    start: (node) => starts.get(node),
    segment,
    segments: plan.segments,
    stepsPerNode: plan.stepsPerSegment,
    episodesPerNode: plan.episodesPerSegment,
    episodeSteps: plan.episodeSteps,
    seed: spec.seed,
    onEpisode: (node, value) => {
      (segmentValues.get(node) ?? segmentValues.set(node, []).get(node)!).push(value);
    },
  });

  const envCallsBefore = new Map(spec.nodes.map((n) => [n, 0]));
  const checkpoint = (segmentsDone: number, finished: boolean) =>
    host.saveCheckpoint({
      kind: 'tessera-explore-checkpoint',
      runId: spec.runId,
      segmentsDone,
      finished,
      algorithm: algorithm.state(),
      surrogate: bundle,
      added,
      archives: Object.fromEntries([...archives].map(([n, a]) => [n, a.all()])),
      simulated,
      spotLog,
      curves,
      counters: Object.fromEntries(counters),
      rescoringCalls,
    });

  for (let segment = cp?.segmentsDone ?? 0; segment < plan.segments && !cp?.finished; segment++) {
    segmentValues = new Map();
    for (const n of spec.nodes) envCallsBefore.set(n, envs.get(n)!.surrogateCalls);
    algorithm.runSegment(segmentContext(segment));
    for (const n of spec.nodes) counters.get(n)!.surrogateCalls += envs.get(n)!.surrogateCalls - envCallsBefore.get(n)!;
    // spot check: the best and the most uncertain designs of every node, simulated together
    const picks = spec.nodes.flatMap((node) => spotCheckPicks(archives.get(node)!, simulatedKeys, plan.spotTop, plan.spotUncertain).map((entry) => ({ node, entry })));
    const labels = await simulateAndLog(picks, segment, 'spot');
    bundle = fineTuneSurrogate(bundle, [...spec.baseLabels, ...added], labels, fctx, { ...spec.fineTune, seed: spec.seed * 1000 + segment });
    surrogate = new Surrogate(bundle, fctx);
    for (const [node, archive] of archives) {
      archive.rescore((designs) => {
        rescoringCalls += designs.length;
        return scoreDesigns(designs, surrogate, ctx).map((s) => entryOf(s, counters.get(node)!.surrogateCalls));
      });
    }
    for (const node of spec.nodes) {
      const values = segmentValues.get(node) ?? [];
      const best = bestSimulated(node);
      curves.push({ segment, node, surrogateCalls: counters.get(node)!.surrogateCalls, simulatorCalls: counters.get(node)!.simulatorCalls, bestPredictedReward: archives.get(node)!.best()?.reward ?? -Infinity, bestSimulatedScore: best ? best.simulated.score : null, meanEpisodeValue: mean(values) ?? 0 });
      const last = [...spotLog].reverse().find((l) => l.node === node);
      host.progress({ runId: spec.runId, node, episodes: Math.round(((segment + 1) * plan.episodesPerNode) / plan.segments), bestSimulatedScore: best ? best.simulated.score : null, surrogateMapeTokens: last?.mapeTokens ?? null });
    }
    checkpoint(segment + 1, false);
  }

  if (!cp?.finished) {
    // final simulations: the best designs not yet simulated, per node
    const picks = spec.nodes.flatMap((node) => spotCheckPicks(archives.get(node)!, simulatedKeys, plan.finalPerNode, 0).map((entry) => ({ node, entry })));
    await simulateAndLog(picks, plan.segments, 'final');
    checkpoint(plan.segments, true);
  }

  const nodes: NodeResult[] = spec.nodes.map((node) => {
    const finals = simulated.filter((s) => s.node === node && s.phase === 'final');
    const e = errorsOf(finals);
    return { node, best: bestSimulated(node) ?? null, ...counters.get(node)!, surrogateErrorOnFinal: { mapeTokens: e.mapeTokens, mapePower: e.mapePower, maeObjective: e.maeObjective } };
  });
  return { runId: spec.runId, algo: spec.algo, seed: spec.seed, plan, nodes, simulated, spotLog, curves, rescoringCalls, mpcSteps: algorithm instanceof SacSearch ? algorithm.mpcSteps : 0, sacStats: algorithm instanceof SacSearch ? algorithm.stats : [] };
}

