import * as os from 'node:os';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DEFAULT_WEIGHTS, SEARCH_DEFAULT_CONSTRAINTS } from '../sim/power/ppa.js';
import { referenceFor } from '../sim/power/reference.js';
import { Rng } from '../sim/random/rng.js';
import { PROCESS_NODES_NM, type ProcessNodeNm } from '../sim/tech/nodes.js';
import { LLM_DECODE_V2 } from '../search/workload.js';
import { designInBox, samplerBox } from '../search/sampler.js';
import { DIMENSIONS, encodeDesign } from '../search/space.js';
import { analytic } from '../search/surrogate/features.js';
import { Surrogate, trainSurrogate } from '../search/surrogate/model.js';
import { fineTuneSurrogate, FINE_TUNE_DEFAULTS } from '../search/surrogate/finetune.js';
import { runLabelJob, type LabelRecord } from '../search/label/job.js';
import { CONTINUOUS_COUNT, DISCRETE_CHOICES, DISCRETE_HEADS } from '../search/env/actions.js';
import { DesignEnv } from '../search/env/env.js';
import { REWARD_DEFAULTS } from '../search/env/evaluate.js';
import { GATE_FIELDS, OBS_DIM } from '../search/env/observation.js';
import { PAPER_SIZES, SAC_DEFAULTS, SacAgent, type SacArgs } from '../search/sac/sac.js';
import { SacSearch } from '../search/sac/loop.js';
import { BUDGET_DEFAULTS, planBudget } from '../search/explore/budget.js';
import type { Measured } from './harness.js';

/**
 * Explore benchmarks (issue 14), printed by `npm run bench -- search` after the label and
 * surrogate figures: SAC gradient updates per second at the default and the paper's sizes,
 * environment steps per second against the surrogate (random actions, and the SAC loop
 * with its updates), and the wall time of a full seven-node Llama 3.1 8B exploration at the
 * default budget, projected from its measured parts (the loop's steps, one Llama spot-check
 * simulation, a fine-tune) since the run itself takes about an hour; set
 * TESSERA_BENCH_EXPLORE_SIMS=0 to skip the simulation timing.
 */

const llama = () => builtinModel('llama-3.1-8b')!;

/** Llama designs from the sampler's box with synthetic metrics (a smooth function of the bounds): timing only. */
function timingLabels(n: number, node: ProcessNodeNm): LabelRecord[] {
  const card = llama();
  const ctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
  const rng = new Rng(1, 'bench/explore');
  return Array.from({ length: n }, (_, i) => {
    const d = designInBox(card, node, samplerBox(card, node), Float64Array.from(DIMENSIONS, () => rng.next()), `bench-${i}`);
    const a = analytic(d, ctx);
    const T = a.boundTokensPerSecond * (0.4 + 0.2 * Math.sin(i));
    const P = a.energyFloorJ * T * 2 + a.leakageW;
    return {
      index: i, node, status: 'ok', design: d, encoding: Array.from(encodeDesign(d).vector), sampler: { source: 'uniform', candidate: 0, precheckFeasible: true }, workload: 'llm-decode-v2', simSeed: 1,
      metrics: { tokensPerSecond: T, ttftMs: { p50: 1e4 / T, p99: 1e4 / T }, itlMs: { p50: 1e3 / T, p99: 1.2e3 / T }, powerW: P, power: { computeW: P, sramW: 0, romW: 0, nocW: 0, leakageW: 0 }, energyPerTokenJ: P / T, areaMm2: a.areaMm2, ppaScore: 0.5, ppaObjective: 0 },
      bounds: null, mapping: { feasible: true, reasons: [], regions: 1, kvCapacityTokens: 1 }, events: 0, wallSeconds: 0,
    } satisfies LabelRecord;
  });
}

function updatesPerSecond(args: SacArgs, seconds: number): number {
  const agent = new SacAgent(args, { obsDim: OBS_DIM, contDim: CONTINUOUS_COUNT, heads: DISCRETE_HEADS, choices: DISCRETE_CHOICES, gateFields: GATE_FIELDS }, 1);
  const rng = new Rng(1, 'bench/sac');
  for (let i = 0; i < Math.max(2 * args.batch, 1024); i++) {
    const s = Float32Array.from({ length: OBS_DIM }, () => rng.normal());
    agent.replay.add(s, [rng.int(0, 4), rng.int(0, 4)], Float32Array.from({ length: CONTINUOUS_COUNT }, () => 2 * rng.next() - 1), rng.normal(), s);
  }
  agent.update(0, rng);
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    agent.update(0.5, rng);
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function exploreBench(print: (line: string) => void): Promise<Measured[]> {
  const out: Measured[] = [];
  print(`\nExplore: SAC gradient updates per second (obs ${OBS_DIM}, ${CONTINUOUS_COUNT} continuous + 2x5 discrete actions; twin critics, MoE actor, temperatures, world model)`);
  const sizes: [string, SacArgs][] = [
    ['hidden 32, batch 64', { ...SAC_DEFAULTS, hidden: 32, worldModelHidden: 32 }],
    [`default (hidden ${SAC_DEFAULTS.hidden}, batch ${SAC_DEFAULTS.batch}, ${SAC_DEFAULTS.experts} experts)`, SAC_DEFAULTS],
    ['default without world model', { ...SAC_DEFAULTS, worldModel: false }],
    ['hidden 128, batch 128', { ...SAC_DEFAULTS, hidden: 128, batch: 128, worldModelHidden: 128 }],
    ['paper (hidden 256, batch 256, 4 experts)', { ...SAC_DEFAULTS, ...PAPER_SIZES }],
  ];
  const rate = new Map<string, number>();
  for (const [name, args] of sizes) {
    const r = updatesPerSecond(args, args.hidden >= 256 ? 8 : 4);
    rate.set(name, r);
    print(`  ${name}: ${r.toFixed(1)} updates/s (${(1000 / r).toFixed(1)} ms per update)`);
    out.push({ name: `SAC updates/s, ${name}`, perSecond: r, rmePercent: 0, samples: 1 });
  }

  print('\nExplore: environment steps per second against the surrogate (Llama 3.1 8B at 3 nm; mlp-ensemble surrogate; mapping summary, hazard kernel, reward)');
  const node: ProcessNodeNm = 3;
  const card = llama();
  const fctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
  const labels = timingLabels(300, node);
  const bundle = trainSurrogate(labels, fctx, { simulatorVersion: 'bench', model: { name: card.name, hash: '-' }, workload: 'llm-decode-v2', files: [] }, { family: 'mlp-ensemble', ensemble: { steps: 300 } });
  const surrogate = new Surrogate(bundle, fctx);
  const ctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2, reference: referenceFor(card), weights: DEFAULT_WEIGHTS, constraints: SEARCH_DEFAULT_CONSTRAINTS, reward: REWARD_DEFAULTS };
  const env = new DesignEnv(ctx, node, () => surrogate, 10);
  const rng = new Rng(2, 'bench/env');
  env.reset(env.randomDesign(rng));
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    const r = env.step({ discrete: [rng.int(0, 4), rng.int(0, 4)], continuous: Float32Array.from({ length: CONTINUOUS_COUNT }, () => 2 * rng.next() - 1) });
    steps++;
    if (r.truncated) env.reset(env.randomDesign(rng));
  }
  const envRate = steps / ((performance.now() - t0) / 1000);
  print(`  random actions: ${envRate.toFixed(0)} steps/s`);
  out.push({ name: 'env steps/s (random actions)', perSecond: envRate, rmePercent: 0, samples: 1 });

  // the SAC loop itself: act, step, store, update at the default rate (warm-up excluded)
  const search = new SacSearch({ ...SAC_DEFAULTS, warmupSteps: 200, mpcMinUpdates: 100 }, 400, 1);
  const envs = new Map([[node, env]]);
  const archive: { reward: number; design: any }[] = [];
  const ctxFor = (episodes: number) => ({
    nodes: [node], envs, score: () => [], offer: (_n: ProcessNodeNm, s: any) => archive.push(s), best: () => undefined, start: () => undefined,
    segment: 0, segments: 1, stepsPerNode: episodes * 11, episodesPerNode: episodes, episodeSteps: 10, seed: 1, onEpisode: () => {},
  });
  search.runSegment(ctxFor(30)); // warm-up and first updates
  const t1 = performance.now();
  let loopSteps = 0;
  while (performance.now() - t1 < 8000) {
    search.runSegment(ctxFor(5));
    loopSteps += 50;
  }
  const loopRate = loopSteps / ((performance.now() - t1) / 1000);
  print(`  SAC loop (default sizes, ${SAC_DEFAULTS.updatesPerStep} updates per step, epsilon-greedy, MPC when due): ${loopRate.toFixed(0)} steps/s`);
  out.push({ name: 'SAC loop steps/s', perSecond: loopRate, rmePercent: 0, samples: 1 });

  // a fine-tune after a spot check, and one spot-check simulation of a sampled Llama design
  const t2 = performance.now();
  fineTuneSurrogate(bundle, labels, labels.slice(0, 9), fctx, FINE_TUNE_DEFAULTS);
  const fineTuneSeconds = (performance.now() - t2) / 1000;
  print(`  fine-tune after a spot check (${FINE_TUNE_DEFAULTS.steps} steps x 3 members): ${fineTuneSeconds.toFixed(2)} s`);
  let simSeconds = Number.NaN;
  if (process.env.TESSERA_BENCH_EXPLORE_SIMS !== '0') {
    const settings = { modelName: card.name, card, nodes: [node], seed: 1, fidelity: 'fast' as const, workload: 'llm-decode-v2', eventLimit: 50_000_000, tech: DEFAULT_TECH };
    const walls = [presetDesign('paper-llama-3nm')!, ...labels.slice(0, 2).map((l) => l.design)].map((d, i) => runLabelJob({ runId: 'bench', index: i, settings, design: d }).wallSeconds);
    simSeconds = walls.reduce((a, b) => a + b, 0) / walls.length;
    print(`  spot-check simulation of a Llama design (mean of ${walls.length}: paper-llama-3nm and 2 sampled): ${simSeconds.toFixed(2)} s`);
  }

  // projection of a full seven-node exploration at the default budget
  const plan = planBudget(BUDGET_DEFAULTS);
  const k = PROCESS_NODES_NM.length;
  const searchSeconds = (k * plan.episodesPerNode * (plan.episodeSteps + 1)) / loopRate;
  const sims = k * (plan.segments * (plan.spotTop + plan.spotUncertain) + plan.finalPerNode);
  const simWall = (sims * simSeconds) / 2;
  const fineTunes = plan.segments * fineTuneSeconds;
  const total = searchSeconds + simWall + fineTunes;
  print(`  projected seven-node Llama 3.1 8B run, SAC, default budget (${plan.episodesPerNode} episodes x ${plan.episodeSteps} steps, ${sims / k} simulations per node, 2 workers): search ${(searchSeconds / 60).toFixed(1)} min + simulations ${(simWall / 60).toFixed(1)} min + fine-tunes ${(fineTunes / 60).toFixed(1)} min = ${(total / 60).toFixed(1)} min (target <= 60 min, labelling of the initial surrogate not included: see docs/explore.md); load average ${os.loadavg()[0].toFixed(1)}`);
  out.push({ name: 'projected seven-node Llama run (min)', perSecond: total / 60, rmePercent: 0, samples: 1 });
  return out;
}
