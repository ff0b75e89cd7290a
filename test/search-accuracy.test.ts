import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';
import { estimateDecodeStep } from '../search/surrogate/latency.js';
import { estimateCriticalPath, kvCapacityTokensEstimate } from '../search/surrogate/dataflow.js';
import { kernelWork } from '../search/surrogate/kernels.js';
import { builtinModel } from '../sim/model/catalog.js';
import { sampleDesign } from '../search/sampler.js';
import { analytic } from '../search/surrogate/features.js';
import { runLabelJob } from '../search/label/job.js';
import { planMapping } from '../sim/chip/run.js';
import { workloadTraces } from '../search/workload.js';
import { accuracyFiles, measureAccuracy, outOfSampleDesigns } from '../search/accuracy.js';
import { mappingFeasible, samplerBox } from '../search/sampler.js';
import { LLM_DECODE_V2 } from '../search/workload.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema, type Design } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { synthLabels, tinyCard, tinySettings } from './search-helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-accuracy-'));

const variant = (d: Design, change: object): Design => parseInput(DesignSchema, { ...d, ...change }, 'variant');

describe('decode-step latency estimate (surrogate feature)', () => {
  const card = tinyCard();
  const base = variant(presetDesign('tiny-2x2')!, { serving: { batching: 'single', maxBatch: 1, prefillChunkTokens: 64, microBatches: 1 } });

  test('one tile per region: the root sends and receives one packet per linear group and per attention, counted from the dataflow', () => {
    // 2x2 mesh, 4 stages: one tile per region, so every message is one packet
    const d = variant(base, { mapping: { ...base.mapping, pipelineStages: 4 }, noc: { ...base.noc, multicast: 'unicast' } });
    const t = card.text;
    const act = d.precision.activations === 'fp16' ? 2 : 1;
    const flits = (bytes: number) => Math.max(1, Math.ceil((8 * bytes + d.noc.headerBits) / d.noc.flitBits));
    const qkv = (t.numHeads + 2 * t.numKvHeads) * t.headDim;
    const layer =
      flits(t.hiddenSize * act) + flits(qkv * act) + // q/k/v: row in, slice out
      flits(t.numHeads * t.headDim * act) + flits(t.numHeads * (t.headDim + 2) * act) + // attention: queries in, partials out
      flits(t.numHeads * t.headDim * act) + flits(t.hiddenSize * act) + // o
      flits(t.hiddenSize * act) + flits(t.intermediateSize * act) + // gate/up (fused: the gate-sized slice returns)
      flits(t.intermediateSize * act) + flits(t.hiddenSize * act); // down
    const head = flits(t.hiddenSize * act) + flits(8);
    expect(estimateDecodeStep(card, d, 1, 512).serialCycles).toBe(t.numLayers * layer + head);
  });

  test('moves the way the hardware would', () => {
    const e = (change: object) => estimateDecodeStep(card, variant(base, change), 1, 512);
    const uni = e({ noc: { ...base.noc, multicast: 'unicast' } });
    const tree = e({ noc: { ...base.noc, multicast: 'tree' } });
    expect(tree.serialCycles).toBeLessThan(uni.serialCycles);
    expect(tree.workCycles).toBe(uni.workCycles);
    expect(e({ noc: { ...base.noc, flitBits: 512 } }).serialCycles).toBeLessThanOrEqual(e({ noc: { ...base.noc, flitBits: 64 } }).serialCycles);
    expect(e({ tile: { ...base.tile, vlenBits: 1024 } }).workCycles).toBeLessThan(e({ tile: { ...base.tile, vlenBits: 128 } }).workCycles);
    // more tiles per region: less work per holder, more packets at the root
    const big = e({ mesh: { rows: 8, cols: 8 } });
    expect(big.workCycles).toBeLessThan(e({}).workCycles);
    expect(big.serialCycles).toBeGreaterThan(e({}).serialCycles);
  });
});

describe('critical path on the distributed dataflow and KV concurrency (surrogate features)', () => {
  const card = tinyCard();
  const ctx = { card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
  const base = variant(presetDesign('tiny-2x2')!, { serving: { batching: 'single', maxBatch: 1, prefillChunkTokens: 64, microBatches: 1 } });

  test('one tile per region: no collective messages, only the moves between regions at their zero-load latency', () => {
    const d = variant(base, { mapping: { ...base.mapping, pipelineStages: 4 } });
    const p = estimateCriticalPath(card, d, 1, 512);
    const units = card.text.numLayers + 1 + (card.text.tieWordEmbeddings ? 0 : 1);
    const S = Math.min(4, units);
    const act = d.precision.activations === 'fp16' ? 2 : 1;
    const n = d.noc;
    const router = n.routeComputeCycles + n.vcAllocCycles + n.switchAllocCycles + n.switchTraversalCycles;
    // a region of one tile spans one row: a move to the next region is one hop of a slice of the whole row
    const flits = Math.max(1, Math.ceil((8 * card.text.hiddenSize * act + n.headerBits) / n.flitBits));
    const move = 1 + 2 * router + n.linkTraversalCycles + 1 + (flits - 1);
    expect(p.netCycles).toBe((S - 1) * move);
    expect(p.cycles).toBe(p.netCycles + p.workCycles);
  });

  test('a buffer shallower than the credit round trip stretches each move: the tail waits for credits (Dally & Towles 13.3)', () => {
    const d = (depth: number) => variant(base, { mapping: { ...base.mapping, pipelineStages: 4 }, noc: { ...base.noc, bufferDepthFlits: depth, flitBits: 64 } });
    const n = d(1).noc;
    const S = Math.min(4, card.text.numLayers + 1 + (card.text.tieWordEmbeddings ? 0 : 1));
    const act = d(1).precision.activations === 'fp16' ? 2 : 1;
    const L = Math.max(1, Math.ceil((8 * card.text.hiddenSize * act + n.headerBits) / n.flitBits));
    // a link's credit loop: switch allocation, traversal, link, the write, the credit's return
    const R = n.switchAllocCycles + n.switchTraversalCycles + n.linkTraversalCycles + 1 + n.creditReturnCycles;
    const deep = estimateCriticalPath(card, d(64), 1, 512).netCycles;
    const shallow = estimateCriticalPath(card, d(1), 1, 512).netCycles;
    // one flit per round trip instead of one per cycle, for every move between the regions
    expect(L).toBeGreaterThan(1);
    expect(shallow - deep).toBe((S - 1) * (R * (L - 1) - (L - 1)));
  });

  test('moves the way the hardware would', () => {
    const e = (change: object) => estimateCriticalPath(card, variant(base, change), 1, 512);
    const big = { mesh: { rows: 8, cols: 8 } };
    expect(e({ ...big, tile: { ...base.tile, vlenBits: 1024 } }).workCycles).toBeLessThan(e({ ...big, tile: { ...base.tile, vlenBits: 128 } }).workCycles);
    expect(e({ ...big, noc: { ...base.noc, flitBits: 1024 } }).netCycles).toBeLessThan(e({ ...big, noc: { ...base.noc, flitBits: 64 } }).netCycles);
    // more tiles: less work per tile, longer collectives
    expect(e(big).workCycles).toBeLessThan(e({}).workCycles);
    expect(e(big).netCycles).toBeGreaterThan(e({}).netCycles);
    // unicast fan-out queues its copies at the root: more port waits than a tree multicast, the same path
    const uni = e({ ...big, noc: { ...base.noc, multicast: 'unicast' } });
    const tree = e({ ...big, noc: { ...base.noc, multicast: 'tree' } });
    expect(uni.serialCycles).toBeGreaterThan(tree.serialCycles);
    expect(uni.cycles).toBe(tree.cycles);
  });

  test('KV capacity: close to the mapping pass for uniform tiles, grows with DMEM; sequences admitted never exceed the batch', () => {
    for (const dmemKiB of [64, 256, 1024]) {
      const d = variant(base, { mesh: { rows: 4, cols: 4 }, tile: { ...base.tile, dmemKiB }, serving: { batching: 'continuous', maxBatch: 16, prefillChunkTokens: 64, microBatches: 2 } });
      const exact = planMapping(card, d, workloadTraces(LLM_DECODE_V2, d).decode).mapping.kvCapacityTokens;
      const est = kvCapacityTokensEstimate(card, d, 514);
      expect(Math.abs(Math.log((est + 1) / (exact + 1)))).toBeLessThan(0.2);
      const a = analytic(d, ctx);
      expect(a.sequences).toBeLessThanOrEqual(a.batch);
    }
    const small = variant(base, { tile: { ...base.tile, dmemKiB: 32 } });
    expect(kvCapacityTokensEstimate(card, small, 514)).toBeLessThan(kvCapacityTokensEstimate(card, variant(base, { tile: { ...base.tile, dmemKiB: 512 } }), 514));
  });

  test('the path estimate\'s bound tracks the simulator\'s mapping bound on sampled designs (median within 25%, all within 3x); the baseline adds port waits', () => {
    const s = tinySettings();
    const errs: number[] = [];
    for (let index = 0; index < 8; index++) {
      const l = runLabelJob({ runId: 't', index, settings: s });
      if (l.status !== 'ok') continue;
      // the bound's own terms: the path without the port waits, the micro-batches in flight, the busiest tile
      const a = analytic(l.design, ctx);
      const f = l.design.clockMHz * 1e6;
      const bound = Math.min(a.boundTokensPerSecond, (Math.min(a.path.slots * a.path.rows, a.sequences) * f) / a.path.cycles, (a.path.rows * f) / a.path.busiestTileCycles);
      errs.push(Math.abs(Math.log(bound / l.bounds!.mappingTokensPerSecond)));
      expect(a.estTokensPerSecond).toBeLessThanOrEqual(bound);
    }
    errs.sort((a, b) => a - b);
    expect(errs.length).toBeGreaterThanOrEqual(5);
    expect(errs[Math.floor(errs.length / 2)]).toBeLessThan(Math.log(1.25));
    expect(errs[errs.length - 1]).toBeLessThan(Math.log(3));
  });
});

describe('kernel work on the path (the gbdt-kernels features)', () => {
  test('the tile model\'s kernels never beat the resource limits, and the step\'s kernels read every weight from ROM once (within 5%: slices rounded up)', () => {
    const card = builtinModel('smollm2-135m')!;
    const t = card.text;
    // weight elements of a decode step from the card: q|k|v, o, gate|up, down per layer, then the (tied) LM head
    const perLayer = t.hiddenSize * (t.numHeads + 2 * t.numKvHeads) * t.headDim + t.numHeads * t.headDim * t.hiddenSize + 3 * t.hiddenSize * t.intermediateSize;
    const elements = t.numLayers * perLayer + t.vocabSize * t.hiddenSize;
    const bytesPer = { fp16: 2, int8: 1, int4: 0.5 } as const;
    for (let i = 0; i < 6; i++) {
      const d = sampleDesign({ card, modelName: card.name, nodes: [7], seed: 4, workload: LLM_DECODE_V2 }, i).design;
      const kw = kernelWork(d);
      const exact = estimateCriticalPath(card, d, 1, 512, 'single', kw.cycles);
      const limits = estimateCriticalPath(card, d, 1, 512, 'single');
      expect(exact.workCycles).toBeGreaterThanOrEqual(limits.workCycles);
      expect(exact.netCycles).toBe(limits.netCycles);
      const rom = kw.counters['tile.romBytesRead'] / (elements * bytesPer[d.precision.weights]);
      expect({ i, rom: Math.abs(rom - 1) < 0.05 }).toEqual({ i, rom: true });
      expect(kw.tileEnergyPj(DEFAULT_TECH)).toBeGreaterThan(0);
    }
  });
});

describe('the accuracy measurement', () => {
  const settings = tinySettings();
  const base = { modelName: settings.modelName, card: settings.card, fidelity: settings.fidelity, workload: settings.workload, eventLimit: settings.eventLimit, tech: settings.tech };

  test('out-of-sample designs: presets that map, and designs outside the sampler box that map', () => {
    const designs = outOfSampleDesigns(base, [7], 3);
    const outside = designs.filter((d) => d.name.startsWith('outside-box'));
    expect(outside.length).toBeGreaterThanOrEqual(3);
    const box = samplerBox(settings.card, 7);
    const hi = (p: string) => (box.rules[p] as { hi: number }).hi;
    const lo = (p: string) => (box.rules[p] as { lo: number }).lo;
    for (const d of designs) expect(mappingFeasible(settings.card, d, LLM_DECODE_V2)).toBe(true);
    for (const d of outside) {
      const beyond = d.mesh.rows > hi('mesh.rows') || d.serving.maxBatch > hi('serving.maxBatch') || d.clockMHz < lo('clockMHz') || d.mapping.pipelineStages > hi('mapping.pipelineStages');
      expect(beyond).toBe(true);
    }
    expect(designs.some((d) => d.name === 'tiny-2x2@7nm' || d.name.startsWith('tiny-2x2'))).toBe(true);
    // no two designs simulate the same thing
    const keys = designs.map((d) => JSON.stringify({ ...d, name: '', description: '', source: '' }));
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('trains and judges every family on the same labels and writes tables, models and parity plots', () => {
    const train = synthLabels(120, 1);
    const held = synthLabels(40, 2);
    const plan = { dir, nodes: [7, 28] as (7 | 28)[], trainPerNode: 60, heldOutPerNode: 20, trainSeed: 1, heldOutSeed: 2 };
    const ctx = { card: settings.card, tech: DEFAULT_TECH, workload: LLM_DECODE_V2 };
    const r = measureAccuracy(plan, ctx, { train: { labels: train, simulatorVersion: 'sim-test', workload: 'llm-decode-v2', model: { name: 'tiny', hash: 'x' } }, heldOut: { labels: held } }, { families: ['gbdt', 'bounds'] });
    expect(r.results.map((x) => x.family)).toEqual(['gbdt', 'bounds']);
    const files = accuracyFiles(dir);
    for (const f of [files.markdown, files.json, files.model('gbdt'), files.parity('gbdt'), files.model('bounds')]) expect(fs.existsSync(f)).toBe(true);
    expect(r.markdown).toContain('| gbdt |');
    expect(r.markdown).toContain('| target | | <= 5 |');
    const json = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    expect(json.results[0].report.overall.targets.tokensPerSecond.mape).toBeGreaterThanOrEqual(0);
    expect(json.counts.heldOut['7'].labels + json.counts.heldOut['28'].labels).toBe(40);
  });

  test('bad options are one-line errors (exit 2)', async () => {
    for (const args of [
      ['--train-seed', '3', '--held-out-seed', '3'],
      ['--train-per-node', '0'],
      ['--families', 'forest'],
      ['--nodes', '6'],
    ]) {
      const io = memoryIo();
      const code = await main(['surrogate', 'accuracy', '--model', 'tiny', '--dir', path.join(dir, 'bad'), '--quiet', ...args], io);
      expect(code).toBe(2);
      expect(io.err.trim().split('\n')).toHaveLength(1);
      expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
    }
  });
});
