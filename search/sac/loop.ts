import { Rng } from '../../sim/random/rng.js';
import type { ProcessNodeNm } from '../../sim/tech/nodes.js';
import { CONTINUOUS_COUNT, DISCRETE_CHOICES, DISCRETE_HEADS } from '../env/actions.js';
import { GATE_FIELDS, OBS_DIM } from '../env/observation.js';
import type { SearchAlgorithm, SegmentContext } from '../explore/algorithm.js';
import { designKey } from '../explore/archive.js';
import { epsilonAt, SacAgent, type SacArgs, type SacState } from './sac.js';
import { designHash, SegmentStatsAccumulator, type SacSegmentStats } from './stats.js';

/**
 * The SAC search (docs/explore.md "Episodes"): one agent for every node of the run.
 * Episodes cycle through the nodes (episode e is at node nodes[e mod k]), so the replay
 * buffer and the networks are shared and the mixture-of-experts gate tells the nodes
 * apart. An episode starts at the run's `--design` when given, else (half the time once
 * learning has begun) at the best design found so far for its node, else at a uniform
 * random design of the box; it lasts `episodeSteps` steps. Every step is stored, and after
 * the warm-up the agent makes `updatesPerStep` gradient updates per step. Random draws
 * come from streams named by the episode and update counters, so a checkpoint needs only
 * the counters to resume the same run.
 */

export interface SacSearchState {
  readonly agent: SacState;
  readonly episodes: number;
  readonly steps: number;
  readonly credit: number;
  readonly mpcSteps: number;
  readonly stats?: readonly SacSegmentStats[];
  /** Hashes of the designs visited so far (the distinct-design count of the statistics). */
  readonly seen?: readonly number[];
}

export class SacSearch implements SearchAlgorithm {
  readonly name = 'sac' as const;
  readonly agent: SacAgent;
  private episodes = 0;
  private steps = 0;
  private credit = 0;
  /** Steps whose continuous action MPC refined. */
  mpcSteps = 0;
  /** Training statistics, one entry per segment (docs/explore.md "Diagnosing SAC"). */
  readonly stats: SacSegmentStats[] = [];
  private readonly seen = new Set<number>();

  constructor(
    readonly args: SacArgs,
    /** Episodes per node over the whole run (epsilon's schedule, beta's annealing). */
    private readonly episodesPerNode: number,
    seed: number,
    state?: SacSearchState,
  ) {
    this.agent = new SacAgent(args, { obsDim: OBS_DIM, contDim: CONTINUOUS_COUNT, heads: DISCRETE_HEADS, choices: DISCRETE_CHOICES, gateFields: GATE_FIELDS }, seed, state?.agent);
    if (state) {
      this.episodes = state.episodes;
      this.steps = state.steps;
      this.credit = state.credit;
      this.mpcSteps = state.mpcSteps;
      this.stats.push(...(state.stats ?? []));
      for (const h of state.seen ?? []) this.seen.add(h);
    }
  }

  runSegment(c: SegmentContext): void {
    const k = c.nodes.length;
    const totalEpisodes = this.episodesPerNode * k;
    const totalSteps = totalEpisodes * c.episodeSteps;
    const warmup = Math.min(this.args.warmupSteps, Math.floor(0.1 * totalSteps));
    const acc = new SegmentStatsAccumulator();
    for (let e = 0; e < c.episodesPerNode * k; e++) {
      const node = c.nodes[this.episodes % k] as ProcessNodeNm;
      const env = c.envs.get(node)!;
      const rng = new Rng(c.seed, `sac/episode/${this.episodes}`);
      const learning = this.steps >= warmup;
      const start = c.start(node) ?? (learning && rng.next() < 0.5 ? c.best(node) : undefined) ?? env.randomDesign(rng);
      let obs = env.reset(start).obs;
      let ret = 0;
      for (let t = 0; t < c.episodeSteps; t++) {
        const epsilon = this.steps < warmup ? 1 : epsilonAt(this.args, this.episodes, totalEpisodes);
        const a = this.agent.act(obs, epsilon, rng);
        if (a.mpc) this.mpcSteps++;
        const r = env.step(a);
        c.offer(node, r.score);
        acc.step(a, r.reward, r.score.ppa.feasible, designHash(designKey(r.score.design)), this.seen);
        this.agent.replay.add(obs, a.discrete, a.continuous, r.reward, r.obs);
        ret += r.reward;
        obs = r.obs;
        this.steps++;
        if (this.steps > warmup && this.agent.replay.size >= this.args.batch) {
          this.credit += this.args.updatesPerStep;
          while (this.credit >= 1) {
            acc.update(this.agent.update(this.steps / totalSteps, new Rng(c.seed, `sac/update/${this.agent.updates}`)));
            this.credit -= 1;
          }
        }
      }
      this.episodes++;
      c.onEpisode(node, ret);
    }
    this.stats.push(acc.finish(c.segment, this.steps, this.agent.updates, this.seen.size));
  }

  state(): SacSearchState {
    return { agent: this.agent.state(), episodes: this.episodes, steps: this.steps, credit: this.credit, mpcSteps: this.mpcSteps, stats: this.stats, seen: [...this.seen] };
  }
}
