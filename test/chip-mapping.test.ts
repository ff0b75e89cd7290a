import { builtinModel } from '../sim/model/catalog.js';
import { lowerDecodeStep, lowerPrefillChunk, lowerVisionTiles, opMacs, attendedPositions } from '../sim/chip/lower.js';
import { mapModel, apportion, serpentineOrder } from '../sim/chip/mapping.js';
import { DesignSchema, type DesignInput } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';
import { weightTensors } from '../sim/model/derive.js';

const model = (n: string) => builtinModel(n)!;
const tile = { fetchWidth: 2, reservationStations: 8, vlenBits: 512, dmemKiB: 256, wmemKiB: 1024, imemKiB: 8, scalarWritePorts: 1, vectorWritePorts: 1, scalarDispatchPorts: 1, vectorDispatchPorts: 1 };
function design(over: Partial<DesignInput> = {}) {
  return parseInput(DesignSchema, { kind: 'design', schemaVersion: 1, name: 't', processNodeNm: 7, clockMHz: 500, mesh: { rows: 4, cols: 4 }, noc: { flitBits: 256, virtualChannels: 2, bufferDepthFlits: 4 }, tile, ...over }, 'test');
}

describe('lowering', () => {
  test('a decode step multiplies every weight once: linear MACs = L x linear params + V x h per token', () => {
    const m = model('llama-3.1-8b');
    for (const B of [1, 3]) {
      const ops = lowerDecodeStep(m, { contextTokens: Array(B).fill(100) });
      const linMacs = ops.filter((o) => o.kind === 'linear').reduce((s, o) => s + opMacs(o), 0);
      expect(linMacs).toBe(B * (32 * 218_103_808 + 128_256 * 4096));
      // attention: QK and PV over c + 1 positions per query head
      const attMacs = ops.filter((o) => o.kind === 'attention').reduce((s, o) => s + opMacs(o), 0);
      expect(attMacs).toBe(B * 32 * 2 * 32 * 128 * 101);
    }
  });

  test('a decode step has the embedding read, every layer, final norm, LM head and argmax', () => {
    const m = model('smollm2-135m');
    const ops = lowerDecodeStep(m, { contextTokens: [5] });
    expect(ops[0].kind).toBe('embedding');
    expect(ops.slice(-3).map((o) => o.kind)).toEqual(['rmsnorm', 'linear', 'argmax']);
    expect(ops.filter((o) => o.kind === 'attention')).toHaveLength(30);
    // tied model: the head reads the embedding matrix
    expect(ops.find((o) => o.name === 'lm_head')).toMatchObject({ weight: 'text.embed_tokens' });
    const names = new Set(weightTensors(m).map((w) => w.name));
    for (const o of ops) if (o.kind === 'linear') expect(names.has(o.weight)).toBe(true);
  });

  test('sliding window caps attended positions', () => {
    expect(attendedPositions(100)).toBe(101);
    expect(attendedPositions(100, 64)).toBe(64);
    expect(attendedPositions(10, 64)).toBe(11);
  });

  test('prefill attends the triangle once and runs the head for one position', () => {
    const m = model('tiny');
    const ops = lowerPrefillChunk(m, 8, 4);
    const att = ops.find((o) => o.kind === 'attention')!;
    // positions 5..12 for queries at cached 4 + i
    expect(opMacs(att)).toBe(2 * 4 * 16 * (5 + 6 + 7 + 8 + 9 + 10 + 11 + 12));
    expect(ops.find((o) => o.name === 'lm_head')!.tokens).toBe(1);
  });

  test('vision tiles: patch embedding, encoder layers, pixel shuffle, connector', () => {
    const m = model('smolvlm-256m');
    const ops = lowerVisionTiles(m, 2);
    const lin = ops.filter((o) => o.kind === 'linear').reduce((s, o) => s + opMacs(o), 0);
    const N = 1024, d = 768, I = 3072;
    expect(lin).toBe(2 * (N * 768 * d + 12 * N * (4 * d * d + 2 * d * I) + (N / 16) * 12288 * 576));
  });
});

describe('mapping', () => {
  test.each([
    ['smollm2-135m', 4, 4, 4],
    ['smollm2-135m', 3, 5, 2],
    ['smolvlm-256m', 3, 4, 3],
  ])('weights are partitioned exactly: every element of every tensor on one tile, bytes add up (%s, %ix%i, %i stages)', (name, rows, cols, stages) => {
    const m = model(name);
    const d = design({ mesh: { rows, cols }, tile: { ...tile, wmemKiB: 60000 }, mapping: { pipelineStages: stages } });
    const map = mapModel(m, d);
    const total = weightTensors(m).reduce((s, w) => s + 2 * w.rows * w.cols * w.count, 0);
    expect(map.tiles.reduce((s, t) => s + t.romBytes, 0)).toBe(total);
    // each slice is a rows x cols rectangle; per tensor they tile the tensor without overlap
    const rects = new Map<string, { r0: number; r1: number; c0: number; c1: number }[]>();
    for (const t of map.tiles) for (const s of t.weightSlices) {
      for (let l = s.layer; l < s.layer + s.layers; l++) {
        const key = `${s.tensor}@${s.layer < 0 ? -1 : l}`;
        rects.set(key, [...(rects.get(key) ?? []), { r0: s.rowStart, r1: s.rowEnd, c0: s.colStart, c1: s.colStart + s.cols }]);
      }
    }
    for (const w of weightTensors(m)) {
      const layers = w.count;
      for (let l = 0; l < layers; l++) {
        const rs = rects.get(`${w.name}@${layers > 1 ? l : -1}`)!;
        expect(rs.reduce((s, r) => s + (r.r1 - r.r0) * (r.c1 - r.c0), 0)).toBe(w.rows * w.cols);
        for (const r of rs) expect(r.r0 >= 0 && r.r1 <= w.rows && r.c0 >= 0 && r.c1 <= w.cols).toBe(true);
        for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) {
          const a = rs[i], b = rs[j];
          expect(a.r0 < b.r1 && b.r0 < a.r1 && a.c0 < b.c1 && b.c0 < a.c1).toBe(false);
        }
      }
    }
  });

  test('every decoder layer\'s KV heads are held exactly once across tiles', () => {
    const m = model('llama-3.2-1b');
    const map = mapModel(m, design({ mesh: { rows: 6, cols: 7 }, tile: { ...tile, wmemKiB: 70000 }, mapping: { pipelineStages: 5 } }));
    const perLayer = new Map<number, number>();
    for (const t of map.tiles) for (const k of t.kvShares) perLayer.set(k.layer, (perLayer.get(k.layer) ?? 0) + k.parts.reduce((s, p) => s + p.toFraction - p.fromFraction, 0));
    expect(perLayer.size).toBe(16);
    for (const v of perLayer.values()) expect(v).toBeCloseTo(8, 9);
  });

  test('weights that do not fit are reported with the shortfall, not squeezed', () => {
    const m = model('smollm2-135m');
    const map = mapModel(m, design({ tile: { ...tile, wmemKiB: 4096 } }));
    expect(map.feasible).toBe(false);
    const w = map.shortfalls.filter((s) => s.what === 'weights');
    expect(w.length).toBeGreaterThan(0);
    for (const s of w) expect(s.needBytes).toBeGreaterThan(s.haveBytes);
    // 16 tiles x 4 MiB = 64 MiB < 269 MB of FP16 weights
    expect(map.tiles.reduce((s, t) => s + t.romBytes, 0)).toBe(2 * 134_515_008);
  });

  test('KV that does not fit the DMEM is a kv shortfall; a window or INT8 KV makes room', () => {
    const m = model('smollm2-135m');
    const d = design({ tile: { ...tile, wmemKiB: 20000, dmemKiB: 64 } });
    const map = mapModel(m, d, { requiredKvTokens: 8000 });
    expect(map.shortfalls.map((s) => s.what)).toContain('kv');
    const int8 = mapModel(m, design({ tile: { ...tile, wmemKiB: 20000, dmemKiB: 64 }, precision: { kvCache: 'int8' } }));
    expect(int8.kvCapacityTokens).toBeGreaterThan(1.9 * map.kvCapacityTokens);
  });

  test('per-tile overrides are honoured: a tile with twice the WMEM holds about twice the rows', () => {
    const m = model('tiny');
    const d = design({ mesh: { rows: 1, cols: 2 }, tile: { ...tile, wmemKiB: 256 }, tileOverrides: [{ row: 0, col: 1, wmemKiB: 512 }] });
    const map = mapModel(m, d);
    const rows = (t: number) => map.tiles[t].weightSlices.filter((s) => s.tensor === 'text.layers.gate_proj').reduce((s, x) => s + x.rowEnd - x.rowStart, 0);
    expect(rows(1)).toBeGreaterThanOrEqual(2 * rows(0) - 2);
  });

  test('helpers: apportion sums exactly; serpentine order visits every tile once', () => {
    expect(apportion(10, [1, 1, 1]).reduce((a, b) => a + b)).toBe(10);
    expect(apportion(7, [0, 3, 1])).toEqual([0, 5, 2]);
    expect(serpentineOrder(2, 3)).toEqual([0, 1, 2, 5, 4, 3]);
  });
});

describe('paper presets', () => {
  test.each(['3', '5', '7', '10', '14', '22', '28'])('paper-llama-%snm is feasible for decode:1@512 with its serving settings', async (nm) => {
    const { presetDesign } = await import('../sim/design/presets.js');
    const d = presetDesign(`paper-llama-${nm}nm`)!;
    const map = mapModel(model('llama-3.1-8b'), d, { requiredKvTokens: 513, maxBatch: d.serving.maxBatch, chunkTokens: d.serving.prefillChunkTokens });
    expect(map.shortfalls).toEqual([]);
  });

  test.each(['3', '5', '7', '10', '14', '22', '28'])('paper-smolvlm-%snm holds a 512x512 image request', async (nm) => {
    const { presetDesign } = await import('../sim/design/presets.js');
    const d = presetDesign(`paper-smolvlm-${nm}nm`)!;
    expect(d.clockMHz).toBe(10);
    const map = mapModel(model('smolvlm-256m'), d, { requiredKvTokens: 32 + 17 * 64 + 32, maxBatch: 1, chunkTokens: d.serving.prefillChunkTokens });
    expect(map.shortfalls).toEqual([]);
  });
});
