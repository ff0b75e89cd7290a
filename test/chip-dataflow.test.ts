import { simulateChip, type ChipFidelity, type SimResult } from '../sim/chip/run.js';
import { mapModel } from '../sim/chip/mapping.js';
import { builtinModel } from '../sim/model/catalog.js';
import { generateTrace } from '../sim/trace/generators.js';
import { DEFAULT_TECH } from '../sim/tech/defaultTable.js';
import { DesignSchema, type Design, type DesignInput } from '../sim/design/design.js';
import { presetDesign } from '../sim/design/presets.js';
import { parseInput } from '../sim/validate/zod.js';
import type { ModelCard } from '../sim/model/card.js';
import type { ChipEngine } from '../sim/chip/engine.js';

/**
 * The distributed dataflow (issue 11, docs/chip.md): the layer-sequential bound recomputed
 * from the card, the paper preset's efficiency against it at both tile fidelities, tile
 * count paying over a matrix of designs, no hub tile, KV-limited concurrency, and the
 * collective knobs moving the result.
 */

const model = (n: string) => builtinModel(n)!;

/** A simulation of a design that must be feasible. */
function run(card: ModelCard, design: Design, trace: string, fidelity: ChipFidelity = 'fast'): { r: SimResult; engine: ChipEngine } {
  const out = simulateChip({ card, design, trace: generateTrace(trace), tech: DEFAULT_TECH, fidelity, seed: 1 });
  if (!out.result.feasible) throw new Error(`${design.name} is infeasible: ${out.result.mapping.reasons[0]}`);
  return { r: out.result, engine: out.engine! };
}

const withMapping = (d: Design, mapping: Partial<Design['mapping']>, name = d.name) => parseInput(DesignSchema, { ...d, mapping: { ...d.mapping, ...mapping } }, name);

/** The matrix's tile: per-tile parameters fixed while the mesh grows (WMEM and DMEM hold either model on 4x4). */
function matrixDesign(n: number, stages: number, wmemKiB: number, mapping: Partial<DesignInput['mapping']> = {}): Design {
  return parseInput(
    DesignSchema,
    {
      kind: 'design',
      schemaVersion: 1,
      name: `matrix-${n}x${n}-${stages}`,
      processNodeNm: 7,
      clockMHz: 500,
      mesh: { rows: n, cols: n },
      noc: { flitBits: 512, virtualChannels: 2, bufferDepthFlits: 4, multicast: 'tree' },
      tile: { fetchWidth: 2, reservationStations: 4, vlenBits: 512, dmemKiB: 1024, wmemKiB, imemKiB: 8, scalarWritePorts: 2, vectorWritePorts: 2, scalarDispatchPorts: 2, vectorDispatchPorts: 2 },
      mapping: { pipelineStages: stages, ...mapping },
      serving: { batching: 'continuous', maxBatch: 1, prefillChunkTokens: 64, microBatches: 1 },
    },
    'matrix design',
  );
}

describe('layer-sequential bound', () => {
  test('recomputed from the card: per region, max(ROM bytes / ROM ports, MACs / lanes), summed', () => {
    for (const [name, stages, C] of [['smollm2-135m', 3, 100], ['llama-3.2-1b', 2, 40]] as const) {
      const card = model(name);
      const d = matrixDesign(4, stages, 300000);
      const { r } = run(card, d, `decode:2@${C}`);
      const t = card.text;
      // FP16 weights; VLEN 512: 32 lanes and a 64-byte ROM port per tile
      const lanes = 512 / 16;
      const rom = 512 / 8;
      const layerParams = t.hiddenSize * (t.numHeads + 2 * t.numKvHeads) * t.headDim + t.numHeads * t.headDim * t.hiddenSize + 3 * t.hiddenSize * t.intermediateSize;
      const layerBytes = 2 * (layerParams + 2 * t.hiddenSize);
      const layerMacs = layerParams + 2 * t.numHeads * t.headDim * (C + 1);
      let cycles = 0;
      for (const region of mapModel(card, d, { maxBatch: 1, chunkTokens: 64 }).regions) {
        let bytes = 0;
        let macs = 0;
        for (const u of region.units) {
          if (u.kind === 'decoder') {
            bytes += layerBytes;
            macs += layerMacs;
          } else if (u.kind === 'head') {
            // final norm, LM head (tied: the embedding matrix) and, tied, the embedding row
            bytes += 2 * (t.hiddenSize + t.vocabSize * t.hiddenSize) + (t.tieWordEmbeddings ? 2 * t.hiddenSize : 0);
            macs += t.vocabSize * t.hiddenSize;
          } else if (u.kind === 'embedding') bytes += 2 * t.hiddenSize;
        }
        const n = region.tiles.length;
        if (bytes || macs) cycles += Math.max(bytes / (n * rom), macs / (n * lanes));
      }
      expect(r.bounds.boundAt).toEqual({ batch: 1, contextTokens: C });
      expect(r.bounds.layerSequentialTokensPerSecond).toBeCloseTo((d.clockMHz * 1e6) / cycles, 6);
      expect(r.metrics.tokensPerSecond).toBeLessThanOrEqual(r.bounds.layerSequentialTokensPerSecond);
    }
  });
});

describe('TTFT bound', () => {
  test('prefill and an image request never beat the first request\'s TTFT bound (encoder crops and prefill chunks through the regions one after the other)', () => {
    for (const [name, stages, trace] of [['smollm2-135m', 2, 'prefill:300'], ['smollm2-135m', 1, 'decode:3@64'], ['tiny-vlm', 1, 'request:8:3,image=128x64'], ['tiny-vlm', 3, 'request:20:2,image=64x64']] as const) {
      const { r } = run(model(name), matrixDesign(4, stages, 40000), trace);
      const ctx = { name, stages, trace, ttft: r.requests[0].ttftMs, bound: r.bounds.firstTtftBoundMs };
      expect({ ...ctx, ok: r.bounds.firstTtftBoundMs > 0 && r.requests[0].ttftMs >= r.bounds.firstTtftBoundMs }).toEqual({ ...ctx, ok: true });
    }
  });
});

describe('paper-llama-3nm, Llama 3.1 8B, decode:1@512', () => {
  const card = model('llama-3.1-8b');
  const preset = presetDesign('paper-llama-3nm')!;
  let eight: { r: SimResult; engine: ChipEngine };
  let one: { r: SimResult; engine: ChipEngine };
  beforeAll(() => {
    eight = run(card, preset, 'decode:1@512');
    one = run(card, withMapping(preset, { pipelineStages: 1 }, 'paper-llama-3nm, one region'), 'decode:1@512');
  });

  test('at least 75% of the layer-sequential bound at fast fidelity, and detailed tiles within 5 points of it', () => {
    const fast = eight.r.metrics.tokensPerSecond / eight.r.bounds.layerSequentialTokensPerSecond;
    const detailed = run(card, preset, 'decode:1@512', 'detailed').r;
    const det = detailed.metrics.tokensPerSecond / detailed.bounds.layerSequentialTokensPerSecond;
    console.log(`paper-llama-3nm decode:1@512: fast ${eight.r.metrics.tokensPerSecond.toFixed(1)} tokens/s = ${(100 * fast).toFixed(1)}% of the layer-sequential bound (${eight.r.bounds.layerSequentialTokensPerSecond.toFixed(1)}), detailed ${(100 * det).toFixed(1)}%`);
    expect(fast).toBeGreaterThanOrEqual(0.75);
    expect(Math.abs(det - fast)).toBeLessThanOrEqual(0.05);
  });

  test('tile count pays: one region of all 1,722 tiles runs at least twice the 8-region rate', () => {
    console.log(`pipelineStages 1: ${one.r.metrics.tokensPerSecond.toFixed(1)} tokens/s against ${eight.r.metrics.tokensPerSecond.toFixed(1)} with 8`);
    expect(one.r.metrics.tokensPerSecond).toBeGreaterThanOrEqual(2 * eight.r.metrics.tokensPerSecond);
  });

  test('no hub: in every region, no tile ejects more bytes or computes more cycles in the step than 3x the region median (1 and 8 regions)', () => {
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    for (const [label, out, d] of [['8 regions', eight, preset], ['1 region', one, withMapping(preset, { pipelineStages: 1 })]] as const) {
      expect(out.r.run.steps).toBe(1);
      for (const region of mapModel(card, d, { maxBatch: d.serving.maxBatch, chunkTokens: d.serving.prefillChunkTokens }).regions) {
        const ejected = region.tiles.map((t) => out.engine.ejectedBytes[t]);
        const busy = region.tiles.map((t) => out.engine.busyCycles[t]);
        const worst = (xs: number[]) => Math.max(...xs) / median(xs);
        const ctx = { label, region: region.stage, tiles: region.tiles.length };
        expect({ ...ctx, ejectedMaxOverMedian: worst(ejected) <= 3 }).toEqual({ ...ctx, ejectedMaxOverMedian: true });
        expect({ ...ctx, cyclesMaxOverMedian: worst(busy) <= 3 }).toEqual({ ...ctx, cyclesMaxOverMedian: true });
      }
    }
  });
});

describe('tile count pays over a matrix of designs', () => {
  test('adding tiles at fixed per-tile parameters never lowers batch-1 tokens/s by more than 5% (or the step is NoC-latency bound)', () => {
    let designs = 0;
    const lines: string[] = [];
    for (const [name, wmem] of [['smollm2-135m', 40000], ['llama-3.2-1b', 300000]] as const) {
      for (const stages of [1, 4, 8]) {
        let prev: SimResult | undefined;
        const row: string[] = [];
        for (const n of [4, 8, 12, 16]) {
          const out = simulateChip({ card: model(name), design: matrixDesign(n, stages, wmem), trace: generateTrace('decode:4@128'), tech: DEFAULT_TECH, fidelity: 'fast', seed: 1 });
          if (!out.result.feasible) continue;
          const r = out.result;
          designs++;
          row.push(`${n}x${n} ${r.metrics.tokensPerSecond.toFixed(0)}`);
          if (prev && r.metrics.tokensPerSecond < 0.95 * prev.metrics.tokensPerSecond) {
            // allowed only when message latency is at least half the step's critical path
            // and the run is within 15% of that latency bound
            const step = (r.bounds.boundAt.batch * 500e6) / r.metrics.tokensPerSecond;
            expect({ name, stages, n, nocShare: r.bounds.criticalPathNocShare >= 0.5, nearLatencyBound: step <= 1.15 * r.bounds.latencyBoundCycles }).toEqual({ name, stages, n, nocShare: true, nearLatencyBound: true });
          }
          prev = r;
        }
        lines.push(`${name} ${stages} stage(s): ${row.join(', ')}`);
      }
    }
    console.log(`tokens/s by mesh:\n${lines.join('\n')}`);
    expect(designs).toBeGreaterThanOrEqual(12);
  });
});

describe('KV-limited serving', () => {
  test('a KV cache that holds fewer sequences than maxBatch says so, and the mapping bound uses that limit', () => {
    const card = model('smollm2-135m');
    const base = (dmemKiB: number) => {
      const d = matrixDesign(4, 1, 40000);
      return parseInput(DesignSchema, { ...d, tile: { ...d.tile, dmemKiB }, serving: { batching: 'continuous', maxBatch: 4, prefillChunkTokens: 64, microBatches: 4 } }, `kv ${dmemKiB}`);
    };
    const tight = run(card, base(512), 'decode:4@150x4').r;
    const roomy = run(card, base(1024), 'decode:4@150x4').r;
    expect(tight.concurrency.kvLimited).toBe(true);
    expect(tight.concurrency.sequences).toBe(tight.concurrency.kvAdmits);
    expect(tight.concurrency.sequences).toBeLessThan(4);
    // the requests' KV (154 tokens each) fits kvAdmits times, not once more
    expect(tight.concurrency.kvAdmits * 154).toBeLessThanOrEqual(tight.mapping.kvCapacityTokens);
    expect((tight.concurrency.kvAdmits + 1) * 154).toBeGreaterThan(tight.mapping.kvCapacityTokens);
    expect(roomy.concurrency).toMatchObject({ sequences: 4, kvLimited: false });
    // one-sequence steps: the critical-path limit is sequences in flight x f / critical path
    const f = 500e6;
    expect(tight.bounds.mappingTokensPerSecond).toBeLessThanOrEqual((tight.concurrency.sequences * f) / tight.bounds.criticalPathCycles + 1e-6);
    expect(tight.metrics.tokensPerSecond).toBeLessThanOrEqual(tight.bounds.mappingTokensPerSecond);
  });
});

describe('collective knobs', () => {
  test('mapping.treeRadix and mapping.allGather each move tokens/s by at least 2% on a matrix design; invariants hold either way', () => {
    const card = model('smollm2-135m');
    const rate = (mapping: Partial<DesignInput['mapping']>, n = 16) => run(card, matrixDesign(n, 1, 40000, mapping), 'decode:4@128').r;
    const r2 = rate({ treeRadix: 2 });
    const r16 = rate({ treeRadix: 16 });
    const tree = rate({ allGather: 'tree' }, 8);
    const ring = rate({ allGather: 'ring' }, 8);
    const moved = (a: SimResult, b: SimResult) => Math.abs(a.metrics.tokensPerSecond / b.metrics.tokensPerSecond - 1);
    console.log(`treeRadix 2: ${r2.metrics.tokensPerSecond.toFixed(0)}, 16: ${r16.metrics.tokensPerSecond.toFixed(0)} tokens/s; allGather tree ${tree.metrics.tokensPerSecond.toFixed(0)}, ring ${ring.metrics.tokensPerSecond.toFixed(0)}`);
    expect(moved(r2, r16)).toBeGreaterThanOrEqual(0.02);
    expect(moved(tree, ring)).toBeGreaterThanOrEqual(0.02);
    for (const r of [r2, r16, tree, ring]) {
      expect(r.counters.romBytesRead).toBe(tree.counters.romBytesRead);
      expect(r.counters.kvBytesRead).toBe(tree.counters.kvBytesRead);
      expect(r.counters.flitsEjected).toBe(r.counters.flitsInjected + r.counters.flitsReplicated);
      expect(r.metrics.tokensPerSecond).toBeLessThanOrEqual(r.bounds.mappingTokensPerSecond * (1 + 1e-9));
    }
  });
});
