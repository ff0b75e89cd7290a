import { Rng } from '../../sim/random/rng.js';
import { DIMENSIONS } from '../space.js';
import type { SearchAlgorithm, SegmentContext } from '../explore/algorithm.js';

/**
 * A coarse grid (docs/explore.md "Baselines"): three levels (the centres of the lower,
 * middle and upper thirds of each coordinate's range) on the g most influential
 * dimensions, every other dimension at the middle of its range, with g the largest number
 * whose 3^g points fit the node's whole budget (9 dimensions for 20,000 evaluations). The
 * points are visited in a seeded random order, so a run cut short has covered the grid
 * evenly; once every point is scored the grid spends nothing more (its budget use is in
 * the summary).
 */
export const GRID_DIMS: readonly string[] = ['mesh.rows', 'mesh.cols', 'clockMHz', 'tile.vlenBits', 'tile.wmemKiB', 'precision.weights', 'serving.maxBatch', 'tile.dmemKiB', 'tile.fetchWidth', 'serving.batching', 'noc.flitBits', 'tile.romBytesPerCycle'];
const LEVELS = 3;
const BATCH = 256;

export function gridSize(budgetPerNode: number): { dims: number; points: number } {
  let g = 1;
  while (g < GRID_DIMS.length && LEVELS ** (g + 1) <= budgetPerNode) g++;
  return { dims: g, points: LEVELS ** g };
}

export class GridSearch implements SearchAlgorithm {
  readonly name = 'grid' as const;
  private readonly next = new Map<number, number>();

  constructor(state?: { next: Record<string, number> }) {
    if (state) for (const [k, v] of Object.entries(state.next)) this.next.set(Number(k), v);
  }

  runSegment(c: SegmentContext): void {
    const { dims, points } = gridSize(c.stepsPerNode * c.segments);
    const index = GRID_DIMS.slice(0, dims).map((p) => DIMENSIONS.findIndex((d) => d.path === p));
    for (const node of c.nodes) {
      const order = new Rng(c.seed, `grid/${node}/order`).shuffle(Array.from({ length: points }, (_, i) => i));
      const env = c.envs.get(node)!;
      let at = this.next.get(node) ?? 0;
      const stop = Math.min(points, at + c.stepsPerNode);
      while (at < stop) {
        const n = Math.min(BATCH, stop - at);
        const designs = order.slice(at, at + n).map((p) => {
          const u = new Float64Array(DIMENSIONS.length).fill(0.5);
          let rest = p;
          for (const i of index) {
            u[i] = ((rest % LEVELS) + 0.5) / LEVELS;
            rest = Math.floor(rest / LEVELS);
          }
          return env.actions.designFromUnit(u, `grid-${node}nm`);
        });
        let best = -Infinity;
        for (const s of c.score(node, designs)) {
          c.offer(node, s);
          best = Math.max(best, s.reward);
        }
        c.onEpisode(node, best);
        at += n;
      }
      this.next.set(node, at);
    }
  }

  state(): { next: Record<string, number> } {
    return { next: Object.fromEntries(this.next) };
  }
}
