import { Rng } from '../../sim/random/rng.js';
import { DIMENSIONS } from '../space.js';
import type { SearchAlgorithm, SegmentContext } from '../explore/algorithm.js';

/**
 * A genetic algorithm (docs/explore.md "Baselines"): a population of 64 genomes in the
 * unit cube of the space (decoded like SAC's actions, ActionSpace.designFromUnit), fitness
 * the Eq. 34 reward through the surrogate; each generation keeps the 4 best (elitism) and
 * breeds the rest by tournament selection (3), uniform crossover and Gaussian mutation
 * (each gene with probability 3/d, sd 0.15, clamped to [0, 1]). Every child scored is one
 * surrogate evaluation; the last generation of a segment is cut to the budget left.
 */
export const GA = { population: 64, elite: 4, tournament: 3, mutationSd: 0.15, genesMutated: 3 } as const;

interface NodePopulation {
  genomes: Float64Array[];
  fitness: number[];
}

export class GeneticSearch implements SearchAlgorithm {
  readonly name = 'ga' as const;
  private readonly pops = new Map<number, NodePopulation>();
  private generation = 0;

  constructor(state?: { generation: number; pops: Record<string, { genomes: number[][]; fitness: number[] }> }) {
    if (state) {
      this.generation = state.generation;
      for (const [k, p] of Object.entries(state.pops)) this.pops.set(Number(k), { genomes: p.genomes.map((g) => Float64Array.from(g)), fitness: [...p.fitness] });
    }
  }

  runSegment(c: SegmentContext): void {
    const d = DIMENSIONS.length;
    for (const node of c.nodes) {
      const env = c.envs.get(node)!;
      let left = c.stepsPerNode;
      const evaluate = (genomes: Float64Array[]) => {
        const scores = c.score(node, genomes.map((g) => env.actions.designFromUnit(g, `ga-${node}nm`)));
        for (const s of scores) c.offer(node, s);
        left -= genomes.length;
        const f = scores.map((s) => s.reward);
        c.onEpisode(node, Math.max(...f));
        return f;
      };
      let pop = this.pops.get(node);
      if (!pop) {
        const rng = new Rng(c.seed, `ga/${node}/init`);
        const genomes = Array.from({ length: Math.min(GA.population, left) }, () => Float64Array.from({ length: d }, () => rng.next()));
        pop = { genomes, fitness: evaluate(genomes) };
        this.pops.set(node, pop);
      }
      while (left > 0) {
        const rng = new Rng(c.seed, `ga/${node}/generation/${this.generation}`);
        const current: NodePopulation = pop;
        const order: number[] = current.fitness.map((f, i) => [f, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
        const pick = () => {
          let best = rng.int(0, current.genomes.length - 1);
          for (let t = 1; t < GA.tournament; t++) {
            const j = rng.int(0, current.genomes.length - 1);
            if (current.fitness[j] > current.fitness[best]) best = j;
          }
          return current.genomes[best];
        };
        const children = Array.from({ length: Math.min(GA.population - GA.elite, left) }, () => {
          const a = pick();
          const b = pick();
          return Float64Array.from({ length: d }, (_, i) => {
            let g = rng.next() < 0.5 ? a[i] : b[i];
            if (rng.next() < GA.genesMutated / d) g = Math.min(1, Math.max(0, g + GA.mutationSd * rng.normal()));
            return g;
          });
        });
        const f = evaluate(children);
        const elite: number[] = order.slice(0, GA.elite);
        pop = { genomes: [...elite.map((i) => current.genomes[i]), ...children], fitness: [...elite.map((i) => current.fitness[i]), ...f] };
        this.pops.set(node, pop);
        this.generation++;
      }
    }
  }

  state(): unknown {
    return { generation: this.generation, pops: Object.fromEntries([...this.pops].map(([k, p]) => [k, { genomes: p.genomes.map((g) => Array.from(g)), fitness: p.fitness }])) };
  }
}
