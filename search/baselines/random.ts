import { Rng } from '../../sim/random/rng.js';
import { DIMENSIONS } from '../space.js';
import type { SearchAlgorithm, SegmentContext } from '../explore/algorithm.js';

/**
 * Random search (docs/explore.md "Baselines"): every node's budget of surrogate
 * evaluations goes to designs drawn uniformly in the unit cube of the space and mapped
 * through the same box and quantisation as SAC's actions (ActionSpace.designFromUnit),
 * scored in batches of 256.
 */
export const RANDOM_BATCH = 256;

export class RandomSearch implements SearchAlgorithm {
  readonly name = 'random' as const;

  runSegment(c: SegmentContext): void {
    for (const node of c.nodes) {
      const env = c.envs.get(node)!;
      const rng = new Rng(c.seed, `random/${node}/${c.segment}`);
      for (let done = 0; done < c.stepsPerNode; done += RANDOM_BATCH) {
        const n = Math.min(RANDOM_BATCH, c.stepsPerNode - done);
        const designs = Array.from({ length: n }, () => env.actions.designFromUnit(Float64Array.from(DIMENSIONS, () => rng.next()), `random-${node}nm`));
        const scores = c.score(node, designs);
        let best = -Infinity;
        for (const s of scores) {
          c.offer(node, s);
          best = Math.max(best, s.reward);
        }
        c.onEpisode(node, best);
      }
    }
  }

  state(): unknown {
    return {};
  }
}
