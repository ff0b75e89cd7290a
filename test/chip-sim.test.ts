import { simulateChip, type ChipFidelity, type SimOutput, type SimResult } from '../sim/chip/run.js';
import { builtinModel } from '../sim/model/catalog.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DesignSchema, type DesignInput } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { InputError } from '../sim/validate/inputError.js';
import { presetDesign } from '../sim/design/presets.js';
import { Rng } from '../sim/random/rng.js';
import type { ModelCard } from '../sim/model/card.js';

const tile = { fetchWidth: 4, reservationStations: 8, vlenBits: 256, dmemKiB: 128, wmemKiB: 256, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 2, scalarDispatchPorts: 1, vectorDispatchPorts: 2 };
function design(over: Partial<DesignInput> = {}) {
  const serving = { batching: 'continuous', maxBatch: 4, prefillChunkTokens: 32, microBatches: 1 } as const;
  return parseInput(DesignSchema, { kind: 'design', schemaVersion: 1, name: 't', processNodeNm: 7, clockMHz: 500, mesh: { rows: 2, cols: 3 }, noc: { flitBits: 128, virtualChannels: 2, bufferDepthFlits: 4 }, tile, serving, ...over }, 'test design');
}
const model = (n: string) => builtinModel(n)!;
/** The result of a run that must have been simulated (fails the test on an infeasible design). */
function ok(r: SimOutput['result']): SimResult {
  if (!r.feasible) throw new Error(`unexpectedly infeasible: ${r.mapping.reasons.join('; ')}`);
  return r;
}
function simAny(card: ModelCard, d: ReturnType<typeof design>, trace: string, fidelity: ChipFidelity = 'fast', seed = 1) {
  return simulateChip({ card, design: d, trace: generateTrace(trace, seed), tech: DEFAULT_TECH, fidelity, seed }).result;
}
function sim(card: ModelCard, d: ReturnType<typeof design>, trace: string, fidelity: ChipFidelity = 'fast', seed = 1) {
  return ok(simAny(card, d, trace, fidelity, seed));
}

/** Weight bytes one FP16 decode step streams, from the card's shapes (models.md section 3). */
function streamedFp16(card: ModelCard): number {
  const t = card.text;
  const q = t.numHeads * t.headDim;
  const k = t.numKvHeads * t.headDim;
  const linear = t.hiddenSize * q + 2 * t.hiddenSize * k + q * t.hiddenSize + 3 * t.hiddenSize * t.intermediateSize;
  // every layer's matrices and two norms, the final norm, the LM head, one embedding row
  return 2 * (t.numLayers * (linear + 2 * t.hiddenSize) + t.hiddenSize + t.vocabSize * t.hiddenSize + t.hiddenSize);
}

describe('full-chip invariants, decode:1@C at batch 1', () => {
  test.each([
    ['tiny', 7],
    ['tiny', 100],
    ['smollm2-135m', 32],
  ])('%s at context %i: ROM, KV and flit accounting are exact', (name, C) => {
    const card = model(name);
    const d = name === 'tiny' ? design() : design({ mesh: { rows: 3, cols: 4 }, tile: { ...tile, wmemKiB: 23000, dmemKiB: 256 }, mapping: { pipelineStages: 2 } });
    const r = sim(card, d, `decode:1@${C}`);
    expect(r.mapping.feasible).toBe(true);
    expect(r.counters.romBytesRead).toBe(streamedFp16(card));
    // every layer reads K and V of each KV head for the C cached positions and the new one
    const t = card.text;
    expect(r.counters.kvBytesRead).toBe(t.numLayers * 2 * t.numKvHeads * t.headDim * 2 * (C + 1));
    expect(r.counters.kvBytesWritten).toBe(t.numLayers * 2 * t.numKvHeads * t.headDim * 2);
    expect(r.counters.flitsEjected).toBe(r.counters.flitsInjected + r.counters.flitsReplicated);
    expect(r.counters.flitsInjected).toBeGreaterThan(0);
  });

  test.each([
    [2, 100],
    [3, 150],
  ])('decode:1@CxB with B=%i, C=%i on a mesh that splits KV heads by context: KV reads are exactly B times one sequence', (B, C) => {
    const card = model('smollm2-135m');
    const d = design({ mesh: { rows: 3, cols: 4 }, tile: { ...tile, wmemKiB: 23000, dmemKiB: 1024 }, mapping: { pipelineStages: 2 }, serving: { batching: 'continuous', maxBatch: 4, prefillChunkTokens: 32, microBatches: 1 } });
    const r = sim(card, d, `decode:1@${C}x${B}`);
    expect(r.mapping.feasible).toBe(true);
    const t = card.text;
    expect(r.counters.kvBytesRead).toBe(B * t.numLayers * 2 * t.numKvHeads * t.headDim * 2 * (C + 1));
    expect(r.counters.kvBytesWritten).toBe(B * t.numLayers * 2 * t.numKvHeads * t.headDim * 2);
  });

  test('decode:1@100x2 on paper-llama-3nm (one micro-batch): KV reads exactly twice one sequence', () => {
    const card = model('llama-3.1-8b');
    const p = presetDesign('paper-llama-3nm')!;
    const d = parseInput(DesignSchema, { ...p, serving: { ...p.serving, microBatches: 1 } }, 'paper-llama-3nm, one micro-batch');
    const r = ok(simulateChip({ card, design: d, trace: generateTrace('decode:1@100x2'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 }).result);
    const t = card.text;
    expect(r.counters.kvBytesRead).toBe(2 * t.numLayers * 2 * t.numKvHeads * t.headDim * 2 * 101);
  });

  test('decode:N@CxB reads the weights once per step, not B times; KV reads scale with B', () => {
    const card = model('tiny');
    const one = sim(card, design(), 'decode:3@20');
    const four = sim(card, design(), 'decode:3@20x4');
    expect(four.run.steps).toBe(one.run.steps);
    // only the embedding rows (one per sequence and step, FP16) grow with B
    expect(four.counters.romBytesRead - one.counters.romBytesRead).toBe(one.run.steps * 3 * card.text.hiddenSize * 2);
    expect(four.counters.kvBytesRead).toBe(4 * one.counters.kvBytesRead);
    expect(four.run.generatedTokens).toBe(12);
  });
});

describe('bounds', () => {
  test('tokens/s <= mapping bound <= every chip-wide bound, bounds recomputed from the design and card (random designs and serving policies)', () => {
    const rng = new Rng(2026, 'bounds-property');
    const card = model('tiny');
    const t = card.text;
    let checked = 0;
    let batched = 0;
    for (let i = 0; i < 24; i++) {
      const rows = rng.int(1, 3);
      const cols = rng.int(1, 3);
      const vlen = [128, 256, 512, 1024][rng.int(0, 3)];
      const batching = rng.next() < 0.3 ? 'single' : 'continuous';
      const maxBatch = rng.int(1, 4);
      const microBatches = rng.int(1, 3);
      const d = design({
        mesh: { rows, cols },
        clockMHz: rng.int(100, 570),
        noc: { flitBits: [64, 128, 256][rng.int(0, 2)], virtualChannels: rng.int(1, 3), bufferDepthFlits: rng.int(2, 6) },
        tile: { ...tile, vlenBits: vlen, fetchWidth: rng.int(1, 8), reservationStations: rng.int(2, 16), wmemKiB: 256 },
        mapping: { pipelineStages: rng.int(1, Math.min(4, rows * cols)) },
        serving: { batching, maxBatch, prefillChunkTokens: 32, microBatches },
      });
      const C = rng.int(1, 200);
      const B = rng.int(1, 3);
      const { result: r, engine } = simulateChip({ card, design: d, trace: generateTrace(`decode:${rng.int(2, 4)}@${C}x${B}`, 1), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 });
      if (!r.feasible) continue;
      checked++;
      const b = r.bounds;
      // the largest decode step: one micro-batch slot's share of maxBatch (documented policy)
      const slots = batching === 'single' ? 1 : Math.min(microBatches, maxBatch);
      const batch = batching === 'single' ? 1 : Math.min(Math.ceil(maxBatch / slots), B);
      if (batch > 1) batched++;
      expect(b.boundAt).toEqual({ batch, contextTokens: C });
      // compute bound: all lanes (VLEN / 16 FP16 lanes) busy against one token's MACs
      const macs = t.numLayers * (t.hiddenSize * (t.numHeads + 2 * t.numKvHeads) * t.headDim + t.numHeads * t.headDim * t.hiddenSize + 3 * t.hiddenSize * t.intermediateSize) + t.vocabSize * t.hiddenSize + 2 * t.numLayers * t.numHeads * t.headDim * (C + 1);
      const f = d.clockMHz * 1e6;
      const compute = (rows * cols * (vlen / 16) * f) / macs;
      expect(b.computeTokensPerSecond).toBeCloseTo(compute, 6);
      // memory bound: ROM ports (VLEN/8 bytes per cycle each) against the streamed bytes, per step of `batch` tokens
      const rom = rows * cols * (vlen / 8) * f;
      const dmem = rows * cols * (vlen / 8) * 2 * f;
      const kv = batch * (C + 1) * t.numLayers * 2 * t.numKvHeads * t.headDim * 2;
      const memory = batch / Math.max(streamedFp16(card) / rom, kv / dmem);
      expect(b.memoryTokensPerSecond).toBeCloseTo(memory, 6);
      // NoC bound: every directed link carries a flit per cycle, against the flit-hops the run counted
      const links = 2 * (rows * (cols - 1) + cols * (rows - 1));
      const hops = r.allCounters['noc.linkFlitHops'] ?? 0;
      const noc = hops ? (links * f) / (hops / r.run.generatedTokens) : Infinity;
      expect(b.nocTokensPerSecond).toBeCloseTo(noc, 6);
      expect(r.metrics.tokensPerSecond).toBeLessThanOrEqual(b.mappingTokensPerSecond * (1 + 1e-9));
      for (const chipWide of [compute, memory, noc]) expect(b.mappingTokensPerSecond).toBeLessThanOrEqual(chipWide * (1 + 1e-9));
      // a tile runs one task at a time: never busier than the run is long
      for (const busy of engine!.busyCycles) expect(busy).toBeLessThanOrEqual(r.run.simulatedCycles);
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    expect(batched).toBeGreaterThanOrEqual(3);
  });

  test('paper-llama-3nm, decode:1@512: the share of the mapping bound and its largest cause are always reported', () => {
    const r = ok(simulateChip({ card: model('llama-3.1-8b'), design: presetDesign('paper-llama-3nm')!, trace: generateTrace('decode:1@512'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 }).result);
    const fraction = r.metrics.tokensPerSecond / r.bounds.mappingTokensPerSecond;
    expect(r.belowBound.fractionOfMappingBound).toBeCloseTo(fraction, 9);
    expect(r.belowBound.dominantStall).toMatch(/^(arrivals|prefill|tile kernels|network and queueing):/);
    console.log(`paper-llama-3nm decode:1@512: ${r.metrics.tokensPerSecond.toFixed(1)} tokens/s, ${(100 * fraction).toFixed(1)}% of the mapping bound (${r.bounds.mappingLimitedBy})`);
  });

  test('below half the bound, the stall is named: a batch-8 step on the 3 nm preset', () => {
    const r = ok(simulateChip({ card: model('llama-3.1-8b'), design: presetDesign('paper-llama-3nm')!, trace: generateTrace('decode:2@512x8'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 }).result);
    expect(r.metrics.tokensPerSecond).toBeLessThanOrEqual(r.bounds.mappingTokensPerSecond);
    expect(r.belowBound.fractionOfMappingBound).toBeCloseTo(r.metrics.tokensPerSecond / r.bounds.mappingTokensPerSecond, 9);
    expect(r.belowBound.dominantStall).toMatch(/^(arrivals|prefill|tile kernels|network and queueing):/);
  });
});

describe('serving limits', () => {
  test('maxBatch bounds the sequences in flight even with more micro-batches than maxBatch', () => {
    const card = model('tiny');
    const d = design({ mesh: { rows: 2, cols: 2 }, mapping: { pipelineStages: 2 }, serving: { batching: 'continuous', maxBatch: 1, prefillChunkTokens: 32, microBatches: 2 } });
    const r = sim(card, d, 'decode:4@20x2');
    // with one sequence at a time the second starts after the first has finished
    const [a, b2] = [...r.requests].sort((x, y) => x.doneMs - y.doneMs);
    expect(b2.ttftMs + b2.arrivalMs).toBeGreaterThanOrEqual(a.doneMs);
    expect(r.bounds.boundAt.batch).toBe(1);
  });

  test('prefill-dominated runs name prefill as the reason they sit below the decode bound', () => {
    const r = sim(model('tiny'), design(), 'request:200:2');
    expect(r.belowBound?.dominantStall).toMatch(/^prefill:/);
  });
});

describe('fidelities', () => {
  test('SmolLM2-135M on a small mesh: fast, flit and detailed agree on tokens/s within 5%', () => {
    const card = model('smollm2-135m');
    const d = design({ mesh: { rows: 2, cols: 2 }, tile: { ...tile, vlenBits: 512, wmemKiB: 67000, dmemKiB: 512 }, noc: { flitBits: 256, virtualChannels: 2, bufferDepthFlits: 4 } });
    const rates = (['fast', 'flit', 'detailed'] as const).map((f) => sim(card, d, 'decode:2@64', f).metrics.tokensPerSecond);
    const [fast, flit, detailed] = rates;
    console.log(`SmolLM2-135M decode:2@64 tokens/s: fast ${fast.toFixed(1)}, flit ${flit.toFixed(1)}, detailed ${detailed.toFixed(1)}`);
    expect(Math.abs(flit / fast - 1)).toBeLessThan(0.05);
    expect(Math.abs(detailed / fast - 1)).toBeLessThan(0.05);
  });
});

describe('bad or inconsistent input', () => {
  test('weights that do not fit give an infeasible result with the shortfall and null metrics, no crash, no NaN', () => {
    const r = simAny(model('smollm2-135m'), design(), 'decode:1@8');
    if (r.feasible) throw new Error('expected infeasible');
    expect(r.mapping.feasible).toBe(false);
    expect(r.metrics.feasible).toBe(false);
    expect(r.mapping.reasons[0]).toMatch(/weights do not fit on tile \d+ .*need [\d,]+ bytes, WMEM has [\d,]+ \(short by [\d,]+\)/);
    expect(JSON.stringify(r.metrics)).not.toMatch(/NaN/);
    // nothing was measured: no zero that reads like a result
    expect([r.metrics.tokensPerSecond, r.metrics.powerW, r.metrics.energyPerTokenJ, r.metrics.ttftMs, r.metrics.itlMs, r.metrics.ppaScore]).toEqual([null, null, null, null, null, null]);
    expect(r.metrics.areaMm2).toBeGreaterThan(0);
    expect(r.report.ppa.score).toBeLessThanOrEqual(0);
  });

  test('a KV cache that does not fit is infeasible', () => {
    const r = simAny(model('tiny'), design({ tile: { ...tile, dmemKiB: 16 } }), 'decode:1@1000');
    expect(r.mapping.feasible).toBe(false);
    expect(r.mapping.shortfalls.map((s) => s.what)).toContain('kv');
  });

  test('a trace longer than the model context is an input error naming the request', () => {
    expect(() => sim(model('tiny'), design(), 'request:1000:100')).toThrow(InputError);
    expect(() => sim(model('tiny'), design(), 'request:1000:100')).toThrow(/requests\[0\].*context of 1024/);
  });

  test('images for a text-only model are an input error', () => {
    expect(() => sim(model('tiny'), design(), 'request:8:2,image=64x64')).toThrow(/no vision encoder/);
  });
});

describe('vision-language requests', () => {
  test('tiny-vlm: the encoder runs per crop and image tokens enter the prefill', () => {
    const card = model('tiny-vlm');
    const r = sim(card, design({ tile: { ...tile, dmemKiB: 256 } }), 'request:8:3,image=128x64');
    expect(r.mapping.feasible).toBe(true);
    expect(r.run.generatedTokens).toBe(3);
    // 128x64 -> 2x1 crops of 64 px + a global view = 3 crops x 16 tokens; the prompt's
    // and every generated token's K/V are written except the last token's (never fed back)
    expect(r.counters.kvBytesWritten).toBe(card.text.numLayers * 2 * card.text.numKvHeads * card.text.headDim * 2 * (8 + 48 + 3 - 1));
  });
});

describe('message-level NoC on whole-chip traffic', () => {
  test.each([
    ['smollm2-135m', 'edge-4x4-28nm', 'decode:2@64'],
    ['llama-3.2-1b', 'w4a16-8x8-7nm', 'decode:1@128'],
  ])('%s on %s, %s: average message latency within 10% of the flit model', async (m, d, t) => {
    const { presetDesign } = await import('../sim/design/presets.js');
    const lat: number[] = [];
    for (const fidelity of ['fast', 'flit'] as const) {
      const out = simulateChip({ card: model(m), design: presetDesign(d)!, trace: generateTrace(t), tech: DEFAULT_TECH, fidelity, seed: 1, recordTimeline: true });
      expect(out.result.mapping.feasible).toBe(true);
      const ms = out.engine!.messages;
      expect(ms.length).toBeGreaterThan(100);
      lat.push(ms.reduce((s, x) => s + x.deliveredCycles - x.sentCycles, 0) / ms.length);
    }
    console.log(`${m} on ${d}: mean message latency message-level ${lat[0].toFixed(1)} vs flit-level ${lat[1].toFixed(1)} cycles`);
    expect(Math.abs(lat[0] / lat[1] - 1)).toBeLessThan(0.1);
  });
});

describe('heterogeneous tiles', () => {
  test('tiles sized from their work hold their slices and KV, and the chip gets smaller than an oversized uniform one', async () => {
    const { resolveTiles } = await import('../sim/design/tiles.js');
    const { mapModel } = await import('../sim/chip/mapping.js');
    const { sizeTilesFromWork } = await import('../sim/chip/heterogeneous.js');
    const card = model('smollm2-135m');
    const uniform = design({ mesh: { rows: 3, cols: 4 }, tile: { ...tile, wmemKiB: 40000, dmemKiB: 512 }, mapping: { pipelineStages: 3 } });
    const hetero = parseInput(DesignSchema, { ...uniform, mapping: { ...uniform.mapping, heterogeneousTiles: true } }, 'hetero');
    const a = sim(card, uniform, 'decode:2@64');
    const b = sim(card, hetero, 'decode:2@64');
    expect(a.mapping.feasible && b.mapping.feasible).toBe(true);
    expect(b.metrics.areaMm2).toBeLessThan(a.metrics.areaMm2);
    // the same weights are read either way
    expect(b.counters.romBytesRead).toBe(a.counters.romBytesRead);
    // each sized tile holds exactly its share (+2%) and tiles differ
    const sized = sizeTilesFromWork(uniform, mapModel(card, uniform, { maxBatch: 4, chunkTokens: 32, requiredKvTokens: 66 }), 66);
    const tiles = resolveTiles(sized);
    const map = mapModel(card, sized, { maxBatch: 4, chunkTokens: 32, requiredKvTokens: 66 });
    expect(map.feasible).toBe(true);
    for (const t of map.tiles) expect(t.romBytes).toBeLessThanOrEqual(tiles[t.tile].wmemKiB * 1024);
    expect(new Set(tiles.map((t) => t.wmemKiB)).size).toBeGreaterThan(1);
  });
});
