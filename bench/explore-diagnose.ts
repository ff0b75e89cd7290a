import { builtinModel } from '../sim/model/catalog.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DEFAULT_WEIGHTS, SEARCH_DEFAULT_CONSTRAINTS } from '../sim/power/ppa.js';
import type { ProcessNodeNm } from '../sim/tech/nodes.js';
import { labelWorkloadFor } from '../search/workload.js';
import { loadSurrogate, Surrogate } from '../search/surrogate/model.js';
import { DesignEnv } from '../search/env/env.js';
import { REWARD_DEFAULTS, scoreDesigns } from '../search/env/evaluate.js';
import { SAC_DEFAULTS, type SacArgs } from '../search/sac/sac.js';
import { SacSearch } from '../search/sac/loop.js';
import { RandomSearch } from '../search/baselines/random.js';
import { GeneticSearch } from '../search/baselines/ga.js';
import { Archive, designKey } from '../search/explore/archive.js';
import { searchContext } from '../search/explore/run.js';
import type { SearchAlgorithm, SegmentContext } from '../search/explore/algorithm.js';
import { designHash } from '../search/sac/stats.js';
import { Rng } from '../sim/random/rng.js';

/**
 * The search half of an explore run without the simulator (docs/explore.md "Diagnosing
 * SAC"): one algorithm against a fixed surrogate, segment by segment, printing the best
 * predicted reward and objective found, the distinct designs visited and, for SAC, its
 * training statistics. It separates "the optimiser does not find what the surrogate
 * rates best" from "the surrogate rates the wrong designs best".
 * Usage: node --import tsx bench/explore-diagnose.ts SURROGATE.msgpack ALGO SEED [EPISODES] [KEY=VALUE SAC overrides...]
 */

const [file, algo = 'sac', seedText = '1', episodesText = '1000', ...rest] = process.argv.slice(2);
const seed = Number(seedText);
const episodes = Number(episodesText);
const overrides: Record<string, unknown> = Object.fromEntries(rest.map((kv) => kv.split('=')).map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : Number(v)]));
const card = builtinModel('smollm2-135m')!;
const node = 7 as ProcessNodeNm;
const spec = { card, tech: DEFAULT_TECH, workload: labelWorkloadFor(card).name, weights: DEFAULT_WEIGHTS, constraints: SEARCH_DEFAULT_CONSTRAINTS, reward: REWARD_DEFAULTS };
const ctx = searchContext(spec);
const surrogate = new Surrogate(loadSurrogate(file), { card, tech: DEFAULT_TECH, workload: ctx.workload });
const episodeSteps = 10;
const segments = 10;
const perSegment = episodes / segments;
const env = new DesignEnv(ctx, node, () => surrogate, episodeSteps);
const envs = new Map([[node, env]]);
const archive = new Archive(256);
let calls = 0;
const visited = new Set<number>();
const sacArgs: SacArgs = { ...SAC_DEFAULTS, warmupSteps: Math.min(1000, episodes), mpcMinUpdates: Math.min(500, episodes / 2), ...overrides } as SacArgs;
const algorithm: SearchAlgorithm = algo === 'sac' ? new SacSearch(sacArgs, episodes, seed) : algo === 'ga' ? new GeneticSearch() : new RandomSearch();
const t0 = Date.now();
for (let segment = 0; segment < segments; segment++) {
  const values: number[] = [];
  const c: SegmentContext = {
    nodes: [node],
    envs,
    score: (_n, designs) => {
      calls += designs.length;
      return scoreDesigns(designs, surrogate, ctx);
    },
    offer: (_n, s) => {
      visited.add(designHash(designKey(s.design)));
      archive.offer(s, calls);
    },
    best: () => archive.best()?.design,
    start: () => undefined,
    segment,
    segments,
    stepsPerNode: perSegment * (episodeSteps + 1),
    episodesPerNode: perSegment,
    episodeSteps,
    seed,
    onEpisode: (_n, v) => values.push(v),
  };
  algorithm.runSegment(c);
  const b = archive.best()!;
  const top = archive.ranked().slice(0, 10);
  const line: Record<string, unknown> = { segment, wallS: ((Date.now() - t0) / 1000).toFixed(0), bestReward: b.reward.toFixed(3), bestJ: b.objective.toFixed(3), top10MeanJ: (top.reduce((s, e) => s + e.objective, 0) / top.length).toFixed(3), distinctVisited: visited.size };
  if (algorithm instanceof SacSearch) {
    // the policy's mean action (greedy) from 16 random starts: not part of the search, not counted
    const rng = new Rng(seed, `diagnose/greedy/${segment}`);
    const greedy = Array.from({ length: 16 }, () => {
      const obs = env.reset(env.randomDesign(rng)).obs;
      return env.step(algorithm.agent.act(obs, 0, rng, true)).score;
    });
    const gj = greedy.map((g) => (g.ppa.feasible ? g.ppa.objective : -9));
    Object.assign(line, { greedyBestJ: Math.max(...gj).toFixed(3), greedyMeanJ: (gj.reduce((a, b) => a + b, 0) / gj.length).toFixed(3) });
    const s = algorithm.stats[algorithm.stats.length - 1];
    const f = (x: number | null) => (x === null ? '-' : x.toFixed(3));
    Object.assign(line, { rand: s.randomSteps, pol: s.policySteps, mpc: s.mpcSteps, absMu: f(s.meanAbsMu), sigma: f(s.meanSigma), sat: f(s.saturated), muSat: f(s.meanSaturated), alphaC: f(s.alphaC), alphaD: f(s.alphaD), Hc: f(s.entropyC), Hd: f(s.entropyD), Q: f(s.qMean), y: f(s.targetMean), Lq: f(s.criticLoss), r: `${f(s.reward.mean)}+-${f(s.reward.sd)} [${f(s.reward.min)}, ${f(s.reward.p50)}, ${f(s.reward.p90)}, ${f(s.reward.max)}]`, feas: f(s.feasibleShare), distinctSeg: s.distinctDesigns });
  }
  console.log(JSON.stringify(line));
}
const best = archive.best()!;
console.log('best design', JSON.stringify({ mesh: best.design.mesh, clockMHz: best.design.clockMHz, tile: best.design.tile, noc: best.design.noc, precision: best.design.precision, mapping: best.design.mapping, serving: best.design.serving }));
