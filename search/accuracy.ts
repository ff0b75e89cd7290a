import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Design } from '../sim/design/design.js';
import { DesignSchema } from '../sim/design/design.js';
import { PRESET_NAMES, presetDesign } from '../sim/design/presets.js';
import { parseInput } from '../sim/validate/zod.js';
import { MAX_CLOCK_MHZ, type ProcessNodeNm } from '../sim/tech/nodes.js';
import { weightBytes } from '../sim/model/derive.js';
import type { LabelRecord, LabelSettings } from './label/job.js';
import { readLabelFile } from './label/file.js';
import { runLabels, type LabelCounts } from './label/run.js';
import type { SimulationJobRunner } from './label/runner.js';
import { mappingFeasible, sampleDesign, samplerBox } from './sampler.js';
import { LABEL_WORKLOADS } from './workload.js';
import { FAMILIES, Surrogate, saveSurrogate, type Family } from './surrogate/model.js';
import { compareMarkdown, compareOnHeldOut, outOfSample, outOfSampleMarkdown, type FamilyResult } from './surrogate/compare.js';
import { evalJson } from './surrogate/evaluate.js';
import { renderParityHtml } from './surrogate/parity.js';
import { simulatorVersion } from './version.js';

/**
 * The accuracy measurement as one resumable run (`tessera surrogate accuracy`,
 * docs/search.md "Accuracy"): label a training set (seed 1) and a held-out set (another
 * seed) for one model over its nodes, train every model family on the same training labels,
 * judge each on the same held-out labels (overall and per node), and simulate out-of-sample
 * designs (the built-in presets that map the model, and designs pushed outside the sampler's
 * box) beside every family's prediction. Everything lands in one folder:
 *
 *   train.msgpack, held-out.msgpack   label files (resumable: a killed run loses at most the
 *                                     labels in flight; running the command again continues)
 *   accuracy.md, accuracy.json        the tables: acceptance summary, per target, per node,
 *                                     out-of-sample
 *   model-<family>.msgpack            each family's trained surrogate
 *   parity-<family>.html              parity plots per target
 */

export interface AccuracyPlan {
  readonly dir: string;
  readonly nodes: readonly ProcessNodeNm[];
  readonly trainPerNode: number;
  readonly heldOutPerNode: number;
  readonly trainSeed: number;
  readonly heldOutSeed: number;
}

export function accuracyFiles(dir: string) {
  return {
    train: path.join(dir, 'train.msgpack'),
    heldOut: path.join(dir, 'held-out.msgpack'),
    markdown: path.join(dir, 'accuracy.md'),
    json: path.join(dir, 'accuracy.json'),
    model: (f: Family) => path.join(dir, `model-${f}.msgpack`),
    parity: (f: Family) => path.join(dir, `parity-${f}.html`),
  };
}

/** Label both sets (continuing whatever the folder already holds). */
export async function labelAccuracySets(
  plan: AccuracyPlan,
  base: Omit<LabelSettings, 'nodes' | 'seed'>,
  runner: SimulationJobRunner,
  on: { stage?: (name: 'train' | 'held-out', total: number, have: number) => void; label?: (c: LabelCounts) => void; notice?: (t: string) => void },
): Promise<{ train: LabelCounts; heldOut: LabelCounts }> {
  fs.mkdirSync(plan.dir, { recursive: true });
  const files = accuracyFiles(plan.dir);
  const k = plan.nodes.length;
  const out: Partial<Record<'train' | 'heldOut', LabelCounts>> = {};
  for (const [key, file, seed, perNode] of [['heldOut', files.heldOut, plan.heldOutSeed, plan.heldOutPerNode], ['train', files.train, plan.trainSeed, plan.trainPerNode]] as const) {
    const count = perNode * k;
    const exists = fs.existsSync(file) && fs.statSync(file).size > 0;
    on.stage?.(key === 'train' ? 'train' : 'held-out', count, exists ? readLabelFile(file).labels.length : 0);
    out[key] = await runLabels({ out: file, settings: { ...base, nodes: plan.nodes, seed }, count, resume: exists, runner, onNotice: on.notice, onLabel: (_l, c) => on.label?.(c) });
  }
  return { train: out.train!, heldOut: out.heldOut! };
}

/** Nearest node of `nodes` to `node` (in nm). */
function nearestNode(node: number, nodes: readonly ProcessNodeNm[]): ProcessNodeNm {
  return [...nodes].sort((a, b) => Math.abs(a - node) - Math.abs(b - node) || a - b)[0];
}

/** A design's identity for simulation: everything but its name, description and source. */
function sameDesign(d: Design): string {
  const { name: _n, description: _d, source: _s, ...rest } = d as Design & { description?: string; source?: string };
  return JSON.stringify(rest);
}

function retarget(design: Design, node: ProcessNodeNm, name: string): Design {
  return parseInput(DesignSchema, { ...design, name, processNodeNm: node, clockMHz: Math.min(design.clockMHz, MAX_CLOCK_MHZ[node]) }, name);
}

/**
 * Out-of-sample designs for a model over `nodes`:
 * - every built-in preset whose mapping holds the model, at its own node when that node is
 *   measured, else retargeted to the nearest measured node (clock capped);
 * - per node, designs pushed outside the sampler's box, one push each, starting from the
 *   held-out seed's sampled designs: a mesh larger than the box (WMEM re-sized to hold the
 *   weights), a batch and micro-batch count above it, a clock below it, and more pipeline
 *   stages than it allows. A push whose design does not map moves on to the next base design.
 */
export function outOfSampleDesigns(settings: Omit<LabelSettings, 'nodes' | 'seed'>, nodes: readonly ProcessNodeNm[], seed: number): Design[] {
  const { card } = settings;
  const workload = LABEL_WORKLOADS[settings.workload];
  const out: Design[] = [];
  // presets retargeted to the same node can coincide (paper presets differ only in node and clock)
  const seen = new Set<string>();
  for (const name of PRESET_NAMES) {
    const p = presetDesign(name)!;
    const node = nodes.includes(p.processNodeNm as ProcessNodeNm) ? (p.processNodeNm as ProcessNodeNm) : nearestNode(p.processNodeNm, nodes);
    const d = node === p.processNodeNm ? p : retarget(p, node, `${name}@${node}nm`);
    if (!seen.has(sameDesign(d)) && mappingFeasible(card, d, workload)) out.push(d);
    seen.add(sameDesign(d));
  }
  const large = weightBytes(card, 'fp16').totalBytes > 4e9;
  for (const node of nodes) {
    const box = samplerBox(card, node);
    const hiMesh = (box.rules['mesh.rows'] as { hi: number }).hi;
    const loClock = (box.rules.clockMHz as { lo: number }).lo;
    const hiStages = (box.rules['mapping.pipelineStages'] as { hi: number }).hi;
    const pushes: [string, (d: Design) => object | undefined][] = [
      ['mesh', (d) => {
        const side = Math.min(64, hiMesh + (large ? 6 : 4));
        const share = weightBytes(card, d.precision.weights).totalBytes / (side * side) / 1024;
        return { mesh: { rows: side, cols: side }, tile: { ...d.tile, wmemKiB: Math.max(256, Math.ceil(share * 1.25)) } };
      }],
      ['batch', (d) => ({ serving: { ...d.serving, batching: 'continuous', maxBatch: 32, microBatches: 8 } })],
      ['clock', (d) => ({ clockMHz: Math.max(5, Math.round(loClock / 2)) })],
      // more stages than the box's 16 (at most one per tile): needs a mesh of over 16 tiles
      ['stages', (d) => (d.mesh.rows * d.mesh.cols > hiStages ? { mapping: { ...d.mapping, pipelineStages: Math.min(64, d.mesh.rows * d.mesh.cols, 2 * hiStages) } } : undefined)],
    ];
    let base = 0;
    for (const [what, push] of pushes) {
      for (let tries = 0; tries < 8; tries++, base++) {
        const d0 = sampleDesign({ card, modelName: card.name, nodes: [node], seed, workload }, base).design;
        const change = push(d0);
        if (!change) continue;
        const d = parseInput(DesignSchema, { ...d0, ...change, name: `outside-box-${what}-${node}nm` }, `outside-box-${what}`);
        if (mappingFeasible(card, d, workload)) {
          out.push(d);
          base++;
          break;
        }
      }
    }
  }
  return out;
}

export interface AccuracyResult {
  readonly markdown: string;
  readonly json: object;
  readonly results: readonly FamilyResult[];
}

const pct = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const mark = (ok: boolean) => (ok ? 'yes' : 'no');

/** The acceptance summary (issue 17): one row per family, each figure with its target. */
export function acceptanceMarkdown(results: readonly FamilyResult[]): string {
  const lines = [
    '| family | trained (s) | tokens/s MAPE % | power MAPE % | energy/token MAPE % | PPA Kendall tau | PPA top-10% recall | 90% coverage, min..max over targets | feasibility balanced accuracy % | all met |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const t = r.report.overall.targets;
    const learned = ['tokensPerSecond', 'powerW', 'energyPerTokenJ', 'ttftMs', 'itlMsP50', 'itlMsP99', 'ppaScore'];
    const cov = learned.map((k) => t[k].intervalCoverage);
    const checks = [
      t.tokensPerSecond.mape <= 5,
      t.powerW.mape <= 5,
      t.energyPerTokenJ.mape <= 5,
      t.ppaScore.kendallTau >= 0.85,
      t.ppaScore.top10Recall >= 0.7,
      cov.every((c) => c >= 0.8 && c <= 0.97),
      r.report.overall.feasibility.balancedAccuracy >= 0.95,
    ];
    lines.push(`| ${r.family} | ${r.trainSeconds.toFixed(1)} | ${pct(t.tokensPerSecond.mape)} | ${pct(t.powerW.mape)} | ${pct(t.energyPerTokenJ.mape)} | ${f3(t.ppaScore.kendallTau)} | ${t.ppaScore.top10Recall.toFixed(2)} | ${Math.min(...cov).toFixed(2)}..${Math.max(...cov).toFixed(2)} | ${pct(100 * r.report.overall.feasibility.balancedAccuracy)} | ${r.family === 'bounds' ? '(reference)' : `${checks.filter(Boolean).length}/${checks.length}`} |`);
  }
  lines.push('| target | | <= 5 | <= 5 | <= 5 | >= 0.85 | >= 0.7 | 0.80..0.97 | >= 95 | |');
  return `${lines.join('\n')}\n`;
}

/** Counts per node of a label set: labels, mapping-feasible simulated ones. */
function perNodeCounts(labels: readonly LabelRecord[]): Record<string, { labels: number; ok: number }> {
  const out: Record<string, { labels: number; ok: number }> = {};
  for (const l of labels) {
    const c = (out[l.node] ??= { labels: 0, ok: 0 });
    c.labels++;
    if (l.status === 'ok') c.ok++;
  }
  return out;
}

/**
 * Train every family on `train`, judge each on `heldOut`, simulate the out-of-sample
 * designs, write the models, parity plots and tables into the plan's folder.
 */
export function measureAccuracy(
  plan: AccuracyPlan,
  ctx: Parameters<typeof compareOnHeldOut>[2],
  sets: { train: { labels: LabelRecord[]; simulatorVersion: string; workload: string; model: { name: string; hash: string } }; heldOut: { labels: LabelRecord[] } },
  o: { families?: readonly Family[]; designs?: readonly Design[]; onStage?: (text: string) => void; command?: string },
): AccuracyResult {
  const files = accuracyFiles(plan.dir);
  const meta = { simulatorVersion: sets.train.simulatorVersion, model: sets.train.model, workload: sets.train.workload, files: [files.train] };
  const results = compareOnHeldOut(sets.train.labels, sets.heldOut.labels, ctx, meta, o.families ?? FAMILIES, (f) => o.onStage?.(`training and judging ${f}`));
  for (const r of results) {
    saveSurrogate(files.model(r.family), r.bundle);
    fs.writeFileSync(files.parity(r.family), renderParityHtml(r.report, `${r.family} surrogate for ${ctx.card.name}: held-out ${files.heldOut}`));
  }
  o.onStage?.('simulating out-of-sample designs');
  const designs = o.designs ?? [];
  const oos = designs.length ? outOfSample(results, designs, ctx) : [];
  const oosPredictions = results.map((r) => new Surrogate(r.bundle, ctx).predict(oos.map((l) => l.design)));
  const trainCounts = perNodeCounts(sets.train.labels);
  const heldCounts = perNodeCounts(sets.heldOut.labels);
  const nodes = [...new Set([...Object.keys(trainCounts), ...Object.keys(heldCounts)])].sort((a, b) => Number(a) - Number(b));
  const here = simulatorVersion(ctx.tech);
  const md = [
    `## Surrogate accuracy: ${ctx.card.name}, nodes ${plan.nodes.join(', ')} nm`,
    '',
    `Simulator ${sets.train.simulatorVersion}${here !== sets.train.simulatorVersion ? ` (this Tessera is ${here}: relabel for a clean measurement)` : ''}, workload ${sets.train.workload}, training seed ${plan.trainSeed}, held-out seed ${plan.heldOutSeed}.${o.command ? ` Command: \`${o.command}\`.` : ''}`,
    '',
    '| node | training labels (simulated) | held-out labels (mapping-feasible, simulated) |',
    '|---|---|---|',
    ...nodes.map((n) => `| ${n} nm | ${trainCounts[n]?.labels ?? 0} (${trainCounts[n]?.ok ?? 0}) | ${heldCounts[n]?.labels ?? 0} (${heldCounts[n]?.ok ?? 0}) |`),
    '',
    '### Acceptance figures (held-out, mapping-feasible designs)',
    '',
    acceptanceMarkdown(results),
    compareMarkdown(results, 'Every target, overall and per node'),
    ...(oos.length ? ['### Out-of-sample designs (presets and designs outside the sampler box, each simulated once)', '', outOfSampleMarkdown(results, oos, ctx)] : []),
  ].join('\n');
  const json = {
    model: ctx.card.name,
    nodes: plan.nodes,
    simulatorVersion: sets.train.simulatorVersion,
    workload: sets.train.workload,
    seeds: { train: plan.trainSeed, heldOut: plan.heldOutSeed },
    counts: { train: trainCounts, heldOut: heldCounts },
    results: results.map((r) => ({ family: r.family, trainSeconds: r.trainSeconds, report: evalJson(r.report) })),
    outOfSample: oos.map((l, i) => ({
      design: l.design.name,
      node: l.node,
      status: l.status,
      reasons: l.mapping.reasons,
      metrics: l.metrics,
      predictions: Object.fromEntries(results.map((r, k) => [r.family, { ...oosPredictions[k][i].targets, ppaScore: oosPredictions[k][i].ppaScore }])),
    })),
  };
  fs.writeFileSync(files.markdown, md);
  fs.writeFileSync(files.json, JSON.stringify(json, null, 2));
  return { markdown: md, json, results };
}
