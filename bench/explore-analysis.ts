import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModel } from '../sim/model/catalog.js';
import { presetDesign } from '../sim/design/presets.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DEFAULT_WEIGHTS, SEARCH_DEFAULT_CONSTRAINTS, type Constraints } from '../sim/power/ppa.js';
import type { Design } from '../sim/design/design.js';
import type { ProcessNodeNm } from '../sim/tech/nodes.js';
import { runLabelJob } from '../search/label/job.js';
import { REWARD_DEFAULTS } from '../search/env/evaluate.js';
import { retarget, searchContext } from '../search/explore/run.js';
import { simulatedResult } from '../search/explore/simulated.js';
import { bootstrapDifference, type ExploreSummary } from '../search/explore/summary.js';

/**
 * The tables of issue 14's acceptance from the run folders of bench/explore-experiments.sh
 * (docs/explore.md "Experiments"): SAC against random search and the GA (mean, spread,
 * bootstrap 95% CI of the difference), the ablation table, the final designs' simulated
 * figures against the surrogate's predictions logged before their first simulation, the
 * best 3 nm Llama design against paper-llama-3nm under the same constraints (simulated
 * here), and each node's choice against the 3 nm choice retargeted to that node (simulated
 * here). Usage: node --import tsx bench/explore-analysis.ts DATA_DIR
 */

const data = process.argv[2] ?? 'data-explore';
const read = (name: string): ExploreSummary & Record<string, any> | undefined => {
  const f = path.join(data, name, 'summary.json');
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
};
const f4 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(4));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const scores = (s: ExploreSummary, node: number, algo: string) => (s.perNode[node]?.[algo]?.seeds ?? []).flatMap((e) => (e.bestSimulatedPpaScore === null ? [] : [e.bestSimulatedPpaScore]));

function comparison(title: string, s: ExploreSummary | undefined): void {
  if (!s) return console.log(`\n## ${title}: not run`);
  console.log(`\n## ${title} (${s.seeds.length} seeds; ${s.budget.episodesPerNode} episodes x ${s.budget.episodeSteps} steps, ${s.budget.simBudgetPerNode} simulator calls per node and algorithm)`);
  for (const node of s.nodes) {
    console.log('| algorithm | best simulated PPA score, mean +- sd | per seed | simulator calls | surrogate calls |');
    console.log('|---|---|---|---|---|');
    for (const algo of s.algorithms) {
      const e = s.perNode[node][algo];
      const xs = scores(s, node, algo);
      console.log(`| ${algo} | ${f4(mean(xs))} +- ${f4(sd(xs))} | ${xs.map(f4).join(', ')} | ${e.simulatorCalls} | ${e.surrogateCalls} |`);
    }
    for (const c of s.comparisons[node] ?? []) console.log(`SAC - ${c.against}: ${f4(c.meanDifference)}, bootstrap 95% CI ${c.ci95 ? `[${f4(c.ci95[0])}, ${f4(c.ci95[1])}]` : '-'} (${c.significant ? 'significant' : 'not significant'})`);
  }
}

function ablation(full: ExploreSummary | undefined): void {
  console.log('\n## Ablation (SmolLM2-135M, 7 nm)');
  if (!full) return console.log('not run');
  const node = full.nodes[0];
  const seeds = (s: ExploreSummary) => s.seeds;
  const base = scores(full, node, 'sac');
  console.log('| variant | seeds | best simulated PPA score, mean +- sd | difference to full SAC [bootstrap 95% CI] |');
  console.log('|---|---|---|---|');
  console.log(`| full SAC | ${seeds(full).length} | ${f4(mean(base))} +- ${f4(sd(base))} | - |`);
  for (const v of ['no-moe', 'no-per', 'no-mpc']) {
    const s = read(`ablation-${v}`);
    if (!s) {
      console.log(`| ${v} | - | not run | - |`);
      continue;
    }
    const xs = scores(s, node, 'sac');
    // against full SAC on the same seeds
    const same = full.perNode[node].sac.seeds.filter((e) => s.seeds.includes(e.seed) && e.bestSimulatedPpaScore !== null).map((e) => e.bestSimulatedPpaScore!);
    const ci = bootstrapDifference(xs, same);
    console.log(`| ${v} | ${s.seeds.length} | ${f4(mean(xs))} +- ${f4(sd(xs))} | ${f4(mean(xs) - mean(same))} ${ci ? `[${f4(ci[0])}, ${f4(ci[1])}]` : ''} (full SAC on the same seeds: ${f4(mean(same))}) |`);
  }
}

function predictedVsSimulated(): void {
  console.log('\n## Best designs: simulated figures against the surrogate prediction logged before their first simulation');
  console.log('| run | node | algo | seed | J predicted | J simulated | |dJ| <= 0.05 | tok/s err | power err | both <= 10% |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let n = 0;
  let okJ = 0;
  let okTP = 0;
  for (const name of ['smol-7nm', 'llama-3nm', 'smol-nodes']) {
    const s = read(name);
    if (!s) continue;
    for (const node of s.nodes) {
      for (const algo of s.algorithms) {
        for (const e of s.perNode[node][algo].seeds) {
          if (!e.simulated || !e.predictedBeforeSimulation || e.simulated.objective === null || !(e.simulated.tokensPerSecond > 0)) continue;
          const p = e.predictedBeforeSimulation;
          const dJ = Math.abs(p.objective - e.simulated.objective);
          const eT = (100 * Math.abs(p.tokensPerSecond - e.simulated.tokensPerSecond)) / e.simulated.tokensPerSecond;
          const eP = (100 * Math.abs(p.powerW - e.simulated.powerW)) / e.simulated.powerW;
          n++;
          if (dJ <= 0.05) okJ++;
          if (eT <= 10 && eP <= 10) okTP++;
          console.log(`| ${name} | ${node} | ${algo} | ${e.seed} | ${f4(p.objective)} | ${f4(e.simulated.objective)} | ${dJ <= 0.05 ? 'yes' : 'no'} | ${eT.toFixed(1)}% | ${eP.toFixed(1)}% | ${eT <= 10 && eP <= 10 ? 'yes' : 'no'} |`);
        }
      }
    }
  }
  console.log(`${okJ}/${n} within 0.05 in J; ${okTP}/${n} within 10% in tokens/s and power`);
}

function simulate(card: ReturnType<typeof builtinModel>, design: Design, constraints: Constraints) {
  const settings = { modelName: card!.name, card: card!, nodes: [design.processNodeNm as ProcessNodeNm], seed: 1, fidelity: 'fast' as const, workload: 'llm-decode-v2', eventLimit: 50_000_000, tech: DEFAULT_TECH };
  const label = runLabelJob({ runId: 'analysis', index: 0, settings, design });
  const ctx = searchContext({ card: card!, tech: DEFAULT_TECH, workload: 'llm-decode-v2', weights: DEFAULT_WEIGHTS, constraints, reward: REWARD_DEFAULTS });
  return simulatedResult(label, ctx);
}

function paperLlama(): void {
  console.log('\n## Best Llama 3.1 8B design at 3 nm against paper-llama-3nm (simulated, same workload)');
  const s = read('llama-3nm');
  const card = builtinModel('llama-3.1-8b')!;
  const paper = presetDesign('paper-llama-3nm')!;
  const withReticle = simulate(card, paper, SEARCH_DEFAULT_CONSTRAINTS);
  const without = simulate(card, paper, {});
  console.log(`paper-llama-3nm: ${withReticle.tokensPerSecond.toFixed(0)} tok/s, ${withReticle.powerW.toFixed(2)} W, ${withReticle.areaMm2.toFixed(0)} mm2, ${withReticle.dies} dies; PPA score ${f4(withReticle.score)} with the search's one-reticle limit (${withReticle.reasons.join('; ') || 'feasible'}), ${f4(without.score)} without it`);
  if (!s) return console.log('llama-3nm run: not run');
  const best = Object.values(s.perNode[3]).flatMap((a) => a.seeds).filter((e) => e.bestDesignFile).sort((a, b) => (b.bestSimulatedPpaScore ?? -1e9) - (a.bestSimulatedPpaScore ?? -1e9))[0];
  const d = JSON.parse(fs.readFileSync(path.join(data, 'llama-3nm', best.bestDesignFile!), 'utf8')) as Design;
  const noLimit = simulate(card, d, {});
  console.log(`best found (${best.runId}): ${d.mesh.rows}x${d.mesh.cols}, ${d.clockMHz} MHz, ${d.precision.weights}; ${best.simulated?.tokensPerSecond.toFixed(0)} tok/s, ${best.simulated?.powerW.toFixed(2)} W, ${best.simulated?.areaMm2.toFixed(0)} mm2; PPA score ${f4(best.bestSimulatedPpaScore)} with the limit, ${f4(noLimit.score)} without`);
  console.log(`beats paper-llama-3nm under the same constraints (one reticle): ${(best.bestSimulatedPpaScore ?? -1e9) > withReticle.score ? 'yes' : 'no'}; without the reticle limit: ${noLimit.score > without.score ? 'yes' : 'no'}`);
}

function adaptation(): void {
  console.log('\n## Per-node adaptation (SmolLM2-135M over the seven nodes): each node\'s choice against the 3 nm choice retargeted (same parameters, the node\'s clock cap), both simulated');
  const s = read('smol-nodes');
  if (!s) return console.log('not run');
  const card = builtinModel('smollm2-135m')!;
  const file = (node: number) => s.perNode[node].sac.bestDesignFile;
  const d3 = JSON.parse(fs.readFileSync(path.join(data, 'smol-nodes', file(3)!), 'utf8')) as Design;
  console.log('| node | own choice: mesh, MHz, VLEN, W/A/KV, batch | own score | 3 nm choice retargeted | retargeted score | own better |');
  console.log('|---|---|---|---|---|---|');
  const constraints = { ...SEARCH_DEFAULT_CONSTRAINTS, ...(s as any).constraints };
  for (const node of s.nodes) {
    const own = s.perNode[node].sac;
    const d = JSON.parse(fs.readFileSync(path.join(data, 'smol-nodes', file(node)!), 'utf8')) as Design;
    const r = node === 3 ? null : simulate(card, retarget(d3, node as ProcessNodeNm), constraints);
    const desc = (x: Design) => `${x.mesh.rows}x${x.mesh.cols}, ${x.clockMHz}, ${x.tile.vlenBits}, ${x.precision.weights}/${x.precision.activations}/${x.precision.kvCache}, ${x.serving.batching === 'single' ? 1 : x.serving.maxBatch}`;
    console.log(`| ${node} | ${desc(d)} | ${f4(own.bestSimulatedPpaScore)} | ${node === 3 ? '-' : desc(retarget(d3, node as ProcessNodeNm))} | ${r ? f4(r.score) : '-'} | ${r ? ((own.bestSimulatedPpaScore ?? -1e9) > r.score ? 'yes' : 'no') : '-'} |`);
  }
}

comparison('SmolLM2-135M at 7 nm: SAC vs random vs GA', read('smol-7nm'));
comparison('Llama 3.1 8B at 3 nm: SAC vs random vs GA', read('llama-3nm'));
ablation(read('smol-7nm'));
predictedVsSimulated();
paperLlama();
adaptation();
