import { readFileSync } from "node:fs";
import { simulateChip } from "../sim/chip/run.js";
import { builtinModel } from "../sim/model/catalog.js";
import { generateTrace } from "../sim/trace/generators.js";
import { DEFAULT_TECH } from "../sim/tech/defaultTable.js";
import { runCollective, type CollectiveKind } from '../sim/chip/collectiveRun.js';
import { presetDesign } from '../sim/design/presets.js';
import { DesignSchema } from '../sim/design/design.js';
import { parseInput } from '../sim/validate/zod.js';

/**
 * Collectives alone on a mesh (issue 11): all-gather (tree and ring), reduce to one tile
 * and all-reduce of an 8 KiB vector (Llama's hidden row) and a 64 KiB one, on meshes from
 * 4x4 to 41x42 with paper-llama-3nm's tiles and NoC, against the alpha-beta estimate of
 * each pattern; every injected flit is ejected (multicast replicas included).
 */

const preset = presetDesign('paper-llama-3nm')!;
const mesh = (rows: number, cols: number) => parseInput(DesignSchema, { ...preset, mesh: { rows, cols }, mapping: { ...preset.mapping, pipelineStages: 1 } }, `${rows}x${cols}`);
const CASES: [CollectiveKind, 'tree' | 'ring'][] = [
  ['all-gather', 'tree'],
  ['all-gather', 'ring'],
  ['reduce', 'tree'],
  ['all-reduce', 'tree'],
];

describe('collectives against their alpha-beta estimates', () => {
  test.each([
    [4, 4, 'message'],
    [8, 8, 'message'],
    [16, 16, 'message'],
    [41, 42, 'message'],
    [4, 4, 'flit'],
    [8, 8, 'flit'],
  ] as const)('%ix%i, %s-level NoC: within 20% below to 2% above the estimate; flits conserved', (rows, cols, fidelity) => {
    const d = mesh(rows, cols);
    for (const bytes of [8192, 65536]) {
      for (const [kind, pattern] of CASES) {
        const r = runCollective(d, kind, bytes, { fidelity, pattern });
        const ctx = { kind, pattern, bytes, cycles: r.cycles, estimate: Math.round(r.estimateCycles) };
        expect({ ...ctx, ok: r.cycles >= 0.8 * r.estimateCycles && r.cycles <= 1.02 * r.estimateCycles }).toEqual({ ...ctx, ok: true });
        expect(r.flitsEjected).toBe(r.flitsInjected + r.flitsReplicated);
        expect(r.messages).toBeGreaterThanOrEqual(rows * cols - 1);
      }
    }
  });
});

describe('ring all-gather inside a layer', () => {
  // A sampled design (7x5 mesh, 5 regions, heterogeneous tiles, allGather 'ring') whose norm
  // statistics made a row's pieces outweigh the gathered total: a leader then forwarded a
  // negative byte count and the run crashed. Pieces travel whole, so a leader forwards the
  // other rows' pieces: their bytes, never fewer than zero.
  test('a sampled ring design with norm statistics runs at fast and flit fidelity, flits conserved', () => {
    const raw = JSON.parse(readFileSync(new URL('./fixtures/ring-gather-stats-design.json', import.meta.url), 'utf8'));
    const design = parseInput(DesignSchema, raw, 'ring-gather-stats');
    expect(design.mapping.allGather).toBe('ring');
    for (const fidelity of ['fast', 'flit'] as const) {
      const out = simulateChip({ card: builtinModel('tiny')!, design, trace: generateTrace('decode:2@64'), tech: DEFAULT_TECH, fidelity, seed: 1 });
      expect(out.result.feasible).toBe(true);
      if (!out.result.feasible) continue;
      expect(out.result.metrics.tokensPerSecond).toBeGreaterThan(0);
      const c = out.result.counters;
      expect(c.flitsInjected).toBeGreaterThan(0);
      expect(c.flitsEjected).toBe(c.flitsInjected + c.flitsReplicated);
    }
  });
});
