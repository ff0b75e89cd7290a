import type { Design } from '../../sim/design/design.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import type { DesignEnv } from '../env/env.js';
import type { DesignScore } from '../env/evaluate.js';

/**
 * What an explore algorithm does between two spot checks (docs/explore.md "Budgets"): for
 * every node it spends `stepsPerNode` surrogate evaluations on designs of that node and
 * offers each scored design to the run (which keeps the archive). SAC spends them as
 * environment steps, the baselines as batches of designs; all score through the same
 * function, so an algorithm's surrogate budget is exactly its number of scored designs.
 */

export type AlgorithmName = 'sac' | 'random' | 'grid' | 'ga';
export const ALGORITHMS: readonly AlgorithmName[] = ['sac', 'random', 'grid', 'ga'];

export interface SegmentContext {
  readonly nodes: readonly ProcessNodeNm[];
  /** One environment per node (SAC steps them; the baselines use their action spaces). */
  readonly envs: ReadonlyMap<ProcessNodeNm, DesignEnv>;
  /** Score designs of one node (surrogate calls are counted by the run). */
  readonly score: (node: ProcessNodeNm, designs: Design[]) => DesignScore[];
  /** Hand a scored design to the run's archive. */
  readonly offer: (node: ProcessNodeNm, s: DesignScore) => void;
  /** The best design found so far for a node (by predicted reward), for restarts. */
  readonly best: (node: ProcessNodeNm) => Design | undefined;
  /** The run's start design for a node (`--design`), if any. */
  readonly start: (node: ProcessNodeNm) => Design | undefined;
  readonly segment: number;
  readonly segments: number;
  /** Surrogate evaluations each node gets in this segment. */
  readonly stepsPerNode: number;
  /** Episodes each node gets in this segment (SAC: stepsPerNode = episodes x (episodeSteps + 1)). */
  readonly episodesPerNode: number;
  readonly episodeSteps: number;
  readonly seed: number;
  /** An episode ended (SAC) or a batch was scored (baselines): node, its return or best reward. */
  readonly onEpisode: (node: ProcessNodeNm, value: number) => void;
}

export interface SearchAlgorithm {
  readonly name: AlgorithmName;
  runSegment(c: SegmentContext): void;
  /** Plain data for the run's checkpoint. */
  state(): unknown;
}
